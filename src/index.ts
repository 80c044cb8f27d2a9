/**
 * The library surface of processor-execution-monitor. The CLI (`pem`) is built on these.
 */
export { PemError, type PemErrorCode } from './errors.js';
export { loadRegistry, DEFAULT_REGISTRY_PATH } from './config/load.js';
export { parseRegistry, type Registry, type ProcessorConfig } from './config/registry.js';
export { resolveCheckInputs, type CheckInputs } from './check/inputs.js';
export { runCheck } from './check/run.js';
export type { CheckReport, CheckResult, ProcessorReport, DayReport, AlertReport } from './check/report.js';
export { renderHealthSql, renderCheckSql, renderSchemaSql } from './sql/health.js';
export { openDuckDb } from './warehouse/duckdb.js';
export { openWarehouse } from './warehouse/open.js';
export type { Warehouse, QueryParams, Row } from './warehouse/types.js';
export type { RunRow, RunError, RunStatus } from './record/row.js';
