/**
 * A check of a long window holds its processors' days packed (PackedDays in src/check/report.ts)
 * and gives them back as the same DayReport objects: the same document, the same days, whatever
 * the statuses, anomalies and numbers. A short window keeps them as objects.
 */
import { describe, expect, it } from 'vitest';
import { buildCheckResult, PACKED_WINDOW_DAYS, type CheckResult, type CheckWindow } from '../../src/check/report.js';
import { parseRegistry } from '../../src/config/registry.js';
import type { Row } from '../../src/warehouse/types.js';

const parsed = parseRegistry({ dataset: 'nba_reference', processors: { gamebook: {}, roster: {} } });
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const registry = parsed.registry;

const DAYS = 40;
const END = '2025-10-07';
const dates = Array.from({ length: DAYS }, (_, i) => new Date(Date.UTC(2025, 9, 7 - (DAYS - 1 - i))).toISOString().slice(0, 10));
const STATUSES = ['success', 'failed', 'hung', 'running', 'missing', 'pending', 'not_expected'];
/** Numbers a day may carry: fractions, zero, negatives zero, integers past 32 bits, and null. */
const MEASURES = [0, 61.5, 12_400, 2 ** 40 + 3, null, 0.1 + 0.2, -0];

function rows(statusOf: (processor: number, day: number) => string): Row[] {
  const out: Row[] = [];
  ['gamebook', 'roster'].forEach((name, p) => {
    dates.forEach((date, d) => {
      const measure = (k: number) => MEASURES[(d + k + p) % MEASURES.length] ?? null;
      out.push({
        processor_name: name,
        display_name: name.toUpperCase(),
        processor_level: 'ERROR',
        priority: 'high',
        revenue_impact: p === 0,
        last_success_date: dates[3]!,
        days_since_success: 36,
        is_stale: false,
        scheduler_issue: false,
        staleness_threshold_days: 2,
        problem_since: dates[5]!,
        processing_date: date,
        day_status: statusOf(p, d),
        runs: (d * 7 + p) % 5,
        failed_runs: d % 3,
        is_recovered_failure: d % 11 === 0,
        is_expected: d % 4 !== 0,
        is_due: d < DAYS - 1,
        due_at: `${date}T04:00:00.000Z`,
        is_problem_date: d % 6 === 0,
        // Run times and errors (the day details): null, canonical, on days 29-31, and another form.
        first_started_at: d % 5 === 0 ? null : `${date}T0${d % 10}:1${p}:0${d % 7}.${String(d * 7).padStart(3, '0')}Z`,
        last_completed_at: d % 7 === 0 ? null : d === 13 && p === 1 ? `${date}T09:00:00Z` : `${date}T23:59:59.999Z`,
        last_error_type: d % 8 === 1 ? 'TimeoutError' : null,
        last_error_message: d % 8 === 1 || d % 10 === 3 ? `run ${d} of ${name} stopped` : null,
        records: measure(0),
        duration_seconds: measure(1),
        baseline_records: measure(2),
        baseline_duration_seconds: measure(3),
        // Every combination of the three anomalies, day after day.
        is_low_volume: (d & 1) !== 0,
        is_high_volume: (d & 2) !== 0,
        is_slow: (d & 4) !== 0,
        blocked_by: d % 9 === 0 ? 'upstream_a,upstream_b' : null,
      });
    });
  });
  return out;
}

const window = (lookbackDays: number): CheckWindow => ({ endDate: END, windowStart: dates[0]!, lookbackDays, now: new Date('2025-10-08T12:00:00Z') });
const daysArePacked = (result: CheckResult) => result.report.processors.map((p) => Object.getOwnPropertyDescriptor(p, 'days')?.get !== undefined);
/** The document but for lookback_days, which is what differs between the two windows. */
const documentOf = (result: CheckResult) => JSON.stringify({ ...result.report, lookback_days: null }, null, 2);

