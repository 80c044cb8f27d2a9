/**
 * The BigQuery backend through the real `@google-cloud/bigquery` client, against a loopback
 * stand-in of BigQuery's REST API (its `tabledata.insertAll`). No connection leaves the machine (guardNetwork).
 */
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { bigQueryRunSink, runRowInsertId } from '../../src/record/bigquery.js';
import { RunRecorder } from '../../src/record/recorder.js';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery.js';
import { runCli } from '../support/cli.js';
import { guardNetwork } from '../bigquery/support/loopback-guard.js';
import { offlineAuthClient, startBigQueryStandIn, type StandIn } from '../bigquery/support/rest-standin.js';

const TABLE = 'nba_reference.processor_run_history';

let network: ReturnType<typeof guardNetwork>;
let standIn: StandIn;
let logged: string;

beforeAll(() => {
  network = guardNetwork();
});
afterAll(() => {
  network.restore();
});
beforeEach(async () => {
  standIn = await startBigQueryStandIn();
  logged = '';
});
afterEach(async () => {
  await standIn.close();
  expect(network.refused).toEqual([]);
});

/**
 * The bound is generous: these tests count requests exactly, and a cold client's first request
 * under load can take over a second; a bound that short turns it into a retry (one request more).
 */
const RECORD_TIMEOUT_MS = 10_000;

function recorder(options: { strict?: boolean; timeoutMs?: number; clock?: () => Date } = {}): RunRecorder {
  const sink = bigQueryRunSink({
    projectId: 'test-project',
    location: 'US',
    apiEndpoint: standIn.url,
    table: TABLE,
    timeoutMs: options.timeoutMs ?? RECORD_TIMEOUT_MS,
    authClient: offlineAuthClient(),
  });
  return new RunRecorder({
    sink,
    clock: options.clock ?? (() => new Date('2025-10-08T06:00:00.000Z')),
    timeoutMs: options.timeoutMs ?? RECORD_TIMEOUT_MS,
    strict: options.strict ?? false,
    log: createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false }),
  });
}

/** A clock that reads the given instants in order. */
function clockOf(...instants: string[]): () => Date {
  let i = 0;
  return () => new Date(instants[Math.min(i++, instants.length - 1)]!);
}

