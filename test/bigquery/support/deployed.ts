/**
 * The tables Dataform deploys beside the run history, as ZetaSQL sees them for a fixture:
 * `processor_config` (the registry as rows) and `processor_last_success` (its seed run: the config
 * rows with their last success over the fixture's whole history, through the `processor_runs` view),
 * each evaluated from the same SQL Dataform deploys, so the table function reads what a deployment
 * would hold.
 */
import type { Registry } from '../../../src/config/registry.js';
import { dataformProject } from '../../../src/dataform/project.js';
import { loadTemplateBundle } from '../../../src/sql/load.js';
import type { CatalogSpec, Columns, ZetaSql } from '../../support/zetasql.js';
import { zetaFixture, type Fixture } from './fixtures.js';

const { lastSuccessQuery, processorConfigQuery, processorRunsQuery } = dataformProject(loadTemplateBundle());

export interface DeployedFixture {
  catalog: CatalogSpec;
  content: Record<string, Record<string, unknown>[]>;
  configName: string;
  lastSuccessName: string;
}

export async function deployedFixture(zeta: ZetaSql, fixture: Fixture, registry: Registry): Promise<DeployedFixture> {
  const configName = `${registry.dataset}.processor_config`;
  const runsName = `${registry.dataset}.processor_runs`;
  const lastSuccessName = `${registry.dataset}.processor_last_success`;
  const columnsOf = (result: { columns: { name: string; type: string }[] }): Columns => Object.fromEntries(result.columns.map((c) => [c.name, c.type]));

  const config = await zeta.evaluate(processorConfigQuery(registry), { catalog: { tables: {} }, content: {} });
  const withConfig = zetaFixture(fixture, { [configName]: columnsOf(config) });
  withConfig.content[configName] = config.rows;
  const runs = await zeta.evaluate(processorRunsQuery(registry, (name) => name, configName), withConfig);
  withConfig.catalog.tables[runsName] = columnsOf(runs);
  withConfig.content[runsName] = runs.rows;
  const seed = await zeta.evaluate(lastSuccessQuery(configName, runsName, lastSuccessName, false), withConfig);
  withConfig.catalog.tables[lastSuccessName] = columnsOf(seed);
  withConfig.content[lastSuccessName] = seed.rows;
  return { ...withConfig, configName, lastSuccessName };
}
