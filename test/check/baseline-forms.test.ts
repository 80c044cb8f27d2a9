/**
 * SPEC §10's baselines are computed on DuckDB in one of two forms, chosen by the window's length
 * (sql/dialects/duckdb/baseline_values.hbs): a range join for windows of up to 21 days (the form
 * BigQuery runs, proven equal to it by test/bigquery/differential.test.ts), a framed window beyond.
 * A date's baseline depends on the history before it, never on the window's length: so the dates a
 * 7-day check and a 30-day check share must carry the same measures, baselines, anomalies and
 * statuses (E's "auto" runtime limit included), whichever form computed them.
 * E = 2025-10-07 (Tue), now = 2025-10-08T12:00Z.
 */
import { describe, expect, it } from 'vitest';
import { scenarioChecks, type RowSpec } from '../support/scenario.js';

const E = '2025-10-07';
const NOW = '2025-10-08T12:00:00Z';

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Run `id` of `processor` for `date`: a running row and a final row, started `offsetMinutes` after 10:00Z the next day. */
function run(processor: string, date: string, shape: { status?: string; records?: number | null; minutes: number; id?: string; offsetMinutes?: number }): RowSpec[] {
  const startedAt = new Date(Date.parse(`${addDays(date, 1)}T10:00:00Z`) + (shape.offsetMinutes ?? 0) * 60_000).toISOString();
  const completedAt = new Date(Date.parse(startedAt) + shape.minutes * 60_000).toISOString();
  const id = shape.id ?? `${processor}-${date}`;
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt },
    { run_id: id, processor_name: processor, processing_date: date, status: shape.status ?? 'success', started_at: startedAt, completed_at: completedAt, records_processed: shape.records ?? null },
  ];
}

/**
 * 70 days of history before E per processor, uneven on purpose: records and durations that vary
 * (odd and even counts in a frame), NULL records every 5th date, failed and missing dates, a date
 * with two successful runs (the later one counts), and anomalies near E.
 */
function history(processor: string, salt: number): RowSpec[] {
  const rows: RowSpec[] = [];
  for (let back = 70; back >= 1; back--) {
    const date = addDays(E, -back);
    const i = back * 7 + salt;
    if (i % 11 === 0) continue; // missing
    if (i % 13 === 0) {
      rows.push(...run(processor, date, { status: 'failed', minutes: 3 }));
      continue;
    }
    const records = i % 5 === 0 ? null : 1_000 + ((i * 37) % 400);
    rows.push(...run(processor, date, { records, minutes: 10 + ((i * 13) % 25) }));
    if (i % 17 === 0) rows.push(...run(processor, date, { records: records === null ? 5 : records * 2, minutes: 40, id: `${processor}-${date}-rerun`, offsetMinutes: 120 }));
  }
  return rows;
}

const registry = {
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  processors: {
    defaults: {},
    short_baseline: { baseline_days: 10, baseline_min_dates: 3, volume_max_ratio: 1.3, max_runtime_minutes: 'auto' },
    auto_missing_e: { baseline_days: 21, baseline_min_dates: 5, max_runtime_minutes: 'auto' },
  },
};

const rows: RowSpec[] = [
  ...history('defaults', 0),
  ...run('defaults', addDays(E, -2), { records: 0, minutes: 12, id: 'defaults-low', offsetMinutes: 300 }),
  ...run('defaults', E, { records: 1_100, minutes: 120 }),
  ...history('short_baseline', 3),
  ...run('short_baseline', addDays(E, -1), { records: 5_000, minutes: 15, id: 'short-high', offsetMinutes: 300 }),
  // E still running, started 100 minutes before now: hung or not by E's "auto" limit.
  { run_id: 'short-e', processor_name: 'short_baseline', processing_date: E, status: 'running', started_at: new Date(Date.parse(NOW) - 100 * 60_000).toISOString() },
  ...history('auto_missing_e', 5),
];

const { check } = scenarioChecks(['--date', E, '--now', NOW]);

type Day = { date: string; status: string; anomalies?: string[]; baseline_records?: number | null };
type Processor = { name: string; days: Day[] };

describe('baselines on DuckDB, whichever form computes them', () => {
  it('are the same on the dates a 7-day (range join) and a 30-day (framed window) check share', async () => {
    const short = await check(registry, rows, ['--lookback-days', '7']);
    const long = await check(registry, rows, ['--lookback-days', '30']);
    const shared = (json: { processors: Processor[] }) =>
      Object.fromEntries(json.processors.map((p) => [p.name, p.days.filter((d) => d.date > addDays(E, -7))]));

    expect(shared(long)).toEqual(shared(short));
    // The comparison is not vacuous: the shared dates carry baselines and anomalies of each kind.
    const days = Object.values(shared(short)).flat();
    expect(days.filter((d) => d.baseline_records !== null && d.baseline_records !== undefined).length).toBeGreaterThan(10);
    expect(new Set(days.flatMap((d) => d.anomalies ?? []))).toEqual(new Set(['low_volume', 'high_volume', 'slow']));
  });

  it('are the same on the first dates of a 30-day check as in a 7-day check ending there', async () => {
    const end = addDays(E, -23);
    const long = await check(registry, rows, ['--lookback-days', '30']);
    const short = await check(registry, rows, ['--lookback-days', '7', '--date', end]);
    const firstWeek = (json: { processors: Processor[] }) =>
      Object.fromEntries(json.processors.map((p) => [p.name, p.days.filter((d) => d.date <= end)]));

    expect(firstWeek(long)).toEqual(firstWeek(short));
    expect(Object.values(firstWeek(short)).flat().filter((d) => typeof d.baseline_records === 'number').length).toBeGreaterThan(5);
  });
});
