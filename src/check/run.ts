/**
 * One check: render the detection SQL for the warehouse's dialect, run it with bound parameters
 * (once, or once per slice of a large check), and fold its rows (per processor: its verdict, then
 * its days) into the check result as they stream in; the rows are never all held at once.
 */
import { runHistoryTable } from '../config/names.js';
import { defaultProcessorFilter, parseRegistry, type ProcessorConfig, type Registry } from '../config/registry.js';
import { annotated, configError, describeError, runtimeError, withoutSource } from '../errors.js';
import { otherColumnsNote, runHistoryMismatches } from '../sql/run-history-columns.js';
import { renderCheckSql, renderTableProbeSql } from '../sql/statements.js';
import type { Warehouse } from '../warehouse/types.js';
import { checkParams, withUpstreams, type CheckInputs } from './inputs.js';
import { CheckResultBuilder, type BuildOptions, type CheckResult } from './report.js';

/*
 * Slices. A large check runs as several statements over consecutive slices of the (sorted)
 * processors, each reporting at most the warehouse's `checkProcessorDaysPerQuery` processor-days
 * (half as many in a check over LARGE_CHECK_PROCESSOR_DAYS) and `checkProcessorsPerQuery`
 * processors (DuckDB's memory; `processorsPerStatement`), folded into one result. Between slices
 * the warehouse gives back the memory the statement freed (`betweenSlices`: DuckDB's allocator
 * keeps it otherwise, bench/README.md) and lets go of a file it has held for a while. A
 * processor's detection reads only its own rows, except a downstream's (SPEC §12): its blocked_by
 * and explained dates need its upstreams' days. So each
 * slice is dependency-closed: its statement evaluates the upstreams the slice's processors name
 * beside them (their configs are bound too, `checkParams`; the SQL's selected_processors adds
 * them) and reports only the slice's own processors: an upstream in another slice is evaluated
 * there again but reported once.
 */

/**
 * The most processor-days one check holds at all: every day of the JSON document stays in memory
 * until it is written (about 200 B each). Beyond, the check stops at once with one line (exit 1)
 * instead of running out of memory.
 */
export const MAX_PROCESSOR_DAYS = 1_000_000;

/**
 * Beyond this many processor-days in all, the check's slices hold half the warehouse's
 * processor-days each, and its statements leave room for what it holds. The days kept for the
 * document grow with the whole check (at 10,000 × 90 days the JS heap peaks near 165 MB) while each
 * statement's memory grows with its slice, and the job has 512 MiB for both: halving the slices
 * took 10,000 × 90 days from 508 to 457–464 MiB peak RSS and 1,000 × 366 from 372 to 328–342 MiB;
 * leaving room (`QueryBatchesOptions.leaveRoomForCaller`: DuckDB's memory_limit, which it otherwise
 * fills with the run history it has cached, lowered by what the check holds so far) took
 * `pem report` at 2,732 × 366 days from 501–515 to 417–420 MiB with realistic rows, in the same
 * time (bench/README.md). Neither touches the budgeted 7- and 90-day checks of 1,000 processors or
 * the 7-day check of 10,000.
 */
export const LARGE_CHECK_PROCESSOR_DAYS = 200_000;

/**
 * Processors per statement in a sliced check. DuckDB's memory for one statement grows with its
 * processors (1,000 × 7 days: 266 MiB peak RSS in one statement, 231 MiB in two of 500), so
 * slices hold half the warehouse's processor limit; but every statement is also planned again
 * (~60 ms) and re-reads the window's rows of every processor checked (the run history is stored by
 * date, not by processor), so slices grow back towards the
 * full limit where half of it would take more than this many statements (7,000 processors: slices
 * of 700; 10,000 and more: 1,000, the limit).
 */
export const MAX_PROCESSOR_SLICES = 10;

/**
 * Processors per statement: the warehouse's slice limits (null: none), halved in processors while
 * the check stays within MAX_PROCESSOR_SLICES statements, and halved in days for a large check.
 */
