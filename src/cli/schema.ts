/** `pem schema apply`: creates the contract tables in the chosen warehouse. Idempotent. */
import type { Command } from 'commander';
import { alertSilencesTable, alertStateTable, runHistoryTable } from '../config/names.js';
import { alertStateTableOf } from '../alerts/state.js';
import { configError } from '../errors.js';
import { runHistoryMismatches } from '../sql/run-history-columns.js';
import { renderSchemaSql } from '../sql/statements.js';
import { openWarehouse } from '../warehouse/open.js';
import { addExamples, addWarehouseOptions, configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';
import { projectQualifiedKeys } from '../config/registry.js';

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
      // CREATE TABLE IF NOT EXISTS keeps a table that was there before, whatever its columns.
      const runHistory = runHistoryTable(registry);
      const mismatches = await runHistoryMismatches(warehouse, runHistory);
      if (mismatches.length > 0) {
        throw configError(`${runHistory} in ${warehouse.description} already exists with other columns than the run history's (SPEC §2): ${mismatches.join('; ')}`);
      }
      const tables = [runHistoryTable(registry), alertStateTable(registry), alertSilencesTable(registry)];
      context.stdout.write(`schema applied to ${warehouse.description}: ${tables.join(', ')}\n`);
      if (added.length > 0) context.stdout.write(`added to ${alertStateTable(registry)}: ${added.join(', ')} (its rows kept)\n`);
    } finally {
      await warehouse.close();
    }
  });
}