describe('the BigQuery run recorder', () => {
  it('streams the start and final rows of a run in the shape of the run-history table', async () => {
    const rec = recorder({ clock: clockOf('2025-10-08T06:00:00.000Z', '2025-10-08T06:12:30.500Z') });
    const result = await rec.withRun(
      'gamebook',
      '2025-10-07',
      async (run) => {
        run.setRecordsProcessed(1200);
        return 'done';
      },
      { triggerSource: 'scheduler', metadata: { season: '2025-26', attempt: 1 } },
    );
    expect(result).toBe('done');
    expect(standIn.requests).toHaveLength(2);
    const [start, end] = standIn.requests.map((r) => r.body.rows![0]!);
    expect(standIn.requests[0]!.path).toMatch(/^\/bigquery\/v2\/projects\/test-project\/datasets\/nba_reference\/tables\/processor_run_history\/insertAll/);
    expect(standIn.requests[0]!.authorization).toBe('Bearer offline-test-token');
    const runId = start!.json.run_id as string;
    expect(runId).toMatch(/^gamebook\/2025-10-07\/20251008T060000000Z-[0-9a-f]{12}$/);
    expect(start).toEqual({
      insertId: `${runId}:running`,
      json: {
        run_id: runId,
        processor_name: 'gamebook',
        processing_date: '2025-10-07',
        status: 'running',
        started_at: '2025-10-08T06:00:00.000Z',
        completed_at: null,
        records_processed: null,
        errors: [],
        trigger_source: 'scheduler',
        metadata: '{"season":"2025-26","attempt":1}',
      },
    });
    expect(end).toEqual({
      insertId: `${runId}:success`,
      json: {
        run_id: runId,
        processor_name: 'gamebook',
        processing_date: '2025-10-07',
        status: 'success',
        started_at: '2025-10-08T06:00:00.000Z',
        completed_at: '2025-10-08T06:12:30.500Z',
        records_processed: 1200,
        errors: [],
        trigger_source: 'scheduler',
        metadata: '{"season":"2025-26","attempt":1}',
      },
    });
    // Sent raw: no client-generated fields beside the row and its insertId.
    expect(Object.keys(standIn.requests[0]!.body)).toEqual(['rows']);
    expect(logged).toBe('');
  });

  it('records a failure with the error type and message', async () => {
    class PayloadError extends Error {}
    const rec = recorder();
    await expect(
      rec.withRun('gamebook', '2025-10-07', async () => {
        throw new PayloadError('bad payload', { cause: new RangeError('row 17') });
      }),
    ).rejects.toThrow('bad payload');
    const final = standIn.stored[1]!.json;
    expect(final.status).toBe('failed');
    expect(final.errors).toEqual([{ error_type: 'PayloadError', error_message: 'bad payload (caused by RangeError: row 17)' }]);
  });

  it('retries a write whose answer was lost with the same insertId, so BigQuery keeps one row', async () => {
    standIn.queue.push({ kind: 'store-then-drop' });
    const rec = recorder();
    const runId = await rec.recordRunStart('gamebook', '2025-10-07');
    expect(standIn.requests).toHaveLength(2);
    const [first, retry] = standIn.requests.map((r) => r.body.rows!.map((row) => row.insertId));
    expect(retry).toEqual(first);
    expect(first).toEqual([`${runId}:running`]);
    expect(standIn.stored).toHaveLength(1);
    expect(logged).toBe('');
  });

  it('does not take an HTTP 200 that is no insertAll answer (a captive portal) for a stored row: retried, then said', async () => {
    standIn.queue.push({ kind: 'page', body: '<html>captive portal</html>' });
    const rec = recorder();
    await rec.recordRunStart('gamebook', '2025-10-07');
    // Retried, with the same insertId: the stand-in stores it at the second try.
    expect(standIn.requests).toHaveLength(2);
    expect(standIn.stored).toHaveLength(1);
    expect(logged).toBe('');
    standIn.fallback = { kind: 'page', body: '<html>captive portal</html>' };
    const again = recorder();
    await again.recordRunStart('gamebook', '2025-10-08');
    expect(again.lastWriteSucceeded).toBe(false);
    expect(logged).toContain("BigQuery's endpoint answered HTTP 200 with no insertAll response (<html>captive portal</html>): whether the row was stored cannot be told");
  });

  it("takes a proxy's own JSON answer ({\"status\":\"ok\"}) for no insertAll answer", async () => {
    standIn.fallback = { kind: 'page', body: '{"status":"ok"}', contentType: 'application/json' };
    const rec = recorder();
    await rec.recordRunStart('gamebook', '2025-10-07');
    expect(rec.lastWriteSucceeded).toBe(false);
    expect(logged).toContain('no insertAll response ({"status":"ok"})');
  });

  it("takes an emulator's empty insertAll answer ({}, no kind) for a stored row", async () => {
    standIn.queue.push({ kind: 'page', body: '{}', contentType: 'application/json' });
    const rec = recorder();
    await rec.recordRunStart('gamebook', '2025-10-07');
    expect(standIn.requests).toHaveLength(1);
    expect(rec.lastWriteSucceeded).toBe(true);
    expect(logged).toBe('');
  });

  it('retries a 503 and stores the row once', async () => {
    standIn.queue.push({ kind: 'http-error', status: 503, reason: 'backendError', message: 'Backend error' });
    const rec = recorder();
    await rec.recordRunStart('gamebook', '2025-10-07');
    expect(standIn.requests).toHaveLength(2);
    expect(standIn.stored).toHaveLength(1);
    expect(logged).toBe('');
  });

  it('gives a repeated completion of the same run and status the same insertId', async () => {
    const rec = recorder();
    const runId = await rec.recordRunStart('gamebook', '2025-10-07');
    await rec.recordRunComplete(runId, { status: 'success', recordsProcessed: 3 });
    // Another process (a retried `pem record complete`) completing the same run again:
    await recorder().recordRunComplete(runId, { status: 'success', recordsProcessed: 3 });
    const ids = standIn.requests.map((r) => r.body.rows![0]!.insertId);
    expect(ids).toEqual([`${runId}:running`, `${runId}:success`, `${runId}:success`]);
    expect(standIn.stored.map((r) => r.json.status)).toEqual(['running', 'success']);
  });

  it('surfaces rows BigQuery rejects, with the run, the status and the reason', async () => {
    standIn.fallback = { kind: 'reject', reason: () => ({ reason: 'invalid', message: 'no such field: trigger_source.' }) };
    const rec = recorder();
    const runId = await rec.recordRunStart('gamebook', '2025-10-07');
    // A permanent rejection is not retried.
    expect(standIn.requests).toHaveLength(1);
    expect(logged).toContain(`cannot record the start of run ${runId} in BigQuery project test-project (US): BigQuery rejected the row: invalid: no such field: trigger_source.`);
    expect(logged.trim().split('\n')).toHaveLength(1);
  });

  it('throws the rejection in strict mode', async () => {
    standIn.fallback = { kind: 'reject', reason: () => ({ reason: 'invalid', message: 'no such field: trigger_source.' }) };
    await expect(recorder({ strict: true }).recordRunStart('gamebook', '2025-10-07')).rejects.toThrow(/BigQuery rejected the row: invalid: no such field/);
  });

  it('names an HTTP failure such as a missing table', async () => {
    standIn.fallback = { kind: 'http-error', status: 404, reason: 'notFound', message: 'Not found: Table test-project:nba_reference.processor_run_history' };
    await recorder().recordRunStart('gamebook', '2025-10-07');
    expect(standIn.requests).toHaveLength(1);
    expect(logged).toContain('BigQuery answered HTTP 404: Not found: Table test-project:nba_reference.processor_run_history');
  });
});