export function processorsPerStatement(
  processors: number,
  lookbackDays: number,
  limits: { processorDays: number | null; processors: number | null },
): number {
  const processorDays =
    limits.processorDays !== null && processors * lookbackDays > LARGE_CHECK_PROCESSOR_DAYS
      ? Math.floor(limits.processorDays / 2)
      : limits.processorDays;
  const byCount =
    limits.processors === null
      ? processors
      : Math.min(limits.processors, Math.max(Math.ceil(limits.processors / 2), Math.ceil(processors / MAX_PROCESSOR_SLICES)));
  return Math.max(1, Math.min(processorDays === null ? processors : Math.floor(processorDays / lookbackDays), byCount));
}

/**
 * About what a large check holds per processor-day it has folded, until its document is written:
 * its packed days (PackedDays), and with day details their packed details too. Measured as the
 * growth of the JS heap over a check of 2,732 processors × 366 days: ~62 MiB without day details
 * (`pem check`), ~105 MiB with them (`pem report`, `pem gaps`). An estimate is enough: it only
 * decides how much of its cache DuckDB gives up, never below LARGE_RESULT_MEMORY_SHARE.
 */
function heldBytesPerProcessorDay(options: BuildOptions): number {
  return options.dayDetails ? 112 : 64;
}

/** How `runCheck` runs: `BuildOptions`, and (tests) the slice size. */
export interface RunCheckOptions extends BuildOptions {
  /** The processor-day limit of one statement (default: the warehouse's `checkProcessorDaysPerQuery`), halved in a large check; tests make slices small. */
  processorDaysPerQuery?: number;
  /** The processor limit of one statement (default: the warehouse's `checkProcessorsPerQuery`), which `processorsPerStatement` may halve. */
  processorsPerQuery?: number;
  /** Beyond this many processor-days a check holds its day details packed (default LARGE_CHECK_PROCESSOR_DAYS; tests make it small). */
  packDayDetailsBeyond?: number;
  /**
   * Beyond this many processor-days the check asks the warehouse to leave room for what it holds
   * (`QueryBatchesOptions.leaveRoomForCaller`; default LARGE_CHECK_PROCESSOR_DAYS; tests make it small).
   */
  leaveRoomBeyond?: number;
  /** The statement already rendered for this registry (a backtest asks hundreds of checks with it). */
  sql?: string;
  /**
   * Told after each statement of a check that runs as several (slices), how many of its processors
   * are done: progress for a long check (10,000 processors × 90 days is 37 statements, ~20 s).
   */
  onStatement?: (processorsDone: number, processorsTotal: number) => void;
  /**
   * BigQuery: processors the deployment does not know yet (added to the registry before Dataform
   * next ran) are left out of the result and named in `CheckResult.undeployed`, for `pem check` to
   * alert on the others and then fail. Without it (gaps, report, backtest) they fail the check.
   */
  allowUndeployed?: boolean;
}

/** check_query's `undeployed` (a JSON array of names) as names; none for anything else. */
function undeployedNames(value: unknown): string[] {
  try {
    const parsed: unknown = JSON.parse(String(value));
    return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string') : [];
  } catch {
    return [];
  }
}

/** The processors a BigQuery deployment does not know yet, and what to do: one phrase. */
export function undeployedText(names: readonly string[]): string {
  return `not deployed to BigQuery (run the Dataform project): ${names.join(', ')}`;
}

