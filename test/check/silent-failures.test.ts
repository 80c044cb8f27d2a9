/**
 * SPEC §10 (silent failures), rule by rule, on the embedded engine: `pem schema apply`, contract
 * rows, `pem check --json-output`, answers computed by hand. Window unless said otherwise:
 * E = 2025-10-07 (Tue), L = 7, W = 2025-10-01 .. 2025-10-07, now = 2025-10-08T12:00Z, every date due.
 * Runs start at 10:00Z the day after their date unless said otherwise.
 */
import { describe, expect, it } from 'vitest';
import { scenarioChecks, type RowSpec } from '../support/scenario.js';

const E = '2025-10-07';
const NOW = '2025-10-08T12:00:00Z';

const registry = (processors: Record<string, unknown>) => ({ dataset: 'nba_reference', timezone: 'America/New_York', processors });

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
/** Every date from `from` to `to`, both included. */
const dates = (from: string, to: string) => {
  const list: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) list.push(d);
  return list;
};

interface RunShape {
  status?: string;
  records?: number | null;
  minutes?: number;
  startedAt?: string;
  id?: string;
}

/** One run of `processor` for `date`: its running row and its final row (with records and a duration). */
function run(processor: string, date: string, shape: RunShape = {}): RowSpec[] {
  const startedAt = shape.startedAt ?? `${addDays(date, 1)}T10:00:00Z`;
  const completedAt = new Date(Date.parse(startedAt) + (shape.minutes ?? 10) * 60_000).toISOString();
  const id = shape.id ?? `${processor}-${date}`;
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt },
    {
      run_id: id,
      processor_name: processor,
      processing_date: date,
      status: shape.status ?? 'success',
      started_at: startedAt,
      completed_at: completedAt,
      records_processed: shape.records === undefined ? null : shape.records,
    },
  ];
}

/** A success on each date, each with the same shape. */
const successes = (processor: string, list: string[], shape: RunShape = {}) => list.flatMap((d) => run(processor, d, shape));

// A test's own --date / --now come after these and win.
const { check, create } = scenarioChecks(['--date', E, '--now', NOW]);

const dayOf = (p: { days: { date: string }[] }, date: string) => p.days.find((d) => d.date === date) as Record<string, unknown>;

