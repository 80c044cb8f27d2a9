/**
 * What the alerts of a backtest would have done (SPEC §13), from the check result at each instant:
 * the real planner (`planDeliveries`, `slackCompanions`) decides what is due, and every due item is
 * taken as delivered at that instant, so state, reminders, recoveries, holds and silences behave as
 * in `pem check`. Pure: it reads check results and silences, and counts.
 *
 *   pages                PagerDuty triggers that open an incident (reason "new"; reminders are not pages)
 *   Slack messages       one per route that sent Slack anything at a check (SPEC §11), and the
 *                        WARNING summary when it went alone to the default route
 * Every destination the registry's routes name is taken as set: a route without a PagerDuty
 * variable pages no one, one without a Slack variable posts nothing.
 *   never alerted        (processor, date) problem dates no alert ever covered while they were one
 *   flaps                a processor's alert resolved within two hours of being raised: every issue
 *                        of it resolved (one alert of three kinds is one flap; a date missing, then
 *                        failed, is no flap: the processor never stopped being wrong)
 *   detection latency    per alerted problem date due during the replay: its due instant to the first
 *                        check that sent an alert about it (its processor's, or, when held by a
 *                        dependency, its root's, which lists it). An issue already open is not sent
 *                        again until its reminder, so a new date of it waits for the reminder, as
 *                        in `pem check`; having some issue of the processor open does not cover it.
 */
import type { CheckResult } from '../check/report.js';
import { collectIssues, type StateDestination } from '../alerts/issues.js';
import { planDeliveries, routeOfProcessor, slackCompanions, slackMessageCount, slackNews, type ActiveSilence, type DeliveredState, type DueItem } from '../alerts/plan.js';
import { DEFAULT_ROUTE, type Registry } from '../config/registry.js';
import { weekOf } from './cadence.js';

export const FLAP_MS = 2 * 3_600_000;

/** Which destinations each processor's route names (SPEC §11), as `planDeliveries` asks. */
function routeDestinations(registry: Pick<Registry, 'processors' | 'routes'>): { routeOf(processor: string): string; has(destination: StateDestination, processor: string): boolean; hasSlack(route: string): boolean } {
  const routeOf = routeOfProcessor(registry);
  const named = (route: string, destination: StateDestination) => {
    const config = registry.routes[route];
    return Boolean(destination === 'slack' ? config?.slack_webhook_env : config?.pagerduty_routing_key_env);
  };
  return { routeOf, has: (destination, processor) => named(routeOf(processor), destination), hasSlack: (route) => named(route, 'slack') };
}

export interface Latency {
  alerted_dates: number;
  p50_minutes: number | null;
  p95_minutes: number | null;
  max_minutes: number | null;
}

export interface Figures {
  pages: number;
  slack_messages: number;
  problem_dates: number;
  never_alerted_dates: number;
  flaps: number;
  latency: Latency;
}

export interface BacktestFigures {
  checks: number;
  totals: Figures;
  weeks: (Figures & { week: string })[];
  processors: (Figures & { processor: string })[];
  /** The problem dates no alert covered, for a person to look at. */
  never_alerted: { processor: string; date: string }[];
}

interface ProblemDate {
  processor: string;
  date: string;
  week: string;
  dueAt: number | null;
  alertedAt: number | null;
  alertedWeek: string | null;
}

interface Counted {
  at: number;
  week: string;
  processor: string;
}

export class AlertSimulation {
  private readonly state = new Map<string, DeliveredState>();
  private readonly pages: Counted[] = [];
  private readonly mentions: Counted[] = [];
  private readonly messages: { at: number; week: string }[] = [];
  private readonly flaps: Counted[] = [];
  /** Per processor: how many of its issues are notified (open), and since when one has been. */
  private readonly openIssues = new Map<string, number>();
  private readonly alertOpenedAt = new Map<string, number>();
  private readonly problems = new Map<string, ProblemDate>();
  private checks = 0;
  private eventCount = 0;
  /** The first check's instant: a date due before it was due before the replay began. */
  private startedAt: number | null = null;

