/**
 * `instantText` and `instantMs` (src/check/instants.ts) stand in for `toISOString` and `Date.parse`
 * on the day details a large check packs: their answers must be exactly those, for every instant a
 * check can hold, and `instantMs` must refuse (null) any text that would not come back the same.
 */
import { describe, expect, it } from 'vitest';
import { instantMs, instantText } from '../../src/check/instants.js';

/** A deterministic spread of instants: every day of 1969-2031 (before and after the epoch), at varied times. */
function* instants(): Generator<number> {
  const first = Date.UTC(1969, 0, 1);
  const last = Date.UTC(2031, 11, 31);
  let step = 0;
  for (let day = first; day <= last; day += 86_400_000) {
    step = (step * 1_103_515_245 + 12_345) % 2_147_483_648;
    for (const offset of [0, 1, 999, 59_999, 3_599_999, step % 86_400_000, 86_399_999]) yield day + offset;
  }
}

describe('instantText and instantMs', () => {
  it('agree with toISOString and Date.parse on every day from 1969 to 2031, both ways', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const ms of instants()) {
      const text = new Date(ms).toISOString();
      if (instantText(ms) !== text) wrong.push(`instantText(${ms}) = ${instantText(ms)}, not ${text}`);
      if (instantMs(text) !== ms) wrong.push(`instantMs(${text}) = ${instantMs(text)}, not ${ms}`);
      checked++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(160_000);
  });

  it('write and read years far from now as toISOString does', () => {
    for (const ms of [Date.UTC(0, 0, 1), Date.UTC(-1, 5, 30, 12), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10_000, 0, 1), -8.64e15, 8.64e15]) {
      const text = new Date(ms).toISOString();
      expect(instantText(ms)).toBe(text);
      expect(instantMs(text)).toBe(ms);
    }
  });

  it('refuse what would not come back the same, and read the rest as Date.parse', () => {
    for (const text of ['2025-04-31T00:00:00.000Z', '2025-02-29T12:00:00.000Z', '2025-10-08T24:00:00.000Z', '2025-10-08T12:00:00Z', '2025-10-08T14:00:00.000+02:00', '2025-10-08 12:00:00.000Z', 'yesterday', '']) {
      expect(instantMs(text), text).toBeNull();
    }
    expect(instantMs('2024-02-29T23:59:59.999Z')).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
    expect(instantMs('2025-01-31T00:00:00.000Z')).toBe(Date.parse('2025-01-31T00:00:00.000Z'));
  });
});
