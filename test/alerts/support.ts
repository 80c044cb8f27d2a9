/**
 * Alert test support: HTTP servers on 127.0.0.1 standing in for Slack and PagerDuty (the real
 * clients talk to them), and the "bad morning" scenario: 3 CRITICAL, 5 ERROR, 12 healthy.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { bundleCli, type ChildCli } from '../support/child-cli.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';
import type { ProcessorDetail } from '../../src/check/report.js';

/** A processor's detail as a check holds it (ProcessorDetail), with what a test changes. */
export function processorDetail(name: string, overrides: Partial<ProcessorDetail> = {}): ProcessorDetail {
  return {
    name,
    staleness_threshold_days: 2,
    slack_channel: '#nba-data-alerts',
    owners: ['data-eng@example.com'],
    enabled: true,
    latest_failure: { date: '2025-10-06', error_type: 'UpstreamTimeout', error_message: 'timed out after 300 s' },
    days: [],
    threshold_problem_dates: null,
    alert_after_dates: null,
    problems_explained: false,
    alert_on_recovered_failures: false,
    held: null,
    also_affected: [],
    ...overrides,
  };
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
}

/** What the server answers: a status (and body, headers), or 'hang' to never answer. */
/** 'hang': no answer; 'accept-then-drop': a 200 status line, then the connection reset mid-body. */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'accept-then-drop';
export type Handler = (request: Recorded, index: number) => Reply;

export interface FakeServer {
  /** Base URL; the secret-looking path is part of what tests check never leaks. */
  url: string;
  requests: Recorded[];
  /** Replaces the answer for the requests that follow. */
  answer(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeServer(path: string, initial: Handler): Promise<FakeServer> {
  let handler = initial;
  const requests: Recorded[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const recorded: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body };
      requests.push(recorded);
      const reply = handler(recorded, requests.length - 1);
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      if (reply === 'accept-then-drop') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('o', () => res.socket?.destroy());
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...(reply.headers ?? {}) });
      res.end(reply.body ?? '');
    });
  });
  const { port, close } = await listenOnLoopback(server, hanging);
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    answer(next) {
      handler = next;
    },
    close,
  };
}

/** Listens on 127.0.0.1 (any free port); `close` drops the answers held back ('hang') first. */
export async function listenOnLoopback(server: Server, hanging: ServerResponse[]): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const slackOk: Handler = () => ({ status: 200, body: 'ok' });
export const pagerDutyOk: Handler = (request) => ({
  status: 202,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: request.body?.dedup_key }),
});

/** Secret-looking values: tests assert they never appear in any output. */
export const SLACK_PATH = '/services/T0PEMTEST/B0PEMTEST/s3cr3tW3bh00kT0k3nXYZ';
export const ROUTING_KEY = 'R0UT1NGK3Y0000000000000000SECRET';

/**
 * The environment of an alerting `pem check`: destinations on loopback, retries fast. The timeout
 * is generous (a loaded machine must not turn a slow answer into a failure); a test of a
 * destination that never answers sets its own short one (NEVER_ANSWERS).
 */
export function alertEnv(slack: FakeServer | null, pagerduty: FakeServer | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(slack ? { SLACK_WEBHOOK_URL: slack.url } : {}),
    ...(pagerduty ? { PAGERDUTY_EVENTS_URL: pagerduty.url, PAGERDUTY_ROUTING_KEY: ROUTING_KEY } : {}),
    PEM_ALERT_RETRIES: '2',
    PEM_ALERT_BACKOFF_MS: '1',
    PEM_ALERT_TIMEOUT_MS: '10000',
    PEM_ALERT_MAX_RETRY_AFTER_MS: '50',
    // The monitor's own run rows are another feature; keep these tests about alerts.
    PEM_RECORD_SELF: 'off',
    ...extra,
  };
}

/** For a destination that never answers ('hang'): a short timeout, so the test need not wait long. */
export const NEVER_ANSWERS = { PEM_ALERT_TIMEOUT_MS: '400' };

