/**
 * The human report of `pem check` (without --json-output): worst processors first, each with
 * its level, a compact day grid, the dates in trouble and its last success. Pure: returns text.
 */
import pc from 'picocolors';
import { ANOMALY_LABEL, anomalyDates } from './anomalies.js';
import { isoDateRanges } from './date-runs.js';
import { ANOMALIES, byUrgency, type AlertReason, type CheckResult, type DayStatus, type ProcessorReport } from './report.js';
import { localTime } from '../local-time.js';
import { ellipsize, plural, printable } from '../printable.js';

/** SPEC §11 `reason`, in words: why an alert was not sent. */
export const REASON_WORDS: Record<AlertReason, string> = {
  dry_run: 'dry run',
  already_open: 'already notified, reminder not yet due',
  silenced: 'silenced',
  threshold: 'below its alert threshold',
  dependency: 'explained by an upstream processor',
  no_destination: 'no destination configured',
  failed: 'delivery failed',
};

/** A success with an anomaly (SPEC §10: low or high volume, slow), apart from plain successes. */
export const ANOMALOUS_SYMBOL = 'A';

/** One letter per day status; recovered failures show as lowercase `s`, anomalous successes as `A`. */
export const DAY_SYMBOL: Record<DayStatus, string> = {
  success: 'S',
  failed: 'F',
  hung: 'H',
  running: 'R',
  missing: 'M',
  pending: 'P',
  not_expected: '.',
};

export interface TerminalOptions {
  color: boolean;
  /** The registry's time zone: the evaluation instant is shown in it, with its offset (SPEC §11). */
  timezone: string;
  /**
   * The terminal's width in columns, when stdout is one: a window whose grid would be wider shows
   * its newest days, as many as fit (never fewer than MIN_GRID_DAYS), and says so. Null or absent
   * (a pipe, a file): every day.
   */
  width?: number | null;
}

/** The fewest days a grid cut to the terminal's width shows: a week, the default window, whole. */
const MIN_GRID_DAYS = 7;

type Paint = (text: string) => string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A line over the grid's day numbers naming each month where it begins (`Oct` over 15, `Nov` over
 * 01), when the window spans more than one: day numbers alone repeat (a 45-day window shows 15
 * twice). Each day is three columns wide; a month whose name would run into the next one's (a
 * day or two at the window's start) is left unnamed. Null within one month, which the title's
 * dates name.
 */
function monthLabels(dates: readonly string[], fitGrid = false): string | null {
  const starts = dates.flatMap((date, i) => (i === 0 || date.slice(0, 7) !== dates[i - 1]!.slice(0, 7) ? [i] : []));
  if (starts.length < 2) return null;
  let line = '';
  for (const [n, i] of starts.entries()) {
    const label = `${MONTHS[Number(dates[i]!.slice(5, 7)) - 1]}${dates[i]!.slice(5, 7) === '01' ? ` ${dates[i]!.slice(0, 4)}` : ''}`;
    const next = starts[n + 1];
    if (next !== undefined && i * 3 + label.length + 1 > next * 3) continue;
    // A grid cut to the terminal: a label past its last day would wrap the line.
    if (fitGrid && i * 3 + label.length > dates.length * 3) continue;
    line = line.padEnd(i * 3) + label;
  }
  return line;
}

