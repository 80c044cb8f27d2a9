/**
 * `processor_last_success` (SPEC §14): the one table besides the run history that the deployed
 * check reads, so it carries each registered processor's `processor_config` row beside its last
 * success. Its seed and incremental queries run here on ZetaSQL's evaluator over a scenario, as
 * Dataform would run them (test/bigquery/support/deployed.ts builds the seed the same way).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataformProject } from '../../src/dataform/project.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { deployedFixture, type DeployedFixture } from './support/deployed.js';
import { registryOf } from './support/fixtures.js';
import { SCENARIOS } from './support/scenarios.js';

const { lastSuccessQuery } = dataformProject(loadTemplateBundle());
const fixture = SCENARIOS[0]!.fixture;
const registry = registryOf(fixture);
let zeta: ZetaSql;
let deployed: DeployedFixture;
beforeAll(async () => {
  zeta = await startZetaSql();
  deployed = await deployedFixture(zeta, fixture, registry);
}, 60_000);
afterAll(() => zeta?.close());

const runsName = `${registry.dataset}.processor_runs`;
const byName = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [r.processor_name as string, r]));

describe('processor_last_success', () => {
  it('is seeded with one row per registered processor: its config row and its latest success, NULL when none', () => {
    const seeded = byName(deployed.content[deployed.lastSuccessName]!);
    const latestSuccess = new Map<string, string>();
    for (const run of deployed.content[runsName]!) {
      if (run.run_state !== 'success') continue;
      const [name, date] = [run.processor_name as string, run.processing_date as string];
      if (!latestSuccess.has(name) || latestSuccess.get(name)! < date) latestSuccess.set(name, date);
    }
    expect([...seeded.keys()].sort()).toEqual(registry.processors.map((p) => p.name).sort());
    for (const config of deployed.content[deployed.configName]!) {
      const { last_success_date, built_through, ...settings } = seeded.get(config.processor_name as string)!;
      expect(settings).toEqual(config);
      expect(last_success_date).toBe(latestSuccess.get(config.processor_name as string) ?? null);
      expect(built_through).not.toBeNull();
    }
    expect([...latestSuccess.keys()].length).toBeGreaterThan(0);
  });

  it('on an incremental run keeps a later stored success, refreshes the settings, and leaves out processors no longer registered', async () => {
    const [first] = registry.processors;
    const stored = deployed.content[deployed.lastSuccessName]!.map((row) =>
      row.processor_name === first!.name ? { ...row, display_name: 'an old display name', last_success_date: '2099-01-01' } : row,
    );
    stored.push({ ...stored[0]!, processor_name: 'retired_processor', last_success_date: '2024-01-01' });
    const result = await zeta.evaluate(lastSuccessQuery(deployed.configName, runsName, deployed.lastSuccessName, true), {
      catalog: deployed.catalog,
      content: { ...deployed.content, [deployed.lastSuccessName]: stored },
    });
    const rows = byName(result.rows);
    expect([...rows.keys()].sort()).toEqual(registry.processors.map((p) => p.name).sort());
    expect(rows.get(first!.name)!.last_success_date).toBe('2099-01-01');
    expect(rows.get(first!.name)!.display_name).toBe(first!.display_name);
  });
});
