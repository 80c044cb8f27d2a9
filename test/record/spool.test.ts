/**
 * A row `pem record` could not write is spooled beside the DuckDB file and added by the next open
 * that can (SPEC §2: nothing lost). While the table still refuses it, the check says so, once,
 * instead of the rows waiting unseen.
 */
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spoolDirOf } from '../../src/warehouse/duckdb-spool.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario;
const NOW = new Date('2025-10-08T06:00:00Z');

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
});
afterAll(() => scenario?.cleanup());

const target = () => ['--config', scenario.registryPath, '--database', scenario.databasePath];

describe('run rows spooled for a table that does not exist yet', () => {
  it('are named by every check while they wait, once each, and added once the table exists', async () => {
    const spool = spoolDirOf(scenario.databasePath);
    const recorded = [];
    for (const date of ['2025-10-06', '2025-10-07']) {
      const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', date, '--table', 'elsewhere.runs', ...target()], { now: NOW });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`kept in ${spool}`);
      recorded.push(run.stdout.trim());
    }
    expect(readdirSync(spool)).toHaveLength(2);

    const check = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', ...target()], { now: NOW });
    expect(check.code).toBe(0);
    expect(check.stderr.split('\n').filter((line) => line.includes(spool))).toEqual([
      `warning: 2 run rows kept in ${spool} cannot be added to elsewhere.runs yet: Catalog Error: Table with name "elsewhere.runs" does not exist because schema "elsewhere" does not exist; they stay there, and are added once the table accepts them`,
    ]);
    expect(readdirSync(spool)).toHaveLength(2);

    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      await warehouse.execute('CREATE SCHEMA elsewhere');
      await warehouse.execute('CREATE TABLE elsewhere.runs AS SELECT * FROM nba_reference.processor_run_history LIMIT 0');
    } finally {
      await warehouse.close();
    }
    const next = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', ...target()], { now: NOW });
    expect(next.code).toBe(0);
    expect(next.stderr).not.toContain(spool);
    expect(existsSync(spool) ? readdirSync(spool) : []).toEqual([]);
    const reopened = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await reopened.query('SELECT run_id FROM elsewhere.runs ORDER BY processing_date');
      expect(rows.map((row) => row.run_id)).toEqual(recorded);
    } finally {
      await reopened.close();
    }
  });
});
