// The analysts' form of the detection: processor_health_daily(end_date, lookback_days), evaluated
// now, for the enabled processors (what `pem check` checks by default).
operate(pem.objects.healthDaily, (ctx) =>
  pem_sql.healthDailyDdl(ctx.self(), ctx.ref(pem.objects.healthAt), ctx.ref(pem.objects.processorConfig)),
)
  .hasOutput(true)
  .schema(pem.dataset)
  .tags(pem.tags)
  .description('processor_health_daily(end_date DATE, lookback_days INT64): health of every enabled processor per date of the window, as of now.');
