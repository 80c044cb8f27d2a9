// The detection (SPEC §4) as a table function: one row per processor and date of the window, with
// the processor's verdict. `pem check --engine bigquery` sends one query over it, with typed
// parameters; its body is rendered from sql/partials/processor_health_daily.hbs, the same template
// the DuckDB engine runs. Every registered processor is included (disabled ones may be named).
operate(pem.objects.healthAt, (ctx) =>
  pem_sql.healthAtDdl(ctx.self(), pem.registry, pem.resolver(ctx), ctx.ref(pem.objects.lastSuccess)),
)
  .hasOutput(true)
  .schema(pem.dataset)
  .tags(pem.tags)
  .description('processor_health_daily_at(pem_end_date DATE, pem_lookback_days INT64, pem_now TIMESTAMP): processor health per date, as of pem_now. Read by pem check.');
