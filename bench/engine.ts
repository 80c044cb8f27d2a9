/**
 * The detection query timed at the engine: the same statement and bound values as `pem check`,
 * on the same file, opened the way the DuckDB adapter opens it (attached under its catalog name,
 * UTC), read into DuckDB's own result chunks. What it leaves out is the adapter's conversion of
 * every value into a JS object (`reader.getRows()` and `decode`), which the adapter timing adds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
// The adapter's parameter types, so DuckDB plans the same statement as `pem check`.
import { DUCKDB_CATALOG, toDuckDb } from '../src/warehouse/duckdb.js';
import type { QueryParams } from '../src/warehouse/types.js';

export interface Engine {
  /** Prepares, binds, runs and reads the whole result; returns the row count. */
  query(sql: string, params: QueryParams): Promise<number>;
  /**
   * `query` once with DuckDB's profiler on: the profile's top-level metrics in ms (planner binding,
   * optimisers, physical planning, latency) and `operators_ms`, the operators' own time summed.
   */
  profile(sql: string, params: QueryParams): Promise<Record<string, number>>;
  close(): void;
}

/** The profile's top-level metrics `profile` asks for (https://duckdb.org/docs/stable/dev/profiling). */
const PROFILED_METRICS = ['PLANNER', 'PLANNER_BINDING', 'ALL_OPTIMIZERS', 'PHYSICAL_PLANNER', 'LATENCY', 'OPERATOR_TIMING'];

interface ProfileNode {
  operator_timing?: number;
  children?: ProfileNode[];
}

/** The operators' own time in a profile tree, summed (seconds). */
function operatorSeconds(node: ProfileNode): number {
  return (node.operator_timing ?? 0) + (node.children ?? []).reduce((sum, child) => sum + operatorSeconds(child), 0);
}

/** `threads`: DuckDB's worker threads (default: one per core); 1 makes process CPU DuckDB's work alone. */
export async function openEngine(path: string, options: { threads?: number } = {}): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS ${DUCKDB_CATALOG}`);
  await connection.run(`USE ${DUCKDB_CATALOG}`);
  await connection.run("SET TimeZone = 'UTC'");
  if (options.threads !== undefined) await connection.run(`SET threads = ${Math.trunc(options.threads)}`);
  const query = async (sql: string, params: QueryParams): Promise<number> => {
    const statement = await connection.prepare(sql);
    const values: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    const wanted = new Set(Array.from({ length: statement.parameterCount }, (_, i) => statement.parameterName(i + 1)));
    for (const [name, param] of Object.entries(params)) {
      if (!wanted.has(name)) continue;
      [values[name], types[name]] = toDuckDb(param);
    }
    statement.bind(values, types);
    const reader = await statement.runAndReadAll();
    return reader.currentRowCount;
  };
  return {
    query,
    async profile(sql, params) {
      const dir = mkdtempSync(join(tmpdir(), 'pem-profile-'));
      try {
        const file = join(dir, 'profile.json');
        const settings = JSON.stringify(Object.fromEntries(PROFILED_METRICS.map((m) => [m, 'true'])));
        // The format first: DuckDB checks the output file's extension against it.
        await connection.run("PRAGMA enable_profiling = 'json'");
        await connection.run(`PRAGMA custom_profiling_settings = '${settings}'`);
        await connection.run(`PRAGMA profiling_output = '${file}'`);
        try {
          await query(sql, params);
        } finally {
          await connection.run('PRAGMA disable_profiling');
        }
        const profile = JSON.parse(readFileSync(file, 'utf8')) as ProfileNode & Record<string, unknown>;
        const metrics: Record<string, number> = {};
        for (const [key, value] of Object.entries(profile)) if (typeof value === 'number') metrics[`${key}_ms`] = value * 1000;
        metrics.operators_ms = operatorSeconds(profile) * 1000;
        return metrics;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

