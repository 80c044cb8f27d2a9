/**
 * What a person woken by an alert can act on (SPEC §11): since when the processor has been in
 * trouble, the runbook, the backfill commands of the window's first dates to re-run, the report, and a
 * `pem check` line that shows the same finding again. Pure: it fills the registry's templates
 * with what the check found; it decides nothing about health.
 */
import { DateTime } from 'luxon';
import { dateRuns } from '../check/date-runs.js';
import { addDays, isoWeekday } from '../calendar.js';
import { streakProblemDates, type ProcessorReport } from '../check/report.js';
import { gapStatus, waitingOnUpstream } from '../report/gaps.js';
import { fillTemplate, WEEKDAYS, type ProcessorConfig } from '../config/registry.js';
import { shellWord } from '../printable.js';

/** Backfill commands shown per processor; the rest is one `pem gaps --format commands` away. */
export const MAX_BACKFILL_COMMANDS = 3;
/**
 * A backfill command is shown whole or not at all: one cut short (`--service…`) is no command, and
 * whoever pastes it at night runs something else. Longer than this, the alert points to `pem gaps
 * --format commands` instead (it stays within Slack's section and PagerDuty's event sizes).
 */
const MAX_COMMAND_TEXT = 1000;

export interface ProcessorActions {
  /** `problem_since` (SPEC §11), null without a problem date. */
  since: string | null;
  /** The problem dates of the current streak, ascending. */
  problemDates: string[];
  /**
   * The streak as compact ranges with its count: `Nov 25–27, Nov 29 (4 dates)`; null without one.
   * When it began before the window (`streakBeforeWindow`), it says so and since which success.
   */
  problemRanges: string | null;
  /**
   * The streak runs back to the window's first expected date, and the frequency expected a date
   * after the last success and before the window: the streak began before the window, which
   * `since` cannot see. (No success at all, or a calendar's dates: no claim; `problemRanges` says
   * which.)
   */
  streakBeforeWindow: boolean;
  runbookUrl: string | null;
  /** Filled `backfill_command`s of the window's dates to re-run (`gapStatus`): those no upstream holds first, each part oldest first (at most MAX_BACKFILL_COMMANDS). */
  backfillCommands: string[];
  /** Dates to re-run beyond those shown. */
  moreBackfillDates: number;
  /** `pem check …` reproducing this processor's finding. */
  checkCommand: string;
  /** `pem gaps --format commands …` for this processor over the check's window: every backfill command, whole. */
  gapsCommand: string;
}

/** The flags of the check that ran, as they matter for reproducing it (SPEC §6). */
export interface CheckCommandContext {
  asOfDate: string;
  lookbackDays: number;
  /** Given only when the run used them: defaults are left out of the line. */
  config?: string | null;
  engine?: string | null;
  database?: string | null;
  project?: string | null;
  /** A BigQuery location other than US (the default): an EU dataset is found in no other. */
  location?: string | null;
  /** The evaluation instant (`--now`): `pem check` always gives its run's own, so that the line finds what the run found; null leaves it out. */
  now?: string | null;
}

/**
 * Dates as compact ranges with their count, the way a person reads them on a phone:
 * `Nov 25–27, Nov 29 (4 dates)`, `Nov 30–Dec 2 (3 dates)`; the year is shown when the dates are
 * not all in one year.
 */
export function compactRanges(dates: readonly string[]): string {
  if (dates.length === 0) return '';
  const ranges = dateRuns(dates).map(([from, to]) => [DateTime.fromISO(from, { zone: 'UTC' }), DateTime.fromISO(to, { zone: 'UTC' })] as const);
  const oneYear = ranges.every(([from, to]) => from.year === ranges[0]![0].year && to.year === from.year);
  const count = new Set(dates).size;
  const text = ranges.map(([from, to]) => rangeText(from, to, oneYear)).join(', ');
  return `${text} (${count} date${count === 1 ? '' : 's'})`;
}

/** One run of dates as `compactRanges` writes it, without a count: `Sep 30–Oct 6`, `Nov 25–27`. */
export function dateRangeLabel(from: string, to: string): string {
  const [start, end] = [DateTime.fromISO(from, { zone: 'UTC' }), DateTime.fromISO(to, { zone: 'UTC' })];
  return rangeText(start, end, start.year === end.year);
}

function rangeText(from: DateTime, to: DateTime, oneYear: boolean): string {
  const label = (d: DateTime) => d.toFormat(oneYear ? 'LLL d' : 'LLL d, yyyy');
  if (from.equals(to)) return label(from);
  // Within one month and year the end is just its day: `Nov 25–27`.
  const end = oneYear && from.month === to.month ? to.toFormat('d') : label(to);
  return `${label(from)}–${end}`;
}


/**
 * `pem check` (for one processor, or the whole run) with the flags that made this finding (defaults
 * left out), and `--dry-run`: pasted from Slack or PagerDuty by whoever looks into it, the line
 * must show the finding, not send alerts, write alert state and record a monitor run of its own.
 */
export function checkCommandLine(context: CheckCommandContext, processor?: string): string {
  return pemCommandLine(['pem', 'check'], context, processor, ['--dry-run']);
}

/**
 * `pem gaps --format commands` for one processor over the check's window, with the flags that read
 * the same registry and warehouse: where its backfill commands are, whole, when an alert or the
 * report cannot show them (a bare `pem gaps` reads the default registry and today's window).
 */