describe('records, duration and baseline of a success date', () => {
  it('flags a zero-record success as low_volume against 28 days of 12,400 records, and makes the processor ERROR on Slack', async () => {
    const json = await check(registry({ p: {} }), [
      ...successes('p', dates('2025-09-03', '2025-10-06'), { records: 12_400, minutes: 35 }),
      ...run('p', E, { records: 0, minutes: 35 }),
    ]);
    const p = json.processors[0];
    expect(dayOf(p, E)).toEqual({
      date: E,
      status: 'success',
      runs: 1,
      failed_runs: 0,
      anomalies: ['low_volume'],
      records: 0,
      duration_seconds: 2100,
      baseline_records: 12_400,
      baseline_duration_seconds: 2100,
    });
    expect(dayOf(p, '2025-10-06').anomalies).toEqual([]);
    expect([p.low_volume_dates, p.high_volume_dates, p.slow_dates]).toEqual([[E], [], []]);
    expect([p.level, p.is_stale, json.level]).toEqual(['ERROR', false, 'ERROR']);
    expect(json.alerts).toEqual([{ level: 'ERROR', processor: 'p', destinations: ['slack'], route: 'default', sent: false, reason: 'no_destination' }]);
  });

  it('takes the median of an odd count, D excluded: 10, 50, 20, 40, 30 give 30', async () => {
    const reg = registry({ p: { baseline_days: 5, baseline_min_dates: 3 } });
    const history = [10, 50, 20, 40, 30].flatMap((records, i) => run('p', addDays('2025-10-02', i), { records, minutes: records }));
    // 7 < 0.25 × 30 = 7.5: low. Its own 7 records and 7 minutes are not part of its baseline.
    const json = await check(reg, [...history, ...run('p', E, { records: 7, minutes: 7 })]);
    const day = dayOf(json.processors[0], E);
    expect([day.baseline_records, day.baseline_duration_seconds, day.anomalies]).toEqual([30, 1800, ['low_volume']]);
  });

  it('takes the mean of the middle pair for an even count, ignoring dates whose value is null', async () => {
    const reg = registry({ p: { baseline_days: 5, baseline_min_dates: 3 } });
    // 10-03 wrote no records value and 10-05 has no start time: 4 values each, 10, 20, 30, 40 → 25.
    const rows = [
      ...run('p', '2025-10-02', { records: 10, minutes: 10 }),
      ...run('p', '2025-10-03', { records: null, minutes: 30 }),
      ...run('p', '2025-10-04', { records: 20, minutes: 20 }),
      { run_id: 'x', processor_name: 'p', processing_date: '2025-10-05', status: 'success', started_at: null, completed_at: '2025-10-06T10:00:00Z', records_processed: 40 },
      ...run('p', '2025-10-06', { records: 30, minutes: 40 }),
      ...run('p', E, { records: 6, minutes: 5 }),
    ];
    const json = await check(reg, rows);
    const p = json.processors[0];
    // 6 < 0.25 × 25 = 6.25: low; durations 10, 30, 20, 40 min → 25 min = 1500 s.
    expect(dayOf(p, E)).toMatchObject({ records: 6, duration_seconds: 300, baseline_records: 25, baseline_duration_seconds: 1500, anomalies: ['low_volume'] });
    expect(dayOf(p, '2025-10-05')).toMatchObject({ records: 40, duration_seconds: null });
  });

  it('has no baseline, and so no anomaly, with fewer than baseline_min_dates values', async () => {
    const reg = registry({ p: { baseline_days: 5, baseline_min_dates: 4 } });
    const rows = [
      ...run('p', '2025-10-02', { records: 10 }),
      ...run('p', '2025-10-03', { records: null }),
      ...run('p', '2025-10-04', { records: 20 }),
      ...run('p', '2025-10-06', { records: 30 }),
      ...run('p', E, { records: 0 }),
    ];
    const json = await check(reg, rows);
    const p = json.processors[0];
    // 3 records values (fewer than 4), but 4 durations of 10 minutes: a duration baseline only.
    expect(dayOf(p, E)).toMatchObject({ records: 0, baseline_records: null, baseline_duration_seconds: 600, anomalies: [] });
    expect([p.low_volume_dates, p.level]).toEqual([[], 'ERROR']);
    // ERROR here because 10-01 and 10-05 are missing, not because of the zero.
    expect(p.missing_dates).toEqual(['2025-10-01', '2025-10-05']);
  });

  it('reads exactly baseline_days before D: a success 29 days before is not part of the default baseline', async () => {
    // 6 successes within the 28 days before 10-01, and one on 09-02 (29 days before): fewer than 7.
    const rows = [
      ...successes('p', ['2025-09-02', '2025-09-03', '2025-09-10', '2025-09-15', '2025-09-20', '2025-09-25', '2025-09-30'], { records: 100 }),
      ...run('p', '2025-10-01', { records: 0 }),
    ];
    const json = await check(registry({ p: {} }), rows, ['--lookback-days', '1', '--date', '2025-10-01', '--now', '2025-10-02T12:00:00Z']);
    expect(dayOf(json.processors[0], '2025-10-01')).toMatchObject({ records: 0, baseline_records: null, anomalies: [] });
    // One more inside the 28 days makes 7: now the zero is low.
    const seven = await check(registry({ p: {} }), [...rows, ...run('p', '2025-09-05', { records: 100 })], ['--lookback-days', '1', '--date', '2025-10-01', '--now', '2025-10-02T12:00:00Z']);
    expect(dayOf(seven.processors[0], '2025-10-01')).toMatchObject({ baseline_records: 100, anomalies: ['low_volume'] });
  });

  it('keeps measures and baselines null on dates that are not a success', async () => {
    const json = await check(registry({ p: {} }), [
      ...successes('p', dates('2025-09-20', '2025-10-05'), { records: 50 }),
      ...run('p', '2025-10-06', { status: 'failed', records: 0 }),
    ]);
    const p = json.processors[0];
    const nothing = { anomalies: [], records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null };
    expect(dayOf(p, '2025-10-06')).toMatchObject({ status: 'failed', ...nothing });
    expect(dayOf(p, E)).toMatchObject({ status: 'missing', ...nothing });
  });
});

