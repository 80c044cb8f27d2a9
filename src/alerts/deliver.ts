/**
 * Alert fan-out for `pem check` (SPEC §5): routes the alerts the check computed to Slack,
 * PagerDuty and the console, with state, dedup, reminders, recoveries and silences.
 *
 *   plan     what is due: new issues, reminders after `renotify_hours`, recoveries (plan.ts)
 *   claim    take the due notifications in the warehouse so an overlapping run does not send them too
 *   release  let go of the warehouse (a DuckDB file's lock) while talking to the destinations
 *   send     each destination on its own; one failing never stops the others (fan-out records
 *            each destination's error instead of throwing)
 *   record   append what was delivered; give back (release) what was not, so the next run retries it
 *
 * Routes (SPEC §11): each processor's alerts go to its route's Slack webhook and PagerDuty routing
 * key, read from the variables the registry names. Slack gets one message per route per run; the
 * WARNING summary rides on the `default` route's message, or goes alone to that route when only
 * other routes had a message (`sendWarningAlone`). Alert state is keyed by issue and
 * destination, never by route, so a processor that changes route is neither re-notified nor lost.
 *
 * `sent` in the JSON document: an alert is marked sent when this run delivered it to at least one
 * destination and every configured destination of its routing has it (delivered now, or already
 * notified and not yet due for a reminder). A destination whose variable is not set is skipped
 * with a console note and does not count; an alert whose routing has no configured destination
 * stays `sent: false`. The INFO note is sent when printed to the console. Nothing is sent in
 * `--dry-run`, and then every alert stays `sent: false`. Every unsent alert says why in `reason`
 * (SPEC §11): dry_run, no_destination, silenced, failed, already_open.
 */
import { randomUUID } from 'node:crypto';
import { destinationSecrets, routeDestinationsFrom, type RouteDestinationSettings, type Settings } from '../config/env.js';
import { ALERT_STATE_ADDED_COLUMNS, alertSilencesTable, alertStateTable } from '../config/names.js';
import { DEFAULT_ROUTE, type Registry } from '../config/registry.js';
import type { HoldReason } from '../check/noise.js';
import { byUrgency, type AlertReason, type AlertReport, type CheckReport, type CheckResult } from '../check/report.js';
import { checkCommandLine, processorActions, type CheckCommandContext, type ProcessorActions } from './actions.js';
import { localTime } from '../local-time.js';
import { PemError, describeError, runtimeError } from '../errors.js';
import type { Logger } from '../log.js';
import { MISSING_TABLE, type Warehouse } from '../warehouse/types.js';
import { buildConsoleMessage, createConsoleTransport } from './console.js';
import { collectIssues, type Issue, type IssueKind, type StateDestination } from './issues.js';
import { buildPagerDutyResolve, buildPagerDutyTrigger, type PagerDutyEvent } from './pagerduty-event.js';
import { lastEndingSilences, planDeliveries, routeOfProcessor, slackCompanions, slackMessageCount, slackNews, type ActiveSilence, type DeliveredState, type DeliveryPlan, type DueItem } from './plan.js';
import { retryPolicyWith, type RetryPolicy } from './retry.js';
import { listSilences } from './silences.js';
import { buildSlackMessage, type SlackMessage, type SlackMessageInput, type SlackRecovery, type SlackTrigger } from './slack-message.js';
import { alertStateTableOf, claimDue, readDeliveredState, recordOutcome, type AlertStateTable, type ClaimOutcome, type StateEvent } from './state.js';
import { TransportError, redact, type Transport } from './transport.js';

/** One route's destinations; null where its variable is unset. */
export interface RouteTransports {
  slack: Transport<SlackMessage> | null;
  pagerduty: Transport<PagerDutyEvent> | null;
  /** The variables they were read from, for the "is not set" notes (null: the route names none). */
  slackVariable: string | null;
  pagerDutyVariable: string | null;
}

export interface Transports {
  /** Every route of the registry by name, `default` included. */
  routes: Record<string, RouteTransports>;
  console: Transport<string>;
}

export interface DeliverOptions {
  registry: Registry;
  warehouse: Warehouse;
  /** The destinations, the retry knobs and the environment the routes' variables are read from (`readSettings()`). */
  settings: Pick<Settings, 'destinations' | 'alertRetry' | 'environment'>;
  log: Logger;
  dryRun: boolean;
  /** Library use and tests: replaces the transports built from the environment. */
  transports?: Transports;
  policy?: RetryPolicy;
  runId?: string;
  /** The flags of this check, for the `pem check` line of each alert (default: its date and window only). */
  checkCommand?: CheckCommandContext;
  /**
   * Aborted when the run must end (SIGTERM, `cli/stop.ts`): nothing more is sent, a send in flight
   * is no longer waited for and counts as not delivered, and the outcome is recorded as usual, so
   * what was not delivered is given back for the next run instead of held for the claim's lease.
   */
  stop?: AbortSignal;
}

