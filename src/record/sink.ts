/**
 * Where run rows go. A sink appends rows and never updates them (SPEC §2), and a row whose
 * `(run_id, status)` is already stored is not stored twice, so a retried write never makes a
 * second final row:
 * - BigQuery: a streaming insert whose `insertId` is derived from `(run_id, status)` (see
 *   `warehouse/bigquery-client.ts`); BigQuery drops a repeated insertId (best effort, about a minute).
 * - DuckDB: the row is appended only when no row with the same `(run_id, status)` exists. One
 *   process writes a DuckDB file at a time (DuckDB's file lock), so the check and the append
 *   cannot interleave with another writer; a writer waits its turn, and spools what it could not
 *   write in time.
 */
import { annotated, describeError, usageError } from '../errors.js';
import { resolveEngine, bigQueryOptionsFrom, type Engine, type WarehouseOptions, type WarehouseSettings } from '../warehouse/open.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { DEFAULT_DUCKDB_PATH, openDuckDb } from '../warehouse/duckdb.js';
import { spoolRunRows } from '../warehouse/duckdb-spool.js';
import type { Warehouse } from '../warehouse/types.js';
import type { BigQueryRunSinkOptions } from './bigquery.js';
import type { RunSink } from './run-sink.js';
import type { RepeatedRunRow, RunRow } from '../warehouse/run-row.js';

export type { RunSink, RunSinkWriteOptions } from './run-sink.js';

/** Where a recorder writes: the warehouse options of every `pem` command, and the table. */
export interface RunTarget extends WarehouseOptions {
  /** The run-history table, 'dataset.processor_run_history' (or 'project.dataset.table' on BigQuery). */
  table: string;
  /** BigQuery only: per-request timeout and retry budget; the recorder's own timeout is the bound. */
  timeoutMs?: number;
  /** BigQuery only: credentials other than Application Default Credentials. */
  authClient?: BigQueryRunSinkOptions['authClient'];
  /**
   * DuckDB only: whether a write waits for a file another process holds, up to the recorder's bound
   * (default: always). Asked at each write; when it says no the row is spooled at once: `pem
   * check`'s own start row, which the check's own open of the file adds moments later, after the
   * one wait it documents (PEM_DUCKDB_LOCK_TIMEOUT_MS).
   */
  waitForFile?: () => boolean;
}

/**
 * The sink for a target, with the engine chosen as every `pem` command chooses it (`engine`,
 * else PEM_ENGINE, else duckdb; the settings come from `readSettings()` in `config/env.ts`). Nothing is opened or contacted until the first write, so a
 * warehouse that is down fails a write (which the recorder bounds and swallows), not this call.
 * Throws a usage error for an unknown engine or a BigQuery target without a project.
 */
export function openRunSink(target: RunTarget, settings: WarehouseSettings): RunSink {
  return SINK_FOR_ENGINE[resolveEngine(target.engine, settings)](target, settings);
}

/** One sink per engine (the engine itself is chosen in `warehouse/open.ts`). */
const SINK_FOR_ENGINE: Record<Engine, (target: RunTarget, settings: WarehouseSettings) => RunSink> = {
  duckdb: (target) => {
    // A BigQuery project names nothing in a DuckDB file: its rows would wait in the spool for a
    // schema `a.b` nobody makes. Configuration, so raised now rather than on the first write.
    const parts = target.table.split('.');
    if (parts.length > 2) {
      throw usageError(`table '${target.table}' names a project (${parts[0]}), which a DuckDB file does not have: use ${parts.slice(-2).join('.')}`);
    }
    return duckDbFileSink(target.database ?? DEFAULT_DUCKDB_PATH, target.table, { waitForFile: target.waitForFile });
  },
  bigquery: (target, settings) => lazyBigQuerySink(target, settings),
};

