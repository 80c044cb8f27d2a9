/**
 * What `check`, `report` and `gaps` share: the window, processor, registry and warehouse flags
 * (SPEC §6), and "load the registry, resolve the inputs, open the warehouse" around a use of it.
 */
import { Option, type Command } from 'commander';
import { resolveCheckInputs, todayIn, withUpstreams, type CheckInputs } from '../check/inputs.js';
import type { CheckReport, CheckResult, ProcessorReport } from '../check/report.js';
import { runCheck } from '../check/run.js';
import { jsonDocumentPieces } from '../check/json-document.js';
import { renderTerminalReport } from '../check/terminal.js';
import { projectQualifiedKeys, type Registry } from '../config/registry.js';
import { destinationSecrets, type Settings } from '../config/env.js';
import { DEFAULT_REGISTRY_PATH } from '../config/names.js';
import type { CheckCommandContext } from '../alerts/actions.js';
import { DEFAULT_DUCKDB_PATH } from '../warehouse/duckdb.js';
import { csvLines, type CsvValue } from '../report/csv.js';
import { describeError, withoutSource } from '../errors.js';
import { bigQueryOptionsFrom, openWarehouse, resolveEngine } from '../warehouse/open.js';
import type { Warehouse } from '../warehouse/types.js';
import { addWarehouseOptions, colorFor, configOption, joinRepeated, type CliContext } from './context.js';
import { withProgress, type Progress } from './progress.js';
import { loadCheckedRegistry } from './registry.js';
import { deployedConfigDrift } from '../check/deployed.js';

