/**
 * PagerDuty Events API v2 events of a run. Pure: returns the JSON body without the routing key
 * (the transport adds it, so nothing built here can leak it).
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 *
 * - `dedup_key` is the issue key (`pem/<dataset>/<processor>/<kind>`, at most 255 characters):
 *   a repeated trigger for an open alert adds to it instead of paging again, and `resolve` closes it.
 * - `payload.summary` is at most 1,024 characters.
 * - `links` (`[{href, text}]`) are shown on the incident: the runbook and the report (SPEC §11).
 *   `custom_details` carries since when, the backfill commands and the `pem check` line.
 */
import { processorNamed, type AlertLevel, type CheckResult, type ProcessorReport } from '../check/report.js';
import { ellipsize, plural, printable } from '../printable.js';
import type { ProcessorActions } from './actions.js';
import { localTime } from '../local-time.js';
import { KIND_LABEL, RUNBOOK_HINT, type IssueKind } from './issues.js';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export const SEVERITY: Record<AlertLevel, PagerDutySeverity> = {
  CRITICAL: 'critical',
  ERROR: 'error',
  WARNING: 'warning',
  INFO: 'info',
};

const MAX_SUMMARY = 1024;
/** Error messages are unbounded; the whole event must stay under PagerDuty's 512 KB. */
const MAX_DETAIL_TEXT = 2000;

const clip = (text: string | null, max: number): string | null => (text === null ? null : ellipsize(text, max));

export interface PagerDutyTrigger {
  event_action: 'trigger';
  dedup_key: string;
  client: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: { href: string; text: string }[];
}

/** What makes a page actionable (SPEC §11); every field optional for library callers. */
export interface PagerDutyContext {
  actions?: ProcessorActions;
  reportUrl?: string | null;
  /** The registry's time zone: `evaluated_at` is shown in it, with its offset. */
  timezone?: string;
  route?: string;
}

export interface PagerDutyResolve {
  event_action: 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

export const PAGERDUTY_CLIENT = 'Processor Execution Monitor (pem)';

/** The display name's share of the summary: a long one must not push out what is wrong. */
const MAX_SUMMARY_NAME = 200;
/** Owners and dependents listed in `custom_details` (PagerDuty takes at most 512 KB an event): the rest are counted. */
const MAX_NAMES_LISTED = 50;

function summaryFor(p: ProcessorReport, kind: IssueKind, asOf: string, threshold: number | null): string {
  const name = ellipsize(p.name, MAX_SUMMARY_NAME);
  // The summary is what the page shows, texts and reads aloud: a display name's control characters
  // and invisible bidirectional controls are shown as `?`, as on the terminal (`printable`).
  const who = p.display_name === p.name ? name : `${ellipsize(printable(p.display_name), MAX_SUMMARY_NAME)} (${name})`;
  switch (kind) {
    case 'scheduler_issue':
      return `${who}: no runs at all in the window while dates were due (scheduler issue)`;
    case 'stale': {
      const silent = p.scheduler_issue ? '; no runs at all in the window (scheduler issue)' : '';
      return p.last_success_date === null
        ? `${who} is stale: it never succeeded${silent}`
        : `${who} is stale: last success ${p.last_success_date}, ${plural(p.days_since_success ?? 0, 'day')} before ${asOf}` +
            (threshold === null ? '' : ` (threshold ${threshold})`) +
            silent;
    }
    default:
      return `${who}: ${KIND_LABEL[kind]}`;
  }
}

export function buildPagerDutyTrigger(
  result: CheckResult,
  processor: string,
  kind: IssueKind,
  dedupKey: string,
  dataset: string,
  context: PagerDutyContext = {},
): PagerDutyTrigger {
  const p = processorNamed(result.report, processor);
  if (!p) throw new Error(`no processor ${processor} in this check`);
  const detail = result.details[processor];
  const level = p.level === 'OK' ? 'INFO' : p.level;
  const summary = summaryFor(p, kind, result.report.as_of_date, detail?.staleness_threshold_days ?? null);
  const { actions, reportUrl } = context;
  const links = [
    ...(actions?.runbookUrl ? [{ href: actions.runbookUrl, text: 'Runbook' }] : []),
    ...(reportUrl ? [{ href: reportUrl, text: 'Health report' }] : []),
  ];
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: PAGERDUTY_CLIENT,
    payload: {
      summary: clip(summary, MAX_SUMMARY)!,
      source: `pem/${dataset}`,
      severity: SEVERITY[level],
      timestamp: result.report.now,
      component: processor,
      group: dataset,
      class: kind,
      custom_details: {
        processor,
        display_name: clip(p.display_name, MAX_DETAIL_TEXT),
        level: p.level,
        issue: KIND_LABEL[kind],
        scheduler_issue: p.scheduler_issue,
        priority: p.priority,
        revenue_impact: p.revenue_impact,
        window: `${result.report.window_start}..${result.report.window_end}`,
        last_success_date: p.last_success_date,
        days_since_success: p.days_since_success,
        staleness_threshold_days: detail?.staleness_threshold_days ?? null,
        missing_dates: p.missing_dates,
        failed_dates: p.failed_dates,
        hung_dates: p.hung_dates,
        // SPEC §10: successes that are wrong, which problem_dates counts too.
        low_volume_dates: p.low_volume_dates,
        high_volume_dates: p.high_volume_dates,
        slow_dates: p.slow_dates,
        // SPEC §12: downstream processors held because this one explains their dates.
        also_affected: namesWithin(detail?.also_affected ?? [], MAX_NAMES_LISTED),
        // Both come from the run history as written, unbounded: a stack trace pasted as the error
        // type made an event of 670 KB that PagerDuty refuses (400), and the page was lost.
        latest_error: detail?.latest_failure
          ? {
              ...detail.latest_failure,
              error_type: clip(detail.latest_failure.error_type, MAX_NAME_DETAIL),
              error_message: clip(detail.latest_failure.error_message, MAX_DETAIL_TEXT),
            }
          : null,
        owners: namesWithin(detail?.owners ?? [], MAX_NAMES_LISTED),
        slack_channel: clip(detail?.slack_channel ?? null, MAX_NAME_DETAIL),
        runbook: RUNBOOK_HINT[kind],
        route: context.route ?? null,
        evaluated_at: localTime(result.report.now, context.timezone ?? 'UTC'),
        problem_since: actions?.since ?? p.problem_since,
        // problem_since is the window's first date then: the streak began before it, after the last success.
        problem_since_before_window: actions?.streakBeforeWindow ?? false,
        problem_dates: actions?.problemRanges ?? null,
        runbook_url: actions?.runbookUrl ?? null,
        backfill_commands: actions?.backfillCommands ?? [],
        more_backfill_dates: actions?.moreBackfillDates ?? 0,
        // Where every one of them is, whole: the run's own `pem gaps` line for this processor.
        gaps_command: actions?.gapsCommand ?? null,
        report_url: reportUrl ?? null,
        check_command: actions?.checkCommand ?? null,
      },
    },
    links,
  };
}

/** A registry value that names something (an owner, a channel) in `custom_details`, cut to this. */
const MAX_NAME_DETAIL = 200;

/** The first `max` names (owners, dependents; each cut to MAX_NAME_DETAIL), then `+N more`. */
function namesWithin(names: readonly string[], max: number): string[] {
  const shown = names.slice(0, max).map((name) => ellipsize(name, MAX_NAME_DETAIL));
  return names.length > max ? [...shown, `+${names.length - max} more`] : shown;
}

export function buildPagerDutyResolve(dedupKey: string): PagerDutyResolve {
  return { event_action: 'resolve', dedup_key: dedupKey };
}
