/**
 * Every `--format csv` (check, gaps, silence list, backtest) is written by one function. Text from
 * outside pem (an error message from the run history, a silence's reason) is opened in
 * spreadsheets: a cell that starts like a formula must be shown, not computed.
 */
import { describe, expect, it } from 'vitest';
import { renderCsv } from '../../src/report/csv.js';

const csv = (value: string | number | boolean | null) => renderCsv(['v'], [{ v: value }]).split('\n')[1];

describe('renderCsv', () => {
  it('quotes a field holding a comma, a quote or a line break (RFC 4180), and leaves others bare', () => {
    expect(csv('plain')).toBe('plain');
    expect(csv('a,b')).toBe('"a,b"');
    expect(csv('say "hi"')).toBe('"say ""hi"""');
    expect(renderCsv(['v'], [{ v: 'two\nlines' }])).toBe('v\n"two\nlines"\n');
    expect(csv(null)).toBe('');
    expect(csv(true)).toBe('true');
    expect(csv(-3)).toBe('-3');
  });

  it("shows a text cell that a spreadsheet would compute (=, +, -, @, tab, carriage return first) with a leading '", () => {
    // OWASP's CSV injection advice: https://owasp.org/www-community/attacks/CSV_Injection
    expect(csv("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(csv('@HYPERLINK("http://example.com","x")')).toBe(`"'@HYPERLINK(""http://example.com"",""x"")"`);
    expect(csv('+1 retry')).toBe("'+1 retry");
    expect(csv('-ERR connection reset')).toBe("'-ERR connection reset");
    expect(csv('\t=1+1')).toBe("'\t=1+1");
    expect(csv('\r=1+1')).toBe(`"'\r=1+1"`);
    // Numbers are pem's own, and stay numbers; text that only contains such characters is left.
    expect(csv(-1)).toBe('-1');
    expect(csv('rows = 0')).toBe('rows = 0');
    expect(csv('')).toBe('');
  });
});
