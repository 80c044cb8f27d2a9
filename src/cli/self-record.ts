/**
 * The monitor watches itself: each `pem check` is a run of processor `processor_execution_monitor`
 * in the registry dataset's run history (processing date = the check's end date E), and after
 * each completed check a heartbeat is pinged (`./heartbeat.ts`) so that a monitor that stopped
 * running is noticed by something outside it.
 *
 * - A failure to record never fails the check: it is one warning line after a check that ran;
 *   after a check that failed, the check's own error is the only line (and when even the start
 *   row could not be written, the end row is not attempted: the warehouse is what failed).
 * - `--dry-run` writes no state and sends nothing (SPEC §5): no run rows, no heartbeat.
 * - Bad input (an invalid registry, an unknown processor, a bad date) is not a run: the check
 *   reports it, and nothing is recorded.
 * - PEM_RECORD_SELF=off turns the run rows off (the heartbeat still goes); PEM_TRIGGER_SOURCE
 *   overrides the trigger (default `scheduler` on Cloud Run, else `manual`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_CLEANUP_MS } from './stop.js';
import type { CliContext } from './context.js';
import type { CheckSelectionFlags, PreparedCheck } from './selection.js';
import { runHistoryTable } from '../config/names.js';
import type { Logger, Severity } from '../log.js';
import { resolveEngine } from '../warehouse/open.js';
import { pingHeartbeat } from '../record/heartbeat.js';
import { RunRecorder } from '../record/recorder.js';
import { runErrorFrom } from '../record/run-error.js';
import { openRunSink } from '../record/sink.js';

/** The `pem check` flags this module reads (declared here so that it never imports `check.ts`, its caller). */
type CheckFlags = CheckSelectionFlags & { dryRun?: boolean };

/** The processor name of the monitor's own runs. */
export const MONITOR_PROCESSOR = 'processor_execution_monitor';

/**
 * Runs `check` (the whole `pem check` action) as a recorded run of the monitor, then pings the
 * heartbeat, and hands back what `check` returned.
 */
export async function runMonitoredCheck<T>(
  flags: CheckFlags,
  context: CliContext,
  prepared: PreparedCheck,
  check: () => Promise<T>,
): Promise<T> {
  if (flags.dryRun) return check();
  const own = planOwnRun(flags, context, prepared);
  if (!own) {
    const outcome = await check();
    await pingHeartbeat(context.env, context.log, { runId: null, processor: MONITOR_PROCESSOR, processingDate: null });
    return outcome;
  }
  const { recorder, notes } = own;
  // The start does not wait for a DuckDB file another process holds: it is spooled at once, and
  // the check's own open adds it after the one wait PEM_DUCKDB_LOCK_TIMEOUT_MS documents (waiting
  // here too made a held file's 3 s lock timeout a 24 s wait, 50 s with the defaults).
  own.fileWait.enabled = false;
  const runId = await recorder.recordRunStart(MONITOR_PROCESSOR, own.processingDate, { triggerSource: own.triggerSource, metadata: own.metadata });
  const started = recorder.lastWriteKept;
  const spooled = started && !recorder.lastWriteSucceeded;
  // The run's one end row: whichever of the check's outcome and a stop records it first.
  let endWrite: Promise<void> | null = null;
  const recordEnd = (completion: Parameters<RunRecorder['recordRunComplete']>[1]) => (endWrite ??= recorder.recordRunComplete(runId, completion).then(() => undefined));
  // A stop (SIGTERM, Ctrl-C) that finds no alert delivery to settle ends the process once its
  // cleanups are done (STOP_CLEANUP_MS), before the check could fail below (it may be waiting for
  // the DuckDB file, or for BigQuery): the run's end is recorded as failed then, or the end being
  // written is let finish. A write still waiting for a held DuckDB file near the bound is ended
  // and spooled: late, not lost, and never left `running`.
  if (started) {
    context.stop.atStop(async () => {
      own.fileWait.enabled = false;
      const writing = endWrite ?? recordEnd({ status: 'failed', recordsProcessed: own.processors, errors: [runErrorFrom(context.stop.signal.reason)] });
      const landed = await Promise.race([writing.then(() => true), sleep(END_WRITE_WAIT_MS, false, { ref: false })]);
      if (!landed) {
        own.endNow.abort(context.stop.signal.reason);
        await writing;
      }
      return '';
    }, () => '');
  }
  let outcome: T;
  try {
    outcome = await check();
  } catch (error) {
    // When the start could not be written the warehouse is most likely what failed the check:
    // a second bounded wait would only delay the exit (a spooled start's end is spooled at once).
    // Nor after a stop, whose grace would end the process while the row waited for the file.
    own.fileWait.enabled = !spooled && !context.stop.signal.aborted;
    if (started) await recordEnd({ status: 'failed', recordsProcessed: own.processors, errors: [runErrorFrom(error)] });
    // The check's own error is the one line to read ("DuckDB database … does not exist" once, not
    // three times); recording problems resurface on the next check that runs.
    notes.drop();
    throw error;
  }
  own.fileWait.enabled = true;
  await recordEnd({ status: 'success', recordsProcessed: own.processors });
  // The end written, a start spooled for a held file was added by the check's own open of it (which
  // says so itself when it cannot): its warning would only alarm.
  if (spooled && recorder.lastWriteSucceeded) notes.drop();
  else notes.flush();
  await pingHeartbeat(context.env, context.log, { runId, processor: MONITOR_PROCESSOR, processingDate: own.processingDate });
  return outcome;
}

