/**
 * SIGTERM (a Cloud Run task's timeout or cancellation) during alert delivery: `pem check`, a real
 * process, stops sending, records what went out, gives back what did not, and exits 1 well
 * before Cloud Run's SIGKILL (10 s). The next run sends what was given back at once, and nothing
 * that was delivered twice. Elsewhere in a command SIGTERM stops it at once, and delivery that
 * cannot settle is cut short at the grace bound.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStopControl, STOP_GRACE_MS, type StopControl } from '../../src/cli/stop.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';
import { attachMarkersEnv, untilMarked, type ChildCli, type ChildRun } from '../support/child-cli.js';
import { runCli } from '../support/cli.js';
import { alertEnv, AS_OF, childCliOnBadMornings, NOW, pagerDutyOk, ROUTING_KEY, SLACK_PATH, slackOk, type BadMorningRig } from './support.js';

/** Long enough that only SIGTERM (never a timeout) can end a hanging send within a test. */
const HANGING = { PEM_ALERT_TIMEOUT_MS: '60000' };

let cli: ChildCli;
let rig: BadMorningRig;
childCliOnBadMornings({ cli: (c) => (cli = c), rig: (r) => (rig = r) });

interface Signalled extends ChildRun {
  /** Milliseconds from SIGTERM to the process's exit. */
  stopMs: number;
}

/** Runs `pem check` in a child process with `env` and sends it SIGTERM (or `signal`) once `ready()` holds. */
async function checkStoppedWhen(
  env: Record<string, string>,
  ready: () => boolean | Promise<boolean>,
  args: string[] = [],
  signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL' = 'SIGTERM',
): Promise<Signalled> {
  let child: ChildProcess | undefined;
  const running = cli.run(
    ['check', '--json-output', '--date', AS_OF, '--now', NOW, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath, ...args],
    env,
    (started) => (child = started),
  );
  let exited = false;
  void running.then(() => (exited = true));
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (exited) throw new Error(`pem check ended before it was signalled: ${(await running).stderr}`);
    if (Date.now() > deadline) throw new Error('gave up waiting to signal pem check');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const signalledAt = performance.now();
  child!.kill(signal);
  // Repeated while the first is being handled, as a supervisor (or an impatient Ctrl-C) may: the
  // first one's handling stands (the default action would kill the process, nothing settled).
  await new Promise((resolve) => setTimeout(resolve, 150));
  if (!exited) child!.kill(signal);
  const run = await running;
  return { ...run, stopMs: performance.now() - signalledAt };
}

async function stateRows(): Promise<{ event: string; destination: string; alert_key: string; run_id: string }[]> {
  const warehouse = await openDuckDb({ path: rig.scenario.databasePath, create: false });
  try {
    return (await warehouse.query('SELECT event, destination, alert_key, run_id FROM nba_reference.pem_alert_state ORDER BY recorded_at, alert_key')) as never;
  } finally {
    await warehouse.close();
  }
}

const lines = (text: string) => text.split('\n').filter(Boolean);
const oneMinuteLater = new Date(new Date(NOW).getTime() + 60_000);

