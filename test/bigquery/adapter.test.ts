/**
 * The BigQuery adapter through the real `@google-cloud/bigquery` client, against a loopback
 * stand-in of the REST API: what it sends (SQL, parameter names and types) and how it decodes
 * BigQuery's wire format into the same plain values as the DuckDB adapter.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PemError } from '../../src/errors.js';
import { BigQuery } from '@google-cloud/bigquery';
import { describe as describeBigQueryError, openBigQuery } from '../../src/warehouse/bigquery.js';
import { describeInsertError, isTransient } from '../../src/warehouse/bigquery-client.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { QueryParams, Warehouse } from '../../src/warehouse/types.js';
import { guardLoopback, type LoopbackGuard } from './support/loopback-guard.js';
import { BigQueryRestError, startBigQueryStandIn, unreachableUrl, type QueryAnswer, type StandIn } from './support/rest-standin.js';

const CHECK_PARAMS: QueryParams = {
  end_date: { type: 'DATE', value: '2025-10-07' },
  lookback_days: { type: 'INT64', value: 7 },
  now: { type: 'TIMESTAMP', value: new Date('2025-10-08T12:00:00.000Z') },
  processors: { type: 'ARRAY<STRING>', value: ['gamebook_processor', 'roster_processor'] },
};

/** One row of every type the monitor reads, as BigQuery would hold it. */
const TYPED: QueryAnswer = {
  columns: [
    { name: 'processor_name', type: 'STRING' },
    { name: 'processing_date', type: 'DATE' },
    { name: 'runs', type: 'INT64' },
    { name: 'ratio', type: 'FLOAT64' },
    { name: 'is_stale', type: 'BOOL' },
    { name: 'first_started_at', type: 'TIMESTAMP' },
    { name: 'last_error_type', type: 'STRING' },
    { name: 'missing_dates', type: 'ARRAY<DATE>' },
    { name: 'errors', type: 'ARRAY<STRUCT<error_type STRING, error_message STRING>>' },
    { name: 'latest', type: 'STRUCT<status STRING, completed_at TIMESTAMP>' },
    { name: 'metadata', type: 'JSON' },
  ],
  rows: [
    {
      processor_name: 'gamebook_processor',
      processing_date: '2025-10-07',
      runs: 9007199254740,
      ratio: 0.25,
      is_stale: false,
      first_started_at: '2025-10-08T06:00:01.234Z',
      last_error_type: null,
      missing_dates: ['2025-10-03', '2025-10-05'],
      errors: [
        { error_type: 'Timeout', error_message: 'upstream API timed out' },
        { error_type: 'KeyError', error_message: null },
      ],
      latest: { status: 'failed', completed_at: '2025-10-08T06:10:00.000Z' },
      metadata: '{"attempt":2}',
    },
    {
      processor_name: 'roster_processor',
      processing_date: '2025-10-06',
      runs: 0,
      ratio: null,
      is_stale: true,
      first_started_at: null,
      last_error_type: 'IOError',
      missing_dates: [],
      errors: [],
      latest: null,
      metadata: null,
    },
  ],
};

const DECODED = [
  {
    processor_name: 'gamebook_processor',
    processing_date: '2025-10-07',
    runs: 9007199254740,
    ratio: 0.25,
    is_stale: false,
    first_started_at: '2025-10-08T06:00:01.234Z',
    last_error_type: null,
    missing_dates: ['2025-10-03', '2025-10-05'],
    errors: [
      { error_type: 'Timeout', error_message: 'upstream API timed out' },
      { error_type: 'KeyError', error_message: null },
    ],
    latest: { status: 'failed', completed_at: '2025-10-08T06:10:00.000Z' },
    metadata: '{"attempt":2}',
  },
  {
    processor_name: 'roster_processor',
    processing_date: '2025-10-06',
    runs: 0,
    ratio: null,
    is_stale: true,
    first_started_at: null,
    last_error_type: 'IOError',
    missing_dates: [],
    errors: [],
    latest: null,
    metadata: null,
  },
];

let guard: LoopbackGuard;
beforeAll(() => {
  guard = guardLoopback();
});
afterAll(() => guard.restore());

const FAST_RETRY = { retries: 3, minTimeoutMs: 10 };
/** The bound for a job that never completes: long enough that a loaded machine has inserted and polled it before. */
const NEVER_COMPLETES_TIMEOUT_MS = 2_000;

