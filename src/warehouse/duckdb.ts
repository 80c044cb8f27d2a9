/**
 * The embedded engine: a DuckDB file through `@duckdb/node-api`. The dataset of the registry is
 * a schema inside the file (`nba_reference.processor_run_history`).
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  DATE,
  DuckDBAppender,
  DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTypeId,
  INTEGER,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  STRUCT,
  TIMESTAMP,
  BIGINT,
  VARCHAR,
  dateValue,
  listValue,
  structValue,
  timestampValue,
} from './duckdb-api.js';
import { duckDbMemoryBytes } from '../config/env.js';
import { DEFAULT_REGISTRY_PATH } from '../config/names.js';
import { describeError, runtimeError, withoutSource, type PemError } from '../errors.js';
import { shellWord } from '../printable.js';
import { DAY_MS, isCalendarDate, utcMidnight } from '../calendar.js';
import { damagedSpoolFiles, forgetSpooled, readSpool, setAsideDamaged, setAsideRepeated, type DamagedSpoolFile, type SpooledRow } from './duckdb-spool.js';
import { repeatDifferences, type RepeatedRunRow, type RunError, type RunRow, type StoredRunValues } from './run-row.js';
import type { PlainValue, QueryBatchesOptions, QueryParam, QueryParams, Row, TableColumn, Warehouse } from './types.js';

export const DEFAULT_DUCKDB_PATH = '.pem/monitoring.duckdb';

export interface DuckDbOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** The registry the command read, for a missing file's hint (`pem schema apply --config …`); unknown to `pem record --table`. */
  registryPath?: string | undefined;
  /** Create the file (and its folder) when absent; otherwise a missing file is an error. */
  create: boolean;
  /**
   * How long to wait for the file while another process holds it (DuckDB allows one writing
   * process per file: `pem record` and `pem check` take turns). Default 0: fail at once.
   */
  lockWaitMs?: number;
  /** Stops waiting for the file when aborted (the run recorder's bound). */
  signal?: AbortSignal;
  /** Hears, once, that the file is held and the open is waiting for it. */
  onLockWait?: (cause: Error) => void;
  /**
   * DuckDB's memory_limit (PEM_DUCKDB_MEMORY_LIMIT), or null for DuckDB's default. A statement
   * that needs more fails with one line (`ran out of memory`, exit 1) instead of the process
   * growing until the container is killed.
   */
  memoryLimit?: string | null;
  /** How long a sliced check keeps the file between its statements (default SLICE_FILE_HOLD_MS; tests). */
  sliceFileHoldMs?: number;
  /**
   * Hears, once per table, that spooled run rows could not be added to it (the table is missing,
   * or has other columns): they stay spooled, and whoever runs the check should know they wait.
   */
  onSpoolKept?: (table: string, rows: number, reason: string) => void;
  /** Hears, once, of the spool files set aside because they hold no whole run row (by name in the spool folder, and why). */
  onSpoolDamaged?: (files: readonly DamagedSpoolFile[]) => void;
  /** Hears, once, of the spool files this process cannot read (another user's): they wait for a drain that can. */
  onSpoolUnreadable?: (files: readonly DamagedSpoolFile[]) => void;
  /**
   * The caller only reads (`pem check --dry-run`, gaps, report, silence list, backtest): a file this
   * user may not write (its permissions, a read-only mount) is then opened read-only instead of
   * refused. Its spooled run rows cannot be added by such an open (`onSpoolNotRead`).
   */
  readsOnly?: boolean;
  /** Hears, once, how many spooled run rows a read-only open (`readsOnly`) reads without. */
  onSpoolNotRead?: (rows: number) => void;
  /** Hears, once, of spooled run rows added to `table` whose spool files could not be removed. */
  onSpoolNotRemoved?: (table: string, rows: number, reason: string) => void;
}

/**
 * DuckDB's allocator (its own jemalloc) keeps the pages a statement frees for reuse, and returns
 * them to the system after a bulk deallocation larger than this threshold (default 512 MiB, which a
 * check never reaches, so the freed pages stayed in RSS until the instance closed). At 4 MiB a
 * check's peak RSS is lower by the pages it no longer needs, at no measurable cost in time
 * (interleaved runs, medians, bench/README.md): 1,000 × 90 days 348 → 338 MiB, 10,000 × 7 days
 * 343 → 329, 10,000 × 90 days 466 → 436. Not 8 MiB: many of the check's bulk frees are exactly
 * 8 MiB (32 blocks of 256 KiB) and must exceed it; below 4 MiB saved no more and cost up to 10 %.
 */
const ALLOCATOR_SETTINGS = { allocator_bulk_deallocation_flush_threshold: '4MiB' };

/** Pause between attempts on a held file: short and jittered, so waiting processes take turns. */
const LOCK_RETRY_MIN_MS = 5;
const LOCK_RETRY_MAX_MS = 40;

/**
 * How long a sliced check keeps the file between its statements before it lets go of it (and opens
 * it again for the next one): a recorder waiting for the file (PEM_RECORD_TIMEOUT_MS, 10 s; a
 * heartbeat's 5 s) gets its turn within about this and one statement. Reopening costs ~50 ms a time
 * (the file attached again, the next statement's catalog read cold: 210 against 160 ms a statement
 * at 10,000 processors), which every slice paid when each was followed by a release
 * (bench/README.md).
 */
const SLICE_FILE_HOLD_MS = 2_000;

/**
 * How long a sliced check leaves the file free when it lets go of it (`betweenSlices`): longer than
 * a waiting process's pause between attempts, so that one waiting gets it before the check opens the
 * file again (unless another statement of the same warehouse, a backtest's next check, opens it
 * first; the recorder then has its turn at a later release).
 */
