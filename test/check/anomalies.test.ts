/** SPEC §10 in words: the numbers alerts and reports show beside an anomalous success. */
import { describe, expect, it } from 'vitest';
import { anomalyFact, describeAnomalies, formatDuration, formatRecords } from '../../src/check/anomalies.js';
import type { DayReport } from '../../src/check/report.js';

const day = (measures: Partial<DayReport>): DayReport => ({
  date: '2025-10-07',
  status: 'success',
  runs: 1,
  failed_runs: 0,
  anomalies: [],
  records: null,
  duration_seconds: null,
  baseline_records: null,
  baseline_duration_seconds: null,
  ...measures,
});

describe('anomaly numbers', () => {
  it.each([
    [45, '45 s'],
    [59.4, '59 s'],
    [60, '1 min'],
    [2100, '35 min'],
    [3600, '1 h'],
    [11_400, '3 h 10 min'],
    [11_420, '3 h 10 min'],
  ])('shows %d seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('groups thousands and keeps the half of an even-count median', () => {
    expect([formatRecords(12_400), formatRecords(30.5), formatRecords(0)]).toEqual(['12,400', '30.5', '0']);
  });

  it('says a low volume as "0 records; usual 12,400" and a slow run as "3 h 10 min; usual 35 min"', () => {
    expect(anomalyFact(day({ records: 0, baseline_records: 12_400 }), 'low_volume')).toBe('0 records; usual 12,400');
    expect(anomalyFact(day({ records: 1, baseline_records: 80 }), 'low_volume')).toBe('1 record; usual 80');
    expect(anomalyFact(day({ duration_seconds: 11_400, baseline_duration_seconds: 2100 }), 'slow')).toBe('3 h 10 min; usual 35 min');
  });

  it('lists every anomaly of a day in order, and nothing for a plain success', () => {
    const both = day({ anomalies: ['high_volume', 'slow'], records: 50_000, baseline_records: 12_000, duration_seconds: 3600, baseline_duration_seconds: 600 });
    expect(describeAnomalies(both)).toEqual(['high volume: 50,000 records; usual 12,000', 'slow: 1 h; usual 10 min']);
    expect(describeAnomalies(day({ records: 10, baseline_records: 10 }))).toEqual([]);
  });
});