/** What `pem check` (and `pem demo`) can print: the report, the JSON document (SPEC §7), or one CSV line per processor and date. */
export const CHECK_FORMATS = ['table', 'json', 'csv'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

/** The flags of `pem check` that choose what is checked and where. */
export interface CheckSelectionFlags {
  date?: string;
  lookbackDays?: string;
  processors?: string;
  config: string;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
  now?: string;
}

/** Adds `check`'s window, processor, registry and warehouse flags to a command. */
export function addCheckSelectionOptions(command: Command): Command {
  command
    .option('--date <YYYY-MM-DD>', 'end date E of the window (default: today in the registry time zone)')
    .option('--lookback-days <n>', 'window length L, 1-366 (default: 7)')
    .option('--processors <a,b>', 'only these registry keys (disabled ones included when named; repeatable)', joinRepeated)
    .addOption(configOption())
    .addOption(new Option('--now <ISO-8601>', 'evaluation instant, for tests and backtests (default: now)'));
  return addWarehouseOptions(command);
}

export interface CheckSession {
  registry: Registry;
  inputs: CheckInputs;
  warehouse: Warehouse;
}

export interface PreparedCheck {
  registry: Registry;
  inputs: CheckInputs;
}

/** Validates the registry and the flags (bad input is exit 2 whatever the warehouse's state). */
export async function prepareCheck(flags: CheckSelectionFlags, clock: Date, onNote?: (note: string) => void): Promise<PreparedCheck> {
  const registry = await loadCheckedRegistry(flags.config, { onNote });
  const inputs = resolveCheckInputs(
    { date: flags.date, lookbackDays: flags.lookbackDays, now: flags.now, processors: flags.processors },
    registry,
    clock,
  );
  for (const note of windowNotes(registry, inputs, flags.config)) onNote?.(note);
  return { registry, inputs };
}

/**
 * What the window makes of a check that its reader may not see coming: no processor to check (a
 * monitor watching nothing reads as healthy), or an end date after today (a typo for another
 * year: its dates are not due, and staleness is counted up to it, so it pages for nothing).
 */
function windowNotes(registry: Registry, inputs: CheckInputs, configPath: string): string[] {
  const notes: string[] = [];
  if (inputs.processors.length === 0) notes.push(`no processor of ${configPath} is enabled: nothing is checked, so nothing can read as wrong`);
  const today = todayIn(registry.timezone, inputs.now);
  if (inputs.endDate > today) {
    notes.push(
      `--date ${inputs.endDate} is after today (${today} in ${registry.timezone}, at ${inputs.now.toISOString()}): its dates are not due and read as pending, and staleness is counted up to it`,
    );
  }
  return notes;
}

/**
 * Prepares the check (unless given a prepared one) before touching the warehouse, then lends
 * the open warehouse to `use` and closes it. `readsOnly`: `use` writes nothing (a dry run, gaps, a
 * report), so a DuckDB file this user may not write is read read-only.
 */
export async function withCheckSession<T>(
  flags: CheckSelectionFlags,
  context: CliContext,
  prepared: Date | PreparedCheck,
  use: (session: CheckSession) => Promise<T>,
  readsOnly = false,
): Promise<T> {
  const { registry, inputs } = prepared instanceof Date ? await prepareCheck(flags, prepared, (note) => context.log.warn(note)) : prepared;
  // Warnings of the warehouse (spooled run rows it cannot add) are said once the command has run,
  // and when it fails, only those that do not repeat its error: a damaged file was named twice,
  // once as the spool of the check's own run rows, on every run.
  const warnings: string[] = [];
  const warehouse = await openWarehouse(flags, context.settings, { create: false, readsOnly, warn: (message) => void warnings.push(message), atStop: context.stop.atStop, projectKeys: projectQualifiedKeys(registry, withUpstreams(registry, inputs.processors)) });
  try {
    const outcome = await use({ registry, inputs, warehouse });
    for (const message of warnings.splice(0)) context.log.warn(message);
    return outcome;
  } catch (error) {
    // The same failure met twice differs only in its figures (which block could not be read).
    const figureless = (text: string) => text.replace(/\d+/g, '#');
    const cause = figureless(withoutSource(describeError(error), warehouse.description));
    for (const message of warnings.splice(0)) if (!figureless(message).includes(cause)) context.log.warn(message);
    throw error;
  } finally {
    await warehouse.close();
  }
}

/** Pieces are gathered up to this size before a write: few writes, and never the whole document at once. */
const WRITE_BATCH_CHARS = 1 << 20;

/**
 * The check's result on stdout in the chosen format. The JSON document (SPEC §7) is written a
 * batch of processors at a time, waiting for the stream to drain: a pipe to a slow reader never
 * holds the whole document (a 90-day check of 10,000 processors is over 100 MB; SPEC §14).
 */
export async function writeCheckResult(result: CheckResult, context: CliContext, format: CheckFormat, timezone: string): Promise<void> {
  if (format === 'json') await writePieces(context, jsonDocumentLines(result));
  else if (format === 'csv') await writePieces(context, checkCsvLines(result));
  else {
    // A terminal's width cuts the grid to the days that fit; a pipe or a file gets every day.
    const width = context.stdout.isTTY && context.stdout.columns ? context.stdout.columns : null;
    context.stdout.write(renderTerminalReport(result, { color: colorFor(context, context.stdout), timezone, width }));
  }
}

/** The JSON document and its line end, in pieces. */
function* jsonDocumentLines({ report }: CheckResult): Generator<string> {
  yield* jsonDocumentPieces(report);
  yield '\n';
}

/** Writes pieces to stdout in batches, waiting for the stream to drain after each: never the whole text at once. */
export async function writePieces(context: CliContext, pieces: Iterable<string>): Promise<void> {
  const stdout = context.stdout as CliContext['stdout'] & Partial<Pick<NodeJS.WriteStream, 'once' | 'off' | 'destroyed'>>;
  const write = async (text: string) => {
    // Closed by its reader (`| head`) or failed (a full disk; cli/process.ts says so): nothing more reaches it.
    if (stdout.destroyed === true) return;
    if (stdout.write(text) === false && typeof stdout.once === 'function') {
      await new Promise<void>((resolve) => {
        // A stream that fails or closes while full never drains: stop waiting then too.
        const done = () => {
          for (const event of ['drain', 'close', 'error']) stdout.off?.(event, done);
          resolve();
        };
        for (const event of ['drain', 'close', 'error']) stdout.once!(event, done);
      });
    }
  };
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length >= WRITE_BATCH_CHARS) {
      await write(batch);
      batch = '';
    }
  }
  if (batch.length > 0) await write(batch);
}

const CHECK_CSV_COLUMNS = [
  'processor_name',
  'date',
  'status',
  'runs',
  'failed_runs',
  'anomalies',
  'records',
  'duration_seconds',
  'processor_level',
  'priority',
  'revenue_impact',
] as const;

