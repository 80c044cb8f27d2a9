/**
 * The JSON document written in pieces (one processor at a time) is byte for byte the document
 * JSON.stringify would have printed whole.
 */
import { describe, expect, it } from 'vitest';
import { jsonDocumentPieces } from '../../src/check/json-document.js';
import type { CheckReport, ProcessorReport } from '../../src/check/report.js';

function processor(name: string, display: string): ProcessorReport {
  return {
    name,
    display_name: display,
    level: 'ERROR',
    priority: 'high',
    revenue_impact: true,
    missing_dates: ['2025-10-03'],
    low_volume_dates: ['2025-10-02'],
    high_volume_dates: [],
    slow_dates: [],
    failed_dates: [],
    hung_dates: [],
    recovered_failure_dates: [],
    last_success_date: null,
    days_since_success: null,
    is_stale: false,
    scheduler_issue: false,
    days: [
      { date: '2025-10-02', status: 'success', runs: 1, failed_runs: 0, anomalies: ['low_volume'], records: 0, duration_seconds: 61.5, baseline_records: 12400, baseline_duration_seconds: 600 },
      { date: '2025-10-03', status: 'missing', runs: 0, failed_runs: 0, anomalies: [], records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null },
    ],
    problem_since: '2025-10-02',
    blocked_by: [{ processor: 'upstream', dates: ['2025-10-03'] }],
    route: 'default',
  };
}

const report = (processors: ProcessorReport[]): CheckReport => ({
  as_of_date: '2025-10-03',
  window_start: '2025-10-02',
  window_end: '2025-10-03',
  lookback_days: 2,
  now: '2025-10-04T12:00:00.000Z',
  level: processors.length > 0 ? 'ERROR' : 'INFO',
  processors,
  alerts: [{ level: 'ERROR', processor: 'a', destinations: ['slack'], route: 'default', sent: false, reason: 'dry_run' }],
});

describe('the JSON document in pieces', () => {
  it('is exactly JSON.stringify(report, null, 2) with several processors, one piece each', () => {
    // Display names with a newline, quotes and the text of an indented line: escaped, never split.
    const r = report([processor('a', 'line\nbreak "quoted"'), processor('b', '    "days": [')]);
    const pieces = [...jsonDocumentPieces(r)];
    expect(pieces.join('')).toBe(JSON.stringify(r, null, 2));
    expect(pieces).toHaveLength(2 + r.processors.length);
  });

  it('is exactly JSON.stringify(report, null, 2) with one processor, and with none', () => {
    for (const r of [report([processor('only', 'Only')]), report([])]) expect([...jsonDocumentPieces(r)].join('')).toBe(JSON.stringify(r, null, 2));
  });
});