// ---------------------------------------------------------------------------------------
// Rows.

export const AS_OF = '2025-10-07';
export const NOW = '2025-10-08T12:00:00Z';
export const CHECK_ARGS = ['--json-output', '--date', AS_OF];

let runCounter = 0;

/** A run for `date` that ended as `status`, started at 06:00 UTC the next day. */
export function run(processor: string, date: string, status: string, errors: { error_type: string; error_message: string }[] | null = null): RowSpec[] {
  const id = `${processor}-${date}-${++runCounter}`;
  const start = DateTime.fromISO(`${date}T06:00:00Z`, { zone: 'UTC' }).plus({ days: 1 });
  const startIso = start.toISO()!;
  const rows: RowSpec[] = [{ run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startIso }];
  if (status !== 'running') {
    rows.push({
      run_id: id,
      processor_name: processor,
      processing_date: date,
      status,
      started_at: startIso,
      completed_at: start.plus({ minutes: 12 }).toISO()!,
      records_processed: status === 'success' ? 1200 : 0,
      errors,
    });
  }
  return rows;
}

export function dates(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = DateTime.fromISO(from, { zone: 'UTC' }); d <= DateTime.fromISO(to, { zone: 'UTC' }); d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
}

export function successes(processor: string, from: string, to: string): RowSpec[] {
  return dates(from, to).flatMap((d) => run(processor, d, 'success'));
}

const HEALTHY = [
  'advanced_stats_processor',
  'boxscore_processor',
  'injury_report_processor',
  'lineups_processor',
  'odds_api_processor',
  'play_by_play_processor',
  'player_props_processor',
  'referee_assignments_processor',
  'roster_processor',
  'schedule_processor',
  'shot_chart_processor',
  'team_stats_processor',
];

