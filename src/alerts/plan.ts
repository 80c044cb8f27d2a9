/**
 * Decides what is due this run, from what is wrong now (issues) and what was already delivered
 * (the latest delivered state per issue key and destination). Pure; the clock is an input.
 *
 * For each configured destination of each issue:
 *   - never notified, or resolved since       → trigger ("new")
 *   - notified `renotify_hours` ago or more   → trigger ("reminder")
 *   - notified less than that ago             → nothing ("open": not re-sent every run)
 * For each issue notified and not resolved whose processor was checked this run and is no longer
 * wrong in that way → resolve ("recovered"), once: the resolve is recorded, so it is not repeated;
 * unless this check's window cannot tell (it ends too early, or a check of another window length
 * raised the issue: `raisedByAnotherWindow`).
 *
 * Held issues (SPEC §12 thresholds and dependencies) are current but never triggered: an alert
 * already open stays open (no "recovered" while the processor is still not OK), none is opened.
 *
 * Silences hold back triggers and reminders only. Recoveries of issues that were notified still go
 * out, so a silence never leaves a PagerDuty incident open or a Slack thread without its ending.
 */
import { PAGING_KINDS, type Issue, type IssueKind, type StateDestination } from './issues.js';
import { DateTime } from 'luxon';
import { addDays } from '../calendar.js';
import { DEFAULT_ROUTE, type Registry } from '../config/registry.js';

export interface DeliveredState {
  alert_key: string;
  destination: StateDestination;
  processor_name: string;
  issue_kind: IssueKind;
  level: string;
  event: 'notified' | 'resolved';
  event_id: string;
  event_at: Date;
  /** The window length L of the check that wrote the event. */
  lookback_days?: number;
  /**
   * The window length the issue was raised with: the check that sent its `new` notification;
   * reminders and Slack companions carry it on, whichever check sends them. Absent on events
   * written before the state table had the columns (`alert_state_upgrade`) and on their
   * reminders: any check may resolve those, as before.
   */
  raised_lookback_days?: number;
}

export interface ActiveSilence {
  silence_id: string;
  processor_name: string;
  silenced_until: string;
  reason: string | null;
}

export type DueReason = 'new' | 'reminder' | 'recovered';

export interface DueItem {
  key: string;
  destination: StateDestination;
  processor: string;
  kind: IssueKind;
  level: string;
  action: 'trigger' | 'resolve';
  reason: DueReason;
  /**
   * The delivered event this notification follows ('none' for the first). Two runs that read the
   * same state compute the same claim token, which is how they find out about each other.
   */
  basis: string;
  /** This check's window length, recorded with the event; absent when the plan was given none (the backtest). */
  lookbackDays?: number;
  /** The window length the issue was raised with (`DeliveredState.raised_lookback_days`): this check's for a new issue. */
  raisedLookbackDays?: number;
}

export interface DeliveryPlan {
  due: DueItem[];
  /** Issues open and already notified, not due for a reminder: processor names per destination. */
  open: Record<StateDestination, string[]>;
  /** Processors with issues held back by a silence. */
  silenced: ActiveSilence[];
  /** Cleared issues (each counted once, whatever its destinations) not declared recovered: the check's window ends too early to tell (`PlanInputs.window`). */
  heldResolves: number;
  /**
   * Cleared issues (each counted once) not declared recovered because checks of other window
   * lengths raised and last notified them (`raisedByAnotherWindow`), and those lengths, ascending.
   */
  heldForWindow: { issues: number; lookbackDays: number[] };
}

