/**
 * SPEC §10 (silent failures), hand-computed: each scenario is built the way a user builds one
 * (`pem schema apply`, rows inserted, `pem check --json-output`), and every expected number was
 * worked out from the SPEC's words, not from the implementation. E = 2025-10-07, now the next
 * noon UTC, so every date of the window is due.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { scenarioChecks, type RowSpec } from '../support/scenario.js';

const E = '2025-10-07';
const NOW = '2025-10-08T12:00:00Z';
const scenarios = scenarioChecks(['--date', E, '--now', NOW, '--dry-run']);
const ONE_DAY = ['--lookback-days', '1'];

let serial = 0;
/** A run of `processor` for `date` that starts at 01:00 UTC the next day and ends `minutes` later. */
function run(processor: string, date: string, status: string, records: number | null, minutes: number | null, startHour = 1): RowSpec[] {
  const id = `${processor}-${date}-${serial++}`;
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const started = new Date(next.getTime() + startHour * 3_600_000);
  const startedAt = started.toISOString();
  const completedAt = minutes === null ? null : new Date(started.getTime() + minutes * 60_000).toISOString();
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt },
    { run_id: id, processor_name: processor, processing_date: date, status, started_at: startedAt, completed_at: completedAt, records_processed: records },
  ];
}
const ok = (processor: string, date: string, records: number | null, minutes: number | null = 10, startHour = 1) =>
  run(processor, date, 'success', records, minutes, startHour);

