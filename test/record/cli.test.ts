/** `pem record start|complete`: bad input is exit 2 with one line; a warehouse problem never fails the caller unless --strict. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario;
const NOW = new Date('2025-10-08T06:00:00Z');

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
});
afterAll(() => scenario?.cleanup());

const target = () => ['--config', scenario.registryPath, '--database', scenario.databasePath];
const record = (args: string[], env: Record<string, string> = {}) => runCli(['record', ...args, ...target()], { now: NOW, env });

describe('pem record start', () => {
  it('prints only the run id, which names the processor, the date and the start instant', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\/20251008T060000000Z-[0-9a-f]{12}\n$/);
  });

  it.each([
    [['--date', '2025-02-30', '--processor', 'gamebook'], "error: --date '2025-02-30' is not a valid date: use YYYY-MM-DD, for example 2025-10-07"],
    [['--date', '07/10/2025', '--processor', 'gamebook'], "error: --date '07/10/2025' is not a valid date"],
    [['--date', '2025-10-07', '--processor', ' '], "error: --processor must be a non-empty string, for example 'gamebook'"],
    [['--date', '2025-10-07', '--processor', 'gamebook', '--metadata', '{oops'], 'error: --metadata is not valid JSON'],
    [['--date', '2025-10-07', '--processor', 'gamebook', '--table', 'no_dataset'], "error: --table 'no_dataset' is not a table name"],
    [['--date', '2025-10-07'], "error: required option '--processor <name>' not specified"],
  ])('exits 2 on %j with one clear line', async (args, message) => {
    const run = await record(['start', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a bad PEM_RECORD_TIMEOUT_MS', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'], { PEM_RECORD_TIMEOUT_MS: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: PEM_RECORD_TIMEOUT_MS 'soon' must be a whole number of milliseconds, for example 10000\n");
  });

  it('still prints a run id and exits 0 when the warehouse cannot be written, with one warning', async () => {
    const missing = join(scenario.dir, 'absent.duckdb');
    const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', missing], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\//);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^warning: cannot record the start of run gamebook\/2025-10-07\/.*\/absent\.duckdb does not exist/);
  });

  it('exits 1 with --strict when the warehouse cannot be written', async () => {
    const missing = join(scenario.dir, 'absent.duckdb');
    const run = await runCli(
      ['record', 'start', '--strict', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', missing],
      { now: NOW },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: cannot record the start of run .*absent\.duckdb does not exist/);
  });
});

describe('pem record complete', () => {
  const started = async () => (await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'])).stdout.trim();

  it('writes the final row silently', async () => {
    const runId = await started();
    const run = await record(['complete', '--run-id', runId, '--status', 'skipped', '--records', '0']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it.each([
    [['--status', 'done'], "error: --status 'done' is not a final status: use success, failed or skipped"],
    [['--status', 'running'], "error: --status 'running' is not a final status"],
    [['--status', 'success', '--records', '-3'], "error: --records '-3' must be a whole number of 0 or more, for example 1200"],
    [['--status', 'success', '--records', '1.5'], "error: --records '1.5' must be a whole number"],
    [['--status', 'success', '--processor', 'roster'], "belongs to processor 'gamebook' and date 2025-10-07"],
  ])('exits 2 on %j with one clear line', async (args, message) => {
    const run = await record(['complete', '--run-id', await started(), ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 on a run id it cannot place', async () => {
    const run = await record(['complete', '--run-id', 'airflow-run-17', '--status', 'success']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: --run-id 'airflow-run-17' is not a run id printed by `pem record start` (processor/YYYY-MM-DD/…): pass the id it printed, or --processor and --date for a run started elsewhere\n",
    );
  });

  it('completes a run id made elsewhere when told its processor and date', async () => {
    const run = await record(['complete', '--run-id', 'airflow-run-17', '--status', 'success', '--processor', 'gamebook', '--date', '2025-10-06']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