function lazyBigQuerySink(target: RunTarget, settings: WarehouseSettings): RunSink {
  const options = bigQueryOptionsFrom(target, settings);
  if (!options.projectId) {
    // Configuration, so raised now rather than on the first write; same message as the warehouse's.
    throw usageError('BigQuery needs a project: pass --project ID or set GOOGLE_CLOUD_PROJECT');
  }
  const sinkOptions: BigQueryRunSinkOptions = {
    projectId: options.projectId,
    location: options.location,
    apiEndpoint: options.apiEndpoint,
    table: target.table,
    timeoutMs: target.timeoutMs,
    authClient: target.authClient,
  };
  let sink: Promise<RunSink> | null = null;
  return {
    description: `BigQuery project ${options.projectId} (${options.location})`,
    async write(rows, options) {
      // The BigQuery client is a large module: load it only for BigQuery targets.
      sink ??= import('./bigquery.js').then(({ bigQueryRunSink }) => bigQueryRunSink(sinkOptions));
      await (await sink).write(rows, options);
    },
  };
}

/**
 * A DuckDB file, opened for each write and closed after it. A processor may run for hours; holding
 * the file open would hold DuckDB's single-writer lock and keep `pem check` out of it.
 *
 * One process writes the file at a time, so a write waits its turn until the recorder's bound
 * (its signal); opening the file first adds the rows other writers spooled. A row that still could
 * not be written is spooled beside an existing file (`warehouse/duckdb-spool.ts`) for the next
 * writer to add: late, never lost. A file that does not exist is a mistake to report, not to wait for.
 */
export function duckDbFileSink(path: string, table: string, { waitForFile }: Pick<RunTarget, 'waitForFile'> = {}): RunSink {
  // Rows written side by side (a processor's `withRun`s under `Promise.all`) go in batches: one
  // open of the file for all the rows waiting, not one each (~70 ms apiece, one at a time: a
  // hundred runs started at once waited seconds, and past the recorder's bound were spooled).
  const waiting: PendingWrite[] = [];
  let writing = false;
  /** Why the batch being written waits for the file, told to the writes that join the queue meanwhile. */
  let waitingFor: Error | null = null;

  const writeBatches = async (): Promise<void> => {
    if (writing) return;
    writing = true;
    try {
      for (;;) {
        // One batch per kind of write: one that must not wait for a held file never waits behind one that may.
        const pending = waiting.splice(0).filter((entry) => !entry.settled);
        if (pending.length === 0) return;
        const batch = pending.filter((entry) => entry.waitForFile === pending[0]!.waitForFile);
        waiting.unshift(...pending.filter((entry) => !batch.includes(entry)));
        await writeBatch(batch);
      }
    } finally {
      writing = false;
    }
  };

  const writeBatch = async (batch: PendingWrite[]): Promise<void> => {
    // The wait for the file ends when every writer of the batch has stopped waiting (its bound).
    const allGone = new AbortController();
    const onGone = () => {
      if (batch.every((entry) => entry.settled)) allGone.abort(new Error('every write of the batch was given up'));
    };
    for (const entry of batch) entry.onGone = onGone;
    const onLockWait = (cause: Error) => {
      waitingFor = cause;
      for (const entry of batch) entry.hear(cause);
    };
    let warehouse: Awaited<ReturnType<typeof openDuckDb>>;
    try {
      warehouse = await openDuckDb({ path, create: false, lockWaitMs: batch[0]!.waitForFile ? WAIT_FOR_SIGNAL_MS : 0, signal: allGone.signal, onLockWait });
    } catch (error) {
      for (const entry of batch) entry.settle(error);
      return;
    } finally {
      waitingFor = null;
    }
    try {
      const repeated = await warehouse.insertRunRows(table, batch.flatMap((entry) => entry.rows));
      for (const entry of batch) entry.settle(null, repeated.filter((repeat) => entry.rows.includes(repeat.row)));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.settle(await withColumnMismatches(error, warehouse, table));
      } else {
        // One writer's row the table refuses (a constraint) must not fail the others: each on its own.
        for (const entry of batch) {
          try {
            entry.settle(null, await warehouse.insertRunRows(table, entry.rows));
          } catch (own) {
            entry.settle(await withColumnMismatches(own, warehouse, table));
          }
        }
      }
    } finally {
      await warehouse.close();
    }
  };

  return {
    description: path === ':memory:' ? 'DuckDB (in memory)' : `DuckDB ${path}`,
    write(rows, options) {
      return new Promise<readonly RepeatedRunRow[]>((resolve, reject) => {
        const entry: PendingWrite = {
          rows,
          waitForFile: waitForFile?.() ?? true,
          settled: false,
          onGone: null,
          hear(cause) {
            try {
              options?.onRetry?.(cause);
            } catch {
              // The writer's listener is its own affair: the write goes on.
            }
          },
          settle(error, repeated = []) {
            if (entry.settled) return;
            entry.settled = true;
            options?.signal?.removeEventListener('abort', abandon);
            if (error === null) resolve(repeated);
            else reject(error);
          },
        };
        // Given up by its writer (the recorder's bound): it is spooled there. Should the batch
        // still store it, the spooled copy is added later as a repeat, which is not stored twice.
        const abandon = () => {
          entry.settle(options?.signal?.reason ?? new Error('write abandoned'));
          entry.onGone?.();
        };
        if (options?.signal?.aborted) return abandon();
        options?.signal?.addEventListener('abort', abandon, { once: true });
        // Queued behind a batch that waits for a held file: it waits for the same reason.
        if (waitingFor) entry.hear(waitingFor);
        waiting.push(entry);
        void writeBatches();
      });
    },
    async spool(rows) {
      // Beside a DuckDB file only: a mistyped --database (a registry, a notes file) is a mistake to
      // report, not a folder of rows to leave beside it.
      if (path === ':memory:' || !isDuckDbFile(path)) return null;
      return spoolRunRows(path, table, rows);
    },
  };
}