async function withWarehouse<T>(standIn: StandIn, fn: (warehouse: Warehouse) => Promise<T>): Promise<T> {
  const warehouse = await openBigQuery({ projectId: 'pem-test', location: 'US', apiEndpoint: standIn.url, retry: FAST_RETRY });
  try {
    return await fn(warehouse);
  } finally {
    await warehouse.close();
  }
}

describe('BigQuery queries through the real client', () => {
  let standIn: StandIn;
  beforeAll(async () => {
    standIn = await startBigQueryStandIn({ answer: () => TYPED });
  });
  afterAll(() => standIn?.close());

  it('sends one jobs.query with every parameter typed: DATE, INT64, TIMESTAMP, ARRAY<STRING>', async () => {
    const before = standIn.queries.length;
    await withWarehouse(standIn, (wh) =>
      wh.query('SELECT * FROM `nba_reference.processor_health_daily_at`(@end_date, @lookback_days, @now) WHERE processor_name IN UNNEST(@processors)', CHECK_PARAMS),
    );
    const sent = standIn.queries.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'jobs.query', project: 'pem-test', location: 'US', useLegacySql: false, parameterMode: 'named' });
    expect(sent[0]!.params).toEqual([
      { name: 'end_date', type: 'DATE', value: '2025-10-07' },
      { name: 'lookback_days', type: 'INT64', value: '7' },
      { name: 'now', type: 'TIMESTAMP', value: '2025-10-08T12:00:00.000Z' },
      { name: 'processors', type: 'ARRAY<STRING>', value: ['gamebook_processor', 'roster_processor'] },
    ]);
  });

  it('types an empty processor list as ARRAY<STRING>', async () => {
    const before = standIn.queries.length;
    await withWarehouse(standIn, (wh) => wh.query('SELECT 1 FROM UNNEST(@processors)', { processors: { type: 'ARRAY<STRING>', value: [] } }));
    expect(standIn.queries[before]!.params).toEqual([{ name: 'processors', type: 'ARRAY<STRING>', value: [] }]);
  });

  it('sends only the parameters the statement names, and none for a statement without any', async () => {
    const before = standIn.queries.length;
    await withWarehouse(standIn, async (wh) => {
      await wh.query('SELECT @end_date AS d', CHECK_PARAMS);
      await wh.query('SELECT 1 AS one', CHECK_PARAMS);
    });
    expect(standIn.queries[before]!.params.map((p) => p.name)).toEqual(['end_date']);
    expect(standIn.queries[before + 1]!.params).toEqual([]);
    expect(standIn.queries[before + 1]!.body.queryParameters).toBeUndefined();
  });

  it('decodes DATE, TIMESTAMP, INT64, FLOAT64, BOOL, NULL, arrays, arrays of structs, structs and JSON', async () => {
    const rows = await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
    expect(rows).toEqual(DECODED);
  });

  it('asks BigQuery for int64 microsecond timestamps, the form the client parses', async () => {
    const before = standIn.queries.length;
    await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
    expect(standIn.queries[before]!.body.formatOptions).toEqual({ useInt64Timestamp: true });
  });

  it('sends no credentials to a plain-HTTP endpoint', () => {
    expect(standIn.requests.length).toBeGreaterThan(0);
    expect(standIn.requests.every((r) => r.authorization === undefined)).toBe(true);
  });
});

