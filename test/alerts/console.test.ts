/** The INFO line a healthy check prints (SPEC §5): counted as a person reads it. */
import { describe, expect, it } from 'vitest';
import { buildConsoleMessage } from '../../src/alerts/console.js';
import type { CheckReport } from '../../src/check/report.js';

const report = (processors: number) =>
  ({ window_start: '2025-10-01', window_end: '2025-10-07', processors: Array.from({ length: processors }, (_, i) => ({ name: `p${i}` })) }) as unknown as CheckReport;

describe('buildConsoleMessage', () => {
  it('says "all" of several processors, and not of one', () => {
    expect(buildConsoleMessage(report(3))).toBe('INFO: all 3 processors healthy for 2025-10-01..2025-10-07');
    expect(buildConsoleMessage(report(1))).toBe('INFO: 1 processor healthy for 2025-10-01..2025-10-07');
    expect(buildConsoleMessage(report(0))).toBe('INFO: no processors to check for 2025-10-01..2025-10-07');
  });
});
