/**
 * The recorder's BigQuery sink: run rows by streaming insert through the one BigQuery path
 * (`warehouse/bigquery-client.ts`: the client, the insert ids, the retry rule), tuned for the
 * recorder: each HTTP request has a timeout and is destroyed when the recorder's signal aborts
 * (see `warehouse/bounded-requests.ts`), and transient failures are retried with unref'd timers
 * until the signal aborts, stopping at once on a permanent one. Nothing of a write outlives the
 * recorder's bound.
 */
import {
  bigQueryTable,
  createBigQueryClient,
  describeInsertError,
  retryTransient,
  streamRunRows,
  type BigQueryAuthClient,
} from '../warehouse/bigquery-client.js';
import { withBoundedRequests } from '../warehouse/bounded-requests.js';
import type { RunSink } from './run-sink.js';

/** Per-request timeout of the recorder's client when the caller states no budget. */
export const DEFAULT_BIGQUERY_REQUEST_TIMEOUT_MS = 5_000;

/** The insert id of a run row; re-exported for callers that know the recorder, not the warehouse. */
export { runRowInsertId } from '../warehouse/bigquery-client.js';

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
  authClient?: BigQueryAuthClient | undefined;
}

/** A sink with its own client (from the shared factory), tuned for the recorder: short requests, retries bounded by the signal. */
export function bigQueryRunSink(options: BigQueryRunSinkOptions): RunSink {
  const requestTimeoutMs =
    options.timeoutMs === undefined ? DEFAULT_BIGQUERY_REQUEST_TIMEOUT_MS : Math.max(100, Math.ceil(options.timeoutMs / 2));
  const table = bigQueryTable(createBigQueryClient(options), options.table);
  return {
    description: `BigQuery project ${options.projectId}${options.location ? ` (${options.location})` : ''}`,
    async write(rows, { signal, onRetry }) {
      const bound = { timeoutMs: requestTimeoutMs, signal };
      await retryTransient(
        async () => {
          try {
            await withBoundedRequests(bound, () => streamRunRows(table, rows));
          } catch (error) {
            throw describeInsertError(error);
          }
        },
        // Short: a transient 503 clears in a moment; a warehouse that is down should cost the
        // processor little (about 1.5 s of back-off at most), not the whole bound.
        { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 1_000, unref: true, signal, ...(onRetry ? { onRetry } : {}) },
      );
    },
  };
}
