/**
 * The embedded engine: a DuckDB file through `@duckdb/node-api`. The dataset of the registry is
 * a schema inside the file (`nba_reference.processor_run_history`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DATE,
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  TIMESTAMP,
  BIGINT,
  VARCHAR,
  dateValue,
  listValue,
  timestampValue,
} from '@duckdb/node-api';
import { runtimeError } from '../errors.js';
import type { PlainValue, QueryParam, QueryParams, Row, Warehouse } from './types.js';

export const DEFAULT_DUCKDB_PATH = '.pem/monitoring.duckdb';

export interface DuckDbOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Create the file (and its folder) when absent; otherwise a missing file is an error. */
  create: boolean;
}

const DAY_MS = 86_400_000;

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
    instance = await DuckDBInstance.create(path);
    connection = await instance.connect();
    // Naive TIMESTAMP columns hold UTC (SPEC §2); make every implicit conversion agree.
    await connection.run("SET TimeZone = 'UTC'");
  } catch (error) {
    throw runtimeError(`cannot open DuckDB database ${path}: ${firstLine(error)}`);
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
      throw runtimeError(`${this.description}: ${firstLine(error)}`);
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
      throw runtimeError(`${this.description}: ${firstLine(error)}`);
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
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

function toDuckDb(param: QueryParam): [DuckDBValue, DuckDBType] {
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

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
