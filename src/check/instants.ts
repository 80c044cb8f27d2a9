/**
 * Instants as the check's day details hold them: `toISOString`'s text
 * ('2025-10-08T12:00:00.000Z') and epoch milliseconds, converted both ways without a Date for
 * each. A large check packs the details' 2.7 million instants (10,000 processors × 90 days × 3)
 * as numbers and the HTML report reads them back as text: `toISOString` and `Date.parse` per
 * instant took ~3 s of a 1,000 × 366-day report on the bench machine. Each date's 00:00 UTC is
 * worked out once (cached) and the time of day by arithmetic; both answers are exactly
 * `toISOString`'s and `Date.parse`'s (test/check/instants.test.ts).
 */

const DAY_MS = 86_400_000;

/**
 * `toISOString`'s form for years 0000-9999, a day of the month up to 28 (a later day may not exist
 * in its month, and Date rolls it over: 2025-04-31 is 2025-05-01) and hours up to 23 (24:00 is
 * the next day's 00:00).
 */
export const CANONICAL_INSTANT = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** '00'…'99' and '000'…'999': a time of day's fields as toISOString writes them. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** A day's 'YYYY-MM-DDT' by its number of days since 1970-01-01, and its start by that text. */
const dayPrefixes = new Map<number, string>();
const dayStarts = new Map<string, number>();

/** `new Date(ms).toISOString()`, for any ms a Date holds. */
export function instantText(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    const text = new Date(day * DAY_MS).toISOString();
    prefix = text.slice(0, text.indexOf('T') + 1);
    // Bounded: a check's instants fall on a few hundred distinct days.
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${prefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

/**
 * The epoch milliseconds of `text` when `instantText` (toISOString) writes them back as the same
 * text, else null: a string in another form (no milliseconds, an offset, a day Date rolls over)
 * would not come back the same.
 */
export function instantMs(text: string): number | null {
  if (CANONICAL_INSTANT.test(text)) {
    const start = dayStartMs(text.slice(0, 10));
    const digits = (from: number, count: number): number => {
      let value = 0;
      for (let i = from; i < from + count; i++) value = value * 10 + (text.charCodeAt(i) - 48);
      return value;
    };
    return start + ((digits(11, 2) * 60 + digits(14, 2)) * 60 + digits(17, 2)) * 1000 + digits(20, 3);
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) || new Date(ms).toISOString() !== text ? null : ms;
}

/** `Date.parse` of the date's 00:00 UTC ('2025-10-08' → its epoch milliseconds), worked out once per date. */
export function dayStartMs(date: string): number {
  let start = dayStarts.get(date);
  if (start === undefined) {
    start = Date.parse(`${date}T00:00:00.000Z`);
    // Bounded: a check's instants fall on a few hundred distinct days.
    if (dayStarts.size < 100_000) dayStarts.set(date, start);
  }
  return start;
}