export interface DeliveryResult {
  /** The check result with `sent` set on what this run delivered. */
  result: CheckResult;
  /** One error naming every destination that failed (exit 1); null when everything went out. */
  error: PemError | null;
}

interface DestinationOutcome {
  delivered: DueItem[];
  failed: DueItem[];
  error: string | null;
}


/** The destinations alert state is kept for (SPEC §5). */
const DESTINATIONS: readonly { name: StateDestination; label: string }[] = [
  { name: 'slack', label: 'Slack' },
  { name: 'pagerduty', label: 'PagerDuty' },
];

/** Which route's destinations a processor's alerts use. */
interface Routing {
  routeOf(processor: string): string;
  has(destination: StateDestination, processor: string): boolean;
  hasRoute(route: string, destination: StateDestination): boolean;
  /** Some route has some destination. */
  any: boolean;
}

function routingOf(registry: Registry, transports: Transports): Routing {
  const routeOf = routeOfProcessor(registry);
  return {
    routeOf,
    has: (destination, processor) => Boolean(transports.routes[routeOf(processor)]?.[destination]),
    hasRoute: (route, destination) => Boolean(transports.routes[route]?.[destination]),
    any: Object.values(transports.routes).some((r) => r.slack || r.pagerduty),
  };
}

/** How a route is named in notes and errors: plain for `default`, so one-route setups read as before. */
const routeLabel = (destination: string, route: string) => (route === DEFAULT_ROUTE ? destination : `${destination} route ${route}`);

/**
 * What is due, read once per run: the delivered state and the active silences from the warehouse,
 * then the plan. Throws when the state cannot be read. `table`: the state table as this run
 * writes it (with the window lengths when it has their columns).
 */
async function loadPlan(
  options: DeliverOptions,
  report: Pick<CheckReport, 'window_end' | 'lookback_days'>,
  issues: Issue[],
  checked: ReadonlySet<string>,
  configured: Routing,
  now: Date,
): Promise<{ plan: DeliveryPlan; state: DeliveredState[]; table: AlertStateTable }> {
  const { warehouse, registry } = options;
  const say = options.dryRun ? 'dry run' : 'alerts';
  const { table, note } = await stateTableOf(options, say);
  const silences: ActiveSilence[] = await listSilences(warehouse, alertSilencesTable(registry), now, { activeOnly: true });
  const state = await readDeliveredState(warehouse, table, [...checked]);
  if (note !== null) options.log.warn(note);
  const window = { end: report.window_end, timezone: registry.timezone, lookbackDays: report.lookback_days };
  const plan = planDeliveries({ issues, state, silences, configured, checked, renotifyHours: registry.renotify_hours, now, window });
  if (plan.heldResolves > 0) {
    const one = plan.heldResolves === 1;
    options.log.info(
      `${say}: ${plan.heldResolves} open issue${one ? '' : 's'} not declared recovered: this check's window ends ${report.window_end}, more than a day before ` +
        `${one ? 'it was' : 'they were'} last notified, so it does not see the dates ${one ? 'it was' : 'they were'} raised for; a check of today resolves what has cleared`,
    );
  }
  if (plan.heldForWindow.issues > 0) {
    const one = plan.heldForWindow.issues === 1;
    const theirs = plan.heldForWindow.lookbackDays.map((days) => `${days}-day`).join(' or ');
    options.log.info(
      `${say}: ${plan.heldForWindow.issues} open issue${one ? '' : 's'} not declared recovered: a ${theirs} check raised or last notified ${one ? 'it' : 'them'}, and this one's window ` +
        `(${report.lookback_days} day${report.lookback_days === 1 ? '' : 's'}) holds other dates; the ${theirs} check resolves what has cleared ` +
        `(any check does once ${one ? 'it has' : 'they have'} had no reminder for renotify_hours and a day)`,
    );
  }
  return { plan, state, table };
}

/**
 * The state table as this run reads and writes it: whether it has the window length columns. A
 * table made by an older pem lacks them, and one whose columns cannot be read (a role without
 * `bigquery.tables.get`) is written without them too: either way alerts go out as before, with one
 * warning (`note`, said once the table has been read: a table that is not pem's fails that read,
 * and the warning would only mislead), since the columns only refine which check may resolve an
 * issue.
 */
async function stateTableOf(options: DeliverOptions, say: string): Promise<{ table: AlertStateTable; note: string | null }> {
  const name = alertStateTable(options.registry);
  let table: AlertStateTable | null;
  try {
    table = await alertStateTableOf(options.warehouse, name);
  } catch (error) {
    // The warehouse's message names the table already ("cannot read the schema of …").
    return { table: { name, missing: ALERT_STATE_ADDED_COLUMNS }, note: `${say}: ${describeError(error)}; writing ${name} without the window length columns` };
  }
  // No table at all: reading it fails next, naming `pem schema apply`.
  if (table === null) return { table: { name, missing: ALERT_STATE_ADDED_COLUMNS }, note: null };
  const one = table.missing.length === 1;
  const note =
    table.missing.length === 0
      ? null
      : `${say}: ${name} lacks the window length column${one ? '' : 's'} ${table.missing.join(', ')} (made by an older pem); ` +
        `\`pem schema apply\` or the next Dataform workflow run adds ${one ? 'it' : 'them'}. ` +
        `Until then a check of another --lookback-days can declare this check's open issues recovered`;
  return { table, note };
}