export async function runCheck(
  warehouse: Warehouse,
  registry: Registry,
  inputs: CheckInputs,
  options: RunCheckOptions = { dayDetails: true },
): Promise<CheckResult> {
  const processorDays = inputs.processors.length * inputs.lookbackDays;
  if (processorDays > MAX_PROCESSOR_DAYS) {
    const n = (x: number) => x.toLocaleString('en-US');
    throw runtimeError(
      `${n(inputs.processors.length)} processors × ${inputs.lookbackDays} days is ${n(processorDays)} processor-days, more than one check holds in its memory (${n(MAX_PROCESSOR_DAYS)}): check fewer at a time (--processors) or a shorter window (--lookback-days)`,
    );
  }
  // A large check's day details (kept for the HTML report and `pem gaps`) are held packed.
  const packDayDetails = options.dayDetails && processorDays > (options.packDayDetailsBeyond ?? LARGE_CHECK_PROCESSOR_DAYS);
  // A large check holds every processor's days until its document is written: each statement
  // tells the warehouse about how much it holds so far, and DuckDB keeps as much less for itself.
  const heldPerProcessorDay = processorDays > (options.leaveRoomBeyond ?? LARGE_CHECK_PROCESSOR_DAYS) ? heldBytesPerProcessorDay(options) : 0;
  const builder = new CheckResultBuilder(registry, inputs, { ...options, packDayDetails });
  const deployed = new Map<string, string>();
  // BigQuery: the processors asked that the deployment does not know (check_query's `undeployed`).
  const undeployed = new Set<string>();
  // The processors whose tables the statement reads; worked out again only to explain a failure, so
  // a backtest (hundreds of checks on one statement, `options.sql`) does not pay for it per check.
  const readersOf = () => withUpstreams(registry, inputs.processors);
  const sql = options.sql ?? renderCheckSql(warehouse.dialect, registry, readersOf());
  const total = inputs.processors.length;
  const perQuery = processorsPerStatement(total, inputs.lookbackDays, {
    processorDays: options.processorDaysPerQuery ?? warehouse.checkProcessorDaysPerQuery,
    processors: options.processorsPerQuery ?? warehouse.checkProcessorsPerQuery,
  });
  for (let i = 0; i < total; i += perQuery) {
    if (i > 0) await warehouse.betweenSlices();
    const slice: CheckInputs = { ...inputs, processors: inputs.processors.slice(i, i + perQuery) };
    const leaveRoomForCaller = i * inputs.lookbackDays * heldPerProcessorDay;
    try {
      for await (const batch of warehouse.queryBatches(sql, checkParams(slice, registry), { leaveRoomForCaller })) {
        for (const row of batch) {
          builder.addCheckRow(row);
          // BigQuery: the config the deployed function detected with, on each processor's first row;
          // kept as sent, read only by a command that says where it differs (a backtest never does).
          if (row.deployed_config != null) deployed.set(String(row.processor_name), String(row.deployed_config));
          // BigQuery's check is one statement (never sliced): one row names them all. A value that
          // is not a list of names is not pem's statement's answer, and names nothing.
          if (row.undeployed != null) for (const name of undeployedNames(row.undeployed)) undeployed.add(name);
        }
      }
    } catch (error) {
      throw await explainedFailure(error, warehouse, registry, readersOf(), slice);
    }
    if (perQuery < total) options.onStatement?.(Math.min(i + perQuery, total), total);
  }
  const result = builder.finish();
  if (deployed.size > 0) result.deployed_configs = deployed;
  // The statement gives every processor asked a row per date (a calendar spine). Fewer is not an
  // answer to read as "all healthy": an emulator, a proxy or a deployment answering something else.
  if (result.report.processors.length < total) {
    const seen = new Set(result.report.processors.map((p) => p.name));
    const absent = inputs.processors.filter((name) => !seen.has(name));
    if (absent.every((name) => undeployed.has(name))) {
      if (options.allowUndeployed) {
        result.undeployed = absent;
        return result;
      }
      throw runtimeError(`${warehouse.description}: ${undeployedText(absent)}`);
    }
    throw runtimeError(
      `${warehouse.description} answered the check with no rows for ${absent.length} of the ${total} processors asked (${absent.slice(0, 5).join(', ')}${absent.length > 5 ? ', …' : ''}): not the answer of pem's statement`,
    );
  }
  return result;
}

/**
 * A warehouse's own word that a table does not exist or may not be read: DuckDB's "Catalog Error:
 * Table with name X does not exist", BigQuery's "Not found: Table p:d.t" and "Access Denied: Table
 * p:d.t". Nothing else (a held file, an unreachable endpoint, out of memory) is about a table.
 */
const UNREADABLE_TABLE = /Catalog Error: Table with name|Not found: Table|Access Denied: Table/;

