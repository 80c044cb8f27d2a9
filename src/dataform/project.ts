/**
 * The SQL of every object the Dataform project (definitions/) deploys to BigQuery, rendered from
 * the same `sql/` templates as the runner's queries: the detection logic exists once.
 *
 * Dataform includes cannot read files, so the templates arrive explicitly: scripts/bundle-sql.mjs
 * bundles this module, the renderer and the templates into includes/pem_sql.js (CommonJS), whose
 * exports are `dataformProject(<the bundled templates>)`. Definitions call it as
 * `pem_sql.<function>`; nothing here knows about Dataform's API: names arrive resolved.
 */
import { ALERT_STATE_ADDED_COLUMNS, DATAFORM_ONLY_OBJECTS, FINAL_STATUSES, RUN_STATUSES, TABLES } from '../config/names.js';
import { parseRegistry, type Registry } from '../config/registry.js';
import { renderBackfillQueueSql } from '../report/queue.js';
import { healthContext, processorConfigRows, type CalendarSource, type RunSource } from '../sql/health.js';
import { createSqlRenderer, type TemplateBundle } from '../sql/render.js';

/** The deployed objects' names inside the registry's dataset. */
export const OBJECTS = {
  runHistory: TABLES.runHistory,
  ...DATAFORM_ONLY_OBJECTS,
  alertState: TABLES.alertState,
  alertSilences: TABLES.alertSilences,
} as const;

/** The arguments of the runner's table function, prefixed so that they never shadow a column. */
export const HEALTH_AT_ARGUMENTS = [
  { name: 'pem_end_date', type: 'DATE' },
  { name: 'pem_lookback_days', type: 'INT64' },
  { name: 'pem_now', type: 'TIMESTAMP' },
] as const;
export const HEALTH_DAILY_ARGUMENTS = [
  { name: 'end_date', type: 'DATE' },
  { name: 'lookback_days', type: 'INT64' },
] as const;

/**
 * Maps a table name as the registry writes it (`dataset.table` or `project.dataset.table`) to the
 * full name the deployment uses (`project.dataset.table`, Dataform's `ref()` without backticks).
 */
export type ResolveTable = (name: string) => string;

/** `` `p.d.t` `` → `p.d.t`: Dataform's `self()`/`ref()` quote; the templates quote themselves. */
export function unquote(name: string): string {
  return name.replace(/`/g, '');
}

/** The registry with SPEC §3's defaults, or an error listing every problem (Dataform shows it). */
export function loadRegistry(document: unknown): Registry {
  const result = parseRegistry(document);
  if (!result.ok) throw new Error(`invalid processor registry (includes/processors.js):\n  - ${result.problems.join('\n  - ')}`);
  return result.registry;
}

/** Every table the detection reads that the project does not create: execution and calendar tables. */
export function sourceTables(registry: Registry): string[] {
  const own = new Set([`${registry.dataset}.${OBJECTS.runHistory}`]);
  const names = new Set<string>();
  for (const p of registry.processors) {
    if (!own.has(p.execution_table)) names.add(p.execution_table);
    if (p.calendar_table && !own.has(p.calendar_table)) names.add(p.calendar_table);
  }
  return [...names].sort();
}

/**
 * `processor_health_daily(end_date, lookback_days)`: the analysts' form, evaluated now, for the
 * enabled processors (what `pem check` checks when no `--processors` is given).
 */
export function healthDailyDdl(name: string, healthAt: string, configTable: string): string {
  const args = HEALTH_DAILY_ARGUMENTS.map((a) => `${a.name} ${a.type}`).join(', ');
  return [
    `CREATE OR REPLACE TABLE FUNCTION \`${unquote(name)}\`(${args})`,
    `OPTIONS (description = ${JSON.stringify('Processor Execution Monitor: the health of every enabled processor for each date of [end_date - lookback_days + 1, end_date], as of now.')})`,
    'AS',
    'SELECT h.*',
    `FROM \`${unquote(healthAt)}\`(end_date, lookback_days, CURRENT_TIMESTAMP()) AS h`,
    `WHERE h.processor_name IN (SELECT c.processor_name FROM \`${unquote(configTable)}\` AS c WHERE c.enabled)`,
  ].join('\n');
}

/**
 * The longest `processor_config` query the project deploys as one. BigQuery refuses a query over
 * 1,024K characters, comments and white space included
 * (https://cloud.google.com/bigquery/quotas#query_jobs), and the registry as literal rows is about
 * 800 characters a processor: 1,300 processors with every default already passed it. The rest is
 * left for what Dataform wraps around the SELECT (CREATE OR REPLACE TABLE, its options).
 */
export const MAX_CONFIG_QUERY_CHARS = 900_000;

/** Registry rows rendered per call when `processor_config` is written in parts. */
const CONFIG_ROWS_PER_RENDER = 100;

