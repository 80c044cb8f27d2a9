/**
 * Would any check see this row? `pem record` writes rows that only a registry processor's
 * `processor_filter` brings into a check; a row no filter selects (a misspelt `--processor`, a
 * processor not in the registry yet) is recorded and then never read. This module asks the SQL
 * (`sql/run_row_selected_by.sql.hbs`) which processors would select the row, so `pem record`
 * can say so in one warning line. It never decides anything by itself: the filters decide.
 */
import { closest, distance } from 'fastest-levenshtein';
import { defaultProcessorFilter, type Registry } from '../config/registry.js';
import { sqlRenderer } from '../sql/load.js';
import { openDuckDb } from '../warehouse/duckdb.js';

/** The run-history row as `pem record` is about to write it (or has written it). */
export interface RecordedRow {
  run_id: string;
  processor_name: string;
  processing_date: string;
  status: string;
  started_at: Date | null;
  completed_at: Date | null;
  records_processed: number | null;
  trigger_source: string | null;
  metadata: unknown;
}

export interface Selection {
  /** Processors of the registry that read `table` (whatever their filter). */
  readers: string[];
  /** Those of them that select rows by the default filter, `processor_name = '<key>'`. */
  byKey: string[];
  /** Those whose filter selects the row, enabled ones first. */
  selecting: { name: string; enabled: boolean }[];
}

/** `dataset.table` and `project.dataset.table` name the same table when the dataset and table agree. */
export function sameTable(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

export async function processorsSelecting(registry: Registry, table: string, row: RecordedRow): Promise<Selection> {
  const readers = registry.processors.filter((p) => sameTable(p.execution_table, table));
  if (readers.length === 0) return { readers: [], byKey: [], selecting: [] };
  const byDefault = readers.filter((p) => p.processor_filter === defaultProcessorFilter(p.name));
  const filtered = readers.filter((p) => p.processor_filter !== defaultProcessorFilter(p.name)).map((p) => ({ processor: p.name, filter: p.processor_filter }));
  const sql = sqlRenderer('duckdb').render('run_row_selected_by', { filtered });
  const text = (value: string | number | null) => ({ type: 'STRING' as const, value: value === null ? null : String(value) });
  const warehouse = await openDuckDb({ path: ':memory:', create: false });
  try {
    const rows = await warehouse.query(sql, {
      default_names: { type: 'ARRAY<STRING>', value: byDefault.map((p) => p.name) },
      run_id: text(row.run_id),
      processor_name: text(row.processor_name),
      processing_date: text(row.processing_date),
      status: text(row.status),
      started_at: text(row.started_at?.toISOString() ?? null),
      completed_at: text(row.completed_at?.toISOString() ?? null),
      records_processed: text(row.records_processed),
      trigger_source: text(row.trigger_source),
      metadata: text(row.metadata === null || row.metadata === undefined ? null : JSON.stringify(row.metadata)),
    });
    const names = new Set(rows.map((r) => String(r.processor)));
    const selecting = readers.filter((p) => names.has(p.name)).map((p) => ({ name: p.name, enabled: p.enabled }));
    return { readers: readers.map((p) => p.name), byKey: byDefault.map((p) => p.name), selecting: selecting.sort((a, b) => Number(b.enabled) - Number(a.enabled)) };
  } finally {
    await warehouse.close();
  }
}

/**
 * The one warning line when no check would see the row (null when one would): what selects
 * nothing, the nearest processor name when the row's looks like a typo, and that the row was
 * recorded all the same (instrumentation never fails the job it instruments). `asked`: where the
 * row's processor name was given, for the hint: `--processor` of this command, or (a `complete` of
 * a run id `pem record start` printed) that start's `--processor`.
 */
export function unseenRowWarning(
  selection: Selection,
  row: RecordedRow,
  table: string,
  registryPath: string,
  suggested: string | null = null,
  asked = '--processor',
): string | null {
  const { readers, byKey, selecting } = selection;
  if (selecting.some((p) => p.enabled)) return null;
  // The text logger already starts the line with the processor name (the `processor` field).
  if (selecting.length > 0) {
    const names = selecting.map((p) => p.name).join(', ');
    return `only disabled processor${selecting.length === 1 ? '' : 's'} ${names} of ${registryPath} select${selecting.length === 1 ? 's' : ''} this row in ${table}: checks skip it unless named with --processors (recorded anyway)`;
  }
  if (readers.length === 0) return `no processor of ${registryPath} reads ${table}, so no check will see this row (recorded anyway)`;
  const hint = suggested ?? nearestKey(row.processor_name, byKey);
  return `no processor of ${registryPath} selects this row in ${table}, so no check will see it${hint ? `; did you mean ${asked} ${hint}?` : ''} (recorded anyway)`;
}

/**
 * The registry key the name most likely meant: the one key containing it (or contained in it),
 * else the nearest by edit distance when close. Only keys selected by name are candidates: a
 * custom filter may select any processor_name.
 */
function nearestKey(name: string, keys: readonly string[]): string | null {
  const containing = keys.filter((key) => key.includes(name) || name.includes(key));
  if (containing.length === 1) return containing[0]!;
  if (keys.length === 0) return null;
  const nearest = closest(name, [...keys]);
  return withinTypo(name, nearest) ? nearest : null;
}

/** Whether `name` is a typo's distance from `candidate`: 2 edits, or a quarter of the candidate. */
function withinTypo(name: string, candidate: string): boolean {
  return distance(name, candidate) <= Math.max(2, Math.floor(candidate.length / 4));
}

/**
 * The processor name a row no filter selects most likely meant, when a custom filter selects it:
 * `--processor gamebook_processor` (the registry key, which `pem check --processors` takes) where
 * the key's filter is `processor_name = 'gamebook'`. The candidates are the quoted strings of the
 * readers' custom filters (the key's own first, then the nearest by edit distance; no LIKE or GLOB
 * pattern); one is suggested only when the filters, asked again, select the row under that name
 * for an enabled processor. Null otherwise.
 */
export async function suggestedProcessorName(registry: Registry, table: string, row: RecordedRow): Promise<string | null> {
  const custom = registry.processors.filter((p) => p.enabled && sameTable(p.execution_table, table) && p.processor_filter !== defaultProcessorFilter(p.name));
  const literalsOf = (filter: string) => [...filter.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
  const own = custom.find((p) => p.name === row.processor_name);
  const others = [...new Set(custom.flatMap((p) => literalsOf(p.processor_filter)))].filter((name) => name !== row.processor_name);
  const near = others
    .filter((name) => name.includes(row.processor_name) || row.processor_name.includes(name) || withinTypo(row.processor_name, name))
    .sort((a, b) => distance(a, row.processor_name) - distance(b, row.processor_name));
  // A LIKE or GLOB pattern matches its own text, but is no name to pass.
  const candidates = [...new Set([...(own ? literalsOf(own.processor_filter) : []), ...near])]
    .filter((name) => name !== row.processor_name && name.trim() !== '' && !/[%*?[\]]/.test(name))
    .slice(0, 3);
  for (const name of candidates) {
    const selection = await processorsSelecting(registry, table, { ...row, processor_name: name });
    if (selection.selecting.some((p) => p.enabled)) return name;
  }
  return null;
}
