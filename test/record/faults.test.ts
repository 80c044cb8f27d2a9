/**
 * A recorder failure never breaks the processor: with the warehouse down, slow, or rejecting
 * rows, `withRun` returns the processor's own result (or throws its own error) within the bound,
 * logs each row it could not store (a row kept for later, once per cause), and only
 * `strict: true` turns a recording failure into an error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { bigQueryRunSink } from '../../src/record/bigquery.js';
import { RunRecorder } from '../../src/record/recorder.js';
import { duckDbFileSink, type RunSink } from '../../src/record/sink.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { RunRow } from '../../src/warehouse/run-row.js';
import { guardNetwork } from '../bigquery/support/loopback-guard.js';
import { offlineAuthClient, startBigQueryStandIn, unreachableUrl, type StandIn } from '../bigquery/support/rest-standin.js';

const BOUND_MS = 500;
/** Two writes (start and end) may each use the whole bound; the rest is scheduling slack. */
const WITHIN_MS = 2 * BOUND_MS + 700;
const TABLE = 'nba_reference.processor_run_history';

let network: ReturnType<typeof guardNetwork>;
let standIn: StandIn;
let logged: string;
let dir: string;

beforeAll(async () => {
  network = guardNetwork();
  dir = mkdtempSync(join(tmpdir(), 'pem-faults-'));
  // One write before the tests load what the BigQuery client loads on its first request
  // (~140 ms here, several times that on a loaded CI machine): a cold first attempt could
  // otherwise outlast the bound, and a test would see the deadline instead of the cause it names.
  const sink = bigQueryRunSink({ projectId: 'p', apiEndpoint: await unreachableUrl(), table: TABLE, timeoutMs: 5_000, authClient: offlineAuthClient() });
  const row: RunRow = { run_id: 'warm-up', processor_name: 'warm-up', processing_date: '2025-10-07', status: 'running', started_at: new Date(), completed_at: null, records_processed: null, errors: null, trigger_source: null, metadata: null };
  await sink.write([row], { signal: new AbortController().signal }).catch(() => undefined);
});
afterAll(() => {
  network.restore();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  standIn = await startBigQueryStandIn();
  logged = '';
});
afterEach(async () => {
  await standIn.close();
  expect(network.refused).toEqual([]);
});

const log = () => createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false });
const loggedLines = () => logged.split('\n').filter(Boolean);

function bigQueryRecorder(endpoint: string, strict = false): RunRecorder {
  const sink = bigQueryRunSink({ projectId: 'p', apiEndpoint: endpoint, table: TABLE, timeoutMs: BOUND_MS, authClient: offlineAuthClient() });
  return new RunRecorder({ sink, timeoutMs: BOUND_MS, strict, log: log() });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
}

