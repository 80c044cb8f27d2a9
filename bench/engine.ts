/**
 * The detection query timed at the engine: the same statement and bound values as `pem check`,
 * on the same file, opened the way the DuckDB adapter opens it (attached under its catalog name,
 * UTC), read into DuckDB's own result chunks. What it leaves out is the adapter's conversion of
 * every value into a JS object (`reader.getRows()` and `decode`), which the adapter timing adds.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
// The adapter's parameter types, so DuckDB plans the same statement as `pem check`.
import { DUCKDB_CATALOG, toDuckDb } from '../src/warehouse/duckdb.js';
import type { QueryParams } from '../src/warehouse/types.js';

export interface Engine {
  /** Prepares, binds, runs and reads the whole result; returns the row count. */
  query(sql: string, params: QueryParams): Promise<number>;
  close(): void;
}

/** `threads`: DuckDB's worker threads (default: one per core); 1 makes process CPU DuckDB's work alone. */
export async function openEngine(path: string, options: { threads?: number } = {}): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS ${DUCKDB_CATALOG}`);
  await connection.run(`USE ${DUCKDB_CATALOG}`);
  await connection.run("SET TimeZone = 'UTC'");
  if (options.threads !== undefined) await connection.run(`SET threads = ${Math.trunc(options.threads)}`);
  return {
    async query(sql, params) {
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
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

