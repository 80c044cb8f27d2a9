/**
 * `RunRecorder`: how a processor writes its run history (SPEC §2, §8) without being put at risk
 * by it. A run is a `running` row written when it starts and a final row (`success`, `failed`,
 * `skipped`) with the same run id when it ends; rows are appended, never updated.
 *
 * Writing is a side concern of the processor, so:
 * - every write is bounded by `timeoutMs`: when it is up the write is abandoned and its
 *   requests are ended, so nothing of it keeps the process alive past the bound;
 * - a failed write is logged once with its cause (repeats of the same cause stay quiet until a
 *   write succeeds) and swallowed, unless `strict: true`;
 * - `withRun` returns the processor's own result, or rethrows its own error, whatever happened
 *   to the records.
 */
import { DEFAULT_RECORD_TIMEOUT_MS, MAX_TIMER_MS, environmentOf, isCloudRun, readSettings } from '../config/env.js';
import { FINAL_STATUSES, MAX_TRIGGER_CHARS, type FinalStatus } from '../config/names.js';
import { PemError, firstLine, usageError, withoutSource } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { printable } from '../printable.js';
import { boundRunErrors, runErrorFrom, truncate } from './run-error.js';
import { newRunId, parseRunId } from './run-id.js';
import { isCalendarDate } from '../calendar.js';
import { repeatDifferences, type RepeatedRunRow, type RunError, type RunRow } from '../warehouse/run-row.js';
import type { WarehouseSettings } from '../warehouse/open.js';
import { openRunSink, type RunSink, type RunTarget } from './sink.js';

/** Default bound on one write. */
export { DEFAULT_RECORD_TIMEOUT_MS };
/** The final statuses of a run (SPEC §2). */
export { FINAL_STATUSES, type FinalStatus };

const MAX_NAME_CHARS = 256;
const MAX_RUN_ID_CHARS = 1_024;
/** Started runs remembered for their completion; a process starting more forgets the oldest. */
const MAX_OPEN_RUNS = 10_000;

export interface RunRecorderOptions {
  /** Where rows go: `openRunSink`, `duckDbFileSink`, `warehouseRunSink`, or your own. */
  sink: RunSink;
  /** The one clock of `started_at` and `completed_at` (default: the system clock). */
  clock?: () => Date;
  /** Bound on each write, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Throw recording failures instead of logging and swallowing them (default false). */
  strict?: boolean;
  /** Where failures are logged (default: stderr, JSON lines on Cloud Run). */
  log?: Logger;
  /** `trigger_source` of runs whose start does not name one (default null). */
  triggerSource?: string | null;
  /**
   * Ends a pending write at once when aborted, as its bound would (the row is spooled where the
   * sink can keep it): `pem record` passes its SIGTERM/SIGINT stop request.
   */
  stopSignal?: AbortSignal;
  /**
   * What a logged failure ends with, in parentheses (default: `the run goes on; repeats of this
   * failure are not logged`, for a processor recording many runs). `pem record`, one row per
   * process, says what its exit code is instead.
   */
  failureNote?: string;
}

export interface RunStartOptions {
  /** `scheduler`, `manual`, `backfill`, … */
  triggerSource?: string | null;
  /** Free-form JSON, stored with the run's rows. */
  metadata?: unknown;
  /** Use this run id instead of a new one (completing it from another process then needs `processor` and `processingDate`). */
  runId?: string;
}

/**
 * A count as processors have it: a number, or a BigInt or a string of digits as database drivers
 * give `COUNT(*)`. Stored when it is a whole number from 0 to 2^53 − 1; otherwise the row is stored
 * without it, with a warning.
 */
export type RecordsCount = number | bigint | string;

export interface RunCompleteOptions {
  status: FinalStatus;
  recordsProcessed?: RecordsCount | null;
  errors?: readonly RunError[] | null;
  /** Stored on the final row (default: the start's metadata when this recorder started the run). */
  metadata?: unknown;
  /** Default: the start's trigger source when this recorder started the run. */
  triggerSource?: string | null;
  /** Only for run ids that are neither started by this recorder nor made by `recordRunStart`. */
  processor?: string;
  /** Only for run ids that are neither started by this recorder nor made by `recordRunStart`. */
  processingDate?: string;
}