/**
 * One line per processor and date of the window, the day grid of the report flattened (for
 * spreadsheets and grep), a line at a time: at 10,000 processors × 90 days it is 55 MB, and made
 * whole (with a row object per line) `pem check --format csv` peaked at 915 MiB.
 */
export function checkCsvLines({ report }: CheckResult): Generator<string> {
  return csvLines(CHECK_CSV_COLUMNS, checkCsvRows(report.processors));
}

function* checkCsvRows(processors: readonly ProcessorReport[]): Generator<Record<(typeof CHECK_CSV_COLUMNS)[number], CsvValue>> {
  for (const p of processors) {
    yield* p.days.map((d) => ({
        processor_name: p.name,
        date: d.date,
        status: d.status,
        runs: d.runs,
        failed_runs: d.failed_runs,
        // A list in one field: space-separated, empty when none.
        anomalies: d.anomalies.join(' '),
        records: d.records,
        duration_seconds: d.duration_seconds,
        processor_level: p.level,
        priority: p.priority,
        revenue_impact: p.revenue_impact,
      }));
  }
}

/** What the progress line says while a check runs. */
export function checkingText({ inputs }: PreparedCheck, warehouse: Warehouse): string {
  const n = inputs.processors.length;
  return `checking ${n.toLocaleString('en-US')} processor${n === 1 ? '' : 's'} over ${inputs.lookbackDays} day${inputs.lookbackDays === 1 ? '' : 's'} in ${warehouse.description}`;
}

/** `runCheck`'s `onStatement` for a check run in slices: the progress line says how far it is. */
export function sliceProgress(text: string, progress: Progress): (done: number, total: number) => void {
  const n = (x: number) => x.toLocaleString('en-US');
  return (done, total) => progress.step(`${text}: ${n(done)} of ${n(total)} processors done`);
}

/** Runs the detection once, exactly as `pem check` does for the same flags. */
export async function checkFromFlags(
  flags: CheckSelectionFlags,
  context: CliContext,
  clock: Date,
): Promise<{ registry: Registry; result: CheckResult }> {
  return withCheckSession(flags, context, clock, async ({ registry, inputs, warehouse }) => {
    const checking = checkingText({ registry, inputs }, warehouse);
    const result = await withProgress(context, checking, (progress) =>
      runCheck(warehouse, registry, inputs, {
        dayDetails: true,
        onStatement: sliceProgress(checking, progress),
        redact: destinationSecrets(context.settings.environment, registry.routes),
      }),
    );
    const drift = deployedConfigDrift(registry, result, flags.config);
    if (drift) context.log.warn(drift);
    return { registry, result };
  }, true);
}

/**
 * The flags of this run that a person needs to see the same finding again (defaults left out).
 * The instant is always pinned (SPEC §11: the line reproduces the finding): a scheduled check gives
 * none, and pasted an hour later without it, a re-run date would read fixed and a pending one
 * missing. Run history is read as of `--now` (SPEC §13); dropping it shows the dates as they are now.
 */
export function commandContext(
  flags: Pick<CheckSelectionFlags, 'config' | 'engine' | 'database' | 'project' | 'location'>,
  settings: Pick<Settings, 'engine' | 'bigQuery'>,
  report: Pick<CheckReport, 'as_of_date' | 'lookback_days' | 'now'>,
): CheckCommandContext {
  const engine = resolveEngine(flags.engine, settings);
  const bigQuery = engine === 'bigquery' ? bigQueryOptionsFrom(flags, settings) : null;
  return {
    asOfDate: report.as_of_date,
    lookbackDays: report.lookback_days,
    now: report.now,
    config: flags.config && flags.config !== DEFAULT_REGISTRY_PATH ? flags.config : null,
    // Said whenever the line, pasted where PEM_ENGINE is what this run's was, could read another engine.
    engine: engine === 'duckdb' && resolveEngine(undefined, settings) === 'duckdb' ? null : engine,
    database: engine === 'duckdb' && flags.database && flags.database !== DEFAULT_DUCKDB_PATH ? flags.database : null,
    // The job's project and location come from its environment (GOOGLE_CLOUD_PROJECT,
    // PEM_BIGQUERY_LOCATION): a laptop's differ, so the line carries what the run used.
    project: bigQuery?.projectId ?? null,
    location: bigQuery && bigQuery.location !== 'US' ? bigQuery.location : null,
  };
}