describe('the terminal report', () => {
  it('shows an anomalous success as A in the grid, and the anomaly with its numbers', async () => {
    const scenario = await create(registry({ p: {} }), [
      ...successes('p', dates('2025-09-03', '2025-10-05'), { records: 12_400, minutes: 35 }),
      ...run('p', '2025-10-06', { records: 12_000, minutes: 190 }),
      ...run('p', E, { records: 0, minutes: 35 }),
    ]);
    const { code, stdout } = await scenario.check(['--date', E, '--now', NOW, '--dry-run']);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines).toContain('ERROR    p           S  S  S  S  S  A  A');
    expect(lines).toContain('         low volume: 2025-10-07 (0 records; usual 12,400)');
    expect(lines).toContain('         slow: 2025-10-06 (3 h 10 min; usual 35 min)');
    expect(lines).toContain('Days: S success, s recovered, A anomalous success, F failed, H hung, R running, M missing, P pending, . not expected');
  });
});

describe('which run of a date counts', () => {
  it('a retried date: the success after a failure is the success run, and failed dates are no baseline dates', async () => {
    const reg = registry({ p: { baseline_days: 6, baseline_min_dates: 3 } });
    const rows = [
      ...run('p', '2025-10-01', { records: 100 }),
      // Failed dates (a run that wrote 0 before failing) never enter a baseline.
      ...run('p', '2025-10-02', { status: 'failed', records: 0 }),
      ...run('p', '2025-10-03', { status: 'failed', records: 0 }),
      ...run('p', '2025-10-04', { records: 120 }),
      // Retried: failed at 10:00, then succeeded with 110 records.
      ...run('p', '2025-10-05', { status: 'failed', records: 1, id: 'try1' }),
      ...run('p', '2025-10-05', { records: 110, id: 'try2', startedAt: '2025-10-06T11:00:00Z' }),
      ...run('p', '2025-10-06', { records: 20 }),
    ];
    const json = await check(reg, rows);
    const p = json.processors[0];
    expect(dayOf(p, '2025-10-05')).toMatchObject({ status: 'success', failed_runs: 1, records: 110 });
    // 10-06: success dates 10-01, 10-04, 10-05 → 100, 120, 110 → 110; 20 < 27.5: low.
    expect(dayOf(p, '2025-10-06')).toMatchObject({ baseline_records: 110, anomalies: ['low_volume'] });
    expect(p.recovered_failure_dates).toEqual(['2025-10-05']);
  });

  it('two successes on one date: the one completed last is the success run', async () => {
    const reg = registry({ p: { baseline_days: 3, baseline_min_dates: 3, volume_max_ratio: 2 } });
    const rows = [
      ...successes('p', ['2025-10-04', '2025-10-05', '2025-10-06'], { records: 1000 }),
      // The earlier run wrote 1,000 in 10 minutes; a re-run completed later wrote 5,000 in 20.
      ...run('p', E, { records: 1000, id: 'first', minutes: 10, startedAt: '2025-10-08T06:00:00Z' }),
      ...run('p', E, { records: 5000, id: 'second', minutes: 20, startedAt: '2025-10-08T07:00:00Z' }),
    ];
    const json = await check(reg, rows);
    const p = json.processors[0];
    expect(dayOf(p, E)).toMatchObject({ runs: 2, records: 5000, duration_seconds: 1200, anomalies: ['high_volume'] });
    expect(p.high_volume_dates).toEqual([E]);
  });

  it("one run with two final success rows: the run's records are its latest final row's, null included (SPEC §2)", async () => {
    const reg = registry({ p: { baseline_days: 3, baseline_min_dates: 3 } });
    // Written as another writer may (pem's own keep the first row of a run and status): a second
    // final row, completed later, without a count.
    const rows = successes('p', ['2025-10-04', '2025-10-05', '2025-10-06'], { records: 1000 });
    const json = await check(reg, rows, [], [
      `INSERT INTO nba_reference.processor_run_history (run_id, processor_name, processing_date, status, started_at, completed_at, records_processed) VALUES
        ('p-e', 'p', DATE '${E}', 'running', TIMESTAMPTZ '2025-10-08 10:00:00+00', NULL, NULL),
        ('p-e', 'p', DATE '${E}', 'success', TIMESTAMPTZ '2025-10-08 10:00:00+00', TIMESTAMPTZ '2025-10-08 10:10:00+00', 10),
        ('p-e', 'p', DATE '${E}', 'success', TIMESTAMPTZ '2025-10-08 10:00:00+00', TIMESTAMPTZ '2025-10-08 10:15:00+00', NULL)`,
    ]);
    const p = json.processors[0];
    // Its state is the row completed at 10:15, which wrote no count: no records, so no low_volume from the 10 of the row before.
    expect(dayOf(p, E)).toMatchObject({ status: 'success', runs: 1, records: null, duration_seconds: 900, anomalies: [] });
    expect(p.low_volume_dates).toEqual([]);
  });
});

