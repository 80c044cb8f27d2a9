import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachMarkersEnv, bundleCli } from '../support/child-cli.js';
import { runCli } from '../support/cli.js';
import { DEMO_REGISTRY } from '../../src/cli/demo.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';

/** A folder name a shell would split or choke on: the commands the demo prints must survive a paste. */
const FOLDER = "it's a demo";

describe('pem demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pem-demo-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the HTML report beside its database and prints its path', async () => {
    const database = join(dir, FOLDER, 'demo.duckdb');
    const { code, stdout } = await runCli(['demo', '--database', database]);
    expect(code).toBe(0);
    const reportPath = join(dir, FOLDER, 'demo-report.html');
    expect(stdout).toContain(`HTML report: ${reportPath}`);
    const html = readFileSync(reportPath, 'utf8');
    const rows = html.match(/<tr data-processor="/g)?.length ?? 0;
    expect(rows).toBeGreaterThan(0);
    expect(html.match(/<td data-status="/g)).toHaveLength(rows * 7);
    // It ends with what the demo registry would have sent over the week before today (SPEC §13).
    expect(stdout).toMatch(/\nBacktest \d{4}-\d{2}-\d{2} \.\. \d{4}-\d{2}-\d{2}, hourly: \d+ PagerDuty pages? and \d+ Slack messages? in the week, \d+ problem dates never alerted\n/);
    expect(stdout).toContain('pem backtest --config');
    // Every command line it prints names the database as one shell word.
    const quoted = `'${database.replace(/'/g, `'\\''`)}'`;
    const commands = stdout.split('\n').filter((line) => /^(Next: | {6})pem /.test(line));
    expect(commands).toHaveLength(3);
    for (const line of commands) expect(line).toContain(`--database ${quoted} `);
    // The checks it suggests send nothing and write nothing, whatever destinations the environment sets.
    const checks = commands.filter((line) => line.includes('pem check '));
    expect(checks).toHaveLength(2);
    for (const line of checks) expect(line).toContain(' --dry-run ');
    expect(stdout).toContain('(not sent: dry run)');
    expect(stdout).not.toContain('not sent: unknown');
    // Builds a season, checks it and replays a week hourly (a few seconds alone; more on a busy machine).
  }, 90_000);

  it('carries --now into the checks it suggests, and suggests no backtest of a week after today', async () => {
    const database = join(dir, 'later', 'demo.duckdb');
    const { code, stdout } = await runCli(['demo', '--database', database, '--now', '2030-01-01T12:00:00Z'], { now: new Date('2026-12-03T12:00:00Z') });
    expect(code).toBe(0);
    const checks = stdout.split('\n').filter((line) => /^(Next: | {6})pem check /.test(line));
    expect(checks).toHaveLength(2);
    for (const line of checks) expect(line.endsWith(' --now 2030-01-01T12:00:00Z')).toBe(true);
    expect(stdout).toMatch(/\nBacktest 2029-12-25 \.\. 2029-12-31, hourly: /);
    expect(stdout).not.toContain('pem backtest');
    // Its page says when it was made (the clock) apart from the instant it evaluates (--now), as pem report's does.
    const html = readFileSync(join(dir, 'later', 'demo-report.html'), 'utf8');
    expect(html).toContain('<time id="generated-at" datetime="2026-12-03T12:00:00.000Z">');
    expect(html).toContain('<time id="evaluated-at" datetime="2030-01-01T12:00:00.000Z">');
  }, 90_000);

  it('suggests no backtest of a week before 1900, which pem backtest refuses', async () => {
    const database = join(dir, 'earliest', 'demo.duckdb');
    const { code, stdout } = await runCli(['demo', '--database', database, '--now', '1900-01-01T05:00:00Z']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nBacktest 1899-12-25 \.\. 1899-12-31, hourly: /);
    expect(stdout).not.toContain('pem backtest');
  }, 90_000);

  it('reads its DuckDB settings before it rebuilds anything: a bad one stops it with nothing done', async () => {
    const database = join(dir, 'bad-settings', 'demo.duckdb');
    const { code, stdout, stderr } = await runCli(['demo', '--database', database], { env: { PEM_DUCKDB_MEMORY_LIMIT: 'lots' } });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: PEM_DUCKDB_MEMORY_LIMIT 'lots'/);
    expect(stderr).not.toContain('built ');
    expect(existsSync(database)).toBe(false);
  });

  it('does not read the alert settings: it sends nothing, and they are pem check\'s', async () => {
    const database = join(dir, 'alert-settings', 'demo.duckdb');
    const { code, stderr } = await runCli(['demo', '--database', database, '--json-output'], { env: { SLACK_WEBHOOK_URL: 'not-a-url', PEM_ALERT_RETRIES: '99' } });
    expect(code, stderr).toBe(0);
  }, 90_000);

  it('leaves the last demo whole when a rebuild is stopped halfway: it builds beside it and renames', async () => {
    const database = join(dir, 'stopped', 'demo.duckdb');
    expect((await runCli(['demo', '--database', database, '--json-output'])).code).toBe(0);
    const before = readFileSync(database);
    // A rebuild that dies (SIGKILL: no cleanup at all) once it has written the new run history.
    const cli = await bundleCli();
    try {
      const child = await cli.run(['demo', '--database', database], { ...attachMarkersEnv({}), KILL_ON_SQL: 'game_schedule AS SELECT' });
      // Killed by its signal: no exit code.
      expect(child.code, child.stderr).toBeNull();
    } finally {
      cli.cleanup();
    }
    expect(readFileSync(database).equals(before)).toBe(true);
    // Killed, it could not remove its build; the next demo does, and rebuilds as usual.
    const folder = join(dir, 'stopped');
    expect(readdirSync(folder)).toContain('.demo.duckdb.building');
    expect((await runCli(['demo', '--database', database, '--json-output'])).code).toBe(0);
    expect(readdirSync(folder).sort()).toEqual(['demo-report.html', 'demo.duckdb']);
  }, 120_000);

  it('keeps stdout to the JSON document with --json-output, and names the report on stderr', async () => {
    // The first test's file: pem demo rebuilds a database it built, after the check it suggests
    // has recorded itself there (processor_execution_monitor), at the same instant as the demo.
    const database = join(dir, FOLDER, 'demo.duckdb');
    const now = new Date();
    const checked = await runCli(['check', '--config', DEMO_REGISTRY, '--database', database, '--format', 'csv'], { now });
    expect(checked.code, checked.stderr).toBe(0);
    const { code, stdout, stderr } = await runCli(['demo', '--database', database, '--json-output'], { now });
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.processors.length).toBeGreaterThan(0);
    // SPEC §10: one success that wrote nothing, and one run that took hours.
    const box = json.processors.find((p: any) => p.name === 'boxscore_processor');
    expect(box.low_volume_dates).toHaveLength(1);
    expect(box.days.find((d: any) => d.date === box.low_volume_dates[0])).toMatchObject({ status: 'success', records: 0, anomalies: ['low_volume'] });
    const injury = json.processors.find((p: any) => p.name === 'injury_report_processor');
    expect(injury.slow_dates).toHaveLength(1);
    expect(injury.days.find((d: any) => d.date === injury.slow_dates[0])).toMatchObject({ duration_seconds: 190 * 60, anomalies: ['slow'] });
    // The demo sends nothing, and every alert says why (SPEC §11).
    expect(json.alerts.length).toBeGreaterThan(0);
    for (const alert of json.alerts) expect(alert).toMatchObject({ sent: false, reason: 'dry_run' });
    expect(stderr).toContain(`wrote the HTML report: ${join(dir, FOLDER, 'demo-report.html')}`);
    expect(existsSync(join(dir, FOLDER, 'demo-report.html'))).toBe(true);
  });

  describe('refuses a --database that holds anything but a demo, and leaves it as it was', () => {
    it.each([
      ['a text file (a registry, notes)', 'processors.json', (path: string) => writeFileSync(path, '{"dataset": "nba_reference"}'), 'it is not a DuckDB database file'],
      ['a folder', 'folder', (path: string) => mkdirSync(path), 'it is a folder'],
    ])('%s', async (_name, file, make, why) => {
      const path = join(dir, file);
      make(path);
      const before = statSync(path).isDirectory() ? null : readFileSync(path);
      const { code, stdout, stderr } = await runCli(['demo', '--database', path]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`error: --database ${path} exists and is not a database pem demo built (${why}): pem demo rebuilds its file from scratch, so name another file, or remove this one yourself\n`);
      if (before) expect(readFileSync(path)).toEqual(before);
    });

    it('a run history of other processors', async () => {
      const path = join(dir, 'monitoring.duckdb');
      const registry = join(dir, 'mine.json');
      writeFileSync(registry, JSON.stringify({ dataset: 'nba_reference', processors: { mine: {} } }));
      expect((await runCli(['schema', 'apply', '--config', registry, '--database', path])).code).toBe(0);
      const started = await runCli(['record', 'start', '--processor', 'mine', '--date', '2025-10-07', '--config', registry, '--database', path]);
      expect(started.code).toBe(0);
      // Even with a game_schedule table: first a real one, then one of the demo's season.
      const warehouse = await openDuckDb({ path, create: false });
      await warehouse.execute("CREATE TABLE nba_reference.game_schedule AS SELECT DATE '2025-10-21' AS game_date, '2025-26' AS season");
      await warehouse.close();
      const real = await runCli(['demo', '--database', path]);
      expect(real.code).toBe(2);
      expect(real.stderr).toContain("(its nba_reference.game_schedule is not the demo's 2026-27 season)");
      const seasonal = await openDuckDb({ path, create: false });
      await seasonal.execute("UPDATE nba_reference.game_schedule SET season = '2026-27'");
      await seasonal.close();
      const { code, stderr } = await runCli(['demo', '--database', path]);
      expect(code).toBe(2);
      expect(stderr).toContain(`(its run history has processors the demo does not have: mine)`);
      const reopened = await openDuckDb({ path, create: false });
      try {
        expect(await reopened.query('SELECT run_id FROM nba_reference.processor_run_history')).toEqual([{ run_id: started.stdout.trim() }]);
      } finally {
        await reopened.close();
      }
    });
  });
});
