/**
 * The seed's approach, for comparison only: one query per processor
 * (`WHERE processor_name = … AND processing_date >= …`), then the statuses worked out in
 * TypeScript. It gets its best case: the window query is one indexed-by-zone-map scan per
 * processor, and the whole history is read only for a processor without a success in the window
 * (its last success is older). The product never does this (SPEC §1: TypeScript never re-derives
 * statuses); it lives here to measure what the SQL-first design saves.
 *
 * Supports what the synthetic registry uses: the contract run history, the default status lists,
 * daily / weekdays / weekly frequencies, grace hours and max runtime. Its answers are compared
 * with the detection query's, so the two sides of the ratio compute the same thing.
 */
import { DateTime } from 'luxon';
import type { CheckResult } from '../src/check/report.js';
import type { ProcessorConfig, Registry } from '../src/config/registry.js';
import type { Row, Warehouse } from '../src/warehouse/types.js';

export interface ProcessorVerdict {
  name: string;
  level: 'CRITICAL' | 'ERROR' | 'OK';
  last_success_date: string | null;
  is_stale: boolean;
  scheduler_issue: boolean;
  /** One status per window date, oldest first. */
  day_statuses: string[];
}

export interface CheckWindowInputs {
  endDate: string;
  lookbackDays: number;
  now: Date;
}

const WEEKDAY_NAMES = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

const addDays = (date: string, days: number): string => DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
const dayDiff = (end: string, start: string): number =>
  Math.round(DateTime.fromISO(end, { zone: 'UTC' }).diff(DateTime.fromISO(start, { zone: 'UTC' }), 'days').days);

function isExpected(p: ProcessorConfig, date: string): boolean {
  const weekday = WEEKDAY_NAMES[DateTime.fromISO(date, { zone: 'UTC' }).weekday - 1]!;
  switch (p.expected_frequency) {
    case 'daily':
      return true;
    case 'weekdays':
      return weekday !== 'SAT' && weekday !== 'SUN';
    case 'weekly':
      return p.expected_weekdays.includes(weekday);
    default:
      throw new Error(`per-processor baseline: frequency ${p.expected_frequency} is not supported`);
  }
}

function isDue(p: ProcessorConfig, date: string, now: Date): boolean {
  const due = DateTime.fromISO(date, { zone: p.timezone }).plus({ days: 1 }).startOf('day').plus({ hours: p.grace_hours });
  return now.getTime() >= due.toMillis();
}

interface RunRowLite {
  run_id: string;
  processing_date: string;
  status: string;
  started_at: string | null;
  completed_at: string | null;
}

type RunClass = 'success' | 'failed' | 'running';

function classify(p: ProcessorConfig, status: string): RunClass | null {
  if (p.success_statuses.includes(status)) return 'success';
  if (p.failure_statuses.includes(status)) return 'failed';
  if (p.running_statuses.includes(status)) return 'running';
  return null;
}

/** SPEC §2: the final row with the latest completed_at (success on a tie), else the running row. */
function runState(p: ProcessorConfig, rows: RunRowLite[]): { state: RunClass; started_at: string | null } | null {
  let best: { cls: RunClass; row: RunRowLite } | null = null;
  let started: string | null = null;
  const rank = (cls: RunClass, row: RunRowLite) => [cls === 'running' ? 0 : 1, row.completed_at ?? '', cls === 'success' ? 1 : 0] as const;
  for (const row of rows) {
    const cls = classify(p, row.status);
    if (cls === null) continue;
    if (row.started_at !== null && (started === null || row.started_at > started)) started = row.started_at;
    if (best === null) {
      best = { cls, row };
      continue;
    }
    const a = rank(cls, row);
    const b = rank(best.cls, best.row);
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = { cls, row };
  }
  return best ? { state: best.cls, started_at: started } : null;
}

const WINDOW_SQL = (table: string) => `
SELECT run_id, processing_date, status, started_at, completed_at
FROM ${table}
WHERE processor_name = $processor AND processing_date >= $window_start AND processing_date <= $end_date`;

// Exact for the synthetic history, where no run has a success row followed by a failed row.
const LAST_SUCCESS_SQL = (table: string) => `
SELECT MAX(processing_date) AS last_success_date
FROM ${table}
WHERE processor_name = $processor AND processing_date <= $end_date AND list_contains($success, status)`;

