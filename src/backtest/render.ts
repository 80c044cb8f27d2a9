/**
 * The backtest's figures for a person (a table; two registries side by side with --compare), as
 * JSON and as CSV. Pure: returns text.
 */
import { DateTime } from 'luxon';
import { localTime } from '../local-time.js';
import { addDays } from '../calendar.js';
import { isoDateRanges } from '../check/date-runs.js';
import { plural } from '../printable.js';
import { renderCsv } from '../report/csv.js';
import type { BacktestRun } from './replay.js';
import type { Figures } from './simulate.js';

/** `pem backtest --format`: `table` for people, `json` the whole report, `csv` one line per figure row. */
export const BACKTEST_FORMATS = ['table', 'json', 'csv'] as const;
export type BacktestFormat = (typeof BACKTEST_FORMATS)[number];

export interface BacktestReport {
  from: string;
  to: string;
  every_minutes: number;
  lookback_days: number;
  timezone: string;
  /** One per registry: the first is --config, the second --compare. */
  runs: (BacktestRun & { config: string })[];
}

export function formatMinutes(minutes: number | null): string {
  if (minutes === null) return '-';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m}m` : `${h}h${String(m).padStart(2, '0')}`;
}

/** B's minutes less A's, signed ('+24h00', '-1h00', '0m'); '-' when either run alerted nothing. */
function minutesDelta(a: number | null, b: number | null): string {
  if (a === null || b === null) return '-';
  const delta = b - a;
  return `${delta > 0 ? '+' : delta < 0 ? '-' : ''}${formatMinutes(Math.abs(delta))}`;
}

/** Each figure: its label in the totals, its column in the breakdowns, how it is shown, and B - A. */
const FIGURES: { label: string; column: string; value: (f: Figures) => string; delta: (a: Figures, b: Figures) => string }[] = [
  { label: 'PagerDuty pages', column: 'PAGES', value: (f) => String(f.pages), delta: (a, b) => String(b.pages - a.pages) },
  { label: 'Slack messages', column: 'SLACK', value: (f) => String(f.slack_messages), delta: (a, b) => String(b.slack_messages - a.slack_messages) },
  { label: 'problem dates', column: 'PROBLEMS', value: (f) => String(f.problem_dates), delta: (a, b) => String(b.problem_dates - a.problem_dates) },
  { label: 'never alerted', column: 'NEVER', value: (f) => String(f.never_alerted_dates), delta: (a, b) => String(b.never_alerted_dates - a.never_alerted_dates) },
  { label: 'flaps (resolved within 2 h)', column: 'FLAPS', value: (f) => String(f.flaps), delta: (a, b) => String(b.flaps - a.flaps) },
  { label: 'latency p50', column: 'P50', value: (f) => formatMinutes(f.latency.p50_minutes), delta: (a, b) => minutesDelta(a.latency.p50_minutes, b.latency.p50_minutes) },
  { label: 'latency p95', column: 'P95', value: (f) => formatMinutes(f.latency.p95_minutes), delta: (a, b) => minutesDelta(a.latency.p95_minutes, b.latency.p95_minutes) },
  { label: 'latency max', column: 'MAX', value: (f) => formatMinutes(f.latency.max_minutes), delta: (a, b) => minutesDelta(a.latency.max_minutes, b.latency.max_minutes) },
];

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Rows keyed by week or processor, for every run side by side (a run without the key shows zeros). */
function breakdown<K extends 'week' | 'processor'>(report: BacktestReport, key: K, label: string): string[] {
  const keys = [...new Set(report.runs.flatMap((run) => (key === 'week' ? run.weeks : run.processors).map((row) => (row as Record<K, string>)[key])))].sort();
  const prefix = (i: number) => (report.runs.length > 1 ? `${i === 0 ? 'A' : 'B'} ` : '');
  const header = [label, ...report.runs.flatMap((_, i) => FIGURES.map((f) => prefix(i) + f.column))];
  const empty: Figures = { pages: 0, slack_messages: 0, problem_dates: 0, never_alerted_dates: 0, flaps: 0, latency: { alerted_dates: 0, p50_minutes: null, p95_minutes: null, max_minutes: null } };
  const rows = keys.map((k) => [
    k,
    ...report.runs.flatMap((run) => {
      const row = (key === 'week' ? run.weeks : run.processors).find((r) => (r as Record<K, string>)[key] === k) ?? empty;
      return FIGURES.map((f) => f.value(row));
    }),
  ]);
  return table(header, rows);
}

/**
 * What to know when the period begins before the history: its checks saw no run and read every
 * expected date as missing, or saw it with windows reaching back before it, reading the dates there
 * as missing; their pages and messages are about the history's absence. Null when the first check's
 * window read no date as missing before the history (the same history for both registries: A's is read).
 */
function historyNote(report: BacktestReport): string | null {
  const run = report.runs[0];
  if (!run || run.checks === 0) return null;
  const seen = run.first_check_with_history;
  if (seen === null) {
    return 'No check in this period saw a run or a success of these processors: the period is before their history, or the history is elsewhere (--database, --config); every expected date read as missing.';
  }
  const firstCheck = DateTime.fromISO(report.from, { zone: report.timezone }).startOf('day');
  const sawFromTheStart = Date.parse(seen) <= firstCheck.toMillis();
  // A check dated D reads [D - L + 1, D]: the first whose window lies in the history is dated the
  // history's first date + L - 1 (as far as the first check that saw it could tell).
  const firstDate = run.first_date_with_history ?? (sawFromTheStart ? null : DateTime.fromISO(seen, { zone: 'UTC' }).setZone(report.timezone).toISODate()!);
  if (firstDate === null) return null;
  const within = addDays(firstDate, report.lookback_days - 1);
  const advice =
    within <= report.to
      ? `--from ${within} replays checks whose ${report.lookback_days}-day windows lie within the history.`
      : `no check of this period has its ${report.lookback_days}-day window within the history, which begins on ${firstDate}: replay up to ${within} or later, or use a shorter --lookback-days.`;
  if (sawFromTheStart) {
    // The first check saw the history, and its window may still reach back before it: the dates
    // there read as missing as surely as in a check that saw nothing.
    if (within <= report.from || run.missing_before_history === 0) return null;
    return `The first checks' ${report.lookback_days}-day windows reach back before the earliest run or success they saw, on ${firstDate}: if the history begins there, the dates before it read as missing; ${advice}`;
  }
  // Rows written after their dates (a late backfill) can put that check before --from itself:
  // then no earlier --from would help, and there is nothing to advise.
  if (within <= report.from) {
    return `The history begins after this period does: the checks before ${localTime(seen, report.timezone)} saw no run and read every expected date as missing.`;
  }
  return `The history begins after this period does: the checks before ${localTime(seen, report.timezone)} saw no run and read every expected date as missing; ${advice}`;
}