/** What `withRun` hands the processor. */
export interface RunContext {
  readonly runId: string;
  readonly processor: string;
  readonly processingDate: string;
  /** `records_processed` of the final row (see `RecordsCount`). */
  setRecordsProcessed(count: RecordsCount): void;
  /** End the run as `skipped` (it ran and had nothing to do) instead of `success`. */
  markSkipped(): void;
}

interface OpenRun {
  processor: string;
  processingDate: string;
  startedAt: Date | null;
  triggerSource: string | null;
  metadata: unknown;
}

/**
 * Records processor runs in the run-history table.
 *
 * @example
 * ```ts
 * const recorder = createRunRecorder({ engine: 'bigquery', project: 'my-project', table: 'nba_reference.processor_run_history' });
 * await recorder.withRun('gamebook', '2025-10-07', async (run) => {
 *   const rows = await loadGamebook('2025-10-07');
 *   run.setRecordsProcessed(rows.length);
 * }, { triggerSource: 'scheduler' });
 * ```
 */
export class RunRecorder {
  private readonly sink: RunSink;
  private readonly clock: () => Date;
  private readonly timeoutMs: number;
  private readonly strict: boolean;
  private readonly failureNote: string;
  private readonly log: Logger;
  private readonly defaultTrigger: string | null;
  private readonly stopSignal: AbortSignal | undefined;
  private readonly open = new Map<string, OpenRun>();
  /** The cause last logged; the same cause is not logged again until a write succeeds. */
  private quietCause: string | null = null;
  private lastOk = false;
  private lastKept = false;

