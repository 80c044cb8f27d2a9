import { afterAll, describe, expect, it } from 'vitest';
import { createScenario, type Scenario } from '../support/scenario.js';

describe('pem check on an empty run history', () => {
  let scenario: Scenario;
  afterAll(() => scenario?.cleanup());

  it('reports every due date missing and a scheduler issue', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { a: {} } });
    const { code, json } = await scenario.check(['--json-output', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
    expect(code).toBe(0);
    expect(json.processors[0].missing_dates).toHaveLength(7);
    expect(json.processors[0].scheduler_issue).toBe(true);
    expect(json.level).toBe('CRITICAL');
  });
});

describe('the default dataset in the default database file', () => {
  it('applies the schema and checks (monitoring.processor_run_history in monitoring.duckdb)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('../support/cli.js');
    const { openDuckDb } = await import('../../src/warehouse/duckdb.js');
    const { toRunRow } = await import('../support/scenario.js');
    const dir = mkdtempSync(join(tmpdir(), 'pem-default-'));
    try {
      const config = join(dir, 'processors.json');
      const database = join(dir, 'monitoring.duckdb');
      writeFileSync(config, JSON.stringify({ processors: { a: {} } }));
      expect((await runCli(['schema', 'apply', '--config', config, '--database', database])).code).toBe(0);
      const warehouse = await openDuckDb({ path: database, create: false });
      await warehouse.insertRunRows('monitoring.processor_run_history', [
        toRunRow({ run_id: 'r', processor_name: 'a', processing_date: '2025-10-07', status: 'success', started_at: '2025-10-08T01:00:00Z', completed_at: '2025-10-08T01:05:00Z' }),
      ]);
      await warehouse.close();
      const run = await runCli(['check', '--config', config, '--database', database, '--json-output', '--date', '2025-10-07', '--lookback-days', '1', '--dry-run']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).processors[0].days).toEqual([
        { date: '2025-10-07', status: 'success', runs: 1, failed_runs: 0, anomalies: [], records: null, duration_seconds: 300, baseline_records: null, baseline_duration_seconds: null },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
