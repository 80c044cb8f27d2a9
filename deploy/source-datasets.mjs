#!/usr/bin/env node
// Prints, one per line as `project:dataset`, the datasets of the registry's execution_table and
// calendar_table sources that lie outside the monitor's own dataset: deploy.sh grants the job's and
// Dataform's accounts BigQuery Data Viewer on each (Dataform declares those tables as sources).
// Exits 2 when --dataset is not the registry's `dataset`: deploy.sh runs it before changing anything.
//
//   node deploy/source-datasets.mjs --config=includes/processors.js --project=my-project --dataset=nba_reference
//
// The registry is read with the same loader and rules as Dataform's includes (includes/pem_sql.js).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);

try {
  const { values } = parseArgs({ options: { config: { type: 'string' }, project: { type: 'string' }, dataset: { type: 'string' } } });
  if (!values.config || !values.project || !values.dataset) throw new Error('usage: --config=REGISTRY --project=PROJECT --dataset=DATASET');
  const pemSql = require('../includes/pem_sql.js');
  const registry = pemSql.loadRegistry(require(resolve(values.config)));
  // Dataform deploys into its own project, so the registry's dataset cannot name another.
  if (registry.dataset.includes('.')) {
    const [project, dataset] = registry.dataset.split('.');
    throw new Error(
      `the registry's dataset '${registry.dataset}' (${values.config}) names a project, and the Dataform project and the job deploy into PROJECT_ID: give '${dataset}' as the registry's dataset and deploy with PROJECT_ID=${project} DATASET=${dataset}`,
    );
  }
  if (registry.dataset !== values.dataset) {
    throw new Error(
      `DATASET '${values.dataset}' is not the registry's dataset '${registry.dataset}' (${values.config}): pem schema apply and the job use the registry's, so deploy with DATASET=${registry.dataset}, or change the registry`,
    );
  }
  const datasets = new Set();
  for (const table of pemSql.sourceTables(registry)) {
    const parts = table.split('.');
    const [project, dataset] = parts.length === 3 ? parts : [values.project, parts[0]];
    if (project === values.project && dataset === values.dataset) continue;
    datasets.add(`${project}:${dataset}`);
  }
  for (const dataset of [...datasets].sort()) process.stdout.write(`${dataset}\n`);
} catch (error) {
  process.stderr.write(`deploy/source-datasets.mjs: ${String(error instanceof Error ? error.message : error).split('\n')[0]}\n`);
  process.exitCode = 2;
}
