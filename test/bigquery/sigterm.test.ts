/**
 * SIGTERM (a Cloud Run task's timeout or cancellation) while `pem` waits for a BigQuery job: the
 * process asks BigQuery to cancel the job before it ends, instead of leaving it running (and
 * holding slots) after the process is gone, and says so in its one stop line.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOP_GRACE_MS } from '../../src/cli/stop.js';
import { bundleCli, type ChildCli, type ChildRun } from '../support/child-cli.js';
import { startBigQueryStandIn, type StandIn } from './support/rest-standin.js';

// Never read: the job never completes.
const NO_ROWS = () => ({ columns: [], rows: [] });

let cli: ChildCli;
let dir: string;
beforeAll(async () => {
  cli = await bundleCli();
  dir = mkdtempSync(join(tmpdir(), 'pem-bq-sigterm-'));
  writeFileSync(join(dir, 'processors.json'), JSON.stringify({ dataset: 'monitoring', timezone: 'UTC', processors: { p: { expected_frequency: 'daily' } } }));
}, 60_000);
afterAll(() => {
  cli?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `pem args…` against `standIn`, signalled once BigQuery has been polled for the job it made. */
async function signalledWhilePolling(standIn: StandIn, args: string[], signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<ChildRun & { stopMs: number }> {
  let child: ChildProcess | undefined;
  let exited = false;
  const running = cli.run([...args, '--engine', 'bigquery', '--project', 'pem-test', '--config', join(dir, 'processors.json')], {
    PEM_BIGQUERY_API_ENDPOINT: standIn.url,
    HOME: dir,
  }, (started) => (child = started));
  void running.then(() => (exited = true));
  const polled = () => standIn.requests.some((r) => r.method === 'GET' && r.path.endsWith('/queries/pem_standin_1'));
  // Within the tests' 60 s, so a child that never polls fails here, with its reason.
  const deadline = Date.now() + 30_000;
  while (!polled()) {
    if (exited) throw new Error(`pem ended before it polled its job: ${(await running).stderr}`);
    if (Date.now() > deadline) throw new Error('gave up waiting for pem to poll its job');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const signalledAt = performance.now();
  child!.kill(signal);
  const run = await running;
  return { ...run, stopMs: performance.now() - signalledAt };
}

describe('a stop while pem waits for BigQuery', () => {
  it('cancels the job and says so in its one line, exit 1, well within Cloud Run\'s 10 s', async () => {
    const standIn = await startBigQueryStandIn({ answer: NO_ROWS, neverCompleteMs: 50 });
    try {
      const run = await signalledWhilePolling(standIn, ['check', '--dry-run', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
      expect(run.stderr.trim().split('\n')).toEqual([
        'error: stopped by SIGTERM (task timeout or cancellation) before the command finished; asked BigQuery to cancel its job pem_standin_1',
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(standIn.cancelled).toEqual(['pem_standin_1']);
      expect(run.stopMs).toBeLessThan(STOP_GRACE_MS);
    } finally {
      await standIn.close();
    }
  }, 60_000);

  it('names the job to cancel by hand when BigQuery takes longer to cancel it than a stop waits', async () => {
    const standIn = await startBigQueryStandIn({ answer: NO_ROWS, neverCompleteMs: 50, cancelDelayMs: 8_000 });
    try {
      const run = await signalledWhilePolling(standIn, ['check', '--dry-run', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
      expect(run.stderr.trim().split('\n')).toEqual([
        'error: stopped by SIGTERM (task timeout or cancellation) before the command finished; its job pem_standin_1 may still run: cancel it with bq cancel or in the console',
      ]);
      expect(run.code).toBe(1);
      expect(run.stopMs).toBeLessThan(STOP_GRACE_MS);
    } finally {
      await standIn.close();
    }
  }, 60_000);

  it('names the job to cancel by hand when BigQuery refuses, and still ends (Ctrl-C in pem gaps)', async () => {
    const standIn = await startBigQueryStandIn({ answer: NO_ROWS, neverCompleteMs: 50, refuseCancel: { status: 403, message: 'Access Denied: bigquery.jobs.update' } });
    try {
      const run = await signalledWhilePolling(standIn, ['gaps', '--date', '2025-10-07'], 'SIGINT');
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^error: stopped by SIGINT \(Ctrl-C\) before the command finished; cancelling its job failed \(pem_standin_1: .*Access Denied: bigquery\.jobs\.update.*\): cancel it with bq cancel or in the console$/,
        ),
      ]);
      expect(run.code).toBe(1);
      expect(standIn.cancelled).toEqual([]);
    } finally {
      await standIn.close();
    }
  }, 60_000);
});
