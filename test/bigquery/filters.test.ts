/**
 * A registry filter is spliced as it is into the SQL of both engines, so the registry accepts only
 * what both read: every filter pem accepts analyzes on BigQuery (ZetaSQL, the tests' BigQuery) as a
 * condition over the run history, and every one it refuses for the dialects' sake does not, or
 * means something else there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterShapeProblem } from '../../src/config/registry.js';
import { duckDbFilterParser } from '../../src/warehouse/duckdb-filter.js';
import { startZetaSql, zetaCatalog, type ZetaSql } from '../support/zetasql.js';

let zeta: ZetaSql;
let parser: Awaited<ReturnType<typeof duckDbFilterParser>>;
beforeAll(async () => {
  zeta = await startZetaSql();
  parser = await duckDbFilterParser();
});
afterAll(() => {
  zeta?.close();
  parser?.close();
});

const catalog = zetaCatalog({
  t: { run_id: 'STRING', processor_name: 'STRING', processing_date: 'DATE', status: 'STRING', started_at: 'TIMESTAMP', records_processed: 'INT64', trigger_source: 'STRING' },
});

/** Why pem refuses `filter` (its text rules, then DuckDB's parse against the allow-list), or null. */
async function pemProblem(filter: string): Promise<string | null> {
  return filterShapeProblem(filter) ?? (await parser.check([filter]))[0] ?? null;
}

const bigQueryAnalysis = (filter: string) => zeta.analyze(`SELECT 1 FROM t WHERE (${filter})`, { catalog });

describe('registry filters on BigQuery', () => {
  it.each([
    "processor_name = 'gamebook'",
    "processor_name IN ('a', 'b') AND status NOT IN ('skipped')",
    "LOWER(TRIM(processor_name)) LIKE 'game%' OR UPPER(processor_name) NOT LIKE 'GAME%'",
    "processing_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' AND records_processed IS NOT NULL",
    "COALESCE(trigger_source, 'scheduler') <> 'backfill' AND NOT (status = 'running')",
    "STARTS_WITH(UPPER(SUBSTR(processor_name, 1, 4)), 'GAME') AND LENGTH(RTRIM(LTRIM(status))) > 0",
    "CAST(records_processed AS STRING) = '1' AND CAST('7' AS INT64) > 0 AND CAST(status AS BOOL) IS NULL",
    "processing_date = CAST('2025-10-07' AS DATE) AND started_at < CAST('2026-01-01 00:00:00' AS TIMESTAMP)",
    "processor_name IS DISTINCT FROM 'x' AND CAST(status AS BOOLEAN) IS NOT NULL",
  ])('%s: accepted by pem, and a condition BigQuery reads', async (filter) => {
    expect(await pemProblem(filter)).toBeNull();
    expect(await bigQueryAnalysis(filter)).toMatchObject({ ok: true });
  });

  it.each([
    "processor_name ILIKE 'game%'",
    "CAST(records_processed AS VARCHAR) = '1'",
    'CAST(records_processed AS DOUBLE) > 1',
    "processor_name = 'it''s'",
    '1',
    "1 AND processor_name = 'a'",
  ])('%s: refused by pem, and not BigQuery SQL', async (filter) => {
    expect(await pemProblem(filter)).not.toBeNull();
    expect(await bigQueryAnalysis(filter)).toMatchObject({ ok: false });
  });

  it('refuses double quotes, which BigQuery reads as a string where DuckDB reads a column', async () => {
    expect(await pemProblem('processor_name = "gamebook"')).toMatch(/^must not use double quotes/);
    expect(await bigQueryAnalysis('processor_name = "gamebook"')).toMatchObject({ ok: true });
  });
});
