/** Where run rows go: the contract every sink keeps (the sinks themselves are in `sink.ts` and `bigquery.ts`). */
import type { RepeatedRunRow, RunRow } from '../warehouse/run-row.js';

export interface RunSink {
  /** For messages (`DuckDB .pem/monitoring.duckdb`, `BigQuery project p`); never holds a secret. */
  readonly description: string;
  /**
   * Appends `rows`; rejects with the cause when they were not stored. May resolve with the rows it
   * skipped as repeats of a stored (run_id, status), each with the stored row (SPEC §2: appended
   * once); nothing, or an empty list, when it skipped none or cannot tell.
   */
  write(rows: readonly RunRow[], options: RunSinkWriteOptions): Promise<void | readonly RepeatedRunRow[]>;
  /**
   * Keeps rows that `write` could not store somewhere durable, from where a later write adds them
   * (idempotently); returns where, or null when they cannot be kept (then they are lost and the
   * failure is reported as such). Optional: sinks without a spool report the failure.
   */
  spool?(rows: readonly RunRow[]): Promise<string | null>;
}

export interface RunSinkWriteOptions {
  /** Aborts when the recorder stops waiting: stop retrying then. */
  signal: AbortSignal;
  /** Hears each failed attempt that will be retried, so a timeout can name the last cause. */
  onRetry?: (cause: Error) => void;
}
