/**
 * What is wrong, as alert state sees it: one *issue* per processor and issue kind, each with a
 * stable key. Pure: it reads the verdicts the detection SQL computed (levels, date lists, flags)
 * and names them; it decides nothing about health.
 *
 * Kinds are finer than levels so that a change of problem is news (ERROR "missing" becoming
 * CRITICAL "stale" pages at once) while the same problem on a new date is not (one more missing
 * date waits for the reminder).
 */
import { createHash } from 'node:crypto';
import type { CheckResult, ProcessorReport } from '../check/report.js';
import { ALERT_ROUTING } from '../config/names.js';
import type { HoldReason } from '../check/noise.js';

export const ISSUE_KINDS = ['scheduler_issue', 'stale', 'failed', 'hung', 'missing', 'low_volume', 'high_volume', 'slow', 'recovered_failures'] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

/** CRITICAL kinds page (SPEC §5); the others are Slack only. */
export const PAGING_KINDS: ReadonlySet<IssueKind> = new Set(['scheduler_issue', 'stale']);

export type StateDestination = 'slack' | 'pagerduty';

export interface Issue {
  /** Stable across runs; PagerDuty's dedup_key and the state table's alert_key. */
  key: string;
  processor: string;
  kind: IssueKind;
  level: 'CRITICAL' | 'ERROR';
  destinations: StateDestination[];
  /** SPEC §12: held back (threshold or dependency): still current, so never "recovered", but not sent. */
  held: HoldReason | null;
}

/** PagerDuty rejects a dedup_key longer than 255 characters. */
export const MAX_DEDUP_KEY = 255;

/**
 * `pem/<dataset>/<processor>/<kind>`: readable in PagerDuty and in the state table. Names are
 * unbounded, so a longer key keeps its readable head and ends with a hash of the whole.
 */
export function issueKey(dataset: string, processor: string, kind: IssueKind): string {
  const key = `pem/${dataset}/${processor}/${kind}`;
  if (key.length <= MAX_DEDUP_KEY) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${key.slice(0, MAX_DEDUP_KEY - hash.length - 1)}#${hash}`;
}

/** The kinds of a processor that is not OK, most serious first. */
export function issueKinds(p: ProcessorReport): IssueKind[] {
  if (p.level === 'OK') return [];
  const kinds: IssueKind[] = [];
  if (p.scheduler_issue) kinds.push('scheduler_issue');
  if (p.is_stale) kinds.push('stale');
  if (p.failed_dates.length > 0) kinds.push('failed');
  if (p.hung_dates.length > 0) kinds.push('hung');
  if (p.missing_dates.length > 0) kinds.push('missing');
  // SPEC §10: a success that is wrong is an ERROR (Slack), never a page of its own.
  if (p.low_volume_dates.length > 0) kinds.push('low_volume');
  if (p.high_volume_dates.length > 0) kinds.push('high_volume');
  if (p.slow_dates.length > 0) kinds.push('slow');
  // ERROR with none of the above: recovered failures the registry asked to hear about.
  if (kinds.length === 0) kinds.push(p.level === 'CRITICAL' ? 'stale' : 'recovered_failures');
  return kinds;
}

export function collectIssues(result: CheckResult, dataset: string): Issue[] {
  const issues: Issue[] = [];
  for (const p of result.report.processors) {
    if (p.level === 'OK') continue;
    const level = p.level;
    for (const kind of issueKinds(p)) {
      // One page per broken processor: when it is both stale and silent, the stale alert carries
      // both (its summary says so), rather than two incidents for one cause.
      const pages = level === 'CRITICAL' && PAGING_KINDS.has(kind) && !(kind === 'scheduler_issue' && p.is_stale);
      issues.push({
        key: issueKey(dataset, p.name, kind),
        processor: p.name,
        kind,
        level,
        // SPEC §5 routing: a page goes where CRITICAL goes; the rest goes where ERROR goes.
        destinations: [...(pages ? ALERT_ROUTING.CRITICAL : ALERT_ROUTING.ERROR)],
        held: result.details[p.name]?.held ?? null,
      });
    }
  }
  return issues;
}

/** How a person reads a kind, in a list ("no longer stale, missing"). */
export const KIND_LABEL: Record<IssueKind, string> = {
  scheduler_issue: 'scheduler issue',
  stale: 'stale',
  failed: 'failed',
  hung: 'hung',
  missing: 'missing',
  low_volume: 'low volume',
  high_volume: 'high volume',
  slow: 'slow',
  recovered_failures: 'recovered failures',
};

/** One line of what to do first, for the most serious kind. */
export const RUNBOOK_HINT: Record<IssueKind, string> = {
  scheduler_issue:
    'No run rows at all in the window: check that its scheduler (Cloud Scheduler / Dataform schedule) is enabled and the job can start.',
  stale: 'Fix the cause, then backfill every date since the last success and re-run `pem check` to confirm.',
  failed: 'Read the latest error, fix it, and re-run the failed dates.',
  hung: 'A run has been `running` past max_runtime_minutes: check whether the job is stuck, then stop or restart it.',
  missing: 'Due dates have no run at all: check the upstream trigger, then run the missing dates.',
  low_volume: 'A run succeeded but wrote far fewer records than usual: check its upstream for missing data, then re-run those dates (`pem gaps` lists them).',
  high_volume: 'A run wrote far more records than usual: check for duplicated or replayed input, then re-run those dates (`pem gaps` lists them).',
  slow: 'A run took far longer than usual: check the upstream and the job\'s resources before it starts timing out.',
  recovered_failures: 'Runs failed before succeeding on retry: look for a flaky dependency.',
};
