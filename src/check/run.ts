/**
 * One check: render the detection SQL for the warehouse's dialect, run it once with bound
 * parameters, and fold its rows (one per processor) into the check result as they stream in. One
 * query whatever the number of processors; the rows are never all held at once.
 */
import type { Registry } from '../config/registry.js';
import { renderCheckSql } from '../sql/statements.js';
import type { Warehouse } from '../warehouse/types.js';
import { checkParams, type CheckInputs } from './inputs.js';
import { CheckResultBuilder, type BuildOptions, type CheckResult } from './report.js';

export async function runCheck(
  warehouse: Warehouse,
  registry: Registry,
  inputs: CheckInputs,
  options: BuildOptions = { dayDetails: true },
): Promise<CheckResult> {
  const builder = new CheckResultBuilder(registry, inputs, options);
  if (inputs.processors.length > 0) {
    for await (const batch of warehouse.queryBatches(renderCheckSql(warehouse.dialect, registry), checkParams(inputs, registry))) {
      for (const row of batch) builder.addCheckRow(row);
    }
  }
  return builder.finish();
}