export function renderTerminalReport({ report, details }: CheckResult, options: TerminalOptions): string {
  // The caller decides (a terminal, NO_COLOR, FORCE_COLOR); picocolors only draws.
  const colors = pc.createColors(options.color);
  const levelColor = (level: string): Paint =>
    level === 'CRITICAL' ? (text) => colors.bold(colors.red(text)) : level === 'ERROR' ? colors.red : level === 'OK' || level === 'INFO' ? colors.green : colors.yellow;
  const lines: string[] = [];
  const counts = { CRITICAL: 0, ERROR: 0, OK: 0 };
  for (const p of report.processors) counts[p.level]++;
  lines.push(
    `${colors.bold('Processor health')} ${report.window_start} .. ${report.window_end} (${report.lookback_days} day${report.lookback_days === 1 ? '' : 's'}), evaluated at ${localTime(report.now, options.timezone, { seconds: true })}`,
  );
  lines.push(
    `Level ${levelColor(report.level)(report.level)}: ${report.processors.length} processor${report.processors.length === 1 ? '' : 's'} checked, ` +
      `${counts.CRITICAL} critical, ${counts.ERROR} error, ${counts.OK} ok`,
  );
  if (report.processors.length === 0) lines.push('No processors to check (none enabled in the registry).');
  const fixFirst = fixFirstLine(report.processors);
  if (fixFirst !== null) lines.push(fixFirst);

  const nameWidth = Math.min(MAX_NAME_WIDTH, Math.max(9, ...report.processors.map((p) => p.name.length)));
  // A day is three columns after the level and the name: a window wider than the terminal would
  // wrap every line, its newest days (the ones that matter) at the far end. It shows what fits.
  const windowDays = report.processors[0]?.days.length ?? 0;
  const fitting = options.width ? Math.floor((options.width - (9 + nameWidth + 2) + 1) / 3) : windowDays;
  const shownDays = Math.min(windowDays, Math.max(MIN_GRID_DAYS, fitting));
  const cut = windowDays - shownDays;
  if (cut > 0) {
    // A terminal narrower than a week's grid still gets the week (it wraps): not said to fit.
    const fit = fitting >= MIN_GRID_DAYS ? `, to fit ${options.width} columns` : '';
    lines.push(`Grid: the last ${shownDays} of ${windowDays} days${fit}; all: --format csv`);
  }
  const gridDays = report.processors[0]?.days.slice(cut) ?? [];
  const dayNumbers = gridDays.map((d) => d.date.slice(8, 10)).join(' ');
  if (report.processors.length > 0) {
    lines.push('');
    const months = monthLabels(gridDays.map((d) => d.date), cut > 0);
    if (months !== null) lines.push(`${' '.repeat(9 + nameWidth + 2)}${months}`);
    lines.push(`${'LEVEL'.padEnd(9)}${'PROCESSOR'.padEnd(nameWidth + 2)}${dayNumbers}`);
  }
  let anyAnomalous = false;
  for (const p of [...report.processors].sort(byUrgency)) {
    // Read once: a long window's days are unpacked on each read (PackedDays, check/report.ts).
    const days = p.days;
    anyAnomalous ||= days.some((d) => d.anomalies.length > 0);
    const grid = days
      .slice(cut)
      .map((d) => {
        const anomalous = d.anomalies.length > 0;
        const symbol = anomalous ? ANOMALOUS_SYMBOL : d.status === 'success' && d.failed_runs > 0 ? 's' : DAY_SYMBOL[d.status];
        const color = anomalous
          ? colors.yellow
          : d.status === 'success'
            ? colors.green
            : d.status === 'pending' || d.status === 'running' || d.status === 'not_expected'
              ? colors.dim
              : colors.red;
        return color(symbol.padStart(2));
      })
      .join(' ');
    if (p.name.length <= nameWidth) {
      lines.push(`${levelColor(p.level)(p.level.padEnd(9))}${p.name.padEnd(nameWidth + 2)}${grid}`);
    } else {
      // A key longer than the column keeps its whole name on a line of its own (it is what
      // --processors takes), and its days stay under the header's.
      lines.push(`${levelColor(p.level)(p.level.padEnd(9))}${p.name}`);
      lines.push(`${' '.repeat(9 + nameWidth + 2)}${grid}`);
    }
    if (p.level === 'OK' && p.recovered_failure_dates.length === 0) continue;
    const indent = ' '.repeat(9);
    const detail = details[p.name];
    // A disabled processor is checked only when named (--processors): said, so it is not taken for an enabled one.
    const tags = [p.priority + ' priority', p.revenue_impact ? 'revenue impact' : null, detail?.enabled === false ? 'disabled, checked because named' : null]
      .filter(Boolean)
      .join(', ');
    lines.push(`${indent}${printable(p.display_name)} (${tags})`);
    if (p.scheduler_issue) lines.push(`${indent}scheduler issue: no run rows at all in the window, though dates were due`);
    if (p.is_stale) {
      lines.push(
        p.last_success_date === null
          ? `${indent}stale: never succeeded`
          : `${indent}stale: last success ${p.last_success_date}, ${p.days_since_success} days before ${report.as_of_date} (threshold ${detail?.staleness_threshold_days ?? '?'})`,
      );
    } else {
      lines.push(`${indent}last success: ${p.last_success_date ?? 'never'}${p.days_since_success === null ? '' : ` (${p.days_since_success} day${p.days_since_success === 1 ? "" : "s"})`}`);
    }
    for (const [label, dates] of [
      ['missing', p.missing_dates],
      ['failed', p.failed_dates],
      ['hung', p.hung_dates],
      ['recovered failures', p.recovered_failure_dates],
    ] as const) {
      if (dates.length > 0) lines.push(...dateListLines(`${indent}${label}: `, dates));
    }
    for (const anomaly of ANOMALIES) {
      const dates = anomalyDates(days, anomaly);
      if (dates.length > 0) lines.push(...wrappedList(`${indent}${ANOMALY_LABEL[anomaly]}: `, dates));
    }
    for (const b of p.blocked_by) lines.push(...dateListLines(`${indent}blocked by ${b.processor}: `, b.dates));
    if (detail?.also_affected.length) lines.push(...wrappedList(`${indent}also affected: `, detail.also_affected));
    const failure = detail?.latest_failure;
    if (failure && (failure.error_type || failure.error_message)) {
      // Cut as Slack cuts it (a stack trace in full buries the report); --json-output keeps it whole.
      const said = printable([failure.error_type, failure.error_message].filter(Boolean).join(': '));
      lines.push(`${indent}latest error (${failure.date}): ${ellipsize(said, MAX_TERMINAL_ERROR)}`);
    }
  }
  if (report.processors.length > 0) {
    lines.push('');
    const anomalous = anyAnomalous ? `, ${ANOMALOUS_SYMBOL} anomalous success` : '';
    lines.push(`Days: S success, s recovered${anomalous}, F failed, H hung, R running, M missing, P pending, . not expected`);
  }
  lines.push('');
  lines.push('Alerts:');
  for (const alert of report.alerts) {
    const who = alert.processor ?? (alert.level === 'WARNING' ? 'summary' : 'all healthy');
    const route = alert.route && alert.route !== 'default' ? ` (route ${alert.route})` : '';
    const outcome = alert.sent ? 'sent' : `not sent: ${alert.reason ? REASON_WORDS[alert.reason] : 'unknown'}`;
    lines.push(`  ${alert.level.padEnd(8)} ${who} -> ${alert.destinations.join(', ')}${route} (${outcome})`);
  }
  return lines.join('\n') + '\n';
}

