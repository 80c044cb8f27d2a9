/**
 * How many processors one check statement reports (src/check/run.ts): the DuckDB warehouse's slice
 * limits, halved in processors while the check stays within MAX_PROCESSOR_SLICES statements (one
 * statement's memory grows with its processors, and every statement re-reads the window), and
 * halved in processor-days once the whole check is large, so that the days it keeps for the
 * document and one statement's memory fit the job's 512 MiB together (SPEC §14).
 */
import { describe, expect, it } from 'vitest';
import { LARGE_CHECK_PROCESSOR_DAYS, MAX_PROCESSOR_SLICES, processorsPerStatement } from '../../src/check/run.js';
import { DUCKDB_CHECK_PROCESSOR_DAYS, DUCKDB_CHECK_PROCESSORS } from '../../src/warehouse/duckdb.js';

const duckdb = { processorDays: DUCKDB_CHECK_PROCESSOR_DAYS, processors: DUCKDB_CHECK_PROCESSORS };

describe('processors per check statement', () => {
  it('cuts the budgeted checks of SPEC §14 into slices of half the processor limit, growing back to the limit where that takes more than MAX_PROCESSOR_SLICES', () => {
    expect(processorsPerStatement(1_000, 7, duckdb)).toBe(500);
    expect(processorsPerStatement(1_000, 90, duckdb)).toBe(500);
    expect(processorsPerStatement(10_000, 7, duckdb)).toBe(1_000);
    // Between the two: as many processors as keep the check within MAX_PROCESSOR_SLICES statements.
    expect(MAX_PROCESSOR_SLICES).toBe(10);
    expect(processorsPerStatement(7_000, 7, duckdb)).toBe(700);
    expect(processorsPerStatement(40_000, 7, duckdb)).toBe(DUCKDB_CHECK_PROCESSORS);
    expect(processorsPerStatement(300, 7, duckdb)).toBe(DUCKDB_CHECK_PROCESSORS / 2);
  });

  it('halves the processor-days of each slice when the whole check holds more than LARGE_CHECK_PROCESSOR_DAYS', () => {
    expect(LARGE_CHECK_PROCESSOR_DAYS).toBeLessThan(10_000 * 90);
    expect(processorsPerStatement(10_000, 90, duckdb)).toBe(277);
    expect(processorsPerStatement(1_000, 366, duckdb)).toBe(68);
    // At the boundary itself the slices keep the warehouse's processor-days.
    expect(LARGE_CHECK_PROCESSOR_DAYS).toBe(200_000);
    expect(processorsPerStatement(1_000, 200, duckdb)).toBe(250);
    expect(processorsPerStatement(1_001, 200, duckdb)).toBe(125);
  });

  it('runs a check in one statement where the warehouse sets no limit (BigQuery), and never reports fewer than one processor', () => {
    expect(processorsPerStatement(10_000, 90, { processorDays: null, processors: null })).toBe(10_000);
    expect(processorsPerStatement(3, 366, { processorDays: 100, processors: null })).toBe(1);
    expect(processorsPerStatement(4, 7, { processorDays: null, processors: 1 })).toBe(1);
  });
});