describe.each([
  ['SIGTERM', 'stopped by SIGTERM (task timeout or cancellation) before the command finished'],
  ['SIGINT', 'stopped by SIGINT (Ctrl-C) before the command finished'],
] as const)('%s while a Slack webhook hangs', (signal, stopped) => {
  it('gives the Slack message back and exits 1 within the grace bound; the next run sends it at once', async () => {
    rig.slack.answer(() => 'hang');
    const run = await checkStoppedWhen(alertEnv(rig.slack, null, HANGING), () => rig.slack.requests.length === 1, [], signal);
    expect(run.code).toBe(1);
    expect(run.stopMs).toBeLessThan(STOP_GRACE_MS);
    const last = lines(run.stderr).at(-1)!;
    expect(last).toBe(`error: ${stopped}; alert delivery: slack (stopped); 12 notifications not delivered were given back: the next run sends them`);
    expect(lines(run.stderr).filter((line) => line.includes(signal))).toHaveLength(1);
    // The document is still printed, saying that the Slack alerts did not go out.
    const json = JSON.parse(run.stdout);
    const unsent = json.alerts.filter((a: any) => a.destinations.includes('slack') && a.processor !== null && !a.sent);
    expect(unsent.length).toBeGreaterThan(0);
    expect(new Set(unsent.map((a: any) => a.reason))).toEqual(new Set(['failed']));
    expect(`${run.stdout}${run.stderr}`).not.toContain(SLACK_PATH);
    expect(`${run.stdout}${run.stderr}`).not.toContain(ROUTING_KEY);

    const rows = await stateRows();
    expect(rows.map((row) => row.event).sort()).toEqual([...Array(12).fill('claimed'), ...Array(12).fill('released')]);

    // One minute later, well inside the claims' 15-minute lease: the message goes out now.
    rig.slack.answer(slackOk);
    const later = await runCli(
      ['check', '--json-output', '--date', AS_OF, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath],
      { env: alertEnv(rig.slack, null), now: oneMinuteLater },
    );
    expect(later.code, later.stderr).toBe(0);
    expect(rig.slack.requests).toHaveLength(2);
    expect((await stateRows()).filter((row) => row.event === 'notified')).toHaveLength(12);
  }, 60_000);
});

describe('a run killed while sending (SIGKILL: nothing settles)', () => {
  it("leaves its claims to lapse; until then the next run names those alerts already_open (another run's to send), not failed, exit 0", async () => {
    rig.slack.answer(() => 'hang');
    const killed = await checkStoppedWhen(alertEnv(rig.slack, null, HANGING), () => rig.slack.requests.length === 1, [], 'SIGKILL');
    expect(killed.code).toBeNull();
    rig.slack.answer(slackOk);
    const next = await runCli(
      ['check', '--json-output', '--date', AS_OF, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath],
      { env: alertEnv(rig.slack, null), now: oneMinuteLater },
    );
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('alerts: 12 notifications are being sent by another run; not sending them twice');
    const slackAlerts = JSON.parse(next.stdout).alerts.filter((a: any) => a.processor !== null && a.destinations.includes('slack') && a.reason !== 'threshold' && a.reason !== 'dependency');
    expect(slackAlerts.length).toBeGreaterThan(0);
    expect(new Set(slackAlerts.map((a: any) => `${a.sent} ${a.reason}`))).toEqual(new Set(['false already_open']));
    expect(rig.slack.requests).toHaveLength(1);
  }, 60_000);
});

describe('SIGTERM between PagerDuty events', () => {
  it('records the events that went out as notified and gives back the rest: the next run pages only those', async () => {
    // The first event is answered, the ones after it hang.
    rig.pagerduty.answer((request, index) => (index === 0 ? pagerDutyOk(request, index) : 'hang'));
    // Events go one after another: the second is sent only once the first was answered.
    const run = await checkStoppedWhen(alertEnv(null, rig.pagerduty, HANGING), () => rig.pagerduty.requests.length === 2);
    expect(run.code).toBe(1);
    expect(run.stopMs).toBeLessThan(STOP_GRACE_MS);
    expect(lines(run.stderr).at(-1)).toMatch(
      /^error: stopped by SIGTERM \(task timeout or cancellation\) before the command finished; alert delivery: pagerduty \(\d+ of \d+ events not delivered: stopped\); \d+ notifications not delivered were given back: the next run sends them$/,
    );

    const rows = await stateRows();
    const pagerduty = rows.filter((row) => row.destination === 'pagerduty');
    const claimed = pagerduty.filter((row) => row.event === 'claimed');
    const notified = pagerduty.filter((row) => row.event === 'notified');
    expect(notified).toHaveLength(1);
    expect(pagerduty.filter((row) => row.event === 'released')).toHaveLength(claimed.length - 1);

    rig.pagerduty.answer(pagerDutyOk);
    const before = rig.pagerduty.requests.length;
    const later = await runCli(
      ['check', '--json-output', '--date', AS_OF, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath],
      { env: alertEnv(null, rig.pagerduty), now: oneMinuteLater },
    );
    expect(later.code, later.stderr).toBe(0);
    const paged = rig.pagerduty.requests.slice(before).map((request) => request.body.dedup_key);
    expect(paged).toHaveLength(claimed.length - 1);
    expect(paged).not.toContain(notified[0]!.alert_key);
  }, 60_000);
});