/**
 * A warehouse's word that the statement met a column of another type than it reads: DuckDB's
 * Binder Error ("Cannot compare values of type VARCHAR and type DATE") and Conversion Error,
 * BigQuery's "No matching signature".
 */
const WRONG_COLUMN_TYPE = /Binder Error|Conversion Error|No matching signature/;

/**
 * A failed check statement's error, with what the warehouse's own message leaves out: the
 * processors and registry keys behind a table it could not read (`withUnreadableTables`), or the
 * run-history table's columns that are not those of SPEC §2 (a table made by hand before
 * `pem schema apply`, which CREATE TABLE IF NOT EXISTS keeps whatever its columns).
 */
async function explainedFailure(error: unknown, warehouse: Warehouse, registry: Registry, readers: ReadonlySet<string>, inputs: CheckInputs): Promise<unknown> {
  const explained = await withUnreadableTables(error, warehouse, registry, readers);
  if (explained !== error || !WRONG_COLUMN_TYPE.test(describeError(error))) return explained;
  const table = runHistoryTable(registry);
  const mismatches = registry.processors.some((p) => readers.has(p.name) && p.execution_table === table)
    ? await runHistoryMismatches(warehouse, table).catch(() => [])
    : [];
  if (mismatches.length > 0) return annotated(error, otherColumnsNote(table, mismatches));
  return withMisreadProcessors(error, warehouse, registry, readers, inputs);
}

/** The registry keys that name what a processor reads from its tables: a typo in one is a column the warehouse cannot find. */
const READ_KEYS = ['processor_filter', 'date_field', 'status_field', 'run_id_field', 'started_at_field', 'completed_at_field', 'records_field', 'calendar_filter', 'calendar_date_field'] as const;

/** How many processors a failed check reads alone to find the ones the registry describes wrongly: the failure path only. */
const MAX_MISREAD_PROBES = 50;

/**
 * A failed check statement's error, naming the processors whose registry keys do not fit their
 * tables: a processor_filter or a *_field naming a column the table does not have, or a filter
 * that is not a condition. The warehouse names the column ("Referenced column "procesor_name" not
 * found"), not the processor or the key, and the statement reads every processor at once. Each
 * processor that reads its rows its own way (at most MAX_MISREAD_PROBES) is checked alone, with its
 * own statement; when one of them fails as the whole did, the registry is what is wrong (exit 2),
 * and every one that fails is named. Only where the statement is rendered from this registry
 * (DuckDB): BigQuery runs the deployed one, which Dataform built.
 */