describe('pem record on BigQuery', () => {
  it('streams through PEM_BIGQUERY_API_ENDPOINT, sending no credentials over plain HTTP', async () => {
    const args = ['--engine', 'bigquery', '--project', 'test-project', '--table', TABLE];
    const env = { PEM_BIGQUERY_API_ENDPOINT: standIn.url };
    const start = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', ...args], { env });
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    const runId = start.stdout.trim();
    const end = await runCli(['record', 'complete', '--run-id', runId, '--status', 'failed', '--error-type', 'ValueError', '--error-message', 'bad', ...args], { env });
    expect(end).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(standIn.requests.map((r) => r.authorization)).toEqual([undefined, undefined]);
    expect(standIn.stored.map((r) => [r.insertId, r.json.status, r.json.errors])).toEqual([
      [`${runId}:running`, 'running', []],
      [`${runId}:failed`, 'failed', [{ error_type: 'ValueError', error_message: 'bad' }]],
    ]);
  });

  it('warns and exits 0 when BigQuery rejects the row, exits 1 with --strict', async () => {
    standIn.fallback = { kind: 'reject', reason: () => ({ reason: 'invalid', message: 'no such field: errors.' }) };
    const args = ['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--engine', 'bigquery', '--project', 'test-project', '--table', TABLE];
    const env = { PEM_BIGQUERY_API_ENDPOINT: standIn.url };
    const lenient = await runCli(args, { env });
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/^warning: cannot record the start of run gamebook\/2025-10-07\/.*: BigQuery rejected the row: invalid: no such field: errors\./);
    const strict = await runCli([...args, '--strict'], { env });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^error: .*BigQuery rejected the row: invalid: no such field: errors\./);
  });
});

describe('the BigQuery warehouse insertRunRows', () => {
  const row = {
    run_id: 'r1',
    processor_name: 'gamebook',
    processing_date: '2025-10-07',
    status: 'failed',
    started_at: new Date('2025-10-08T06:00:00Z'),
    completed_at: new Date('2025-10-08T06:01:00Z'),
    records_processed: 0,
    errors: [{ error_type: 'ValueError', error_message: 'bad' }],
    trigger_source: 'manual',
    metadata: null,
  };

  function warehouse(): BigQueryWarehouse {
    const client = new BigQuery({ projectId: 'test-project', apiEndpoint: standIn.url, authClient: offlineAuthClient() });
    return new BigQueryWarehouse(client, 'test-project', 'US');
  }

  it('uses the same deterministic insertId as the recorder', async () => {
    await warehouse().insertRunRows(TABLE, [row]);
    expect(standIn.requests[0]!.body.rows).toEqual([
      {
        insertId: runRowInsertId(row),
        json: { ...row, started_at: '2025-10-08T06:00:00.000Z', completed_at: '2025-10-08T06:01:00.000Z' },
      },
    ]);
    expect(runRowInsertId(row)).toBe('r1:failed');
  });

  it('fails with the rejected rows named instead of a generic partial failure', async () => {
    standIn.fallback = { kind: 'reject', reason: (r) => (r.json.run_id === 'r2' ? { reason: 'invalid', message: 'Invalid date: 2025-13-01' } : null) };
    await expect(warehouse().insertRunRows(TABLE, [row, { ...row, run_id: 'r2' }])).rejects.toThrow(
      'BigQuery rejected 2 rows: run r1 (failed): stopped, run r2 (failed): invalid: Invalid date: 2025-13-01',
    );
  });
});

describe('the network guard of these tests', () => {
  it('refuses a connection that would leave the machine', async () => {
    const { connect } = await import('node:net');
    expect(() => connect({ host: '169.254.169.254', port: 80 })).toThrow(/network guard/);
    expect(network.refused.splice(0)).toEqual(['169.254.169.254']);
  });
});

describe('insertIds', () => {
  it('stay readable up to 128 characters and are hashed beyond, still per run and status', () => {
    const long = `${'p'.repeat(200)}/2025-10-07/20251008T060000000Z-0123456789ab`;
    const running = runRowInsertId({ run_id: long, status: 'running' });
    expect(running).toMatch(/^[0-9a-f]{64}:running$/);
    expect(runRowInsertId({ run_id: long, status: 'running' })).toBe(running);
    expect(runRowInsertId({ run_id: long, status: 'success' })).not.toBe(running);
  });
});