/** The width the report's lists keep to: an 80-column terminal. */
const LINE_WIDTH = 80;

/**
 * A list of dates after its label: as the dates themselves while the line fits 80 columns, else
 * as ranges with their count (`2026-11-21 .. 2026-12-02 (12 dates)`), wrapped:
 * a 90-day window's missing dates were one line of a thousand characters.
 */
function dateListLines(prefix: string, dates: readonly string[]): string[] {
  const plain = `${prefix}${dates.join(', ')}`;
  if (plain.length <= LINE_WIDTH) return [plain];
  const ranges = isoDateRanges(dates);
  // The count stays with the last range; the ranges are split at their commas.
  return wrappedList(prefix, ranges.split(', '));
}

/** A latest error's characters on the terminal: a few lines' worth, wrapped; the JSON document keeps every one. */
const MAX_TERMINAL_ERROR = 500;

/**
 * Where to start when processors wait on others (SPEC §12 `blocked_by`): the roots, the most waited
 * on first. A root is a processor with issues that waits on no processor of this check; a processor
 * waits on every root its `blocked_by` leads to, through the processors between (a -> b -> c: c
 * waits on a). The table's worst-first order may put thirty high-priority dependents before their
 * low-priority root. Null when no processor waits on one with issues.
 */
export function fixFirstLine(processors: readonly ProcessorReport[]): string | null {
  const byName = new Map(processors.map((p) => [p.name, p]));
  const upstreams = (p: ProcessorReport) => p.blocked_by.map((b) => b.processor).filter((name) => byName.has(name));
  const rootsOf = new Map<string, ReadonlySet<string>>();
  const rootsFrom = (p: ProcessorReport, path: ReadonlySet<string>): ReadonlySet<string> => {
    const known = rootsOf.get(p.name);
    if (known) return known;
    const ups = upstreams(p).filter((name) => !path.has(name));
    const next = new Set([...path, p.name]);
    const found = ups.length === 0 ? new Set([p.name]) : new Set(ups.flatMap((name) => [...rootsFrom(byName.get(name)!, next)]));
    rootsOf.set(p.name, found);
    return found;
  };
  const waiting = new Map<string, number>();
  for (const p of processors) {
    if (upstreams(p).length === 0) continue;
    for (const root of rootsFrom(p, new Set())) if (byName.get(root)!.level !== 'OK') waiting.set(root, (waiting.get(root) ?? 0) + 1);
  }
  if (waiting.size === 0) return null;
  const roots = [...waiting.keys()].map((name) => byName.get(name)!).sort((a, b) => waiting.get(b.name)! - waiting.get(a.name)! || byUrgency(a, b));
  const named = roots.slice(0, MAX_ROOTS_NAMED).map((p) => {
    const n = waiting.get(p.name)!;
    return `${p.name} (${plural(n, 'processor')} wait${n === 1 ? 's' : ''} on it)`;
  });
  const more = roots.length - named.length;
  return `Fix first: ${named.join(', ')}${more > 0 ? `, and ${plural(more, 'more root')}` : ''}`;
}

