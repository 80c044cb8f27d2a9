/**
 * A loopback stand-in for the parts of BigQuery's REST API (v2) the monitor uses, so the real
 * `@google-cloud/bigquery` client runs its real request and decoding paths against it:
 *
 *   POST /bigquery/v2/projects/{p}/queries                          jobs.query
 *   POST /bigquery/v2/projects/{p}/jobs                             jobs.insert (query jobs)
 *   GET  /bigquery/v2/projects/{p}/queries/{jobId}                  jobs.getQueryResults
 *   POST /bigquery/v2/projects/{p}/jobs/{jobId}/cancel              jobs.cancel
 *   POST /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}/insertAll  tabledata.insertAll
 *   GET  /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}            tables.get (the schema)
 *
 * Answers use BigQuery's wire format (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query):
 * legacy type names in the schema (INTEGER, BOOLEAN, FLOAT, RECORD), every cell a string or null
 * (`{"v": "42"}`), REPEATED cells as `[{"v": …}]`, RECORD cells as `{"f": […]}`, TIMESTAMP as int64
 * microseconds when the request sets `formatOptions.useInt64Timestamp`, else as float seconds
 * ("1.7599248E9"). Every request is recorded for the test to assert on.
 *
 * insertAll keeps rows as BigQuery does: a row whose insertId was already seen is dropped
 * (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency), and a
 * request with a rejected row stores nothing, the other rows failing as `stopped`.
 *
 * Faults are queued per request (`queue`, then `fallback`), for queries and inserts alike: answer
 * an HTTP error, reject rows, do the work and drop the connection before answering (a lost
 * response), or never answer. A query's own error is thrown by `answer` (BigQueryRestError).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';

/**
 * A loopback URL where nothing listens: a port the OS handed out and took back, that never
 * served HTTP (so no pooled keep-alive connection to it exists either).
 */
export async function unreachableUrl(): Promise<string> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A column of an answer, in BigQuery type syntax (`ARRAY<STRUCT<a STRING>>`). */
export interface AnswerColumn {
  name: string;
  type: string;
}

export interface QueryAnswer {
  columns: AnswerColumn[];
  rows: Record<string, unknown>[];
}

export interface ReceivedParameter {
  name: string;
  /** BigQuery type syntax rebuilt from `parameterType`, e.g. `ARRAY<STRING>`. */
  type: string;
  /** The decoded value: strings for scalars as sent, arrays for ARRAY. */
  value: unknown;
}

export interface ReceivedQuery {
  via: 'jobs.query' | 'jobs.insert';
  project: string;
  sql: string;
  location: string | undefined;
  useLegacySql: boolean | undefined;
  parameterMode: string | undefined;
  params: ReceivedParameter[];
  body: Record<string, unknown>;
}

export interface InsertAllRow {
  insertId?: string;
  json: Record<string, unknown>;
}

export interface ReceivedInsert {
  project: string;
  dataset: string;
  table: string;
  rows: InsertAllRow[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The JSON body as sent (`{}` when there is none). */
  body: { rows?: InsertAllRow[]; [key: string]: unknown };
}

/** What the stand-in does with one request. */
export type Behaviour =
  | { kind: 'ok' }
  /** insertAll: rejects the rows for which `reason` gives one; the others fail as 'stopped'. */
  | { kind: 'reject'; reason: (row: InsertAllRow) => { reason: string; message: string } | null }
  | { kind: 'http-error'; status: number; reason: string; message: string }
  /** Does the work (stores the rows, runs the query), then drops the connection unanswered. */
  | { kind: 'store-then-drop' }
  /** Answers HTTP 200 with this body (as text/html unless given), doing nothing (a captive portal's page; an emulator's `{}`). */
  | { kind: 'page'; body: string; contentType?: string }
  | { kind: 'hang' };

/** Thrown by `answer` to make the stand-in reply as BigQuery does to a bad query (HTTP 400). */
export class BigQueryRestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly reason = 'invalidQuery',
  ) {
    super(message);
  }
}

export interface StandInOptions {
  answer?: (query: ReceivedQuery) => QueryAnswer | Promise<QueryAnswer>;
  /** Per-row insert errors to report, by row index (the other rows fail as 'stopped'). */
  insertErrors?: (insert: ReceivedInsert) => { index: number; message: string; reason?: string }[];
  /** Reply to jobs.query with `jobComplete: false`, so the client polls getQueryResults. */
  pollFirst?: boolean;
  /**
   * Queries never complete: jobs.query and every getQueryResults answer `jobComplete: false` after
   * this many milliseconds (BigQuery long-polls ~10 s), until the job is cancelled.
   */
  neverCompleteMs?: number;
  /** jobs.cancel answers this HTTP error instead of cancelling. */
  refuseCancel?: { status: number; message: string };
  /** jobs.cancel answers after this many milliseconds. */
  cancelDelayMs?: number;
  /** Rows per page: more rows come with a pageToken. */
  pageSize?: number;
  /** The columns of a table for tables.get, or null when there is no such table (404); a BigQueryRestError thrown is answered as its status. */
  tables?: (dataset: string, table: string) => AnswerColumn[] | null;
}