/** How long a stop lets the run's end write land before it ends a wait for a held file (within STOP_CLEANUP_MS). */
const END_WRITE_WAIT_MS = STOP_CLEANUP_MS - 1_000;

interface OwnRun {
  recorder: RunRecorder;
  /** Ends the recorder's pending write at once (a DuckDB row then spooled): a stop's last resort. */
  endNow: AbortController;
  /** Whether the recorder's next DuckDB write waits for a file another process holds. */
  fileWait: { enabled: boolean };
  /** The recorder's log lines, held until the check's outcome is known. */
  notes: HeldLog;
  processingDate: string;
  processors: number;
  triggerSource: string;
  metadata: Record<string, unknown>;
}

/**
 * The recorder and run of this check, or null when self-recording is off or the engine flag is
 * bad (the check itself then reports it in one clear line). The registry and the inputs were
 * validated before: bad input is not a run.
 */
function planOwnRun(flags: CheckFlags, context: CliContext, { registry, inputs }: PreparedCheck): OwnRun | null {
  // Bad settings are bad input (exit 2), not a run: read them before anything is recorded.
  const { settings } = context;
  const { enabled, timeoutMs, triggerSource, cloudRunExecution } = settings.selfRecord;
  if (!enabled) return null;
  try {
    const engine = resolveEngine(flags.engine, settings);
    const notes = holdLog(context.log);
    const fileWait = { enabled: true };
    const sink = openRunSink({ ...flags, table: runHistoryTable(registry), timeoutMs, waitForFile: () => fileWait.enabled }, settings);
    const endNow = new AbortController();
    return {
      recorder: new RunRecorder({ sink, clock: context.now, log: notes.log, timeoutMs, stopSignal: endNow.signal }),
      endNow,
      fileWait,
      notes,
      processingDate: inputs.endDate,
      processors: inputs.processors.length,
      triggerSource,
      metadata: {
        engine,
        window_start: inputs.windowStart,
        lookback_days: inputs.lookbackDays,
        processors: inputs.processors.length,
        ...(cloudRunExecution ? { cloud_run_execution: cloudRunExecution } : {}),
      },
    };
  } catch {
    // A bad --engine, or BigQuery without a project: not a run. The check itself reports it in one clear line.
    return null;
  }
}

interface HeldLog {
  log: Logger;
  /** Writes the held lines to the real log. */
  flush(): void;
  drop(): void;
}

function holdLog(target: Logger): HeldLog {
  let held: [Severity, string, Record<string, unknown> | undefined][] = [];
  const log: Logger = {
    log: (severity, message, fields) => void held.push([severity, message, fields]),
    info: (message, fields) => void held.push(['INFO', message, fields]),
    warn: (message, fields) => void held.push(['WARNING', message, fields]),
    error: (message, fields) => void held.push(['ERROR', message, fields]),
  };
  return {
    log,
    flush() {
      for (const [severity, message, fields] of held) target.log(severity, message, fields);
      held = [];
    },
    drop() {
      held = [];
    },
  };
}