  constructor(options: RunRecorderOptions) {
    this.sink = options.sink;
    this.clock = options.clock ?? (() => new Date());
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RECORD_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0 || this.timeoutMs > MAX_TIMER_MS) {
      throw usageError(`RunRecorder timeoutMs ${String(options.timeoutMs)} must be a positive number of milliseconds up to ${MAX_TIMER_MS}, for example 10000`);
    }
    this.strict = options.strict ?? false;
    this.failureNote = options.failureNote ?? 'the run goes on; repeats of this failure are not logged';
    this.log = options.log ?? createLogger(process.stderr, { json: isCloudRun(environmentOf()) });
    this.defaultTrigger = options.triggerSource ?? null;
    this.stopSignal = options.stopSignal;
  }

  /** Whether the latest record (start or end) was stored; false before any. */
  get lastWriteSucceeded(): boolean {
    return this.lastOk;
  }

  /** Whether the latest record was stored or spooled for a later write to store (late, not lost). */
  get lastWriteKept(): boolean {
    return this.lastKept;
  }

  /**
   * The id of the run `recordRunStart` was last asked to start, also when it threw (`strict`): a
   * row kept in the spool is added later, and its run can be completed only with this id.
   */
  get lastStartedRunId(): string | null {
    return this.lastStarted;
  }

  private lastStarted: string | null = null;

  /**
   * Writes the `running` row of a new run and returns its run id. The id is returned even when
   * the row could not be written (unless `strict`), so the run can still be completed.
   */
  async recordRunStart(processor: string, processingDate: string, options: RunStartOptions = {}): Promise<string> {
    return (await this.start(processor, processingDate, options)).runId;
  }

  /** recordRunStart, and whether its input was refused (a bad name or date), which its end would be too. */
  private async start(processor: string, processingDate: string, options: RunStartOptions): Promise<{ runId: string; refused: boolean }> {
    const startedAt = this.clock();
    const problem = checkName('processor', processor) ?? checkDate(processingDate) ?? checkRunId(options.runId);
    const runId = options.runId ?? newRunId(String(processor), String(processingDate), startedAt);
    this.lastStarted = runId;
    if (problem) {
      await this.fail(`cannot record the start of run ${runId}`, usageError(problem));
      return { runId, refused: true };
    }
    const triggerSource = boundTrigger(options.triggerSource === undefined ? this.defaultTrigger : options.triggerSource);
    const metadata = this.jsonOrNull(options.metadata, runId);
    this.remember(runId, { processor, processingDate, startedAt, triggerSource, metadata });
    await this.write(`the start of run ${runId}`, {
      run_id: runId,
      processor_name: processor,
      processing_date: processingDate,
      status: 'running',
      started_at: startedAt,
      completed_at: null,
      records_processed: null,
      errors: null,
      trigger_source: triggerSource,
      metadata,
    });
    return { runId, refused: false };
  }

  /**
   * Writes the final row of run `runId`: same processor, processing date and start instant as its
   * `running` row (known from this recorder, or read from the run id), `completed_at` from the clock.
   */
  async recordRunComplete(runId: string, options: RunCompleteOptions): Promise<void> {
    const completedAt = this.clock();
    const found = this.findRun(runId, options);
    const problem = (FINAL_STATUSES as readonly string[]).includes(options.status)
      ? typeof found === 'string'
        ? found
        : null
      : `status '${String(options.status)}' is not a final status: use success, failed or skipped`;
    if (problem !== null || typeof found === 'string') {
      await this.fail(`cannot record the end of run ${runId}`, usageError(problem ?? String(found)));
      return;
    }
    // A count the table cannot hold must not cost the run its final row: without it a run that
    // succeeded reads as hung, then stale. Drivers give counts as BigInt or strings: those are read.
    // Strict mode (tests, development) still refuses it, as any bad input.
    const records = recordsValue(options.recordsProcessed);
    if (records.problem && this.strict) {
      await this.fail(`cannot record the end of run ${runId}`, usageError(records.problem));
      return;
    }
    if (records.problem) this.log.warn(`run ${runId}: ${records.problem}; its ${options.status} row is stored without it`);
    const run = found;
    this.open.delete(runId);
    // A start after the end (the hosts that started and ended the run keep different time, or a
    // run id made by hand): stored as it happened, but its duration reads negative and a baseline
    // of durations (SPEC §10) takes it in; said, so the clock gets fixed.
    if (run.startedAt !== null && run.startedAt.getTime() > completedAt.getTime()) {
      this.log.warn(
        `run ${runId}: it started at ${run.startedAt.toISOString()}, after it ended (${completedAt.toISOString()}), so its duration reads negative; are the clocks of the hosts that started and ended it apart?`,
      );
    }
    const errors = options.errors && options.errors.length > 0 ? boundRunErrors(options.errors) : null;
    await this.write(`the end of run ${runId} (${options.status})`, {
      run_id: runId,
      processor_name: run.processor,
      processing_date: run.processingDate,
      status: options.status,
      started_at: run.startedAt,
      completed_at: completedAt,
      records_processed: records.value,
      errors,
      trigger_source: options.triggerSource === undefined ? run.triggerSource : boundTrigger(options.triggerSource),
      metadata: options.metadata === undefined ? run.metadata : this.jsonOrNull(options.metadata, runId),
    });
  }

  /**
   * Runs `fn` as one run of `processor` for `processingDate`: records its start, then `success`
   * (or `skipped`, see `RunContext.markSkipped`) with its result, or `failed` with the thrown
   * error's type and message, and rethrows that error. Recording adds at most two write bounds
   * to the processor's time. In strict mode a start that cannot be recorded throws before `fn`
   * runs, and an end that cannot be recorded is thrown only when `fn` succeeded: the processor's
   * own error always wins.
   */
  async withRun<T>(
    processor: string,
    processingDate: string,
    fn: (run: RunContext) => T | Promise<T>,
    options: RunStartOptions = {},
  ): Promise<T> {
    const { runId, refused } = await this.start(processor, processingDate, options);
    // A start refused for its processor or date: its end would be refused too, and said a second
    // time in other words (the warning already says the run goes on unrecorded).
    const complete = (ending: RunCompleteOptions) => (refused ? Promise.resolve() : this.recordRunComplete(runId, ending));
    let recordsProcessed: RecordsCount | null = null;
    let skipped = false;
    const context: RunContext = {
      runId,
      processor,
      processingDate,
      setRecordsProcessed(count) {
        recordsProcessed = count;
      },
      markSkipped() {
        skipped = true;
      },
    };
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      try {
        await complete({ status: 'failed', recordsProcessed, errors: [runErrorFrom(error)] });
      } catch {
        // Strict mode: already logged by `fail`; the processor's error is the one to see.
      }
      throw error;
    }
    await complete({ status: skipped ? 'skipped' : 'success', recordsProcessed });
    return result;
  }

  /** The run `runId` belongs to, or why it cannot be known. */
  private findRun(runId: string, options: RunCompleteOptions): OpenRun | string {
    const known = this.open.get(runId);
    if (known) return known;
    // An empty id would make every run completed with it one run (SPEC §2: run_id groups a run's rows).
    const idProblem = checkRunId(runId);
    if (idProblem) return idProblem;
    const parsed = parseRunId(runId);
    if (options.processor !== undefined || options.processingDate !== undefined) {
      const problem = checkName('processor', options.processor) ?? checkDate(options.processingDate);
      if (problem) return problem;
      const sameRun = parsed?.processor === options.processor && parsed?.processingDate === options.processingDate;
      return {
        processor: options.processor!,
        processingDate: options.processingDate!,
        // The start instant is known only from a run id made by recordRunStart.
        startedAt: sameRun ? parsed!.startedAt : null,
        triggerSource: null,
        metadata: null,
      };
    }
    if (!parsed) {
      return `run id '${runId}' was neither started by this recorder nor made by recordRunStart (processor/YYYY-MM-DD/…): pass processor and processingDate to complete it`;
    }
    // A run id carries its date as text: 2025-13-01 (or 2025-02-30, which DuckDB would store as March 2) is no run's date.
    if (checkDate(parsed.processingDate) !== null) {
      return `run id '${runId}' carries processing date '${parsed.processingDate}', which is not a date from 1900-01-01 to 9998-12-31: it was not made by recordRunStart`;
    }
    return { processor: parsed.processor, processingDate: parsed.processingDate, startedAt: parsed.startedAt, triggerSource: null, metadata: null };
  }

  private remember(runId: string, run: OpenRun): void {
    if (this.open.size >= MAX_OPEN_RUNS) this.open.delete(this.open.keys().next().value!);
    this.open.set(runId, run);
  }

  /** Writes one row within the bound; a failure goes to `fail`. */
  private async write(what: string, row: RunRow): Promise<void> {
    const controller = new AbortController();
    let lastRetryCause: Error | null = null;
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // A stop request ends the wait as the bound would: the row is spooled, not lost.
      onStop = () => {
        const reason: unknown = this.stopSignal?.reason;
        const error = new Error(reason instanceof Error ? reason.message : 'stopped before the write finished');
        controller.abort(error);
        reject(error);
      };
      if (this.stopSignal?.aborted) onStop();
      else this.stopSignal?.addEventListener('abort', onStop, { once: true });
      timer = setTimeout(() => {
        const last = lastRetryCause ? firstLine(lastRetryCause.message) : null;
        const error: Error & { underlying?: string } = new Error(`no answer within ${this.timeoutMs} ms${last ? ` (last attempt: ${last})` : ''}`);
        // Logged once per underlying cause, whether a write ends on it or on the deadline after it.
        if (last) error.underlying = last;
        controller.abort(error);
        reject(error);
      }, this.timeoutMs);
      // Deliberately not unref'd: while a write is pending this timer keeps the process alive, at
      // most until the bound. Unref'd, a processor awaiting the write during a retry back-off
      // (whose timers are unref'd) would see Node exit under it with an unsettled await.
    });
    const attempt = Promise.resolve().then(() =>
      this.sink.write([row], {
        signal: controller.signal,
        onRetry: (cause) => {
          lastRetryCause = cause;
        },
      }),
    );
    // After a timeout nobody awaits the attempt: keep its late failure from being unhandled.
    attempt.catch(() => undefined);
    let repeated: readonly RepeatedRunRow[] | void = [];
    try {
      repeated = await Promise.race([attempt, deadline]);
      this.quietCause = null;
      this.lastOk = true;
      this.lastKept = true;
    } catch (cause) {
      clearTimeout(timer);
      const spooled = await this.spool(row);
      await this.fail(`cannot record ${what} in ${this.sink.description}`, cause, typeof spooled === 'object' && spooled !== null ? spooled.keptIn : null, typeof spooled === 'string' ? spooled : null);
    } finally {
      clearTimeout(timer);
      if (onStop) this.stopSignal?.removeEventListener('abort', onStop);
    }
    for (const repeat of repeated ?? []) this.conflict(repeat);
  }

  /**
   * A row skipped as a repeat of its (run_id, status) that says something else than the stored one
   * (`pem record complete` run again with other --records): the first row stays and the check reads
   * it, so the second must not pass in silence. A retry (the same values) says nothing.
   */
  private conflict(repeat: RepeatedRunRow): void {
    const differences = repeatDifferences(repeat);
    if (differences.length === 0) return;
    this.lastOk = false;
    this.lastKept = false;
    const { run_id: runId, status } = repeat.row;
    const message =
      `run ${runId} already has a stored ${status} row, so this one was not stored (a run keeps its first row of each status, SPEC §2): ` +
      `stored ${differences.join('; ')}. To record other values, record the date as a new run (pem record start)`;
    if (this.strict) throw new PemError('runtime', printable(message));
    // The stored and the given values are whatever was recorded: one line, whatever they hold.
    this.log.warn(printable(message));
  }

  /**
   * Where the sink kept a row it could not write (to be added by a later write); why it could not
   * keep it either (the row is then lost: the failure says so); null for a sink without a spool.
   */
  private async spool(row: RunRow): Promise<{ keptIn: string } | string | null> {
    if (!this.sink.spool) return null;
    try {
      // null: no place to keep it (not beside a DuckDB file), a mistake the failure itself names.
      const keptIn = await this.sink.spool([row]);
      return keptIn === null ? null : { keptIn };
    } catch (error) {
      return firstLine(error instanceof Error ? error.message : String(error));
    }
  }

  /** Logs (once per cause) and swallows, or throws in strict mode. */
  private async fail(what: string, cause: unknown, keptIn: string | null = null, notKeptBecause: string | null = null): Promise<void> {
    this.lastOk = false;
    this.lastKept = keptIn !== null;
    const said = cause instanceof Error ? firstLine(cause.message) : String(cause);
    // The warehouse's errors start with its description, which `what` already names ("in DuckDB x").
    const reason = withoutSource(said, this.sink.description);
    const kept =
      keptIn !== null ? `; kept in ${keptIn}, added by the next \`pem record\` or \`pem check\` that can write it`
      : notKeptBecause !== null ? `; it could not be kept for later either (${notKeptBecause}): this row is lost`
      // No spool (BigQuery keeps none): said, since nothing adds it later.
      : '; nothing keeps it for later: this line is all that is left of it';
    const message = `${what}: ${reason}${kept}`;
    if (this.strict) {
      throw cause instanceof PemError && cause.code === 'usage' ? usageError(message) : new PemError('runtime', message);
    }
    // Said once per cause while rows are kept for later; every row that is not, each time (its run is named).
    const key = (cause as { underlying?: string } | null)?.underlying ?? reason;
    if (keptIn !== null && this.quietCause === key) return;
    this.quietCause = keptIn !== null ? key : null;
    this.log.warn(`${message} (${this.failureNote})`);
  }

  /** `value` as stored JSON; a value JSON cannot hold is logged and stored as null (the run still counts). */
  private jsonOrNull(value: unknown, runId: string): unknown {
    if (value === undefined || value === null) return null;
    try {
      const text = JSON.stringify(value);
      return text === undefined ? null : wellFormed(JSON.parse(text) as unknown);
    } catch (error) {
      this.log.warn(`run ${runId}: metadata is not JSON (${firstLine(error instanceof Error ? error.message : String(error))}); stored as null`);
      return null;
    }
  }
}

