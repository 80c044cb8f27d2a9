/**
 * What `pem check` prints and how it exits, as a CI job or a person at a terminal sees it:
 * `--format`, `--fail-on`, colours (NO_COLOR / FORCE_COLOR) and progress on a terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorModeFrom } from '../../src/config/env.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';

const WINDOW = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--dry-run'];
const ESC = '\u001b[';

/** A daily success of `processor` for each date, but none for the dates in `skip`. */
function successes(processor: string, skip: string[] = []): RowSpec[] {
  return ['01', '02', '03', '04', '05', '06', '07']
    .map((d) => `2025-10-${d}`)
    .filter((date) => !skip.includes(date))
    .map((date) => ({
      run_id: `${processor}-${date}`,
      processor_name: processor,
      processing_date: date,
      status: 'success',
      started_at: `${date}T08:00:00Z`,
      completed_at: `${date}T08:05:00Z`,
    }));
}

let healthy: Scenario;
let erroring: Scenario;
let critical: Scenario;
beforeAll(async () => {
  healthy = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } }, successes('gamebook'));
  erroring = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } }, successes('gamebook', ['2025-10-06']));
  critical = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {}, roster: {} } }, successes('gamebook'));
});
afterAll(() => {
  for (const s of [healthy, erroring, critical]) s?.cleanup();
});

describe('pem check --format', () => {
  it('json prints exactly the document --json-output prints', async () => {
    const viaFlag = await critical.check([...WINDOW, '--json-output']);
    const viaFormat = await critical.check([...WINDOW, '--format', 'json']);
    expect(viaFormat.code).toBe(0);
    expect(viaFormat.stdout).toBe(viaFlag.stdout);
    expect(JSON.parse(viaFormat.stdout).level).toBe('CRITICAL');
  });

  it('csv prints one line per processor and date, under a header', async () => {
    const run = await erroring.check([...WINDOW, '--format', 'csv']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('processor_name,date,status,runs,failed_runs,anomalies,records,duration_seconds,processor_level,priority,revenue_impact');
    expect(lines).toHaveLength(1 + 7);
    expect(lines).toContain('gamebook,2025-10-06,missing,0,0,,,,ERROR,medium,false');
    expect(lines).toContain('gamebook,2025-10-07,success,1,0,,,300,ERROR,medium,false');
  });

  it('refuses --json-output beside another format, and an unknown format, with exit 2 and one line', async () => {
    const both = await healthy.check([...WINDOW, '--json-output', '--format', 'csv']);
    expect([both.code, both.stdout, both.stderr]).toEqual([
      2,
      '',
      'error: --json-output and --format csv disagree: --json-output is --format json, so give one of them\n',
    ]);
    const bad = await healthy.check([...WINDOW, '--format', 'yaml']);
    expect([bad.code, bad.stderr]).toEqual([2, "error: --format 'yaml' is not a format: use table, json, csv, for example --format json\n"]);
  });

  it('accepts --json-output with --format json', async () => {
    const run = await healthy.check([...WINDOW, '--json-output', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).level).toBe('INFO');
  });
});

describe('pem check --fail-on', () => {
  it.each([
    ['critical', 'a CRITICAL run', () => critical, 3],
    ['error', 'a CRITICAL run', () => critical, 3],
    ['error', 'an ERROR run', () => erroring, 3],
    ['critical', 'an ERROR run', () => erroring, 0],
    ['error', 'an INFO run', () => healthy, 0],
    ['critical', 'an INFO run', () => healthy, 0],
  ] as const)('--fail-on %s exits as documented for %s', async (level, _what, scenario, code) => {
    const run = await scenario().check([...WINDOW, '--json-output', '--fail-on', level]);
    expect(run.code).toBe(code);
    // The document is printed whatever the exit code: CI keeps it as an artifact.
    expect(JSON.parse(run.stdout).as_of_date).toBe('2025-10-07');
    expect(run.stderr).toBe(code === 3 ? `error: run level ${JSON.parse(run.stdout).level} reached --fail-on ${level} (exit 3)\n` : '');
  });

  it('exits 0 without --fail-on, whatever the level', async () => {
    expect((await critical.check(WINDOW)).code).toBe(0);
  });

  it('records the monitor run as a success: reaching --fail-on is a finding, not a failed monitor', async () => {
    const run = await critical.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--fail-on', 'critical']);
    expect(run.code).toBe(3);
    const warehouse = await openDuckDb({ path: critical.databasePath, create: false });
    try {
      const rows = await warehouse.query(
        "SELECT status FROM nba_reference.processor_run_history WHERE processor_name = 'processor_execution_monitor' AND status <> 'running'",
      );
      expect(rows).toEqual([{ status: 'success' }]);
    } finally {
      await warehouse.close();
    }
  });

  it('rejects a level it does not know with exit 2', async () => {
    const run = await healthy.check([...WINDOW, '--fail-on', 'warning']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("argument 'warning' is invalid. Allowed choices are critical, error.");
  });
});

describe('text from the run history', () => {
  it('reaches the terminal without control characters: a line break or an escape sequence in an error is shown as ?', async () => {
    const failed: RowSpec = {
      run_id: 'gamebook-2025-10-07-failed',
      processor_name: 'gamebook',
      processing_date: '2025-10-07',
      status: 'failed',
      started_at: '2025-10-07T08:00:00Z',
      completed_at: '2025-10-07T08:01:00Z',
      errors: [{ error_type: 'Multi\nLine', error_message: 'first\r\n\u001b[2J cleared \u009b31m' }],
    };
    const scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } }, [...successes('gamebook', ['2025-10-07']), failed]);
    try {
      const run = await scenario.check(WINDOW, { tty: true, env: { NO_COLOR: '1' } });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('latest error (2025-10-07): Multi?Line: first???[2J cleared ?31m\n');
      expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    } finally {
      scenario.cleanup();
    }
  });
});

