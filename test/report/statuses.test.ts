import { describe, expect, it } from 'vitest';
import type { DayReport, DayStatus } from '../../src/check/report.js';
import { dayNotes, displayStatus, problemSince, streakProblemDates } from '../../src/report/statuses.js';

/** Days from 2025-10-01 on, one status each (`success!` is a success after a failed run, `success~` one that wrote 0 records, SPEC §10). */
function days(...statuses: (DayStatus | 'success!' | 'success~')[]): { days: DayReport[] } {
  return {
    days: statuses.map((s, i) => ({
      date: `2025-10-${String(i + 1).padStart(2, '0')}`,
      status: s === 'success!' || s === 'success~' ? 'success' : s,
      runs: s === 'missing' || s === 'pending' || s === 'not_expected' ? 0 : s === 'success!' ? 2 : 1,
      failed_runs: s === 'failed' || s === 'success!' ? 1 : 0,
      anomalies: s === 'success~' ? ['low_volume'] : [],
      records: s === 'success~' ? 0 : null,
      duration_seconds: null,
      baseline_records: s === 'success~' ? 12_400 : null,
      baseline_duration_seconds: null,
    })),
  };
}

describe('problemSince (SPEC §11: the earliest problem date with no success between it and the latest problem date)', () => {
  it('is null without a problem date in the window', () => {
    expect(problemSince(days('success', 'success!', 'pending', 'running', 'not_expected'))).toBeNull();
  });

  it('starts after the last success before the latest problem', () => {
    expect(problemSince(days('failed', 'success', 'missing', 'failed', 'success'))).toBe('2025-10-03');
  });

  it('counts a recovered failure as a success that ends the earlier streak', () => {
    expect(problemSince(days('missing', 'success!', 'hung'))).toBe('2025-10-03');
  });

  it('runs through off-days, pending and running dates, which are not successes', () => {
    const week = days('success', 'missing', 'not_expected', 'running', 'failed', 'pending');
    expect(problemSince(week)).toBe('2025-10-02');
    expect(streakProblemDates(week, '2025-10-02')).toEqual(['2025-10-02', '2025-10-05']);
  });

  it('counts an anomalous success as a problem date (SPEC §12), not as a success that ends the streak', () => {
    const week = days('success', 'failed', 'success~', 'missing');
    expect(problemSince(week)).toBe('2025-10-02');
    expect(streakProblemDates(week, '2025-10-02')).toEqual(['2025-10-02', '2025-10-03', '2025-10-04']);
  });

  it('reaches the window start when no success precedes the streak in the window', () => {
    expect(problemSince(days('missing', 'missing', 'hung'))).toBe('2025-10-01');
  });
});

describe('displayStatus', () => {
  it('shows a success after a failed run as recovered, and every other status as itself', () => {
    expect(days('success!', 'success', 'failed').days.map(displayStatus)).toEqual(['recovered', 'success', 'failed']);
  });

  it('shows a success with an anomaly as anomalous, with the numbers in its notes', () => {
    const [day] = days('success~').days;
    expect(displayStatus(day!)).toBe('anomalous');
    expect(dayNotes(day!)).toEqual(['low volume: 0 records; usual 12,400']);
  });
});
