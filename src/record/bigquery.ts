/**
 * Run rows into BigQuery by streaming insert (`tabledata.insertAll`), through
 * `@google-cloud/bigquery`.
 *
 * - Idempotent: each row's `insertId` is derived from `(run_id, status)`, so a request retried
 *   after a lost response carries the same ids and BigQuery's best-effort de-duplication drops the
 *   copy (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency).
 *   The client's own per-row `randomUUID()` ids would defeat this: rows are sent `raw`.
 * - Partial failures: insertAll answers 200 with `insertErrors` when rows are rejected (a schema
 *   mismatch, say). They are surfaced with each rejected row's run id, status and reason.
 * - Bounded: each HTTP request of the recorder has a timeout and is destroyed when the
 *   recorder's signal aborts (see `warehouse/bounded-requests.ts`); the client does no retries of its
 *   own, and this module retries transient failures (network, 408/429/5xx, backendError) with
 *   unref'd timers until the signal aborts, stopping at once on a permanent one. Nothing of a
 *   write outlives the recorder's bound.
 */
import { createHash } from 'node:crypto';
import { BigQuery, type BigQueryOptions, type Table } from '@google-cloud/bigquery';
import pRetry, { AbortError } from 'p-retry';
import { firstLine } from '../errors.js';
import { withBoundedRequests } from '../warehouse/bounded-requests.js';
import type { RunRow } from './row.js';
import type { RunSink } from './sink.js';

/** Per-request timeout of the recorder's client when the caller states no budget. */
export const DEFAULT_BIGQUERY_REQUEST_TIMEOUT_MS = 5_000;
/** Longest readable insertId; longer ones are hashed (the API documents no limit, so stay modest). */
const MAX_READABLE_INSERT_ID = 128;
/** Row-level reasons of insertErrors that a retry can cure. 'stopped': rejected because another row was. */
const TRANSIENT_ROW_REASONS = new Set(['backendError', 'internalError', 'timeout', 'stopped', 'rateLimitExceeded']);
/** HTTP statuses worth retrying (the client's own list: @google-cloud/common `shouldRetryRequest`). */
const TRANSIENT_HTTP = new Set([408, 429, 500, 502, 503, 504]);

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

/** Why an insert failed, and whether trying again can help. */
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
  try {
    await table.insert(rows.map(toInsertAllRow), { raw: true, partialRetries: 0 });
  } catch (error) {
    throw describeInsertError(error, rows.length);
  }
}

export interface BigQueryRunSinkOptions {
  projectId: string;
  location?: string | undefined;
  /** A REST endpoint other than Google's (an emulator, or a test's loopback stand-in). */
  apiEndpoint?: string | undefined;
  /** 'dataset.table' or 'project.dataset.table'. */
  table: string;
  /** The write budget; each HTTP request gets half of it (at least 100 ms), so a retry fits. */
  timeoutMs?: number | undefined;
  /** Credentials other than Application Default Credentials. */
  authClient?: BigQueryOptions['authClient'];
}

/** A sink with its own client, tuned for the recorder: short requests, retries bounded by the signal. */
export function bigQueryRunSink(options: BigQueryRunSinkOptions): RunSink {
  const requestTimeoutMs =
    options.timeoutMs === undefined ? DEFAULT_BIGQUERY_REQUEST_TIMEOUT_MS : Math.max(100, Math.ceil(options.timeoutMs / 2));
  const authClient = options.authClient ?? (isPlainHttp(options.apiEndpoint) ? ANONYMOUS : undefined);
  const client = new BigQuery({
    projectId: options.projectId,
    ...(options.location ? { location: options.location } : {}),
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    ...(authClient ? { authClient } : {}),
    // Retries happen below, where they can stop when the recorder stops waiting.
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
  const table = bigQueryTable(client, options.table);
  return {
    description: `BigQuery project ${options.projectId}${options.location ? ` (${options.location})` : ''}`,
    async write(rows, { signal, onRetry }) {
      const bound = { timeoutMs: requestTimeoutMs, signal };
      await pRetry(
        async () => {
          try {
            await withBoundedRequests(bound, () => streamRunRows(table, rows));
          } catch (error) {
            const failure = error instanceof RunInsertError ? error : describeInsertError(error);
            if (!failure.retryable) throw new AbortError(failure);
            throw failure;
          }
        },
        {
          // Short: a transient 503 clears in a moment; a warehouse that is down should cost the
          // processor little (about 1.5 s of back-off at most), not the whole bound.
          retries: 3,
          minTimeout: 100,
          maxTimeout: 1_000,
          factor: 2,
          randomize: true,
          // A pending retry never keeps the process alive.
          unref: true,
          signal,
          onFailedAttempt: (error) => onRetry?.(error),
        },
      );
    },
  };
}

/**
 * Credentials for a plain-HTTP endpoint (an emulator, a loopback stand-in): none, as the
 * warehouse adapter does. Google credentials are never sent over plain HTTP, and without this the
 * client would look for Application Default Credentials and probe the GCE metadata server.
 */
const ANONYMOUS = {
  getRequestHeaders: async () => new Headers(),
} as unknown as NonNullable<BigQueryOptions['authClient']>;

function isPlainHttp(endpoint: string | undefined): boolean {
  return endpoint !== undefined && /^http:\/\//i.test(endpoint.trim());
}

/** 'dataset.table' or 'project.dataset.table' → the client's Table. */
export function bigQueryTable(client: BigQuery, name: string): Table {
  const parts = name.split('.');
  const tableId = parts.pop()!;
  const datasetId = parts.pop()!;
  const projectId = parts.pop();
  return client.dataset(datasetId, projectId ? { projectId } : {}).table(tableId);
}

interface ClientError {
  name?: string;
  message?: string;
  code?: number | string;
  type?: string;
  errors?: { message?: string; reason?: string; errors?: { message?: string; reason?: string }[]; row?: { json?: { run_id?: string; status?: string } } }[];
}

/**
 * A client error → one line saying what BigQuery (or the network) said, and whether to retry.
 * A lone row is not named (the recorder's message names the run); rows of a batch are.
 */
export function describeInsertError(error: unknown, rowCount = 0): RunInsertError {
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
    const retryable = rejected.every((r) => r.reasons.length > 0 && r.reasons.every((reason) => TRANSIENT_ROW_REASONS.has(reason)));
    if (rowCount === 1 && rejected.length === 1) return new RunInsertError(`BigQuery rejected the row: ${rejected[0]!.why}`, retryable);
    return new RunInsertError(`BigQuery rejected ${rejected.length} row${rejected.length === 1 ? '' : 's'}: ${shown.join(', ')}`, retryable);
  }
  if (typeof e.code === 'number') {
    const detail = firstLine(e.errors?.[0]?.message ?? e.message ?? '');
    const reason = e.errors?.[0]?.reason;
    const retryable = TRANSIENT_HTTP.has(e.code) || reason === 'backendError' || reason === 'rateLimitExceeded';
    return new RunInsertError(`BigQuery answered HTTP ${e.code}${detail ? `: ${detail}` : ''}`, retryable);
  }
  // No HTTP status: no answer (refused, reset, DNS, timed out): worth another try.
  const message = firstLine(e.message ?? String(error));
  const reason = /reason: (.*)$/.exec(message)?.[1] ?? message;
  return new RunInsertError(`BigQuery request failed: ${reason}`, true);
}

