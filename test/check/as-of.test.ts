/**
 * SPEC §13 as-of reads: `pem check --now T` sees the history as it was at T. Final rows completed
 * after T and running rows started after T are not read (rows without those timestamps always
 * are), and silences count only while active at T. Time zone UTC; E = 2025-10-07, L = 7.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { datesBetween, runRows, runsOn } from '../support/runs.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';
import { alertEnv, SLACK_PATH, slackOk, startFakeServer, type FakeServer } from '../alerts/support.js';

const E = '2025-10-07';
let scenario: Scenario | undefined;
let slack: FakeServer | undefined;
afterEach(async () => {
  scenario?.cleanup();
  scenario = undefined;
  await slack?.close();
  slack = undefined;
});

async function checkAt(now: string, processors: Record<string, unknown>, rows: RowSpec[], setupSql: string[] = []) {
  scenario ??= await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors }, rows, setupSql);
  const result = await scenario.check(['--json-output', '--date', E, '--now', now]);
  expect(result.code).toBe(0);
  return result.json.processors[0];
}

const history = runsOn('p', datesBetween('2025-10-01', '2025-10-06'));
// 10-07's run: started 2025-10-08T10:00Z, succeeded at 10:10Z.
const lastRun = runRows('last', 'p', E, 'success', '2025-10-08T10:00:00Z');

describe('as-of reads', () => {
  it('does not see a success completed after now: the run is still running then', async () => {
    const p = await checkAt('2025-10-08T10:05:00Z', { p: {} }, [...history, ...lastRun]);
    expect(p.days[6]).toMatchObject({ date: E, status: 'running', runs: 1, failed_runs: 0 });
    expect(p.last_success_date).toBe('2025-10-06');
    expect((await checkAt('2025-10-08T10:10:00Z', { p: {} }, [])).days[6].status).toBe('success');
  });

  it('does not see a run that started after now: the date is missing then', async () => {
    const p = await checkAt('2025-10-08T09:59:59Z', { p: {} }, [...history, ...lastRun]);
    expect(p.days[6]).toMatchObject({ date: E, status: 'missing', runs: 0, failed_runs: 0 });
    expect(p.level).toBe('ERROR');
  });

  it('finds the last success as of now, also before the window', async () => {
    // The only success completed 2025-10-05T12:00Z for 09-20: at 10-05 08:00Z it did not exist yet.
    const rows = runRows('old', 'p', '2025-09-20', 'success', '2025-10-05T11:50:00Z');
    expect((await checkAt('2025-10-05T08:00:00Z', { p: {} }, rows)).last_success_date).toBeNull();
    expect((await checkAt('2025-10-08T12:00:00Z', { p: {} }, [])).last_success_date).toBe('2025-09-20');
  });

  it('does not count rows from after now for the scheduler rule', async () => {
    const rows = runRows('late', 'p', E, 'success', '2025-10-08T10:00:00Z');
    const early = await checkAt('2025-10-08T09:00:00Z', { p: {} }, rows);
    expect(early.scheduler_issue).toBe(true);
    expect((await checkAt('2025-10-08T10:30:00Z', { p: {} }, [])).scheduler_issue).toBe(false);
  });

  it('does not see a row of an unlisted status written after now: no run row for the scheduler rule, nothing to warn of', async () => {
    // A 'queued' row (in none of the status lists) stamped 10-08 13:00: at 12:00 it did not exist.
    const queued: RowSpec = { run_id: 'q', processor_name: 'p', processing_date: E, status: 'queued', started_at: '2025-10-08T13:00:00Z', completed_at: '2025-10-08T13:00:00Z' };
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { p: {} } }, [queued]);
    const before = await scenario.check(['--json-output', '--date', E, '--now', '2025-10-08T12:00:00Z']);
    expect(before.json.processors[0].scheduler_issue).toBe(true);
    expect(before.stderr).not.toContain('queued');
    const after = await scenario.check(['--json-output', '--date', E, '--now', '2025-10-08T13:00:00Z']);
    expect(after.json.processors[0].scheduler_issue).toBe(false);
    expect(after.stderr).toContain('for example "queued"');
  });

  it('always sees rows without those timestamps (a table with no completed_at column)', async () => {
    const p = await checkAt(
      '2025-10-01T00:00:00Z',
      {
        p: {
          execution_table: 'ops.job_log',
          processor_filter: "job = 'p'",
          date_field: 'day',
          status_field: 'state',
          run_id_field: null,
          started_at_field: null,
          completed_at_field: null,
          records_field: null,
        },
      },
      [],
      ['CREATE SCHEMA ops', `CREATE TABLE ops.job_log AS SELECT * FROM (VALUES ('p', DATE '2025-10-07', 'success')) t(job, day, state)`],
    );
    expect(p.days[6].status).toBe('success');
  });
});

describe('silences as of now', () => {
  it('hold back only while active at now: not before they were added, still after they were removed later', async () => {
    slack = await startFakeServer(SLACK_PATH, slackOk);
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { p: {} } }, runsOn('p', datesBetween('2025-10-01', '2025-10-05')));
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    // Added at 10-08 12:00, until 10-09 12:00; removed at 10-08 18:00.
    const added = await runCli(['silence', 'add', ...base, '--processor', 'p', '--until', '2025-10-09T12:00:00Z', '--reason', 'upstream outage'], {
      now: new Date('2025-10-08T12:00:00Z'),
    });
    const id = /\((sil_[0-9a-f]{8})\)/.exec(added.stdout)![1]!;
    await runCli(['silence', 'remove', id, ...base], { now: new Date('2025-10-08T18:00:00Z') });
    const reasonAt = async (now: string) => {
      const run = await runCli(['check', ...base, '--json-output', '--dry-run', '--date', E, '--now', now], { env: alertEnv(slack!, null), now: new Date(now) });
      return run.stderr.includes('dry run: p silenced until');
    };
    expect(await reasonAt('2025-10-08T11:00:00Z')).toBe(false);
    expect(await reasonAt('2025-10-08T13:00:00Z')).toBe(true);
    expect(await reasonAt('2025-10-08T19:00:00Z')).toBe(false);
  });
});