/** Checks every processor of `registry` with its own queries; returns verdicts sorted by name. */
export async function checkPerProcessor(warehouse: Warehouse, registry: Registry, inputs: CheckWindowInputs): Promise<ProcessorVerdict[]> {
  const windowStart = addDays(inputs.endDate, 1 - inputs.lookbackDays);
  const dates = Array.from({ length: inputs.lookbackDays }, (_, i) => addDays(windowStart, i));
  const verdicts: ProcessorVerdict[] = [];
  for (const p of registry.processors) {
    if (!p.enabled) continue;
    const rows = (await warehouse.query(WINDOW_SQL(p.execution_table), {
      processor: { type: 'STRING', value: p.name },
      window_start: { type: 'DATE', value: windowStart },
      end_date: { type: 'DATE', value: inputs.endDate },
    })) as unknown as RunRowLite[];
    verdicts.push(await verdictFor(warehouse, p, rows, dates, inputs));
  }
  return verdicts.sort((a, b) => a.name.localeCompare(b.name));
}

async function verdictFor(
  warehouse: Warehouse,
  p: ProcessorConfig,
  rows: RunRowLite[],
  dates: string[],
  inputs: CheckWindowInputs,
): Promise<ProcessorVerdict> {
  const byDate = new Map<string, Map<string, RunRowLite[]>>();
  for (const row of rows) {
    const runs = byDate.get(row.processing_date) ?? new Map<string, RunRowLite[]>();
    byDate.set(row.processing_date, runs);
    const list = runs.get(row.run_id) ?? [];
    runs.set(row.run_id, list);
    list.push(row);
  }
  if (p.max_runtime_minutes === 'auto') throw new Error(`${p.name}: the per-processor comparison supports a fixed max_runtime_minutes only`);
  const hungBefore = inputs.now.getTime() - p.max_runtime_minutes * 60_000;
  let windowLastSuccess: string | null = null;
  let problemDays = 0;
  let expectedDueDays = 0;
  const dayStatuses = dates.map((date) => {
    const expected = isExpected(p, date);
    const due = isDue(p, date, inputs.now);
    if (expected && due) expectedDueDays++;
    const states = [...(byDate.get(date)?.values() ?? [])].map((run) => runState(p, run)).filter((s) => s !== null);
    let status: string;
    if (states.some((s) => s.state === 'success')) status = 'success';
    else if (states.some((s) => s.state === 'failed')) status = 'failed';
    else if (states.length > 0) {
      const newest = states.reduce((acc, s) => (s.started_at !== null && (acc === null || s.started_at > acc) ? s.started_at : acc), null as string | null);
      status = newest !== null && Date.parse(newest) < hungBefore ? 'hung' : 'running';
    } else if (expected && due) status = 'missing';
    else status = expected ? 'pending' : 'not_expected';
    if (status === 'success') windowLastSuccess = date;
    if (status === 'missing' || status === 'failed' || status === 'hung') problemDays++;
    return status;
  });

  let lastSuccess: string | null = windowLastSuccess;
  if (lastSuccess === null) {
    const [row] = await warehouse.query(LAST_SUCCESS_SQL(p.execution_table), {
      processor: { type: 'STRING', value: p.name },
      end_date: { type: 'DATE', value: inputs.endDate },
      success: { type: 'ARRAY<STRING>', value: p.success_statuses },
    });
    lastSuccess = (row as Row | undefined)?.last_success_date as string | null;
  }
  const daysSince = lastSuccess === null ? null : dayDiff(inputs.endDate, lastSuccess);
  // The first expected date after the last success (or in the window when there was none).
  const anchor = lastSuccess ?? addDays(dates[0]!, -1);
  let firstExpected: string | null = null;
  for (let k = 1; k <= 7 && firstExpected === null; k++) if (isExpected(p, addDays(anchor, k))) firstExpected = addDays(anchor, k);
  const isStale =
    (daysSince === null || daysSince > p.staleness_threshold_days) &&
    firstExpected !== null &&
    firstExpected <= inputs.endDate &&
    isDue(p, firstExpected, inputs.now);
  const schedulerIssue = rows.length === 0 && expectedDueDays > 0;
  return {
    name: p.name,
    level: isStale || schedulerIssue ? 'CRITICAL' : problemDays > 0 ? 'ERROR' : 'OK',
    last_success_date: lastSuccess,
    is_stale: isStale,
    scheduler_issue: schedulerIssue,
    day_statuses: dayStatuses,
  };
}

/** The verdicts of the check result (`runCheck`), in the same shape. */
export function verdictsFromCheckResult(result: CheckResult): ProcessorVerdict[] {
  return result.report.processors.map((p) => ({
    name: p.name,
    level: p.level,
    last_success_date: p.last_success_date,
    is_stale: p.is_stale,
    scheduler_issue: p.scheduler_issue,
    day_statuses: p.days.map((d) => d.status),
  }));
}

/** How many processors the two sides disagree on (0 when they compute the same thing). */
export function countDisagreements(a: readonly ProcessorVerdict[], b: readonly ProcessorVerdict[]): number {
  const other = new Map(b.map((v) => [v.name, JSON.stringify(v)]));
  let differing = Math.abs(a.length - b.length);
  for (const v of a) if (other.get(v.name) !== JSON.stringify(v)) differing++;
  return differing;
}
