/**
 * Benchmark 6: `pem backtest` (SPEC §13) — an hourly replay over synthetic history (100 processors
 * × 2 years by default), timed through the same engine the CLI uses (`runBacktest`, DuckDB adapter).
 * Target (issue 15): a 180-day hourly backtest in ≤ 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest, type BacktestRun } from '../src/backtest/replay.js';
import { addDays } from '../src/calendar.js';
import { renderSchemaSql } from '../src/sql/statements.js';
import { openDuckDb } from '../src/warehouse/duckdb.js';
import { BENCH_END_DATE, generateHistory } from './dataset.js';
import { syntheticRegistry } from './dataset.js';

export interface BacktestBenchOptions {
  processors: number;
  historyDays: number;
  /** Days replayed, ending at the history's last date. */
  days: number;
}

export interface BacktestBenchResult extends BacktestBenchOptions {
  historyRows: number;
  checks: number;
  queries: number;
  milliseconds: number;
  totals: BacktestRun["totals"];
  queryMs: number;
  simulateMs: number;
}

export async function benchBacktest(options: BacktestBenchOptions): Promise<BacktestBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pem-bench-backtest-'));
  const path = join(dir, 'history.duckdb');
  const registry = syntheticRegistry(options.processors);
  try {
    const builder = await openDuckDb({ path, create: true });
    let historyRows: number;
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await builder.execute(statement);
      historyRows = (await generateHistory(builder, { processors: options.processors, days: options.historyDays })).rows;
      await builder.execute('CHECKPOINT');
    } finally {
      await builder.close();
    }
    const warehouse = await openDuckDb({ path, create: false });
    try {
      const started = performance.now();
      const run = await runBacktest(warehouse, registry, {
        from: addDays(BENCH_END_DATE, 1 - options.days),
        to: BENCH_END_DATE,
        everyMs: 3_600_000,
        lookbackDays: 7,
        processors: registry.processors.map((p) => p.name),
      });
      const milliseconds = performance.now() - started;
      return { ...options, historyRows, checks: run.checks, queries: run.queries, milliseconds, totals: run.totals, queryMs: run.query_ms, simulateMs: run.simulate_ms };
    } finally {
      await warehouse.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