describe('packed days', () => {
  it(`are packed in a window over ${PACKED_WINDOW_DAYS} days and read back as the same days and document`, () => {
    const input = rows((p, d) => STATUSES[(d + p) % STATUSES.length]!);
    const packed = buildCheckResult(input, registry, window(DAYS));
    const plain = buildCheckResult(input, registry, window(PACKED_WINDOW_DAYS));
    expect(daysArePacked(packed)).toEqual([true, true]);
    expect(daysArePacked(plain)).toEqual([false, false]);

    expect(documentOf(packed)).toBe(documentOf(plain));
    expect(packed.report.processors.map((p) => p.days)).toEqual(plain.report.processors.map((p) => p.days));
    // Against the rows themselves, not only the other path: every day, every value, -0 included.
    packed.report.processors.forEach((p, i) => {
      const own = input.filter((r) => r.processor_name === p.name);
      expect(p.days).toHaveLength(DAYS);
      p.days.forEach((day, d) => {
        const row = own[d]!;
        expect(day.date).toBe(row.processing_date);
        expect(day.status).toBe(row.day_status);
        expect([day.runs, day.failed_runs]).toEqual([row.runs, row.failed_runs]);
        expect(Object.is(day.records, row.records)).toBe(true);
        expect(Object.is(day.duration_seconds, row.duration_seconds)).toBe(true);
        expect(Object.is(day.baseline_records, row.baseline_records)).toBe(true);
        expect(Object.is(day.baseline_duration_seconds, row.baseline_duration_seconds)).toBe(true);
        expect(day.anomalies).toEqual(
          (['low_volume', 'high_volume', 'slow'] as const).filter((_, k) => ((d >> k) & 1) === 1),
        );
      });
      expect(p.name).toBe(['gamebook', 'roster'][i]);
    });
    // Read twice, the same; a change to what one read returned is not kept.
    const first = packed.report.processors[0]!;
    first.days[0]!.status = 'missing';
    expect(first.days[0]!.status).toBe(input[0]!.day_status);
  });

  it('hold the day details packed when asked, and read them back the same, value by value', () => {
    const input = rows((p, d) => STATUSES[(d + p) % STATUSES.length]!);
    const packed = buildCheckResult(input, registry, window(DAYS), { dayDetails: true, packDayDetails: true });
    const plain = buildCheckResult(input, registry, window(DAYS), { dayDetails: true });
    const detailsArePacked = (result: CheckResult) =>
      Object.values(result.details).map((d) => Object.getOwnPropertyDescriptor(d, 'days')?.get !== undefined);
    // roster's day 13 finished at '…T09:00:00Z' (no milliseconds): it would not come back the same, so its days stay objects.
    expect(detailsArePacked(packed)).toEqual([true, false]);
    expect(detailsArePacked(plain)).toEqual([false, false]);
    expect(packed.details).toEqual(plain.details);
    expect(Object.keys(packed.details['gamebook']!)).toEqual(Object.keys(plain.details['gamebook']!));
    const own = input.filter((r) => r.processor_name === 'gamebook');
    packed.details['gamebook']!.days.forEach((day, d) => {
      const row = own[d]!;
      expect(day).toEqual({
        date: row.processing_date,
        is_expected: row.is_expected,
        is_due: row.is_due,
        due_at: row.due_at,
        is_problem_date: row.is_problem_date,
        first_started_at: row.first_started_at,
        last_completed_at: row.last_completed_at,
        last_error_type: row.last_error_type,
        last_error_message: row.last_error_message,
      });
    });
    // Days 29-31 of a month are among them (the window ends 2025-10-07, so it spans 2025-08-29 on).
    expect(own.some((r) => String(r.processing_date).endsWith('-31'))).toBe(true);
  });

  it('keeps as objects the days of a processor with a status outside the day statuses', () => {
    const result = buildCheckResult(
      rows((p, d) => (p === 1 && d === 7 ? 'unheard_of' : 'success')),
      registry,
      window(DAYS),
    );
    expect(daysArePacked(result)).toEqual([true, false]);
    expect(result.report.processors[1]!.days[7]!.status).toBe('unheard_of');
  });
});