describe('BigQuery results that arrive later and in pages', () => {
  it('polls getQueryResults until the job completes and reads every page', async () => {
    const many: QueryAnswer = { columns: TYPED.columns, rows: [...TYPED.rows, ...TYPED.rows, ...TYPED.rows] };
    const standIn = await startBigQueryStandIn({ answer: () => many, pollFirst: true, pageSize: 2 });
    try {
      const rows = await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
      expect(rows).toEqual([...DECODED, ...DECODED, ...DECODED]);
      const polls = standIn.requests.filter((r) => r.method === 'GET' && /\/queries\/pem_standin_1$/.test(r.path));
      expect(polls.length).toBeGreaterThanOrEqual(3);
    } finally {
      await standIn.close();
    }
  });

  it('cancels a job that does not complete within PEM_BIGQUERY_TIMEOUT_MS, and says so in its one line', async () => {
    const standIn = await startBigQueryStandIn({ answer: () => TYPED, neverCompleteMs: 30 });
    try {
      const warehouse = await openBigQuery({ projectId: 'pem-test', location: 'US', apiEndpoint: standIn.url, retry: FAST_RETRY, timeoutMs: NEVER_COMPLETES_TIMEOUT_MS });
      const error = await warehouse.query('SELECT 1').then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(PemError);
      expect((error as Error).message).toBe(
        `BigQuery project pem-test (US): no answer within ${NEVER_COMPLETES_TIMEOUT_MS} ms (PEM_BIGQUERY_TIMEOUT_MS); asked BigQuery to cancel its job pem_standin_1`,
      );
      expect(standIn.cancelled).toEqual(['pem_standin_1']);
      // The client polled the job before giving up: the cancel is of a job it had been waiting for.
      expect(standIn.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/queries/pem_standin_1')).length).toBeGreaterThan(0);
    } finally {
      await standIn.close();
    }
  });

  it('names the job and how to cancel it when BigQuery refuses the cancellation', async () => {
    const standIn = await startBigQueryStandIn({ answer: () => TYPED, neverCompleteMs: 30, refuseCancel: { status: 403, message: 'Access Denied: bigquery.jobs.update' } });
    try {
      const warehouse = await openBigQuery({ projectId: 'pem-test', location: 'US', apiEndpoint: standIn.url, retry: FAST_RETRY, timeoutMs: NEVER_COMPLETES_TIMEOUT_MS });
      const error = await warehouse.query('SELECT 1').then(() => null, (e: unknown) => e);
      expect((error as Error).message).toBe(
        `BigQuery project pem-test (US): no answer within ${NEVER_COMPLETES_TIMEOUT_MS} ms (PEM_BIGQUERY_TIMEOUT_MS); cancelling its job failed ` +
          '(pem_standin_1: Access Denied: bigquery.jobs.update): cancel it with bq cancel or in the console',
      );
      expect(standIn.cancelled).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it('cancels the job a retried attempt left running, and not the one that answered', async () => {
    const standIn = await startBigQueryStandIn({ answer: () => TYPED, pollFirst: true });
    const unavailable = { kind: 'http-error', status: 503, reason: 'backendError', message: 'Backend error' } as const;
    // jobs.query makes job 1; polling it fails (503), so the query is asked again: job 2 answers.
    standIn.queue.push({ kind: 'ok' }, unavailable, { kind: 'ok' }, { kind: 'ok' });
    try {
      const rows = await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
      expect(rows).toEqual(DECODED);
      expect(standIn.cancelled).toEqual(['pem_standin_1']);
    } finally {
      await standIn.close();
    }
  });

  it('cancels every job it made when the query fails for good, and says so in the error line', async () => {
    const standIn = await startBigQueryStandIn({ answer: () => TYPED, pollFirst: true });
    const unavailable = { kind: 'http-error', status: 503, reason: 'backendError', message: 'Backend error' } as const;
    for (let attempt = 0; attempt < 4; attempt++) standIn.queue.push({ kind: 'ok' }, unavailable);
    try {
      const error = await withWarehouse(standIn, (wh) => wh.query('SELECT 1')).then(() => null, (e: unknown) => e);
      expect((error as Error).message).toBe(
        'BigQuery project pem-test (US): Backend error; asked BigQuery to cancel its jobs pem_standin_1, pem_standin_2, pem_standin_3, pem_standin_4',
      );
      // Asked side by side: they may arrive in any order.
      expect([...standIn.cancelled].sort()).toEqual(['pem_standin_1', 'pem_standin_2', 'pem_standin_3', 'pem_standin_4']);
    } finally {
      await standIn.close();
    }
  });

  it('cancels nothing when a query finishes within the bound', async () => {
    const standIn = await startBigQueryStandIn({ answer: () => TYPED, pollFirst: true });
    try {
      await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
      expect(standIn.cancelled).toEqual([]);
      expect(standIn.requests.some((r) => r.path.endsWith('/cancel'))).toBe(false);
    } finally {
      await standIn.close();
    }
  });
});

describe('BigQuery decoding matches DuckDB decoding', () => {
  it('gives the same plain values for the same typed values', async () => {
    const duck = await openDuckDb({ path: ':memory:', create: true });
    let duckRows;
    try {
      duckRows = await duck.query(`
        SELECT 'gamebook_processor' AS processor_name, DATE '2025-10-07' AS processing_date, CAST(9007199254740 AS BIGINT) AS runs,
          0.25::DOUBLE AS ratio, FALSE AS is_stale, TIMESTAMP '2025-10-08 06:00:01.234' AS first_started_at,
          CAST(NULL AS VARCHAR) AS last_error_type, [DATE '2025-10-03', DATE '2025-10-05'] AS missing_dates,
          [{'error_type': 'Timeout', 'error_message': 'upstream API timed out'}, {'error_type': 'KeyError', 'error_message': NULL}] AS errors,
          {'status': 'failed', 'completed_at': TIMESTAMP '2025-10-08 06:10:00'} AS latest`);
    } finally {
      await duck.close();
    }
    const answer: QueryAnswer = { columns: TYPED.columns.filter((c) => c.name !== 'metadata'), rows: [TYPED.rows[0]!] };
    const standIn = await startBigQueryStandIn({ answer: () => answer });
    try {
      const rows = await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
      expect(rows).toEqual(duckRows);
    } finally {
      await standIn.close();
    }
  });
});

describe('BigQuery errors', () => {
  it('says that the credentials\' key is what OpenSSL could not read, which its own words do not', () => {
    expect(describeBigQueryError(new Error('error:1E08010C:DECODER routines::unsupported'))).toBe(
      "error:1E08010C:DECODER routines::unsupported (the credentials' private key cannot be read: check the key file GOOGLE_APPLICATION_CREDENTIALS names, or `gcloud auth application-default login`)",
    );
    expect(describeBigQueryError(new Error('Syntax error: Unexpected keyword FROM at [1:8]'))).toBe('Syntax error: Unexpected keyword FROM at [1:8]');
    // OpenSSL's other words (an https endpoint that is really http, a proxy) are not about the key.
    expect(describeBigQueryError(new Error('error:0A00010B:SSL routines::wrong version number'))).toBe('error:0A00010B:SSL routines::wrong version number');
  });

  it('does not retry a credentials file that is not there: no retry makes it appear (it took 11 s to say so)', async () => {
    // The client's own error, before any request: it reads the key file first.
    const missingKey = await new BigQuery({ projectId: 'pem-test', keyFilename: '/nonexistent/pem-key.json' }).query('SELECT 1').catch((e: unknown) => e);
    expect((missingKey as { code?: string }).code).toBe('ENOENT');
    expect(isTransient(missingKey)).toBe(false);
    expect(isTransient(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))).toBe(false);
    // A connection dropped mid-answer is still worth another try.
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('says a run row whose connection dropped after it was sent may be stored all the same, and not one that never connected', () => {
    expect(describeInsertError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 1).message).toBe(
      'BigQuery request failed: socket hang up (the connection dropped after the request was sent: BigQuery may have stored it all the same)',
    );
    expect(describeInsertError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 1).message).toBe('BigQuery request failed: connect ECONNREFUSED 127.0.0.1:9');
  });

  it('turns a rejected query into one line with BigQuery’s own message', async () => {
    const standIn = await startBigQueryStandIn({
      answer: () => {
        throw new BigQueryRestError('Syntax error: Unexpected keyword FROM at [1:8]');
      },
    });
    try {
      const error = await withWarehouse(standIn, (wh) => wh.query('SELECT FROM')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PemError);
      expect((error as PemError).code).toBe('runtime');
      expect((error as PemError).message).toBe('BigQuery project pem-test (US): Syntax error: Unexpected keyword FROM at [1:8]');
    } finally {
      await standIn.close();
    }
  });

  it('retries a transient failure (HTTP 503 backendError) and then succeeds', async () => {
    let calls = 0;
    const standIn = await startBigQueryStandIn({
      answer: () => {
        calls += 1;
        if (calls === 1) throw new BigQueryRestError('Error encountered during execution. Retrying may solve the problem.', 503, 'backendError');
        return TYPED;
      },
    });
    try {
      const rows = await withWarehouse(standIn, (wh) => wh.query('SELECT 1'));
      expect(rows).toEqual(DECODED);
      expect(standIn.queries).toHaveLength(2);
    } finally {
      await standIn.close();
    }
  });

  it('does not retry what a retry cannot cure: a 400, an endpoint that refuses connections', async () => {
    const standIn = await startBigQueryStandIn({
      answer: () => {
        throw new BigQueryRestError('Unrecognized name: processor_nme at [1:8]');
      },
    });
    try {
      await expect(withWarehouse(standIn, (wh) => wh.query('SELECT processor_nme'))).rejects.toThrow(/Unrecognized name: processor_nme/);
      expect(standIn.queries).toHaveLength(1);
    } finally {
      await standIn.close();
    }
    // A retry would first wait 10 s: finishing sooner proves there was none, however slow the
    // machine (the default policy's 1 s wait was close to a cold client's first request under load).
    const noRetryWithin = { retries: 1, minTimeoutMs: 10_000 };
    const started = Date.now();
    const refused = await openBigQuery({ projectId: 'pem-test', location: 'US', apiEndpoint: await unreachableUrl(), retry: noRetryWithin });
    await expect(refused.query('SELECT 1')).rejects.toThrow(/^BigQuery project pem-test \(US\): .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(noRetryWithin.minTimeoutMs);
  });

  it("names the status and what came back when the answer is not BigQuery's JSON (a proxy's 500 page)", () => {
    // The client's error for a text/plain 500 (@google-cloud/bigquery 8.1.1, seen against a stand-in).
    const proxyPage = Object.assign(
      new Error('Multiple errors occurred during the request. Please see the `errors` array for complete details.\n\n    1. Internal Server Error\n    2. rollup_error\n\n'),
      { code: 500, errors: [] },
    );
    expect(describeBigQueryError(proxyPage)).toBe('HTTP 500: Internal Server Error; rollup_error');
    // A proxy's HTML page: its markup is left out of the one line.
    const htmlPage = Object.assign(new Error('Multiple errors occurred during the request.\n\n    1. Bad Gateway\n    2. <html><body><h1>502 Bad Gateway</h1>\n'), { code: 502, errors: [] });
    expect(describeBigQueryError(htmlPage)).toBe('HTTP 502: Bad Gateway');
    const onlyHtml = Object.assign(new Error('Multiple errors occurred during the request.\n\n    1. <!DOCTYPE HTML>\n'), { code: 501, errors: [] });
    expect(describeBigQueryError(onlyHtml)).toBe('HTTP 501: an HTML page');
    // Errors without a message, and a body the client could not read, as the client lists them.
    const unsaid = Object.assign(new Error('Multiple errors occurred during the request.\n\n    1. Access Denied: Table p:d.t\n    2. undefined\n'), { code: 403, errors: [] });
    expect(describeBigQueryError(unsaid)).toBe('HTTP 403: Access Denied: Table p:d.t');
    const unread = Object.assign(new Error('Multiple errors occurred during the request.\n\n    1. Forbidden\n    2. [object Object]\n'), { code: 403, errors: [] });
    expect(describeBigQueryError(unread)).toBe('HTTP 403: Forbidden');
    const empty = Object.assign(new Error('Multiple errors occurred during the request.\n\n    1. undefined\n'), { code: 403, errors: [] });
    expect(describeBigQueryError(empty)).toBe('HTTP 403: an answer without a message');
    expect(describeBigQueryError(Object.assign(new Error('Access Denied: Table p:d.t'), { code: 403, errors: [{ message: 'Access Denied: Table p:d.t' }] }))).toBe(
      'Access Denied: Table p:d.t',
    );
  });

  it.each([
    ['an empty JSON object', '{}', 'application/json'],
    ['a login page', '<html><body>Sign in</body></html>', 'text/html'],
    ['a job not complete and no job reference', '{"jobComplete": false}', 'application/json'],
  ])("fails in one line, never an uncaught TypeError, when a 2xx answer to a query is not BigQuery's: %s", async (_what, body, type) => {
    const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': type }).end(body));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as net.AddressInfo;
      const warehouse = await openBigQuery({ projectId: 'pem-test', location: 'US', apiEndpoint: `http://127.0.0.1:${port}`, retry: FAST_RETRY });
      await expect(warehouse.query('SELECT 1')).rejects.toThrow(/^BigQuery project pem-test \(US\): the endpoint's answer to a query is not BigQuery's \(no job in it: /);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });

  it.each(['../../x', 'my/proj', 'a project'])('refuses the project %j, which would address another resource, as bad usage', async (projectId) => {
    const error = await openBigQuery({ projectId, location: 'US' }).catch((e: unknown) => e);
    expect((error as PemError).code).toBe('usage');
    expect((error as PemError).message).toBe(`BigQuery project '${projectId}' is not a project ID (letters, digits and hyphens, for example my-project-123)`);
  });

  it('rejects an endpoint that is not an http(s) URL, naming the variable', async () => {
    const error = await openBigQuery({ projectId: 'p', location: 'US', apiEndpoint: 'bigquery.local:9050' }).catch((e: unknown) => e);
    expect((error as PemError).code).toBe('usage');
    expect((error as PemError).message).toMatch(/^PEM_BIGQUERY_API_ENDPOINT 'bigquery\.local:9050' is not an http\(s\) URL/);
  });

  it('needs a project', async () => {
    const error = await openBigQuery({ projectId: undefined, location: 'US' }).catch((e: unknown) => e);
    expect((error as PemError).message).toBe('BigQuery needs a project: pass --project ID or set GOOGLE_CLOUD_PROJECT');
  });
});

describe('BigQuery run-history inserts', () => {
  const started = {
    run_id: 'run-42',
    processor_name: 'gamebook_processor',
    processing_date: '2025-10-07',
    status: 'running',
    started_at: new Date('2025-10-08T06:00:00.000Z'),
    completed_at: null,
    records_processed: null,
    errors: null,
    trigger_source: 'scheduler',
    metadata: null,
  };
  const failed = {
    ...started,
    status: 'failed',
    completed_at: new Date('2025-10-08T06:05:00.000Z'),
    records_processed: 0,
    errors: [{ error_type: 'Timeout', error_message: 'upstream API timed out' }],
    metadata: { attempt: 1 },
  };

  it('streams rows with tabledata.insertAll, one insertId per run and status', async () => {
    const standIn = await startBigQueryStandIn();
    try {
      await withWarehouse(standIn, (wh) => wh.insertRunRows('nba_reference.processor_run_history', [started, failed]));
      expect(standIn.inserts).toHaveLength(1);
      const insert = standIn.inserts[0]!;
      expect(insert).toMatchObject({ project: 'pem-test', dataset: 'nba_reference', table: 'processor_run_history' });
      expect(insert.rows).toEqual([
        {
          insertId: 'run-42:running',
          // A BigQuery ARRAY is never NULL: no errors is the empty list.
          json: { ...started, started_at: '2025-10-08T06:00:00.000Z', errors: [] },
        },
        {
          insertId: 'run-42:failed',
          json: { ...failed, started_at: '2025-10-08T06:00:00.000Z', completed_at: '2025-10-08T06:05:00.000Z', metadata: '{"attempt":1}' },
        },
      ]);
    } finally {
      await standIn.close();
    }
  });

  it('reports a rejected row with BigQuery’s reason, in one line', async () => {
    const standIn = await startBigQueryStandIn({ insertErrors: () => [{ index: 0, message: 'no such field: processing_dat.', reason: 'invalid' }] });
    try {
      const error = await withWarehouse(standIn, (wh) => wh.insertRunRows('nba_reference.processor_run_history', [started])).catch((e: unknown) => e);
      expect((error as PemError).message).toBe(
        'BigQuery project pem-test (US): cannot insert into nba_reference.processor_run_history: BigQuery rejected the row: invalid: no such field: processing_dat.',
      );
      // A rejected row is a permanent failure: sent once.
      expect(standIn.inserts).toHaveLength(1);
    } finally {
      await standIn.close();
    }
  });
});

describe('the loopback guard', () => {
  it('sees connections, so its verdict below means something', async () => {
    const before = guard.hosts().length;
    await new Promise<void>((resolve) => {
      // TEST-NET-1 (RFC 5737): never routed; the attempt is enough to be recorded.
      const socket = net.connect({ host: '192.0.2.1', port: 9 });
      socket.on('error', () => resolve());
      socket.destroy();
      resolve();
    });
    expect(guard.hosts().slice(before)).toEqual(['192.0.2.1']);
  });

  it('saw nothing else leave loopback: no Google API, token or metadata server', () => {
    expect(guard.outside().filter((h) => h !== '192.0.2.1')).toEqual([]);
    expect(guard.hosts().length).toBeGreaterThan(1);
  });
});
