/**
 * The BigQuery bytes model (bench/bytes-model.ts) reads what it prices off the SQL a deployment
 * runs: these tests change the registry and expect the scans the rendered SQL then has.
 * test/bigquery/partition-bounds.test.ts checks the same reading against ZetaSQL's resolved AST.
 */
import { describe, expect, it } from 'vitest';
import { deployedCheckReads, MIN_BILLED_PER_TABLE, modelCheck } from '../../bench/bytes-model.js';
import { syntheticRegistryDocument } from '../../bench/dataset.js';
import { parseRegistry, type Registry } from '../../src/config/registry.js';
import { daysBeforeWindow } from '../../src/sql/health.js';

function registryOf(document: Record<string, unknown>): Registry {
  const result = parseRegistry(document);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.registry;
}

describe('the BigQuery bytes model', () => {
  it('reads one scan of W and the 28 baseline days, with every run-history column the check uses', () => {
    const reads = deployedCheckReads(registryOf(syntheticRegistryDocument(3)));
    expect(reads.historyScans).toEqual([
      {
        table: 'bench-project.bench.processor_run_history',
        fromDaysBeforeWindow: { fixedDays: 28, reachDays: 0 },
        toDaysBeforeWindow: null,
        columns: ['completed_at', 'errors', 'processing_date', 'processor_name', 'records_processed', 'run_id', 'started_at', 'status'],
      },
    ]);
  });

  /** The days before W each scan reads from and to, at window length `lookbackDays`, for `processor`'s settings. */
  function thresholdScans(settings: Record<string, unknown>, lookbackDays: number): [number, number | null][] {
    const document = syntheticRegistryDocument(3) as { processors: Record<string, Record<string, unknown>> };
    const [first] = Object.keys(document.processors);
    document.processors[first!] = { ...document.processors[first!], ...settings };
    return deployedCheckReads(registryOf(document)).historyScans.map((s) => [
      daysBeforeWindow(s.fromDaysBeforeWindow, lookbackDays),
      s.toDaysBeforeWindow === null ? null : daysBeforeWindow(s.toDaysBeforeWindow, lookbackDays),
    ]);
  }

  it('reads nothing before W and its baseline days for a daily threshold whose dates lie in W (SPEC §14)', () => {
    // 3 dates, and E not due yet (grace 0): 4 days back from E, within a 7-day window.
    expect(thresholdScans({ expected_frequency: 'daily', alert_after_dates: 2, alert_within_dates: 3 }, 7)).toEqual([
      [28, null],
      [28, 28],
    ]);
  });

  it('follows a threshold that reaches past W: a second scan of the older days and their baseline days (SPEC §12, §10)', () => {
    // Daily, 10 dates and E: 11 days back from E, 4 of them before a 7-day window, and their 28 baseline days.
    expect(thresholdScans({ expected_frequency: 'daily', alert_after_dates: 2, alert_within_dates: 10 }, 7)).toEqual([
      [28, null],
      [32, 28],
    ]);
    // The same registry checked over 30 days reads nothing older.
    expect(thresholdScans({ expected_frequency: 'daily', alert_after_dates: 2, alert_within_dates: 10 }, 30)[1]).toEqual([28, 28]);
    // Weekly on Mondays and Thursdays with 6 hours of grace, 3 dates (5 with E and E − 1 perhaps not
    // due): 3 weeks back from E, 14 days before a 7-day window.
    expect(thresholdScans({ expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'], grace_hours: 6, alert_after_dates: 2, alert_within_dates: 3 }, 7)).toEqual([
      [28, null],
      [42, 28],
    ]);
    // Daily with 23.5 hours of grace, 5 dates: E, E − 1 and E − 2 may not be due (a spring-forward
    // day holds 23 hours, so E − 2 is due at 00:30 on E): 8 days back from E, 1 before W.
    expect(thresholdScans({ expected_frequency: 'daily', grace_hours: 23.5, alert_after_dates: 2, alert_within_dates: 5 }, 7)[1]).toEqual([29, 28]);
    // Weekdays, 5 dates and E: two weeks back from E covers six weekdays, 7 days before W.
    expect(thresholdScans({ expected_frequency: 'weekdays', alert_after_dates: 2, alert_within_dates: 5 }, 7)[1]).toEqual([35, 28]);
    // A calendar's dates have no bound: 7 × M days before W, as before.
    expect(
      thresholdScans({ expected_frequency: 'calendar', calendar_table: 'bench.game_calendar', calendar_date_field: 'game_date', alert_after_dates: 2, alert_within_dates: 10 }, 7)[1],
    ).toEqual([98, 28]);
  });

  it('bills two tables at 1,000 processors: the run history and processor_last_success, each at the 10 MB minimum', () => {
    const row = modelCheck(1000, 730, 7);
    expect(row.tables).toBe(2);
    expect(row.billedBytes).toBe(2 * MIN_BILLED_PER_TABLE);
  });
});