  private readonly routing: ReturnType<typeof routeDestinations>;

  constructor(
    private readonly options: { dataset: string; renotifyHours: number; timezone: string; registry: Pick<Registry, 'processors' | 'routes'> },
  ) {
    this.routing = routeDestinations(options.registry);
  }

  /** One check at `at`: plan, deliver everything due, record state, count. */
  step(at: Date, result: CheckResult, silences: readonly ActiveSilence[]): void {
    this.checks++;
    const t = at.getTime();
    this.startedAt ??= t;
    const week = weekOf(t, this.options.timezone);
    const issues = collectIssues(result, this.options.dataset);
    const checked = new Set(result.report.processors.map((p) => p.name));
    const state = [...this.state.values()];
    const plan = planDeliveries({ issues, state, silences, configured: this.routing, checked, renotifyHours: this.options.renotifyHours, now: at });

    const slackItems = plan.due.filter((i) => i.destination === 'slack');
    const delivered: DueItem[] = [...plan.due];
    if (slackItems.length > 0) {
      // One message per route (the plan holds Slack items only for routes that name Slack); the
      // WARNING summary rides on the default route's, or goes alone when that route has none.
      const routes = new Set(slackItems.map((i) => this.routing.routeOf(i.processor)));
      const { messages } = slackMessageCount(routes, slackNews(slackItems), result.report.alerts.some((a) => a.level === 'WARNING'), this.routing.hasSlack(DEFAULT_ROUTE));
      for (let n = 0; n < messages; n++) this.messages.push({ at: t, week });
      const shown = new Set(slackItems.filter((i) => i.action === 'trigger').map((i) => i.processor));
      delivered.push(...slackCompanions(issues, shown, plan.due, state));
      for (const processor of new Set(slackItems.map((i) => i.processor))) this.mentions.push({ at: t, week, processor });
    }
    const resolvedNow = new Set<string>();
    for (const item of delivered) {
      const key = `${item.key}|${item.destination}`;
      if (item.destination === 'pagerduty' && item.action === 'trigger' && item.reason === 'new') this.pages.push({ at: t, week, processor: item.processor });
      if (item.action === 'resolve') resolvedNow.add(item.processor);
      const wasOpen = this.state.get(key)?.event === 'notified';
      const isOpen = item.action !== 'resolve';
      if (wasOpen !== isOpen) this.openIssues.set(item.processor, (this.openIssues.get(item.processor) ?? 0) + (isOpen ? 1 : -1));
      this.state.set(key, {
        alert_key: item.key,
        destination: item.destination,
        processor_name: item.processor,
        issue_kind: item.kind,
        level: item.level,
        event: item.action === 'resolve' ? 'resolved' : 'notified',
        event_id: `e${++this.eventCount}`,
        event_at: at,
      });
    }
    const levels = new Map(result.report.processors.map((p) => [p.name, p.level]));
    for (const processor of new Set(delivered.map((i) => i.processor))) {
      const open = (this.openIssues.get(processor) ?? 0) > 0;
      const since = this.alertOpenedAt.get(processor);
      if (open && since === undefined) this.alertOpenedAt.set(processor, t);
      if (!open && since !== undefined) {
        this.alertOpenedAt.delete(processor);
        // Resolved and OK: a kind that resolved while its successor is held (silenced, explained
        // by an upstream) leaves no issue open, but the processor never stopped being wrong.
        if (resolvedNow.has(processor) && levels.get(processor) === 'OK' && t - since <= FLAP_MS) this.flaps.push({ at: t, week, processor });
      }
    }
    const told = new Set(delivered.filter((i) => i.action === 'trigger').map((i) => i.processor));
    this.trackProblemDates(t, week, result, told);
  }