export interface PlanInputs {
  issues: readonly Issue[];
  state: readonly DeliveredState[];
  silences: readonly ActiveSilence[];
  /**
   * Whether a processor's route has this destination (SPEC §11); a `Set` of destinations when
   * every processor shares one route.
   */
  configured: { has(destination: StateDestination, processor: string): boolean };
  /** Processors checked this run: only their issues can be declared recovered. */
  checked: ReadonlySet<string>;
  renotifyHours: number;
  now: Date;
  /**
   * The end date E of this check's window and the registry's time zone. An open issue is declared
   * recovered only by a check whose window ends no more than a day before the issue was last
   * notified (in that zone): a check of an older window (`--date` weeks back) does not see the
   * dates the issue was raised for, so its absence there says nothing about now; resolving would
   * close an open incident, and the next scheduled check would page again for the same outage.
   * Without it (the backtest, whose E is always its instant's date) every cleared issue resolves.
   * `lookbackDays`: this check's window length L, for `raisedByAnotherWindow`.
   */
  window?: { end: string; timezone: string; lookbackDays?: number };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Whether a check of `lookbackDays` must leave this cleared issue open, because it was raised by a
 * check of another window length and last notified by one too, and they would not agree. A
 * narrower window does not see every date the issue was raised for; a wider one sees other dates,
 * and what it finds is its own: a scheduler issue (no run rows at all in the window) reads as
 * cleared once older runs are in sight, and a processor's recovered failures are an issue only
 * while it has no other problem, so a missing date further back turns them into another issue.
 * Either way the resolve would close what the raising check pages again at its next run (or
 * announce a recovery that is not one); when the issue has truly cleared, that check resolves it.
 *
 * Both lengths count: the one it was raised with (kept through reminders, whichever check sends
 * them), so a one-off check that sends a reminder does not take the issue over from the check that
 * raised it; and the one of the check that last notified it, so the scheduled check that keeps
 * re-notifying an issue a one-off check happened to raise first may resolve it. (So a one-off check
 * that sent the last reminder may resolve it too, until the scheduled check's next reminder: pem
 * does not know which length is the scheduled one.) The hold lasts while the issue is still being
 * re-notified: a check that still sees it sends a reminder every `renotify_hours`, so an issue
 * without one for that long and a day more is left to this check (the checks that notified it no
 * longer run, or no longer see it). A silence holds reminders back too, so a silenced issue of
 * another length may be resolved that much sooner; and an issue a one-off check raised first, that
 * clears before the scheduled check's first reminder, is resolved that much later.
 */
function raisedByAnotherWindow(last: DeliveredState, lookbackDays: number | undefined, nowMs: number, renotifyMs: number): boolean {
  const raisedWith = last.raised_lookback_days;
  if (lookbackDays === undefined || raisedWith === undefined || raisedWith === lookbackDays || last.lookback_days === lookbackDays) return false;
  return nowMs - last.event_at.getTime() < renotifyMs + DAY_MS;
}

export function claimToken(item: Pick<DueItem, 'key' | 'destination' | 'action' | 'basis'>): string {
  return `${item.key}|${item.destination}|${item.action}|${item.basis}`;
}

/** `lengths`: this check's window length and the one the issue was raised with (DueItem), when known. */
function dueTrigger(issue: Issue, destination: StateDestination, reason: DueReason, basis: string, lengths: { lookbackDays?: number; raisedWith?: number }): DueItem {
  const item: DueItem = { key: issue.key, destination, processor: issue.processor, kind: issue.kind, level: issue.level, action: 'trigger', reason, basis };
  if (lengths.lookbackDays !== undefined) item.lookbackDays = lengths.lookbackDays;
  if (lengths.raisedWith !== undefined) item.raisedLookbackDays = lengths.raisedWith;
  return item;
}

/**
 * One incident per outage: a processor paged as a scheduler issue that then goes stale too (or
 * paged as stale that then has no runs at all) is paged as `stale` alone from then on (collectIssues),
 * which would resolve the open incident and open another for the same outage. Such a page goes on
 * under the key PagerDuty already has open (saying what is wrong now), until the processor has no
 * paging issue left. Returns the issue to page instead, for the paging issues concerned.
 */
function carriedPages(issues: readonly Issue[], latestPages: ReadonlyMap<string, DeliveredState>): Map<Issue, Issue> {
  const carried = new Map<Issue, Issue>();
  const paging = issues.filter((i) => PAGING_KINDS.has(i.kind) && i.destinations.includes('pagerduty'));
  if (paging.length === 0) return carried;
  const pagedKeys = new Set(paging.map((i) => i.key));
  const openPageOf = new Map<string, DeliveredState>();
  for (const s of latestPages.values()) {
    if (s.event === 'notified' && PAGING_KINDS.has(s.issue_kind) && !pagedKeys.has(s.alert_key)) openPageOf.set(s.processor_name, s);
  }
  for (const issue of paging) {
    const last = latestPages.get(issue.key);
    const open = openPageOf.get(issue.processor);
    // The key only: the page says what is wrong now (stale, with its last success), under the incident already open.
    if (open && (!last || last.event === 'resolved')) carried.set(issue, { ...issue, key: open.alert_key });
  }
  return carried;
}

/**
 * Issue keys per destination. Keyed by the issue key itself, not a `key|destination` string: at
 * 20,000 issues, building and hashing those strings was most of the planning time (SPEC §14).
 */
type ByDestination<T> = Record<StateDestination, Map<string, T>>;
const byDestination = <T>(): ByDestination<T> => ({ slack: new Map(), pagerduty: new Map() });

/**
 * Each silenced processor's silence that ends last: a processor with several active silences is
 * held back until the last of them ends (and is shown so), where the first to end would say
 * "until" an instant after which its alerts still wait.
 */
export function lastEndingSilences(silences: readonly ActiveSilence[]): Map<string, ActiveSilence> {
  const silencedBy = new Map<string, ActiveSilence>();
  for (const s of silences) {
    const kept = silencedBy.get(s.processor_name);
    if (!kept || Date.parse(s.silenced_until) > Date.parse(kept.silenced_until)) silencedBy.set(s.processor_name, s);
  }
  return silencedBy;
}

/** The route each processor's alerts take (SPEC §11): its `route`, and `default` for a name the registry lacks. */
export function routeOfProcessor(registry: Pick<Registry, 'processors'>): (processor: string) => string {
  const routeByProcessor = new Map(registry.processors.map((p) => [p.name, p.route]));
  return (processor) => routeByProcessor.get(processor) ?? DEFAULT_ROUTE;
}

/**
 * How many Slack messages a run sends (SPEC §11): one per route with Slack items, and the WARNING
 * summary alone when there is one, the default route has Slack, its own message is not among
 * them (a team whose failing processors all route elsewhere still hears that several are down),
 * and the items hold news, not only reminders (`slackNews`).
 */
export function slackMessageCount(
  routesWithItems: ReadonlySet<string>,
  news: boolean,
  warning: boolean,
  defaultRouteHasSlack: boolean,
): { messages: number; warningAlone: boolean } {
  const warningAlone = warning && defaultRouteHasSlack && news && !routesWithItems.has(DEFAULT_ROUTE);
  return { messages: routesWithItems.size + (warningAlone ? 1 : 0), warningAlone };
}

/** Whether Slack items bring news (a new issue or a recovery): a run's reminders alone do not. */
export function slackNews(items: readonly Pick<DueItem, 'reason'>[]): boolean {
  return items.some((item) => item.reason !== 'reminder');
}

export function planDeliveries(inputs: PlanInputs): DeliveryPlan {
  const latest = byDestination<DeliveredState>();
  // A destination pem no longer keeps state for (a row from elsewhere) is not read.
  for (const s of inputs.state) latest[s.destination]?.set(s.alert_key, s);
  const silencedBy = lastEndingSilences(inputs.silences);
  const renotifyMs = inputs.renotifyHours * HOUR_MS;
  const lookbackDays = inputs.window?.lookbackDays;
  const nowMs = inputs.now.getTime();
  const due: DueItem[] = [];
  const open: Record<StateDestination, Set<string>> = { slack: new Set(), pagerduty: new Set() };
  const silenced = new Map<string, ActiveSilence>();
  const current = byDestination<true>();
  const carriedPage = carriedPages(inputs.issues, latest.pagerduty);

  for (const found of inputs.issues) {
    const silence = silencedBy.get(found.processor);
    for (const destination of found.destinations) {
      const issue = destination === 'pagerduty' ? (carriedPage.get(found) ?? found) : found;
      current[destination].set(issue.key, true);
      if (!inputs.configured.has(destination, issue.processor) || issue.held) continue;
      if (silence) {
        silenced.set(issue.processor, silence);
        continue;
      }
      const last = latest[destination].get(issue.key);
      if (!last || last.event === 'resolved') {
        due.push(dueTrigger(issue, destination, 'new', last?.event_id ?? 'none', { lookbackDays, raisedWith: lookbackDays }));
      } else if (nowMs - last.event_at.getTime() >= renotifyMs) {
        due.push(dueTrigger(issue, destination, 'reminder', last.event_id, { lookbackDays, raisedWith: last.raised_lookback_days }));
      } else {
        open[destination].add(issue.processor);
      }
    }
  }

  // "E no more than a day before the notification's date" is "notified before the start of E + 2
  // days" in the registry's zone: one instant for the run, not a zoned date per state row.
  const resolvesNotifiedBefore = inputs.window
    ? DateTime.fromISO(addDays(inputs.window.end, 2), { zone: inputs.window.timezone }).startOf('day').toMillis()
    : Infinity;
  const heldResolves = new Set<string>();
  const heldForWindow = new Map<string, (number | undefined)[]>();
  for (const last of inputs.state) {
    if (last.event !== 'notified') continue;
    if (!inputs.configured.has(last.destination, last.processor_name) || !inputs.checked.has(last.processor_name)) continue;
    if (current[last.destination]?.has(last.alert_key)) continue;
    if (last.event_at.getTime() >= resolvesNotifiedBefore) {
      heldResolves.add(last.alert_key);
      continue;
    }
    if (raisedByAnotherWindow(last, lookbackDays, nowMs, renotifyMs)) {
      heldForWindow.set(last.alert_key, [last.raised_lookback_days!, last.lookback_days]);
      continue;
    }
    due.push({
      key: last.alert_key,
      destination: last.destination,
      processor: last.processor_name,
      kind: last.issue_kind,
      level: last.level,
      action: 'resolve',
      reason: 'recovered',
      basis: last.event_id,
      ...(lookbackDays === undefined ? {} : { lookbackDays }),
    });
  }

  return {
    due,
    heldResolves: heldResolves.size,
    heldForWindow: {
      issues: heldForWindow.size,
      lookbackDays: [...new Set([...heldForWindow.values()].flat().filter((days): days is number => days !== undefined))].sort((a, b) => a - b),
    },
    open: { slack: [...open.slack].sort(), pagerduty: [...open.pagerduty].sort() },
    silenced: [...silenced.values()].sort((a, b) => a.processor_name.localeCompare(b.processor_name)),
  };
}

/**
 * Every processor in a Slack message was told about all of its current problems, so the issues it
 * has beyond the due items are recorded as notified too (each with its own basis): their reminders
 * then come together, not one kind at a time. Held issues were not told. `lookbackDays`: this
 * check's window length, also the one an issue not open before is raised with; an open one keeps
 * the length it was raised with (`DueItem.raisedLookbackDays`).
 */
export function slackCompanions(
  issues: readonly Issue[],
  shown: ReadonlySet<string>,
  items: readonly Pick<DueItem, 'key' | 'destination'>[],
  state: readonly DeliveredState[],
  lookbackDays?: number,
): DueItem[] {
  const taken = new Set(items.filter((i) => i.destination === 'slack').map((i) => i.key));
  const lastSlack = new Map(state.filter((s) => s.destination === 'slack').map((s) => [s.alert_key, s]));
  return issues
    .filter((issue) => shown.has(issue.processor) && !taken.has(issue.key) && !issue.held && issue.destinations.includes('slack'))
    .map((issue) => {
      const last = lastSlack.get(issue.key);
      const raisedWith = last?.event === 'notified' ? last.raised_lookback_days : lookbackDays;
      return dueTrigger(issue, 'slack', 'reminder', last?.event_id ?? 'none', { lookbackDays, raisedWith });
    });
}
