/** What text from processors may carry into a terminal (`printable`) and into a message with a layout of its own (`withLayoutOnly`). */
import { describe, expect, it } from 'vitest';
import { printable, withLayoutOnly } from '../../src/printable.js';

describe('printable and withLayoutOnly', () => {
  const text = 'a\tb\r\nc\nd\re\u0007f\u001b[2J\u202eg\u0085';

  it('printable shows every control character and invisible bidirectional control as ?', () => {
    expect(printable(text)).toBe('a?b??c?d?e?f?[2J?g?');
  });

  it('withLayoutOnly keeps tabs and line breaks, reads a CRLF as one line break, and shows the rest as ?', () => {
    expect(withLayoutOnly(text)).toBe('a\tb\nc\nd?e?f?[2J?g?');
  });
});

describe("commander's own errors", () => {
  it('quote back what was typed without its escape sequences or line breaks', async () => {
    const { runCli } = await import('../support/cli.js');
    expect((await runCli(['\u001b[31mX'])).stderr).toBe("error: unknown command '?[31mX'\n");
    const choice = await runCli(['completion', 'a\nb']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(choice.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('bad input quoted back', () => {
  it('is shortened to one readable line, keeping what to do at its end', async () => {
    const { runCli } = await import('../support/cli.js');
    const long = 'x'.repeat(100_000);
    for (const args of [['check', '--date', long], ['check', '--format', long]]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr.length).toBeLessThan(2_100);
      expect(run.stderr).toMatch(/ … \(\d+ characters left out\) … /);
    }
    expect((await runCli(['check', '--date', long])).stderr).toMatch(/is not a valid date: use YYYY-MM-DD, for example 2025-10-07\n$/);
  });
});

describe('shortened', () => {
  it('never cuts an emoji in half', async () => {
    const { shortened } = await import('../../src/errors.js');
    for (const pad of [0, 1]) {
      const text = `${'x'.repeat(1_399 + pad)}${'\u{1F6A7}'.repeat(600)}`;
      expect(shortened(text)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
  });
});
