/**
 * Processors that select their rows with their own processor_filter (or calendar_filter) are read
 * in one scan per table, not one each: a branch per processor made DuckDB hold a scan's buffers
 * per processor, and 50 of them ran a check out of its 256 MB on a history of 2,000 rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createScenario, type Scenario } from '../support/scenario.js';
import { runsOn } from '../support/runs.js';

let scenario: Scenario | undefined;
afterEach(() => scenario?.cleanup());

const ARGS = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--dry-run', '--json-output', '--lookback-days', '14'];
const DATES = ['2025-09-26', '2025-09-28', '2025-09-29', '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-06'];

describe('many processors with their own filter on one table', () => {
  it('check within the default memory limit, each reading the rows its filter selects, as when alone', async () => {
    // 60 processors: three filters, each shared by 20 (overlapping selections name a row for several).
    const filters = ["processor_name = 'feed_a'", "processor_name = 'feed_b'", "processor_name IN ('feed_a', 'feed_b')"];
    const processors = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`copy_${String(i).padStart(2, '0')}`, { processor_filter: filters[i % 3]! }]));
    scenario = await createScenario(
      { dataset: 'monitoring', processors: { ...processors, feed_a: {}, feed_b: {} } },
      [...runsOn('feed_a', DATES), ...runsOn('feed_b', DATES.slice(2)), ...runsOn('feed_b', ['2025-10-07'], 'failed')],
    );
    const run = await scenario.check(ARGS);
    expect(run.code, run.stderr).toBe(0);
    const byName = new Map<string, any>(run.json.processors.map((p: any) => [p.name, p]));
    const days = (name: string) => byName.get(name).days.map((d: any) => [d.date, d.status, d.runs]);
    for (let i = 0; i < 60; i++) {
      const name = `copy_${String(i).padStart(2, '0')}`;
      if (i % 3 === 0) expect(days(name), name).toEqual(days('feed_a'));
      if (i % 3 === 1) expect(days(name), name).toEqual(days('feed_b'));
    }
    // The union: both feeds' runs on each date.
    const union = byName.get('copy_02').days.find((d: any) => d.date === '2025-10-06');
    expect(union.runs).toBe(2);
    expect(byName.get('copy_02').last_success_date).toBe('2025-10-06');
  });

  it('number identical rows of a table without run ids per processor, as each alone would', async () => {
    const registry = (processors: Record<string, unknown>) => ({ dataset: 'monitoring', processors });
    const foreign = { execution_table: 'monitoring.runs_without_ids', run_id_field: null, started_at_field: null, completed_at_field: null, records_field: null };
    const setup = [
      // A column named as pem's own name for a row's member: no ambiguity.
      'CREATE TABLE monitoring.runs_without_ids (processor_name VARCHAR, processing_date DATE, status VARCHAR, pem_filtered_processor VARCHAR)',
      "INSERT INTO monitoring.runs_without_ids VALUES ('x', DATE '2025-10-07', 'failed', 'q'), ('x', DATE '2025-10-07', 'failed', 'q'), ('x', DATE '2025-10-07', 'success', 'q')",
    ];
    const both = { one: { ...foreign, processor_filter: "processor_name = 'x'" }, two: { ...foreign, processor_filter: "status <> 'skipped'" } };
    scenario = await createScenario(registry(both), [], setup);
    const together = await scenario.check(ARGS);
    expect(together.code, together.stderr).toBe(0);
    const day = (json: any, name: string) => json.processors.find((p: any) => p.name === name).days.at(-1);
    // Two identical failed rows are two runs, for each processor.
    expect(day(together.json, 'one')).toMatchObject({ date: '2025-10-07', status: 'success', runs: 3, failed_runs: 2 });
    expect(day(together.json, 'two')).toMatchObject({ date: '2025-10-07', status: 'success', runs: 3, failed_runs: 2 });
  });
});

describe('many calendar processors on one calendar table', () => {
  it('check within the default memory limit, each with its own calendar_filter', async () => {
    const setup = [
      'CREATE TABLE monitoring.games (game_date DATE, league VARCHAR)',
      "INSERT INTO monitoring.games VALUES (DATE '2025-10-03', 'nba'), (DATE '2025-10-05', 'wnba'), (DATE '2025-10-06', 'nba')",
    ];
    const calendar = (league: string | null) => ({
      expected_frequency: 'calendar',
      calendar_table: 'monitoring.games',
      calendar_date_field: 'game_date',
      ...(league ? { calendar_filter: `league = '${league}'` } : {}),
      processor_filter: "processor_name = 'feed'",
    });
    const processors = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`cal_${String(i).padStart(2, '0')}`, calendar([null, 'nba', 'wnba'][i % 3] ?? null)]));
    scenario = await createScenario({ dataset: 'monitoring', processors: { ...processors, feed: {} } }, runsOn('feed', ['2025-10-03']), setup);
    const run = await scenario.check(ARGS);
    expect(run.code, run.stderr).toBe(0);
    const missing = (name: string) => run.json.processors.find((p: any) => p.name === name).missing_dates;
    // Every calendar date is expected of the unfiltered ones, the league's of the others; 10-03 ran.
    for (let i = 0; i < 60; i++) {
      const name = `cal_${String(i).padStart(2, '0')}`;
      expect(missing(name), name).toEqual([['2025-10-05', '2025-10-06'], ['2025-10-06'], ['2025-10-05']][i % 3]);
    }
  });
});
