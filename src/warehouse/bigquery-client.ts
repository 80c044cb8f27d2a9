/**
 * The one BigQuery path: every BigQuery client of `pem` is built here (the check's warehouse,
 * the alert state and silences it holds, and the run recorder), with the same credentials rule,
 * the same endpoint handling, no retries inside the client, one rule for what is worth retrying,
 * one retry loop, and one streaming-insert path with deterministic insert ids.
 *
 * - Retries live here, not in the client: the client also retries a refused connection or an
 *   unknown host (its `noResponseRetries`), which no retry cures, for ~16 s. Rate limits, 5xx and
 *   dropped connections are retried; an unreachable endpoint and BigQuery's 4xx answers fail at
 *   once (Cloud Run retries the whole job: https://cloud.google.com/run/docs/jobs-retries).
 * - Idempotent inserts: each run row's `insertId` is derived from `(run_id, status)`, so a request
 *   retried after a lost response carries the same ids and BigQuery's best-effort de-duplication
 *   drops the copy (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency).
 *   The client's own per-row `randomUUID()` ids would defeat this: rows are sent `raw`.
 * - Partial failures: insertAll answers 200 with `insertErrors` when rows are rejected (a schema
 *   mismatch, say). They are surfaced with each rejected row's run id, status and reason.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { BigQuery, type BigQueryOptions as ClientOptions, type Job, type Table } from '@google-cloud/bigquery';
import pRetry, { AbortError } from 'p-retry';
import { firstLine, usageError } from '../errors.js';
import type { RunRow } from './run-row.js';

export type BigQueryAuthClient = NonNullable<ClientOptions['authClient']>;

export interface BigQueryClientOptions {
  projectId: string;
  location?: string | undefined;
  /** A REST endpoint other than Google's (PEM_BIGQUERY_API_ENDPOINT: an emulator, a test's loopback stand-in). */
  apiEndpoint?: string | undefined;
  /** Credentials other than Application Default Credentials. */
  authClient?: BigQueryAuthClient | undefined;
}

/**
 * Credentials for a plain-HTTP endpoint: none. Google credentials are never sent over plain HTTP
 * (an `http://` endpoint is an emulator or a loopback stand-in), and without this the client would
 * look for Application Default Credentials and probe the GCE metadata server.
 */
const ANONYMOUS = {
  getRequestHeaders: async () => new Headers(),
} as unknown as BigQueryAuthClient;

