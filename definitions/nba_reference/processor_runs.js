// Every run of every registered processor, whatever table recorded it, in one shape with its state.
// Filter processing_date when reading it: BigQuery pushes the filter into each table's scan.
publish(pem.objects.processorRuns, {
  type: 'view',
  schema: pem.dataset,
  tags: pem.tags,
  description: 'Every run of every registered processor, normalised: one row per processor, processing_date and run_id with its state (SPEC §2). Filter processing_date to prune partitions.',
  columns: {
    processor_name: 'Registry key.',
    processing_date: 'The data date the run processes.',
    run_id: 'The run (a row hash when the table has no run id).',
    run_state: 'success, failed or running: the final row\'s class, else running.',
    started_at: 'Start of the run (UTC).',
    completed_at: 'End of the run (UTC), NULL while running.',
    error_type: 'Error type of the final failed row.',
    error_message: 'Error message of the final failed row.',
    records: 'Records the run wrote (records_field of its final success row; NULL otherwise).',
    duration_seconds: 'completed_at - started_at in seconds (NULL while running or without timestamps).',
  },
}).query((ctx) => pem_sql.processorRunsQuery(pem.registry, pem.resolver(ctx), ctx.ref(pem.objects.processorConfig)));