export function renderBacktestText(report: BacktestReport): string {
  const [a, b] = report.runs;
  const note = historyNote(report);
  const lines = [
    `Backtest ${report.from} .. ${report.to}, a check every ${formatMinutes(report.every_minutes)} (${plural(a!.checks, 'check')}, ${report.lookback_days}-day window, ${report.timezone}); nothing sent, nothing written`,
    ...(note ? [note] : []),
    '',
  ];
  const header = ['', ...report.runs.map((run, i) => `${report.runs.length > 1 ? (i === 0 ? 'A: ' : 'B: ') : ''}${run.config}`)];
  if (b) header.push('B - A');
  const rows = FIGURES.map(({ label, value, delta }) => {
    const row = [label, ...report.runs.map((run) => value(run.totals))];
    if (b) row.push(delta(a!.totals, b.totals));
    return row;
  });
  lines.push(...table(header, rows), '');
  lines.push('Per week:', ...breakdown(report, 'week', 'WEEK'), '');
  lines.push('Per processor:', ...breakdown(report, 'processor', 'PROCESSOR'), '');
  for (const [i, run] of report.runs.entries()) {
    if (run.never_alerted.length === 0) continue;
    lines.push(`Never alerted${report.runs.length > 1 ? ` (${i === 0 ? 'A' : 'B'})` : ''}:`, ...neverAlertedLines(run.never_alerted), '');
  }
  return lines.join('\n').trimEnd() + '\n';
}

/** Shown per registry: this many processors, each with this many runs of consecutive dates; --format json has them all. */
const NEVER_ALERTED_PROCESSORS = 20;
const NEVER_ALERTED_RUNS = 4;

/** One line per processor: its never-alerted dates as runs (`2026-11-13 .. 2026-11-18`) and their count. */
function neverAlertedLines(dates: BacktestRun['never_alerted']): string[] {
  const byProcessor = new Map<string, string[]>();
  for (const { processor, date } of dates) byProcessor.set(processor, [...(byProcessor.get(processor) ?? []), date]);
  const shown = [...byProcessor].slice(0, NEVER_ALERTED_PROCESSORS);
  const width = Math.max(...shown.map(([processor]) => processor.length));
  const lines = shown.map(([processor, own]) => `  ${processor.padEnd(width)}  ${isoDateRanges(own, NEVER_ALERTED_RUNS)}`);
  const more = byProcessor.size - shown.length;
  if (more > 0) lines.push(`  … and ${plural(more, 'more processor')} (--format json lists every date)`);
  return lines;
}

export function renderBacktestJson(report: BacktestReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const BACKTEST_CSV_COLUMNS = [
  'config',
  'scope',
  'key',
  'pages',
  'slack_messages',
  'problem_dates',
  'never_alerted_dates',
  'flaps',
  'alerted_dates',
  'latency_p50_minutes',
  'latency_p95_minutes',
  'latency_max_minutes',
] as const;

/**
 * The figures as CSV, for a spreadsheet: per registry (`config`, the --compare one after), a
 * `total` line, then one per `week` and per `processor` (`key` names it). The list of
 * never-alerted dates is in the table and the JSON.
 */
export function renderBacktestCsv(report: BacktestReport): string {
  const line = (config: string, scope: string, key: string, f: Figures) => ({
    config,
    scope,
    key,
    pages: f.pages,
    slack_messages: f.slack_messages,
    problem_dates: f.problem_dates,
    never_alerted_dates: f.never_alerted_dates,
    flaps: f.flaps,
    alerted_dates: f.latency.alerted_dates,
    latency_p50_minutes: f.latency.p50_minutes,
    latency_p95_minutes: f.latency.p95_minutes,
    latency_max_minutes: f.latency.max_minutes,
  });
  return renderCsv(
    BACKTEST_CSV_COLUMNS,
    report.runs.flatMap((run) => [
      line(run.config, 'total', '', run.totals),
      ...run.weeks.map((w) => line(run.config, 'week', w.week, w)),
      ...run.processors.map((p) => line(run.config, 'processor', p.processor, p)),
    ]),
  );
}
