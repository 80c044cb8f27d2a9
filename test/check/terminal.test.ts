/** The terminal report's lists of dates at long windows: whole, and within 80 columns. */
import { describe, expect, it } from 'vitest';
import { renderTerminalReport } from '../../src/check/terminal.js';
import { dateRuns, isoDateRanges } from '../../src/check/date-runs.js';
import { syntheticResult } from '../report/fixtures.js';

/** The dates a list line names, ranges expanded: `2025-10-01 .. 2025-10-03` is three. */
function datesNamed(text: string): string[] {
  const dates: string[] = [];
  for (const match of text.matchAll(/(\d{4}-\d{2}-\d{2})(?: \.\. (\d{4}-\d{2}-\d{2}))?/g)) {
    const last = Date.parse(`${match[2] ?? match[1]}T00:00:00Z`);
    for (let day = Date.parse(`${match[1]}T00:00:00Z`); day <= last; day += 86_400_000) dates.push(new Date(day).toISOString().slice(0, 10));
  }
  return dates;
}

/** The lines of one processor's block whose list starts with `label: `, continuation lines included. */
function listText(report: string, processor: string, label: string): string {
  const lines = report.split('\n');
  const start = lines.findIndex((line) => line.includes(` ${processor} `));
  const at = lines.findIndex((line, i) => i > start && line.startsWith(`         ${label}: `));
  if (at < 0) return '';
  const indent = `         ${label}: `.length;
  const block = [lines[at]!];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith(' '.repeat(indent)); i++) block.push(lines[i]!);
  return block.join('\n');
}