describe('baselines over success dates only', () => {
  it('weekdays: the weekend adds no baseline dates (5 in the 7 days before a Monday)', async () => {
    const history = ['2025-09-29', '2025-09-30', '2025-10-01', '2025-10-02', '2025-10-03'];
    const rows = [...successes('p', history, { records: 500 }), ...run('p', '2025-10-06', { records: 5 })];
    const at = (minDates: number) =>
      check(registry({ p: { expected_frequency: 'weekdays', baseline_days: 7, baseline_min_dates: minDates } }), rows, ['--date', '2025-10-06', '--now', '2025-10-07T12:00:00Z']);
    expect(dayOf((await at(5)).processors[0], '2025-10-06')).toMatchObject({ baseline_records: 500, anomalies: ['low_volume'] });
    expect(dayOf((await at(6)).processors[0], '2025-10-06')).toMatchObject({ baseline_records: null, anomalies: [] });
  });

  it('calendar: game dates that succeeded form the baseline, whatever lies between them', async () => {
    const games = ['2025-09-10', '2025-09-14', '2025-09-20', '2025-09-26', '2025-10-01', '2025-10-04', '2025-10-07'];
    const json = await check(
      registry({
        p: { expected_frequency: 'calendar', calendar_table: 'nba_reference.games', calendar_date_field: 'game_date', baseline_min_dates: 5 },
      }),
      [
        ...successes('p', games.slice(0, 6), { minutes: 30 }),
        // 3 h 10 min against a median of 30 min: slow (190 > 90 and 160 > 10).
        ...run('p', E, { minutes: 190 }),
      ],
      // It ends at 13:10, after the usual now (SPEC §13: a check at 12:00 still sees it running).
      ['--now', '2025-10-08T14:00:00Z'],
      [`CREATE TABLE nba_reference.games AS SELECT CAST(d AS DATE) AS game_date FROM (VALUES ${games.map((g) => `('${g}')`).join(', ')}) t(d)`],
    );
    const p = json.processors[0];
    expect(dayOf(p, E)).toMatchObject({ duration_seconds: 11_400, baseline_duration_seconds: 1800, anomalies: ['slow'] });
    // 10-04 has 5 game dates that succeeded in its 28 days (enough); 10-01 only 4.
    expect(dayOf(p, '2025-10-04')).toMatchObject({ baseline_duration_seconds: 1800 });
    expect(dayOf(p, '2025-10-01')).toMatchObject({ baseline_duration_seconds: null });
    expect([p.slow_dates, p.level]).toEqual([[E], 'ERROR']);
  });
});