/** How many root upstreams the `Fix first:` line names before `and N more roots`. */
const MAX_ROOTS_NAMED = 3;
/** The widest PROCESSOR column of a terminal table (this one, `pem gaps`'): a longer key gets a line of its own. */
export const MAX_NAME_WIDTH = 40;
/** A label longer than this (`blocked by <a long key>: `) has its list continue under the report's indent. */
const MAX_HANGING_INDENT = 40;
/** Where such a list continues: the report's indent of a processor's lines (9), and four more. */
const LONG_LABEL_INDENT = 9 + 4;

/**
 * `prefix` and the items joined by `, `, continued on lines indented under the first item (or, after
 * a long label, under the report's indent) whenever the next item would pass 80 columns; an item
 * longer than a line keeps a line of its own.
 */
function wrappedList(prefix: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  const long = prefix.length > MAX_HANGING_INDENT;
  const indent = ' '.repeat(long ? LONG_LABEL_INDENT : prefix.length);
  let line = prefix;
  // Nothing after the label (or the indent) yet; a long label may stand on a line of its own.
  let atStart = true;
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item},` : item;
    const mayBreak = !atStart || (long && line === prefix);
    if (mayBreak && line.length + (atStart ? 0 : 1) + piece.length > LINE_WIDTH) {
      lines.push(line.trimEnd());
      line = indent;
      atStart = true;
    }
    line += atStart ? piece : ` ${piece}`;
    atStart = false;
  }
  lines.push(line);
  return lines;
}
