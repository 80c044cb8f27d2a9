/** `pem schema apply`: creates the contract tables in the chosen warehouse. Idempotent. */
import type { Command } from 'commander';
import { ALERT_STATE_ADDED_COLUMNS, alertSilencesTable, alertStateTable, runHistoryTable } from '../config/names.js';
import { alertStateTableOf } from '../alerts/state.js';
import { configError } from '../errors.js';
import { tableMismatches } from '../sql/run-history-columns.js';
import { renderSchemaSql } from '../sql/statements.js';
import { openWarehouse } from '../warehouse/open.js';
import { addExamples, addWarehouseOptions, configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';
import { projectQualifiedKeys, type Registry } from '../config/registry.js';
import type { Warehouse } from '../warehouse/types.js';

/**
 * The monitor's tables that exist with other columns than pem's DDL declares, each said with its
 * differences: the run history (SPEC §2), the alert state (less the columns an upgrade adds) and
 * the silences. Empty when each agrees or does not exist yet.
 */
async function foreignTables(warehouse: Warehouse, registry: Registry): Promise<string[]> {
  const upgradable = new Set<string>(ALERT_STATE_ADDED_COLUMNS);
  const tables = [
    { table: runHistoryTable(registry), template: 'run_history_ddl', what: "the run history's (SPEC §2)", optional: new Set<string>() },
    { table: alertStateTable(registry), template: 'alert_state_ddl', what: "pem's alert state", optional: upgradable },
    { table: alertSilencesTable(registry), template: 'alert_silences_ddl', what: "pem's silences", optional: new Set<string>() },
  ];
  const found: string[] = [];
  for (const { table, template, what, optional } of tables) {
    const mismatches = await tableMismatches(warehouse, template, table, optional);
    if (mismatches.length > 0) found.push(`${table} in ${warehouse.description} already exists with other columns than ${what}: ${mismatches.join('; ')}`);
  }
  return found;
}

export function registerSchemaCommand(program: Command, context: CliContext): void {
  const schema = program.command('schema').description("manage the monitor's tables");
  addExamples(schema, [['pem schema apply', 'create the tables in .pem/monitoring.duckdb']]);
  const apply = schema
    .command('apply')
    .description("create the run-history table and the monitor's own tables, and add the columns a table made by an older pem lacks (safe to re-run)")
    .addOption(configOption());
  addExamples(apply, [
    ['pem schema apply', 'in .pem/monitoring.duckdb, for the dataset of includes/processors.js'],
    ['pem schema apply --database /data/monitoring.duckdb', 'in another DuckDB file (created if absent)'],
    ['pem schema apply --engine bigquery --project my-project', 'in BigQuery (Dataform usually does this)'],
  ]);
  addWarehouseOptions(apply).action(async (flags: { config: string; engine?: string; database?: string; project?: string; location?: string }) => {
    const registry = await loadCheckedRegistry(flags.config);
    // No word yet about run rows a spool keeps for a table that does not exist: it may be one of these.
    const creating = await openWarehouse(flags, context.settings, { create: true, atStop: context.stop.atStop, projectKeys: projectQualifiedKeys(registry) });
    // The columns an existing alert state table gains (an upgrade), said once they are there.
    let added: readonly string[] = [];
    try {
      // A table of one of these names that is not pem's (other columns) is refused before anything
      // is created or altered: CREATE TABLE IF NOT EXISTS would keep it, the upgrade would add
      // columns to it, and every later statement would fail on it.
      const foreign = await foreignTables(creating, registry);
      if (foreign.length > 0) throw configError(`${foreign.join('. ')}: rename or drop ${foreign.length === 1 ? 'it' : 'them'}, or use another dataset`);
      const before = await alertStateTableOf(creating, alertStateTable(registry));
      for (const statement of renderSchemaSql(creating.dialect, registry)) await creating.execute(statement);
      added = before?.missing ?? [];
    } finally {
      await creating.close();
    }
    // Opened again once the tables exist: rows spooled for them (a `pem record` before the schema)
    // are added now, and what still cannot be is said.
    const warehouse = await openWarehouse(flags, context.settings, { create: false, warn: (message) => context.log.warn(message), atStop: context.stop.atStop });
    try {
      const tables = [runHistoryTable(registry), alertStateTable(registry), alertSilencesTable(registry)];
      context.stdout.write(`schema applied to ${warehouse.description}: ${tables.join(', ')}\n`);
      if (added.length > 0) context.stdout.write(`added to ${alertStateTable(registry)}: ${added.join(', ')} (its rows kept)\n`);
    } finally {
      await warehouse.close();
    }
  });
}
