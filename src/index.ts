/**
 * The library surface of processor-execution-monitor. The CLI (`pem`) is built on these.
 */
export { PemError, type PemErrorCode } from './errors.js';
export { readSettings, type Settings, type Environment } from './config/env.js';
export { TABLES, RUN_STATUSES, ALERT_ROUTING } from './config/names.js';
export { loadRegistry, DEFAULT_REGISTRY_PATH } from './config/load.js';
export { parseRegistry, type Registry, type ProcessorConfig } from './config/registry.js';
export { resolveCheckInputs, type CheckInputs } from './check/inputs.js';
export { runCheck } from './check/run.js';
export type { CheckReport, CheckResult, ProcessorReport, DayReport, AlertReport } from './check/report.js';
export { renderHealthSql, renderCheckSql, renderSchemaSql } from './sql/statements.js';
export { openDuckDb } from './warehouse/duckdb.js';
export { openWarehouse } from './warehouse/open.js';
export type { Warehouse, QueryParams, Row } from './warehouse/types.js';
export type { RunRow, RunError, RunStatus } from './warehouse/run-row.js';
export { deliverAlerts, transportsFor, type DeliverOptions, type DeliveryResult, type Transports } from './alerts/deliver.js';
export { buildSlackMessage, type SlackMessage } from './alerts/slack-message.js';
export { buildPagerDutyTrigger, buildPagerDutyResolve, type PagerDutyEvent } from './alerts/pagerduty-event.js';
export { TransportError, type Transport } from './alerts/transport.js';
export {
  RunRecorder,
  createRunRecorder,
  DEFAULT_RECORD_TIMEOUT_MS,
  FINAL_STATUSES,
  type FinalStatus,
  type RunRecorderOptions,
  type RunStartOptions,
  type RunCompleteOptions,
  type RecordsCount,
  type RunContext,
} from './record/recorder.js';
export { openRunSink, duckDbFileSink, warehouseRunSink, type RunSink, type RunTarget } from './record/sink.js';
export { runErrorFrom, MAX_ERROR_MESSAGE_CHARS } from './record/run-error.js';
export { newRunId, parseRunId, type RunIdParts } from './record/run-id.js';
export { MONITOR_PROCESSOR } from './cli/self-record.js';