/** The only place a BigQuery client is constructed. Throws a usage error for an endpoint that is not an http(s) URL. */
export function createBigQueryClient(options: BigQueryClientOptions): BigQuery {
  const endpoint = options.apiEndpoint ? parseEndpoint(options.apiEndpoint) : null;
  const authClient = options.authClient ?? (endpoint?.protocol === 'http:' ? ANONYMOUS : undefined);
  const client = new BigQuery({
    projectId: options.projectId,
    ...(options.location ? { location: options.location } : {}),
    ...(endpoint ? { apiEndpoint: endpoint.origin + endpoint.pathname.replace(/\/$/, '') } : {}),
    ...(authClient ? { authClient } : {}),
    // Retries happen in `retryTransient`, where they can stop when the caller stops waiting.
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
  watchJobsQuery(client);
  return client;
}

type JobsQueryCallback = (error: Error | null, job: unknown, response: unknown) => void;

/** The jobs a piece of work left running, in the order BigQuery made them (see `withJobsWatched`). */
const unfinishedJobs = new AsyncLocalStorage<Job[]>();

/**
 * Runs `work`, collecting in `jobs` every query job BigQuery answered "not complete yet" for
 * (`jobs.query` timed out on its side and the client went on to poll it). Such a job keeps
 * running, and billing, when pem stops waiting for it: the caller cancels what it collected.
 */
export function withJobsWatched<T>(jobs: Job[], work: () => Promise<T>): Promise<T> {
  return unfinishedJobs.run(jobs, work);
}

/**
 * Wraps the client's `jobs.query` call (private in 8.1, the one path every query of pem takes):
 *
 * - The client reads a 2xx answer without a job reference (`{}`, a proxy's or login page's HTML,
 *   anything but BigQuery behind a wrong endpoint) as a job of `null` and then calls
 *   `null.getQueryResults` inside its own callback: an uncaught TypeError that ended pem with a
 *   stack trace, its own run row unwritten. Such an answer is now the query's error.
 * - A job not complete when `jobs.query` answers is handed to `withJobsWatched`'s list.
 */
function watchJobsQuery(client: BigQuery): void {
  const inner = client as unknown as { runJobsQuery?: (request: unknown, callback: JobsQueryCallback) => void };
  const runJobsQuery = inner.runJobsQuery;
  if (typeof runJobsQuery !== 'function') return;
  inner.runJobsQuery = (request, callback) => {
    const watched = unfinishedJobs.getStore();
    runJobsQuery.call(client, request, (error, job, response) => {
      if (error === null && (job === null || job === undefined)) {
        callback(new Error(`the endpoint's answer to a query is not BigQuery's (no job in it: ${answerShape(response)}); is PEM_BIGQUERY_API_ENDPOINT, or a proxy, pointing elsewhere?`), null, response);
        return;
      }
      if (error === null && watched && (response as { jobComplete?: unknown } | null)?.jobComplete === false) watched.push(job as Job);
      callback(error, job, response);
    });
  };
}

function answerShape(response: unknown): string {
  if (typeof response === 'string') return response.trimStart().startsWith('<') ? 'an HTML page' : 'text';
  if (response === null || typeof response !== 'object') return String(response);
  const keys = Object.keys(response);
  return keys.length === 0 ? 'an empty JSON object' : `JSON with ${keys.slice(0, 5).join(', ')}`;
}

function parseEndpoint(raw: string): URL {
  let endpoint: URL | null;
  try {
    endpoint = new URL(raw);
  } catch {
    endpoint = null;
  }
  if (!endpoint || !/^https?:$/.test(endpoint.protocol)) {
    throw usageError(`PEM_BIGQUERY_API_ENDPOINT '${raw}' is not an http(s) URL, for example https://bigquery.googleapis.com`);
  }
  return endpoint;
}

/** 'dataset.table' or 'project.dataset.table' → the client's Table. */
export function bigQueryTable(client: BigQuery, name: string): Table {
  const parts = name.split('.');
  const tableId = parts.pop()!;
  const datasetId = parts.pop()!;
  const projectId = parts.pop();
  return client.dataset(datasetId, projectId ? { projectId } : {}).table(tableId);
}

// ---------------------------------------------------------------------------------------
// What is worth retrying, and the one retry loop.

/** HTTP statuses worth retrying (the client's own list: @google-cloud/common `shouldRetryRequest`). */
const TRANSIENT_HTTP = new Set([408, 429, 500, 502, 503, 504]);
/** BigQuery error reasons a retry can cure (https://cloud.google.com/bigquery/docs/error-messages). 'stopped': an insertAll row rejected because another row was. */
const TRANSIENT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'backendError', 'internalError', 'jobBackendError', 'timeout', 'stopped']);
/**
 * Transport errors of a misconfigured or absent endpoint, and a credentials file that is not there
 * or cannot be read (GOOGLE_APPLICATION_CREDENTIALS, keyFilename): no retry makes it appear.
 */
const PERMANENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ERR_INVALID_URL', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ELOOP']);

/** Whether trying the same API call again can succeed. */
export function isTransient(error: unknown): boolean {
  const e = (error ?? {}) as { code?: unknown; errors?: { reason?: string }[]; cause?: { code?: unknown }; retryable?: unknown };
  if (typeof e.retryable === 'boolean') return e.retryable;
  if (typeof e.code === 'number') return TRANSIENT_HTTP.has(e.code) || (e.errors ?? []).some((r) => TRANSIENT_REASONS.has(r.reason ?? ''));
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : null;
  return code !== null && !PERMANENT_CODES.has(code);
}