describe('a stop requested around delivery (in-process, as SIGTERM requests it)', () => {
  const check = (stop: StopControl, onStderr?: (chunk: string) => void) =>
    runCli(['check', '--json-output', '--date', AS_OF, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath], {
      env: alertEnv(rig.slack, rig.pagerduty),
      stop,
      ...(onStderr ? { onStderr } : {}),
    });

  it('before delivery: claims nothing, sends nothing, exit 1 naming it', async () => {
    const stop = createStopControl();
    stop.request('stopped by SIGTERM (task timeout or cancellation) before the command finished');
    const run = await check(stop);
    expect(run.code).toBe(1);
    expect(lines(run.stderr).at(-1)).toBe('error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alert delivery: nothing was claimed or sent');
    expect(rig.slack.requests).toHaveLength(0);
    expect(rig.pagerduty.requests).toHaveLength(0);
    expect(await stateRows()).toEqual([]);
    expect(new Set(JSON.parse(run.stdout).alerts.filter((a: any) => a.processor !== null).map((a: any) => a.sent))).toEqual(new Set([false]));
  });

  it('after delivery settled: everything recorded as sent, still exit 1 (the command did not finish)', async () => {
    const stop = createStopControl();
    // The summary line comes once the outcome is recorded, before delivery returns.
    const run = await check(stop, (chunk) => chunk.includes('slack: sent 1 message') && stop.request('stopped by SIGTERM (task timeout or cancellation) before the command finished'));
    expect(run.code).toBe(1);
    expect(lines(run.stderr).at(-1)).toBe('error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alert delivery had finished');
    const rows = await stateRows();
    expect(rows.filter((row) => row.event === 'released')).toEqual([]);
    expect(rows.filter((row) => row.event === 'notified').length).toBeGreaterThan(0);
    expect(rig.slack.requests).toHaveLength(1);
  });
});

