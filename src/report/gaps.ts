/**
 * The backfill queue: every (processor, processing date) of the window whose day status is
 * `missing`, `failed` or `hung`, or whose success wrote too few or too many records (SPEC §10:
 * `low_volume`, `high_volume`) — the dates an operator re-runs. Pure: it reads the statuses the
 * detection SQL computed and formats them; nothing is re-derived.
 *
 * The same rows, in the same order, are the BigQuery view `processor_backfill_queue`
 * (`sql/processor_backfill_queue.sql.hbs`).
 */
import { fillTemplate, type Priority, type Registry } from '../config/registry.js';
import type { Anomaly, CheckResult, DayReport, DayStatus, ProcessorReport } from '../check/report.js';
import { MAX_NAME_WIDTH } from '../check/terminal.js';
import { renderCsv } from './csv.js';
import { ellipsize, printable } from '../printable.js';

export const GAP_STATUSES = ['missing', 'failed', 'hung'] as const satisfies readonly DayStatus[];
/** A slow run wrote what it should: only volume anomalies call for a re-run. */
export const GAP_ANOMALIES = ['low_volume', 'high_volume'] as const satisfies readonly Anomaly[];
export type GapStatus = (typeof GAP_STATUSES)[number] | (typeof GAP_ANOMALIES)[number];

export const GAP_FORMATS = ['table', 'csv', 'json', 'commands'] as const;
export type GapFormat = (typeof GAP_FORMATS)[number];

/** One date to re-run. Field order is the column order of the CSV and of the BigQuery view. */
export interface Gap {
  processor_name: string;
  processing_date: string;
  status: GapStatus;
  priority: Priority;
  revenue_impact: boolean;
  runs: number;
  failed_runs: number;
  last_error_type: string | null;
  last_error_message: string | null;
  /**
   * The upstreams whose own problem dates explain this one (SPEC §12), comma-separated in name
   * order, as the health view's `blocked_by`; null when none does. Such a date is re-run after
   * theirs: backfilled first, it would read what is still missing.
   */
  blocked_by: string | null;
}

export const GAP_COLUMNS = [
  'processor_name',
  'processing_date',
  'status',
  'priority',
  'revenue_impact',
  'runs',
  'failed_runs',
  'last_error_type',
  'last_error_message',
  'blocked_by',
] as const satisfies readonly (keyof Gap)[];

/** High priority first; the view orders by the same ranks. */
const PRIORITY_RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/** Why a date is re-run, or null: its day status, or a volume anomaly of a success (as the view's CASE). */
export function gapStatus(day: DayReport): GapStatus | null {
  const anomaly = GAP_ANOMALIES.find((a) => day.anomalies.includes(a));
  if (anomaly) return anomaly;
  return (GAP_STATUSES as readonly string[]).includes(day.status) ? (day.status as GapStatus) : null;
}

/**
 * Every gap of the window: first the dates no upstream explains (SPEC §12: the root's dates, which
 * must be re-run before the dates they block), then by priority (high first), date and processor.
 */
export function buildGaps({ report, details }: CheckResult): Gap[] {
  const gaps: Gap[] = [];
  for (const p of report.processors) {
    const dayDetails = new Map((details[p.name]?.days ?? []).map((d) => [d.date, d]));
    const upstreamsOf = blockingUpstreams(p.blocked_by);
    for (const day of p.days) {
      const status = gapStatus(day);
      if (status === null) continue;
      const detail = dayDetails.get(day.date);
      gaps.push({
        processor_name: p.name,
        processing_date: day.date,
        status,
        priority: p.priority,
        revenue_impact: p.revenue_impact,
        runs: day.runs,
        failed_runs: day.failed_runs,
        last_error_type: detail?.last_error_type ?? null,
        last_error_message: detail?.last_error_message ?? null,
        blocked_by: upstreamsOf.get(day.date) ?? null,
      });
    }
  }
  const isBlocked = (g: Gap) => Number(g.blocked_by !== null);
  return gaps.sort(
    (a, b) =>
      isBlocked(a) - isBlocked(b) ||
      PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
      compare(a.processing_date, b.processing_date) ||
      compare(a.processor_name, b.processor_name),
  );
}

/** A processor's blocked dates (SPEC §12 `blocked_by`, upstreams in name order) as date → 'a,b'. */
function blockingUpstreams(blockedBy: ProcessorReport['blocked_by']): Map<string, string> {
  const upstreams = new Map<string, string>();
  for (const b of blockedBy) {
    for (const date of b.dates) {
      const known = upstreams.get(date);
      upstreams.set(date, known === undefined ? b.processor : `${known},${b.processor}`);
    }
  }
  return upstreams;
}

