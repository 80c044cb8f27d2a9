/**
 * Benchmark 4: building the Slack message and the PagerDuty events of a run in which
 * `failing` processors are broken (each stale, with failed and missing dates: CRITICAL), using
 * the product's own builders (src/alerts). The check result is built from detection rows with
 * `buildCheckResult`, as `pem check` builds it; no network, nothing sent.
 */
import { addDays } from '../src/calendar.js';
import { buildCheckResult, type CheckResult } from '../src/check/report.js';
import { collectIssues, issueKinds } from '../src/alerts/issues.js';
import { buildPagerDutyTrigger } from '../src/alerts/pagerduty-event.js';
import { buildSlackMessage, messageTextLength, MAX_BLOCKS, type SlackTrigger } from '../src/alerts/slack-message.js';
import type { Row } from '../src/warehouse/types.js';
import { BENCH_END_DATE, BENCH_NOW, processorName } from './dataset.js';
import { syntheticRegistry } from './dataset.js';
import { median, measureSync, type Timing } from './stats.js';
import { deliverAlerts, type Transports } from '../src/alerts/deliver.js';
import { appendEvents, type StateEvent } from '../src/alerts/state.js';
import { alertStateTable } from '../src/config/names.js';
import { DEFAULT_ROUTE, DEFAULT_ROUTE_CONFIG } from '../src/config/registry.js';
import { createLogger } from '../src/log.js';
import { renderSchemaSql } from '../src/sql/statements.js';
import { openDuckDb } from '../src/warehouse/duckdb.js';

/** Slack has rejected block messages near 13,000 characters (SPEC §5, slackapi/bolt-js#2509). */
const SLACK_TEXT_LIMIT = 13_000;

export interface AlertsOptions {
  failing: number;
  warmups: number;
  runs: number;
}

export interface AlertsResult {
  failing: number;
  slack: Timing & { blocks: number; textChars: number; detailed: number; summarized: number; withinLimits: boolean };
  pagerDuty: Timing & { events: number; jsonBytes: number };
}

const LOOKBACK = 7;

/** The rows the detection query returns for `count` broken processors over a 7-day window. */
export function failingRows(count: number): Row[] {
  const windowStart = addDays(BENCH_END_DATE, 1 - LOOKBACK);
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const lastSuccess = addDays(windowStart, i % 3);
    for (let d = 0; d < LOOKBACK; d++) {
      const date = addDays(windowStart, d);
      const status = date <= lastSuccess ? 'success' : d % 2 === 0 ? 'failed' : 'missing';
      rows.push({
        processor_name: processorName(i),
        display_name: `Synthetic processor ${i}`,
        priority: ['low', 'medium', 'high'][i % 3] ?? 'medium',
        revenue_impact: i % 7 === 0,
        processing_date: date,
        day_status: status,
        runs: status === 'missing' ? 0 : 1,
        failed_runs: status === 'failed' ? 1 : 0,
        is_recovered_failure: false,
        is_expected: true,
        is_due: true,
        first_started_at: status === 'missing' ? null : `${addDays(date, 1)}T10:00:00.000Z`,
        last_completed_at: status === 'missing' ? null : `${addDays(date, 1)}T10:10:00.000Z`,
        last_error_type: status === 'failed' ? 'UpstreamTimeout' : null,
        last_error_message: status === 'failed' ? `source feed for ${date} timed out after 300 s (attempt ${1 + (i % 3)}); <retry> & check the feed` : null,
        last_success_date: lastSuccess,
        days_since_success: Math.round((Date.parse(BENCH_END_DATE) - Date.parse(lastSuccess)) / 86_400_000),
        staleness_threshold_days: 2,
        is_stale: true,
        scheduler_issue: false,
        processor_level: 'CRITICAL',
      });
    }
  }
  return rows;
}

export function failingResult(count: number): CheckResult {
  const registry = syntheticRegistry(count);
  return buildCheckResult(failingRows(count), registry, {
    endDate: BENCH_END_DATE,
    windowStart: addDays(BENCH_END_DATE, 1 - LOOKBACK),
    lookbackDays: LOOKBACK,
    now: BENCH_NOW,
  });
}

export function benchAlerts(options: AlertsOptions): AlertsResult {
  const dataset = 'bench';
  const result = failingResult(options.failing);
  const triggers: SlackTrigger[] = result.report.processors
    .filter((p) => p.level !== 'OK')
    .map((p) => ({ processor: p.name, kinds: issueKinds(p).map((kind) => ({ kind, reason: 'new' as const })) }));

  const buildSlack = () => buildSlackMessage({ result, dataset, triggers, recoveries: [], alsoOpen: [], silenced: [], renotifyHours: 24 });
  const built = buildSlack();
  const slackTiming = measureSync(buildSlack, options);
  const textChars = messageTextLength(built.message);

  const buildPagerDuty = () =>
    collectIssues(result, dataset)
      .filter((issue) => issue.destinations.includes('pagerduty'))
      .map((issue) => buildPagerDutyTrigger(result, issue.processor, issue.kind, issue.key, dataset));
  const events = buildPagerDuty();
  const pagerDutyTiming = measureSync(buildPagerDuty, options);

  return {
    failing: options.failing,
    slack: {
      ...slackTiming,
      blocks: built.message.blocks.length,
      textChars,
      detailed: built.detailed.length,
      summarized: built.summarized.length,
      withinLimits: built.message.blocks.length <= MAX_BLOCKS && textChars < SLACK_TEXT_LIMIT,
    },
    pagerDuty: { ...pagerDutyTiming, events: events.length, jsonBytes: events.reduce((n, e) => n + JSON.stringify(e).length, 0) },
  };
}