export interface StandIn {
  /** `http://127.0.0.1:<port>`: the client's apiEndpoint. */
  url: string;
  requests: ReceivedRequest[];
  queries: ReceivedQuery[];
  /** Every insertAll request, stored or not. */
  inserts: ReceivedInsert[];
  /** Rows stored, after insertId de-duplication, in arrival order. */
  stored: InsertAllRow[];
  /** Ids of the jobs cancelled (jobs.cancel), in order. */
  cancelled: string[];
  /** Behaviour of the next requests, one each; then `fallback`. */
  queue: Behaviour[];
  fallback: Behaviour;
  close(): Promise<void>;
}

/**
 * Credentials that need no network: a fixed access token. Without them the client would look
 * for Application Default Credentials, which probes the GCE metadata server.
 */
export function offlineAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'offline-test-token', expiry_date: Date.now() + 3_600_000 });
  return client;
}

// ---------------------------------------------------------------------------------------
// Types and cells.

interface RestField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REPEATED';
  fields?: RestField[];
}

const LEGACY: Record<string, string> = { INT64: 'INTEGER', BOOL: 'BOOLEAN', FLOAT64: 'FLOAT', STRING: 'STRING', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', JSON: 'JSON' };

/** Splits `a STRING, b ARRAY<STRUCT<x INT64, y DATE>>` at top-level commas. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<') depth++;
    else if (text[i] === '>') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter(Boolean);
}

export function restField(name: string, type: string): RestField {
  const t = type.trim();
  if (t.startsWith('ARRAY<')) return { ...restField(name, t.slice(6, -1)), mode: 'REPEATED' };
  if (t.startsWith('STRUCT<')) {
    const fields = splitTop(t.slice(7, -1)).map((f) => {
      const space = f.indexOf(' ');
      return restField(f.slice(0, space), f.slice(space + 1));
    });
    return { name, type: 'RECORD', mode: 'NULLABLE', fields };
  }
  const legacy = LEGACY[t];
  if (!legacy) throw new Error(`stand-in: unsupported type ${t}`);
  return { name, type: legacy, mode: 'NULLABLE' };
}

function scalarCell(field: RestField, value: unknown, int64Timestamps: boolean): string | null {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case 'BOOLEAN':
      return value ? 'true' : 'false';
    case 'TIMESTAMP': {
      const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
      const micros = BigInt(ms) * 1000n;
      return int64Timestamps ? micros.toString() : (ms / 1000).toExponential().replace('e+', 'E');
    }
    case 'JSON':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return String(value);
  }
}

function cell(field: RestField, value: unknown, int64Timestamps: boolean): { v: unknown } {
  if (value === null || value === undefined) return { v: field.mode === 'REPEATED' ? [] : null };
  if (field.mode === 'REPEATED') {
    const element = { ...field, mode: 'NULLABLE' as const };
    return { v: (value as unknown[]).map((item) => cell(element, item, int64Timestamps)) };
  }
  if (field.type === 'RECORD') {
    const record = value as Record<string, unknown>;
    return { v: { f: field.fields!.map((f) => cell(f, record[f.name], int64Timestamps)) } };
  }
  return { v: scalarCell(field, value, int64Timestamps) };
}

function parameterTypeName(type: { type: string; arrayType?: unknown; structTypes?: { name: string; type: unknown }[] }): string {
  if (type.type === 'ARRAY') return `ARRAY<${parameterTypeName(type.arrayType as never)}>`;
  if (type.type === 'STRUCT') return `STRUCT<${(type.structTypes ?? []).map((s) => `${s.name} ${parameterTypeName(s.type as never)}`).join(', ')}>`;
  return type.type;
}

function parameterValue(value: { value?: unknown; arrayValues?: unknown[]; structValues?: Record<string, unknown> } | undefined): unknown {
  if (!value) return null;
  if (value.arrayValues) return value.arrayValues.map((v) => parameterValue(v as never));
  if (value.structValues) return Object.fromEntries(Object.entries(value.structValues).map(([k, v]) => [k, parameterValue(v as never)]));
  return value.value ?? null;
}

function receivedQuery(via: ReceivedQuery['via'], project: string, body: Record<string, unknown>): ReceivedQuery {
  const config = via === 'jobs.query' ? body : ((body.configuration as Record<string, unknown>)?.query as Record<string, unknown>) ?? {};
  const location = via === 'jobs.query' ? (body.location as string | undefined) : ((body.jobReference as { location?: string })?.location ?? undefined);
  const params = ((config.queryParameters as { name: string; parameterType: never; parameterValue: never }[]) ?? []).map((p) => ({
    name: p.name,
    type: parameterTypeName(p.parameterType),
    value: parameterValue(p.parameterValue),
  }));
  return {
    via,
    project,
    sql: String(config.query ?? ''),
    location,
    useLegacySql: config.useLegacySql as boolean | undefined,
    parameterMode: config.parameterMode as string | undefined,
    params,
    body,
  };
}

// ---------------------------------------------------------------------------------------

async function readJson(request: IncomingMessage): Promise<ReceivedRequest['body']> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as ReceivedRequest['body']) : {};
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

function errorBody(status: number, message: string, reason: string) {
  return { error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: STATUS_NAMES[status] ?? 'UNKNOWN' } };
}

interface Job {
  id: string;
  project: string;
  location: string;
  answer: QueryAnswer;
  polled: boolean;
}

export async function startBigQueryStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const jobs = new Map<string, Job>();
  const seenInsertIds = new Set<string>();
  let sequence = 0;
  let standIn: StandIn;

  const page = (job: Job, pageToken: string | null, maxResults: number | null, int64Timestamps: boolean) => {
    const fields = job.answer.columns.map((c) => restField(c.name, c.type));
    const start = pageToken ? Number(pageToken) : 0;
    const size = Math.min(options.pageSize ?? Number.POSITIVE_INFINITY, maxResults ?? Number.POSITIVE_INFINITY);
    const slice = job.answer.rows.slice(start, start + size);
    const next = start + slice.length < job.answer.rows.length ? String(start + slice.length) : undefined;
    return {
      schema: { fields },
      jobReference: { projectId: job.project, jobId: job.id, location: job.location },
      totalRows: String(job.answer.rows.length),
      ...(slice.length > 0 ? { rows: slice.map((row) => ({ f: fields.map((f) => cell(f, row[f.name], int64Timestamps)) })) } : {}),
      ...(next ? { pageToken: next } : {}),
      jobComplete: true,
      cacheHit: false,
    };
  };

  const runQuery = async (query: ReceivedQuery): Promise<Job> => {
    standIn.queries.push(query);
    if (!options.answer) throw new BigQueryRestError('the stand-in has no answer for queries', 500, 'backendError');
    const answer = await options.answer(query);
    const job: Job = { id: `pem_standin_${++sequence}`, project: query.project, location: query.location ?? 'US', answer, polled: false };
    jobs.set(job.id, job);
    return job;
  };

  /** insertAll: all or nothing, as without `skipInvalidRows`; a row whose insertId was seen is dropped. */
  const insertAll = (insert: ReceivedInsert, behaviour: Behaviour) => {
    standIn.inserts.push(insert);
    const rejected = new Map<number, { reason: string; message: string }>();
    for (const e of options.insertErrors?.(insert) ?? []) rejected.set(e.index, { reason: e.reason ?? 'invalid', message: e.message });
    if (behaviour.kind === 'reject') {
      insert.rows.forEach((row, index) => {
        const verdict = behaviour.reason(row);
        if (verdict) rejected.set(index, verdict);
      });
    }
    if (rejected.size > 0) {
      const insertErrors = insert.rows.map((_, index) => {
        const { reason, message } = rejected.get(index) ?? { reason: 'stopped', message: '' };
        return { index, errors: [{ reason, location: '', debugInfo: '', message }] };
      });
      return { kind: 'bigquery#tableDataInsertAllResponse', insertErrors };
    }
    for (const row of insert.rows) {
      if (row.insertId !== undefined && seenInsertIds.has(row.insertId)) continue;
      if (row.insertId !== undefined) seenInsertIds.add(row.insertId);
      standIn.stored.push(row);
    }
    return { kind: 'bigquery#tableDataInsertAllResponse' };
  };

  /** The answer to one request, as HTTP status and JSON body. */
  const serve = async (method: string, url: URL, body: ReceivedRequest['body'], behaviour: Behaviour): Promise<[number, unknown]> => {
    const path = url.pathname;
    let match: RegExpExecArray | null;
    if (method === 'POST' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(path))) {
      const job = await runQuery(receivedQuery('jobs.query', decodeURIComponent(match[1]!), body));
      const int64 = Boolean((body.formatOptions as { useInt64Timestamp?: boolean } | undefined)?.useInt64Timestamp);
      if (options.pollFirst || options.neverCompleteMs !== undefined) {
        if (options.neverCompleteMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.neverCompleteMs));
        return [200, { kind: 'bigquery#queryResponse', jobReference: { projectId: job.project, jobId: job.id, location: job.location }, jobComplete: false }];
      }
      return [200, { kind: 'bigquery#queryResponse', ...page(job, null, (body.maxResults as number | undefined) ?? null, int64) }];
    }
    if (method === 'POST' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(path))) {
      const job = await runQuery(receivedQuery('jobs.insert', decodeURIComponent(match[1]!), body));
      return [
        200,
        {
          kind: 'bigquery#job',
          id: `${job.project}:${job.location}.${job.id}`,
          jobReference: { projectId: job.project, jobId: job.id, location: job.location },
          configuration: body.configuration,
          status: { state: 'DONE' },
        },
      ];
    }
    if (method === 'GET' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(path))) {
      const job = jobs.get(decodeURIComponent(match[2]!));
      if (!job) return [404, errorBody(404, `Not found: Job ${match[1]}:${match[2]}`, 'notFound')];
      if (options.neverCompleteMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, options.neverCompleteMs));
        if (!standIn.cancelled.includes(job.id)) return [200, { kind: 'bigquery#getQueryResultsResponse', jobReference: { projectId: job.project, jobId: job.id, location: job.location }, jobComplete: false }];
        return [400, errorBody(400, 'Job execution was cancelled: User requested cancellation', 'stopped')];
      }
      const int64 = url.searchParams.get('formatOptions.useInt64Timestamp') === 'true';
      const maxResults = url.searchParams.get('maxResults');
      return [200, { kind: 'bigquery#getQueryResultsResponse', ...page(job, url.searchParams.get('pageToken'), maxResults ? Number(maxResults) : null, int64) }];
    }
    if (method === 'POST' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)\/cancel$/.exec(path))) {
      const job = jobs.get(decodeURIComponent(match[2]!));
      if (!job) return [404, errorBody(404, `Not found: Job ${match[1]}:${match[2]}`, 'notFound')];
      if (options.refuseCancel) return [options.refuseCancel.status, errorBody(options.refuseCancel.status, options.refuseCancel.message, 'accessDenied')];
      if (options.cancelDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.cancelDelayMs));
      standIn.cancelled.push(job.id);
      return [200, { kind: 'bigquery#jobCancelResponse', job: { jobReference: { projectId: job.project, jobId: job.id, location: job.location }, status: { state: 'DONE' } } }];
    }
    if (method === 'POST' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/.exec(path))) {
      const insert: ReceivedInsert = {
        project: decodeURIComponent(match[1]!),
        dataset: decodeURIComponent(match[2]!),
        table: decodeURIComponent(match[3]!),
        rows: body.rows ?? [],
      };
      return [200, insertAll(insert, behaviour)];
    }
    if (method === 'GET' && (match = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(path))) {
      const [projectId, datasetId, tableId] = [match[1]!, match[2]!, match[3]!].map(decodeURIComponent) as [string, string, string];
      let columns: AnswerColumn[] | null;
      try {
        columns = options.tables?.(datasetId, tableId) ?? null;
      } catch (error) {
        // A refusal the test asks for (e.g. 403 accessDenied: a role without bigquery.tables.get).
        if (error instanceof BigQueryRestError) return [error.status, errorBody(error.status, error.message, error.reason)];
        throw error;
      }
      if (!columns) return [404, errorBody(404, `Not found: Table ${projectId}:${datasetId}.${tableId}`, 'notFound')];
      return [
        200,
        {
          kind: 'bigquery#table',
          id: `${projectId}:${datasetId}.${tableId}`,
          tableReference: { projectId, datasetId, tableId },
          schema: { fields: columns.map((c) => restField(c.name, c.type)) },
        },
      ];
    }
    return [404, errorBody(404, `the stand-in does not serve ${method} ${path}`, 'notFound')];
  };

  const server = createServer(async (request, response) => {
    const method = request.method ?? '';
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    try {
      // Recorded on arrival, so a request whose body never came (its sender gave up) still counts.
      const received: ReceivedRequest = { method, path: url.pathname, authorization: request.headers.authorization, body: {} };
      standIn.requests.push(received);
      const body = (received.body = await readJson(request));
      const behaviour = standIn.queue.shift() ?? standIn.fallback;
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'page') {
        response.writeHead(200, { 'content-type': behaviour.contentType ?? 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(behaviour.body) });
        response.end(behaviour.body);
        return;
      }
      if (behaviour.kind === 'http-error') {
        send(response, behaviour.status, errorBody(behaviour.status, behaviour.message, behaviour.reason));
        return;
      }
      const [status, answer] = await serve(method, url, body, behaviour);
      if (behaviour.kind === 'store-then-drop') request.socket.destroy();
      else send(response, status, answer);
    } catch (error) {
      const e = error instanceof BigQueryRestError ? error : new BigQueryRestError(error instanceof Error ? error.message : String(error), 500, 'backendError');
      send(response, e.status, errorBody(e.status, e.message, e.reason));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  standIn = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    queries: [],
    inserts: [],
    stored: [],
    cancelled: [],
    queue: [],
    fallback: { kind: 'ok' },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}