/**
 * Builds each route's transports from its webhook URL and routing key (SPEC §11; the default
 * route reads SLACK_WEBHOOK_URL and PAGERDUTY_ROUTING_KEY) and PAGERDUTY_EVENTS_URL. A
 * destination's client is loaded only when some route configures it: the Slack client (with
 * axios) costs ~0.1 s of start-up that a run without Slack never needs (issue 13).
 */
export async function transportsFor(routes: readonly RouteDestinationSettings[], pagerDutyEventsUrl: string, log: Logger, policy: RetryPolicy): Promise<Transports> {
  const slack = routes.some((r) => r.slackWebhookUrl) ? await import('./slack.js') : null;
  const pagerDuty = routes.some((r) => r.pagerDutyRoutingKey) ? await import('./pagerduty.js') : null;
  return {
    routes: Object.fromEntries(
      routes.map((r) => [
        r.route,
        {
          slack: slack && r.slackWebhookUrl ? slack.createSlackTransport(r.slackWebhookUrl, policy) : null,
          pagerduty: pagerDuty && r.pagerDutyRoutingKey ? pagerDuty.createPagerDutyTransport({ routingKey: r.pagerDutyRoutingKey, url: pagerDutyEventsUrl }, policy) : null,
          slackVariable: r.slackVariable,
          pagerDutyVariable: r.pagerDutyVariable,
        },
      ]),
    ),
    console: createConsoleTransport(log),
  };
}

export async function deliverAlerts(result: CheckResult, options: DeliverOptions): Promise<DeliveryResult> {
  const { registry, warehouse, settings, log } = options;
  const routeSettings = routeDestinationsFrom(settings.environment, registry.routes);
  const secrets = destinationSecrets(settings.environment, registry.routes);
  const policy = options.policy ?? retryPolicyWith(settings.alertRetry);
  const transports = options.transports ?? (await transportsFor(routeSettings, settings.destinations.pagerDutyEventsUrl, log, policy));
  const report = result.report;
  const now = new Date(report.now);
  const routing = routingOf(registry, transports);

  const issues = collectIssues(result, registry.dataset);
  const checked = new Set(report.processors.map((p) => p.name));
  const stateTable = alertStateTable(registry);

  if (options.dryRun) {
    const silenced = await describeDryRun(result, options, routing, issues, checked);
    return { result: sendingNothing(result, silenced), error: null };
  }

  noteUnconfigured(report.alerts, transports, log);

  let consoleSent = false;
  if (report.alerts.some((a) => a.level === 'INFO')) {
    await transports.console.send(buildConsoleMessage(report));
    consoleSent = true;
  }

  const finish = (outcome: Delivered | null, plan: DeliveryPlan | null, errors: string[], held: readonly DueItem[] | null = null) => {
    const marked: CheckResult = {
      ...result,
      report: { ...report, alerts: markSent(report.alerts, { routing, outcome, plan, held, consoleSent, broken: errors.length > 0 && outcome === null }) },
    };
    // Asked to stop (SIGTERM): that is the cause to name first, then what became of the alerts.
    const stopped = options.stop?.aborted ? `${describeError(options.stop.reason)}; alert delivery: ` : null;
    const error = errors.length > 0 ? runtimeError(redact(`${stopped ?? 'alert delivery failed: '}${errors.join('; ')}`, secrets)) : null;
    return { result: marked, error };
  };

  if (!routing.any) return finish(null, null, []);

  // Read what was delivered before, and what is silenced. Without state nothing is sent: sending
  // blind would re-page every open issue on every run.
  let plan: DeliveryPlan;
  let state: DeliveredState[];
  let stateWrites: AlertStateTable;
  try {
    ({ plan, state, table: stateWrites } = await loadPlan(options, report, issues, checked, routing, now));
  } catch (error) {
    const why = describeError(error);
    const fix = MISSING_TABLE.test(why) ? `; \`pem schema apply\` creates ${stateTable} and ${alertSilencesTable(registry)}` : '';
    return finish(null, null, [`alert state unavailable (${why})${fix}; nothing was sent`]);
  }

  // Asked to stop before claiming: claiming only to give it all back would spend the seconds left.
  if (options.stop?.aborted) return finish(null, plan, ['nothing was claimed or sent']);

  const runId = options.runId ?? randomUUID();
  let mine: DueItem[];
  try {
    mine = await claimDue(warehouse, stateWrites, plan.due, runId, now);
  } catch (error) {
    return finish(null, plan, [`cannot claim alerts in ${stateTable} (${describeError(error)}); nothing was sent`]);
  }
  const lost = plan.due.length - mine.length;
  if (lost > 0) log.info(`alerts: ${lost} notification${lost === 1 ? ' is' : 's are'} being sent by another run; not sending ${lost === 1 ? 'it' : 'them'} twice`);

  // Sending may take as long as the destinations' timeouts and retries: hold nothing meanwhile
  // (on DuckDB, the file lock that `pem record` needs); appending the outcome opens it again.
  await warehouse.release();
  const context = contentContext(result, options, routing);
  const [slack, pagerduty] = await Promise.all([
    sendSlack(context, transports, mine.filter((i) => i.destination === 'slack'), plan, state, issues),
    sendPagerDuty(context, transports, mine.filter((i) => i.destination === 'pagerduty')),
  ]);

  // What it held and delivered becomes notified/resolved, what it held and did not deliver is
  // released; both are copied from its claim rows in the warehouse (state.ts, recordOutcome).
  const outcome: ClaimOutcome = {
    claimed: plan.due,
    held: mine,
    delivered: [...slack.outcome.delivered, ...pagerduty.delivered],
    unclaimed: slack.companions,
  };
  const errors = [...slack.errors, ...pagerduty.errors];
  try {
    await recordOutcome(warehouse, stateWrites, outcome, runId, now);
    const givenBack = mine.length - outcome.delivered.length;
    if (options.stop?.aborted && givenBack > 0) {
      errors.push(`${givenBack} notification${givenBack === 1 ? '' : 's'} not delivered ${givenBack === 1 ? 'was' : 'were'} given back: the next run sends ${givenBack === 1 ? 'it' : 'them'}`);
    }
  } catch (error) {
    errors.push(
      outcome.delivered.length > 0
        ? `alerts went out but ${stateTable} could not record them (${describeError(error)}); the next run may send them again`
        : `${stateTable} could not give back what this run claimed and did not send (${describeError(error)}); it is sent once the claims' lease has passed`,
    );
  }

  await warehouse.release();
  logSummary(log, plan, slack.sentByRoute, pagerduty.deliveredByRoute, options.registry.timezone);
  if (slack.warningSent && !slack.sentByRoute.has(DEFAULT_ROUTE)) log.info('slack: sent the WARNING summary alone (the default route had no message of its own)');
  return finish({ slack: slack.outcome, pagerduty, warningSent: slack.warningSent, warningFailed: slack.warningFailed }, plan, errors, mine);
}

