/**
 * One fixture, two engines: a registry, run-history rows and foreign tables, loaded into a DuckDB
 * file (the way `pem schema apply` builds one) and into a ZetaSQL catalog with table contents
 * (BigQuery's reference evaluator). The differential tests run each engine's rendering of the same
 * template over it and expect the same rows.
 */
import { parseRegistry, type Registry } from '../../../src/config/registry.js';
import { toRunRow, createScenario, type RowSpec, type Scenario } from '../../support/scenario.js';
import type { CatalogSpec, Columns } from '../../support/zetasql.js';

/** SPEC §2, BigQuery types. */
export const RUN_HISTORY_COLUMNS: Columns = {
  run_id: 'STRING',
  processor_name: 'STRING',
  processing_date: 'DATE',
  status: 'STRING',
  started_at: 'TIMESTAMP',
  completed_at: 'TIMESTAMP',
  records_processed: 'INT64',
  errors: 'ARRAY<STRUCT<error_type STRING, error_message STRING>>',
  trigger_source: 'STRING',
  metadata: 'JSON',
};

/** A table the registry reads that is not the contract run history (a foreign execution table, a calendar). */
export interface ForeignTable {
  /** BigQuery types: STRING, INT64, FLOAT64, BOOL, DATE, TIMESTAMP. */
  columns: Columns;
  rows: Record<string, string | number | boolean | null>[];
}

export interface Fixture {
  registry: Record<string, unknown>;
  runs?: RowSpec[];
  tables?: Record<string, ForeignTable>;
}

export function registryOf(fixture: Fixture): Registry {
  const parsed = parseRegistry(fixture.registry);
  if (!parsed.ok) throw new Error(`fixture registry is invalid:\n${parsed.problems.join('\n')}`);
  return parsed.registry;
}

const DUCKDB_TYPES: Record<string, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

function duckLiteral(type: string, value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  switch (type) {
    case 'STRING':
      return `'${String(value).replace(/'/g, "''")}'`;
    case 'DATE':
      return `DATE '${String(value)}'`;
    case 'TIMESTAMP':
      // Naive TIMESTAMP columns hold UTC (SPEC §2).
      return `TIMESTAMP '${new Date(String(value)).toISOString().replace('T', ' ').replace('Z', '')}'`;
    case 'BOOL':
      return value ? 'TRUE' : 'FALSE';
    default:
      return String(value);
  }
}

/** The statements that create and fill the foreign tables in DuckDB. */
export function duckDbSetup(fixture: Fixture): string[] {
  const statements: string[] = [];
  for (const [name, table] of Object.entries(fixture.tables ?? {})) {
    const parts = name.split('.');
    if (parts.length !== 2) throw new Error(`fixture table ${name}: use dataset.table`);
    const quoted = parts.map((p) => `"${p}"`).join('.');
    statements.push(`CREATE SCHEMA IF NOT EXISTS "${parts[0]}"`);
    const columns = Object.entries(table.columns);
    statements.push(`CREATE TABLE ${quoted} (${columns.map(([c, t]) => `"${c}" ${DUCKDB_TYPES[t] ?? t}`).join(', ')})`);
    if (table.rows.length > 0) {
      const values = table.rows.map((row) => `(${columns.map(([c, t]) => duckLiteral(t, row[c] ?? null)).join(', ')})`);
      statements.push(`INSERT INTO ${quoted} VALUES ${values.join(', ')}`);
    }
  }
  return statements;
}

/** A DuckDB scenario (temporary folder, registry file, database) holding the fixture. */
export function duckDbScenario(fixture: Fixture): Promise<Scenario> {
  return createScenario(fixture.registry, fixture.runs ?? [], duckDbSetup(fixture));
}

/** The ZetaSQL catalog and table contents of the fixture; `extra` adds tables (e.g. processor_config). */
export function zetaFixture(fixture: Fixture, extra: Record<string, Columns> = {}): { catalog: CatalogSpec; content: Record<string, Record<string, unknown>[]> } {
  const registry = registryOf(fixture);
  const runHistory = `${registry.dataset}.processor_run_history`;
  const tables: Record<string, Columns> = { [runHistory]: RUN_HISTORY_COLUMNS, ...extra };
  const content: Record<string, Record<string, unknown>[]> = {
    [runHistory]: (fixture.runs ?? []).map((spec) => {
      const row = toRunRow(spec);
      return { ...row, started_at: row.started_at, completed_at: row.completed_at, metadata: null };
    }),
  };
  for (const [name, table] of Object.entries(fixture.tables ?? {})) {
    tables[name] = table.columns;
    content[name] = table.rows;
  }
  return { catalog: { tables, tableFunctions: [] }, content };
}

/** Rows in a stable order with the same plain forms, for comparing engines. */
export function sortRows<T extends Record<string, unknown>>(rows: T[], keys: string[] = ['processor_name', 'processing_date', 'run_id']): T[] {
  return [...rows].sort((a, b) => {
    for (const key of keys) {
      const x = String(a[key] ?? '');
      const y = String(b[key] ?? '');
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}
