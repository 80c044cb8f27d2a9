/**
 * `pem record start|complete`: run instrumentation for processors written in any language
 * (SPEC §8). `start` writes the `running` row and prints the run id; `complete` writes the final
 * row of that run id. The run id carries the processor, processing date and start instant
 * (`src/record/run-id.ts`), so `complete` needs no lookup and works even when the start row was
 * lost.
 *
 * Bad input exits 2 with one line. A row that cannot be written is a warning and exit 0, so that
 * instrumentation never fails the processor it instruments; `--strict` makes it exit 1. A row
 * that no enabled registry processor's filter selects is written too, with one warning line
 * (`record/selected-by.ts`): no check would ever see it.
 */
import type { Command } from 'commander';
import { parseDate } from '../check/inputs.js';
// The registry's own rule for table names: `dataset.table` or `project.dataset.table`.
import { runHistoryTable, triggerSourceProblem } from '../config/names.js';
import { TABLE_NAME } from '../config/registry.js';
import type { Registry } from '../config/registry.js';
import { usageError } from '../errors.js';
import { FINAL_STATUSES, RunRecorder, checkDate, checkName, type FinalStatus } from '../record/recorder.js';
import type { RunError } from '../warehouse/run-row.js';
import { parseRunId } from '../record/run-id.js';
import { processorsSelecting, suggestedProcessorName, unseenRowWarning, type RecordedRow } from '../record/selected-by.js';
import { openRunSink } from '../record/sink.js';
import { addExamples, addWarehouseOptions, configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';

interface TargetFlags {
  table?: string;
  strict?: boolean;
  trigger?: string;
  metadata?: string;
  config: string;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
}

interface StartFlags extends TargetFlags {
  processor: string;
  date: string;
}

interface CompleteFlags extends TargetFlags {
  runId: string;
  status: string;
  records?: string;
  errorType?: string;
  errorMessage?: string;
  processor?: string;
  date?: string;
}


export function registerRecordCommand(program: Command, context: CliContext): void {
  const record = program
    .command('record')
    .description('record the runs of a processor in the run history (for shell, Python, any language)');
  addExamples(record, [
    ['run_id="$(pem record start --processor gamebook --date 2025-10-07)"', 'the run starts: prints its run id'],
    ['pem record complete --run-id "$run_id" --status success --records 1200', 'the run ends'],
  ]);

  const start = record
    .command('start')
    .description("write a run's 'running' row and print its run id")
    .requiredOption('--processor <name>', 'processor_name of the run, for example gamebook')
    .requiredOption('--date <YYYY-MM-DD>', 'processing date: the data date this run processes');
  addExamples(start, [
    ['pem record start --processor gamebook --date 2025-10-07', "write the 'running' row, print the run id"],
    ['pem record start --processor gamebook --date 2025-10-07 --trigger backfill', 'a backfill run'],
    ['pem record start --processor roster --date 2025-10-07 --metadata \'{"rows_in": 1200}\'', 'with free-form metadata'],
  ]);
  // Stoppable: a SIGTERM or SIGINT while the row waits for the file spools it (late, not lost)
  // instead of ending the process with the row nowhere.
  addTargetOptions(start).action(async (flags: StartFlags) => {
    await context.stop.whileStoppable(() => recordStart(flags, context));
  });

  const complete = record
    .command('complete')
    .description("write a run's final row (success, failed or skipped)")
    .requiredOption('--run-id <id>', 'the run id `pem record start` printed')
    .requiredOption('--status <status>', 'how the run ended')
    .option('--records <n>', 'records_processed')
    .option('--error-type <type>', 'error_type of the failure, for example ValueError')
    .option('--error-message <text>', 'error_message of the failure (long messages are cut)')
    .option('--processor <name>', 'only for a run id not printed by `pem record start`')
    .option('--date <YYYY-MM-DD>', 'only for a run id not printed by `pem record start`');
  // The statuses for --help and shell completion, without commander's check of them: pem's own
  // says why ('running' is no final status) where commander would only list them.
  complete.options.find((option) => option.long === '--status')!.argChoices = [...FINAL_STATUSES];
  addExamples(complete, [
    ['pem record complete --run-id "$run_id" --status success --records 1200', 'a success'],
    ['pem record complete --run-id "$run_id" --status failed --error-type Timeout --error-message "gave up after 300 s"', 'a failure'],
    ['pem record complete --run-id airflow-17 --processor gamebook --date 2025-10-07 --status skipped', 'a run started elsewhere'],
  ]);
  addTargetOptions(complete).action(async (flags: CompleteFlags) => {
    await context.stop.whileStoppable(() => recordComplete(flags, context));
  });
}

function addTargetOptions(command: Command): Command {
  command
    .option('--trigger <source>', 'trigger_source: scheduler, manual, backfill, …')
    .option('--metadata <json>', 'free-form JSON stored with the run, for example \'{"rows_in": 1200}\'')
    .option('--table <dataset.table>', 'run-history table (default: <registry dataset>.processor_run_history)')
    .option('--strict', 'exit 1 when the row cannot be written or is not stored (default: warn and exit 0)')
    .addOption(configOption());
  command.addHelpText(
    'after',
    [
      'A row not written within PEM_RECORD_TIMEOUT_MS (default 10000: a DuckDB file',
      'another process holds, a BigQuery that does not answer) is one warning line and',
      'exit 0; on DuckDB it is kept in <database>.spool/ and added by the next',
      '`pem record` or `pem check` that can write it. SIGTERM or Ctrl-C while it waits',
      'keeps it there too. A run keeps its first row of each status: on DuckDB a second',
      'one with other values (--records, errors) is not stored, and says so.',
    ].join('\n'),
  );
  return addWarehouseOptions(command);
}

async function recordStart(flags: StartFlags, context: CliContext): Promise<void> {
  const processor = checkedName(flags.processor);
  const date = parseDate(flags.date, '--date');
  const trigger = checkedTrigger(flags.trigger);
  const metadata = parseMetadata(flags.metadata);
  const target = await resolveTarget(flags);
  const recorder = recorderFor(flags, context, target.table);
  let runId: string;
  try {
    runId = await recorder.recordRunStart(processor, date, { triggerSource: trigger, metadata });
  } catch (error) {
    // --strict fails the command, but a row kept in the spool is still added later: without its id
    // the run could never be completed, and would read as hung.
    if (recorder.lastWriteKept && recorder.lastStartedRunId !== null) context.stdout.write(`${recorder.lastStartedRunId}\n`);
    throw error;
  }
  context.stdout.write(`${runId}\n`);
  if (recorder.lastWriteSucceeded) await warnWhenNoCheckSees(target, flags.config, context, {
    run_id: runId,
    processor_name: processor,
    processing_date: date,
    status: 'running',
    started_at: parseRunId(runId)?.startedAt ?? null,
    completed_at: null,
    records_processed: null,
    trigger_source: trigger,
    metadata,
  });
}

async function recordComplete(flags: CompleteFlags, context: CliContext): Promise<void> {
  if (!(FINAL_STATUSES as readonly string[]).includes(flags.status)) {
    throw usageError(`--status '${flags.status}' is not a final status: use success, failed or skipped`);
  }
  const recordsProcessed = flags.records === undefined ? null : parseRecords(flags.records);
  const trigger = checkedTrigger(flags.trigger);
  const run = resolveRun(flags);
  const errors: RunError[] | null =
    flags.errorType !== undefined || flags.errorMessage !== undefined
      ? [{ error_type: flags.errorType ?? 'Error', error_message: flags.errorMessage ?? '' }]
      : null;
  const metadata = flags.metadata === undefined ? undefined : parseMetadata(flags.metadata);
  const target = await resolveTarget(flags);
  const recorder = recorderFor(flags, context, target.table);
  await recorder.recordRunComplete(flags.runId, {
    status: flags.status as FinalStatus,
    recordsProcessed,
    errors,
    triggerSource: trigger,
    ...(metadata === undefined ? {} : { metadata }),
    ...run,
  });
  // Stored as given (a success may carry what went wrong on the way), but a check shows the errors
  // of failed runs only: a failure recorded as a success would otherwise pass unnoticed. Said of a
  // row stored or kept for later, not of one the table refused as a repeat (the recorder said so).
  if (errors && flags.status !== 'failed' && recorder.lastWriteKept) {
    context.log.warn(
      `--error-type/--error-message are stored with this ${flags.status} row, but pem shows errors of failed runs only: pass --status failed if the run failed`,
    );
  }
  const parsed = parseRunId(flags.runId);
  // The processor's name came from this --processor, else from the start that printed the run id.
  if (recorder.lastWriteSucceeded) await warnWhenNoCheckSees(target, flags.config, context, {
    run_id: flags.runId,
    processor_name: run.processor ?? parsed?.processor ?? '',
    processing_date: run.processingDate ?? parsed?.processingDate ?? '',
    status: flags.status,
    started_at: parsed?.startedAt ?? null,
    completed_at: context.now(),
    records_processed: recordsProcessed,
    trigger_source: trigger,
    metadata: metadata ?? null,
  }, flags.processor ? '--processor' : 'pem record start --processor');
}

/** The processor and date of the run: from the run id, or from --processor/--date for a foreign id. */
function resolveRun(flags: CompleteFlags): { processor?: string; processingDate?: string } {
  if (flags.runId.trim() === '') throw usageError('--run-id is empty: pass the id `pem record start` printed, for example --run-id "$run_id"');
  // ' gamebook/2025-10-07/…' would complete a run of processor ' gamebook', a new one nobody checks.
  if (flags.runId !== flags.runId.trim()) {
    throw usageError(`--run-id '${flags.runId}' has spaces at its ends: pass the id as \`pem record start\` printed it, for example --run-id "$run_id"`);
  }
  const parsed = parseRunId(flags.runId);
  const processor = flags.processor === undefined ? undefined : checkedName(flags.processor);
  const date = flags.date === undefined ? undefined : parseDate(flags.date, '--date');
  if (parsed) {
    // The run id's date is text the caller passed: 2025-02-30 would be stored as March 2.
    if (checkDate(parsed.processingDate) !== null) {
      throw usageError(
        `--run-id '${flags.runId}' carries the date ${parsed.processingDate}, which is not a date from 1900-01-01 to 9998-12-31: pass the id \`pem record start\` printed, or --processor and --date for a run started elsewhere`,
      );
    }
    // Its processor too: `pem record start` refuses a name with a control character in it.
    const nameProblem = checkName('the processor of --run-id', parsed.processor);
    if (nameProblem) throw usageError(`${nameProblem}: pass the id \`pem record start\` printed`);
    if ((processor !== undefined && processor !== parsed.processor) || (date !== undefined && date !== parsed.processingDate)) {
      throw usageError(
        `--run-id '${flags.runId}' belongs to processor '${parsed.processor}' and date ${parsed.processingDate}: drop --processor and --date, or pass the ones it was started with`,
      );
    }
    return {};
  }
  if (processor === undefined || date === undefined) {
    throw usageError(
      `--run-id '${flags.runId}' is not a run id printed by \`pem record start\` (processor/YYYY-MM-DD/…): pass the id it printed, or --processor and --date for a run started elsewhere`,
    );
  }
  return { processor, processingDate: date };
}

function recorderFor(flags: TargetFlags, context: CliContext, table: string): RunRecorder {
  const { timeoutMs } = context.settings.selfRecord;
  const sink = openRunSink({ ...flags, table, timeoutMs }, context.settings);
  return new RunRecorder({
    sink,
    clock: context.now,
    log: context.log,
    timeoutMs,
    strict: Boolean(flags.strict),
    stopSignal: context.stop.signal,
    // One row per process: what matters is that the caller's script goes on.
    failureNote: 'exit 0 all the same: recording never fails the caller; --strict makes it exit 1',
  });
}

interface Target {
  table: string;
  /** The registry the row is checked against; null with --table and no readable registry. */
  registry: Registry | null;
}

/** The table to write: --table, else the registry's run history (then the registry must load: exit 2 if not). */
async function resolveTarget(flags: TargetFlags): Promise<Target> {
  if (flags.table !== undefined) {
    if (!TABLE_NAME.test(flags.table)) {
      throw usageError(`--table '${flags.table}' is not a table name: use dataset.table, for example nba_reference.processor_run_history`);
    }
    // With --table the registry is optional: it only serves the warning below.
    const registry = await loadCheckedRegistry(flags.config).catch(() => null);
    return { table: flags.table, registry };
  }
  // A processor that does not ship the registry names its table instead: say so where the registry is missing.
  const registry = await loadCheckedRegistry(flags.config, { otherwise: '--table DATASET.processor_run_history to record without it' });
  return { table: runHistoryTable(registry), registry };
}

/**
 * One warning line when no enabled processor's filter selects the row just recorded: nobody
 * would ever see it. Advisory only: the row is written, the exit code is unchanged, and a
 * filter that cannot be evaluated in memory (a BigQuery-only function) means nothing is said.
 */
async function warnWhenNoCheckSees(target: Target, registryPath: string, context: CliContext, row: RecordedRow, asked = '--processor'): Promise<void> {
  if (target.registry === null) return;
  try {
    const selection = await processorsSelecting(target.registry, target.table, row);
    // Only for a row that processors read but none selects: what a custom filter would select under another name.
    const suggested =
      selection.readers.length > 0 && selection.selecting.length === 0
        ? await suggestedProcessorName(target.registry, target.table, row).catch(() => null)
        : null;
    const warning = unseenRowWarning(selection, row, target.table, registryPath, suggested, asked);
    if (warning) context.log.warn(warning, { processor: row.processor_name });
  } catch {
    // Advisory: a filter DuckDB cannot evaluate is not worth a line in every job's log.
  }
}

/**
 * --trigger as given, or a usage error: the library cuts a long source and keeps anything, but a
 * command line is typed, and `''`, a line break or 300 characters there are slips to say, not store.
 */
function checkedTrigger(value: string | undefined): string | null {
  if (value === undefined) return null;
  const problem = triggerSourceProblem('--trigger', value, '--trigger backfill');
  if (problem) throw usageError(problem);
  return value;
}

function checkedName(value: string): string {
  const problem = checkName('--processor', value);
  if (problem) throw usageError(problem);
  return value;
}

function parseRecords(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw usageError(
      /^\d+$/.test(value.trim())
        ? `--records '${value}' is more than pem can store exactly (${Number.MAX_SAFE_INTEGER})`
        : `--records '${value}' must be a whole number of 0 or more, for example 1200`,
    );
  }
  return n;
}

