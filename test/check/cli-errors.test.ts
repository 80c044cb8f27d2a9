/** Bad input gets one clear line naming what is wrong and the documented exit code (SPEC §6). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, type Scenario } from '../support/scenario.js';
import { runCli } from '../support/cli.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

let scenario: Scenario;
beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook_processor: {}, roster_processor: {} } });
});
afterAll(() => scenario.cleanup());

const oneLine = (stderr: string) => stderr.trim().split('\n');

describe('pem check usage errors exit 2 with one line', () => {
  it.each([
    [['--date', '2025-02-30'], "--date '2025-02-30' is not a valid date: use YYYY-MM-DD, for example 2025-10-07"],
    [['--date', '10/07/2025'], "--date '10/07/2025' is not a valid date"],
    [['--date', '0000-01-01'], "--date '0000-01-01' is before 1900-01-01"],
    [['--date', '9999-12-31'], "--date '9999-12-31' is after 9998-12-31"],
    [['--lookback-days', '0'], "--lookback-days '0' must be a whole number from 1 to 366, for example 7"],
    [['--lookback-days', '367'], "--lookback-days '367' must be a whole number from 1 to 366"],
    [['--lookback-days', 'seven'], "--lookback-days 'seven' must be a whole number"],
    [['--lookback-days', '2.5'], "--lookback-days '2.5' must be a whole number"],
    [['--now', 'yesterday'], "--now 'yesterday' is not an ISO-8601 instant, for example 2025-10-08T12:00:00Z"],
    [['--now', '2026-11-30T10:00:00+25:00'], "--now '2026-11-30T10:00:00+25:00' has a UTC offset outside -18:00..+18:00"],
    [['--now', '2026-11-30T10:00:00-18:30'], "--now '2026-11-30T10:00:00-18:30' has a UTC offset outside -18:00..+18:00"],
    [['--now', '1899-12-31T12:00:00Z'], "--now '1899-12-31T12:00:00Z' is before 1900-01-01T00:00:00Z"],
    [['--now', '9999-06-01T00:00:00Z'], "--now '9999-06-01T00:00:00Z' is after 9998-12-31T23:59:59Z"],
    [['--processors', 'gamebook_processor,boxscores'], "--processors: unknown processor 'boxscores'; the registry has gamebook_processor, roster_processor"],
    [['--processors', ','], '--processors is empty'],
    [['--engine', 'postgres'], "--engine 'postgres' is not an engine: use duckdb or bigquery"],
  ])('%j', async (args, message) => {
    const run = await scenario.check(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr.startsWith(`error: ${message}`)).toBe(true);
  });

  it('refuses a --now that falls before 1900-01-01 in the registry time zone, as --date does', async () => {
    const { writeFileSync } = await import('node:fs');
    const reg = join(scenario.dir, 'new-york.json');
    writeFileSync(reg, JSON.stringify({ dataset: 'nba_reference', timezone: 'America/New_York', processors: { gamebook_processor: {} } }));
    const run = await runCli(['check', '--config', reg, '--database', scenario.databasePath, '--now', '1900-01-01T03:00:00Z']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(oneLine(run.stderr)).toEqual(["error: --now '1900-01-01T03:00:00Z' is 1899-12-31 in America/New_York, before 1900-01-01"]);
  });

  it('rejects an unknown option with exit 2', async () => {
    const run = await scenario.check(['--lookback', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--lookback'");
  });

  it('refuses a PEM_RECORD_SELF that is neither on nor off', async () => {
    const run = await scenario.check([], { env: { PEM_RECORD_SELF: 'maybe' } });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toEqual([
      "error: PEM_RECORD_SELF 'maybe' must be on or off (1, on, true, yes / 0, off, false, no), for example PEM_RECORD_SELF=off",
    ]);
  });

  it('accepts an offset at the edge, +18:00', async () => {
    const run = await scenario.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00+18:00', '--dry-run']);
    expect(run.code).toBe(0);
  });

  it('reads PEM_ENGINE when --engine is absent', async () => {
    const run = await scenario.check([], { env: { PEM_ENGINE: 'oracle' } });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toEqual(["error: PEM_ENGINE 'oracle' is not an engine: use duckdb or bigquery"]);
  });
});

describe('pem check runtime failures exit 1 with one line', () => {
  it('names a DuckDB file that does not exist', async () => {
    const path = join(scenario.dir, 'absent.duckdb');
    const run = await runCli(['check', '--config', scenario.registryPath, '--database', path]);
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toEqual([
      `error: DuckDB database ${path} does not exist: create it with \`pem schema apply --config ${scenario.registryPath} --database ${path}\`, or try \`pem demo\``,
    ]);
  });

  it('names the registry in the hint only when it is not the default, and says what to pass when the command read none', async () => {
    const path = join(scenario.dir, 'absent.duckdb');
    const defaulted = await openDuckDb({ path, create: false, registryPath: 'includes/processors.js' }).catch((error: Error) => error.message);
    expect(defaulted).toBe(`DuckDB database ${path} does not exist: create it with \`pem schema apply --database ${path}\`, or try \`pem demo\``);
    // pem record --table, away from the registry: a placeholder a shell would not take for a redirect.
    // Paths as shell words: pasted, the line runs whatever the folders are called.
    const spaced = join(scenario.dir, 'my monitor.duckdb');
    const quoted = await openDuckDb({ path: spaced, create: false, registryPath: 'my registry.json' }).catch((error: Error) => error.message);
    expect(quoted).toContain(`create it with \`pem schema apply --config 'my registry.json' --database '${spaced}'\``);
    const unknown = await openDuckDb({ path, create: false }).catch((error: Error) => error.message);
    expect(unknown).toBe(
      `DuckDB database ${path} does not exist: create it with \`pem schema apply --config REGISTRY --database ${path}\` (REGISTRY: the registry file, which names the dataset), or try \`pem demo\``,
    );
  });

  it('of a damaged file is its error alone, run after run: not also the spooled rows of its own record', { timeout: 60_000 }, async () => {
    const { statSync, truncateSync } = await import('node:fs');
    // The demo's file cut to three eighths: its catalog reads, its run history does not (as a disk
    // that filled up mid-write leaves it).
    const path = join(scenario.dir, 'damaged.duckdb');
    const built = await runCli(['demo', '--database', path]);
    expect(built.code, built.stderr).toBe(0);
    truncateSync(path, Math.floor((statSync(path).size * 3) / 8));
    const registry = join(REPO_ROOT, 'demo', 'processors.json');
    for (let run = 0; run < 2; run++) {
      const checked = await runCli(['check', '--config', registry, '--database', path], { env: { PEM_RECORD_SELF: 'on' } });
      expect(checked.code).toBe(1);
      expect(oneLine(checked.stderr)).toEqual([expect.stringMatching(/^error: .*damaged\.duckdb/)]);
    }
  });

  it('names a missing execution table instead of printing a stack', async () => {
    const reg = join(scenario.dir, 'foreign.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(reg, JSON.stringify({ dataset: 'nba_reference', processors: { x: { execution_table: 'ops.nowhere' } } }));
    const run = await runCli(['check', '--config', reg, '--database', scenario.databasePath]);
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: DuckDB .*nowhere.* \(ops\.nowhere is the execution_table of processor x: create it or correct the registry\)$/m);
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('names the run-history columns of another type than SPEC §2 when the statement meets one (a table made by hand)', async () => {
    const path = join(scenario.dir, 'hand-made.duckdb');
    const warehouse = await openDuckDb({ path, create: true });
    try {
      await warehouse.execute('CREATE SCHEMA nba_reference');
      await warehouse.execute(
        'CREATE TABLE nba_reference.processor_run_history (run_id VARCHAR, processor_name VARCHAR, processing_date VARCHAR, status VARCHAR, ' +
          'started_at TIMESTAMP, completed_at TIMESTAMP, records_processed BIGINT, errors VARCHAR, trigger_source VARCHAR, metadata JSON)',
      );
    } finally {
      await warehouse.close();
    }
    const run = await runCli(['check', '--config', scenario.registryPath, '--database', path, '--dry-run']);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^error: DuckDB .*Binder Error: .* \(nba_reference\.processor_run_history has other columns than the run history's, SPEC §2: processing_date is VARCHAR, not DATE; errors is VARCHAR, not STRUCT\(error_type VARCHAR, error_message VARCHAR\)\[\]\)\n$/,
    );
  });

  it('refuses a file DuckDB would attach without writing to it (a JSON file passed as --database)', async () => {
    const { writeFileSync } = await import('node:fs');
    const path = join(scenario.dir, 'mixed-up.json');
    writeFileSync(path, '{"note": "not a database"}');
    for (const args of [['schema', 'apply'], ['check']]) {
      const run = await runCli([...args, '--config', scenario.registryPath, '--database', path]);
      expect(run.code).toBe(1);
      expect(oneLine(run.stderr)).toEqual([`error: cannot open DuckDB database ${path}: not a DuckDB database file (DuckDB would keep nothing written to it)`]);
    }
  });
});

describe('pem check beyond its memory budget (SPEC §14)', () => {
  it('stops with one line and exit 1 before reading anything, naming the size and what to narrow', async () => {
    const reg = join(scenario.dir, 'many.json');
    const { writeFileSync } = await import('node:fs');
    const processors = Object.fromEntries(Array.from({ length: 2733 }, (_, i) => [`p${i}`, {}]));
    writeFileSync(reg, JSON.stringify({ dataset: 'nba_reference', processors }));
    const run = await runCli(['check', '--config', reg, '--database', scenario.databasePath, '--lookback-days', '366', '--json-output']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([
      'error: 2,733 processors × 366 days is 1,000,278 processor-days, more than one check holds in its memory (1,000,000): check fewer at a time (--processors) or a shorter window (--lookback-days)',
    ]);
  });
});

describe('help', () => {
  it('is bad usage (exit 2) when no command is given, and exit 0 when asked for', async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli(['--help'])).code).toBe(0);
    expect((await runCli(['help', 'check'])).code).toBe(0);
  });

  it('keeps a usage error to one line', async () => {
    const run = await runCli(['check', '--bogus']);
    expect([run.code, oneLine(run.stderr)]).toEqual([2, ["error: unknown option '--bogus'"]]);
  });

  it.each([
    [['check', '--dry-rn'], "error: unknown option '--dry-rn' (did you mean --dry-run?)"],
    [['check', '--hepl'], "error: unknown option '--hepl' (did you mean --help?)"],
    [['gaps', '--hepl'], "error: unknown option '--hepl' (did you mean --help?)"],
    // A mistyped required option is named as mistyped, not as the required one it left unset.
    [['record', 'start', '--procesor', 'gamebook', '--date', '2025-10-07'], "error: unknown option '--procesor' (did you mean --processor?)"],
    [['record', 'start', '--date', '2025-10-07', '--procesor=gamebook'], "error: unknown option '--procesor=gamebook' (did you mean --processor?)"],
    [['silence', 'add', '--processor', 'x', '--reason', 'y', '--untill', '2h'], "error: unknown option '--untill' (did you mean --until?)"],
    [['record', 'start', '--date', '2025-10-07'], "error: required option '--processor <name>' not specified"],
    // A long option remembered short, which commander's spelling rule does not reach.
    [['check', '--lookback', '3'], "error: unknown option '--lookback' (did you mean --lookback-days?)"],
    [['check', '--json'], "error: unknown option '--json' (did you mean --json-output?)"],
  ])('names a mistyped option with its likely intent, in one line: %j', async (args, line) => {
    const run = await runCli(args);
    expect([run.code, run.stdout, oneLine(run.stderr)]).toEqual([2, '', [line]]);
  });

  it('writes nothing for a help that commander printed itself: no empty line, no empty log entry in Cloud Run', async () => {
    const run = await runCli(['config'], { env: { CLOUD_RUN_JOB: 'pem-check' } });
    expect(run.code).toBe(2);
    const entries = oneLine(run.stderr).map((line) => JSON.parse(line) as { message: string });
    expect(entries[0]?.message).toMatch(/^Usage: pem config \[options\] \[command\]\n/);
    expect(entries.filter((entry) => entry.message.trim() === '')).toEqual([]);
  });

  it('lists the flags of check with their defaults', async () => {
    const run = await runCli(['check', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--date', '--lookback-days', '--processors', '--dry-run', '--json-output', '--config', '--engine', '--database', '--project', '--location', '--now']) {
      expect(run.stdout).toContain(flag);
    }
  });
});

describe('terminal report', () => {
  it('shows the level, the day grid, the dates in trouble and the last success', async () => {
    const run = await scenario.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Level CRITICAL: 2 processors checked, 2 critical, 0 error, 0 ok');
    expect(run.stdout).toMatch(/CRITICAL gamebook_processor\s+M {2}M {2}M {2}M {2}M {2}M {2}M/);
    expect(run.stdout).toContain('missing: 2025-10-01 .. 2025-10-07 (7 dates)');
    expect(run.stdout).toContain('stale: never succeeded');
    expect(run.stdout).toContain('CRITICAL gamebook_processor -> pagerduty, slack (not sent: no destination configured)');
  });
});
