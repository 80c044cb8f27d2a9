// The processor registry (SPEC §3): one file shared by Dataform (as `processors` in SQLX/JS
// definitions) and by the `pem` runner (`--config includes/processors.js`, the default).
// Keys are snake_case because they are also the columns of the processor_config table.
module.exports = {
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  renotify_hours: 24,
  processors: {
    gamebook_processor: {
      display_name: 'Gamebook registry processor',
      execution_table: 'nba_reference.processor_run_history',
      processor_filter: "processor_name = 'gamebook'",
      date_field: 'processing_date',
      status_field: 'status',
      expected_frequency: 'daily',
      staleness_threshold_days: 2,
      enabled: true,
      priority: 'high',
      revenue_impact: true,
    },
    roster_processor: {
      display_name: 'Roster registry processor',
      execution_table: 'nba_reference.processor_run_history',
      processor_filter: "processor_name = 'roster'",
      date_field: 'processing_date',
      status_field: 'status',
      expected_frequency: 'daily',
      staleness_threshold_days: 3,
      enabled: true,
      priority: 'medium',
      revenue_impact: false,
    },
  },
};
