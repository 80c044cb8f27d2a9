/**
 * DuckDB's memory is bounded by PEM_DUCKDB_MEMORY_LIMIT, and a check that needs more than it ends
 * with one clear line and exit 1 (issue 13: a resource limit that is still hit), never a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';

const PROCESSORS = ['gamebook_processor', 'roster_processor', 'schedule_processor'];

/** A season of daily successes for each processor: enough rows for the detection to need some memory. */
function season(): RowSpec[] {
  const rows: RowSpec[] = [];
  const start = Date.parse('2025-04-01T00:00:00Z');
  for (const name of PROCESSORS) {
    for (let d = 0; d < 190; d++) {
      const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
      rows.push({
        run_id: `${name}-${date}`, processor_name: name, processing_date: date, status: 'success',
        started_at: `${date}T06:00:00Z`, completed_at: `${date}T06:10:00Z`, records_processed: 1000 + d,
      });
    }
  }
  return rows;
}

let scenario: Scenario;
beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: Object.fromEntries(PROCESSORS.map((p) => [p, {}])) }, season());
});
afterAll(() => scenario.cleanup());

const WINDOW = ['--dry-run', '--json-output', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--lookback-days', '90'];

describe('PEM_DUCKDB_MEMORY_LIMIT', () => {
  it('ends a check that needs more memory than the limit with one line and exit 1', async () => {
    const run = await scenario.check(WINDOW, { env: { PEM_DUCKDB_MEMORY_LIMIT: '1MB' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: .*: out of memory \(.*\): check fewer processors at a time \(--processors\), a shorter window \(--lookback-days\), or raise PEM_DUCKDB_MEMORY_LIMIT\n$/);
  });

  it('changes nothing in the document when the limit is enough: the default (256MB) against 8GB', async () => {
    const bounded = await scenario.check(WINDOW);
    const roomy = await scenario.check(WINDOW, { env: { PEM_DUCKDB_MEMORY_LIMIT: '8GB' } });
    expect(bounded.code).toBe(0);
    expect(roomy.code).toBe(0);
    expect(bounded.stdout).toBe(roomy.stdout);
  });

  it('refuses a value that is not a size with one line and exit 2', async () => {
    const run = await scenario.check(WINDOW, { env: { PEM_DUCKDB_MEMORY_LIMIT: 'plenty' } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(["error: PEM_DUCKDB_MEMORY_LIMIT 'plenty' must be a size such as 256MB or 1GiB"]);
  });
});