  /** `told`: the processors an alert sent at this check was about (it lists their problem dates). */
  private trackProblemDates(t: number, week: string, result: CheckResult, told: ReadonlySet<string>): void {
    const rootsOf = new Map<string, string[]>();
    for (const [root, detail] of Object.entries(result.details)) {
      for (const downstream of detail.also_affected) rootsOf.set(downstream, [...(rootsOf.get(downstream) ?? []), root]);
    }
    for (const p of result.report.processors) {
      const detail = result.details[p.name];
      if (!detail) continue;
      const covered = told.has(p.name) || (detail.held === 'dependency' && (rootsOf.get(p.name) ?? []).some((root) => told.has(root)));
      for (const day of detail.days) {
        if (!day.is_problem_date) continue;
        const id = `${p.name}|${day.date}`;
        let problem = this.problems.get(id);
        if (!problem) {
          problem = { processor: p.name, date: day.date, week, alertedWeek: null, dueAt: day.due_at === null ? null : Date.parse(day.due_at), alertedAt: null };
          this.problems.set(id, problem);
        }
        if (covered && problem.alertedAt === null) {
          problem.alertedAt = t;
          problem.alertedWeek = week;
        }
      }
    }
  }

  figures(): BacktestFigures {
    const problems = [...this.problems.values()];
    const latencyOf = (p: ProblemDate) => (p.alertedAt === null ? null : Math.max(0, Math.round((p.alertedAt - (p.dueAt ?? p.alertedAt)) / 60_000)));
    // A date that was due before the first check was alerted (if at all) before the replay began,
    // which starts with no alert state: its first alert in the replay says when the replay began,
    // not how fast the registry alerts, so it has no latency (it is still a problem date).
    const dueInReplay = (p: ProblemDate) => p.dueAt === null || this.startedAt === null || p.dueAt >= this.startedAt;
    const figuresOf = (filter: { week?: string; processor?: string }): Figures => {
      const inWeek = (week: string | null) => filter.week === undefined || week === filter.week;
      const forProcessor = (name: string) => filter.processor === undefined || filter.processor === name;
      const dates = problems.filter((p) => forProcessor(p.processor));
      const alerted = dates.filter((p) => p.alertedAt !== null && dueInReplay(p) && inWeek(p.alertedWeek));
      return {
        pages: this.pages.filter((e) => inWeek(e.week) && forProcessor(e.processor)).length,
        slack_messages:
          filter.processor === undefined ? this.messages.filter((m) => inWeek(m.week)).length : this.mentions.filter((e) => inWeek(e.week) && forProcessor(e.processor)).length,
        problem_dates: dates.filter((p) => filter.week === undefined || p.week === filter.week).length,
        never_alerted_dates: dates.filter((p) => p.alertedAt === null && (filter.week === undefined || p.week === filter.week)).length,
        flaps: this.flaps.filter((e) => inWeek(e.week) && forProcessor(e.processor)).length,
        latency: percentiles(alerted.map((p) => latencyOf(p)!)),
      };
    };
    const weeks = [...new Set([...problems.map((p) => p.week), ...this.messages.map((m) => m.week), ...this.pages.map((e) => e.week)])].sort();
    const names = [...new Set([...problems.map((p) => p.processor), ...this.mentions.map((e) => e.processor), ...this.pages.map((e) => e.processor)])].sort();
    return {
      checks: this.checks,
      totals: figuresOf({}),
      weeks: weeks.map((week) => ({ week, ...figuresOf({ week }) })),
      processors: names.map((processor) => ({ processor, ...figuresOf({ processor }) })),
      never_alerted: problems
        .filter((p) => p.alertedAt === null)
        .map((p) => ({ processor: p.processor, date: p.date }))
        .sort((a, b) => (a.processor === b.processor ? a.date.localeCompare(b.date) : a.processor.localeCompare(b.processor))),
    };
  }
}

/** Nearest-rank percentiles of minutes (null without data). */
export function percentiles(minutes: readonly number[]): Latency {
  const sorted = [...minutes].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { alerted_dates: sorted.length, p50_minutes: rank(50), p95_minutes: rank(95), max_minutes: sorted.length === 0 ? null : sorted[sorted.length - 1]! };
}