/**
 * A recorder writing to the warehouse a `pem` command would use: `engine` (else PEM_ENGINE, else
 * duckdb), `database`, `project`/`location` (else GOOGLE_CLOUD_PROJECT, PEM_BIGQUERY_LOCATION),
 * PEM_BIGQUERY_API_ENDPOINT. Nothing is contacted until the first write.
 */
export function createRunRecorder(
  target: RunTarget & Omit<RunRecorderOptions, 'sink'>,
  // The warehouse's settings only: a processor's run is recorded whatever its alert variables say.
  settings: WarehouseSettings = readSettings(undefined, { eager: false }),
): RunRecorder {
  const { table, engine, database, project, location, authClient, ...options } = target;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RECORD_TIMEOUT_MS;
  const sink = openRunSink({ table, engine, database, project, location, authClient, timeoutMs }, settings);
  return new RunRecorder({ ...options, sink });
}

/** Why `value` cannot be a processor name (or other name), or null. */
export function checkName(what: string, value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return `${what} must be a non-empty string, for example 'gamebook'`;
  if (value.length > MAX_NAME_CHARS) return `${what} '${value.slice(0, 40)}…' is longer than ${MAX_NAME_CHARS} characters`;
  if (/[\u0000-\u001f]/.test(value)) return `${what} '${value}' holds a control character`;
  return null;
}

