import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { addDays, isCalendarDate, isoWeekday } from '../../src/calendar.js';

// addDays and isoWeekday are plain UTC arithmetic (alert planning calls them tens of thousands of
// times a run); luxon, which they replaced, is the reference they must agree with.
const luxonAddDays = (date: string, days: number) => DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate();
const luxonWeekday = (date: string) => DateTime.fromISO(date, { zone: 'UTC' }).weekday;

describe('calendar date arithmetic', () => {
  it('agrees with luxon on every date of the accepted years sampled, across leap days and centuries', () => {
    const starts = ['1900-01-01', '1900-02-28', '1999-12-31', '2000-02-28', '2024-02-28', '2025-03-09', '2025-11-02', '2100-02-28', '9998-12-01'];
    for (const start of starts) {
      for (const days of [-400, -366, -29, -1, 0, 1, 2, 28, 29, 365, 366]) {
        const moved = addDays(start, days);
        expect(moved, `${start} ${days}`).toBe(luxonAddDays(start, days));
        expect(isoWeekday(moved), moved).toBe(luxonWeekday(moved));
      }
    }
    // Every day of 2023–2025 once, chained as the backtest and the actions walk dates.
    let date = '2023-01-01';
    for (let i = 0; i < 3 * 366; i++) {
      const next = addDays(date, 1);
      expect(next).toBe(luxonAddDays(date, 1));
      expect(isoWeekday(date)).toBe(luxonWeekday(date));
      date = next;
    }
  });

  it('reaches the last accepted date and the day after it', () => {
    expect(addDays('9998-12-31', 1)).toBe('9999-01-01');
    expect(addDays('1900-01-01', -1)).toBe('1899-12-31');
    expect(() => addDays('9999-12-31', 1)).toThrow('9999-12-31 moved by 1 days leaves the years 0000–9999');
    expect(isoWeekday('2025-11-23')).toBe(7); // a Sunday is 7, not JavaScript's 0
    expect(isoWeekday('2025-11-24')).toBe(1);
    expect([isCalendarDate('2024-02-29'), isCalendarDate('2025-02-28'), isCalendarDate(20250228)]).toEqual([true, true, false]);
  });

  it('refuses what is not a calendar date instead of rolling it over', () => {
    // Date.parse reads 2025-02-30 as March 2; a caller passing it has a bug worth hearing about.
    for (const bad of ['2025-02-30', '2025-13-01', '2025-1-01', '2025-01-01T00:00:00Z', '', 'yesterday']) {
      expect(isCalendarDate(bad), bad).toBe(false);
      expect(() => addDays(bad, 1), bad).toThrow(`not a calendar date: '${bad}'`);
      expect(() => isoWeekday(bad), bad).toThrow('not a calendar date');
    }
  });
});