/** A note per route and destination the alerts are routed to but whose variable is not set (SPEC §5, §11). */
function noteUnconfigured(alerts: readonly AlertReport[], transports: Transports, log: Logger): void {
  for (const d of DESTINATIONS) {
    const routes = [...new Set(alerts.filter((a) => a.route !== null && a.destinations.includes(d.name)).map((a) => a.route!))].sort();
    for (const route of routes) {
      const t = transports.routes[route];
      if (t?.[d.name]) continue;
      const variable = d.name === 'slack' ? t?.slackVariable : t?.pagerDutyVariable;
      const what = route === DEFAULT_ROUTE ? `${d.label} alerts` : `${d.label} alerts of route ${route}`;
      log.warn(variable ? `${d.name}: ${variable} is not set; ${what} skipped` : `${d.name}: route ${route} names no ${d.label} variable; ${what} skipped`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// What every message and event shows beyond the check itself (SPEC §11).

interface ContentContext {
  result: CheckResult;
  registry: Registry;
  routing: Routing;
  actions: Map<string, ProcessorActions>;
  checkCommand: string;
  /** WARNING summary: processors with issues per route; null without a WARNING alert. */
  warning: { processors: number; byRoute: Record<string, number> } | null;
  stop: AbortSignal | undefined;
}

function contentContext(result: CheckResult, options: DeliverOptions, routing: Routing): ContentContext {
  const { report } = result;
  const command: CheckCommandContext = options.checkCommand ?? { asOfDate: report.as_of_date, lookbackDays: report.lookback_days };
  const configs = new Map(options.registry.processors.map((p) => [p.name, p]));
  const actions = new Map(
    report.processors.filter((p) => p.level !== 'OK').map((p) => [p.name, processorActions(p, configs.get(p.name), command)]),
  );
  let warning: ContentContext['warning'] = null;
  if (report.alerts.some((a) => a.level === 'WARNING')) {
    const byRoute: Record<string, number> = {};
    // As the check counted them for the summary (planAlerts): a held alert (SPEC §12) is not counted.
    const held = new Set(heldAlerts(report.alerts).map((h) => h.processor));
    const troubled = report.processors.filter((p) => p.level !== 'OK' && !held.has(p.name));
    for (const p of troubled) byRoute[p.route] = (byRoute[p.route] ?? 0) + 1;
    warning = { processors: troubled.length, byRoute };
  }
  return { result, registry: options.registry, routing, actions, checkCommand: checkCommandLine(command), warning, stop: options.stop };
}

/** The processors whose alert the check held (SPEC §12), and why. */
function heldAlerts(alerts: readonly AlertReport[]): { processor: string; reason: HoldReason }[] {
  return alerts.flatMap((a) => (a.processor !== null && (a.reason === 'threshold' || a.reason === 'dependency') ? [{ processor: a.processor, reason: a.reason }] : []));
}

/** Items grouped by the route of their processor, routes in name order. */
function byRoute(items: readonly DueItem[], routing: Routing): Map<string, DueItem[]> {
  const groups = new Map<string, DueItem[]>();
  for (const item of items) {
    const route = routing.routeOf(item.processor);
    let list = groups.get(route);
    if (!list) groups.set(route, (list = []));
    list.push(item);
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------
// Slack: one message per route for everything this run holds.

interface SlackDelivery {
  outcome: DestinationOutcome;
  /** The other current issues of the processors a delivered message told about: notified without a claim. */
  companions: StateEvent[];
  errors: string[];
  /** Per route: the items its delivered message carried. */
  sentByRoute: Map<string, DueItem[]>;
  /** The default route's message went out with the WARNING summary. */
  warningSent: boolean;
  /** The default route's message, which carried the WARNING summary, failed. */
  warningFailed: boolean;
}

async function sendSlack(
  context: ContentContext,
  transports: Transports,
  items: DueItem[],
  plan: DeliveryPlan,
  state: readonly DeliveredState[],
  issues: readonly Issue[],
): Promise<SlackDelivery> {
  const delivery: SlackDelivery = {
    outcome: { delivered: [], failed: [], error: null },
    companions: [],
    errors: [],
    sentByRoute: new Map(),
    warningSent: false,
    warningFailed: false,
  };
  const routes = byRoute(items, context.routing);
  for (const [route, routeItems] of routes) {
    const transport = transports.routes[route]?.slack;
    if (!transport) continue;
    const built = buildSlackMessage(slackInput(context, route, routeItems, plan));
    try {
      await sendUnlessStopped(transport, built.message, context.stop);
    } catch (error) {
      delivery.outcome.failed.push(...routeItems);
      delivery.errors.push(`${routeLabel('slack', route)} (${failureText(error)})`);
      if (route === DEFAULT_ROUTE && context.warning) delivery.warningFailed = true;
      continue;
    }
    delivery.outcome.delivered.push(...routeItems);
    delivery.sentByRoute.set(route, routeItems);
    if (route === DEFAULT_ROUTE && context.warning) delivery.warningSent = true;
    // Every processor in the message was told about all of its current problems, so all of them
    // are recorded as notified: their reminders then come together, not one kind at a time.
    const shown = new Set([...built.detailed, ...built.summarized]);
    for (const item of slackCompanions(issues, shown, [...routeItems, ...plan.due], state, context.result.report.lookback_days)) delivery.companions.push({ item, event: 'notified' });
  }
  await sendWarningAlone(context, transports, routes, plan, delivery);
  return delivery;
}

/**
 * The WARNING summary goes to the default route (SPEC §11) on that route's message. When other
 * routes' messages went out and the default route had none of its own (all its processors are
 * fine, silenced or already notified), it goes alone: else a team whose failing processors all
 * route elsewhere never hears that several are down at once. Only when a message with news went
 * out (a new issue or a recovery), so it comes no more often than the news it sums up: a reminder
 * on another route is no news, and its summary went out with the news before it.
 */
async function sendWarningAlone(
  context: ContentContext,
  transports: Transports,
  routes: ReadonlyMap<string, DueItem[]>,
  plan: DeliveryPlan,
  delivery: SlackDelivery,
): Promise<void> {
  const transport = transports.routes[DEFAULT_ROUTE]?.slack;
  if (!context.warning || !transport || routes.has(DEFAULT_ROUTE) || !slackNews([...delivery.sentByRoute.values()].flat())) return;
  const built = buildSlackMessage(slackInput(context, DEFAULT_ROUTE, [], plan));
  try {
    await sendUnlessStopped(transport, built.message, context.stop);
    delivery.warningSent = true;
  } catch (error) {
    delivery.warningFailed = true;
    delivery.errors.push(`${routeLabel('slack', DEFAULT_ROUTE)} (the WARNING summary: ${failureText(error)})`);
  }
}

function slackInput(context: ContentContext, route: string, items: DueItem[], plan: DeliveryPlan): SlackMessageInput {
  const { result, registry, routing } = context;
  const triggers = new Map<string, SlackTrigger>();
  const recoveries = new Map<string, SlackRecovery>();
  for (const item of items) {
    if (item.action === 'trigger') {
      const t = triggers.get(item.processor) ?? { processor: item.processor, kinds: [] };
      t.kinds.push({ kind: item.kind, reason: item.reason });
      triggers.set(item.processor, t);
    } else {
      const r = recoveries.get(item.processor) ?? { processor: item.processor, kinds: [] as IssueKind[] };
      r.kinds.push(item.kind);
      recoveries.set(item.processor, r);
    }
  }
  const scope = new Set(result.report.processors.filter((p) => routing.routeOf(p.name) === route).map((p) => p.name));
  return {
    result,
    dataset: registry.dataset,
    triggers: [...triggers.values()],
    recoveries: [...recoveries.values()],
    alsoOpen: plan.open.slack.filter((name) => scope.has(name) && !triggers.has(name)),
    silenced: plan.silenced.filter((s) => scope.has(s.processor_name)),
    renotifyHours: registry.renotify_hours,
    route,
    scope,
    actions: context.actions,
    timezone: registry.timezone,
    reportUrl: registry.report_url,
    warning: route === DEFAULT_ROUTE ? context.warning : null,
    held: heldAlerts(result.report.alerts)
      .filter((h) => scope.has(h.processor))
      .sort((a, b) => a.processor.localeCompare(b.processor)),
    checkCommand: context.checkCommand,
  };
}

// ---------------------------------------------------------------------------------------
// PagerDuty: one event per issue, one after another per routing key (about 120 events a minute each).

interface PagerDutyDelivery extends DestinationOutcome {
  errors: string[];
  deliveredByRoute: Map<string, DueItem[]>;
}

async function sendPagerDuty(context: ContentContext, transports: Transports, items: DueItem[]): Promise<PagerDutyDelivery> {
  const delivery: PagerDutyDelivery = { delivered: [], failed: [], error: null, errors: [], deliveredByRoute: new Map() };
  const urgency = new Map([...context.result.report.processors].sort(byUrgency).map((p, i) => [p.name, i]));
  for (const [route, routeItems] of byRoute(items, context.routing)) {
    const transport = transports.routes[route]?.pagerduty;
    if (!transport) continue;
    const outcome = await sendEvents(context, transport, routeItems, urgency, route);
    delivery.delivered.push(...outcome.delivered);
    delivery.failed.push(...outcome.failed);
    if (outcome.delivered.length > 0) delivery.deliveredByRoute.set(route, outcome.delivered);
    if (outcome.error) delivery.errors.push(`${routeLabel('pagerduty', route)} (${outcome.error})`);
  }
  return delivery;
}

async function sendEvents(
  context: ContentContext,
  transport: Transport<PagerDutyEvent>,
  items: DueItem[],
  urgency: ReadonlyMap<string, number>,
  route: string,
): Promise<DestinationOutcome> {
  const { result, registry } = context;
  const ordered = [...items].sort(
    (a, b) =>
      Number(a.action === 'resolve') - Number(b.action === 'resolve') ||
      (urgency.get(a.processor) ?? 0) - (urgency.get(b.processor) ?? 0) ||
      a.key.localeCompare(b.key),
  );
  const delivered: DueItem[] = [];
  const failed: DueItem[] = [];
  const errors: string[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const item = ordered[i]!;
    const event =
      item.action === 'resolve'
        ? buildPagerDutyResolve(item.key)
        : buildPagerDutyTrigger(result, item.processor, item.kind, item.key, registry.dataset, {
            actions: context.actions.get(item.processor),
            reportUrl: registry.report_url,
            timezone: registry.timezone,
            route,
          });
    try {
      await sendUnlessStopped(transport, event, context.stop);
      delivered.push(item);
    } catch (error) {
      failed.push(item);
      errors.push(failureText(error));
      // A 400 is this event's problem; anything else (429 or 5xx after retries, timeouts, a
      // revoked key) is the destination's, and hammering it with the rest helps nobody.
      if (!(error instanceof TransportError && error.status === 400)) {
        failed.push(...ordered.slice(i + 1));
        break;
      }
    }
  }
  const error =
    errors.length === 0
      ? null
      : `${failed.length} of ${ordered.length} event${ordered.length === 1 ? '' : 's'} not delivered: ${[...new Set(errors)].join(', ')}`;
  return { delivered, failed, error };
}

/**
 * `transport.send(message)`, unless the run is asked to stop first (`DeliverOptions.stop`): then
 * nothing is sent, or a send in flight is left to finish unheeded, and it counts as not delivered
 * (its destination may still get it; the next run may send it again, which PagerDuty folds into
 * the open incident by its dedup_key).
 */
async function sendUnlessStopped<M>(transport: Transport<M>, message: M, stop: AbortSignal | undefined): Promise<void> {
  if (!stop) return transport.send(message);
  // The error names only that it stopped: the line it ends up in starts with why (`finish`).
  const stopped = () => new TransportError('stopped', { permanent: true });
  if (stop.aborted) throw stopped();
  // The transport stops retrying (and PagerDuty's request ends) on the signal too.
  const sending = Promise.resolve().then(() => transport.send(message, stop));
  sending.catch(() => undefined);
  let onStop = () => undefined as void;
  const whenStopped = new Promise<never>((_, reject) => {
    onStop = () => reject(stopped());
    stop.addEventListener('abort', onStop, { once: true });
  });
  try {
    await Promise.race([sending, whenStopped]);
  } finally {
    stop.removeEventListener('abort', onStop);
  }
}

function failureText(error: unknown): string {
  if (error instanceof TransportError) {
    return error.attempts > 1 ? `${error.message} after ${error.attempts} attempts` : error.message;
  }
  return 'unexpected error';
}

// ---------------------------------------------------------------------------------------

interface Delivered {
  slack: DestinationOutcome;
  pagerduty: DestinationOutcome;
  warningSent: boolean;
  warningFailed: boolean;
}

interface MarkContext {
  routing: Routing;
  /** What the destinations did; null when nothing was attempted. */
  outcome: Delivered | null;
  plan: DeliveryPlan | null;
  /**
   * What this run claimed, once it claimed: what it owed. What another run claimed first is that
   * run's to send (`already_open`, SPEC §11), not a failure of this one. Null before claiming.
   */
  held: readonly DueItem[] | null;
  consoleSent: boolean;
  /** The alert state could not be read or claimed: nothing owed could be sent. */
  broken: boolean;
}

/**
 * The result of a run that sends nothing (`--dry-run`, `pem demo`): every alert is unsent and says
 * why (SPEC §11), `dry_run` unless the check gave a reason of its own (threshold, dependency) or
 * its processor is silenced now (`silenced`, as a real run says: checking a silence with
 * `--dry-run` then shows it working).
 */
export function sendingNothing(result: CheckResult, silenced: ReadonlySet<string> = new Set()): CheckResult {
  return withReasons(result, (alert) => alert.reason ?? (alert.processor !== null && silenced.has(alert.processor) ? 'silenced' : 'dry_run'));
}

/** Every alert with `reason` from `why` when not sent (here: all of them, e.g. a dry run). */
function withReasons(result: CheckResult, why: (alert: AlertReport) => AlertReason): CheckResult {
  return { ...result, report: { ...result.report, alerts: result.report.alerts.map((a) => ({ ...a, sent: false, reason: why(a) })) } };
}

function markSent(alerts: readonly AlertReport[], ctx: MarkContext): AlertReport[] {
  const processorsOf = (items: readonly DueItem[] | undefined) => new Set((items ?? []).filter((i) => i.action === 'trigger').map((i) => i.processor));
  const delivered = {} as Record<StateDestination, Set<string>>;
  const failed = {} as Record<StateDestination, Set<string>>;
  const owed = {} as Record<StateDestination, Set<string>>;
  for (const { name: d } of DESTINATIONS) {
    delivered[d] = processorsOf(ctx.outcome?.[d].delivered);
    failed[d] = processorsOf(ctx.outcome?.[d].failed);
    owed[d] = processorsOf((ctx.held ?? ctx.plan?.due)?.filter((i) => i.destination === d));
    for (const name of delivered[d]) owed[d].delete(name);
  }
  const silenced = new Set((ctx.plan?.silenced ?? []).map((s) => s.processor_name));

  return alerts.map((alert): AlertReport => {
    const mark = (sent: boolean, reason: AlertReason) => ({ ...alert, sent, reason: sent ? null : reason });
    if (alert.level === 'INFO') return mark(ctx.consoleSent, 'no_destination');
    // Held by a threshold or a dependency (SPEC §12): never sent, with the check's reason.
    if (alert.reason) return { ...alert, sent: false };
    if (alert.processor === null) {
      // The WARNING summary rides on the default route's Slack message.
      if (!ctx.routing.hasRoute(DEFAULT_ROUTE, 'slack')) return mark(false, 'no_destination');
      // A failed Slack message of another route also sent no summary (it goes alone only after news went out).
      const slackFailed = ctx.outcome?.warningFailed || (ctx.outcome?.slack.failed.length ?? 0) > 0;
      return mark(Boolean(ctx.outcome?.warningSent), ctx.broken || slackFailed ? 'failed' : 'already_open');
    }
    const name = alert.processor;
    const routes = alert.destinations.filter((d): d is StateDestination => d !== 'console' && ctx.routing.has(d, name));
    if (routes.length === 0) return mark(false, 'no_destination');
    const any = routes.some((d) => delivered[d].has(name));
    const complete = routes.every((d) => delivered[d].has(name) || !owed[d].has(name));
    if (any && complete) return mark(true, 'already_open');
    if (silenced.has(name)) return mark(false, 'silenced');
    if (ctx.broken || routes.some((d) => failed[d].has(name) || (ctx.outcome !== null && owed[d].has(name) && !delivered[d].has(name)))) {
      return mark(false, 'failed');
    }
    return mark(false, 'already_open');
  });
}

/**
 * What went out and what was held back; failures are the run's error line, printed once by the
 * CLI. `timezone`: the registry's, in which a silence's end is said.
 */
function logSummary(log: Logger, plan: DeliveryPlan, slack: ReadonlyMap<string, DueItem[]>, pagerduty: ReadonlyMap<string, DueItem[]>, timezone: string): void {
  for (const [route, items] of slack) {
    const triggers = new Set(items.filter((i) => i.action === 'trigger').map((i) => i.processor)).size;
    const recoveries = new Set(items.filter((i) => i.action === 'resolve').map((i) => i.processor)).size;
    const to = route === DEFAULT_ROUTE ? '' : ` to route ${route}`;
    log.info(`slack: sent 1 message${to} (${triggers} processor${triggers === 1 ? '' : 's'} with issues, ${recoveries} recovered)`);
  }
  for (const [route, items] of pagerduty) {
    const triggers = items.filter((i) => i.action === 'trigger').length;
    const resolves = items.length - triggers;
    const to = route === DEFAULT_ROUTE ? '' : ` to route ${route}`;
    log.info(`pagerduty: sent ${triggers} trigger${triggers === 1 ? '' : 's'}, ${resolves} resolve${resolves === 1 ? '' : 's'}${to}`);
  }
  const open = [...new Set([...plan.open.slack, ...plan.open.pagerduty])];
  if (open.length > 0) log.info(`alerts: ${open.length} processor${open.length === 1 ? '' : 's'} already notified, not re-sent until the reminder is due`);
  for (const s of plan.silenced) log.info(`alerts: ${s.processor_name} silenced until ${localTime(s.silenced_until, timezone, { seconds: true })} (${s.silence_id}); not sent`);
}

/** Says what a dry run would have sent; returns the processors silenced now (none when nothing could be sent). */
async function describeDryRun(result: CheckResult, options: DeliverOptions, routing: Routing, issues: Issue[], checked: ReadonlySet<string>): Promise<Set<string>> {
  const { log } = options;
  // Without any destination there is nothing a dry run could have sent; a silence active at now
  // still shows as one (reason `silenced`), so that a silence can be tried on a laptop or in CI.
  // A monitor with no silences table (never `pem schema apply`'d) has none.
  if (!routing.any) {
    // Only when an alert names a processor the check could send for (not held): else nothing to read.
    const alerting = new Set(result.report.alerts.flatMap((a) => (a.processor !== null && a.reason === null && checked.has(a.processor) ? [a.processor] : [])));
    if (alerting.size === 0) return new Set();
    let active: Awaited<ReturnType<typeof listSilences>> = [];
    try {
      active = await listSilences(options.warehouse, alertSilencesTable(options.registry), new Date(result.report.now), { activeOnly: true });
    } catch (error) {
      if (!MISSING_TABLE.test(describeError(error))) log.warn(`dry run: silences unavailable (${describeError(error)}); showing none`);
    }
    // Each processor once, with the silence that ends last, as planDeliveries holds it back.
    const latest = lastEndingSilences(active.filter((s) => alerting.has(s.processor_name)));
    for (const s of [...latest.values()].sort((a, b) => a.processor_name.localeCompare(b.processor_name))) {
      log.info(`dry run: ${s.processor_name} silenced until ${localTime(s.silenced_until, options.registry.timezone, { seconds: true })} (${s.silence_id})`);
    }
    return new Set(latest.keys());
  }
  const now = new Date(result.report.now);
  let plan: DeliveryPlan | null = null;
  try {
    ({ plan } = await loadPlan(options, result.report, issues, checked, routing, now));
  } catch (error) {
    log.warn(`dry run: alert state unavailable (${describeError(error)}); showing nothing to send`);
  }
  const parts: string[] = [];
  if (plan) {
    const slack = plan.due.filter((i) => i.destination === 'slack');
    if (slack.length > 0) {
      const routes = new Set(byRoute(slack, routing).keys());
      // As sendWarningAlone decides: the summary goes alone when the default route has no message.
      const { messages, warningAlone } = slackMessageCount(routes, slackNews(slack), result.report.alerts.some((a) => a.level === 'WARNING'), routing.hasRoute(DEFAULT_ROUTE, 'slack'));
      const processors = new Set(slack.map((i) => i.processor)).size;
      parts.push(
        `${messages} Slack message${messages === 1 ? '' : 's'} (${processors} processor${processors === 1 ? '' : 's'}${warningAlone ? '; one the WARNING summary alone' : ''})`,
      );
    }
    const pd = plan.due.filter((i) => i.destination === 'pagerduty');
    if (pd.length > 0) {
      const triggers = pd.filter((i) => i.action === 'trigger').length;
      parts.push(`${pd.length} PagerDuty event${pd.length === 1 ? '' : 's'} (${triggers} trigger${triggers === 1 ? '' : 's'}, ${pd.length - triggers} resolve${pd.length - triggers === 1 ? '' : 's'})`);
    }
    for (const s of plan.silenced) log.info(`dry run: ${s.processor_name} silenced until ${localTime(s.silenced_until, options.registry.timezone, { seconds: true })} (${s.silence_id})`);
  }
  log.info(`dry run: would send ${parts.length > 0 ? parts.join(' and ') : 'nothing'}; nothing sent, no alert state written`);
  return new Set((plan?.silenced ?? []).map((s) => s.processor_name));
}
