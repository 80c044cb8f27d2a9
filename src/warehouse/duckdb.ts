/**
 * The embedded engine: a DuckDB file through `@duckdb/node-api`. The dataset of the registry is
 * a schema inside the file (`nba_reference.processor_run_history`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DATE,
  DuckDBAppender,
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  STRUCT,
  TIMESTAMP,
  BIGINT,
  VARCHAR,
  dateValue,
  listValue,
  structValue,
  timestampValue,
} from '@duckdb/node-api';
import { describeError, firstLine, runtimeError } from '../errors.js';
import type { RunRow } from './run-row.js';
import type { PlainValue, QueryParam, QueryParams, Row, Warehouse } from './types.js';

export const DEFAULT_DUCKDB_PATH = '.pem/monitoring.duckdb';

export interface DuckDbOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Create the file (and its folder) when absent; otherwise a missing file is an error. */
  create: boolean;
}

const DAY_MS = 86_400_000;

/** The catalog name a database file is attached under; a dataset may not share it. */
export const DUCKDB_CATALOG = 'pem_warehouse';

export async function openDuckDb(options: DuckDbOptions): Promise<Warehouse> {
  const { path } = options;
  const inMemory = path === ':memory:';
  if (!inMemory) {
    if (!existsSync(path)) {
      if (!options.create) {
        throw runtimeError(
          `DuckDB database ${path} does not exist: create it with \`pem schema apply --database ${path}\`, or try \`pem demo\``,
        );
      }
      mkdirSync(dirname(resolve(path)), { recursive: true });
    }
  }
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  try {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    if (!inMemory) {
      // Attached under a fixed catalog name: opened directly, the file's catalog is named after
      // it, and `monitoring.processor_run_history` in `monitoring.duckdb` (the defaults) would be
      // an ambiguous catalog-or-schema reference.
      await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS ${DUCKDB_CATALOG}`);
      await connection.run(`USE ${DUCKDB_CATALOG}`);
    }
    // Naive TIMESTAMP columns hold UTC (SPEC §2); make every implicit conversion agree.
    await connection.run("SET TimeZone = 'UTC'");
  } catch (error) {
    throw runtimeError(`cannot open DuckDB database ${path}: ${describeError(error)}`);
  }
  return new DuckDbWarehouse(instance, connection, inMemory ? 'DuckDB (in memory)' : `DuckDB ${path}`);
}

class DuckDbWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly description: string,
  ) {}

  async query(sql: string, params: QueryParams = {}): Promise<Row[]> {
    try {
      const statement = await this.connection.prepare(sql);
      bindAll(statement, params);
      const reader = await statement.runAndReadAll();
      const names = reader.columnNames();
      const types = reader.columnTypes();
      return reader.getRows().map((values) => {
        const row: Row = {};
        names.forEach((name, i) => {
          row[name] = decode(values[i] ?? null, types[i]!);
        });
        return row;
      });
    } catch (error) {
      throw runtimeError(`${this.description}: ${describeError(error)}`);
    }
  }

  async execute(sql: string, params: QueryParams = {}): Promise<void> {
    try {
      if (Object.keys(params).length === 0) {
        await this.connection.run(sql);
        return;
      }
      const statement = await this.connection.prepare(sql);
      bindAll(statement, params);
      await statement.run();
    } catch (error) {
      throw runtimeError(`${this.description}: ${describeError(error)}`);
    }
  }

  async insertRunRows(table: string, rows: readonly RunRow[]): Promise<void> {
    const [schema, name] = splitTable(table);
    const fresh = await this.rowsNotYetIn(table, rows);
    try {
      const appender = await this.connection.createAppender(name, schema);
      for (const row of fresh) {
        appender.appendVarchar(row.run_id);
        appender.appendVarchar(row.processor_name);
        appender.appendDate(dateValue(Date.parse(`${row.processing_date}T00:00:00Z`) / DAY_MS));
        appender.appendVarchar(row.status);
        appendNullable(appender, row.started_at, (v) => appender.appendTimestamp(timestampValue(BigInt(v.getTime()) * 1000n)));
        appendNullable(appender, row.completed_at, (v) => appender.appendTimestamp(timestampValue(BigInt(v.getTime()) * 1000n)));
        appendNullable(appender, row.records_processed, (v) => appender.appendBigInt(BigInt(v)));
        appendNullable(appender, row.errors, (v) =>
          appender.appendList(
            v.map((e) => structValue({ error_type: e.error_type, error_message: e.error_message })),
            ERRORS_TYPE,
          ),
        );
        appendNullable(appender, row.trigger_source, (v) => appender.appendVarchar(v));
        appendNullable(appender, row.metadata ?? null, (v) => appender.appendVarchar(JSON.stringify(v)));
        appender.endRow();
      }
      appender.closeSync();
    } catch (error) {
      throw runtimeError(`${this.description}: cannot append to ${table}: ${describeError(error)}`);
    }
  }

  /** The rows whose (run_id, status) neither the table nor an earlier row of the batch holds. */
  private async rowsNotYetIn(table: string, rows: readonly RunRow[]): Promise<RunRow[]> {
    const key = (runId: unknown, status: unknown) => `${String(runId)}\u0000${String(status)}`;
    const quoted = splitTable(table)
      .filter((part): part is string => part !== null)
      .map((part) => `"${part.replace(/"/g, '""')}"`)
      .join('.');
    const held = await this.query(`SELECT DISTINCT run_id, status FROM ${quoted} WHERE list_contains($run_ids, run_id)`, {
      run_ids: { type: 'ARRAY<STRING>', value: [...new Set(rows.map((row) => row.run_id))] },
    });
    const seen = new Set(held.map((row) => key(row.run_id, row.status)));
    return rows.filter((row) => {
      const k = key(row.run_id, row.status);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const ERRORS_TYPE = LIST(STRUCT({ error_type: VARCHAR, error_message: VARCHAR }));

function appendNullable<T>(appender: DuckDBAppender, value: T | null | undefined, append: (value: T) => void): void {
  if (value === null || value === undefined) appender.appendNull();
  else append(value);
}

/** 'dataset.table' → [schema, table]; a bare name lives in DuckDB's default schema. */
function splitTable(table: string): [string | null, string] {
  const parts = table.split('.');
  const name = parts.pop()!;
  return [parts.pop() ?? null, name];
}

function bindAll(statement: Awaited<ReturnType<DuckDBConnection['prepare']>>, params: QueryParams): void {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  // Bind only what the statement names: DuckDB rejects unknown named parameters.
  const wanted = new Set(Array.from({ length: statement.parameterCount }, (_, i) => statement.parameterName(i + 1)));
  for (const [name, param] of Object.entries(params)) {
    if (!wanted.has(name)) continue;
    const [value, type] = toDuckDb(param);
    values[name] = value;
    types[name] = type;
  }
  statement.bind(values, types);
}

/** A bound parameter as DuckDB's value and type (exported for the benchmark's engine timing). */
export function toDuckDb(param: QueryParam): [DuckDBValue, DuckDBType] {
  switch (param.type) {
    case 'DATE':
      return [dateValue(Date.parse(`${param.value}T00:00:00Z`) / DAY_MS), DATE];
    case 'INT64':
      return [BigInt(param.value), BIGINT];
    case 'TIMESTAMP':
      return [timestampValue(BigInt(param.value.getTime()) * 1000n), TIMESTAMP];
    case 'STRING':
      return [param.value, VARCHAR];
    case 'ARRAY<STRING>':
      return [listValue([...param.value]), LIST(VARCHAR)];
  }
}

/** DuckDB values → the plain forms of `types.ts`. */
function decode(value: DuckDBValue, type: DuckDBType): PlainValue {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DATE: {
      const days = (value as { days: number }).days;
      return new Date(days * DAY_MS).toISOString().slice(0, 10);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const micros = (value as { micros: bigint }).micros;
      return new Date(Number(micros / 1000n)).toISOString();
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
      return Number(value as bigint);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.VARCHAR:
      return value as PlainValue;
    case DuckDBTypeId.LIST: {
      const child = (type as unknown as { valueType: DuckDBType }).valueType;
      return (value as { items: DuckDBValue[] }).items.map((item) => decode(item, child));
    }
    case DuckDBTypeId.STRUCT: {
      const entries = (type as unknown as { entryNames: string[]; entryTypes: DuckDBType[] });
      const struct = (value as { entries: Record<string, DuckDBValue> }).entries;
      return Object.fromEntries(entries.entryNames.map((name, i) => [name, decode(struct[name] ?? null, entries.entryTypes[i]!)]));
    }
    default:
      return String(value);
  }
}



/**
 * Parses (without binding) `SELECT 1 FROM t WHERE (<filter>)` with DuckDB's parser: the filter
 * must be one expression. Binding would need the foreign tables, which may live elsewhere.
 */
export async function duckDbFilterParser(): Promise<{ parse: (filter: string) => Promise<string | null>; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    async parse(filter) {
      const reader = await connection.runAndReadAll('SELECT json_serialize_sql(CAST($sql AS VARCHAR)) AS tree', {
        sql: `SELECT 1 FROM t WHERE (${filter})`,
      }, { sql: VARCHAR });
      const tree = JSON.parse(String(reader.getRows()[0]![0])) as {
        error?: boolean;
        error_message?: string;
        statements?: { node?: { type?: string } }[];
      };
      if (tree.error) return firstLine(tree.error_message ?? 'syntax error');
      if (tree.statements?.length !== 1 || tree.statements[0]?.node?.type !== 'SELECT_NODE') return 'not a single expression';
      return null;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