export function gapsCommandLine(context: CheckCommandContext, processor: string): string {
  return pemCommandLine(['pem', 'gaps', '--format', 'commands'], context, processor, []);
}

function pemCommandLine(command: string[], context: CheckCommandContext, processor: string | undefined, extra: string[]): string {
  const words = [...command, '--date', context.asOfDate];
  if (context.lookbackDays !== 7) words.push('--lookback-days', String(context.lookbackDays));
  if (processor) words.push('--processors', processor);
  if (context.now) words.push('--now', context.now);
  words.push(...extra);
  if (context.config) words.push('--config', context.config);
  if (context.engine) words.push('--engine', context.engine);
  if (context.database) words.push('--database', context.database);
  if (context.project) words.push('--project', context.project);
  if (context.location) words.push('--location', context.location);
  return words.map(shellWord).join(' ');
}


/**
 * The first date after `date` that the processor's frequency expects, or null when the registry
 * alone cannot tell (a calendar's dates are in a table; `none` expects nothing). A date between
 * the last success and the window that was never expected (a weekend) starts no streak.
 */
export function firstExpectedAfter(config: Pick<ProcessorConfig, 'expected_frequency' | 'expected_weekdays'>, date: string): string | null {
  const weekdays =
    config.expected_frequency === 'daily' ? [1, 2, 3, 4, 5, 6, 7]
    : config.expected_frequency === 'weekdays' ? [1, 2, 3, 4, 5]
    : config.expected_frequency === 'weekly' ? config.expected_weekdays.map((d) => WEEKDAYS.indexOf(d) + 1)
    : [];
  if (weekdays.length === 0) return null;
  for (let next = addDays(date, 1), i = 0; i < 7; next = addDays(next, 1), i++) {
    if (weekdays.includes(isoWeekday(next))) return next;
  }
  return null;
}

export function processorActions(p: ProcessorReport, config: ProcessorConfig | undefined, context: CheckCommandContext): ProcessorActions {
  const problemDates = streakProblemDates(p.days, p.problem_since);
  const latest = problemDates[problemDates.length - 1] ?? null;
  const template = config?.backfill_command ?? null;
  // The window's dates to re-run, as `pem gaps --format commands` lists them, not only the streak's:
  // a date missing before the last success is as empty as one after it (a slow date is not re-run).
  // Those that can run now first, then those waiting on an upstream's date, each oldest first: the
  // order `pem gaps` gives them, so the dates shown are the ones to run first.
  const waitingDates = new Set(p.blocked_by.flatMap((b) => b.dates));
  const gapDates = template === null ? [] : p.days.filter((d) => gapStatus(d) !== null).map((d) => d.date);
  const backfillDates = [...gapDates.filter((date) => !waitingDates.has(date)), ...gapDates.filter((date) => waitingDates.has(date))];
  const fill = (date: string) => fillTemplate(template!, { processor: p.name, date });
  const tooLong = backfillDates.slice(0, MAX_BACKFILL_COMMANDS).some((date) => fill(date).length > MAX_COMMAND_TEXT);
  const shown = tooLong ? [] : backfillDates.slice(0, MAX_BACKFILL_COMMANDS);
  const windowStart = addDays(context.asOfDate, 1 - context.lookbackDays);
  // The streak starts at the window's first expected date (a weekend or a day without a game
  // before it is no date of it), after a success older than the window, or none.
  const firstWindowDate = p.days.find((d) => d.status !== 'not_expected')?.date ?? null;
  const startsWindow = p.problem_since !== null && p.problem_since === firstWindowDate && (p.last_success_date === null || p.last_success_date < windowStart);
  const firstExpected = p.last_success_date === null || !config ? null : firstExpectedAfter(config, p.last_success_date);
  // Before the window for sure when the frequency expected a date between that success and it.
  const streakBeforeWindow = startsWindow && firstExpected !== null && firstExpected < windowStart;
  const ranges = problemDates.length > 0 ? compactRanges(problemDates) : null;
  const inWindow = (text: string, note: string) => `${text.replace(/\)$/, ' in the window')}; ${note})`;
  return {
    since: p.problem_since,
    problemDates,
    problemRanges:
      ranges === null ? null
      : streakBeforeWindow ? inWindow(ranges, `it began before the window, after the last success on ${p.last_success_date}`)
      // What the registry alone cannot date (a calendar's dates are in a table), or no success at all: said as it is.
      : startsWindow && p.last_success_date === null ? inWindow(ranges, 'no success on record')
      : startsWindow && firstExpected === null ? inWindow(ranges, `the last success was on ${p.last_success_date}`)
      : ranges,
    streakBeforeWindow,
    // `{date}` in a runbook is the latest problem date (SPEC §11); without one, E.
    runbookUrl: config?.runbook_url ? fillTemplate(config.runbook_url, { processor: p.name, date: latest ?? context.asOfDate }) : null,
    // A date an upstream explains is re-run after the upstream's, as `pem gaps --format commands` says.
    backfillCommands: shown.map((date) => {
      const command = fill(date);
      return waitingDates.has(date) ? waitingOnUpstream(command) : command;
    }),
    moreBackfillDates: backfillDates.length - shown.length,
    checkCommand: checkCommandLine(context, p.name),
    gapsCommand: gapsCommandLine(context, p.name),
  };
}
