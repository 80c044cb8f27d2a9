/**
 * One home for the monitor's names: its tables, the run statuses of SPEC §2, and the alert
 * routing table of SPEC §5. Everything else imports them from here instead of spelling them.
 */

/** Where `pem` reads the registry without `--config`: the Dataform project's include. */
export const DEFAULT_REGISTRY_PATH = 'includes/processors.js';

/** The monitor's own tables, each in the registry's dataset. */
export const TABLES = {
  /** The append-only run history of SPEC §2. */
  runHistory: 'processor_run_history',
  /** What was notified, claimed and resolved (SPEC §5 alert state). */
  alertState: 'pem_alert_state',
  /** Silences added with `pem silence add`. */
  alertSilences: 'pem_alert_silences',
  /** Reserved for SPEC §14's incrementally maintained last success (one row per processor). */
  lastSuccess: 'processor_last_success',
} as const;

export type TableRole = keyof typeof TABLES;

/**
 * The alert state columns added since its table was first made (the window lengths,
 * src/alerts/plan.ts): `alert_state_upgrade` adds them in place to a table an older pem made, in
 * `pem schema apply` and the Dataform operation; a runner reads and writes them when all are there.
 */
export const ALERT_STATE_ADDED_COLUMNS = ['lookback_days', 'raised_lookback_days'] as const;

/**
 * What only the Dataform workflow makes in the registry's dataset (`pem schema apply` does not):
 * the deployed objects beside the monitor's tables (`OBJECTS` in src/dataform/project.ts), which
 * `pem` reads on BigQuery.
 */
export const DATAFORM_ONLY_OBJECTS = {
  processorConfig: 'processor_config',
  processorRuns: 'processor_runs',
  healthAt: 'processor_health_daily_at',
  lastSuccess: TABLES.lastSuccess,
  healthDaily: 'processor_health_daily',
  health: 'processor_health',
  backfillQueue: 'processor_backfill_queue',
} as const;

export const DATAFORM_OBJECTS: readonly string[] = Object.values(DATAFORM_ONLY_OBJECTS);

/** `<dataset>.<table>` of one of the monitor's tables. */
export const tableIn = (registry: { dataset: string }, role: TableRole): string => `${registry.dataset}.${TABLES[role]}`;

export const runHistoryTable = (registry: { dataset: string }): string => tableIn(registry, 'runHistory');
export const alertStateTable = (registry: { dataset: string }): string => tableIn(registry, 'alertState');
export const alertSilencesTable = (registry: { dataset: string }): string => tableIn(registry, 'alertSilences');

/** The warehouses `pem` runs on (SPEC §6 `--engine`). */
export const ENGINES = ['duckdb', 'bigquery'] as const;
export type Engine = (typeof ENGINES)[number];

/** The statuses a run-history row may hold (SPEC §2). */
export const RUN_STATUSES = ['running', 'success', 'failed', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The statuses of a run's final row. */
export const FINAL_STATUSES = ['success', 'failed', 'skipped'] as const satisfies readonly RunStatus[];
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export type AlertLevel = 'CRITICAL' | 'ERROR' | 'WARNING' | 'INFO';
export type Destination = 'pagerduty' | 'slack' | 'console';

/**
 * SPEC §5: which destinations each alert level goes to. The check's alert plan
 * (`check/report.ts`) and the alert issues (`alerts/issues.ts`) both read it.
 */
export const ALERT_ROUTING = {
  CRITICAL: ['pagerduty', 'slack'],
  ERROR: ['slack'],
  WARNING: ['slack'],
  INFO: ['console'],
} as const satisfies Record<AlertLevel, readonly Destination[]>;

/** The longest trigger_source pem stores: a source is a word (scheduler, backfill), not a message. */
export const MAX_TRIGGER_CHARS = 256;

/**
 * What is wrong with a trigger source typed by a person (`--trigger`, PEM_TRIGGER_SOURCE), or null:
 * an empty one, a control character or 300 characters there are slips to say, not to store.
 */
export function triggerSourceProblem(label: string, value: string, example: string): string | null {
  if (value.trim() === '') return `${label} is empty: leave it out, or name what started the run, for example ${example}`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${label} '${value}' holds a control character`;
  if (value.length > MAX_TRIGGER_CHARS) return `${label} is longer than ${MAX_TRIGGER_CHARS} characters: name the source, for example ${example}`;
  return null;
}