/** Whether `path` is a DuckDB database file: its header carries `DUCK` at byte 8. */
function isDuckDbFile(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(12);
    return readSync(fd, header, 0, 12, 0) === 12 && header.toString('latin1', 8, 12) === 'DUCK';
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

interface PendingWrite {
  rows: readonly RunRow[];
  waitForFile: boolean;
  /** Tells the writer why its write waits (its recorder names it if the bound passes). */
  hear(cause: Error): void;
  settled: boolean;
  /** Tells the batch this write belongs to that its writer gave up. */
  onGone: (() => void) | null;
  /** Ends the write: stored (`null`, with the rows skipped as repeats) or failed. */
  settle(error: unknown, repeated?: readonly RepeatedRunRow[]): void;
}

/**
 * A failed append's error, naming the table's columns that are not SPEC §2's when it has such:
 * DuckDB's appender says only "Unimplemented type for cast (INT32 -> INT32)" of a table made by
 * hand with an INTEGER processing_date, and `pem schema apply` keeps an existing table whatever
 * its columns. The row is spooled all the same (the recorder), for the first write after the table
 * is put right. The SQL renderer is loaded only here: a run that records pays nothing for it.
 */
async function withColumnMismatches(error: unknown, warehouse: Warehouse, table: string): Promise<unknown> {
  try {
    const { otherColumnsNote, runHistoryMismatches } = await import('../sql/run-history-columns.js');
    const mismatches = await runHistoryMismatches(warehouse, table);
    if (mismatches.length === 0) return error;
    const note = otherColumnsNote(table, mismatches);
    // DuckDB's append names them itself when the columns are not SPEC §2's in its order.
    return describeError(error).includes(note) ? error : annotated(error, note);
  } catch {
    return error;
  }
}

/** The file wait of a recorder's write: until its bound aborts the signal. */
const WAIT_FOR_SIGNAL_MS = 24 * 3_600_000;

/**
 * An open warehouse (the caller opens and closes it). Its insertRunRows is idempotent per
 * (run_id, status) on every engine, so a retried write adds nothing.
 */
export function warehouseRunSink(warehouse: Warehouse, table: string): RunSink {
  return {
    description: warehouse.description,
    write(rows) {
      return warehouse.insertRunRows(table, rows);
    },
  };
}

