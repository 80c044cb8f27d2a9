/**
 * Rows the check cannot use are said, one stderr line per processor, instead of silently reading
 * as "never succeeded" or "running forever": statuses in none of the processor's lists, and
 * running runs without started_at. The detection SQL counts them; stdout stays the JSON document.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';

const ARGS = ['--json-output', '--dry-run', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z'];

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

function row(run_id: string, processor_name: string, status: string, started_at: string | null, completed_at: string | null = null): RowSpec {
  return { run_id, processor_name, processing_date: '2025-10-06', status, started_at, completed_at };
}

describe('pem check', () => {
  it('says which processors have rows whose status is in none of their lists, one line each', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { upper: {}, spaced: {}, fine: {} } }, [
      row('u1', 'upper', 'SUCCESS', '2025-10-07T10:00:00Z', '2025-10-07T10:05:00Z'),
      row('u2', 'upper', 'SUCCESS', '2025-10-06T10:00:00Z', '2025-10-06T10:05:00Z'),
      row('s1', 'spaced', ' success', '2025-10-07T10:00:00Z', '2025-10-07T10:05:00Z'),
      row('f1', 'fine', 'success', '2025-10-07T10:00:00Z', '2025-10-07T10:05:00Z'),
    ]);
    const run = await scenario.check(ARGS);
    expect(run.code).toBe(0);
    expect(run.json.processors.map((p: { name: string }) => p.name)).toEqual(['fine', 'spaced', 'upper']);
    expect(run.stderr.trim().split('\n')).toEqual([
      'warning: spaced: 1 row has a status in none of success_statuses, failure_statuses, running_statuses, for example " success": counted as no run',
      'warning: upper: 2 rows have statuses in none of success_statuses, failure_statuses, running_statuses, for example "SUCCESS": counted as no run',
    ]);
  });

  it('says that a running run without started_at can never be hung', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } }, [row('g1', 'gamebook', 'running', null)]);
    const run = await scenario.check(ARGS);
    expect(run.code).toBe(0);
    expect(run.json.processors[0].days.find((d: { date: string }) => d.date === '2025-10-06').status).toBe('running');
    expect(run.stderr).toBe('warning: gamebook: 1 running run has no started_at: shown as running, never as hung\n');
  });

  it('says nothing when every row is usable', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } }, [
      row('g1', 'gamebook', 'running', '2025-10-07T10:00:00Z'),
      row('g1', 'gamebook', 'success', '2025-10-07T10:00:00Z', '2025-10-07T10:05:00Z'),
    ]);
    const run = await scenario.check(ARGS);
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });
});