/** `count` consecutive daily successes ending the day before `before`, each with `records` and `minutes`. */
function history(processor: string, before: string, count: number, records: number, minutes = 10): RowSpec[] {
  const rows: RowSpec[] = [];
  for (let back = 1; back <= count; back++) rows.push(...ok(processor, shift(before, -back), records, minutes));
  return rows;
}
/** Seven daily successes before E with the `usual` [records, minutes], then E's success with `today`'s. */
function sevenDaysThenE(processor: string, usual: [number, number?], today: [number, number?]): RowSpec[] {
  return [...history(processor, E, 7, usual[0], usual[1]), ...ok(processor, E, today[0], today[1])];
}
function shift(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
const registry = (processors: Record<string, unknown>) => ({ dataset: 'nba_reference', timezone: 'UTC', processors });
const proc = (json: any, name: string) => json.processors.find((p: any) => p.name === name);
const dayOf = (json: any, name: string, date = E) => proc(json, name).days.find((d: any) => d.date === date);

describe('the baseline of a date (SPEC §10)', () => {
  it('is the median of the success dates in the baseline_days days before D: the boundary date in, D and older dates out, null values ignored', async () => {
    // E's baseline window with baseline_days 5 is 10-02..10-06. 10-01 (D-6) is outside.
    const rows = [
      ...ok('p', '2025-10-01', 1_000_000, 600),
      ...ok('p', '2025-10-02', 10, 10),
      ...ok('p', '2025-10-03', 20, null),
      ...ok('p', '2025-10-04', null, 20),
      ...ok('p', '2025-10-05', 40, 30),
      ...ok('p', E, 4, 60.5),
    ];
    const json = await scenarios.check(registry({ p: { baseline_days: 5, baseline_min_dates: 3 } }), rows, ONE_DAY);
    const day = dayOf(json, 'p');
    // records: 10, 20, 40 → 20; durations: 10, 20, 30 min → 20 min.
    expect(day).toMatchObject({ status: 'success', records: 4, duration_seconds: 3630, baseline_records: 20, baseline_duration_seconds: 1200 });
    // 4 < 0.25 × 20 = 5; 60.5 min > 3 × 20 and exceeds it by 40.5 > 10 minutes.
    expect(day.anomalies).toEqual(['low_volume', 'slow']);
    expect(proc(json, 'p')).toMatchObject({ level: 'ERROR', low_volume_dates: [E], high_volume_dates: [], slow_dates: [E] });
  });

  it('compares strictly: records equal to the ratio × baseline, and a duration equal to ratio × baseline, are not anomalies', async () => {
    const rows = [...ok('p', '2025-10-02', 10, 10), ...ok('p', '2025-10-03', 20, 20), ...ok('p', '2025-10-05', 40, 30), ...ok('p', E, 5, 60)];
    const json = await scenarios.check(registry({ p: { baseline_days: 5, baseline_min_dates: 3 } }), rows, ONE_DAY);
    expect(dayOf(json, 'p')).toMatchObject({ records: 5, baseline_records: 20, duration_seconds: 3600, baseline_duration_seconds: 1200, anomalies: [] });
    expect(proc(json, 'p').level).toBe('OK');
  });

  it('takes the mean of the two middle values for an even number of dates', async () => {
    // 10, 20, 41, 1000 → (20 + 41) / 2 = 30.5; 7 < 0.25 × 30.5 = 7.625.
    const rows = [
      ...ok('p', '2025-10-03', 10, 4),
      ...ok('p', '2025-10-04', 20, 6),
      ...ok('p', '2025-10-05', 41, 9),
      ...ok('p', '2025-10-06', 1000, 100),
      ...ok('p', E, 7, 10),
    ];
    const json = await scenarios.check(registry({ p: { baseline_min_dates: 4 } }), rows, ONE_DAY);
    expect(dayOf(json, 'p')).toMatchObject({ baseline_records: 30.5, baseline_duration_seconds: 450, anomalies: ['low_volume'] });
  });

  it('needs baseline_min_dates dates (default 7): seven make a baseline, six do not', async () => {
    const rows = [...history('seven', E, 7, 100), ...ok('seven', E, 0), ...history('six', E, 6, 100), ...ok('six', E, 0)];
    const json = await scenarios.check(registry({ seven: {}, six: {} }), rows, ONE_DAY);
    expect(dayOf(json, 'seven')).toMatchObject({ records: 0, baseline_records: 100, anomalies: ['low_volume'] });
    expect(dayOf(json, 'six')).toMatchObject({ records: 0, baseline_records: null, baseline_duration_seconds: null, anomalies: [] });
    expect(proc(json, 'six').level).toBe('OK');
  });

  it('reaches back 28 days by default: the date 28 days before D counts, the date 29 days before does not', async () => {
    // Six successes at D-1..D-6 plus one at D-28 make seven; one at D-29 would not.
    const inside = [...history('inside', E, 6, 100), ...ok('inside', shift(E, -28), 100), ...ok('inside', E, 0)];
    const outside = [...history('outside', E, 6, 100), ...ok('outside', shift(E, -29), 100), ...ok('outside', E, 0)];
    const json = await scenarios.check(registry({ inside: {}, outside: {} }), [...inside, ...outside], ONE_DAY);
    expect(dayOf(json, 'inside')).toMatchObject({ baseline_records: 100, anomalies: ['low_volume'] });
    expect(dayOf(json, 'outside')).toMatchObject({ baseline_records: null, anomalies: [] });
  });

  it('reads success dates only: failed dates are out, a retried date uses its success run, two successes use the latest completed_at, skipped counts', async () => {
    const rows = [
      // 10-01 failed only: its 1000 records are not a baseline value.
      ...run('p', '2025-10-01', 'failed', 1000, 5),
      // 10-02: a failure (500) then a success (100, 30 min).
      ...run('p', '2025-10-02', 'failed', 500, 5, 1),
      ...run('p', '2025-10-02', 'success', 100, 30, 2),
      // 10-03: success B starts first and completes last (200, 60 min); A starts later, ends earlier (1, 5 min).
      ...run('p', '2025-10-03', 'success', 200, 60, 2),
      ...run('p', '2025-10-03', 'success', 1, 5, 2.5),
      // 10-04: skipped (300, 10 min).
      ...run('p', '2025-10-04', 'skipped', 300, 10),
      ...ok('p', E, 49, 10),
    ];
    const json = await scenarios.check(registry({ p: { baseline_min_dates: 3 } }), rows, ONE_DAY);
    // 100, 200, 300 → 200 (49 < 50); 30, 60, 10 min → 30 min.
    expect(dayOf(json, 'p')).toMatchObject({ records: 49, baseline_records: 200, baseline_duration_seconds: 1800, anomalies: ['low_volume'] });
  });

  it('takes records from the success run even when null there: no fallback to an earlier success', async () => {
    // 10-06: the run completed at 02:10 wrote no count; the one completed at 01:05 wrote 999.
    const rows = [...run('p', '2025-10-06', 'success', 999, 5, 1), ...run('p', '2025-10-06', 'success', null, 10, 2)];
    const json = await scenarios.check(registry({ p: {} }), rows, ['--lookback-days', '2']);
    expect(dayOf(json, 'p', '2025-10-06')).toMatchObject({ records: null, duration_seconds: 600 });
  });

  it('reads a success row without completed_at as completed before any that has one (our reading of "latest completed_at")', async () => {
    const rows = [...run('p', '2025-10-06', 'success', 999, 5, 1), ...run('p', '2025-10-06', 'success', 7, null, 2)];
    const json = await scenarios.check(registry({ p: {} }), rows, ['--lookback-days', '2']);
    expect(dayOf(json, 'p', '2025-10-06')).toMatchObject({ records: 999, duration_seconds: 300 });
  });

  it('gives each date of the window its own baseline, and a skipped date carries its own records', async () => {
    const rows = [
      ...history('p', '2025-10-06', 3, 100),
      ...run('p', '2025-10-06', 'skipped', 0, 10),
      ...ok('p', E, 100, 10),
    ];
    const json = await scenarios.check(registry({ p: { baseline_min_dates: 3 } }), rows, ['--lookback-days', '2']);
    // 10-06: baseline 100,100,100 → 0 < 25 (a skipped date can be low); E: 100,100,100,0 → 100.
    expect(dayOf(json, 'p', '2025-10-06')).toMatchObject({ status: 'success', records: 0, baseline_records: 100, anomalies: ['low_volume'] });
    expect(dayOf(json, 'p', E)).toMatchObject({ records: 100, baseline_records: 100, anomalies: [] });
  });
});

describe('volume and runtime rules (SPEC §10)', () => {
  it('low_volume: zero records is low over a baseline above 0, not over a baseline of 0; null disables it', async () => {
    const rows = [
      ...sevenDaysThenE('low', [1], [0]),
      ...sevenDaysThenE('zero', [0], [0]),
      ...sevenDaysThenE('off', [100], [0]),
    ];
    const json = await scenarios.check(registry({ low: {}, zero: {}, off: { volume_min_ratio: null } }), rows, ONE_DAY);
    expect(dayOf(json, 'low').anomalies).toEqual(['low_volume']);
    expect(dayOf(json, 'zero')).toMatchObject({ baseline_records: 0, anomalies: [] });
    expect(dayOf(json, 'off')).toMatchObject({ baseline_records: 100, anomalies: [] });
    expect(proc(json, 'off').level).toBe('OK');
  });

  it('high_volume is off by default and, with a ratio, flags records strictly above ratio × baseline', async () => {
    const rows = [
      ...sevenDaysThenE('default', [10], [1_000_000]),
      ...sevenDaysThenE('above', [10], [31]),
      ...sevenDaysThenE('equal', [10], [30]),
    ];
    const json = await scenarios.check(registry({ default: {}, above: { volume_max_ratio: 3 }, equal: { volume_max_ratio: 3 } }), rows, ONE_DAY);
    expect(dayOf(json, 'default').anomalies).toEqual([]);
    expect(dayOf(json, 'above').anomalies).toEqual(['high_volume']);
    expect(proc(json, 'above')).toMatchObject({ level: 'ERROR', high_volume_dates: [E], low_volume_dates: [] });
    expect(dayOf(json, 'equal').anomalies).toEqual([]);
  });

  it('slow needs both the ratio (default 3) and the excess (default 10 minutes); a null ratio disables it', async () => {
    const rows = [
      // 1 min → 5 min: 5× but only 4 minutes more.
      ...sevenDaysThenE('quick', [10, 1], [10, 5]),
      // 4 min → 14 min: 3.5× but exactly 10 minutes more.
      ...sevenDaysThenE('edge', [10, 4], [10, 14]),
      // 4 min → 14.5 min: 3.6× and 10.5 minutes more.
      ...sevenDaysThenE('slow', [10, 4], [10, 14.5]),
      // 20 min → 50 min: 30 minutes more but only 2.5×.
      ...sevenDaysThenE('long', [10, 20], [10, 50]),
      ...sevenDaysThenE('off', [10, 20], [10, 600]),
      // ratio 2 and 5 minutes: 20 → 41 min.
      ...sevenDaysThenE('tuned', [10, 20], [10, 41]),
    ];
    const json = await scenarios.check(
      registry({ quick: {}, edge: {}, slow: {}, long: {}, off: { runtime_max_ratio: null }, tuned: { runtime_max_ratio: 2, runtime_min_excess_minutes: 5 } }),
      rows,
      ONE_DAY,
    );
    expect(dayOf(json, 'quick').anomalies).toEqual([]);
    expect(dayOf(json, 'edge').anomalies).toEqual([]);
    expect(dayOf(json, 'slow')).toMatchObject({ duration_seconds: 870, baseline_duration_seconds: 240, anomalies: ['slow'] });
    expect(dayOf(json, 'long').anomalies).toEqual([]);
    expect(dayOf(json, 'off').anomalies).toEqual([]);
    expect(dayOf(json, 'tuned').anomalies).toEqual(['slow']);
    expect(proc(json, 'slow')).toMatchObject({ level: 'ERROR', slow_dates: [E], low_volume_dates: [], high_volume_dates: [] });
  });

  it('compares with decimal ratios as a person would: 0.55 × 100 is 55, 1.15 × 100 is 115, 2.3 × 11 min is 25.3 min', async () => {
    // Binary floating point makes these 55.00000000000001, 114.99999999999999 and 1517.9999999999998 s.
    const rows = [
      ...sevenDaysThenE('low_at', [100], [55]),
      ...sevenDaysThenE('low_under', [100], [54]),
      ...sevenDaysThenE('high_at', [100], [115]),
      ...sevenDaysThenE('high_over', [100], [116]),
      ...sevenDaysThenE('slow_at', [100, 11], [100, 25.3]),
      ...sevenDaysThenE('slow_over', [100, 11], [100, 25.4]),
    ];
    const low = { volume_min_ratio: 0.55 };
    const high = { volume_max_ratio: 1.15 };
    const slow = { runtime_max_ratio: 2.3 };
    const json = await scenarios.check(
      registry({ low_at: low, low_under: low, high_at: high, high_over: high, slow_at: slow, slow_over: slow }),
      rows,
      ONE_DAY,
    );
    expect(dayOf(json, 'low_at').anomalies).toEqual([]);
    expect(dayOf(json, 'low_under').anomalies).toEqual(['low_volume']);
    expect(dayOf(json, 'high_at').anomalies).toEqual([]);
    expect(dayOf(json, 'high_over').anomalies).toEqual(['high_volume']);
    expect(dayOf(json, 'slow_at')).toMatchObject({ duration_seconds: 1518, baseline_duration_seconds: 660, anomalies: [] });
    expect(dayOf(json, 'slow_over').anomalies).toEqual(['slow']);
  });

  it('an anomalous date makes the processor ERROR with a Slack-only alert, the day staying success', async () => {
    const json = await scenarios.check(registry({ p: {} }), [...history('p', E, 7, 100), ...ok('p', E, 0)], ONE_DAY);
    expect(json.level).toBe('ERROR');
    expect(proc(json, 'p')).toMatchObject({ level: 'ERROR', missing_dates: [], failed_dates: [], hung_dates: [], is_stale: false });
    expect(dayOf(json, 'p').status).toBe('success');
    const alerts = json.alerts.filter((a: any) => a.processor === 'p');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ level: 'ERROR', destinations: ['slack'], sent: false });
  });

  it('every §10 field is present on every day and processor, null or empty when it does not apply', async () => {
    const json = await scenarios.check(registry({ p: {}, q: {} }), [...ok('p', E, 5)]);
    for (const name of ['p', 'q']) {
      const processor = proc(json, name);
      for (const key of ['low_volume_dates', 'high_volume_dates', 'slow_dates']) expect(processor[key]).toEqual([]);
      expect(processor.days).toHaveLength(7);
      for (const day of processor.days) {
        for (const key of ['anomalies', 'records', 'duration_seconds', 'baseline_records', 'baseline_duration_seconds']) expect(day).toHaveProperty(key);
        expect(day.anomalies).toEqual([]);
        expect(day.baseline_records).toBeNull();
      }
    }
    expect(dayOf(json, 'p')).toMatchObject({ records: 5, duration_seconds: 600 });
    expect(dayOf(json, 'q')).toMatchObject({ records: null, duration_seconds: null });
  });

  it('a date that is not a success has no records or duration, even when its failed run wrote some', async () => {
    const json = await scenarios.check(registry({ p: {} }), [...run('p', E, 'failed', 100, 5)], ONE_DAY);
    expect(dayOf(json, 'p')).toMatchObject({ status: 'failed', records: null, duration_seconds: null, anomalies: [] });
  });
});

