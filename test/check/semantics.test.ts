/**
 * SPEC §4, rule by rule, on the embedded engine: each scenario builds a DuckDB file through
 * `pem schema apply`, inserts contract rows, and compares `pem check --json-output` with answers
 * computed by hand. Window unless said otherwise: E = 2025-10-07 (Tue), L = 7, so
 * W = 2025-10-01 (Wed) .. 2025-10-07; now = 2025-10-08T12:00Z (08:00 in New York), every date due.
 */
import { describe, expect, it } from 'vitest';
import { scenarioChecks, type RowSpec } from '../support/scenario.js';

const E = '2025-10-07';
const NOW = '2025-10-08T12:00:00Z';
const WINDOW = ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07'];

const registry = (processors: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  processors,
  ...extra,
});

/** A complete run: its start row and its end row, sharing run_id. */
function run(id: string, processor: string, date: string, status: string, startedAt: string, minutes = 10, extra: Partial<RowSpec> = {}): RowSpec[] {
  const started = new Date(startedAt);
  const completed = new Date(started.getTime() + minutes * 60_000).toISOString();
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt },
    { run_id: id, processor_name: processor, processing_date: date, status, started_at: startedAt, completed_at: completed, ...extra },
  ];
}

/** A daily success for every date of the window except those listed. */
function dailySuccesses(processor: string, except: string[] = [], dates = WINDOW): RowSpec[] {
  return dates.filter((d) => !except.includes(d)).flatMap((d) => run(`${processor}-${d}`, processor, d, 'success', `${nextDay(d)}T10:00:00Z`));
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

const statuses = (p: { days: { status: string }[] }) => p.days.map((d) => d.status);

/** A day of the JSON document; SPEC §10's measures are null/empty unless given (a success run's duration, …). */
function day(date: string, status: string, runs: number, failed_runs: number, measures: Record<string, unknown> = {}) {
  return { date, status, runs, failed_runs, anomalies: [], records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null, ...measures };
}

// A test's own --date / --now come after these and win.
const { check, create } = scenarioChecks(['--date', E, '--now', NOW]);

describe('day status', () => {
  it('is success for a run whose start and end rows share a run_id', async () => {
    const json = await check(registry({ p: {} }), dailySuccesses('p'));
    expect(statuses(json.processors[0])).toEqual(Array(7).fill('success'));
    expect(json.processors[0].days[0]).toEqual(day('2025-10-01', 'success', 1, 0, { duration_seconds: 600 }));
    expect(json.level).toBe('INFO');
  });

  it('is failed when runs exist and none succeeded', async () => {
    const json = await check(registry({ p: {} }), [
      ...dailySuccesses('p', ['2025-10-03']),
      ...run('f1', 'p', '2025-10-03', 'failed', '2025-10-04T10:00:00Z'),
      ...run('f2', 'p', '2025-10-03', 'failed', '2025-10-04T11:00:00Z'),
    ]);
    const p = json.processors[0];
    expect(p.days[2]).toEqual(day('2025-10-03', 'failed', 2, 2));
    expect(p.failed_dates).toEqual(['2025-10-03']);
    expect(p.level).toBe('ERROR');
  });

  it('is success with a recovered failure when a retry succeeded', async () => {
    const json = await check(registry({ p: {} }), [
      ...dailySuccesses('p', ['2025-10-05']),
      ...run('f', 'p', '2025-10-05', 'failed', '2025-10-06T10:00:00Z', 5, { errors: [{ error_type: 'Timeout', error_message: 'slow upstream' }] }),
      ...run('s', 'p', '2025-10-05', 'success', '2025-10-06T11:00:00Z'),
    ]);
    const p = json.processors[0];
    expect(p.days[4]).toEqual(day('2025-10-05', 'success', 2, 1, { duration_seconds: 600 }));
    expect(p.recovered_failure_dates).toEqual(['2025-10-05']);
    expect(p.failed_dates).toEqual([]);
    expect(p.level).toBe('OK');
  });

  it('raises ERROR for a recovered failure only when alert_on_recovered_failures is true', async () => {
    const rows = [
      ...dailySuccesses('p', ['2025-10-05']),
      ...run('f', 'p', '2025-10-05', 'failed', '2025-10-06T10:00:00Z'),
      ...run('s', 'p', '2025-10-05', 'success', '2025-10-06T11:00:00Z'),
    ];
    const json = await check(registry({ p: { alert_on_recovered_failures: true } }), rows);
    expect(json.processors[0].level).toBe('ERROR');
    expect(json.alerts).toEqual([{ level: 'ERROR', processor: 'p', destinations: ['slack'], route: 'default', sent: false, reason: 'no_destination' }]);
  });

  it('takes the end row with the latest completed_at when a run has several', async () => {
    const rows: RowSpec[] = [
      ...dailySuccesses('p', ['2025-10-02', '2025-10-03']),
      { run_id: 'a', processor_name: 'p', processing_date: '2025-10-02', status: 'running', started_at: '2025-10-03T10:00:00Z' },
      { run_id: 'a', processor_name: 'p', processing_date: '2025-10-02', status: 'success', started_at: '2025-10-03T10:00:00Z', completed_at: '2025-10-03T10:05:00Z' },
      { run_id: 'a', processor_name: 'p', processing_date: '2025-10-02', status: 'failed', started_at: '2025-10-03T10:00:00Z', completed_at: '2025-10-03T10:09:00Z' },
      { run_id: 'b', processor_name: 'p', processing_date: '2025-10-03', status: 'failed', started_at: '2025-10-04T10:00:00Z', completed_at: '2025-10-04T10:05:00Z' },
      { run_id: 'b', processor_name: 'p', processing_date: '2025-10-03', status: 'success', started_at: '2025-10-04T10:00:00Z', completed_at: '2025-10-04T10:09:00Z' },
    ];
    const json = await check(registry({ p: {} }), rows);
    const p = json.processors[0];
    expect(p.days[1]).toEqual(day('2025-10-02', 'failed', 1, 1));
    expect(p.days[2]).toEqual(day('2025-10-03', 'success', 1, 0, { duration_seconds: 540 }));
  });

  it('counts skipped as a success', async () => {
    const json = await check(registry({ p: {} }), [...dailySuccesses('p', ['2025-10-07']), ...run('k', 'p', '2025-10-07', 'skipped', '2025-10-08T10:00:00Z')]);
    expect(json.processors[0].days[6].status).toBe('success');
    expect(json.processors[0].last_success_date).toBe('2025-10-07');
  });

  it.each([
    ['running when the newest running run started within max_runtime_minutes', '2025-10-08T11:00:00Z', 'running'],
    ['running at exactly max_runtime_minutes', '2025-10-08T10:00:00Z', 'running'],
    ['hung once the newest running run is older than max_runtime_minutes', '2025-10-08T09:59:59Z', 'hung'],
  ])('is %s', async (_name, startedAt, expected) => {
    const json = await check(registry({ p: { max_runtime_minutes: 120 } }), [
      ...dailySuccesses('p', ['2025-10-07']),
      { run_id: 'r', processor_name: 'p', processing_date: '2025-10-07', status: 'running', started_at: startedAt },
    ]);
    const p = json.processors[0];
    expect(p.days[6]).toEqual(day('2025-10-07', expected, 1, 0));
    expect(p.hung_dates).toEqual(expected === 'hung' ? ['2025-10-07'] : []);
    expect(p.level).toBe(expected === 'hung' ? 'ERROR' : 'OK');
  });

  it('judges hung by the newest of several running runs', async () => {
    const json = await check(registry({ p: {} }), [
      ...dailySuccesses('p', ['2025-10-07']),
      { run_id: 'old', processor_name: 'p', processing_date: '2025-10-07', status: 'running', started_at: '2025-10-08T01:00:00Z' },
      { run_id: 'new', processor_name: 'p', processing_date: '2025-10-07', status: 'running', started_at: '2025-10-08T11:30:00Z' },
    ]);
    expect(json.processors[0].days[6]).toEqual(day('2025-10-07', 'running', 2, 0));
  });

  it('is missing for an expected, due date with no run row, and pending before it is due', async () => {
    // 20:00Z on 10-07 is 16:00 in New York: 10-07 is not due until 04:00Z on 10-08.
    const json = await check(registry({ p: {} }), dailySuccesses('p', ['2025-10-06', '2025-10-07']), ['--now', '2025-10-07T20:00:00Z']);
    const p = json.processors[0];
    expect(statuses(p).slice(5)).toEqual(['missing', 'pending']);
    expect(p.missing_dates).toEqual(['2025-10-06']);
  });

  it('does not count rows with a status in no list as a run', async () => {
    const json = await check(registry({ p: {} }), [
      ...dailySuccesses('p', ['2025-10-04']),
      { run_id: 'q', processor_name: 'p', processing_date: '2025-10-04', status: 'queued', started_at: '2025-10-05T10:00:00Z' },
    ]);
    expect(json.processors[0].days[3]).toEqual(day('2025-10-04', 'missing', 0, 0));
  });
});

describe('due dates and time zones', () => {
  it('honours grace_hours: due at the next local midnight plus the grace', async () => {
    // 10-07 is due at 2025-10-08T04:00Z + 6 h = 10:00Z.
    const reg = registry({ p: { grace_hours: 6 } });
    const rows = dailySuccesses('p', ['2025-10-07']);
    expect(statuses((await check(reg, rows, ['--now', '2025-10-08T09:59:59Z'])).processors[0])[6]).toBe('pending');
    expect(statuses((await check(reg, rows, ['--now', '2025-10-08T10:00:00Z'])).processors[0])[6]).toBe('missing');
  });

  it('is right on the day New York falls back (2025-11-02, a 25-hour day)', async () => {
    // 11-01 is due at 11-02 00:00 EDT = 04:00Z; 11-02 at 11-03 00:00 EST = 05:00Z.
    const json = await check(registry({ p: {} }), [], ['--date', '2025-11-02', '--lookback-days', '2', '--now', '2025-11-03T04:30:00Z']);
    expect(json.processors[0].days.map((d: { date: string; status: string }) => [d.date, d.status])).toEqual([
      ['2025-11-01', 'missing'],
      ['2025-11-02', 'pending'],
    ]);
  });

  it('is right on the day New York springs forward (2025-03-09, a 23-hour day)', async () => {
    // 03-08 is due at 03-09 00:00 EST = 05:00Z; 03-09 at 03-10 00:00 EDT = 04:00Z.
    const reg = registry({ p: {} });
    const at = async (now: string) =>
      statuses((await check(reg, [], ['--date', '2025-03-09', '--lookback-days', '2', '--now', now])).processors[0]);
    expect(await at('2025-03-10T03:59:59Z')).toEqual(['missing', 'pending']);
    expect(await at('2025-03-10T04:00:00Z')).toEqual(['missing', 'missing']);
  });

  it('uses each processor its own time zone', async () => {
    // At 2025-10-08T02:00Z it is already 10-08 in UTC (10-07 due) but still 10-07 22:00 in New York.
    const json = await check(registry({ ny: {}, utc: { timezone: 'UTC' } }), [], ['--now', '2025-10-08T02:00:00Z']);
    const [ny, utc] = json.processors;
    expect(ny.days[6].status).toBe('pending');
    expect(utc.days[6].status).toBe('missing');
  });

  it('defaults the end date to today in the registry time zone', async () => {
    const scenario = await create(registry({ p: {} }), []);
    const { json } = await scenario.check(['--json-output', '--now', '2025-10-08T02:00:00Z']);
    expect(json.as_of_date).toBe('2025-10-07');
    expect(json.window_start).toBe('2025-10-01');
    expect(json.now).toBe('2025-10-08T02:00:00.000Z');
  });
});

describe('expected frequencies', () => {
  it('weekdays: Saturday and Sunday are not expected', async () => {
    const json = await check(registry({ p: { expected_frequency: 'weekdays' } }), []);
    expect(statuses(json.processors[0])).toEqual(['missing', 'missing', 'missing', 'not_expected', 'not_expected', 'missing', 'missing']);
  });

  it('weekly: only the listed weekdays are expected, and a run on another day still counts', async () => {
    const json = await check(registry({ p: { expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'] } }), [
      ...run('x', 'p', '2025-10-04', 'success', '2025-10-05T10:00:00Z'),
    ]);
    expect(statuses(json.processors[0])).toEqual(['not_expected', 'missing', 'not_expected', 'success', 'not_expected', 'missing', 'not_expected']);
  });

  it('calendar: the dates of the calendar table (with its filter) are expected', async () => {
    const json = await check(
      registry({
        p: {
          expected_frequency: 'calendar',
          calendar_table: 'nba_reference.game_schedule',
          calendar_date_field: 'game_date',
          calendar_filter: "season = '2025-26'",
        },
      }),
      run('g', 'p', '2025-10-02', 'success', '2025-10-03T10:00:00Z'),
      [],
      [
        `CREATE TABLE nba_reference.game_schedule AS SELECT * FROM (VALUES (DATE '2025-10-02', '2025-26'), (DATE '2025-10-05', '2025-26'), (DATE '2025-10-06', '2024-25')) t(game_date, season)`,
      ],
    );
    expect(statuses(json.processors[0])).toEqual(['not_expected', 'success', 'not_expected', 'not_expected', 'missing', 'not_expected', 'not_expected']);
  });

  it('none: nothing is expected, so nothing is missing, stale or a scheduler issue', async () => {
    const json = await check(registry({ p: { expected_frequency: 'none' } }), []);
    const p = json.processors[0];
    expect(statuses(p)).toEqual(Array(7).fill('not_expected'));
    expect([p.level, p.is_stale, p.scheduler_issue]).toEqual(['OK', false, false]);
  });
});

describe('last success and staleness', () => {
  it('finds the last success over the whole history, not only the window', async () => {
    const json = await check(registry({ p: {} }), run('old', 'p', '2025-09-20', 'success', '2025-09-21T10:00:00Z'));
    const p = json.processors[0];
    expect([p.last_success_date, p.days_since_success, p.is_stale]).toEqual(['2025-09-20', 17, true]);
    expect(p.days.map((d: { date: string }) => d.date)).toEqual(WINDOW);
  });

  it('ignores runs for dates after the end date', async () => {
    const json = await check(registry({ p: {} }), [...dailySuccesses('p', WINDOW.slice(3)), ...run('later', 'p', '2025-10-09', 'success', '2025-10-08T11:00:00Z')]);
    const p = json.processors[0];
    expect(p.last_success_date).toBe('2025-10-03');
    expect(p.days.every((d: { date: string }) => d.date <= E)).toBe(true);
  });

  it.each([
    ['2025-10-05', 2, false],
    ['2025-10-04', 3, true],
  ])('with threshold 2 and last success %s (%i days) is stale: %s', async (last, days, stale) => {
    const json = await check(registry({ p: { staleness_threshold_days: 2 } }), run('s', 'p', last, 'success', `${nextDay(last)}T10:00:00Z`));
    const p = json.processors[0];
    expect([p.days_since_success, p.is_stale, p.level]).toEqual([days, stale, stale ? 'CRITICAL' : 'ERROR']);
  });

  it('is not stale when no expected, due date follows the last success (weekly, before its next day)', async () => {
    // Weekly on Mondays; last success Mon 09-29; E = Sun 10-05: 6 days > 2, but the next Monday is after E.
    const reg = registry({ p: { expected_frequency: 'weekly', expected_weekdays: ['MON'], staleness_threshold_days: 2 } });
    const rows = run('m', 'p', '2025-09-29', 'success', '2025-09-30T10:00:00Z');
    const sunday = await check(reg, rows, ['--date', '2025-10-05', '--now', '2025-10-06T12:00:00Z']);
    expect([sunday.processors[0].days_since_success, sunday.processors[0].is_stale, sunday.processors[0].level]).toEqual([6, false, 'OK']);
    // E = Tue 10-07: Monday 10-06 was expected and is due, and missing: stale.
    const tuesday = await check(reg, rows);
    expect([tuesday.processors[0].is_stale, tuesday.processors[0].level]).toEqual([true, 'CRITICAL']);
  });

  it('is not stale off-season: a calendar processor with no game since its last success', async () => {
    const json = await check(
      registry({ p: { expected_frequency: 'calendar', calendar_table: 'nba_reference.games', calendar_date_field: 'd', staleness_threshold_days: 3 } }),
      run('s', 'p', '2025-06-20', 'success', '2025-06-21T10:00:00Z'),
      [],
      [`CREATE TABLE nba_reference.games AS SELECT * FROM (VALUES (DATE '2025-06-20'), (DATE '2025-10-21')) t(d)`],
    );
    const p = json.processors[0];
    expect([p.days_since_success, p.is_stale, p.scheduler_issue, p.level]).toEqual([109, false, false, 'OK']);
  });

  it('is stale when it never succeeded and a date in the window was expected and due', async () => {
    const json = await check(registry({ p: {} }), run('f', 'p', '2025-10-07', 'failed', '2025-10-08T10:00:00Z'));
    const p = json.processors[0];
    expect([p.last_success_date, p.days_since_success, p.is_stale, p.scheduler_issue, p.level]).toEqual([null, null, true, false, 'CRITICAL']);
  });

  it('is not stale when it never succeeded but nothing in the window is due yet', async () => {
    const json = await check(registry({ p: {} }), [], ['--lookback-days', '1', '--now', '2025-10-07T20:00:00Z']);
    const p = json.processors[0];
    expect([statuses(p), p.is_stale, p.scheduler_issue, p.level]).toEqual([['pending'], false, false, 'OK']);
  });
});

describe('scheduler issue, levels and alerts', () => {
  it('flags an empty run history: every date missing, stale and a scheduler issue', async () => {
    const json = await check(registry({ p: {} }), []);
    const p = json.processors[0];
    expect(p.missing_dates).toEqual(WINDOW);
    expect([p.is_stale, p.scheduler_issue, p.level, json.level]).toEqual([true, true, 'CRITICAL', 'CRITICAL']);
    expect(json.alerts).toEqual([{ level: 'CRITICAL', processor: 'p', destinations: ['pagerduty', 'slack'], route: 'default', sent: false, reason: 'no_destination' }]);
  });

  it('is no scheduler issue when rows of any status exist in the window', async () => {
    const json = await check(registry({ p: {} }), [
      ...run('old', 'p', '2025-09-30', 'success', '2025-10-01T10:00:00Z'),
      { run_id: 'q', processor_name: 'p', processing_date: '2025-10-02', status: 'queued', started_at: '2025-10-03T10:00:00Z' },
    ]);
    const p = json.processors[0];
    expect([p.scheduler_issue, p.is_stale]).toEqual([false, true]);
  });

  it('raises a WARNING summary when two or more processors have issues, and INFO when all are healthy', async () => {
    const json = await check(registry({ a: {}, b: {}, c: {} }), [...dailySuccesses('a', ['2025-10-03']), ...dailySuccesses('b'), ...dailySuccesses('c').slice(0, 2)]);
    expect(json.processors.map((p: { name: string; level: string }) => [p.name, p.level])).toEqual([
      ['a', 'ERROR'],
      ['b', 'OK'],
      ['c', 'CRITICAL'],
    ]);
    expect(json.level).toBe('CRITICAL');
    expect(json.alerts).toEqual([
      { level: 'CRITICAL', processor: 'c', destinations: ['pagerduty', 'slack'], route: 'default', sent: false, reason: 'no_destination' },
      { level: 'ERROR', processor: 'a', destinations: ['slack'], route: 'default', sent: false, reason: 'no_destination' },
      { level: 'WARNING', processor: null, destinations: ['slack'], route: 'default', sent: false, reason: 'no_destination' },
    ]);
    const healthy = await check(registry({ b: {} }), dailySuccesses('b'));
    expect(healthy.level).toBe('INFO');
    // The INFO note is delivered by printing it to the console (docs/alerts.md).
    expect(healthy.alerts).toEqual([{ level: 'INFO', processor: null, destinations: ['console'], route: null, sent: true, reason: null }]);
  });
});

describe('processor selection', () => {
  const reg = registry({ zeta: {}, alpha: {}, off: { enabled: false } });

  it('checks all enabled processors, sorted by name', async () => {
    const json = await check(reg, []);
    expect(json.processors.map((p: { name: string }) => p.name)).toEqual(['alpha', 'zeta']);
  });

  it('checks only the named ones, disabled ones included', async () => {
    const json = await check(reg, [], ['--processors', 'zeta,off']);
    expect(json.processors.map((p: { name: string }) => p.name)).toEqual(['off', 'zeta']);
  });

  // SPEC §3: disabled processors are not checked, so their tables are not read: retiring one
  // processor's table must not stop the monitoring of the others.
  const retired = registry({
    live: { depends_on: ['feed'] },
    feed: {},
    old_runs: { enabled: false, execution_table: 'legacy.old_runs' },
    old_calendar: { enabled: false, expected_frequency: 'calendar', calendar_table: 'nba_reference.game_schedule', calendar_date_field: 'game_date' },
  });

  it("reads no table of a processor it does not check: a disabled one's, or one --processors leaves out", async () => {
    const json = await check(retired, [...dailySuccesses('live'), ...dailySuccesses('feed')]);
    expect(json.processors.map((p: { name: string; level: string }) => [p.name, p.level])).toEqual([
      ['feed', 'OK'],
      ['live', 'OK'],
    ]);
    // live's upstream is evaluated beside it, from its own table: still read.
    const enabledButLeftOut = { ...retired, processors: { ...retired.processors, old_runs: { execution_table: 'legacy.old_runs' } } };
    const narrow = await check(enabledButLeftOut, [...dailySuccesses('live'), ...dailySuccesses('feed')], ['--processors', 'live']);
    expect(narrow.processors.map((p: { name: string }) => p.name)).toEqual(['live']);
  });

  it('names the processor and the registry key behind a table it cannot read, in one line, exit 1', async () => {
    const scenario = await create(retired, dailySuccesses('live'));
    const runs = await scenario.check(['--json-output', '--date', E, '--now', NOW, '--processors', 'old_runs']);
    expect(runs).toMatchObject({ code: 1, stdout: '' });
    expect(runs.stderr).toMatch(/^error: DuckDB .*legacy\.old_runs.* \(legacy\.old_runs is the execution_table of processor old_runs: create it or correct the registry\)\n$/);
    const calendar = await scenario.check(['--json-output', '--date', E, '--now', NOW, '--processors', 'old_calendar,live']);
    expect(calendar).toMatchObject({ code: 1, stdout: '' });
    expect(calendar.stderr).toMatch(
      /^error: DuckDB .*game_schedule.* \(nba_reference\.game_schedule is the calendar_table of processor old_calendar: create it or correct the registry\)\n$/,
    );
    // Both at once: DuckDB stops at the first table it cannot find, and the second is named all the same.
    const both = await scenario.check(['--json-output', '--date', E, '--now', NOW, '--processors', 'old_runs,old_calendar']);
    expect(both).toMatchObject({ code: 1, stdout: '' });
    expect(both.stderr).toContain('legacy.old_runs is the execution_table of processor old_runs');
    expect(both.stderr).toContain('nba_reference.game_schedule is the calendar_table of processor old_calendar');
    expect(both.stderr).toMatch(/: create them or correct the registry\)\n$/);
  });
});

describe('processor filters', () => {
  it('applies a custom filter even when other processors of the same table use the default one', async () => {
    const json = await check(
      registry({ gamebook: { processor_filter: "processor_name = 'gamebook' AND trigger_source = 'scheduler'" }, roster: {} }),
      [
        ...run('g1', 'gamebook', '2025-10-07', 'failed', '2025-10-08T10:00:00Z').map((row) => ({ ...row, trigger_source: 'backfill' })),
        ...run('g2', 'gamebook', '2025-10-06', 'success', '2025-10-07T10:00:00Z'),
        ...dailySuccesses('roster'),
      ],
      ['--lookback-days', '2'],
    );
    const [gamebook, roster] = json.processors;
    expect(gamebook.days).toEqual([day('2025-10-06', 'success', 1, 0, { duration_seconds: 600 }), day('2025-10-07', 'missing', 0, 0)]);
    expect(statuses(roster)).toEqual(['success', 'success']);
  });
});

describe('foreign execution tables', () => {
  it("reads all of E from a date_field that holds a time of day too (TIMESTAMP): E's rows are not dropped at its midnight", async () => {
    const foreign = {
      execution_table: 'ops.job_log',
      processor_filter: "job = 'g'",
      date_field: 'ran',
      status_field: 'state',
      run_id_field: null,
      started_at_field: null,
      completed_at_field: null,
      records_field: null,
      success_statuses: ['OK'],
    };
    const json = await check(
      registry({ g: foreign, cal: { ...foreign, expected_frequency: 'calendar', calendar_table: 'ops.games', calendar_date_field: 'tip_off' } }),
      [],
      [],
      [
        'CREATE SCHEMA ops',
        `CREATE TABLE ops.job_log AS SELECT 'g' AS job, 'OK' AS state, ran FROM (VALUES
          (TIMESTAMP '2025-10-05 19:30:00'), (TIMESTAMP '2025-10-06 19:30:00'), (TIMESTAMP '2025-10-07 19:30:00')) t(ran)`,
        `CREATE TABLE ops.games AS SELECT tip_off FROM (VALUES (TIMESTAMP '2025-10-06 19:30:00'), (TIMESTAMP '2025-10-07 19:30:00')) t(tip_off)`,
      ],
    );
    const [cal, g] = json.processors;
    expect(statuses(g).slice(-3)).toEqual(['success', 'success', 'success']);
    expect(g.last_success_date).toBe(E);
    // The calendar's game of E makes E an expected date, and its run a success.
    expect(statuses(cal).slice(-2)).toEqual(['success', 'success']);
  });

  it('maps a table with its own filter, fields and statuses; without run ids each row is a run', async () => {
    const json = await check(
      registry({
        gamebook_processor: {
          execution_table: 'ops.job_log',
          processor_filter: "job = 'gamebook' AND env = 'prod'",
          date_field: 'day',
          status_field: 'state',
          run_id_field: null,
          started_at_field: null,
          completed_at_field: 'finished',
          success_statuses: ['OK'],
          failure_statuses: ['ERROR'],
          running_statuses: ['RUNNING'],
          // The table has no records column (SPEC §10: the default is records_processed).
          records_field: null,
        },
      }),
      [],
      [],
      [
        'CREATE SCHEMA ops',
        `CREATE TABLE ops.job_log AS SELECT * FROM (VALUES
          ('gamebook', 'prod', DATE '2025-10-01', 'OK', TIMESTAMP '2025-10-02 10:00:00'),
          ('gamebook', 'prod', DATE '2025-10-02', 'ERROR', TIMESTAMP '2025-10-03 10:00:00'),
          ('gamebook', 'prod', DATE '2025-10-02', 'ERROR', TIMESTAMP '2025-10-03 10:00:00'),
          ('gamebook', 'prod', DATE '2025-10-03', 'RUNNING', NULL),
          ('gamebook', 'dev',  DATE '2025-10-04', 'OK', TIMESTAMP '2025-10-05 10:00:00'),
          ('roster',   'prod', DATE '2025-10-05', 'OK', TIMESTAMP '2025-10-06 10:00:00'),
          ('gamebook', 'prod', DATE '2025-10-06', 'OK', TIMESTAMP '2025-10-07 10:00:00'),
          ('gamebook', 'prod', DATE '2025-10-07', 'OK', TIMESTAMP '2025-10-08 10:00:00')
        ) t(job, env, day, state, finished)`,
      ],
    );
    const p = json.processors[0];
    // A running row without a started_at column is never hung; two identical rows are two runs.
    expect(statuses(p)).toEqual(['success', 'failed', 'running', 'missing', 'missing', 'success', 'success']);
    expect(p.days[1]).toEqual(day('2025-10-02', 'failed', 2, 2));
  });
});