describe('dateRuns and isoDateRanges', () => {
  it('make runs of consecutive dates, across month ends, ignoring repeats and order', () => {
    expect(dateRuns(['2025-12-02', '2025-11-30', '2025-12-01', '2025-12-01', '2025-12-04'])).toEqual([
      ['2025-11-30', '2025-12-02'],
      ['2025-12-04', '2025-12-04'],
    ]);
    expect(isoDateRanges(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-03'])).toBe('2024-02-28 .. 2024-03-01, 2024-03-03 (4 dates)');
    expect(isoDateRanges(['2025-10-05'])).toBe('2025-10-05 (1 date)');
  });
});

describe('the day grid', () => {
  const headerOf = (days: number) => {
    const lines = renderTerminalReport(syntheticResult(2, days), { color: false, timezone: 'UTC' }).split('\n');
    const level = lines.findIndex((line) => line.startsWith('LEVEL'));
    return { months: lines[level - 1]!, days: lines[level]! };
  };

  it('names each month over the day it begins when the window spans several: 45 days to Dec 31 read 17 .. 31 twice otherwise', () => {
    const { months, days } = headerOf(45);
    // Nov 17 .. Dec 31: "Nov" over 17, "Dec" over 01.
    expect(months.trim().split(/\s+/)).toEqual(['Nov', 'Dec']);
    expect(months.indexOf('Nov')).toBe(days.indexOf('17'));
    expect(months.indexOf('Dec')).toBe(days.indexOf(' 01') + 1);
  });

  it('leaves a month unnamed whose name would run into the next: two days of January 2026 before February', () => {
    const result = syntheticResult(1, 12);
    // Shift the window to 2026-01-30 .. 2026-02-10.
    const dates = Array.from({ length: 12 }, (_, i) => new Date(Date.parse('2026-01-30T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10));
    const p = result.report.processors[0]!;
    const days = p.days.map((d, i) => ({ ...d, date: dates[i]! }));
    Object.defineProperty(p, 'days', { value: days });
    const lines = renderTerminalReport(result, { color: false, timezone: 'UTC' }).split('\n');
    const level = lines.findIndex((line) => line.startsWith('LEVEL'));
    expect(lines[level - 1]!.trim()).toBe('Feb');
    expect(lines[level - 1]!.indexOf('Feb')).toBe(lines[level]!.indexOf(' 01') + 1);
  });

  it('adds no line within one month: the title names its dates', () => {
    expect(headerOf(7).months).toBe('');
  });
});

describe('terminal report lists', () => {
  it('name every date of a 90-day window within 80 columns, as ranges once the plain list is too long', () => {
    const result = syntheticResult(12, 90);
    const text = renderTerminalReport(result, { color: false, timezone: 'UTC' });
    let ranged = 0;
    for (const p of result.report.processors) {
      for (const [label, dates] of [
        ['missing', p.missing_dates],
        ['failed', p.failed_dates],
        ['hung', p.hung_dates],
        ['recovered failures', p.recovered_failure_dates],
      ] as const) {
        const list = listText(text, p.name, label);
        expect(datesNamed(list), `${p.name} ${label}`).toEqual(dates);
        if (list.includes(' .. ')) ranged++;
        const plain = `         ${label}: ${dates.join(', ')}`;
        if (dates.length > 0 && list !== plain) expect(list).toContain(`(${dates.length} date${dates.length === 1 ? '' : 's'})`);
      }
    }
    expect(ranged).toBeGreaterThan(0);
    // Lists wrap; the day grid with its month line (as wide as the window) and free text (names, errors) do not.
    const monthLine = /^ +[A-Z][a-z]{2}( \d{4})?( +[A-Z][a-z]{2}( \d{4})?)*$/;
    const listLines = text.split('\n').filter((line) => line.startsWith('         ') && !/^ {9}(latest error|Synthetic processor)/.test(line) && !monthLine.test(line));
    expect(listLines.length).toBeGreaterThan(24);
    for (const line of listLines) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('continues a list after a long label (blocked by a long key) under the report indent, within 80 columns', () => {
    const result = syntheticResult(2, 90);
    const [upstream, downstream] = result.report.processors;
    const dates = downstream!.days.filter((_, i) => i % 3 === 0).map((d) => d.date);
    downstream!.blocked_by = [{ processor: `${upstream!.name}_with_a_much_longer_key_than_usual`, dates }];
    const lines = renderTerminalReport(result, { color: false, timezone: 'UTC' }).split('\n');
    const at = lines.findIndex((line) => line.startsWith('         blocked by '));
    const block = [lines[at]!, ...lines.slice(at + 1).filter((line, i, rest) => rest.slice(0, i + 1).every((l) => l.startsWith('             ')))];
    expect(block.length).toBeGreaterThan(2);
    for (const line of block) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(datesNamed(block.join('\n').replace(/^.*?: /, ''))).toEqual(dates);
  });

  it('keeps a list that fits as the dates themselves', () => {
    const result = syntheticResult(12, 7);
    const p = result.report.processors.find((q) => q.missing_dates.length > 0)!;
    expect(p).toBeDefined();
    expect(renderTerminalReport(result, { color: false, timezone: 'UTC' })).toContain(`         missing: ${p.missing_dates.join(', ')}\n`);
  });

  it('wraps anomalies with their numbers one after another, every one kept', () => {
    const result = syntheticResult(1, 60);
    const p = result.report.processors[0]!;
    const low = p.days.filter((_, i) => i % 4 === 0).map((d) => d.date);
    // Days are read through a getter on long windows; a 60-day synthetic result holds plain objects.
    for (const day of p.days) {
      if (low.includes(day.date)) Object.assign(day, { status: 'success', anomalies: ['low_volume'], records: 0, baseline_records: 1_234.5 });
    }
    const text = renderTerminalReport(result, { color: false, timezone: 'UTC' });
    const list = listText(text, p.name, 'low volume');
    expect(datesNamed(list)).toEqual(low);
    expect(list).toContain('(0 records; usual 1,234.5)');
    for (const line of list.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(list.split('\n').length).toBeGreaterThan(3);
  });
});

describe('terminal report errors', () => {
  it('cuts a latest error (a stack trace) at 500 characters, where --json-output keeps it whole', () => {
    const result = syntheticResult(1, 7);
    const name = result.report.processors[0]!.name;
    result.details[name]!.latest_failure = { date: '2025-10-01', error_type: 'Traceback', error_message: 'x'.repeat(5_000) };
    const line = renderTerminalReport(result, { color: false, timezone: 'UTC' }).split('\n').find((l) => l.includes('latest error ('))!;
    expect(line).toBe(`         latest error (2025-10-01): Traceback: ${'x'.repeat(500 - 'Traceback: '.length - 1)}…`);
  });
});

describe('terminal report of a disabled processor named with --processors', () => {
  it('says it is disabled and checked because named', () => {
    const result = syntheticResult(1, 7);
    const p = result.report.processors[0]!;
    p.level = 'ERROR';
    result.details[p.name]!.enabled = false;
    const text = renderTerminalReport(result, { color: false, timezone: 'UTC' });
    expect(text).toContain(', disabled, checked because named)');
    result.details[p.name]!.enabled = true;
    expect(renderTerminalReport(result, { color: false, timezone: 'UTC' })).not.toContain('disabled');
  });
});

describe('the title line', () => {
  it('gives the evaluation instant in the registry time zone, with its offset (SPEC §11)', () => {
    const result = syntheticResult(1, 7);
    const title = (timezone: string) => renderTerminalReport(result, { color: false, timezone }).split('\n')[0]!;
    expect(result.report.now).toBe('2026-01-01T12:00:00.000Z');
    expect(title('America/New_York')).toMatch(/, evaluated at 2026-01-01 07:00:00 EST \(UTC-05:00\)$/);
    expect(title('UTC')).toMatch(/, evaluated at 2026-01-01 12:00:00 UTC$/);
  });
});
