/**
 * Benchmarks 1 and 2: the detection query over synthetic history at one size, and the seed's
 * one-query-per-processor approach on the same data.
 *
 * The timed statement is exactly what `pem check` sends on DuckDB: `renderCheckSql` for the
 * registry, bound with `checkParams`. It is timed twice: at the engine (prepare, bind, run, read
 * into DuckDB's result chunks: engine.ts) and through pem's DuckDB adapter (`Warehouse.query`,
 * which also turns every value into a JS object). Rendering is timed apart: it is paid once per
 * check, whatever the window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRegistry, type Registry } from '../src/config/registry.js';
import { checkParams, resolveCheckInputs } from '../src/check/inputs.js';
import { renderCheckSql, renderSchemaSql } from '../src/sql/statements.js';
import { openDuckDb } from '../src/warehouse/duckdb.js';
import type { Row, Warehouse } from '../src/warehouse/types.js';
import { BENCH_END_DATE, BENCH_NOW, generateHistory, syntheticRegistryDocument } from './dataset.js';
import { openEngine } from './engine.js';
import { checkPerProcessor, countDisagreements, verdictsFromHealthRows } from './per-processor.js';
import { measure, measureSync, median, type Timing } from './stats.js';

export interface DetectionOptions {
  processors: number;
  historyDays: number;
  windows: number[];
  warmups: number;
  runs: number;
  /** Run the per-processor approach too (it takes seconds at 1,000 processors). */
  perProcessor: boolean;
  perProcessorRuns: number;
  /** Where the temporary database goes (default: the OS temp folder). */
  tempDir?: string;
}

export interface WindowTiming {
  days: number;
  rows: number;
  /** Prepare, bind, run and read in DuckDB. */
  engine: Timing;
  /** The same through `Warehouse.query`, JS rows included: what `pem check` waits for. */
  adapter: Timing;
}

export interface PerProcessorResult {
  /** The per-processor approach, 7-day window (through the adapter: it needs JS rows to combine). */
  timing: Timing;
  /** The one detection query on the same window through the adapter, alternating with it. */
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

export function syntheticRegistry(processors: number): Registry {
  const parsed = parseRegistry(syntheticRegistryDocument(processors));
  if (!parsed.ok) throw new Error(`synthetic registry is invalid: ${parsed.problems.join('; ')}`);
  return parsed.registry;
}

export async function benchDetection(options: DetectionOptions): Promise<DetectionResult> {
  const dir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'pem-bench-'));
  const path = join(dir, 'history.duckdb');
  const registry = syntheticRegistry(options.processors);
  try {
    const builder = await openDuckDb({ path, create: true });
    let generated: { rows: number; milliseconds: number };
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await builder.execute(statement);
      generated = await generateHistory(builder, { processors: options.processors, days: options.historyDays });
      // Write the table into its row groups (with their zone maps), as a long-lived file has it.
      await builder.execute('CHECKPOINT');
    } finally {
      await builder.close();
    }

    const renderMs = measureSync(() => renderCheckSql('duckdb', registry), { warmups: 1, runs: Math.max(3, options.runs) });
    const sql = renderCheckSql('duckdb', registry);
    const paramsFor = (days: number) =>
      checkParams(resolveCheckInputs({ date: BENCH_END_DATE, lookbackDays: days, now: BENCH_NOW.toISOString() }, registry, BENCH_NOW), registry);

    const engineTimings = new Map<number, Timing>();
    const engine = await openEngine(path);
    try {
      for (const days of options.windows) engineTimings.set(days, await measure(() => engine.query(sql, paramsFor(days)), options));
    } finally {
      engine.close();
    }

    const warehouse = await openDuckDb({ path, create: false });
    try {
      const windows: WindowTiming[] = [];
      const rowsByWindow = new Map<number, Row[]>();
      for (const days of options.windows) {
        let rows: Row[] = [];
        const adapter = await measure(async () => {
          rows = await warehouse.query(sql, paramsFor(days));
        }, options);
        rowsByWindow.set(days, rows);
        windows.push({ days, rows: rows.length, engine: engineTimings.get(days)!, adapter });
      }

      const levels: Record<string, number> = {};
      for (const v of verdictsFromHealthRows(rowsByWindow.get(options.windows[0]!) ?? [])) levels[v.level] = (levels[v.level] ?? 0) + 1;

      const compared = options.perProcessor ? await comparePerProcessor(warehouse, registry, sql, paramsFor(7), options) : null;
      const engine7 = engineTimings.get(7);
      const perProcessor = compared && { ...compared, ratioToEngine: engine7 ? compared.timing.median / engine7.median : null };
      return {
        processors: options.processors,
        historyDays: options.historyDays,
        historyRows: generated.rows,
        generateMs: generated.milliseconds,
        renderMs,
        sqlChars: sql.length,
        windows,
        levels,
        perProcessor,
      };
    } finally {
      await warehouse.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Side by side on the 7-day window: the same warm database, alternating approaches. */
async function comparePerProcessor(
  warehouse: Warehouse,
  registry: Registry,
  sql: string,
  params: ReturnType<typeof checkParams>,
  options: DetectionOptions,
): Promise<Omit<PerProcessorResult, 'ratioToEngine'>> {
  const inputs = { endDate: BENCH_END_DATE, lookbackDays: 7, now: BENCH_NOW };
  // Warm both, and check they answer the same before timing anything.
  const sqlVerdicts = verdictsFromHealthRows(await warehouse.query(sql, params));
  const ppVerdicts = await checkPerProcessor(warehouse, registry, inputs);
  const disagreements = countDisagreements(sqlVerdicts, ppVerdicts);

  const oneQuerySamples: number[] = [];
  const perProcessorSamples: number[] = [];
  for (let i = 0; i < options.perProcessorRuns; i++) {
    const a = await measure(() => warehouse.query(sql, params), { warmups: 0, runs: 1 });
    const b = await measure(() => checkPerProcessor(warehouse, registry, inputs), { warmups: 0, runs: 1 });
    oneQuerySamples.push(...a.samples);
    perProcessorSamples.push(...b.samples);
  }
  const oneQuery: Timing = { samples: oneQuerySamples, median: median(oneQuerySamples) };
  const timing: Timing = { samples: perProcessorSamples, median: median(perProcessorSamples) };
  return { timing, oneQuery, ratio: timing.median / oneQuery.median, disagreements };
}