describe('slow', () => {
  const history = successes('p', dates('2025-09-30', '2025-10-06'), { minutes: 2 });

  it('needs both the ratio and the excess: 7 minutes against 2 is 3.5× but only 5 minutes more', async () => {
    const json = await check(registry({ p: {} }), [...history, ...run('p', E, { minutes: 7 })]);
    expect(dayOf(json.processors[0], E)).toMatchObject({ duration_seconds: 420, baseline_duration_seconds: 120, anomalies: [] });
  });

  it('is slow past both: 13 minutes against 2 (6.5×, 11 minutes more)', async () => {
    const json = await check(registry({ p: {} }), [...history, ...run('p', E, { minutes: 13 })]);
    expect(dayOf(json.processors[0], E).anomalies).toEqual(['slow']);
  });

  it('follows runtime_max_ratio and runtime_min_excess_minutes', async () => {
    const json = await check(registry({ p: { runtime_max_ratio: 1.5, runtime_min_excess_minutes: 0 } }), [...history, ...run('p', E, { minutes: 4 })]);
    expect(dayOf(json.processors[0], E).anomalies).toEqual(['slow']);
  });
});

describe('defaults, and null turning a rule off', () => {
  const history = successes('p', dates('2025-09-30', '2025-10-06'), { records: 1000, minutes: 10 });

  it('by default: low below 0.25× (249 of 1,000 is low, 250 is not), no high_volume at any size', async () => {
    const json = await check(registry({ p: {} }), [...history, ...run('p', E, { records: 250 })]);
    expect(dayOf(json.processors[0], E).anomalies).toEqual([]);
    const low = await check(registry({ p: {} }), [...history, ...run('p', E, { records: 249 })]);
    expect(dayOf(low.processors[0], E).anomalies).toEqual(['low_volume']);
    const huge = await check(registry({ p: {} }), [...history, ...run('p', E, { records: 1_000_000 })]);
    expect(dayOf(huge.processors[0], E)).toMatchObject({ records: 1_000_000, baseline_records: 1000, anomalies: [] });
  });

  it('volume_min_ratio null: a zero-record success is no anomaly', async () => {
    const json = await check(registry({ p: { volume_min_ratio: null } }), [...history, ...run('p', E, { records: 0 })]);
    const p = json.processors[0];
    expect([dayOf(p, E).anomalies, p.level]).toEqual([[], 'OK']);
  });

  it('runtime_max_ratio null: a run ten times as long is no anomaly', async () => {
    const json = await check(registry({ p: { runtime_max_ratio: null } }), [...history, ...run('p', E, { records: 1000, minutes: 100 })]);
    expect(dayOf(json.processors[0], E).anomalies).toEqual([]);
  });

  it('lists every anomaly of a date, in the order low_volume, high_volume, slow', async () => {
    const json = await check(registry({ p: { volume_max_ratio: 2 } }), [...history, ...run('p', E, { records: 0, minutes: 60 })]);
    const p = json.processors[0];
    expect(dayOf(p, E).anomalies).toEqual(['low_volume', 'slow']);
    expect([p.low_volume_dates, p.high_volume_dates, p.slow_dates]).toEqual([[E], [], [E]]);
  });

  it('leaves a stale processor CRITICAL when it also has an anomaly', async () => {
    const json = await check(registry({ p: { staleness_threshold_days: 0 } }), [
      ...successes('p', dates('2025-09-28', '2025-10-04'), { records: 1000 }),
      ...run('p', '2025-10-05', { records: 0 }),
    ]);
    const p = json.processors[0];
    expect([p.low_volume_dates, p.is_stale, p.level]).toEqual([['2025-10-05'], true, 'CRITICAL']);
  });
});

