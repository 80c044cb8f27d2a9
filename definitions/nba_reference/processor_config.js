// The processor registry (includes/processors.js) as a table, defaults applied (SPEC §3): the
// detection table function reads its settings from here, and analysts join it.
//
// A registry longer than one BigQuery query may be (1,024K characters: about 1,300 processors) is
// written in parts, each a table of its own built by its own query, and this table unions them.
const configParts = pem_sql.processorConfigParts(pem.registry);
if (configParts.length > 1) {
  configParts.forEach((query, i) => {
    publish(pem_sql.processorConfigPartName(i), {
      type: 'table',
      schema: pem.dataset,
      tags: pem.tags,
      description: `Part ${i + 1} of ${configParts.length} of processor_config, which unions them: the registry is too long for one BigQuery query.`,
    }).query(() => query);
  });
}

publish(pem.objects.processorConfig, {
  type: 'table',
  schema: pem.dataset,
  tags: pem.tags,
  description: 'Processor registry (includes/processors.js) with defaults applied: one row per processor.',
  assertions: { uniqueKey: ['processor_name'], nonNull: ['processor_name', 'execution_table', 'expected_frequency', 'timezone', 'enabled'] },
  columns: {
    processor_name: 'Registry key.',
    display_name: 'Human name shown in alerts.',
    execution_table: 'Table the processor\'s runs are recorded in.',
    processor_filter: 'Boolean SQL expression selecting the processor\'s rows of execution_table.',
    date_field: 'Processing-date column of execution_table.',
    status_field: 'Status column of execution_table.',
    run_id_field: 'Run id column; NULL: every row is its own run.',
    started_at_field: 'Start timestamp column, or NULL.',
    completed_at_field: 'End timestamp column, or NULL.',
    success_statuses: 'Status values that mean success.',
    failure_statuses: 'Status values that mean failure.',
    running_statuses: 'Status values that mean running.',
    expected_frequency: 'daily, weekdays, weekly, calendar or none.',
    expected_weekdays: 'Weekdays of a weekly processor (MON..SUN).',
    calendar_table: 'Table listing expected dates (calendar frequency).',
    calendar_date_field: 'Date column of calendar_table.',
    calendar_filter: 'Boolean SQL expression over calendar_table.',
    staleness_threshold_days: 'Days since the last success before the processor is stale.',
    timezone: 'IANA time zone of the processor\'s days.',
    grace_hours: 'Hours after the end of a day before it is due.',
    max_runtime_minutes: 'A running run older than this is hung; NULL: "auto" (from the duration baseline, SPEC §10).',
    enabled: 'Disabled processors are not checked.',
    priority: 'low, medium or high.',
    revenue_impact: 'Whether a failure costs money.',
    alert_on_recovered_failures: 'Alert on failures a later retry recovered.',
    slack_channel: 'Routing hint shown in alerts.',
    owners: 'Routing hint shown in alerts.',
    records_field: 'Column of execution_table holding the records a run wrote, or NULL.',
    baseline_days: 'Days before a date whose success dates form its baseline (SPEC §10).',
    baseline_min_dates: 'Fewest baseline dates with a value for a baseline to exist.',
    volume_min_ratio: 'low_volume below this times the records baseline; NULL: off.',
    volume_max_ratio: 'high_volume above this times the records baseline; NULL: off.',
    runtime_max_ratio: 'slow above this times the duration baseline; NULL: off.',
    runtime_min_excess_minutes: 'slow also needs the duration this many minutes over the baseline.',
  },
}).query((ctx) =>
  configParts.length === 1 ? configParts[0] : configParts.map((_, i) => `SELECT * FROM ${ctx.ref(pem_sql.processorConfigPartName(i))}`).join('\nUNION ALL\n'),
);