export interface RetryBudget {
  /** Retries after the first attempt. */
  retries: number;
  /** First back-off; doubles each retry (jittered) up to `maxTimeoutMs`. */
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Stops retrying (and rejects) when it aborts. */
  signal: AbortSignal;
  /** A pending retry never keeps the process alive. */
  unref?: boolean;
  /** Hears each failed attempt that will be retried. */
  onRetry?: (cause: Error) => void;
}

/** Runs `call`, retrying what `isTransient` says a retry can cure, within `budget`; the last attempt's error is thrown. */
export function retryTransient<T>(call: () => Promise<T>, budget: RetryBudget): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await call();
      } catch (error) {
        if (isTransient(error) && !budget.signal.aborted) throw error;
        throw new AbortError(error instanceof Error ? error : new Error(String(error)));
      }
    },
    {
      retries: budget.retries,
      minTimeout: budget.minTimeoutMs,
      maxTimeout: budget.maxTimeoutMs,
      factor: 2,
      randomize: true,
      unref: budget.unref ?? false,
      signal: budget.signal,
      onFailedAttempt: (error) => budget.onRetry?.(error),
    },
  );
}

// ---------------------------------------------------------------------------------------
// Run rows by streaming insert (`tabledata.insertAll`).

/** Longest readable insertId; longer ones are hashed (the API documents no limit, so stay modest). */
const MAX_READABLE_INSERT_ID = 128;

/** The same `(run_id, status)` always gives the same insertId. */
export function runRowInsertId(row: Pick<RunRow, 'run_id' | 'status'>): string {
  const readable = `${row.run_id}:${row.status}`;
  if (readable.length <= MAX_READABLE_INSERT_ID) return readable;
  return `${createHash('sha256').update(row.run_id).digest('hex')}:${row.status}`;
}

/** One insertAll row: the §2 columns as BigQuery's JSON encoding expects them. */
export function toInsertAllRow(row: RunRow): { insertId: string; json: Record<string, unknown> } {
  return {
    insertId: runRowInsertId(row),
    json: {
      run_id: row.run_id,
      processor_name: row.processor_name,
      processing_date: row.processing_date,
      status: row.status,
      started_at: row.started_at?.toISOString() ?? null,
      completed_at: row.completed_at?.toISOString() ?? null,
      records_processed: row.records_processed,
      // A BigQuery ARRAY is never NULL: an absent list is the empty list.
      errors: row.errors ?? [],
      trigger_source: row.trigger_source,
      // A JSON column takes its value as a JSON-encoded string in insertAll.
      metadata: row.metadata === null || row.metadata === undefined ? null : JSON.stringify(row.metadata),
    },
  };
}

/** Why an insert failed, and whether trying again can help (read by `isTransient`). */
export class RunInsertError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'RunInsertError';
  }
}

/**
 * One insertAll request for `rows` (the client does no partial retries: a rejected row is
 * reported, not silently re-sent). Throws `RunInsertError`.
 */
export async function streamRunRows(table: Table, rows: readonly RunRow[]): Promise<void> {
  let answer: unknown;
  try {
    [answer] = await table.insert(rows.map(toInsertAllRow), { raw: true, partialRetries: 0 });
  } catch (error) {
    throw describeInsertError(error, rows.length);
  }
  // An HTTP 200 that is no insertAll answer (a captive portal's or a proxy's page) stored nothing
  // that anyone can tell: said, and retried (BigQuery's insertIds keep a row that did arrive once).
  if (!isInsertAllAnswer(answer)) {
    const shown = firstLine(typeof answer === 'string' ? answer : JSON.stringify(answer) ?? String(answer)).slice(0, 80);
    throw new RunInsertError(`BigQuery's endpoint answered HTTP 200 with no insertAll response (${shown || 'an empty body'}): whether the row was stored cannot be told`, true);
  }
}

