/**
 * The statements the runner sends (`pem check`, `pem schema apply`, `pem sql`), rendered from the
 * templates on disk (`sql/load.ts`) or by a renderer given explicitly.
 */
import { ALERT_STATE_ADDED_COLUMNS, alertSilencesTable, alertStateTable, runHistoryTable } from '../config/names.js';
import type { Registry } from '../config/registry.js';
import { healthContext, type HealthRenderOptions } from './health.js';
import { rendererFor } from './load.js';
import type { Dialect, SqlRenderer } from './render.js';

export function renderHealthSql(
  dialect: Dialect | SqlRenderer,
  registry: Registry,
  options: HealthRenderOptions = { selectProcessors: true },
): string {
  const renderer = rendererFor(dialect);
  return renderer.render('processor_health_daily', healthContext(registry, options, renderer.templates));
}

/**
 * The statements `pem schema apply` runs: the dataset, the contract run-history table, and the
 * alert state (with the columns an older table lacks, added in place) and silences tables.
 */
export function renderSchemaSql(dialect: Dialect | SqlRenderer, registry: Registry): string[] {
  const renderer = rendererFor(dialect);
  return [
    renderer.render('create_dataset', { dataset: registry.dataset }),
    renderer.render('run_history_ddl', { table: runHistoryTable(registry) }),
    renderer.render('alert_state_ddl', { table: alertStateTable(registry) }),
    ...ALERT_STATE_ADDED_COLUMNS.map((column) => renderer.render('alert_state_upgrade', { table: alertStateTable(registry), column })),
    renderer.render('alert_silences_ddl', { table: alertSilencesTable(registry) }),
  ];
}

/**
 * The statement `pem check` sends: per row the processor, its verdict (as JSON, on its first date)
 * and the day (as JSON): `check_columns`. On DuckDB it holds the whole detection query; on
 * BigQuery it reads the table function Dataform deployed (the `check_query` partial of each dialect).
 * `readsOf`: the processors whose run history and calendars it reads (HealthRenderOptions.readsOf;
 * default all).
 */
export function renderCheckSql(dialect: Dialect | SqlRenderer, registry: Registry, readsOf?: ReadonlySet<string>): string {
  const renderer = rendererFor(dialect);
  const context = healthContext(registry, { selectProcessors: true, configParam: true, orderRows: false, readsOf }, renderer.templates);
  return renderer.render('check', { ...context, dataset: registry.dataset });
}

/** A read of nothing from `table` (table_probe.sql.hbs): it fails only when the table cannot be read. */
export function renderTableProbeSql(dialect: Dialect | SqlRenderer, table: string): string {
  return rendererFor(dialect).render('table_probe', { table });
}

/** The statement `pem backtest` reads its change instants with: row starts and ends in a period (backtest_events.sql.hbs). */
export function renderBacktestEventsSql(dialect: Dialect | SqlRenderer, registry: Registry, readsOf?: ReadonlySet<string>): string {
  const renderer = rendererFor(dialect);
  return renderer.render('backtest_events', { ...healthContext(registry, { selectProcessors: true, wholeHistory: true, readsOf }, renderer.templates), dataset: registry.dataset });
}
