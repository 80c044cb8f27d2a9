/**
 * What an existing table of the monitor's is compared with (`pem schema apply`; the run history
 * also by a failed check or record): the columns and types the dialect's DDL declares, read from
 * its rendered template (the one place they are declared). Runner-only (Dataform's include does
 * not bundle it).
 */
import { rendererFor } from './load.js';
import type { Dialect, SqlRenderer } from './render.js';

/** The columns and types a `CREATE TABLE` template declares (run history, alert state, silences). */
function ddlColumns(dialect: Dialect | SqlRenderer, template: string, table: string): { name: string; type: string }[] {
  const ddl = rendererFor(dialect).render(template, { table });
  const body = ddl.slice(ddl.indexOf('(') + 1, ddl.lastIndexOf(')'));
  return [...body.matchAll(/^\s*([a-z_]+) (.+?)(?: NOT NULL)?,?$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
}

/** How an existing table's columns differ from `expected` (missing, or another type); empty when they agree. */
function columnMismatches(expected: readonly { name: string; type: string }[], actual: readonly { name: string; type: string }[]): string[] {
  const actualTypes = new Map(actual.map((c) => [c.name.toLowerCase(), c.type]));
  const normal = (type: string) => type.replace(/\s+/g, ' ').toUpperCase();
  return expected.flatMap(({ name, type }) => {
    const found = actualTypes.get(name);
    if (found === undefined) return [`${name} is missing`];
    return normal(found) === normal(type) ? [] : [`${name} is ${found}, not ${type}`];
  });
}

/** The run history's columns and types as the dialect's DDL declares them, in its order. */
export function runHistoryDdlColumns(dialect: Dialect | SqlRenderer, table: string): { name: string; type: string }[] {
  return ddlColumns(dialect, 'run_history_ddl', table);
}

/** Where a table's columns are read from: a warehouse (`Warehouse.tableColumns`, empty for a table that does not exist). */
export interface TableColumnSource {
  readonly dialect: Dialect;
  tableColumns(table: string): Promise<{ name: string; type: string }[]>;
}

/**
 * How the run-history table `table` in `warehouse` differs from SPEC §2 (`pem schema apply`, and a
 * check or a recorder whose statement failed on it); empty when it agrees or does not exist (a
 * missing table is the warehouse's own error to tell, not ten missing columns).
 */
export async function runHistoryMismatches(warehouse: TableColumnSource, table: string): Promise<string[]> {
  return tableMismatches(warehouse, 'run_history_ddl', table);
}

/**
 * How the existing table `table` differs from what the DDL template declares (missing columns,
 * other types); empty when it agrees or does not exist. `optional` columns (an upgrade adds them)
 * are compared only when the table has them.
 */
export async function tableMismatches(warehouse: TableColumnSource, template: string, table: string, optional: ReadonlySet<string> = new Set()): Promise<string[]> {
  const columns = await warehouse.tableColumns(table);
  return columns.length === 0 ? [] : mismatchesOf(warehouse.dialect, template, table, columns, optional);
}

/** `tableMismatches` of columns already read (`columns`, the existing table's). */
function mismatchesOf(dialect: Dialect, template: string, table: string, columns: readonly { name: string; type: string }[], optional: ReadonlySet<string> = new Set()): string[] {
  const has = new Set(columns.map((c) => c.name.toLowerCase()));
  return columnMismatches(ddlColumns(dialect, template, table).filter((c) => !optional.has(c.name) || has.has(c.name)), columns);
}

/** How an existing run-history table whose columns were read (`columns`) differs from SPEC §2. */
export function runHistoryColumnMismatches(dialect: Dialect, table: string, columns: readonly { name: string; type: string }[]): string[] {
  return mismatchesOf(dialect, 'run_history_ddl', table, columns);
}

/** How a failed statement names a run-history table's columns that differ from SPEC §2 (check, record). */
export function otherColumnsNote(table: string, mismatches: readonly string[]): string {
  return `${table} has other columns than the run history's, SPEC §2: ${mismatches.join('; ')}`;
}