/**
 * Whether an answer to tabledata.insertAll is one: a JSON object of its fields only, `kind` (its
 * own, when named) and `insertErrors` (https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/insertAll).
 * An emulator (goccy/bigquery-emulator, docs/bigquery.md) answers `{}`; a page arrives as a
 * string, and a proxy's `{"status":"ok"}` has fields of its own.
 */
function isInsertAllAnswer(answer: unknown): boolean {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return false;
  const { kind } = answer as { kind?: unknown };
  return (kind === undefined || kind === 'bigquery#tableDataInsertAllResponse') && Object.keys(answer).every((key) => key === 'kind' || key === 'insertErrors');
}

interface ClientError {
  name?: string;
  message?: string;
  code?: number | string;
  errors?: { message?: string; reason?: string; errors?: { message?: string; reason?: string }[]; row?: { json?: { run_id?: string; status?: string } } }[];
}

/**
 * A client error → one line saying what BigQuery (or the network) said, and whether to retry.
 * A lone row is not named (the recorder's message names the run); rows of a batch are.
 */
export function describeInsertError(error: unknown, rowCount = 0): RunInsertError {
  if (error instanceof RunInsertError) return error;
  const e = (error ?? {}) as ClientError;
  if (e.name === 'PartialFailureError' && Array.isArray(e.errors)) {
    const rejected = e.errors.map((failure) => {
      const row = failure.row?.json;
      const reasons = (failure.errors ?? []).map((r) => [r.reason ?? 'error', firstLine(r.message ?? '')].filter(Boolean).join(': '));
      const why = reasons.join('; ') || 'no reason given';
      return { text: `run ${row?.run_id ?? '?'} (${row?.status ?? '?'}): ${why}`, why, reasons: (failure.errors ?? []).map((r) => r.reason ?? '') };
    });
    const shown = rejected.slice(0, 3).map((r) => r.text);
    if (rejected.length > 3) shown.push(`and ${rejected.length - 3} more`);
    const retryable = rejected.every((r) => r.reasons.length > 0 && r.reasons.every((reason) => TRANSIENT_REASONS.has(reason)));
    if (rowCount === 1 && rejected.length === 1) return new RunInsertError(`BigQuery rejected the row: ${rejected[0]!.why}`, retryable);
    return new RunInsertError(`BigQuery rejected ${rejected.length} row${rejected.length === 1 ? '' : 's'}: ${shown.join(', ')}`, retryable);
  }
  if (typeof e.code === 'number') {
    const detail = firstLine(e.errors?.[0]?.message ?? e.message ?? '');
    return new RunInsertError(`BigQuery answered HTTP ${e.code}${detail ? `: ${detail}` : ''}`, isTransient(error));
  }
  // No HTTP status: no answer (reset, timed out, refused, DNS); `isTransient` tells which a retry can cure.
  const message = firstLine(e.message ?? String(error));
  const reason = /reason: (.*)$/.exec(message)?.[1] ?? message;
  // A connection dropped after the request went out (not refused, not unresolved): BigQuery may
  // have stored the rows before it went, which "failed" alone would deny.
  const sent = /socket hang up|ECONNRESET|EPIPE/i.test(`${message} ${String((e as { code?: unknown }).code ?? '')}`) ? ' (the connection dropped after the request was sent: BigQuery may have stored it all the same)' : '';
  return new RunInsertError(`BigQuery request failed: ${reason}${sent}`, isTransient(error) || !hasNetworkCode(error));
}

/** Whether a failure without an HTTP status names its network cause (otherwise it is a request this process gave up on). */
function hasNetworkCode(error: unknown): boolean {
  const e = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return typeof e.code === 'string' || typeof e.cause?.code === 'string';
}
