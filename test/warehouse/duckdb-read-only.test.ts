/**
 * A DuckDB file this user may read but not write (a shared copy, a read-only mount): the commands
 * that only read (check --dry-run, gaps, silence list, backtest) read it read-only; a command that
 * writes fails in one line that says which commands can read it. The file is left as it was.
 * And a spool this user may read but not empty: its rows are added, and its files said to stay.
 *
 * Root may write any file, so as root the commands run as another user (nobody, 65534), who may
 * read the scenario and not write it; as any other user, the file is made read-only.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spoolDirOf, spoolRunRows } from '../../src/warehouse/duckdb-spool.js';
import { bundleCli, type ChildCli, type ChildRunOptions } from '../support/child-cli.js';
import { createScenario, toRunRow, type Scenario } from '../support/scenario.js';

const registry = { dataset: 'monitoring', timezone: 'UTC', processors: { p: { expected_frequency: 'daily' } } };
const success = (date: string) =>
  toRunRow({ run_id: `p-${date}`, processor_name: 'p', processing_date: date, status: 'success', started_at: `${date}T23:00:00Z`, completed_at: `${date}T23:10:00Z`, records_processed: 5 });

const asRoot = process.getuid?.() === 0;
const OTHER_USER = { uid: 65534, gid: 65534 };
/** As root: whether the other user can load pem at all (this checkout may sit in a folder only root may enter). */
const otherUserCanRunPem =
  !asRoot ||
  spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(createRequire(import.meta.url).resolve('@duckdb/node-api'))})`], OTHER_USER).status === 0;

let cli: ChildCli;
let scenario: Scenario;
let runAs: ChildRunOptions;
let spoolDir: string;
const fileHash = () => createHash('sha256').update(readFileSync(scenario.databasePath)).digest('hex');

beforeAll(async () => {
  cli = await bundleCli();
  scenario = await createScenario(
    registry,
    ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05'].map((date) => ({ ...success(date), started_at: `${date}T23:00:00Z`, completed_at: `${date}T23:10:00Z` })),
  );
  // A run row waiting in the spool: a read-only open cannot add it, so its date reads missing.
  spoolDir = spoolRunRows(scenario.databasePath, 'monitoring.processor_run_history', [success('2025-10-06')]);
  chmodSync(scenario.databasePath, 0o444);
  if (asRoot) {
    // Readable by the other user: the scenario's folder, its registry and the spool (written 0600).
    chmodSync(scenario.dir, 0o755);
    chmodSync(scenario.registryPath, 0o644);
    chmodSync(spoolDir, 0o755);
    for (const file of readdirSync(spoolDir)) chmodSync(join(spoolDir, file), 0o644);
  }
  runAs = asRoot ? { asUser: OTHER_USER } : {};
});

afterAll(() => {
  cli?.cleanup();
  scenario?.cleanup();
});

const pem = (args: string[]) => cli.run([...args, '--config', scenario.registryPath, '--database', scenario.databasePath], {}, undefined, runAs);

describe.runIf(otherUserCanRunPem)('a DuckDB file this user may not write', () => {
  it('is read by the commands that only read, which say the spooled rows are not in what they read', async () => {
    const before = fileHash();
    const window = ['--date', '2025-10-07', '--lookback-days', '7', '--now', '2025-10-08T12:00:00Z'];
    const check = await pem(['check', '--dry-run', '--json-output', ...window]);
    expect(check.code, check.stderr).toBe(0);
    const [processor] = JSON.parse(check.stdout).processors;
    expect(processor.missing_dates).toEqual(['2025-10-06', '2025-10-07']);
    expect(check.stderr.trim().split('\n')).toEqual([
      `warning: 1 run row kept in ${spoolDir} is not in what this reads: ${scenario.databasePath} is opened read-only (this user may not write it); ` +
        'the next pem check or pem record that can write it adds it',
    ]);

    const gaps = await pem(['gaps', '--format', 'json', ...window]);
    expect(gaps.code, gaps.stderr).toBe(0);
    expect(JSON.parse(gaps.stdout).map((gap: { processing_date: string }) => gap.processing_date)).toEqual(['2025-10-06', '2025-10-07']);

    const silences = await pem(['silence', 'list']);
    expect(silences.code, silences.stderr).toBe(0);
    expect(silences.stdout).toBe('No active silences.\n');

    const backtest = await pem(['backtest', '--from', '2025-10-07', '--to', '2025-10-07', '--format', 'json']);
    expect(backtest.code, backtest.stderr).toBe(0);
    expect(JSON.parse(backtest.stdout).runs[0].checks).toBe(24);

    // Nothing was written: the file and the spool are as they were.
    expect(fileHash()).toBe(before);
    expect(readdirSync(spoolDir)).toHaveLength(1);
  });

  it('stops a command that writes in one line naming the commands that can read it', async () => {
    const before = fileHash();
    const run = await pem(['check', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: cannot open DuckDB database ${scenario.databasePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*Permission denied ` +
          '\\(this command writes to it; pem check --dry-run, pem gaps, pem report, pem backtest and pem silence list can read a file this user may not write\\)\\n$',
      ),
    );
    expect(fileHash()).toBe(before);
    expect(readdirSync(spoolDirOf(scenario.databasePath))).toHaveLength(1);
  });

  it('names the folder, not the reading commands, when the file to make cannot be made there', async () => {
    const locked = join(scenario.dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    const target = join(locked, 'new.duckdb');
    const run = await cli.run(['schema', 'apply', '--config', scenario.registryPath, '--database', target], {}, undefined, runAs);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^error: cannot create DuckDB database ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*\\(its folder ${locked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable by this user\\)$`))]);
    expect(existsSync(target)).toBe(false);
    // A folder to make inside it: the same, in one line, not Node's mkdir error alone.
    const deeper = join(locked, 'sub', 'new.duckdb');
    const nested = await cli.run(['schema', 'apply', '--config', scenario.registryPath, '--database', deeper], {}, undefined, runAs);
    expect(nested.code).toBe(1);
    expect(nested.stderr.trim().split('\n')).toEqual([`error: cannot create DuckDB database ${deeper}: its folder ${join(locked, 'sub')} cannot be made (EACCES: permission denied, mkdir '${join(locked, 'sub')}')`]);
  });
});

describe.runIf(otherUserCanRunPem)('a spool folder this user may not empty', () => {
  it('has its rows added all the same, and says their files stay (not that the table refuses them)', async () => {
    const spooled = await createScenario(registry, []);
    let dir: string | undefined;
    try {
      dir = spoolRunRows(spooled.databasePath, 'monitoring.processor_run_history', [success('2025-10-06')]);
      // The database and its folder writable by the user; the spool folder not.
      chmodSync(spooled.dir, 0o777);
      chmodSync(spooled.databasePath, 0o666);
      chmodSync(spooled.registryPath, 0o644);
      for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o644);
      chmodSync(dir, 0o555);
      const run = await cli.run(
        ['check', '--dry-run', '--json-output', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--config', spooled.registryPath, '--database', spooled.databasePath],
        {},
        undefined,
        runAs,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).processors[0].missing_dates).not.toContain('2025-10-06');
      expect(run.stderr).toMatch(
        new RegExp(`^warning: 1 run row kept in ${dir.replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')} is now in monitoring\\.processor_run_history, but its file cannot be removed \\(EACCES`, 'm'),
      );
      expect(run.stderr).not.toContain('cannot be added');
    } finally {
      if (dir) chmodSync(dir, 0o755);
      spooled.cleanup();
    }
  });
});
