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
 * `sent` in the JSON document: an alert is marked sent when this run delivered it to at least one
 * destination and every configured destination of its routing has it (delivered now, or already
 * notified and not yet due for a reminder). A destination whose variable is not set is skipped
 * with a console note and does not count; an alert whose routing has no configured destination
 * stays `sent: false`. The INFO note is sent when printed to the console. Nothing is sent in
 * `--dry-run`, and then every alert stays `sent: false`.
 */
import { randomUUID } from 'node:crypto';
import { PAGERDUTY_ROUTING_KEY_ENV, SLACK_ENV, httpUrl, type DestinationSettings, type Settings } from '../config/env.js';
import { alertSilencesTable, alertStateTable } from '../config/names.js';
import type { Registry } from '../config/registry.js';
import { byUrgency, type AlertReport, type CheckResult } from '../check/report.js';
import { PemError, describeError, runtimeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/types.js';
import { buildConsoleMessage, createConsoleTransport } from './console.js';
import { collectIssues, type Issue, type IssueKind, type StateDestination } from './issues.js';
import { buildPagerDutyResolve, buildPagerDutyTrigger, type PagerDutyEvent } from './pagerduty-event.js';
import { planDeliveries, type ActiveSilence, type DeliveredState, type DeliveryPlan, type DueItem } from './plan.js';
import { retryPolicyWith, type RetryPolicy } from './retry.js';
import { listSilences } from './silences.js';
import { buildSlackMessage, type SlackMessage, type SlackRecovery, type SlackTrigger } from './slack-message.js';
import { appendEvents, claimDue, readDeliveredState, type StateEvent } from './state.js';
import { TransportError, redact, type Transport } from './transport.js';

export interface Transports {
  slack: Transport<SlackMessage> | null;
  pagerduty: Transport<PagerDutyEvent> | null;
  console: Transport<string>;
}

export interface DeliverOptions {
  registry: Registry;
  warehouse: Warehouse;
  /** The destinations and retry knobs (`readSettings()` in `config/env.ts`). */
  settings: Pick<Settings, 'destinations' | 'alertRetry'>;
  log: Logger;
  dryRun: boolean;
  /** Library use and tests: replaces the transports built from the environment. */
  transports?: Transports;
  policy?: RetryPolicy;
  runId?: string;
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

const NOTHING: DestinationOutcome = { delivered: [], failed: [], error: null };

/** The destinations alert state is kept for, with the variable that configures each (SPEC §5). */
const DESTINATIONS: readonly { name: StateDestination; variable: string; label: string }[] = [
  { name: 'slack', variable: SLACK_ENV, label: 'Slack' },
  { name: 'pagerduty', variable: PAGERDUTY_ROUTING_KEY_ENV, label: 'PagerDuty' },
];

/**
 * What is due, read once per run: the delivered state and the active silences from the warehouse,
 * then the plan. Throws when the state cannot be read.
 */
async function loadPlan(
  options: DeliverOptions,
  issues: Issue[],
  checked: ReadonlySet<string>,
  configured: ReadonlySet<StateDestination>,
  now: Date,
): Promise<{ plan: DeliveryPlan; state: DeliveredState[] }> {
  const { warehouse, registry } = options;
  const silences: ActiveSilence[] = await listSilences(warehouse, alertSilencesTable(registry), now, { activeOnly: true });
  const state = await readDeliveredState(warehouse, alertStateTable(registry), [...checked]);
  return { plan: planDeliveries({ issues, state, silences, configured, checked, renotifyHours: registry.renotify_hours, now }), state };
}

/**
 * Builds the transports from the destination settings (SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY,
 * PAGERDUTY_EVENTS_URL). A destination's client is loaded only when it is configured: the Slack
 * client (with axios) costs ~0.1 s of start-up that a run without Slack never needs (issue 13).
 */
export async function transportsFor(destinations: DestinationSettings, log: Logger, policy: RetryPolicy): Promise<Transports> {
  const { slackWebhookUrl, pagerDutyRoutingKey, pagerDutyEventsUrl } = destinations;
  return {
    slack: slackWebhookUrl ? (await import('./slack.js')).createSlackTransport(slackWebhookUrl, policy) : null,
    pagerduty: pagerDutyRoutingKey
      ? (await import('./pagerduty.js')).createPagerDutyTransport({ routingKey: pagerDutyRoutingKey, url: pagerDutyEventsUrl }, policy)
      : null,
    console: createConsoleTransport(log),
  };
}

/**
 * What must never be printed: the webhook URL, its path (the token part, which an error may quote
 * on its own), and the routing key.
 */
function secretsOf({ slackWebhookUrl, pagerDutyRoutingKey }: DestinationSettings): string[] {
  const slackPath = slackWebhookUrl ? httpUrl(slackWebhookUrl)?.pathname : undefined;
  return [slackWebhookUrl, slackPath && slackPath.length >= 8 ? slackPath : undefined, pagerDutyRoutingKey].filter(
    (value): value is string => Boolean(value),
  );
}

export async function deliverAlerts(result: CheckResult, options: DeliverOptions): Promise<DeliveryResult> {
  const { registry, warehouse, settings, log } = options;
  const secrets = secretsOf(settings.destinations);
  const policy = options.policy ?? retryPolicyWith(settings.alertRetry);
  const transports = options.transports ?? (await transportsFor(settings.destinations, log, policy));
  const report = result.report;
  const now = new Date(report.now);
  const configured = new Set(DESTINATIONS.filter((d) => transports[d.name]).map((d) => d.name));

  const issues = collectIssues(result, registry.dataset);
  const checked = new Set(report.processors.map((p) => p.name));
  const stateTable = alertStateTable(registry);

  if (options.dryRun) {
    await describeDryRun(result, options, configured, issues, checked);
    return { result, error: null };
  }

  const routed = new Set(report.alerts.flatMap((a) => a.destinations));
  for (const d of DESTINATIONS) if (routed.has(d.name) && !transports[d.name]) log.warn(`${d.name}: ${d.variable} is not set; ${d.label} alerts skipped`);

  let consoleSent = false;
  if (report.alerts.some((a) => a.level === 'INFO')) {
    await transports.console.send(buildConsoleMessage(report));
    consoleSent = true;
  }

  const finish = (outcomes: Partial<Record<StateDestination, DestinationOutcome>>, plan: DeliveryPlan | null, slackSent: boolean, errors: string[]) => {
    const marked: CheckResult = {
      ...result,
      report: { ...report, alerts: markSent(report.alerts, { configured, outcomes, plan, slackSent, consoleSent }) },
    };
    const error = errors.length > 0 ? runtimeError(redact(`alert delivery failed: ${errors.join('; ')}`, secrets)) : null;
    return { result: marked, error };
  };

  if (configured.size === 0) return finish({}, null, false, []);

  // Read what was delivered before, and what is silenced. Without state nothing is sent: sending
  // blind would re-page every open issue on every run.
  let plan: DeliveryPlan;
  let state: DeliveredState[];
  try {
    ({ plan, state } = await loadPlan(options, issues, checked, configured, now));
  } catch (error) {
    return finish({}, null, false, [
      `alert state unavailable (${describeError(error)}); \`pem schema apply\` creates ${stateTable} and ${alertSilencesTable(registry)}; nothing was sent`,
    ]);
  }

  const runId = options.runId ?? randomUUID();
  let mine: DueItem[];
  try {
    mine = await claimDue(warehouse, stateTable, plan.due, runId, now);
  } catch (error) {
    return finish({}, plan, false, [`cannot claim alerts in ${stateTable} (${describeError(error)}); nothing was sent`]);
  }
  const lost = plan.due.length - mine.length;
  if (lost > 0) log.info(`alerts: ${lost} notification${lost === 1 ? ' is' : 's are'} being sent by another run; not sending ${lost === 1 ? 'it' : 'them'} twice`);

  // Sending may take as long as the destinations' timeouts and retries: hold nothing meanwhile
  // (on DuckDB, the file lock that `pem record` needs); appending the outcome opens it again.
  await warehouse.release();
  const slackItems = mine.filter((i) => i.destination === 'slack');
  const pagerItems = mine.filter((i) => i.destination === 'pagerduty');
  const [slack, pagerduty] = await Promise.all([
    sendSlack(result, options, transports.slack, slackItems, plan, state, issues),
    sendPagerDuty(result, options, transports.pagerduty, pagerItems),
  ]);

  const events: StateEvent[] = [
    ...slack.events,
    ...pagerduty.delivered.map((item) => ({ item, event: item.action === 'resolve' ? ('resolved' as const) : ('notified' as const) })),
    ...[...slack.outcome.failed, ...pagerduty.failed].map((item) => ({ item, event: 'released' as const })),
  ];
  const errors: string[] = [];
  if (slack.outcome.error) errors.push(`slack (${slack.outcome.error})`);
  if (pagerduty.error) errors.push(`pagerduty (${pagerduty.error})`);
  try {
    await appendEvents(warehouse, stateTable, events, runId, now);
  } catch (error) {
    errors.push(`alerts went out but ${stateTable} could not record them (${describeError(error)}); the next run may send them again`);
  }

  await warehouse.release();
  logSummary(log, plan, slack.outcome, pagerduty);
  return finish({ slack: slack.outcome, pagerduty }, plan, slack.sent, errors);
}

// ---------------------------------------------------------------------------------------
// Slack: one message for everything this run holds.

interface SlackDelivery {
  outcome: DestinationOutcome;
  events: StateEvent[];
  sent: boolean;
}

async function sendSlack(
  result: CheckResult,
  options: DeliverOptions,
  transport: Transport<SlackMessage> | null,
  items: DueItem[],
  plan: DeliveryPlan,
  state: readonly DeliveredState[],
  issues: readonly Issue[],
): Promise<SlackDelivery> {
  if (!transport || items.length === 0) return { outcome: NOTHING, events: [], sent: false };
  const built = buildSlackMessage(slackInput(result, options.registry, items, plan));
  try {
    await transport.send(built.message);
  } catch (error) {
    return { outcome: { delivered: [], failed: items, error: failureText(error) }, events: [], sent: false };
  }
  // Every processor in the message was told about all of its current problems, so all of them
  // are recorded as notified: their reminders then come together, not one kind at a time.
  const shown = new Set([...built.detailed, ...built.summarized]);
  const events: StateEvent[] = items.map((item) => ({ item, event: item.action === 'resolve' ? 'resolved' : 'notified' }));
  const held = new Set(items.map((i) => i.key));
  const due = new Set(plan.due.filter((i) => i.destination === 'slack').map((i) => i.key));
  // Looked up by key, not searched per issue: a linear find per issue was quadratic (3 s at 17,820 issues, issue 13).
  const slackState = new Map<string, DeliveredState>();
  for (const s of state) if (s.destination === 'slack' && !slackState.has(s.alert_key)) slackState.set(s.alert_key, s);
  for (const issue of issues) {
    if (!shown.has(issue.processor) || held.has(issue.key) || due.has(issue.key) || !issue.destinations.includes('slack')) continue;
    events.push({ item: companion(issue, slackState), event: 'notified' });
  }
  return { outcome: { delivered: items, failed: [], error: null }, events, sent: true };
}

/** A current issue shown in the message that was not itself due: recorded with its own basis. */
function companion(issue: Issue, slackState: ReadonlyMap<string, DeliveredState>): DueItem {
  const last = slackState.get(issue.key);
  return {
    key: issue.key,
    destination: 'slack',
    processor: issue.processor,
    kind: issue.kind,
    level: issue.level,
    action: 'trigger',
    reason: 'reminder',
    basis: last?.event_id ?? 'none',
  };
}

function slackInput(result: CheckResult, registry: Registry, items: DueItem[], plan: DeliveryPlan) {
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
  return {
    result,
    dataset: registry.dataset,
    triggers: [...triggers.values()],
    recoveries: [...recoveries.values()],
    alsoOpen: plan.open.slack.filter((name) => !triggers.has(name)),
    silenced: plan.silenced,
    renotifyHours: registry.renotify_hours,
  };
}

// ---------------------------------------------------------------------------------------
// PagerDuty: one event per issue, one after another (about 120 events a minute per routing key).

async function sendPagerDuty(
  result: CheckResult,
  options: DeliverOptions,
  transport: Transport<PagerDutyEvent> | null,
  items: DueItem[],
): Promise<DestinationOutcome> {
  if (!transport || items.length === 0) return NOTHING;
  const urgency = new Map([...result.report.processors].sort(byUrgency).map((p, i) => [p.name, i]));
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
        : buildPagerDutyTrigger(result, item.processor, item.kind, item.key, options.registry.dataset);
    try {
      await transport.send(event);
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

function failureText(error: unknown): string {
  if (error instanceof TransportError) {
    return error.attempts > 1 ? `${error.message} after ${error.attempts} attempts` : error.message;
  }
  return 'unexpected error';
}

// ---------------------------------------------------------------------------------------

interface MarkContext {
  configured: ReadonlySet<StateDestination>;
  outcomes: Partial<Record<StateDestination, DestinationOutcome>>;
  plan: DeliveryPlan | null;
  slackSent: boolean;
  consoleSent: boolean;
}

function markSent(alerts: readonly AlertReport[], ctx: MarkContext): AlertReport[] {
  const triggered = (destination: StateDestination, outcome: 'delivered' | 'failed') =>
    new Set((ctx.outcomes[destination]?.[outcome] ?? []).filter((i) => i.action === 'trigger').map((i) => i.processor));
  const owedTo = (destination: StateDestination) =>
    new Set((ctx.plan?.due ?? []).filter((i) => i.destination === destination && i.action === 'trigger').map((i) => i.processor));
  const delivered = {} as Record<StateDestination, Set<string>>;
  const owed = {} as Record<StateDestination, Set<string>>;
  for (const { name: d } of DESTINATIONS) {
    delivered[d] = triggered(d, 'delivered');
    owed[d] = owedTo(d);
    for (const name of delivered[d]) owed[d].delete(name);
  }

  return alerts.map((alert) => {
    if (alert.level === 'INFO') return { ...alert, sent: ctx.consoleSent };
    if (alert.processor === null) return { ...alert, sent: ctx.slackSent };
    const name = alert.processor;
    const routes = alert.destinations.filter((d): d is StateDestination => d !== 'console' && ctx.configured.has(d));
    const any = routes.some((d) => delivered[d].has(name));
    const complete = routes.every((d) => delivered[d].has(name) || !owed[d].has(name));
    return { ...alert, sent: any && complete };
  });
}

/** What went out and what was held back; failures are the run's error line, printed once by the CLI. */
function logSummary(log: Logger, plan: DeliveryPlan, slack: DestinationOutcome, pagerduty: DestinationOutcome): void {
  if (slack.delivered.length > 0) {
    const triggers = new Set(slack.delivered.filter((i) => i.action === 'trigger').map((i) => i.processor)).size;
    const recoveries = new Set(slack.delivered.filter((i) => i.action === 'resolve').map((i) => i.processor)).size;
    log.info(`slack: sent 1 message (${triggers} processor${triggers === 1 ? '' : 's'} with issues, ${recoveries} recovered)`);
  }
  if (pagerduty.delivered.length > 0) {
    const triggers = pagerduty.delivered.filter((i) => i.action === 'trigger').length;
    log.info(`pagerduty: sent ${triggers} trigger${triggers === 1 ? '' : 's'}, ${pagerduty.delivered.length - triggers} resolve${pagerduty.delivered.length - triggers === 1 ? '' : 's'}`);
  }
  const open = [...new Set([...plan.open.slack, ...plan.open.pagerduty])];
  if (open.length > 0) log.info(`alerts: ${open.length} processor${open.length === 1 ? '' : 's'} already notified, not re-sent until the reminder is due`);
  for (const s of plan.silenced) log.info(`alerts: ${s.processor_name} silenced until ${s.silenced_until} (${s.silence_id}); not sent`);
}

async function describeDryRun(
  result: CheckResult,
  options: DeliverOptions,
  configured: ReadonlySet<StateDestination>,
  issues: Issue[],
  checked: ReadonlySet<string>,
): Promise<void> {
  const { log } = options;
  const now = new Date(result.report.now);
  let plan: DeliveryPlan | null = null;
  if (configured.size > 0) {
    try {
      ({ plan } = await loadPlan(options, issues, checked, configured, now));
    } catch (error) {
      log.warn(`dry run: alert state unavailable (${describeError(error)}); showing nothing to send`);
    }
  }
  const parts: string[] = [];
  if (plan) {
    const slack = plan.due.filter((i) => i.destination === 'slack');
    if (slack.length > 0) parts.push(`1 Slack message (${new Set(slack.map((i) => i.processor)).size} processors)`);
    const pd = plan.due.filter((i) => i.destination === 'pagerduty');
    if (pd.length > 0) {
      const triggers = pd.filter((i) => i.action === 'trigger').length;
      parts.push(`${pd.length} PagerDuty event${pd.length === 1 ? '' : 's'} (${triggers} trigger${triggers === 1 ? '' : 's'}, ${pd.length - triggers} resolve${pd.length - triggers === 1 ? '' : 's'})`);
    }
    for (const s of plan.silenced) log.info(`dry run: ${s.processor_name} silenced until ${s.silenced_until} (${s.silence_id})`);
  }
  // Without any destination there is nothing a dry run could have sent, and nothing to say.
  if (configured.size === 0) return;
  log.info(`dry run: would send ${parts.length > 0 ? parts.join(' and ') : 'nothing'}; nothing sent, no alert state written`);
}