// ---------------------------------------------------------------------------------------------
// SPEC §14: planning and delivering alerts for 20,000 open issues.

export interface DeliveryBenchOptions {
  /** Open issues wanted; failing processors have 3 issues each (stale, failed, missing). */
  issues: number;
  warmups: number;
  runs: number;
}

export interface DeliveryBenchResult {
  issues: number;
  processors: number;
  /** CPU (user + system, every thread: Node and DuckDB) of one `deliverAlerts` call, ms. */
  cpu: Timing;
  wall: Timing;
  slackMessages: number;
  pagerDutyEvents: number;
  stateEventsRecorded: number;
}

/**
 * The worst hour of a bad day: every issue is open and was notified 25 hours ago (past the 24 h
 * reminder), except the first processor's, which are new; so every issue is due again. The run
 * reads the state of all of them, plans, claims, builds one Slack message holding them all and
 * a PagerDuty event per page, and records every delivery: nothing in it may be quadratic.
 * `deliverAlerts` runs for real against DuckDB (the alert-state table of `pem schema apply`), with
 * the transports a library caller may pass (`DeliverOptions.transports`) recording what they are
 * given instead of posting it: the cost measured is pem's, not the network's.
 */
export async function benchAlertDelivery(options: DeliveryBenchOptions): Promise<DeliveryBenchResult> {
  const processors = Math.ceil(options.issues / 3);
  const result = failingResult(processors);
  const registry = syntheticRegistry(processors);
  const dataset = registry.dataset;
  const issues = collectIssues(result, dataset);
  const now = new Date(result.report.now);
  const cpu: number[] = [];
  const wall: number[] = [];
  let slackMessages = 0;
  let pagerDutyEvents = 0;
  let stateEventsRecorded = 0;
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const warehouse = await openDuckDb({ path: ':memory:', create: true });
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await warehouse.execute(statement);
      // Everything notified 25 hours ago, except the first processor's issues: they are new this run.
      const earlier = new Date(now.getTime() - 25 * 3_600_000);
      const first = issues[0]?.processor;
      const notified: StateEvent[] = issues.filter((issue) => issue.processor !== first).flatMap((issue) =>
        issue.destinations.map((destination) => ({
          item: { key: issue.key, destination, processor: issue.processor, kind: issue.kind, level: issue.level, action: 'trigger' as const, reason: 'new' as const, basis: 'none' },
          event: 'notified' as const,
        })),
      );
      await appendEvents(warehouse, alertStateTable(registry), notified, 'earlier-run', earlier);
      const [before] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${alertStateTable(registry)}`);

      const sent = { slack: 0, pagerduty: 0 };
      const transports: Transports = {
        routes: {
          [DEFAULT_ROUTE]: {
            slack: { destination: 'slack', send: async () => void sent.slack++ },
            pagerduty: { destination: 'pagerduty', send: async () => void sent.pagerduty++ },
            slackVariable: DEFAULT_ROUTE_CONFIG.slack_webhook_env,
            pagerDutyVariable: DEFAULT_ROUTE_CONFIG.pagerduty_routing_key_env,
          },
        },
        console: { destination: 'console', send: async () => undefined },
      };
      const silent = createLogger({ write: () => true }, { json: false });
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await deliverAlerts(result, {
        registry,
        warehouse,
        settings: { destinations: { slackWebhookUrl: null, pagerDutyRoutingKey: null, pagerDutyEventsUrl: '' }, alertRetry: {}, environment: {} },
        log: silent,
        dryRun: false,
        transports,
        runId: `bench-${i}`,
      });
      const elapsed = performance.now() - started;
      const used = process.cpuUsage(cpuBefore);
      const [after] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${alertStateTable(registry)}`);
      if (i < options.warmups) continue;
      cpu.push((used.user + used.system) / 1000);
      wall.push(elapsed);
      slackMessages = sent.slack;
      pagerDutyEvents = sent.pagerduty;
      stateEventsRecorded = Number(after?.n ?? 0) - Number(before?.n ?? 0);
    } finally {
      await warehouse.close();
    }
  }
  return {
    issues: issues.length,
    processors,
    cpu: { median: median(cpu), samples: cpu },
    wall: { median: median(wall), samples: wall },
    slackMessages,
    pagerDutyEvents,
    stateEventsRecorded,
  };
}
