/**
 * Benchmarks 1 and 2: the detection query over synthetic history at one size, and the seed's
 * one-query-per-processor approach on the same data.
 *
 * The timed statement is exactly what `pem check` sends on DuckDB: `renderCheckSql` for the
 * registry, bound with `checkParams`. It is timed twice: at the engine (prepare, bind, run, read
 * into DuckDB's result chunks: engine.ts), the floor; and through pem's DuckDB adapter with the rows
 * read and grouped into the check result (`runCheck`), which is what SPEC §14's budget is about.
 * Rendering is timed apart: it is paid once per check, whatever the window.
 */
import type { Registry } from '../src/config/registry.js';
import { checkParams, resolveCheckInputs, type CheckInputs } from '../src/check/inputs.js';
import { runCheck } from '../src/check/run.js';
import { renderCheckSql, renderSchemaSql } from '../src/sql/statements.js';
import { openDuckDb } from '../src/warehouse/duckdb.js';
import type { Warehouse } from '../src/warehouse/types.js';
import { BENCH_END_DATE, BENCH_NOW, generateHistory, syntheticRegistry } from './dataset.js';
import { openEngine } from './engine.js';
import { checkPerProcessor, countDisagreements, verdictsFromCheckResult } from './per-processor.js';
import { measure, measureSync, median, type Timing } from './stats.js';

export interface DetectionOptions {
  processors: number;
  /** A DuckDB file that `buildHistoryDatabase` filled for this many processors. */
  databasePath: string;
  windows: number[];
  warmups: number;
  runs: number;
  /** Run the per-processor approach too (it takes seconds at 1,000 processors). */
  perProcessor: boolean;
  perProcessorRuns: number;
}

export interface WindowTiming {
  days: number;
  /** Processor-days in the result (processors × window days). */
  days_checked: number;
  /** Prepare, bind, run and read in DuckDB: the floor. */
  engine: Timing;
  /** `runCheck`: the same statement through the adapter, rows read and grouped into the check result. */
  adapter: Timing;
}

export interface PerProcessorResult {
  /** The per-processor approach, 7-day window (through the adapter: it needs JS rows to combine). */
  timing: Timing;
  /** `runCheck` on the same window, alternating with it. */
  oneQuery: Timing;
  ratio: number;
  /** The per-processor time over the one query's engine time (section 1, 7-day). */
  ratioToEngine: number | null;
  /** Processors on which the two approaches disagree (0: same answers). */
  disagreements: number;
}

export interface DetectionResult {
  processors: number;
  historyDays: number;
  historyRows: number;
  generateMs: number;
  renderMs: Timing;
  sqlChars: number;
  windows: WindowTiming[];
  levels: Record<string, number>;
  perProcessor: PerProcessorResult | null;
}

export interface HistoryDatabase {
  path: string;
  processors: number;
  historyDays: number;
  rows: number;
  generateMs: number;
}

/** Creates `path` with the schema and `historyDays` days of synthetic history for `processors` processors. */
export async function buildHistoryDatabase(path: string, processors: number, historyDays: number): Promise<HistoryDatabase> {
  const registry = syntheticRegistry(processors);
  const builder = await openDuckDb({ path, create: true });
  try {
    for (const statement of renderSchemaSql('duckdb', registry)) await builder.execute(statement);
    const generated = await generateHistory(builder, { processors, days: historyDays });
    // Write the table into its row groups (with their zone maps), as a long-lived file has it.
    await builder.execute('CHECKPOINT');
    return { path, processors, historyDays, rows: generated.rows, generateMs: generated.milliseconds };
  } finally {
    await builder.close();
  }
}

export function benchInputs(registry: Registry, days: number): CheckInputs {
  return resolveCheckInputs({ date: BENCH_END_DATE, lookbackDays: days, now: BENCH_NOW.toISOString() }, registry, BENCH_NOW);
}

export async function benchDetection(database: HistoryDatabase, options: DetectionOptions): Promise<DetectionResult> {
  const registry = syntheticRegistry(options.processors);
  const renderMs = measureSync(() => renderCheckSql('duckdb', registry), { warmups: 1, runs: Math.max(3, options.runs) });
  const sql = renderCheckSql('duckdb', registry);

  const engineTimings = new Map<number, Timing>();
  const engine = await openEngine(database.path);
  try {
    for (const days of options.windows) {
      const params = checkParams(benchInputs(registry, days), registry);
      engineTimings.set(days, await measure(() => engine.query(sql, params), options));
    }
  } finally {
    engine.close();
  }

  const warehouse = await openDuckDb({ path: database.path, create: false });
  try {
    const windows: WindowTiming[] = [];
    const levels: Record<string, number> = {};
    for (const days of options.windows) {
      const inputs = benchInputs(registry, days);
      let checked = 0;
      const adapter = await measure(async () => {
        const result = await runCheck(warehouse, registry, inputs);
        checked = result.report.processors.reduce((n, p) => n + p.days.length, 0);
        if (days === options.windows[0]) {
          for (const key of Object.keys(levels)) delete levels[key];
          for (const p of result.report.processors) levels[p.level] = (levels[p.level] ?? 0) + 1;
        }
      }, options);
      windows.push({ days, days_checked: checked, engine: engineTimings.get(days)!, adapter });
    }

    const compared = options.perProcessor ? await comparePerProcessor(warehouse, registry, options) : null;
    const engine7 = engineTimings.get(7);
    const perProcessor = compared && { ...compared, ratioToEngine: engine7 ? compared.timing.median / engine7.median : null };
    return {
      processors: options.processors,
      historyDays: database.historyDays,
      historyRows: database.rows,
      generateMs: database.generateMs,
      renderMs,
      sqlChars: sql.length,
      windows,
      levels,
      perProcessor,
    };
  } finally {
    await warehouse.close();
  }
}

/** Side by side on the 7-day window: the same warm database, alternating approaches. */
async function comparePerProcessor(
  warehouse: Warehouse,
  registry: Registry,
  options: DetectionOptions,
): Promise<Omit<PerProcessorResult, 'ratioToEngine'>> {
  const inputs = benchInputs(registry, 7);
  const window = { endDate: BENCH_END_DATE, lookbackDays: 7, now: BENCH_NOW };
  // Warm both, and check they answer the same before timing anything.
  const sqlVerdicts = verdictsFromCheckResult(await runCheck(warehouse, registry, inputs));
  const ppVerdicts = await checkPerProcessor(warehouse, registry, window);
  const disagreements = countDisagreements(sqlVerdicts, ppVerdicts);

  const oneQuerySamples: number[] = [];
  const perProcessorSamples: number[] = [];
  for (let i = 0; i < options.perProcessorRuns; i++) {
    const a = await measure(() => runCheck(warehouse, registry, inputs), { warmups: 0, runs: 1 });
    const b = await measure(() => checkPerProcessor(warehouse, registry, window), { warmups: 0, runs: 1 });
    oneQuerySamples.push(...a.samples);
    perProcessorSamples.push(...b.samples);
  }
  const oneQuery: Timing = { samples: oneQuerySamples, median: median(oneQuerySamples) };
  const timing: Timing = { samples: perProcessorSamples, median: median(perProcessorSamples) };
  return { timing, oneQuery, ratio: timing.median / oneQuery.median, disagreements };
}
