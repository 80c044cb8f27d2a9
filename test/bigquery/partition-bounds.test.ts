/**
 * SPEC §14 on BigQuery: every scan of a run-history or calendar table in the statements `pem check`
 * runs has a constant range on its date column (both bounds made only of query parameters and
 * literals), so BigQuery prunes partitions and a check is billed for its window and baselines, not
 * the history's age. Proven on ZetaSQL's resolved AST (BigQuery's own front end) of the table
 * function's body, with its arguments as the query parameters the runner binds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../src/config/registry.js';
import { dataformProject } from '../../src/dataform/project.js';
import { calendarSources, extendsHistory, runSources } from '../../src/sql/health.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { renderHealthSql } from '../../src/sql/statements.js';
import { deployedCheckReads } from '../../bench/bytes-model.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { deployedFixture } from './support/deployed.js';
import { registryOf } from './support/fixtures.js';
import { SCENARIOS } from './support/scenarios.js';

const { healthAtBody } = dataformProject(loadTemplateBundle());
let zeta: ZetaSql;
beforeAll(async () => {
  zeta = await startZetaSql();
}, 60_000);
afterAll(() => zeta?.close());

type Node = Record<string, unknown>;

interface Scan {
  table: string;
  /** Whether a filter directly on the scan bounds the date column from below / above with a constant. */
  lower: boolean;
  upper: boolean;
}

/** Every node of the tree (objects only), depth first. */
function* nodes(value: unknown): Generator<Node> {
  if (Array.isArray(value)) for (const v of value) yield* nodes(v);
  else if (value !== null && typeof value === 'object') {
    yield value as Node;
    for (const v of Object.values(value)) yield* nodes(v);
  }
}

/** An expression made only of parameters, literals and functions of them: no column, no subquery. */
function isConstant(expr: unknown): boolean {
  for (const n of nodes(expr)) if ('resolved_column_ref_node' in n || 'resolved_subquery_expr_node' in n) return false;
  return true;
}

const call = (expr: unknown): { name: string; args: unknown[] } | null => {
  const node = (expr as Node | undefined)?.resolved_function_call_base_node as Node | undefined;
  const fn = node?.resolved_function_call_node as Node | undefined;
  if (!fn) return null;
  const base = fn.parent as Node;
  return { name: String((base.function as Node).name).replace(/^ZetaSQL:/, ''), args: (base.argument_list as unknown[]) ?? [] };
};

const columnIdOf = (expr: unknown): string | null => {
  const ref = (expr as Node | undefined)?.resolved_column_ref_node as Node | undefined;
  return ref ? String((ref.column as Node).column_id) : null;
};

/** The conjuncts of a filter (`a AND b AND c`). */
function conjuncts(expr: unknown): unknown[] {
  const c = call(expr);
  return c?.name === '$and' ? c.args.flatMap(conjuncts) : [expr];
}

const LOWER = new Set(['$greater_or_equal', '$greater']);
const UPPER = new Set(['$less_or_equal', '$less']);

/** Every scan of `tables` (name → its date column) in a resolved statement, with the bounds its filter puts on that column. */
function dateBoundedScans(tree: unknown, tables: ReadonlyMap<string, string>): Scan[] {
  const scans: Scan[] = [];
  const bounded = new Set<Node>();
  for (const n of nodes(tree)) {
    const filter = n.resolved_filter_scan_node as Node | undefined;
    const scan = (filter?.input_scan as Node | undefined)?.resolved_table_scan_node as Node | undefined;
    if (!filter || !scan) continue;
    const table = String((scan.table as Node).full_name);
    const dateColumn = tables.get(table);
    if (!dateColumn) continue;
    const columns = ((scan.parent as Node).column_list as Node[]) ?? [];
    const dateId = String(columns.find((c) => c.name === dateColumn)?.column_id ?? '');
    const found: Scan = { table, lower: false, upper: false };
    for (const conjunct of conjuncts(filter.filter_expr)) {
      const c = call(conjunct);
      if (!c || c.args.length !== 2) continue;
      const [left, right] = c.args;
      if (columnIdOf(left) !== dateId || !isConstant(right)) continue;
      if (LOWER.has(c.name)) found.lower = true;
      if (UPPER.has(c.name)) found.upper = true;
    }
    bounded.add(scan);
    scans.push(found);
  }
  // A scan with no filter of its own at all reads every partition.
  for (const n of nodes(tree)) {
    const scan = n.resolved_table_scan_node as Node | undefined;
    if (!scan || bounded.has(scan)) continue;
    const table = String((scan.table as Node).full_name);
    if (tables.has(table)) scans.push({ table, lower: false, upper: false });
  }
  return scans;
}

/** The run-history and calendar tables a registry's check reads, with their date columns. */
function historyTables(registry: Registry): Map<string, string> {
  const tables = new Map<string, string>();
  for (const s of runSources(registry)) tables.set(s.table, s.date_field);
  for (const c of calendarSources(registry.processors)) tables.set(c.table, c.date_field);
  return tables;
}

const PARAMS = { end_date: 'DATE', lookback_days: 'INT64', now: 'TIMESTAMP', processors: 'ARRAY<STRING>' };
const registries = [...new Map(SCENARIOS.map((s) => [s.name, s.fixture])).entries()];

describe('BigQuery partition pruning (SPEC §14)', () => {
  it.each(registries)('%s: every run-history and calendar scan of the deployed check has constant date bounds', async (_name, fixture) => {
    const registry = registryOf(fixture);
    const { catalog, lastSuccessName } = await deployedFixture(zeta, fixture, registry);
    // The table function's body with its arguments as the query parameters the runner binds.
    const body = healthAtBody(registry, (name) => name, lastSuccessName, '@');
    const scans = dateBoundedScans(await zeta.resolve(body, { catalog, params: PARAMS }), historyTables(registry));
    // Each execution-table branch read once for W and the baseline days, and once more for the dates
    // before them that thresholds and dependencies are evaluated over (SPEC §12) when those reach
    // further; each calendar read once (older history only through processor_last_success).
    const runScansPerTable = extendsHistory(registry) ? 2 : 1;
    expect(scans).toHaveLength(runSources(registry).length * runScansPerTable + calendarSources(registry.processors).length);
    expect(scans.filter((s) => !s.lower || !s.upper)).toEqual([]);
    // The bytes model (bench/bytes-model.ts) prices the scans it reads off the rendered SQL: the same ones.
    const historyScans = scans.filter((s) => runSources(registry).some((r) => r.table === s.table));
    expect(deployedCheckReads(registry).historyScans).toHaveLength(historyScans.length);
  });

  it('reads no table in the deployed check but the run history, calendars and processor_last_success (BigQuery bills 10 MB per table)', async () => {
    const [, fixture] = registries[0]!;
    const registry = registryOf(fixture);
    const read = deployedCheckReads(registry).tables.map((t) => t.split('.').slice(-2).join('.'));
    expect(read.sort()).toEqual([...new Set([...historyTables(registry).keys(), `${registry.dataset}.processor_last_success`])].sort());
  });

  it('tells an unbounded scan apart: the inline query searches older history for a last success', async () => {
    const [, fixture] = registries[0]!;
    const registry = registryOf(fixture);
    const { catalog } = await deployedFixture(zeta, fixture, registry);
    const scans = dateBoundedScans(await zeta.resolve(renderHealthSql('bigquery', registry), { catalog, params: PARAMS }), historyTables(registry));
    expect(scans.some((s) => !s.lower && s.upper)).toBe(true);
  });
});
