/**
 * How many processors one check statement reports (src/check/run.ts): the DuckDB warehouse's slice
 * limits, with slices of half the processor-days once the whole check is large, so that the days
 * it keeps for the document and one statement's memory fit the job's 512 MiB together (SPEC §14).
 */
import { describe, expect, it } from 'vitest';
import { LARGE_CHECK_PROCESSOR_DAYS, processorsPerStatement } from '../../src/check/run.js';
import { DUCKDB_CHECK_PROCESSOR_DAYS, DUCKDB_CHECK_PROCESSORS } from '../../src/warehouse/duckdb.js';

const duckdb = { processorDays: DUCKDB_CHECK_PROCESSOR_DAYS, processors: DUCKDB_CHECK_PROCESSORS };

describe('processors per check statement', () => {
  it('keeps the budgeted checks of SPEC §14 in whole slices: 1,000 × 7 in one, 1,000 × 90 in two, 10,000 × 7 in ten', () => {
    expect(processorsPerStatement(1_000, 7, duckdb)).toBe(1_000);
    expect(processorsPerStatement(1_000, 90, duckdb)).toBe(555);
    expect(processorsPerStatement(10_000, 7, duckdb)).toBe(1_000);
  });

  it('halves the processor-days of each slice when the whole check holds more than LARGE_CHECK_PROCESSOR_DAYS', () => {
    expect(LARGE_CHECK_PROCESSOR_DAYS).toBeLessThan(10_000 * 90);
    expect(processorsPerStatement(10_000, 90, duckdb)).toBe(277);
    expect(processorsPerStatement(1_000, 366, duckdb)).toBe(68);
    // At the boundary itself the slices stay whole.
    expect(processorsPerStatement(LARGE_CHECK_PROCESSOR_DAYS / 100, 100, duckdb)).toBe(500);
    expect(processorsPerStatement(LARGE_CHECK_PROCESSOR_DAYS / 100 + 1, 100, duckdb)).toBe(250);
  });

  it('runs a check in one statement where the warehouse sets no limit (BigQuery), and never reports fewer than one processor', () => {
    expect(processorsPerStatement(10_000, 90, { processorDays: null, processors: null })).toBe(10_000);
    expect(processorsPerStatement(3, 366, { processorDays: 100, processors: null })).toBe(1);
  });
});
