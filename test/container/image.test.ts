/**
 * The Cloud Run image for real: this checkout's Dockerfile built by a Docker engine (on a Node 20
 * base made from the host's own node: no registry here, see scripts/docker-engine.sh), then run
 * with testcontainers as a Cloud Run job task runs it: the image's entry point with the job's
 * arguments appended, CLOUD_RUN_JOB set, the image's own user. Receivers for Slack and PagerDuty
 * and the BigQuery stand-in listen on the host's 127.0.0.1; the containers share the host's
 * network, so they reach them there and nothing leaves loopback. The run history is a DuckDB
 * file mounted from the host, read back on the host afterwards.
 */
import { chmodSync, readdirSync } from 'node:fs';
import { benchImage } from '../../bench/image.js';
import { formatImage } from '../../bench/run.js';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { alertEnv, AS_OF, badMorningWithReceivers, NOW, ROUTING_KEY, SLACK_PATH, slackOk, type BadMorningRig } from '../alerts/support.js';
import { duckDbScenario, registryOf } from '../bigquery/support/fixtures.js';
import { SCENARIOS } from '../bigquery/support/scenarios.js';
import { zetaBackedStandIn } from '../bigquery/support/zeta-standin.js';
import { runCli } from '../support/cli.js';
import type { Scenario } from '../support/scenario.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { buildProjectImage, jobContainer, provideEngine, removeLeftovers, runToExit, signal, type BuiltImage, type ContainerRun } from './docker.js';

const engine = await provideEngine();
if (engine.skip) process.stderr.write(`skipping the container tests: ${engine.skip}\n`);

const MINUTE = 60_000;
const CLOUD_RUN = { CLOUD_RUN_JOB: 'processor-execution-monitor' };
/** Where a scenario's folder is mounted in the container. */
const DATA = '/data';
const IN_CONTAINER = ['--engine=duckdb', `--database=${DATA}/monitoring.duckdb`, `--config=${DATA}/processors.json`];