describe('max_runtime_minutes "auto" (SPEC §10)', () => {
  const running = (processor: string, date: string, minutesAgo: number): RowSpec[] => [
    { run_id: `${processor}-run`, processor_name: processor, processing_date: date, status: 'running', started_at: new Date(Date.parse(NOW) - minutesAgo * 60_000).toISOString() },
  ];
  it('is max(30, runtime_max_ratio × baseline duration of E) minutes, or 120 without a baseline', async () => {
    const rows = [
      // baseline 20 min → 60 min.
      ...history('b20_hung', E, 7, 10, 20),
      ...running('b20_hung', E, 61),
      ...history('b20_running', E, 7, 10, 20),
      ...running('b20_running', E, 59),
      // baseline 5 min → 15 → 30 min floor.
      ...history('b5_hung', E, 7, 10, 5),
      ...running('b5_hung', E, 31),
      ...history('b5_running', E, 7, 10, 5),
      ...running('b5_running', E, 29),
      // ratio 4 × 20 min = 80 min.
      ...history('r4', E, 7, 10, 20),
      ...running('r4', E, 70),
      // no baseline → 120 min.
      ...running('none_running', E, 119),
      ...running('none_hung', E, 121),
    ];
    const auto = { max_runtime_minutes: 'auto' };
    const json = await scenarios.check(
      registry({
        b20_hung: auto,
        b20_running: auto,
        b5_hung: auto,
        b5_running: auto,
        r4: { ...auto, runtime_max_ratio: 4 },
        none_running: auto,
        none_hung: auto,
      }),
      rows,
      ONE_DAY,
    );
    const status = (name: string) => dayOf(json, name).status;
    expect(status('b20_hung')).toBe('hung');
    expect(status('b20_running')).toBe('running');
    expect(status('b5_hung')).toBe('hung');
    expect(status('b5_running')).toBe('running');
    expect(status('r4')).toBe('running');
    expect(status('none_running')).toBe('running');
    expect(status('none_hung')).toBe('hung');
  });

  it('uses the baseline of E for a run of an earlier date', async () => {
    // 10-06's own window (09-08..10-05) holds seven 20-minute successes (→ 60 min); E's window
    // (09-09..10-06) holds only six of them: no baseline for E → 120 min. A 90-minute-old run of 10-06 is running.
    const rows = [...history('p', '2025-10-06', 6, 10, 20), ...ok('p', '2025-09-08', 10, 20), ...running('p', '2025-10-06', 90)];
    const json = await scenarios.check(registry({ p: { max_runtime_minutes: 'auto' } }), rows, ['--lookback-days', '2']);
    expect(dayOf(json, 'p', '2025-10-06').status).toBe('running');
  });
});

