// The contract run history (SPEC §2): append-only, written by `pem record` / RunRecorder through
// the streaming API. An operation, not a Dataform table: a table would be rebuilt on every run and
// lose the history. Same DDL as `pem schema apply` (sql/run_history_ddl.sql.hbs):
// PARTITION BY processing_date CLUSTER BY processor_name, status.
operate(pem.objects.runHistory, (ctx) => pem_sql.runHistoryDdl(ctx.self()))
  .hasOutput(true)
  .schema(pem.dataset)
  .tags(pem.tags)
  .description('Processor run history: one row when a run starts (running) and one when it ends (success, failed, skipped), sharing run_id. Append-only.')
  .columns(pem.columnDescriptors({
    run_id: 'One run attempt; its start and end rows share it.',
    processor_name: 'The processor (registry key for the standard table).',
    processing_date: 'The data date this run processes (partitioning column).',
    status: 'running, success, failed or skipped.',
    started_at: 'When the run started (UTC).',
    completed_at: 'When the run ended (UTC); NULL on a running row.',
    records_processed: 'Rows the run processed.',
    errors: 'Errors of a failed run: error_type, error_message.',
    trigger_source: 'scheduler, manual, backfill, ...',
    metadata: 'Free-form JSON.',
  }));
