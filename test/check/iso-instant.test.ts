/**
 * `isoInstant` (src/check/report.ts) keeps a string already in `toISOString`'s form instead of
 * parsing and formatting it again: its answer must be `new Date(v).toISOString()`'s for every input
 * it is given, canonical or not, including dates and times Date rolls over.
 */
import { describe, expect, it } from 'vitest';
import { isoInstant } from '../../src/check/report.js';

const slow = (v: string): string => new Date(v).toISOString();

describe('isoInstant', () => {
  it('gives toISOString\'s answer for every millisecond-form instant, whatever the day of the month', () => {
    // Every day of four years (a leap year among them), at times spread over the day.
    const start = Date.UTC(2023, 0, 1);
    let checked = 0;
    for (let day = 0; day < 4 * 366; day++) {
      for (const offset of [0, 1, 59_999, 3_600_000 * 13 + 61_001, 86_399_999]) {
        const text = new Date(start + day * 86_400_000 + offset).toISOString();
        expect(isoInstant(text)).toBe(text);
        checked++;
      }
    }
    expect(checked).toBe(4 * 366 * 5);
  });

  it('rolls over what Date rolls over, and normalises other forms, as before', () => {
    for (const text of [
      '2025-04-31T00:00:00.000Z', // 30 days hath April: May 1
      '2025-02-29T12:00:00.000Z', // not a leap year: March 1
      '2024-02-29T23:59:59.999Z',
      '2025-10-08T24:00:00.000Z', // the end of a day: the next one's 00:00
      '2025-10-08T12:00:00Z', // no milliseconds
      '2025-10-08T12:00:00.5Z',
      '2025-10-08T14:00:00.000+02:00',
      '2025-10-08 12:00:00Z',
      '0000-01-01T00:00:00.000Z',
    ]) {
      expect(isoInstant(text)).toBe(slow(text));
    }
    expect(isoInstant('2025-04-31T00:00:00.000Z')).toBe('2025-05-01T00:00:00.000Z');
  });

  it('keeps null and undefined as null, and fails on what Date cannot read, as before', () => {
    expect(isoInstant(null)).toBeNull();
    expect(isoInstant(undefined)).toBeNull();
    expect(() => isoInstant('2025-13-01T00:00:00.000Z')).toThrow(RangeError);
    expect(() => isoInstant('yesterday')).toThrow(RangeError);
  });
});
