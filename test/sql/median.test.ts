/**
 * The median of SPEC §10's baselines is two dialect partials (`median_agg`, then `median_value`):
 * DuckDB's quantile_cont, and on BigQuery (whose PERCENTILE_CONT is analytic only) the sorted
 * values with the middle one, or the middle pair interpolated. Both run here on their engines —
 * BigQuery's form on ZetaSQL's reference evaluator — over odd and even counts, with NULLs, and
 * must give the hand-computed medians, bit for bit the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { createSqlRenderer, type Dialect } from '../../src/sql/render.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { startZetaSql, zetaCatalog, type ZetaSql } from '../support/zetasql.js';

/** Group → its values (NULLs included) and the median a person computes. */
const GROUPS: Record<string, { values: (number | null)[]; median: number | null }> = {
  one: { values: [5], median: 5 },
  two: { values: [7, 3], median: 5 },
  three: { values: [3, 1, 2], median: 2 },
  nulls_ignored: { values: [4, null, 1, 3, null, 2], median: 2.5 },
  even_fraction: { values: [50, 10, 41, 20], median: 30.5 },
  odd_five: { values: [200, 20, 41, 50, 30], median: 41 },
  six: { values: [100.125, 0.2, 7.75, 1.5, 2.25, 0.1], median: 1.875 },
  only_null: { values: [null], median: null },
};

const TABLE = 'probe.baseline_values';

function renderProbe(dialect: Dialect): string {
  const bundle = loadTemplateBundle();
  const probe = [
    'SELECT grp, {{> median_value agg="agg"}} AS median',
    'FROM (SELECT grp, {{> median_agg value="v"}} AS agg FROM {{> table name=source}} AS t GROUP BY grp) AS a',
    'ORDER BY grp',
  ].join('\n');
  return createSqlRenderer(dialect, { ...bundle, templates: { ...bundle.templates, median_probe: probe } }).render('median_probe', { source: TABLE });
}

const rows = Object.entries(GROUPS).flatMap(([grp, { values }]) => values.map((v) => ({ grp, v })));
const expected = Object.entries(GROUPS)
  .map(([grp, { median }]) => ({ grp, median }))
  .sort((a, b) => (a.grp < b.grp ? -1 : 1));

let zeta: ZetaSql;
beforeAll(async () => {
  zeta = await startZetaSql();
});
afterAll(() => zeta?.close());

describe('the median of a baseline', () => {
  it('on DuckDB (quantile_cont): odd and even counts, NULLs ignored', async () => {
    const warehouse = await openDuckDb({ path: ':memory:', create: true });
    try {
      await warehouse.execute('CREATE SCHEMA probe');
      await warehouse.execute(`CREATE TABLE probe.baseline_values (grp VARCHAR, v DOUBLE)`);
      await warehouse.execute(`INSERT INTO probe.baseline_values VALUES ${rows.map((r) => `('${r.grp}', ${r.v ?? 'NULL'})`).join(', ')}`);
      expect(await warehouse.query(renderProbe('duckdb'))).toEqual(expected);
    } finally {
      await warehouse.close();
    }
  });

  it('on BigQuery (ZetaSQL): the sorted array and offset arithmetic give the same medians', async () => {
    const sql = renderProbe('bigquery');
    expect(sql).not.toMatch(/PERCENTILE_CONT/i);
    const result = await zeta.evaluate(sql, {
      catalog: zetaCatalog({ [TABLE]: { grp: 'STRING', v: 'FLOAT64' } }),
      content: { [TABLE]: rows },
    });
    expect(result.rows).toEqual(expected);
  });
});
