/**
 * What `pem schema apply` compares an existing run-history table with: the columns and types the
 * dialect's DDL declares. Runner-only (Dataform's include does not bundle it).
 */
import type { Registry } from '../config/registry.js';
import { runHistoryTable } from '../config/names.js';
import { rendererFor } from './load.js';
import type { Dialect, SqlRenderer } from './render.js';

/**
 * The run-history columns and their types as the dialect's DDL writes them, read from the rendered
 * `run_history_ddl` (the one place they are declared), for `pem schema apply` to compare with a
 * table that already exists.
 */
export function runHistoryColumns(dialect: Dialect | SqlRenderer, registry: Registry): { name: string; type: string }[] {
  return runHistoryColumnsOf(dialect, runHistoryTable(registry));
}

/** The same, for a run-history table named directly (`pem record --table`, or a sink's table). */
export function runHistoryColumnsOf(dialect: Dialect | SqlRenderer, table: string): { name: string; type: string }[] {
  const ddl = rendererFor(dialect).render('run_history_ddl', { table });
  const body = ddl.slice(ddl.indexOf('(') + 1, ddl.lastIndexOf(')'));
  return [...body.matchAll(/^\s*([a-z_]+) (.+?)(?: NOT NULL)?,?$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
}

/** How an existing table's columns differ from `expected` (missing, or another type); empty when they agree. */
export function columnMismatches(expected: readonly { name: string; type: string }[], actual: readonly { name: string; type: string }[]): string[] {
  const actualTypes = new Map(actual.map((c) => [c.name.toLowerCase(), c.type]));
  const normal = (type: string) => type.replace(/\s+/g, ' ').toUpperCase();
  return expected.flatMap(({ name, type }) => {
    const found = actualTypes.get(name);
    if (found === undefined) return [`${name} is missing`];
    return normal(found) === normal(type) ? [] : [`${name} is ${found}, not ${type}`];
  });
}

/** How a failed statement names a run-history table's columns that differ from SPEC §2 (check, record). */
export function otherColumnsNote(table: string, mismatches: readonly string[]): string {
  return `${table} has other columns than the run history's, SPEC §2: ${mismatches.join('; ')}`;
}