/** The table holding part `index` (0-based) of a registry too long for one `processor_config` query. */
export function processorConfigPartName(index: number): string {
  return `${OBJECTS.processorConfig}_part_${index + 1}`;
}

/** How many days back each incremental run of `processor_last_success` re-reads (late final rows, backfills). */
export const LAST_SUCCESS_RESCAN_DAYS = 35;

/**
 * The project's SQL, rendered from `templates` (includes/pem_sql.js passes the bundled `sql/`; the
 * tests pass `loadTemplateBundle()`), with the constants and helpers the definitions use.
 */
export function dataformProject(templates: TemplateBundle) {
  const bigquery = createSqlRenderer('bigquery', templates);

  /** `CREATE TABLE IF NOT EXISTS` for the contract run history: the same DDL as `pem schema apply`. */
  function runHistoryDdl(table: string): string {
    return bigquery.render('run_history_ddl', { table: unquote(table) });
  }

  /**
   * `CREATE TABLE IF NOT EXISTS` for the alert state (SPEC §5), then the columns a table created by
   * an older version lacks (`ALTER TABLE … ADD COLUMN IF NOT EXISTS`): the same statements as
   * `pem schema apply`, so a deployed table is upgraded in place by the next workflow run.
   */
  function alertStateDdl(table: string): string[] {
    return [
      bigquery.render('alert_state_ddl', { table: unquote(table) }),
      ...ALERT_STATE_ADDED_COLUMNS.map((column) => bigquery.render('alert_state_upgrade', { table: unquote(table), column })),
    ];
  }

  /** `CREATE TABLE IF NOT EXISTS` for the alert silences: the same DDL as `pem schema apply`. */
  function alertSilencesDdl(table: string): string {
    return bigquery.render('alert_silences_ddl', { table: unquote(table) });
  }

  /** The SELECT of the `processor_config` table: the registry as rows. */
  function processorConfigQuery(registry: Registry): string {
    return bigquery.render('processor_config', { processors: processorConfigRows(registry.processors) });
  }

  /**
   * The registry as `processor_config` SELECTs of at most `maxChars` each, processors in registry
   * order: one (the table's own query, `processorConfigQuery`'s text) while the registry fits, else
   * one per part table (processorConfigPartName), which the table then unions. Rows are rendered
   * once, a hundred at a time (rendering is most of a 10,000-processor compilation, and each call
   * renders the column types again: rendered one by one, or the whole first, they came to
   * Dataform's 60-second bound), and measured as rendered, so long filters make smaller parts.
   */
  function processorConfigParts(registry: Registry, maxChars = MAX_CONFIG_QUERY_CHARS): string[] {
    const rows = processorConfigRows(registry.processors);
    const render = (part: typeof rows) => bigquery.render('processor_config', { processors: part });
    // The literal around the rows, cut where they go (where a rendering with rows first differs
    // from one without); the template puts `,\n` between rows.
    const frame = render([]);
    let cut = -1;
    const rowsText = (batch: typeof rows) => {
      const text = render(batch);
      if (cut < 0) for (cut = 0; cut < frame.length && frame[cut] === text[cut]; cut++);
      return text.slice(cut, text.length - (frame.length - cut));
    };
    // Batches of rows as text; one that would not fit a part alone (very long filters) row by row.
    const pieces: string[] = [];
    for (let i = 0; i < rows.length; i += CONFIG_ROWS_PER_RENDER) {
      const batch = rows.slice(i, i + CONFIG_ROWS_PER_RENDER);
      const text = rowsText(batch);
      if (frame.length + text.length <= maxChars || batch.length === 1) pieces.push(text);
      else pieces.push(...batch.map((row) => rowsText([row])));
    }
    const parts: string[][] = [];
    let part: string[] = [];
    let size = frame.length;
    for (const piece of pieces) {
      if (part.length > 0 && size + 2 + piece.length > maxChars) {
        parts.push(part);
        part = [];
        size = frame.length;
      }
      size += piece.length + (part.length > 0 ? 2 : 0);
      part.push(piece);
    }
    parts.push(part);
    return parts.map((p) => `${frame.slice(0, cut)}${p.join(',\n')}${frame.slice(cut)}`);
  }

  function resolvedHealthContext(
    registry: Registry,
    resolve: ResolveTable,
    configTable: string,
    options: { wholeHistory: boolean; paramPrefix: string | null; lastSuccessTable?: string | null },
  ) {
    const context = healthContext(
      registry,
      {
        selectProcessors: false,
        orderRows: false,
        paramPrefix: options.paramPrefix,
        configTable: unquote(configTable),
        wholeHistory: options.wholeHistory,
        lastSuccessTable: options.lastSuccessTable ? unquote(options.lastSuccessTable) : null,
      },
      templates,
    );
    return {
      ...context,
      run_sources: (context.run_sources as RunSource[]).map((s) => ({ ...s, table: unquote(resolve(s.table)) })),
      calendar_sources: (context.calendar_sources as CalendarSource[]).map((s) => ({ ...s, table: unquote(resolve(s.table)) })),
    };
  }

  /** The `processor_runs` view: every run, normalised, over the whole history. */
  function processorRunsQuery(registry: Registry, resolve: ResolveTable, configTable: string): string {
    return bigquery.render('processor_runs', resolvedHealthContext(registry, resolve, configTable, { wholeHistory: true, paramPrefix: null }));
  }

  /**
   * The body of `processor_health_daily_at`: the detection query over the function's arguments
   * (`paramPrefix` 'pem_'; '@' gives the same body over query parameters, as the partition-bounds
   * test analyses it), reading its config and the last success before its scans from
   * `lastSuccessTable` (`processor_last_success`): with the run history, the only tables it reads,
   * since BigQuery bills at least 10 MB for each (SPEC §14).
   */
  function healthAtBody(registry: Registry, resolve: ResolveTable, lastSuccessTable: string, paramPrefix = 'pem_'): string {
    return bigquery.render(
      'processor_health_daily',
      resolvedHealthContext(registry, resolve, lastSuccessTable, { wholeHistory: false, paramPrefix, lastSuccessTable }),
    );
  }

  /**
   * The SELECT of `processor_last_success`: one row per registered processor, its `processor_config`
   * row and its latest success date over the whole history (the `processor_runs` view's run states,
   * so the same rule as the detection; NULL: none). Dataform keeps it incrementally (`incremental`):
   * each run reads only the last `rescanDays` of partitions (a constant bound: pruned) and keeps the
   * later of that and the stored date; the first run, or `--full-refresh`, seeds it from the whole
   * history.
   */
  function lastSuccessQuery(configTable: string, runsView: string, self: string, incremental: boolean, rescanDays = LAST_SUCCESS_RESCAN_DAYS): string {
    return bigquery.render('processor_last_success', {
      config_table: unquote(configTable),
      runs_view: unquote(runsView),
      self: unquote(self),
      incremental,
      rescan_days: rescanDays,
    });
  }

  /** The post-operation of `processor_last_success`: deletes the processors no longer registered (a MERGE never deletes). */
  function lastSuccessPruneSql(self: string, configTable: string): string {
    return bigquery.render('processor_last_success_prune', { self: unquote(self), config_table: unquote(configTable) });
  }

  /**
   * `processor_health_daily_at(pem_end_date, pem_lookback_days, pem_now)`: one row per processor
   * (every registered one, disabled too: `pem check --processors` may name them) and date of the
   * window. `pem check --engine bigquery` reads it with one query.
   */
  function healthAtDdl(name: string, registry: Registry, resolve: ResolveTable, lastSuccessTable: string): string {
    const args = HEALTH_AT_ARGUMENTS.map((a) => `${a.name} ${a.type}`).join(', ');
    return [
      `CREATE OR REPLACE TABLE FUNCTION \`${unquote(name)}\`(${args})`,
      `OPTIONS (description = ${JSON.stringify('Processor Execution Monitor: one row per processor and date of [pem_end_date - pem_lookback_days + 1, pem_end_date], evaluated at pem_now (SPEC §4). Read by `pem check --engine bigquery`.')})`,
      'AS',
      healthAtBody(registry, resolve, lastSuccessTable).trimEnd(),
    ].join('\n');
  }

  function hasTemplate(name: string): boolean {
    return name in templates.templates;
  }

  /**
   * The body of the `processor_backfill_queue` view (`pem gaps` as a view): the runner's own
   * rendering, with the registry's dataset resolved to the deployment's (`project.dataset`).
   */
  function backfillQueueQuery(registry: Registry, dataset: string, lookbackDays?: number): string {
    return renderBackfillQueueSql(bigquery, { ...registry, dataset: unquote(dataset) }, lookbackDays);
  }

  return {
    OBJECTS,
    // SPEC §2's run statuses, from their one home (`config/names.ts`), for the definitions' assertions.
    FINAL_STATUSES,
    RUN_STATUSES,
    HEALTH_AT_ARGUMENTS,
    HEALTH_DAILY_ARGUMENTS,
    unquote,
    loadRegistry,
    sourceTables,
    healthDailyDdl,
    runHistoryDdl,
    alertStateDdl,
    alertSilencesDdl,
    processorConfigQuery,
    processorConfigParts,
    processorConfigPartName,
    MAX_CONFIG_QUERY_CHARS,
    processorRunsQuery,
    healthAtBody,
    healthAtDdl,
    lastSuccessQuery,
    lastSuccessPruneSql,
    LAST_SUCCESS_RESCAN_DAYS,
    hasTemplate,
    backfillQueueQuery,
  };
}

/** What includes/pem_sql.js exports. */
export type DataformProject = ReturnType<typeof dataformProject>;