function parseMetadata(value: string | undefined): unknown {
  if (value === undefined) return null;
  let tooLarge: string | null = null;
  let parsed: unknown;
  try {
    // JSON.parse reads 1e999 as Infinity, which JSON cannot store: the row would say null.
    parsed = JSON.parse(value, (_key, item: unknown) => {
      if (typeof item === 'number' && !Number.isFinite(item)) tooLarge ??= String(item);
      return item;
    }) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw usageError(`--metadata is not valid JSON (${why}), for example '{"rows_in": 1200}'`);
  }
  if (tooLarge !== null) {
    throw usageError(`--metadata has a number beyond what JSON stores (read as ${tooLarge}): pass it as a string, for example '{"total": "1e999"}'`);
  }
  const inexact = inexactInteger(value);
  if (inexact !== null) {
    throw usageError(
      `--metadata has the whole number ${inexact}, beyond 2^53: it would be stored as ${BigInt(Number(inexact))}; pass it as a string, for example '{"job_id": "${inexact}"}'`,
    );
  }
  return parsed;
}

/**
 * The first integer literal of valid JSON `text` that a double cannot hold exactly (its last digits
 * would change: an id from another system, a byte count), or null. Decimals and exponents are read
 * as the floating-point numbers they say they are.
 */
function inexactInteger(text: string): string | null {
  const outsideStrings = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [literal] of outsideStrings.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    if (!/^-?\d+$/.test(literal)) continue;
    if (BigInt(Number(literal)) !== BigInt(literal)) return literal;
  }
  return null;
}
