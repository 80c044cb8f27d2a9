/**
 * Processor filters are expressions over the row, nothing more: a subquery, a table function or
 * any function outside the short list is refused with one line (exit 2), naming what was used and
 * never what it would have read; and DuckDB runs the check with access to other files turned off.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterShapeProblem } from '../../src/config/registry.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { duckDbFilterParser } from '../../src/warehouse/duckdb-filter.js';
import { runCli } from '../support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pem-filters-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(filter: string) {
  const path = join(dir, 'processors.json');
  writeFileSync(path, JSON.stringify({ processors: { gamebook: { processor_filter: filter } } }));
  return runCli(['config', 'validate', '--config', path]);
}

const HOSTNAME = readFileSync('/etc/hostname', 'utf8').trim();

describe('a processor filter', () => {
  it.each([
    ["processor_name = CAST(CAST((SELECT content FROM read_text('/etc/hostname')) AS INT64) AS STRING)", 'a subquery'],
    ["processor_name = read_csv('/etc/passwd')", 'the function READ_CSV'],
    ["length(read_text('/etc/hostname')) > 0", 'the function READ_TEXT'],
    ["processor_name IN (SELECT processor_name FROM other_table)", 'a subquery'],
    ['getenv(\'HOME\') IS NOT NULL', 'the function GETENV'],
    ["processor_name = 'a' OR EXISTS (SELECT 1)", 'a subquery'],
    ['CAST(processor_name AS INT64[]) IS NULL', 'a CAST to LIST'],
    // The real clock: a check --now in the past (as-of reads, backtests) would select other rows.
    ["processor_name = 'gamebook' AND processing_date > CURRENT_DATE", "CURRENT_DATE (the real clock or session, not the check's --now)"],
    ['started_at < current_timestamp', "CURRENT_TIMESTAMP (the real clock or session, not the check's --now)"],
    ['trigger_source = current_user', "CURRENT_USER (the real clock or session, not the check's --now)"],
  ])('%s is refused with one line naming %s, exit 2', async (filter, what) => {
    const run = await validate(filter);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`processors.gamebook.processor_filter: may only use column references, literals, comparisons`);
    expect(run.stderr).toContain(`; not ${what}`);
    // One problem is one line (the registry error names the file and the problem together).
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain(HOSTNAME);
    expect(run.stderr).not.toContain('root:');
  });

  it.each([
    ["processor_name = 'gamebook'"],
    ["processor_name IN ('a', 'b') AND status NOT IN ('skipped')"],
    ["LOWER(TRIM(processor_name)) LIKE 'game%' OR UPPER(processor_name) LIKE 'GAME%'"],
    ["processing_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' AND records_processed IS NOT NULL"],
    ["COALESCE(trigger_source, 'scheduler') <> 'backfill' AND NOT (status = 'running')"],
    ["STARTS_WITH(UPPER(SUBSTR(processor_name, 1, 4)), 'GAME') AND CAST(records_processed AS STRING) = '1'"],
    ["CAST(records_processed AS INT64) > 0 AND CAST(status AS STRING) <> 'x' AND processing_date = CAST('2025-10-07' AS DATE)"],
    // BIGINT: an alias of INT64 on BigQuery (its data-types reference), though not in the tests' ZetaSQL.
    ['CAST(records_processed AS BIGINT) > 0 AND TRUE'],
  ])('%s is an expression over the row', async (filter) => {
    const run = await validate(filter);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  // The same text runs on BigQuery (test/bigquery/filters.test.ts proves the accepted ones there).
  it.each([
    ["processor_name ILIKE 'game%'", "must not use ILIKE, which BigQuery does not have: write LOWER(column) LIKE 'pattern'"],
    ["CAST(records_processed AS VARCHAR) = '1'", 'must CAST to STRING, INT64, BIGINT, BOOL, BOOLEAN, DATE, TIMESTAMP (the names DuckDB and BigQuery both know), not VARCHAR'],
    ['CAST(records_processed AS DOUBLE) > 1', 'must CAST to STRING, INT64, BIGINT, BOOL, BOOLEAN, DATE, TIMESTAMP (the names DuckDB and BigQuery both know), not DOUBLE'],
    ["records_processed::VARCHAR = '1'", 'must write a cast as CAST(x AS type): "::" is DuckDB\'s alone'],
    ["processor_name = 'it''s'", "must not write a quote twice inside a string ('it''s'): BigQuery reads it otherwise; a filter's strings cannot hold a quote"],
    ['processor_name = "gamebook"', 'must not use double quotes: DuckDB reads "x" as a column, BigQuery as a string; write strings in \'single quotes\' and columns bare'],
    ['1', 'must be a condition over the row (a comparison, LIKE, IN, IS NULL, …), not a constant'],
    ["1 AND processor_name = 'a'", 'not a constant where a condition belongs'],
    ["NOT 'a'", 'not a constant where a condition belongs'],
    ['CAST(records_processed AS INTEGER) > 0', 'must CAST to STRING, INT64, BIGINT, BOOL, BOOLEAN, DATE, TIMESTAMP (the names DuckDB and BigQuery both know), not INTEGER'],
  ])('%s is refused: it means something else on BigQuery, or nothing', async (filter, why) => {
    const run = await validate(filter);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(new RegExp(`^error: invalid registry \\S+: processors\\.gamebook\\.processor_filter: `));
    expect(run.stderr.trim().endsWith(why)).toBe(true);
  });

  it.each([
    ['processor_name = ', 'is cut short: it ends with "=", with nothing after it'],
    ["processor_name = 'a' AND", 'is cut short: it ends with "AND", with nothing after it'],
    ["processor_name='a' OR", 'is cut short: it ends with "OR", with nothing after it'],
    ["AND processor_name = 'a'", 'begins halfway: it starts with "AND"'],
  ])('%s is refused without a SQL parser (Dataform has none): %s', async (filter, why) => {
    expect(filterShapeProblem(filter)).toBe(why);
    const run = await validate(filter);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().endsWith(why)).toBe(true);
  });

  it.each(["processor_name = 'AND'", "processor_name IN ('a,', 'b')", 'records_processed = -1', "NOT (processor_name LIKE 'x%')", 'in_progress IS NOT NULL', 'records_processed/2 > 1'])(
    '%s is not taken for one cut short',
    (filter) => {
      expect(filterShapeProblem(filter)).toBeNull();
    },
  );

  it.each([
    ["processor_name = 'a\\' OR TRUE", 'must not contain a backslash'],
    ['processor_name = $$x$$', 'must not contain "$" outside a quoted string'],
  ])('%s is refused: its quoting would read differently in the two dialects', async (filter, message) => {
    const run = await validate(filter);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('names each wrong filter among many parsed in one pass', async () => {
    const parser = await duckDbFilterParser();
    try {
      const filters = Array.from({ length: 500 }, (_, i) => `processor_name = 'p${i}'`);
      filters[7] = "processor_name = read_csv('/etc/passwd')";
      filters[300] = 'processor_name = (';
      filters[400] = "processor_name = = 'p1'";
      const reasons = await parser.check(filters);
      expect(reasons.filter((r) => r !== null)).toHaveLength(3);
      expect(reasons[7]).toContain('not the function READ_CSV');
      // Said in the filter's own terms: not the ")" the parser saw, which the user did not write,
      // and a position counted from the filter's start (its second "=").
      expect(reasons[300]).toBe('does not parse as a SQL expression (it ends where more was expected)');
      expect(reasons[400]).toBe('does not parse as a SQL expression (syntax error at or near "=", at character 18)');
    } finally {
      parser.close();
    }
  });
});

describe('the DuckDB warehouse', () => {
  it('reads no other file once the database is open', async () => {
    const warehouse = await openDuckDb({ path: join(dir, 'w.duckdb'), create: true });
    try {
      await warehouse.execute('CREATE TABLE t AS SELECT 1 AS a');
      expect(await warehouse.query('SELECT a FROM t')).toEqual([{ a: 1 }]);
      await expect(warehouse.query("SELECT content FROM read_text('/etc/hostname')")).rejects.toThrow(/disabled by configuration/);
    } finally {
      await warehouse.close();
    }
  });
});