describe('the day grid', () => {
  it('stays under its header for a processor key longer than the name column (40), whose whole name gets a line', async () => {
    const long = 'a_processor_key_that_is_much_longer_than_forty_characters';
    const scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {}, [long]: {} } }, [...successes('gamebook'), ...successes(long, ['2025-10-06'])]);
    try {
      const run = await scenario.check(WINDOW, { env: { NO_COLOR: '1' } });
      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      const header = lines.find((line) => line.startsWith('LEVEL'))!;
      const gridAt = header.indexOf('01');
      const named = lines.findIndex((line) => line.endsWith(long));
      expect(lines[named]).toBe(`ERROR    ${long}`);
      // Each day right-aligned in its header's two columns, as on every row.
      expect(lines[named + 1]).toBe(`${' '.repeat(gridAt)} S  S  S  S  S  M  S`);
      expect(lines.find((line) => line.startsWith('OK       gamebook'))!.slice(gridAt)).toBe(' S  S  S  S  S  S  S');
    } finally {
      scenario.cleanup();
    }
  });
});

describe('colours', () => {
  it.each([
    ['a terminal', true, {}, true],
    ['a pipe', false, {}, false],
    ['a terminal with NO_COLOR=1', false, { NO_COLOR: '1' }, true],
    ['a pipe with FORCE_COLOR=1', true, { FORCE_COLOR: '1' }, false],
    ['a terminal with FORCE_COLOR=0', false, { FORCE_COLOR: '0' }, true],
    ['a pipe with FORCE_COLOR=1 and NO_COLOR=1 (FORCE_COLOR wins, as in Node)', true, { FORCE_COLOR: '1', NO_COLOR: '1' }, false],
    ['a terminal with TERM=dumb (it draws no colour; Node says so too)', false, { TERM: 'dumb' }, true],
    ['a TERM=dumb terminal with FORCE_COLOR=1', true, { TERM: 'dumb', FORCE_COLOR: '1' }, true],
  ])('the report on %s is coloured: %s', async (_what, coloured, env, tty) => {
    const run = await erroring.check(WINDOW, { env, tty });
    expect(run.code).toBe(0);
    expect(run.stdout.includes(ESC)).toBe(coloured);
    expect(run.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toContain('Level ERROR: 1 processor checked, 0 critical, 1 error, 0 ok');
  });

  it('reads an empty NO_COLOR as unset (https://no-color.org)', () => {
    expect(colorModeFrom({ NO_COLOR: '' })).toBe('auto');
    expect(colorModeFrom({ FORCE_COLOR: 'false' })).toBe('never');
    expect(colorModeFrom({ FORCE_COLOR: '' })).toBe('always');
  });

  it("cuts a wide window's grid to a terminal's width, its newest days, and says so; a pipe gets every day", async () => {
    const month = [...WINDOW, '--lookback-days', '30'];
    const narrow = await erroring.check(month, { tty: true, columns: 60, env: { NO_COLOR: '1' } });
    expect(narrow.code).toBe(0);
    const lines = narrow.stdout.split('\n');
    // 9 columns of level, 11 of name: 40 left, 13 days of three.
    expect(lines).toContain('Grid: the last 13 of 30 days, to fit 60 columns; all: --format csv');
    const header = lines.find((line) => line.startsWith('LEVEL'))!;
    expect(header).toBe('LEVEL    PROCESSOR  25 26 27 28 29 30 01 02 03 04 05 06 07');
    expect(Math.max(...lines.filter((line) => line.startsWith('ERROR') || line.startsWith('LEVEL')).map((line) => line.length))).toBeLessThanOrEqual(60);
    // Never fewer than a week, however narrow; and a pipe (no width) gets all 30.
    const tiny = await erroring.check(month, { tty: true, columns: 20, env: { NO_COLOR: '1' } });
    expect(tiny.stdout.split('\n')).toContain('Grid: the last 7 of 30 days; all: --format csv');
    // A month's label over the last day shown stays within the grid: `Jan 2026` over 01 would pass it.
    const newYear = await erroring.check(['--date', '2026-01-01', '--now', '2026-01-02T12:00:00Z', '--dry-run', '--lookback-days', '30'], { tty: true, columns: 49, env: { NO_COLOR: '1' } });
    const newYearLines = newYear.stdout.split('\n');
    const newYearHeader = newYearLines.findIndex((line) => line.startsWith('LEVEL'));
    expect(newYearLines[newYearHeader - 1]!.length).toBeLessThanOrEqual(newYearLines[newYearHeader]!.length);
    const piped = await erroring.check(month, { env: { NO_COLOR: '1' } });
    expect(piped.stdout).not.toContain('Grid: the last');
    expect(piped.stdout.split('\n').find((line) => line.startsWith('LEVEL'))!.split(' ').filter(Boolean)).toHaveLength(2 + 30);
    // A week at 80 columns is whole, as before.
    expect((await erroring.check(WINDOW, { tty: true, columns: 80, env: { NO_COLOR: '1' } })).stdout).not.toContain('Grid: the last');
  });

  it('never colours the JSON document or CSV', async () => {
    for (const format of ['json', 'csv']) {
      const run = await erroring.check([...WINDOW, '--format', format], { env: { FORCE_COLOR: '1' }, tty: true });
      expect(run.stdout.includes(ESC)).toBe(false);
    }
  });
});

describe('progress', () => {
  it('is drawn on stderr while it is a terminal, and cleared before the report', async () => {
    const run = await erroring.check(WINDOW, { stderrTty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('checking 1 processor over 7 days in DuckDB');
    expect(run.stdout.startsWith('Processor health 2025-10-01 .. 2025-10-07')).toBe(true);
  });

  it('says how many processors are done while a check runs as several statements (over 500 processors on DuckDB)', async () => {
    const names = Array.from({ length: 501 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const many = await createScenario({ dataset: 'nba_reference', processors: Object.fromEntries(names.map((n) => [n, {}])) }, successes('p000'));
    try {
      const run = await many.check([...WINDOW, '--format', 'json'], { stderrTty: true });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('checking 501 processors over 7 days in DuckDB');
      expect(run.stderr).toMatch(/checking 501 processors over 7 days in DuckDB \S+: 500 of 501 processors done/);
      expect(run.stderr).toMatch(/: 501 of 501 processors done/);
      expect(JSON.parse(run.stdout).processors).toHaveLength(501);
    } finally {
      many.cleanup();
    }
  });

  it('writes nothing when stderr is not a terminal (piped, or in Cloud Run)', async () => {
    const run = await erroring.check(WINDOW);
    expect(run.stderr).toBe('');
  });
});