describe('SIGTERM elsewhere', () => {
  it('stops a command that is not delivering alerts at once, in one line, exit 1', async () => {
    // A warehouse that never answers: the check is still waiting for its query when SIGTERM comes.
    rig.slack.answer(() => 'hang');
    const warehouse = { PEM_BIGQUERY_API_ENDPOINT: new URL(rig.slack.url).origin, PEM_BIGQUERY_TIMEOUT_MS: '60000', PEM_RECORD_SELF: 'off' };
    const run = await checkStoppedWhen(warehouse, () => rig.slack.requests.length > 0, ['--engine', 'bigquery', '--project', 'pem-test']);
    expect(run.code).toBe(1);
    expect(run.stopMs).toBeLessThan(3_000);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual(['error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alerts not yet delivered stay unsent']);
  }, 60_000);

  it('while pem is still loading its modules: held until its handling is in place, then one line, exit 1', async () => {
    const run = await cli.run(['check', '--json-output', '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath], {}, undefined, {
      // The signal arrives while bin/pem.js waits for the CLI to load, and is delivered before loading goes on.
      whileLoading: async (child) => {
        child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 200));
      },
    });
    expect(run.code, `${run.stderr} ${run.stdout.slice(0, 300)}`).toBe(1);
    expect(lines(run.stderr)).toEqual(['error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alerts not yet delivered stay unsent']);
    expect(await stateRows()).toEqual([]);
  }, 60_000);

  it('while pem record waits for the file: the row is spooled (late, not lost), no word of alerts', async () => {
    const holder = await openDuckDb({ path: rig.scenario.databasePath, create: false });
    const lockWaitMarker = join(rig.scenario.dir, 'lock-wait-marker');
    let child: ChildProcess | undefined;
    let stderr = '';
    const running = cli.run(
      ['record', 'start', '--processor', 'gamebook_processor', '--date', AS_OF, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath],
      { PEM_RECORD_TIMEOUT_MS: '60000', ...attachMarkersEnv({ lockWait: lockWaitMarker }) },
      (started) => {
        child = started;
        started.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      },
    );
    let runId = '';
    try {
      // The recorder says nothing while it waits: the preload marks DuckDB's first refusal.
      await untilMarked(lockWaitMarker, () => child, 'waiting for the file');
      child!.kill('SIGTERM');
      const run = await running;
      runId = run.stdout.trim();
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^gamebook_processor\/2025-10-07\/\S+\n$/);
      expect(lines(run.stderr)).toEqual([
        expect.stringMatching(/^warning: cannot record the start of run \S+ in DuckDB .*: stopped by SIGTERM \(task timeout or cancellation\) before the command finished; kept in \S+\.spool, added by the next/),
      ]);
      expect(stderr).not.toContain('alerts');
    } finally {
      await holder.close();
    }
    // The next open of the file adds it.
    const rows = (await (async () => {
      const warehouse = await openDuckDb({ path: rig.scenario.databasePath, create: false });
      try {
        return await warehouse.query('SELECT run_id FROM nba_reference.processor_run_history WHERE run_id = $runId', { runId: { type: 'STRING', value: runId } });
      } finally {
        await warehouse.close();
      }
    })()) as { run_id: string }[];
    expect(rows).toEqual([{ run_id: runId }]);
  }, 60_000);

  it("while pem check waits for the file: its own run is recorded failed (spooled), not left running", async () => {
    const holder = await openDuckDb({ path: rig.scenario.databasePath, create: false });
    const lockWaitMarker = join(rig.scenario.dir, 'check-lock-wait');
    const refusals = () => (existsSync(lockWaitMarker) ? readFileSync(lockWaitMarker, 'utf8').split('\n').filter(Boolean).length : 0);
    let run: Signalled;
    try {
      // Self-recording on: the start is spooled at once (the file is held), then the check waits for the file.
      run = await checkStoppedWhen(
        { PEM_DUCKDB_LOCK_TIMEOUT_MS: '60000', ...attachMarkersEnv({ lockWait: lockWaitMarker }) },
        // Refused twice: the start's one attempt, then the check's own wait.
        () => refusals() >= 2,
      );
    } finally {
      await holder.close();
    }
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(['error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alerts not yet delivered stay unsent']);
    const warehouse = await openDuckDb({ path: rig.scenario.databasePath, create: false });
    try {
      const own = await warehouse.query("SELECT status, errors FROM nba_reference.processor_run_history WHERE processor_name = 'processor_execution_monitor' ORDER BY status DESC");
      expect(own).toEqual([
        { status: 'running', errors: null },
        { status: 'failed', errors: [{ error_type: 'Error', error_message: 'stopped by SIGTERM (task timeout or cancellation) before the command finished' }] },
      ]);
    } finally {
      await warehouse.close();
    }
  }, 60_000);

  it('ends delivery that cannot settle (the database held by another process) at the grace bound', async () => {
    rig.slack.answer(() => 'hang');
    let holder: Warehouse | null = null;
    try {
      const run = await checkStoppedWhen(alertEnv(rig.slack, null, HANGING), async () => {
        if (rig.slack.requests.length < 1) return false;
        // The check let go of the file while it talks to Slack: take it, so recording must wait.
        holder ??= await openDuckDb({ path: rig.scenario.databasePath, create: false });
        return true;
      });
      expect(run.code).toBe(1);
      expect(run.stopMs).toBeGreaterThanOrEqual(STOP_GRACE_MS - 100);
      expect(run.stopMs).toBeLessThan(STOP_GRACE_MS + 3_000);
      expect(lines(run.stderr).at(-1)).toBe('error: stopped by SIGTERM (task timeout or cancellation) before the command finished; alerts not yet delivered stay unsent');
    } finally {
      await (holder as Warehouse | null)?.close();
    }
    // Nothing was recorded as delivered: the claims lapse after their lease, as before.
    expect((await stateRows()).filter((row) => row.destination === 'slack').map((row) => row.event)).toEqual(Array(12).fill('claimed'));
  }, 60_000);
});
