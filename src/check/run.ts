/**
 * One check: render the detection SQL for the warehouse's dialect, run it with bound parameters
 * (once, or once per slice of a large check), and fold its rows (per processor: its verdict, then
 * its days) into the check result as they stream in; the rows are never all held at once.
 */
import type { Registry } from '../config/registry.js';
import { runtimeError } from '../errors.js';
import { renderCheckSql } from '../sql/statements.js';
import type { Warehouse } from '../warehouse/types.js';
import { checkParams, type CheckInputs } from './inputs.js';
import { CheckResultBuilder, type BuildOptions, type CheckResult } from './report.js';

/**
 * The most processor-days (processors × window days) one detection query reports. DuckDB's working
 * memory grows with them (about 1.5 MB per 1,000 at 2 years of history: over 500 MB at 1,000 × 366
 * in one query), so a larger check runs as several queries over consecutive slices of the (sorted)
 * processors, each within this, folded into one result. A processor's detection reads only its own
 * rows, except a downstream's (SPEC §12): its blocked_by and explained dates need its upstreams'
 * days. So each slice is dependency-closed: the statement evaluates the slice's upstreams beside it
 * (their configs are bound too, `checkParams`) and reports only the slice's own processors, so an
 * upstream in another slice is evaluated again there but reported once. 1,000 × 366 and 10,000 × 90
 * days then fit the Cloud Run job's 512 MiB (measured by `npm run bench`).
 */
export const PROCESSOR_DAYS_PER_QUERY = 50_000;

/**
 * The most processor-days one check holds at all: every day of the JSON document stays in memory
 * until it is written (about 200 B each). Beyond, the check stops at once with one line (exit 1)
 * instead of running out of memory.
 */
export const MAX_PROCESSOR_DAYS = 1_000_000;

/** How `runCheck` runs: `BuildOptions`, and (tests) the slice size. */
export interface RunCheckOptions extends BuildOptions {
  /** Processor-days one query reports (default PROCESSOR_DAYS_PER_QUERY); tests make slices small. */
  processorDaysPerQuery?: number;
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
  const builder = new CheckResultBuilder(registry, inputs, options);
  const sql = renderCheckSql(warehouse.dialect, registry);
  const perQuery = Math.max(1, Math.floor((options.processorDaysPerQuery ?? PROCESSOR_DAYS_PER_QUERY) / inputs.lookbackDays));
  for (let i = 0; i < inputs.processors.length; i += perQuery) {
    const slice: CheckInputs = { ...inputs, processors: inputs.processors.slice(i, i + perQuery) };
    for await (const batch of warehouse.queryBatches(sql, checkParams(slice, registry))) {
      for (const row of batch) builder.addCheckRow(row);
    }
  }
  return builder.finish();
}
