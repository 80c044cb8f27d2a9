// The last success of every processor (SPEC §14): one row per registered processor, its settings
// (processor_config's row) beside its latest success date, kept incrementally by Dataform, so the
// detection table function never scans history older than its window and baselines, and reads no
// table but this one and the run history (BigQuery bills at least 10 MB for each table a query reads). Kept by Dataform rather than by `pem check` after each run: the check stays read-only
// (no DML from the monitor, no contention with concurrent checks on a table with a streaming
// buffer), and a deployment that exists for the table function already runs on a schedule.
// Seeded by the first run (or `--full-refresh`) from the whole history; each later run re-reads the
// last pem_sql.LAST_SUCCESS_RESCAN_DAYS days of partitions, takes the settings from processor_config,
// and the post-operation deletes processors no longer registered (the MERGE never deletes).
publish(pem.objects.lastSuccess, {
  type: 'incremental',
  schema: pem.dataset,
  tags: pem.tags,
  uniqueKey: ['processor_name'],
  description: 'Every registered processor: its processor_config row and its latest success date over its whole history; read by processor_health_daily_at (SPEC §14).',
  assertions: { uniqueKey: ['processor_name'], nonNull: ['processor_name', 'execution_table', 'expected_frequency', 'timezone', 'enabled'] },
  columns: {
    processor_name: 'Registry key.',
    last_success_date: 'The latest processing date with a success state (SPEC §4); NULL: none yet.',
    built_through: 'The date of the run that last updated the row.',
  },
})
  .query((ctx) => pem_sql.lastSuccessQuery(ctx.ref(pem.objects.processorConfig), ctx.ref(pem.objects.processorRuns), ctx.self(), ctx.incremental()))
  .postOps((ctx) => pem_sql.lastSuccessPruneSql(ctx.self(), ctx.ref(pem.objects.processorConfig)));