describe.each([
  ['down (connection refused)', async () => bigQueryRecorder(await unreachableUrl()), /BigQuery request failed: .*ECONNREFUSED/],
  ['slow (never answers)', async () => ((standIn.fallback = { kind: 'hang' }), bigQueryRecorder(standIn.url)), /no answer within 500 ms/],
  [
    'rejecting rows',
    async () => (
      (standIn.fallback = { kind: 'reject', reason: () => ({ reason: 'invalid', message: 'no such field: metadata.' }) }),
      bigQueryRecorder(standIn.url)
    ),
    /BigQuery rejected the row: invalid: no such field: metadata\./,
  ],
] as const)('with BigQuery %s', (_name, make, cause) => {
  it("returns the processor's result within the bound and logs each row it could not store, as not stored", async () => {
    const recorder = await make();
    const { value, ms } = await timed(() => recorder.withRun('gamebook', '2025-10-07', async () => 42));
    expect(value).toBe(42);
    expect(ms).toBeLessThan(WITHIN_MS);
    // BigQuery keeps no spool: the start and the end are both lost, and each line names its run.
    const lines = loggedLines();
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(cause);
    expect(lines[0]).toMatch(/^warning: cannot record the start of run gamebook\/2025-10-07\/.*; nothing keeps it for later: this line is all that is left of it \(/);
    expect(lines[1]).toMatch(/^warning: cannot record the end of run gamebook\/2025-10-07\/.*; nothing keeps it for later: this line is all that is left of it \(/);
  });

  it("rethrows the processor's own error within the bound", async () => {
    const recorder = await make();
    const own = new TypeError('the processor broke');
    const t0 = performance.now();
    await expect(recorder.withRun('gamebook', '2025-10-07', async () => Promise.reject(own))).rejects.toBe(own);
    expect(performance.now() - t0).toBeLessThan(WITHIN_MS);
  });
});

describe('with DuckDB', () => {
  it('returns the result when the database file does not exist, logging each row as not stored', async () => {
    const recorder = new RunRecorder({ sink: duckDbFileSink(join(dir, 'absent.duckdb'), TABLE), timeoutMs: BOUND_MS, log: log() });
    const { value, ms } = await timed(() => recorder.withRun('gamebook', '2025-10-07', () => 'ok'));
    expect(value).toBe('ok');
    expect(ms).toBeLessThan(WITHIN_MS);
    expect(loggedLines()).toHaveLength(2);
    for (const line of loggedLines()) expect(line).toMatch(/absent\.duckdb does not exist.*; nothing keeps it for later/);
  });

  it('returns the result when the run-history table is missing, logging the cause', async () => {
    const path = join(dir, 'no-table.duckdb');
    const warehouse = await openDuckDb({ path, create: true });
    await warehouse.close();
    const recorder = new RunRecorder({ sink: duckDbFileSink(path, TABLE), timeoutMs: 10_000, log: log() });
    await expect(recorder.withRun('gamebook', '2025-10-07', () => 7)).resolves.toBe(7);
    expect(loggedLines()).toHaveLength(1);
    expect(logged).toMatch(/processor_run_history/);
  });
});

describe('strict mode', () => {
  it('throws when the start cannot be recorded, before the processor runs', async () => {
    const recorder = bigQueryRecorder(await unreachableUrl(), true);
    let ran = false;
    await expect(
      recorder.withRun('gamebook', '2025-10-07', () => {
        ran = true;
      }),
    ).rejects.toThrow(/cannot record the start of run .*ECONNREFUSED/);
    expect(ran).toBe(false);
  });

  it("still surfaces the processor's own error, not the recorder's", async () => {
    let down = false;
    const sink: RunSink = {
      description: 'flaky sink',
      async write() {
        if (down) throw new Error('warehouse went away');
      },
    };
    const recorder = new RunRecorder({ sink, strict: true, log: log() });
    const own = new Error('processor failure');
    await expect(
      recorder.withRun('gamebook', '2025-10-07', () => {
        down = true;
        throw own;
      }),
    ).rejects.toBe(own);
  });
});

describe('logging once', () => {
  it('logs a repeated cause once while its rows are kept for later, and again after a write succeeded in between', async () => {
    let fail = true;
    const sink: RunSink = {
      description: 'toggled sink',
      async write() {
        if (fail) throw new Error('quota exceeded');
      },
      spool: async () => '/var/spool/pem',
    };
    const recorder = new RunRecorder({ sink, log: log() });
    await recorder.recordRunStart('a', '2025-10-07');
    await recorder.recordRunStart('b', '2025-10-07');
    expect(loggedLines()).toHaveLength(1);
    fail = false;
    await recorder.recordRunStart('c', '2025-10-07');
    fail = true;
    await recorder.recordRunStart('d', '2025-10-07');
    expect(loggedLines()).toHaveLength(2);
  });

  it('logs every row it could not keep either, each naming its run: the log is what is left of it', async () => {
    const sink: RunSink = {
      description: 'failing sink',
      async write() {
        throw new Error('quota exceeded');
      },
    };
    const recorder = new RunRecorder({ sink, log: log() });
    await recorder.recordRunStart('a', '2025-10-07');
    await recorder.recordRunStart('b', '2025-10-07');
    const lines = loggedLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warning: cannot record the start of run a\/2025-10-07\/.*: quota exceeded; nothing keeps it for later/);
    expect(lines[1]).toMatch(/^warning: cannot record the start of run b\/2025-10-07\//);
  });

  it('bounds a sink that throws synchronously or never settles', async () => {
    const throwing: RunSink = {
      description: 'throwing sink',
      write() {
        throw new Error('synchronous failure');
      },
    };
    const never: RunSink = { description: 'silent sink', write: () => new Promise<void>(() => undefined) };
    await expect(new RunRecorder({ sink: throwing, log: log() }).withRun('a', '2025-10-07', () => 1)).resolves.toBe(1);
    const { value, ms } = await timed(() => new RunRecorder({ sink: never, timeoutMs: BOUND_MS, log: log() }).withRun('a', '2025-10-07', () => 2));
    expect(value).toBe(2);
    expect(ms).toBeLessThan(WITHIN_MS);
    expect(logged).toContain('synchronous failure');
    expect(logged).toContain(`no answer within ${BOUND_MS} ms`);
  });
});

describe('process exit', () => {
  /** Runs `body` in a child Node process (TypeScript through tsx) against the stand-in. */
  async function child(body: string, boundMs = BOUND_MS): Promise<{ code: number | null; stdout: string; stderr: string; doneToExitMs: number }> {
    const script = `
      import { bigQueryRunSink } from './src/record/bigquery.ts';
      import { RunRecorder } from './src/record/recorder.ts';
      import { OAuth2Client } from 'google-auth-library';
      const auth = new OAuth2Client();
      auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3600000 });
      const sink = bigQueryRunSink({ projectId: 'p', apiEndpoint: ${JSON.stringify(standIn.url)}, table: 'd.t', timeoutMs: ${boundMs}, authClient: auth });
      const recorder = new RunRecorder({ sink, timeoutMs: ${boundMs}, log: { log() {}, info() {}, warn() {}, error() {} } });
      // For a warm-up write: the same client, bounded loosely, so a cold start on a loaded machine is not cut short.
      const warmRecorder = new RunRecorder({ sink: bigQueryRunSink({ projectId: 'p', apiEndpoint: ${JSON.stringify(standIn.url)}, table: 'd.t', timeoutMs: 20000, authClient: auth }), timeoutMs: 20000, log: { log() {}, info() {}, warn() {}, error() {} } });
      ${body}
    `;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let doneAt = 0;
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!doneAt && stdout.includes('done')) doneAt = performance.now();
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    return { code, stdout, stderr, doneToExitMs: performance.now() - doneAt };
  }

  it('is held no longer than the bound by a write nobody awaits, to a warehouse that never answers', async () => {
    // A first, awaited write (bounded loosely) is answered, so the client's modules are loaded: on
    // a loaded machine a cold first request could otherwise spend its whole per-request timeout
    // (half the bound) before reaching the stand-in, and the process would exit with no
    // connection held open, proving nothing.
    const boundMs = 1_000;
    standIn.queue.push({ kind: 'ok' });
    standIn.fallback = { kind: 'hang' };
    const run = await child(
      `await warmRecorder.recordRunStart('warm-up', '2025-10-07');
      void recorder.recordRunStart('gamebook', '2025-10-07'); console.log('done');`,
      boundMs,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(standIn.stored.map((r) => r.json.processor_name)).toEqual(['warm-up']);
    expect(standIn.requests.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(2);
    // The connection stays open on the stand-in's side: only the recorder ending it lets Node exit.
    expect(run.doneToExitMs).toBeLessThan(boundMs + 1_000);
  }, 20_000);

  it('is not left early while an awaited write backs off before a retry', async () => {
    standIn.queue.push({ kind: 'http-error', status: 503, reason: 'backendError', message: 'Backend error' });
    const run = await child(`
      const result = await recorder.withRun('gamebook', '2025-10-07', async () => 5);
      console.log('after', result, 'done');
    `, 5_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('after 5 done');
    expect(standIn.stored.map((r) => r.json.status)).toEqual(['running', 'success']);
  }, 20_000);
});