/** Why `value` cannot be a processing date ('YYYY-MM-DD', a real calendar date), or null. */
export function checkDate(value: unknown): string | null {
  if (!isCalendarDate(value)) return `processing date '${String(value)}' is not a valid date: use YYYY-MM-DD, for example 2025-10-07`;
  // The CLI's range (--date): both warehouses stop at 0001-01-01, and a window reaches a year back.
  const year = Number(value.slice(0, 4));
  if (year < 1900 || year > 9998) return `processing date '${value}' is outside 1900-01-01..9998-12-31`;
  return null;
}

function checkRunId(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '') return 'runId must be a non-empty string';
  if (value.length > MAX_RUN_ID_CHARS) return `runId is longer than ${MAX_RUN_ID_CHARS} characters`;
  return null;
}

/** A lone UTF-16 surrogate: JSON.stringify writes it as `\ud800`, which DuckDB's JSON refuses ever after. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Plain JSON data with every lone surrogate (in keys and strings) replaced by U+FFFD: stored as
 * given, a metadata string cut inside an emoji made every JSON function over the table fail
 * (`Malformed JSON … no low surrogate`), and BigQuery's JSON type refuses it.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(LONE_SURROGATE, '\uFFFD'), wellFormed(item)]));
  }
  return value;
}

/**
 * `records_processed` as stored: a whole number of 0 or more up to 2^53 − 1 (what JSON and the
 * table's INT64 agree on exactly), given as a number, a BigInt or a string of digits; anything else
 * is stored as null, with the problem named.
 */
function recordsValue(value: unknown): { value: number | null; problem: string | null } {
  if (value === undefined || value === null) return { value: null, problem: null };
  const count = typeof value === 'bigint' ? value : typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : null;
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (count !== null && count >= 0n && count <= max) return { value: Number(count), problem: null };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { value, problem: null };
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? `'${value}'` : String(value);
  const beyond = (count !== null && count > max) || (typeof value === 'number' && Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER);
  return {
    value: null,
    problem: beyond
      ? `records processed ${shown} is more than pem can store exactly (${Number.MAX_SAFE_INTEGER})`
      : `records processed ${shown} (${typeof value}) is not a whole number of 0 or more`,
  };
}


function boundTrigger(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : truncate(String(value), MAX_TRIGGER_CHARS);
}