/** Code-point order, so the CLI and the warehouse's ORDER BY agree whatever the locale. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A JSON array of gaps with every field present (null, not absent); `[]` when there is nothing to do. */
export function renderGapsJson(gaps: readonly Gap[]): string {
  return `${JSON.stringify(gaps, null, 2)}\n`;
}

/** The gaps as CSV (`./csv.ts`), one line per gap under the header. */
export function renderGapsCsv(gaps: readonly Gap[]): string {
  return renderCsv(GAP_COLUMNS, gaps);
}

/**
 * The backfill queue as runnable lines (SPEC §11), in queue order: each gap's processor
 * `backfill_command` with `{processor}` and `{date}` filled in, or a `#` comment line naming the
 * processor and date when it has none, so piping the output into a shell runs what can be run. A
 * date an upstream explains (`blocked_by`, SPEC §12: queued last) is a comment too, its command after
 * it: backfilled before the upstream's date is, it would read what is still missing; `pem gaps`
 * run again once the upstream is put right gives it as a command.
 */
export function renderGapsCommands(gaps: readonly Gap[], registry: Pick<Registry, 'processors'>): string {
  const commands = new Map(registry.processors.map((p) => [p.name, p.backfill_command]));
  const lines = gaps.map((g) => {
    const template = commands.get(g.processor_name) ?? null;
    if (template === null) return `# ${printable(g.processor_name)} ${g.processing_date} (${g.status}): no backfill_command in the registry`;
    // Shown as printable text, its tabs kept: whitespace to a shell, where a `?` would be a glob.
    const command = fillTemplate(template, { processor: g.processor_name, date: g.processing_date }).split('\t').map(printable).join('\t');
    return g.blocked_by !== null ? waitingOnUpstream(command) : command;
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * A backfill command for a date an upstream's date explains (SPEC §12): commented out, since it
 * fails again until that one is re-run (`pem gaps` lists the upstream's dates first).
 */
export function waitingOnUpstream(command: string): string {
  return `# waits on an upstream's date, run it after that one: ${command}`;
}

const TABLE_MESSAGE_WIDTH = 60;
/** The PROCESSOR column, at most MAX_NAME_WIDTH wide, as `pem check`'s. */
const NAME_COLUMN = 2;

/**
 * A table for people. Error text comes from the run history, so control characters (terminal
 * escape sequences, line breaks) are shown as `?`, never sent to the terminal.
 */
export function renderGapsTable(gaps: readonly Gap[], window: { start: string; end: string }): string {
  if (gaps.length === 0) return `No gaps: nothing to backfill in ${window.start} .. ${window.end}.\n`;
  const header = ['PRIORITY', 'DATE', 'PROCESSOR', 'STATUS', 'RUNS', 'FAILED', 'LAST ERROR'];
  const waits = gaps.map((g) => g.blocked_by !== null);
  const waiting = waits.filter(Boolean).length;
  const rows = gaps.map((g, i) => [
    g.priority + (g.revenue_impact ? ' $' : ''),
    g.processing_date,
    printable(g.processor_name),
    g.status + (waits[i] ? ' ^' : ''),
    String(g.runs),
    String(g.failed_runs),
    ellipsize(printable([g.last_error_type, g.last_error_message].filter((s) => s !== null).join(': ')), TABLE_MESSAGE_WIDTH),
  ]);
  // A loop, not Math.max(...rows): spread arguments overflow the stack at ~150,000 gaps.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, r[i]!.length), h.length));
  widths[NAME_COLUMN] = Math.min(widths[NAME_COLUMN]!, MAX_NAME_WIDTH);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  // A key longer than its column is whole on a line of its own (it is what --processors takes), the
  // rest of its row under the header's columns, as pem check shows it: one long key widened every row.
  const rowLines = (cells: string[]) =>
    cells[NAME_COLUMN]!.length <= widths[NAME_COLUMN]!
      ? [line(cells)]
      : [line(cells.slice(0, NAME_COLUMN + 1)), line(cells.map((cell, i) => (i <= NAME_COLUMN ? '' : cell)))];
  const processors = new Set(gaps.map((g) => g.processor_name)).size;
  return [
    line(header),
    ...rows.flatMap(rowLines),
    '',
    `${gaps.length} date${gaps.length === 1 ? '' : 's'} to backfill across ${processors} processor${processors === 1 ? '' : 's'} ` +
      `in ${window.start} .. ${window.end} ($ = revenue impact). Machine-readable: --format csv or --format json; runnable: --format commands.`,
    ...(waiting > 0
      ? [`^ ${waiting === 1 ? 'This date waits' : `These ${waiting} dates wait`} on an upstream's dates (blocked_by in --format csv or json): listed last, to re-run once the upstream's are.`]
      : []),
  ].join('\n') + '\n';
}

