/**
 * One check: render the detection SQL for the warehouse's dialect, run it once with bound
 * parameters, and group the rows. One query whatever the number of processors.
 */
import type { Registry } from '../config/registry.js';
import { renderCheckSql } from '../sql/statements.js';
import type { Warehouse } from '../warehouse/types.js';
import { checkParams, type CheckInputs } from './inputs.js';
import { buildCheckResult, type CheckResult } from './report.js';

export async function runCheck(warehouse: Warehouse, registry: Registry, inputs: CheckInputs): Promise<CheckResult> {
  const rows = inputs.processors.length === 0 ? [] : await warehouse.query(renderCheckSql(warehouse.dialect, registry), checkParams(inputs, registry));
  return buildCheckResult(rows, registry, inputs);
}
