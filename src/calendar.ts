/**
 * Calendar dates (`YYYY-MM-DD`, the processing dates of SPEC §2): no time zone and no daylight
 * saving, so plain UTC arithmetic on them is exact, and far cheaper than a date library's objects
 * (alert planning and the backtest ask tens of thousands of times a run; SPEC §14).
 */

export const DAY_MS = 86_400_000;

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a `YYYY-MM-DD` date of the calendar: `2025-02-30` and `2025-13-01` are not (Date.parse rolls the first into March). */
export function isCalendarDate(text: unknown): text is string {
  if (typeof text !== 'string' || !DATE_SHAPE.test(text)) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

/** Epoch milliseconds of a calendar date at 00:00 UTC (ECMAScript reads a date-only ISO string as UTC); throws on anything else. */
export function utcMidnight(date: string): number {
  if (!isCalendarDate(date)) throw new Error(`not a calendar date: '${date}'`);
  return Date.parse(date);
}

/** `date` moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  const moved = new Date(utcMidnight(date) + days * DAY_MS).toISOString().slice(0, 10);
  // Past 9999-12-31 (or before year 0) an ISO string grows a sign: '+010000-01'.
  if (!DATE_SHAPE.test(moved)) throw new Error(`${date} moved by ${days} days leaves the years 0000–9999`);
  return moved;
}

/** The ISO weekday of a calendar date: 1 is Monday, 7 Sunday (luxon's `weekday`). */
export function isoWeekday(date: string): number {
  return new Date(utcMidnight(date)).getUTCDay() || 7;
}
