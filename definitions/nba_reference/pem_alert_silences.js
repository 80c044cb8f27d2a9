// Alert silences (`pem silence add|list|remove`): append-only add/remove rows. Created with the
// same DDL as `pem schema apply` (sql/alert_silences_ddl.sql.hbs). An operation: never rebuilt.
operate(pem.objects.alertSilences, (ctx) => pem_sql.alertSilencesDdl(ctx.self()))
  .hasOutput(true)
  .schema(pem.dataset)
  .tags(pem.tags)
  .description('Processor Execution Monitor alert silences: add rows open a silence until silenced_until; a remove row with the same silence_id ends it.');