async function withMisreadProcessors(error: unknown, warehouse: Warehouse, registry: Registry, readers: ReadonlySet<string>, inputs: CheckInputs): Promise<unknown> {
  if (warehouse.detectsWithDeployedRegistry) return error;
  const defaults = parseRegistry({ processors: { probe: {} } });
  if (!defaults.ok) return error;
  const standard = defaults.registry.processors[0]!;
  const table = runHistoryTable(registry);
  // The read keys a processor sets its own way (its filter is its own unless it is the default).
  const ownKeys = (p: ProcessorConfig) => READ_KEYS.filter((key) => (key === 'processor_filter' ? p[key] !== defaultProcessorFilter(p.name) : p[key] !== standard[key]));
  const ownWay = registry.processors.filter((p) => readers.has(p.name) && (p.execution_table !== table || p.expected_frequency === 'calendar' || ownKeys(p).length > 0));
  // The probes explain the failure only if one of them fails as the whole did: the same message
  // for a Binder error (a column is named), the same kind for a Conversion error (whose value
  // quoted is the first row met, which differs between statements).
  const original = withoutSource(describeError(error), warehouse.description);
  const sameFailure = (said: string) => said === original || (/^Conversion Error/.test(said) && /^Conversion Error/.test(original));
  let explainsIt = false;
  const misread: string[] = [];
  for (const p of ownWay.slice(0, MAX_MISREAD_PROBES)) {
    // Alone: its upstreams (read their own way, or not) are left out of its statement.
    const alone: Registry = { ...registry, processors: [{ ...p, depends_on: [] }] };
    try {
      await warehouse.query(renderCheckSql(warehouse.dialect, alone, new Set([p.name])), checkParams({ ...inputs, processors: [p.name] }, alone));
    } catch (probeError) {
      const said = withoutSource(describeError(probeError), warehouse.description);
      if (!WRONG_COLUMN_TYPE.test(said)) continue;
      explainsIt ||= sameFailure(said);
      // Quoted ("procesor_name") or after "column" (a failed cast's "source column processor_name").
      const columns = [...said.matchAll(/"([^"]+)"|\bcolumn (\w+)/g)].map((m) => (m[1] ?? m[2])!);
      const keys = READ_KEYS.filter((key) => {
        const value = p[key];
        return typeof value === 'string' && columns.some((column) => new RegExp(`(^|[^\\w])${escapeRegExp(column)}($|[^\\w])`).test(value));
      });
      // A type mismatch names no column ("Cannot compare values of type VARCHAR and type DATE"):
      // then the keys this processor sets its own way are where to look.
      const own = ownKeys(p);
      const where = keys.length > 0 ? keys.join(', ') : own.length === 1 ? own[0] : own.length > 1 ? `one of ${own.join(', ')}` : null;
      misread.push(`processor ${p.name}${where ? ` (${where})` : ''}: ${said}`);
    }
  }
  if (misread.length === 0 || !explainsIt) return error;
  const named = configError(
    `the registry describes ${misread.length === 1 ? 'a table' : 'tables'} the warehouse reads otherwise: ${misread.join('; ')}; correct the registry (pem config validate cannot see a table's columns)`,
  );
  named.cause = error;
  return named;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A failed check statement's error, naming the processors and registry keys behind the tables it
 * could not read: the warehouse's own message names only the table ("Table with name
 * game_schedule does not exist!"), and the registry may name it for one processor among
 * thousands. Only when the error is about a table (UNREADABLE_TABLE) the registry names: then
 * every table the checked processors read is probed (an empty read each, on the warehouse that just answered;
 * processors share a few), since the warehouse stops at the first it cannot find and a second
 * typo would only show on the next run. Any other failure comes back as it was, and a check that
 * runs pays nothing.
 */
async function withUnreadableTables(error: unknown, warehouse: Warehouse, registry: Registry, readers: ReadonlySet<string>): Promise<unknown> {
  const message = describeError(error);
  if (!UNREADABLE_TABLE.test(message)) return error;
  const namedBy = new Map<string, { table: string; key: string; names: string[] }>();
  for (const p of registry.processors) {
    if (!readers.has(p.name)) continue;
    const tables: [string, string][] = [[p.execution_table, 'execution_table']];
    if (p.expected_frequency === 'calendar' && p.calendar_table) tables.push([p.calendar_table, 'calendar_table']);
    for (const [table, key] of tables) {
      const entry = namedBy.get(`${key} ${table}`) ?? { table, key, names: [] };
      namedBy.set(`${key} ${table}`, entry);
      entry.names.push(p.name);
    }
  }
  // Warehouses name a table in full or by its last part (DuckDB: "Table with name game_schedule").
  // Only a failure over one of the registry's tables is the registry's to explain (not a table
  // of pem's own, such as BigQuery's processor_last_success before Dataform has run).
  const named = (table: string) => new RegExp(`(^|[^\\w$-])${escapeRegExp(table.split('.').at(-1)!)}($|[^\\w$-])`).test(message);
  if (![...namedBy.values()].some(({ table }) => named(table))) return error;
  const unreadable: string[] = [];
  for (const { table, key, names } of namedBy.values()) {
    try {
      await warehouse.query(renderTableProbeSql(warehouse.dialect, table));
    } catch (probeError) {
      if (!UNREADABLE_TABLE.test(describeError(probeError))) continue;
      const shown = names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
      unreadable.push(`${table} is the ${key} of processor${names.length > 1 ? 's' : ''} ${shown}`);
    }
  }
  if (unreadable.length === 0) return error;
  return annotated(error, `${unreadable.join('; ')}: create ${unreadable.length === 1 ? 'it' : 'them'} or correct the registry`);
}