describe('max_runtime_minutes: "auto"', () => {
  /** A run of E still running, started `minutes` before now. */
  const runningFor = (minutes: number): RowSpec => ({
    run_id: 'now',
    processor_name: 'p',
    processing_date: E,
    status: 'running',
    started_at: new Date(Date.parse(NOW) - minutes * 60_000).toISOString(),
  });
  const statusOfE = async (processor: Record<string, unknown>, history: RowSpec[], minutes: number) => {
    const json = await check(registry({ p: { max_runtime_minutes: 'auto', ...processor } }), [...history, runningFor(minutes)]);
    return dayOf(json.processors[0], E).status;
  };

  it('is runtime_max_ratio × the duration baseline of E: 3 × 20 min = 60 min', async () => {
    const history = successes('p', dates('2025-09-30', '2025-10-06'), { minutes: 20 });
    expect(await statusOfE({}, history, 60)).toBe('running');
    expect(await statusOfE({}, history, 61)).toBe('hung');
  });

  it('shows no baseline on E while it runs or hangs: the baseline that sets the limit belongs to success dates (SPEC §10)', async () => {
    const json = await check(registry({ p: { max_runtime_minutes: 'auto' } }), [...successes('p', dates('2025-09-30', '2025-10-06'), { minutes: 20, records: 100 }), runningFor(61)]);
    expect(dayOf(json.processors[0], E)).toMatchObject({ status: 'hung', records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null });
  });

  it('never goes below 30 minutes: 3 × 5 min would be 15', async () => {
    const history = successes('p', dates('2025-09-30', '2025-10-06'), { minutes: 5 });
    expect(await statusOfE({}, history, 29)).toBe('running');
    expect(await statusOfE({}, history, 31)).toBe('hung');
  });

  it('is 120 minutes without a baseline (too few dates)', async () => {
    const history = successes('p', dates('2025-10-01', '2025-10-06'), { minutes: 5 });
    expect(await statusOfE({}, history, 119)).toBe('running');
    expect(await statusOfE({}, history, 121)).toBe('hung');
  });

  it('is 120 minutes when runtime_max_ratio is null', async () => {
    const history = successes('p', dates('2025-09-30', '2025-10-06'), { minutes: 5 });
    expect(await statusOfE({ runtime_max_ratio: null }, history, 119)).toBe('running');
    expect(await statusOfE({ runtime_max_ratio: null }, history, 121)).toBe('hung');
  });
});

describe('foreign execution tables', () => {
  it('reads records from records_field, and none with records_field null', async () => {
    const history = dates('2025-09-26', '2025-10-06')
      .map((d) => `('x', DATE '${d}', 'OK', TIMESTAMP '${addDays(d, 1)} 10:00:00', TIMESTAMP '${addDays(d, 1)} 10:10:00', 800)`)
      .join(', ');
    const setup = [
      'CREATE SCHEMA ops',
      `CREATE TABLE ops.job_log AS SELECT * FROM (VALUES ${history}, ('x', DATE '2025-10-07', 'OK', TIMESTAMP '2025-10-08 10:00:00', TIMESTAMP '2025-10-08 10:10:00', 0)) t(job, ds, state, begun, done, rows_written)`,
    ];
    const foreign = {
      execution_table: 'ops.job_log',
      processor_filter: "job = 'x'",
      date_field: 'ds',
      status_field: 'state',
      run_id_field: null,
      started_at_field: 'begun',
      completed_at_field: 'done',
      success_statuses: ['OK'],
      failure_statuses: [],
      running_statuses: [],
    };
    const json = await check(registry({ mapped: { ...foreign, records_field: 'rows_written' }, unmapped: { ...foreign, records_field: null } }), [], [], setup);
    const [mapped, unmapped] = json.processors;
    expect(dayOf(mapped, E)).toMatchObject({ records: 0, duration_seconds: 600, baseline_records: 800, anomalies: ['low_volume'] });
    expect(dayOf(unmapped, E)).toMatchObject({ records: null, duration_seconds: 600, baseline_records: null, baseline_duration_seconds: 600, anomalies: [] });
  });
});