describe('processors that are not daily, and foreign tables (SPEC §10)', () => {
  it('a weekdays processor builds its baseline from its success dates, skipping the weekend', async () => {
    // D = Mon 10-06; the 7 days before hold Mon 09-29..Fri 10-03: five success dates.
    const rows = ['2025-09-29', '2025-09-30', '2025-10-01', '2025-10-02', '2025-10-03'].flatMap((d, i) => ok('wk', d, 100 + i * 10));
    rows.push(...ok('wk', '2025-10-06', 29));
    const json = await scenarios.check(
      registry({ wk: { expected_frequency: 'weekdays', baseline_days: 7, baseline_min_dates: 5 } }),
      rows,
      ['--date', '2025-10-06', '--lookback-days', '1'],
    );
    // 100..140 → 120; 29 < 30.
    expect(dayOf(json, 'wk', '2025-10-06')).toMatchObject({ baseline_records: 120, anomalies: ['low_volume'] });
  });

  it('a calendar processor builds its baseline from its success dates on game days', async () => {
    const gameDays = ['2025-09-20', '2025-09-24', '2025-09-28', '2025-10-02', '2025-10-07'];
    const rows = gameDays.slice(0, 4).flatMap((d) => ok('games', d, 50, 10));
    rows.push(...ok('games', E, 10, 45));
    const json = await scenarios.check(
      registry({ games: { expected_frequency: 'calendar', calendar_table: 'nba_reference.schedule', calendar_date_field: 'game_date', baseline_min_dates: 4 } }),
      rows,
      ['--lookback-days', '7'],
      ['CREATE TABLE nba_reference.schedule (game_date DATE)', `INSERT INTO nba_reference.schedule VALUES ${gameDays.map((d) => `('${d}')`).join(', ')}`],
    );
    // baseline 50 records / 10 min: 10 < 12.5 → low; 45 min > 30 and 35 more → slow.
    expect(dayOf(json, 'games')).toMatchObject({ baseline_records: 50, baseline_duration_seconds: 600, anomalies: ['low_volume', 'slow'] });
    expect(proc(json, 'games')).toMatchObject({ level: 'ERROR', missing_dates: [], low_volume_dates: [E], slow_dates: [E] });
  });

  const foreignSetup = (rows: [string, string, number | null, number][]) => [
    'CREATE TABLE nba_reference.job_log (job VARCHAR, run_date DATE, state VARCHAR, rows_written BIGINT, began TIMESTAMP, ended TIMESTAMP)',
    ...rows.map(
      ([date, state, written, minutes]) =>
        `INSERT INTO nba_reference.job_log VALUES ('loader', DATE '${date}', '${state}', ${written ?? 'NULL'}, TIMESTAMP '${date} 02:00:00', TIMESTAMP '${date} 02:00:00' + INTERVAL ${minutes * 60} SECOND)`,
    ),
  ];
  const foreign = (extra: Record<string, unknown>) => ({
    execution_table: 'nba_reference.job_log',
    processor_filter: "job = 'loader'",
    date_field: 'run_date',
    status_field: 'state',
    run_id_field: null,
    started_at_field: 'began',
    completed_at_field: 'ended',
    success_statuses: ['DONE'],
    failure_statuses: ['ERROR'],
    running_statuses: [],
    baseline_min_dates: 3,
    ...extra,
  });
  const foreignRows: [string, string, number | null, number][] = [
    ['2025-10-03', 'DONE', 100, 10],
    ['2025-10-04', 'ERROR', 9999, 1],
    ['2025-10-04', 'DONE', 200, 10],
    ['2025-10-05', 'DONE', 300, 10],
    [E, 'DONE', 10, 10],
  ];

  it('a foreign table reads records from records_field', async () => {
    const json = await scenarios.check(registry({ loader: foreign({ records_field: 'rows_written' }) }), [], ONE_DAY, foreignSetup(foreignRows));
    expect(dayOf(json, 'loader')).toMatchObject({ records: 10, baseline_records: 200, duration_seconds: 600, baseline_duration_seconds: 600, anomalies: ['low_volume'] });
  });

  it('records_field null: no records, no volume anomaly, runtime still measured', async () => {
    const json = await scenarios.check(registry({ loader: foreign({ records_field: null }) }), [], ONE_DAY, foreignSetup(foreignRows));
    expect(dayOf(json, 'loader')).toMatchObject({ records: null, baseline_records: null, duration_seconds: 600, baseline_duration_seconds: 600, anomalies: [] });
  });
});

describe('pem gaps and anomalies (SPEC §10)', () => {
  it('lists low and high volume dates for a re-run, not slow ones', async () => {
    const rows = [
      ...sevenDaysThenE('low', [100], [1]),
      ...sevenDaysThenE('high', [100], [1000]),
      ...sevenDaysThenE('slow', [100, 5], [100, 60]),
    ];
    const scenario = await scenarios.create(registry({ low: {}, high: { volume_max_ratio: 2 }, slow: {} }), rows);
    const gaps = await runCli(['gaps', '--config', scenario.registryPath, '--database', scenario.databasePath, '--date', E, '--now', NOW, '--lookback-days', '1', '--format', 'json']);
    expect(gaps.code).toBe(0);
    const listed = JSON.parse(gaps.stdout).map((g: any) => [g.processor ?? g.processor_name, g.processing_date, g.reason ?? g.status]);
    expect(listed).toEqual(
      expect.arrayContaining([
        ['high', E, 'high_volume'],
        ['low', E, 'low_volume'],
      ]),
    );
    expect(listed.some((g: any[]) => g[0] === 'slow')).toBe(false);
  });
});
