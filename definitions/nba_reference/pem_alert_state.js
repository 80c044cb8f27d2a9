// The monitor's alert state (SPEC §5): append-only events (claimed, notified, resolved, released)
// that keep a run from re-sending what is open. Written by `pem check`; created here with the
// same DDL as `pem schema apply` (sql/alert_state_ddl.sql.hbs). An operation: never rebuilt.
operate(pem.objects.alertState, (ctx) => pem_sql.alertStateDdl(ctx.self()))
  .hasOutput(true)
  .schema(pem.dataset)
  .tags(pem.tags)
  .description('Processor Execution Monitor alert state: one row per alert event; the latest notified/resolved row per alert_key and destination is its state.');