/** The container runs as uid 1000 (`node`): it must be able to write the database and its WAL. */
function shareWithContainer(scenario: Scenario): void {
  chmodSync(scenario.dir, 0o777);
  for (const file of readdirSync(scenario.dir)) chmodSync(join(scenario.dir, file), 0o666);
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function stateRows(scenario: Scenario): Promise<{ event: string; destination: string }[]> {
  const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    return (await warehouse.query('SELECT event, destination FROM nba_reference.pem_alert_state ORDER BY recorded_at, alert_key')) as never;
  } finally {
    await warehouse.close();
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(engine.skip !== null)('the pem image, built from the Dockerfile and run as Cloud Run runs it', () => {
  let image: BuiltImage;

  beforeAll(async () => {
    image = await buildProjectImage();
    process.stderr.write(`container tests: ${image.tag} built in ${image.buildSeconds.toFixed(1)} s, ${image.sizeMb.toFixed(0)} MB\n`);
  }, 20 * MINUTE);

  afterAll(async () => {
    await removeLeftovers();
    await engine.release();
  }, 2 * MINUTE);

  it('runs as the unprivileged node user, who cannot change the files of the app', async () => {
    const probe = "const fs = require('node:fs'); let writable = true; try { fs.accessSync('/app/dist', fs.constants.W_OK) } catch { writable = false }" +
      "; console.log(JSON.stringify({ uid: process.getuid(), user: require('node:os').userInfo().username, writable }))";
    const run = await runToExit(jobContainer(image.tag, []).withEntrypoint(['node', '-e', probe]));
    expect(run.code, run.stderr).toBe(0);
    const who = JSON.parse(run.stdout);
    expect(who.user).toBe('node');
    expect(who.uid).not.toBe(0);
    expect(who.writable).toBe(false);
  });

  it('holds the compiled job and its production dependencies, and no sources, tests, benches or caches', async () => {
    const list = "console.log(JSON.stringify({ app: require('node:fs').readdirSync('/app').sort(), typescript: require('node:fs').existsSync('/app/node_modules/typescript') }))";
    const run = await runToExit(jobContainer(image.tag, []).withEntrypoint(['node', '-e', list]));
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      app: ['bin', 'demo', 'dist', 'includes', 'node_modules', 'package-lock.json', 'package.json', 'sql'],
      typescript: false,
    });
  });

  it('is measured by npm run bench: its size, and how long it takes to start', () => {
    const measured = benchImage({ runs: 1 });
    if (measured.skipped !== null) throw new Error(`the bench skipped the image with an engine running: ${measured.skipped}`);
    expect(measured.tag).toBe(image.tag);
    expect(measured.sizeMb).toBeCloseTo(image.sizeMb, 3);
    expect(measured.start.samples).toHaveLength(1);
    const report = formatImage(measured).join('\n');
    process.stderr.write(`container tests: first start ${Math.round(measured.firstStartMs)} ms, then ${Math.round(measured.start.median)} ms\n`);
    expect(report).toMatch(new RegExp(`\\| ${image.tag} \\| +${image.sizeMb.toFixed(0)} \\|`));
  }, 2 * MINUTE);

  describe('with a DuckDB run history mounted', () => {
    // The bad morning (3 CRITICAL, 5 ERROR) in a new database for each test, receivers accepting.
    let rig: BadMorningRig;
    beforeEach(async () => {
      rig = await badMorningWithReceivers();
      shareWithContainer(rig.scenario);
    });
    afterEach(() => rig.close());

    const job = (args: string[], env: Record<string, string>) =>
      jobContainer(image.tag, [...IN_CONTAINER, '--json-output', `--date=${AS_OF}`, `--now=${NOW}`, ...args], { ...CLOUD_RUN, ...env }).withBindMounts([
        { source: rig.scenario.dir, target: DATA, mode: 'rw' },
      ]);

    it('passes the job arguments through to pem check and prints the report pem prints outside the container', async () => {
      const args = ['--lookback-days=14', '--processors=gamebook_processor,espn_scoreboard_processor', '--dry-run'];
      const run = await runToExit(job(args, {}));
      expect(run.code, run.stderr).toBe(0);
      const outside = await rig.scenario.check(['--json-output', `--date=${AS_OF}`, ...args], { now: new Date(NOW) });
      expect(JSON.parse(run.stdout)).toEqual(outside.json);
      expect(outside.json.window_start).toBe('2025-09-24');
      expect(outside.json.processors.map((p: { name: string }) => p.name)).toEqual(['espn_scoreboard_processor', 'gamebook_processor']);
    });

    it('alerts Slack and PagerDuty on the host, exits 0 and marks the alerts sent', async () => {
      const run = await runToExit(job([], alertEnv(rig.slack, rig.pagerduty)));
      expect(run.code, run.stderr).toBe(0);
      expect(rig.slack.requests).toHaveLength(1);
      expect(rig.pagerduty.requests.map((request) => request.body.event_action)).toEqual(['trigger', 'trigger', 'trigger']);
      const report = JSON.parse(run.stdout);
      expect(report.alerts.length).toBeGreaterThan(0);
      expect(report.alerts.every((alert: { sent: boolean }) => alert.sent)).toBe(true);
      const delivered = (await stateRows(rig.scenario)).filter((row) => row.event === 'notified');
      expect(new Set(delivered.map((row) => row.destination))).toEqual(new Set(['slack', 'pagerduty']));
    });

    it('writes its diagnostics as JSON log entries with a severity on stderr, never a secret', async () => {
      const run = await runToExit(job([], alertEnv(rig.slack, null)));
      expect(run.code, run.stderr).toBe(0);
      const entries = jsonLines(run.stderr);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) expect(entry).toEqual(expect.objectContaining({ severity: expect.any(String), message: expect.any(String) }));
      expect(entries).toContainEqual(expect.objectContaining({ severity: 'WARNING', message: 'pagerduty: PAGERDUTY_ROUTING_KEY is not set; PagerDuty alerts skipped' }));
      expect(entries).toContainEqual(expect.objectContaining({ severity: 'INFO', message: expect.stringMatching(/^slack: sent 1 message/) }));
      expect(`${run.stdout}${run.stderr}`).not.toContain(SLACK_PATH);
      expect(`${run.stdout}${run.stderr}`).not.toContain(ROUTING_KEY);
    });

    it('exits 1 when a destination still fails after its retries, in one ERROR entry naming it', async () => {
      rig.pagerduty.answer(() => ({ status: 503 }));
      const run = await runToExit(job([], alertEnv(rig.slack, rig.pagerduty)));
      expect(run.code).toBe(1);
      const errors = jsonLines(run.stderr).filter((entry) => entry.severity === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/^alert delivery failed: pagerduty \(/);
    });

    it('exits 2 on a bad argument, in one ERROR entry naming it and nothing on stdout', async () => {
      const run = await runToExit(job(['--processors=gamebook_processor,nope'], {}));
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const entries = jsonLines(run.stderr);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ severity: 'ERROR', message: expect.stringContaining('nope') });
    });

    it('stops within seconds on SIGTERM while a webhook hangs, with exit 1, giving back what it did not deliver', async () => {
      rig.slack.answer(() => 'hang');
      const timeout = { PEM_ALERT_TIMEOUT_MS: String(5 * MINUTE) };
      let signalledAt = 0;
      const run: ContainerRun = await runToExit(job([], alertEnv(rig.slack, rig.pagerduty, timeout)), async (started) => {
        await waitFor(() => rig.slack.requests.length === 1, 'the Slack webhook to be called');
        signalledAt = performance.now();
        await signal(started, 'SIGTERM');
      });
      expect(run.code).toBe(1);
      // Cloud Run sends SIGKILL 10 s after SIGTERM; the job is gone well before.
      expect((run.exitedAt - signalledAt) / 1000).toBeLessThan(8);
      // The report still comes out, the Slack alerts in it not sent.
      const report = JSON.parse(run.stdout) as { alerts: { processor: string | null; destinations: string[]; sent: boolean; reason: string | null }[] };
      const slackAlerts = report.alerts.filter((a) => a.processor !== null && a.destinations.includes('slack'));
      const slackOnly = slackAlerts.filter((a) => !a.destinations.includes('pagerduty'));
      expect(slackOnly.length).toBeGreaterThan(0);
      for (const alert of slackOnly) expect(alert).toMatchObject({ sent: false, reason: 'failed' });
      expect(jsonLines(run.stderr).at(-1)).toMatchObject({
        severity: 'ERROR',
        message: expect.stringMatching(/^stopped by SIGTERM \(task timeout or cancellation\) before the command finished; alert delivery: slack \(stopped\).*given back: the next run sends them$/),
      });

      // The Slack message was claimed, never recorded as delivered, and given back: a run a minute
      // later, inside the claims' lease, sends it.
      const slackEvents = (await stateRows(rig.scenario)).filter((row) => row.destination === 'slack').map((row) => row.event);
      expect(new Set(slackEvents)).toEqual(new Set(['claimed', 'released']));
      rig.slack.answer(slackOk);
      const later = await runCli(['check', '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath, '--json-output', `--date=${AS_OF}`], {
        env: alertEnv(rig.slack, rig.pagerduty),
        now: new Date(new Date(NOW).getTime() + MINUTE),
      });
      expect(later.code, later.stderr).toBe(0);
      expect(rig.slack.requests).toHaveLength(2);
    });
  });

  describe('with --engine bigquery against the BigQuery stand-in on the host', () => {
    let zeta: ZetaSql;
    beforeAll(async () => {
      zeta = await startZetaSql();
    }, 2 * MINUTE);
    afterAll(() => zeta?.close());

    it('prints the JSON that pem check prints on DuckDB for the same rows', async () => {
      const { fixture, checks } = SCENARIOS[0]!;
      const check = checks[0]!;
      const scenario = await duckDbScenario(fixture);
      const { standIn } = await zetaBackedStandIn(zeta, fixture, registryOf(fixture));
      try {
        shareWithContainer(scenario);
        const args = ['--json-output', '--dry-run', `--date=${check.date}`, `--lookback-days=${check.lookback}`, `--now=${check.now}`];
        const duck = await scenario.check(args);
        expect(duck.code, duck.stderr).toBe(0);
        const container = jobContainer(image.tag, ['--engine=bigquery', '--project=pem-test', `--config=${DATA}/processors.json`, ...args], {
          ...CLOUD_RUN,
          PEM_BIGQUERY_API_ENDPOINT: standIn.url,
        }).withBindMounts([{ source: scenario.dir, target: DATA, mode: 'ro' }]);
        const run = await runToExit(container);
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual(duck.json);
        // The detection, and (a dry run with no destination) the active silences after it.
        expect(standIn.queries.map((q) => (q.sql.includes('pem_alert_silences') ? 'silences' : 'detection'))).toEqual(['detection', 'silences']);
      } finally {
        await standIn.close();
        scenario.cleanup();
      }
    });
  });
});