/** 3 CRITICAL, 5 ERROR and 12 healthy processors on the morning of 2025-10-08. */
export function badMorning(): { registry: Record<string, unknown>; rows: RowSpec[] } {
  const processors: Record<string, Record<string, unknown>> = {
    gamebook_processor: {
      display_name: 'Gamebook registry processor',
      staleness_threshold_days: 2,
      priority: 'high',
      revenue_impact: true,
      slack_channel: '#nba-data-alerts',
      owners: ['gamebook-team@example.com'],
      runbook_url: 'https://runbooks.example.com/pem/{processor}?date={date}',
      backfill_command: 'gcloud run jobs execute {processor} --region=us-west2 --args=--date={date}',
    },
    nbac_player_list_processor: {
      display_name: 'NBA.com player list',
      staleness_threshold_days: 3,
      priority: 'high',
      owners: ['rosters@example.com'],
    },
    bettingpros_props_processor: {
      display_name: 'BettingPros player props',
      staleness_threshold_days: 2,
      priority: 'medium',
      revenue_impact: true,
      slack_channel: '#props-alerts',
    },
    espn_scoreboard_processor: { display_name: 'ESPN scoreboard', priority: 'medium', staleness_threshold_days: 3 },
    bdl_boxscores_processor: { display_name: 'Ball Don\'t Lie box scores', priority: 'high', staleness_threshold_days: 3, owners: 'stats-team@example.com' },
    odds_game_lines_processor: { display_name: 'Odds API game lines', priority: 'high', revenue_impact: true, max_runtime_minutes: 120 },
    br_roster_processor: { display_name: 'Basketball Reference rosters', priority: 'low', staleness_threshold_days: 5 },
    nbac_injury_report_processor: { display_name: 'NBA.com injury report', alert_on_recovered_failures: true },
  };
  for (const name of HEALTHY) processors[name] = { priority: 'medium' };

  const rows: RowSpec[] = [];
  for (const name of HEALTHY) rows.push(...successes(name, '2025-09-25', AS_OF));
  // CRITICAL: stale for 5 days, failing every day since with the same upstream timeout.
  rows.push(...successes('gamebook_processor', '2025-09-25', '2025-10-02'));
  for (const d of dates('2025-10-03', AS_OF)) {
    rows.push(...run('gamebook_processor', d, 'failed', [
      { error_type: 'UpstreamTimeout', error_message: 'GET https://nba.example.com/gamebook/<game_id>.pdf timed out after 300 s (attempt 3 of 3)' },
    ]));
  }
  // CRITICAL: scheduler issue, not one row in the window (last success long before).
  rows.push(...successes('nbac_player_list_processor', '2025-09-20', '2025-09-28'));
  // CRITICAL: stale, the last four days never ran.
  rows.push(...successes('bettingpros_props_processor', '2025-09-25', '2025-10-03'));
  // ERROR: one failed day.
  rows.push(...successes('espn_scoreboard_processor', '2025-09-25', AS_OF).filter((r) => r.processing_date !== '2025-10-06'));
  rows.push(...run('espn_scoreboard_processor', '2025-10-06', 'failed', [{ error_type: 'KeyError', error_message: "'competitions' missing from scoreboard payload" }]));
  // ERROR: one missing day.
  rows.push(...successes('bdl_boxscores_processor', '2025-09-25', AS_OF).filter((r) => r.processing_date !== '2025-10-05'));
  // ERROR: hung since 06:00 (max 120 minutes).
  rows.push(...successes('odds_game_lines_processor', '2025-09-25', '2025-10-06'));
  rows.push(...run('odds_game_lines_processor', AS_OF, 'running'));
  // ERROR: two failed days.
  rows.push(...successes('br_roster_processor', '2025-09-25', AS_OF).filter((r) => !['2025-10-04', '2025-10-05'].includes(r.processing_date)));
  for (const d of ['2025-10-04', '2025-10-05']) {
    rows.push(...run('br_roster_processor', d, 'failed', [{ error_type: 'HTTPError', error_message: '429 Too Many Requests from basketball-reference.com' }]));
  }
  // ERROR: a failure recovered on retry, and the registry asks to hear about those.
  rows.push(...successes('nbac_injury_report_processor', '2025-09-25', AS_OF));
  rows.push(...run('nbac_injury_report_processor', '2025-10-06', 'failed', [{ error_type: 'ParseError', error_message: 'PDF table header not found' }]));

  return { registry: { dataset: 'nba_reference', timezone: 'UTC', report_url: 'https://storage.cloud.google.com/pem-reports/health.html', processors }, rows };
}

export interface BadMorningRig {
  scenario: Scenario;
  slack: FakeServer;
  pagerduty: FakeServer;
  close(): Promise<void>;
}

/** The bad morning in a new database, with Slack and PagerDuty receivers that accept everything. */
export async function badMorningWithReceivers(): Promise<BadMorningRig> {
  const { registry, rows } = badMorning();
  const scenario = await createScenario(registry, rows);
  const slack = await startFakeServer(SLACK_PATH, slackOk);
  const pagerduty = await startFakeServer('/v2/enqueue', pagerDutyOk);
  return {
    scenario,
    slack,
    pagerduty,
    async close() {
      await slack.close();
      await pagerduty.close();
      scenario.cleanup();
    },
  };
}

/**
 * The hooks of a file of child-process tests on the bad morning: one `pem` bundled for the file,
 * and a new rig (database and receivers) for each test, handed to the file's own variables.
 */
export function childCliOnBadMornings(use: { cli(cli: ChildCli): void; rig(rig: BadMorningRig): void }): void {
  let cli: ChildCli | undefined;
  let rig: BadMorningRig | undefined;
  beforeAll(async () => {
    use.cli((cli = await bundleCli()));
  }, 60_000);
  afterAll(() => cli?.cleanup());
  beforeEach(async () => {
    use.rig((rig = await badMorningWithReceivers()));
  });
  afterEach(() => rig?.close());
}