const SLICE_FILE_TURN_MS = LOCK_RETRY_MAX_MS + 10;

/**
 * The files an instance of this process has attached, by canonical path. DuckDB's lock on a file
 * is a POSIX lock, which belongs to the process: a second instance of the same process attaching
 * the same file is not kept out, and two such instances writing it lose rows and then corrupt it
 * (`WAL cannot contain more than one checkpoint marker`): a processor's `withRun`s side by side
 * (`Promise.all`) did. So an open waits for an instance of its own process as for another process.
 */
const filesHeldInProcess = new Set<string>();

/** One key per file, however it is named (`./x.duckdb`, a link to it or to its folder). */
function fileKey(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    // Not there yet (an open that creates it): its folder's real path and its name.
    try {
      return join(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/** The catalog name a database file is attached under; a dataset may not share it. */
export const DUCKDB_CATALOG = 'pem_warehouse';

export async function openDuckDb(options: DuckDbOptions): Promise<Warehouse> {
  const { path } = options;
  const inMemory = path === ':memory:';
  if (!inMemory) {
    if (!existsSync(path)) {
      if (!options.create) {
        const registry = options.registryPath;
        const database = shellWord(path);
        const apply =
          registry === undefined ? `\`pem schema apply --config REGISTRY --database ${database}\` (REGISTRY: the registry file, which names the dataset)`
          : registry === DEFAULT_REGISTRY_PATH ? `\`pem schema apply --database ${database}\``
          : `\`pem schema apply --config ${shellWord(registry)} --database ${database}\``;
        throw runtimeError(`DuckDB database ${path} does not exist: create it with ${apply}, or try \`pem demo\``);
      }
      try {
        mkdirSync(dirname(resolve(path)), { recursive: true });
      } catch (error) {
        // Said as a file that cannot be made in its folder is (openFile): the folder is the fault.
        throw runtimeError(`cannot create DuckDB database ${path}: its folder ${dirname(resolve(path))} cannot be made (${describeError(error)})`);
      }
    }
  }
  const warehouse = new DuckDbWarehouse(path, options, inMemory ? 'DuckDB (in memory)' : `DuckDB ${path}`);
  await warehouse.connect();
  return warehouse;
}

/**
 * The run history's columns in the order `insertRunRows` appends them: the order of its DDL
 * (run_history_ddl.sql.hbs; test/warehouse/duckdb-column-order.test.ts holds them equal).
 */
export const RUN_HISTORY_APPEND_ORDER = ['run_id', 'processor_name', 'processing_date', 'status', 'started_at', 'completed_at', 'records_processed', 'errors', 'trigger_source', 'metadata'] as const;

/** Whether a table's columns are exactly `names`, in order (DuckDB's names are case-insensitive). */
function sameNames(columns: readonly TableColumn[], names: readonly string[]): boolean {
  return columns.length === names.length && columns.every((column, i) => column.name.toLowerCase() === names[i]);
}

/** Names the temporary tables of by-name appends apart, within a process. */
let stageCount = 0;

/** Whether DuckDB refused to open the file for writing: this user may not write it, or its file system is read-only. */
function isNotWritable(error: unknown): boolean {
  return /permission denied|read-only file system/i.test(error instanceof Error ? error.message : String(error));
}

/** Whether DuckDB refused the file because another process holds its lock. */
function isLockConflict(error: unknown): boolean {
  return /could not set lock on file/i.test(error instanceof Error ? error.message : String(error));
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * The most processor-days one DuckDB check statement reports. DuckDB's working memory for the
 * detection grows with them (about 1.5 MB per 1,000 at 2 years of history: over 500 MB at
 * 1,000 × 366 in one query, and those operators cannot spill), so `runCheck` runs a larger check
 * in slices (half as many processor-days each in a check over `LARGE_CHECK_PROCESSOR_DAYS`):
 * 1,000 × 366 and 10,000 × 90 days then fit the Cloud Run job's 512 MiB (issue 13, measured by
 * `npm run bench`).
 */
export const DUCKDB_CHECK_PROCESSOR_DAYS = 50_000;

/**
 * The most processors one DuckDB check statement reports. Its memory grows with them as much as
 * with their days (5,000 processors × 7 days: 279 MiB tracked, and about as much again untracked
 * until the allocator gives it back), so `runCheck` slices 10,000 × 7 days too, and has the
 * allocator give back between slices what each statement freed (`betweenSlices`;
 * bench/README.md). `runCheck` uses slices of half as many while the check stays within ten
 * statements (`processorsPerStatement`).
 */
export const DUCKDB_CHECK_PROCESSORS = 1_000;

/**
 * The least share of its memory_limit DuckDB keeps for a statement whose caller holds much of what
 * it read before (`QueryBatchesOptions.leaveRoomForCaller`: a check over LARGE_CHECK_PROCESSOR_DAYS).
 * Such a check's JavaScript heap grows to ~155 MiB by its last slice (every processor's days and
 * details), while DuckDB fills its whole limit with the run history it has read (the table is
 * stored by date, so every slice reads every processor's rows of the window): with realistic rows
 * (UUID run ids, 200-character errors) `pem report` at 2,732 processors × 366 days peaked at 501–515
 * MiB of the job's 512, and at 10,000 × 90 days at 482–485. With the limit lowered by what the
 * check holds so far (down to 5/8, 160 MB of the default 256 MB, by their last slices): 417–420 and
 * 438–448 MiB, in the same time, the same pages. The statements of these slices need under 100 MB
 * besides the cache (bench/README.md); one that needs more runs again under the whole limit.
 */
export const LARGE_RESULT_MEMORY_SHARE = 5 / 8;

class DuckDbWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  readonly checkProcessorDaysPerQuery = DUCKDB_CHECK_PROCESSOR_DAYS;
  readonly detectsWithDeployedRegistry = false;
  readonly checkProcessorsPerQuery = DUCKDB_CHECK_PROCESSORS;
  get holdsFile(): boolean {
    return this.path !== ':memory:';
  }
  private open: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;
  private connecting: Promise<DuckDBConnection> | null = null;
  /** Whether a statement holds the main connection; statements asked meanwhile run on spare ones. */
  private mainBusy = false;
  /** Spare connections to the same database, idle. */
  private spares: DuckDBConnection[] = [];
  /** Statements holding a connection (main or spare) right now: `release` must not close the instance under them. */
  private statementsInFlight = 0;
  /** The key in `filesHeldInProcess` while this warehouse's instance has the file attached. */
  private heldKey: string | null = null;
  /** When the file was last opened (`performance.now()`), for `betweenSlices`. */
  private openedAt = 0;
  /** The file is attached read-only (`readsOnly`, and this user may not write it); kept for the opens after the first. */
  private attachedReadOnly = false;

  constructor(
    private readonly path: string,
    private readonly options: Pick<DuckDbOptions, 'lockWaitMs' | 'signal' | 'onLockWait' | 'memoryLimit' | 'sliceFileHoldMs' | 'onSpoolKept' | 'onSpoolDamaged' | 'onSpoolUnreadable' | 'readsOnly' | 'onSpoolNotRead' | 'onSpoolNotRemoved'>,
    readonly description: string,
  ) {}

  /**
   * Opens the file, waiting up to `lockWaitMs` while another process holds it; then adds the rows
   * waiting in its spool (best effort: what cannot be added stays spooled), and turns off access
   * to any other file, so that nothing a query says (a registry filter) can read the disk.
   */
  async connect(): Promise<DuckDBConnection> {
    if (this.open) return this.open.connection;
    this.connecting ??= this.openFile().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openFile(): Promise<DuckDBConnection> {
    const inMemory = this.path === ':memory:';
    const { lockWaitMs = 0, signal, onLockWait, memoryLimit = null } = this.options;
    const deadline = Date.now() + lockWaitMs;
    let waited = false;
    let instance: DuckDBInstance | undefined;
    try {
      // Given as the instance's configuration, not spliced into SQL.
      instance = await DuckDBInstance.create(':memory:', {
        ...(memoryLimit === null ? {} : { memory_limit: memoryLimit }),
        ...ALLOCATOR_SETTINGS,
      });
      const connection = await instance.connect();
      if (!inMemory) {
        // Attached under a fixed catalog name: opened directly, the file's catalog is named after
        // it, and `monitoring.processor_run_history` in `monitoring.duckdb` (the defaults) would be
        // an ambiguous catalog-or-schema reference.
        const key = fileKey(this.path);
        for (;;) {
          // Given up while it waited (the recorder's bound): it must not take the file after all.
          if (signal?.aborted) throw new Error('stopped waiting for the file');
          let holder = 'another process';
          if (filesHeldInProcess.has(key)) {
            holder = 'another open in this process';
          } else {
            filesHeldInProcess.add(key);
            try {
              await connection.run(`ATTACH '${this.path.replaceAll("'", "''")}' AS ${DUCKDB_CATALOG}${this.attachedReadOnly ? ' (READ_ONLY)' : ''}`);
              this.heldKey = key;
              break;
            } catch (error) {
              filesHeldInProcess.delete(key);
              // A command that only reads reads a file it may not write (a shared, read-only copy).
              if (this.options.readsOnly && !this.attachedReadOnly && isNotWritable(error)) {
                this.attachedReadOnly = true;
                continue;
              }
              if (!isLockConflict(error)) throw error;
            }
          }
          if (signal?.aborted || Date.now() >= deadline) throw new Error(`${holder} holds the file (waited ${lockWaitMs} ms)`);
          if (!waited) onLockWait?.(new Error(`${holder} holds DuckDB ${this.path}`));
          waited = true;
          await pause(LOCK_RETRY_MIN_MS + Math.random() * (LOCK_RETRY_MAX_MS - LOCK_RETRY_MIN_MS));
        }
        // DuckDB attaches some files that are not databases (an existing `.json` file, say) as an
        // empty database in memory, where everything written is lost: refuse those.
        const attached = await connection.runAndReadAll(`SELECT path FROM duckdb_databases() WHERE database_name = '${DUCKDB_CATALOG}'`);
        if (attached.getRows()[0]?.[0] == null) throw new Error('not a DuckDB database file (DuckDB would keep nothing written to it)');
        await connection.run(`USE ${DUCKDB_CATALOG}`);
      }
      // Naive TIMESTAMP columns hold UTC (SPEC §2); make every implicit conversion agree.
      await connection.run("SET TimeZone = 'UTC'");
      this.open = { instance, connection };
      this.openedAt = performance.now();
    } catch (error) {
      instance?.closeSync();
      this.letGoOfFile();
      // Said where a read would have worked: the commands that only read open such a file read-only.
      // A file not there yet (pem schema apply making it) has nothing to read: its folder is the fault.
      const creating = !inMemory && !existsSync(this.path);
      const readersHint =
        !isNotWritable(error) ? ''
        : creating ? ` (its folder ${dirname(resolve(this.path))} is not writable by this user)`
        : !this.options.readsOnly ? ' (this command writes to it; pem check --dry-run, pem gaps, pem report, pem backtest and pem silence list can read a file this user may not write)'
        : '';
      throw duckDbFailure(`cannot ${creating ? 'create' : 'open'} DuckDB database ${this.path}`, error, readersHint);
    }
    const opened = this.open;
    try {
      if (!inMemory) await (this.attachedReadOnly ? this.tellSpoolWaiting() : this.drainSpool());
      // https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview: no file, URL or
      // extension reached from SQL after this; the attached database stays readable and writable.
      await opened.connection.run('SET enable_external_access = false');
    } catch (error) {
      // Not opened after all: nobody holds this warehouse to close it.
      this.closeInstance();
      throw duckDbFailure(`cannot open DuckDB database ${this.path}`, error);
    }
    return opened.connection;
  }

  /** Adds the spooled rows of this file to their tables, then forgets them. */
  private async drainSpool(): Promise<void> {
    const { rows: spooled, damaged, unreadable } = readSpool(this.path);
    if (unreadable.length > 0 && !this.spoolUnreadableTold) {
      this.spoolUnreadableTold = Boolean(this.options.onSpoolUnreadable);
      this.options.onSpoolUnreadable?.(unreadable);
    }
    for (const file of damaged) setAsideDamaged(file);
    const byTable = new Map<string, SpooledRow[]>();
    for (const entry of spooled) byTable.set(entry.table, [...(byTable.get(entry.table) ?? []), entry]);
    for (const [table, entries] of byTable) {
      // All at once; when the table refuses that, each on its own, so that one row it refuses (a
      // value out of its column's range) does not keep the others out with it.
      const refused = await this.addSpooled(table, entries).then(
        () => [],
        async (error: unknown) => {
          if (entries.length === 1) return [{ entry: entries[0]!, error }];
          const each: { entry: SpooledRow; error: unknown }[] = [];
          for (const entry of entries) await this.addSpooled(table, [entry]).catch((own: unknown) => each.push({ entry, error: own }));
          return each;
        },
      );
      // They stay spooled, for a later drain (the table is missing, or refuses them). Said once per
      // table: the file is opened again between a check's statements.
      if (refused.length === 0 || this.spoolKeptTold.has(table)) continue;
      this.spoolKeptTold.add(table);
      this.options.onSpoolKept?.(table, refused.length, withoutSource(describeError(refused[0]!.error), this.description));
    }
    // Said by every open that can warn (a check, gaps, report, schema apply), once per process, while
    // set-aside files remain: the drain that set them aside may have had no one to tell (pem record).
    const setAside = this.options.onSpoolDamaged && !this.spoolDamagedTold ? damagedSpoolFiles(this.path) : [];
    if (setAside.length > 0) {
      this.spoolDamagedTold = true;
      this.options.onSpoolDamaged!(setAside);
    }
  }

  /**
   * A read-only open cannot add the spooled run rows (nor set damaged files aside): it says, once,
   * that what it reads goes without them.
   */
  private async tellSpoolWaiting(): Promise<void> {
    const { rows: spooled, unreadable } = readSpool(this.path);
    if (unreadable.length > 0 && !this.spoolUnreadableTold) {
      this.spoolUnreadableTold = Boolean(this.options.onSpoolUnreadable);
      this.options.onSpoolUnreadable?.(unreadable);
    }
    if (spooled.length > 0 && !this.spoolNotReadTold) {
      this.spoolNotReadTold = Boolean(this.options.onSpoolNotRead);
      this.options.onSpoolNotRead?.(spooled.length);
    }
  }

  /** Adds spooled rows to their table and forgets them; throws (keeping them) when the table refuses them. */
  private async addSpooled(table: string, entries: readonly SpooledRow[]): Promise<void> {
    const repeated = await this.insertRunRows(table, entries.map((e) => e.row));
    // A row the table skipped because it holds another of its (run_id, status) that says
    // something else: set aside with why, not forgotten unsaid. A retry (the same values) is.
    const conflicting = new Map(repeated.filter((repeat) => repeatDifferences(repeat).length > 0).map((repeat) => [repeat.row, repeat]));
    try {
      for (const entry of entries) {
        const repeat = conflicting.get(entry.row);
        if (repeat) setAsideRepeated(entry, repeat);
      }
      forgetSpooled(entries.filter((entry) => !conflicting.has(entry.row)));
    } catch (error) {
      // The rows are in the table; only their files stay (a read-only spool folder): not a table
      // refusing them. Said once; a later drain finds them stored and adds nothing.
      if (!this.spoolNotRemovedTold) {
        this.spoolNotRemovedTold = Boolean(this.options.onSpoolNotRemoved);
        this.options.onSpoolNotRemoved?.(table, entries.length, describeError(error));
      }
    }
  }

  private readonly spoolKeptTold = new Set<string>();
  private spoolNotReadTold = false;
  private spoolNotRemovedTold = false;
  private spoolDamagedTold = false;
  private spoolUnreadableTold = false;

  /**
   * Lets go of the file (and its lock) until the next statement, which opens it again: the check
   * calls it before it talks to Slack or PagerDuty, so recorders are never kept out meanwhile.
   */
  async release(): Promise<void> {
    // Statements asked side by side (a backtest's checks ahead, each with its slices and alerts)
    // still run on this instance: the file is let go by whichever releases last, or at close.
    if (this.path === ':memory:' || !this.open || this.statementsInFlight > 0) return;
    await this.close();
  }

  async betweenSlices(): Promise<void> {
    // Statements of other checks (a backtest asks its checks side by side) still run: nothing to
    // do until the last of them, as with `release`.
    if (!this.open || this.statementsInFlight > 0) return;
    const holdMs = this.options.sliceFileHoldMs ?? SLICE_FILE_HOLD_MS;
    if (this.path !== ':memory:' && performance.now() - this.openedAt >= holdMs) {
      await this.release();
      // Long enough for a process waiting for the file (it tries again every 5–40 ms) to take it
      // before the next slice opens it again, which then waits for that process (lockWaitMs);
      // a statement of another check on this warehouse may open it first (a backtest).
      await pause(SLICE_FILE_TURN_MS);
      return;
    }
    try {
      await this.returnFreedMemory();
    } catch {
      // Returning memory is an economy, not the check's work: should DuckDB refuse the thread
      // change, the instance is closed instead (which returns it too, and leaves no changed setting
      // behind; the next statement opens a fresh one), rather than the check failing for it.
      await this.release();
    }
  }

  /**
   * Hands the pages DuckDB's allocator keeps back to the system. Its one way to do that short of
   * closing the instance: relaunching the thread pool, which DuckDB follows with a flush of every
   * allocator arena and a malloc_trim (TaskScheduler::RelaunchThreads → Allocator::FlushAll, DuckDB
   * 1.5), and which happens only when the thread count changes; so it is changed and set back.
   * Measured at 10,000 × 7 days: the same peak RSS as closing the instance between slices, without
   * its cost (bench/README.md); without either, 460 MiB instead of ~330. It holds a connection like
   * any statement (`lease`): a statement asked meanwhile runs on another one instead of ending these
   * (a stream on the connection a SET then runs on ends, empty and without an error), a `release`
   * does not close the instance under it, and a second `betweenSlices` does nothing. Statements on
   * other connections keep running; DuckDB hands their tasks to the relaunched threads.
   */
  private async returnFreedMemory(): Promise<void> {
    const lease = await this.lease();
    const setThreads = (threads: number) => lease.connection.run('SET threads = $threads', { threads }, { threads: INTEGER });
    try {
      const [setting] = (await lease.connection.runAndReadAll("SELECT current_setting('threads') AS threads")).getRowObjects();
      const threads = Number(setting?.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new Error(`its threads setting reads ${String(setting?.threads)}`);
      try {
        await setThreads(threads === 1 ? 2 : 1);
      } finally {
        // Set back whatever happened to the change: the rest of the check runs with its threads.
        await setThreads(threads);
      }
    } finally {
      lease.done();
    }
  }

  async query(sql: string, params: QueryParams = {}): Promise<Row[]> {
    const lease = await this.lease();
    let statement: DuckDBPreparedStatement | undefined;
    try {
      statement = await lease.connection.prepare(sql);
      bindAll(statement, params);
      const result = await statement.run();
      const decoders = result.columnTypes().map(decoderFor);
      const names = result.columnNames();
      const rows: Row[] = [];
      for (let i = 0; i < result.chunkCount; i++) decodeChunk(names, decoders, result.getChunk(i), rows);
      return rows;
    } catch (error) {
      throw duckDbFailure(this.description, error);
    } finally {
      statement?.destroySync();
      lease.done();
    }
  }

  /**
   * A connection for one statement (a query, a stream, a statement without rows, an append): the
   * main one, or, while a statement holds it, a spare one. One DuckDB connection runs one statement
   * at a time (a new one ends a stream in progress), so statements asked side by side (a backtest
   * computes its checks ahead) each get their own; callers that ask one at a time only ever use the
   * main one. Every statement takes one, so `release` never closes the instance under any of them.
   */
  private async lease(): Promise<{ connection: DuckDBConnection; done: () => void }> {
    // Counted before anything is awaited: a release asked while this statement waits for its
    // connection must not close the instance it is about to use.
    this.statementsInFlight++;
    let main: DuckDBConnection;
    try {
      main = await this.connect();
    } catch (error) {
      this.statementsInFlight--;
      throw error;
    }
    if (!this.mainBusy) {
      this.mainBusy = true;
      return {
        connection: main,
        done: () => {
          this.mainBusy = false;
          this.statementsInFlight--;
        },
      };
    }
    let connection: DuckDBConnection;
    try {
      connection = this.spares.pop() ?? (await this.spareConnection());
    } catch (error) {
      this.statementsInFlight--;
      throw error;
    }
    return {
      connection,
      done: () => {
        this.statementsInFlight--;
        if (this.open?.connection === main) this.spares.push(connection);
        else connection.closeSync();
      },
    };
  }

  /** A second connection to the open database, set up as the main one (its catalog and UTC). */
  private async spareConnection(): Promise<DuckDBConnection> {
    const connection = await this.open!.instance.connect();
    if (this.path !== ':memory:') await connection.run(`USE ${DUCKDB_CATALOG}`);
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  }

  async *queryBatches(sql: string, params: QueryParams = {}, options: QueryBatchesOptions = {}): AsyncIterable<Row[]> {
    let lease: Awaited<ReturnType<DuckDbWarehouse['lease']>> | undefined;
    let lowered = false;
    try {
      lease = await this.lease().catch((error: unknown) => {
        throw duckDbFailure(this.description, error);
      });
      const connection = lease.connection;
      // Only while no other statement runs: the limit is the instance's, and theirs may need it all.
      const room = options.leaveRoomForCaller ?? 0;
      if (room > 0 && this.statementsInFlight === 1) lowered = await this.lowerMemoryLimit(connection, room);
      let yielded = false;
      for (;;) {
        try {
          for await (const batch of this.streamBatches(connection, sql, params)) {
            yielded = true;
            yield batch;
          }
          return;
        } catch (error) {
          // Under the lower limit the statement ran out before its first rows: it runs again under
          // the whole one, as it would have without the caller's request.
          if (!lowered || yielded || !isOutOfMemory(error)) throw duckDbFailure(this.description, error);
          lowered = false;
          await this.restoreMemoryLimit(connection).catch(() => {
            throw duckDbFailure(this.description, error);
          });
        }
      }
    } finally {
      // The stream is done, failed or dropped by its reader: the limit is the whole one again, and
      // the connection is free.
      if (lowered && lease) await this.restoreMemoryLimit(lease.connection).catch(() => undefined);
      lease?.done();
    }
  }

  /** One statement's rows, streamed: DuckDB hands over one chunk (2,048 rows) at a time instead of materialising the result. */
  private async *streamBatches(connection: DuckDBConnection, sql: string, params: QueryParams): AsyncIterable<Row[]> {
    const statement = await connection.prepare(sql);
    try {
      bindAll(statement, params);
      const result = await statement.stream();
      const names = result.columnNames();
      const decoders = result.columnTypes().map(decoderFor);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        yield decodeChunk(names, decoders, chunk, []);
      }
    } finally {
      // What the statement's execution holds (hash tables, aggregate states: tens of MB for a
      // check) is DuckDB's until the statement is destroyed, which the library leaves to V8's
      // garbage collector: the next statement of a check, or a lowered memory_limit, found it still
      // counted (duckdb_memory() tag ALLOCATOR), and ran out of memory it did not need.
      statement.destroySync();
    }
  }

  /**
   * Lowers DuckDB's memory_limit by `room` bytes, to no less than LARGE_RESULT_MEMORY_SHARE of the
   * configured one, for a statement whose caller holds that much (`QueryBatchesOptions.leaveRoomForCaller`);
   * false when it stays as it is (no configured limit, or DuckDB cannot give back what it holds).
   */
  private async lowerMemoryLimit(connection: DuckDBConnection, room: number): Promise<boolean> {
    const configured = this.options.memoryLimit ? duckDbMemoryBytes(this.options.memoryLimit) : null;
    if (configured === null) return false;
    const limit = `${Math.floor(Math.max(configured * LARGE_RESULT_MEMORY_SHARE, configured - room))}B`;
    try {
      // Lowering it evicts the history DuckDB has cached beyond the new limit.
      await setMemoryLimit(connection, limit);
      return true;
    } catch {
      return false;
    }
  }

  /** Sets the configured memory_limit back (only ever called after `lowerMemoryLimit` lowered it). */
  private async restoreMemoryLimit(connection: DuckDBConnection): Promise<void> {
    await setMemoryLimit(connection, this.options.memoryLimit!);
  }

  async execute(sql: string, params: QueryParams = {}): Promise<void> {
    const lease = await this.lease();
    try {
      if (Object.keys(params).length === 0) {
        await lease.connection.run(sql);
        return;
      }
      const statement = await lease.connection.prepare(sql);
      try {
        bindAll(statement, params);
        await statement.run();
      } finally {
        statement.destroySync();
      }
    } catch (error) {
      throw duckDbFailure(this.description, error);
    } finally {
      lease.done();
    }
  }

  async insertRunRows(table: string, rows: readonly RunRow[]): Promise<RepeatedRunRow[]> {
    // Refused whole, before any row is appended: DuckDB would take 2025-02-30 as March 2.
    const undated = rows.find((row) => !isCalendarDate(row.processing_date));
    if (undated) throw new Error(`run ${undated.run_id}: processing_date '${undated.processing_date}' is not a calendar date (YYYY-MM-DD)`);
    const [schema, name] = splitTable(table);
    const { fresh, repeated } = await this.rowsNotYetIn(table, rows);
    // The appender fills columns by position: into a table made by hand with SPEC §2's columns in
    // another order, a run id landed in processor_name and a status in trigger_source, silently.
    // Such a table (or one with more columns, filled by their defaults) is given the rows by name,
    // through a temporary table of the DDL's shape; one without SPEC §2's columns refuses them.
    const columns = await this.tableColumns(table);
    const byName = columns.length > 0 && !sameNames(columns, RUN_HISTORY_APPEND_ORDER);
    const staged = byName ? await this.runRowsStage(table, columns) : null;
    const lease = await this.lease();
    try {
      if (staged) await lease.connection.run(staged.create);
      const appender = staged ? await lease.connection.createAppender(staged.name, 'main', 'temp') : await lease.connection.createAppender(name, schema);
      for (const row of fresh) {
        appender.appendVarchar(row.run_id);
        appender.appendVarchar(row.processor_name);
        appender.appendDate(dateValue(utcMidnight(row.processing_date) / DAY_MS));
        appender.appendVarchar(row.status);
        appendNullable(appender, row.started_at, (v) => appender.appendTimestamp(timestampValue(BigInt(v.getTime()) * 1000n)));
        appendNullable(appender, row.completed_at, (v) => appender.appendTimestamp(timestampValue(BigInt(v.getTime()) * 1000n)));
        appendNullable(appender, row.records_processed, (v) => appender.appendBigInt(BigInt(v)));
        appendNullable(appender, row.errors, (v) =>
          appender.appendList(
            v.map((e) => structValue({ error_type: e.error_type, error_message: e.error_message })),
            ERRORS_TYPE,
          ),
        );
        appendNullable(appender, row.trigger_source, (v) => appender.appendVarchar(v));
        appendNullable(appender, row.metadata ?? null, (v) => appender.appendVarchar(JSON.stringify(v)));
        appender.endRow();
      }
      appender.closeSync();
      if (staged) await lease.connection.run(staged.insert);
    } catch (error) {
      throw runtimeError(`${this.description}: cannot append to ${table}: ${describeError(error)}`);
    } finally {
      if (staged) await lease.connection.run(`DROP TABLE IF EXISTS temp.main.${staged.name}`).catch(() => undefined);
      lease.done();
    }
    return repeated;
  }

  /**
   * A temporary table of the run history's DDL shape and the statement that moves its rows into
   * `table` by name, for a table whose columns are SPEC §2's in another order or with more of them;
   * refuses (keeping the rows spooled, by its callers) a table that lacks SPEC §2's columns or has
   * them with other types, judged from `columns` as `insertRunRows` read them. The SQL renderer is
   * loaded only for such a table.
   */
  private async runRowsStage(table: string, columns: readonly TableColumn[]): Promise<{ name: string; create: string; insert: string }> {
    const { otherColumnsNote, runHistoryColumnMismatches, runHistoryDdlColumns } = await import('../sql/run-history-columns.js');
    const mismatches = runHistoryColumnMismatches(this.dialect, table, columns);
    if (mismatches.length > 0) throw runtimeError(`${this.description}: cannot append to ${table}: ${otherColumnsNote(table, mismatches)}`);
    const name = `pem_run_rows_${++stageCount}`;
    return {
      name,
      create: `CREATE TEMP TABLE ${name} (${runHistoryDdlColumns(this.dialect, table).map((c) => `${quotedName(c.name)} ${c.type}`).join(', ')})`,
      insert: `INSERT INTO ${quotedTable(table)} BY NAME SELECT * FROM temp.main.${name}`,
    };
  }

  async tableColumns(table: string): Promise<TableColumn[]> {
    const [schema, name] = splitTable(table);
    const rows = await this.query(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_catalog = current_database() AND table_schema = COALESCE($schema, current_schema()) AND table_name = $name
       ORDER BY ordinal_position`,
      { schema: { type: 'STRING', value: schema }, name: { type: 'STRING', value: name } },
    );
    return rows.map((row) => ({ name: String(row.column_name), type: String(row.data_type) }));
  }

  /**
   * The rows whose (run_id, status) neither the table nor an earlier row of the batch holds, and the
   * others with the row they repeat (the stored one, or the batch's earlier one).
   */
  private async rowsNotYetIn(table: string, rows: readonly RunRow[]): Promise<{ fresh: RunRow[]; repeated: RepeatedRunRow[] }> {
    const key = (runId: unknown, status: unknown) => `${String(runId)}\u0000${String(status)}`;
    const quoted = quotedTable(table);
    const runIds = (list: readonly RunRow[]) => ({ run_ids: { type: 'ARRAY<STRING>' as const, value: [...new Set(list.map((row) => row.run_id))] } });
    const held = await this.query(`SELECT DISTINCT run_id, status FROM ${quoted} WHERE list_contains($run_ids, run_id)`, runIds(rows));
    const stored = new Map<string, StoredRunValues | null>(held.map((row) => [key(row.run_id, row.status), null]));
    const fresh: RunRow[] = [];
    const repeats: RunRow[] = [];
    const earlier = new Map<string, RunRow>();
    for (const row of rows) {
      const k = key(row.run_id, row.status);
      if (stored.has(k) || earlier.has(k)) repeats.push(row);
      else {
        earlier.set(k, row);
        fresh.push(row);
      }
    }
    const repeatedStored = repeats.filter((row) => stored.has(key(row.run_id, row.status)));
    if (repeatedStored.length > 0) {
      // What the stored rows say, only when there are repeats (a retry, a second complete), as text:
      // a table made by hand with other column types must still get its append's own error. Of
      // several rows with one (run_id, status) (written by other tools), the latest completed_at
      // is the one a check reads (SPEC §2).
      try {
        const values = await this.query(
          `SELECT run_id, status,
                  CAST(first(processor_name ORDER BY completed_at DESC NULLS LAST) AS VARCHAR) AS processor_name,
                  CAST(first(processing_date ORDER BY completed_at DESC NULLS LAST) AS VARCHAR) AS processing_date,
                  CAST(first(records_processed ORDER BY completed_at DESC NULLS LAST) AS VARCHAR) AS records_processed,
                  CAST(to_json(first(errors ORDER BY completed_at DESC NULLS LAST)) AS VARCHAR) AS errors
           FROM ${quoted} WHERE list_contains($run_ids, run_id) GROUP BY run_id, status`,
          runIds(repeatedStored),
        );
        for (const row of values) {
          stored.set(key(row.run_id, row.status), {
            processor_name: String(row.processor_name),
            processing_date: String(row.processing_date),
            records_processed: row.records_processed === null ? null : Number(row.records_processed),
            errors: row.errors === null ? null : (JSON.parse(String(row.errors)) as RunError[] | null),
          });
        }
      } catch {
        // Unreadable as the run history (columns of other types): the repeats cannot be compared.
      }
    }
    const repeated: RepeatedRunRow[] = [];
    for (const row of repeats) {
      const k = key(row.run_id, row.status);
      const first = stored.get(k) ?? earlier.get(k);
      if (first) repeated.push({ row, stored: first });
    }
    return { fresh, repeated };
  }

  async close(): Promise<void> {
    // An open still connecting finishes first: closed under it, it would attach the file after this
    // close, for no one to close (and hold the file against every later open of this process).
    await this.connecting?.catch(() => undefined);
    this.closeInstance();
  }

  /** Closes the instance (its connections first) and lets go of the file; nothing when none is open. */
  private closeInstance(): void {
    const open = this.open;
    this.open = null;
    for (const spare of this.spares.splice(0)) spare.closeSync();
    open?.connection.closeSync();
    open?.instance.closeSync();
    this.letGoOfFile();
  }

  /** The file is free for another open of this process (its instance is closed, or never opened). */
  private letGoOfFile(): void {
    if (this.heldKey !== null) filesHeldInProcess.delete(this.heldKey);
    this.heldKey = null;
  }
}

/** DuckDB's memory_limit, given as a size (`256MB`, `167772160B`), bound rather than spliced into SQL. */
function setMemoryLimit(connection: DuckDBConnection, limit: string): Promise<unknown> {
  return connection.run('SET memory_limit = $limit', { limit }, { limit: VARCHAR });
}

const OUT_OF_MEMORY = /^Out of Memory Error: (.*)$/i;

/** Whether DuckDB failed for want of memory under its memory_limit. */
function isOutOfMemory(error: unknown): boolean {
  return OUT_OF_MEMORY.test(describeError(error));
}

/**
 * A DuckDB failure as one line (exit 1), `hint` after DuckDB's own words. Running out of DuckDB's
 * memory (its memory_limit) says so and what to do about it, instead of DuckDB's own tuning advice
 * on further lines.
 */
function duckDbFailure(what: string, error: unknown, hint = ''): PemError {
  const message = describeError(error);
  const outOfMemory = OUT_OF_MEMORY.exec(message);
  if (outOfMemory) {
    return runtimeError(
      `${what}: out of memory (${outOfMemory[1]}): check fewer processors at a time (--processors), a shorter window (--lookback-days), or raise PEM_DUCKDB_MEMORY_LIMIT`,
    );
  }
  return runtimeError(`${what}: ${message}${hint}`);
}

const ERRORS_TYPE = LIST(STRUCT({ error_type: VARCHAR, error_message: VARCHAR }));

function appendNullable<T>(appender: DuckDBAppender, value: T | null | undefined, append: (value: T) => void): void {
  if (value === null || value === undefined) appender.appendNull();
  else append(value);
}

/** A name as a DuckDB identifier, whatever it holds. */
function quotedName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** 'dataset.table' as a DuckDB table reference, each part quoted. */
function quotedTable(table: string): string {
  return splitTable(table)
    .filter((part): part is string => part !== null)
    .map(quotedName)
    .join('.');
}

/** 'dataset.table' → [schema, table]; a bare name lives in DuckDB's default schema. */
function splitTable(table: string): [string | null, string] {
  const parts = table.split('.');
  const name = parts.pop()!;
  return [parts.pop() ?? null, name];
}

function bindAll(statement: Awaited<ReturnType<DuckDBConnection['prepare']>>, params: QueryParams): void {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  // Bind only what the statement names: DuckDB rejects unknown named parameters.
  const wanted = new Set(Array.from({ length: statement.parameterCount }, (_, i) => statement.parameterName(i + 1)));
  for (const [name, param] of Object.entries(params)) {
    if (!wanted.has(name)) continue;
    const [value, type] = toDuckDb(param);
    values[name] = value;
    types[name] = type;
  }
  statement.bind(values, types);
}

/** A bound parameter as DuckDB's value and type (exported for the benchmark's engine timing). */
export function toDuckDb(param: QueryParam): [DuckDBValue, DuckDBType] {
  switch (param.type) {
    case 'DATE':
      return [dateValue(utcMidnight(param.value) / DAY_MS), DATE];
    case 'INT64':
      return [BigInt(param.value), BIGINT];
    case 'TIMESTAMP':
      return [timestampValue(BigInt(param.value.getTime()) * 1000n), TIMESTAMP];
    case 'STRING':
      return [param.value, VARCHAR];
    case 'ARRAY<STRING>':
      return [listValue([...param.value]), LIST(VARCHAR)];
  }
}

/**
 * Appends a chunk's rows to `rows` as plain objects, column by column: each column's vector and
 * decoder are looked up once, not once per value (`DuckDBDataChunk.getRows()` asks the binding for
 * the column count and builds an array per row, about half of reading 26,668 alert-state rows).
 * Every row gets its properties in the same order, so all share one object shape.
 */
function decodeChunk(names: readonly string[], decoders: readonly Decoder[], chunk: DuckDBDataChunk, rows: Row[]): Row[] {
  const count = chunk.rowCount;
  const first = rows.length;
  for (let r = 0; r < count; r++) rows.push({});
  for (let c = 0; c < names.length; c++) {
    const vector = chunk.getColumnVector(c);
    const name = names[c]!;
    const decodeValue = decoders[c]!;
    for (let r = 0; r < count; r++) {
      const value = vector.getItem(r);
      rows[first + r]![name] = value === null || value === undefined ? null : decodeValue(value);
    }
  }
  return rows;
}

type Decoder = (value: DuckDBValue) => PlainValue;

const asPlain = (value: DuckDBValue): PlainValue => value as PlainValue;

/** How a column of `type` is decoded: as it is when DuckDB already gives the plain form, else `decode`. */
function decoderFor(type: DuckDBType): Decoder {
  return PASSED_AS_IS.has(type.typeId) ? asPlain : (value) => decode(value, type);
}

const PASSED_AS_IS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.BOOLEAN,
]);

/** DuckDB values → the plain forms of `types.ts`. */
function decode(value: DuckDBValue, type: DuckDBType): PlainValue {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DATE: {
      const days = (value as { days: number }).days;
      return new Date(days * DAY_MS).toISOString().slice(0, 10);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const micros = (value as { micros: bigint }).micros;
      return new Date(Number(micros / 1000n)).toISOString();
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
      return Number(value as bigint);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.VARCHAR:
      return value as PlainValue;
    case DuckDBTypeId.LIST: {
      const child = (type as unknown as { valueType: DuckDBType }).valueType;
      return (value as { items: DuckDBValue[] }).items.map((item) => decode(item, child));
    }
    case DuckDBTypeId.STRUCT: {
      const entries = (type as unknown as { entryNames: string[]; entryTypes: DuckDBType[] });
      const struct = (value as { entries: Record<string, DuckDBValue> }).entries;
      return Object.fromEntries(entries.entryNames.map((name, i) => [name, decode(struct[name] ?? null, entries.entryTypes[i]!)]));
    }
    default:
      return String(value);
  }
}
