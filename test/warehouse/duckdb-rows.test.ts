import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Row, Warehouse } from '../../src/warehouse/types.js';

/**
 * The JS values a DuckDB row reaches callers as: the alert planner, the report and the check all
 * read them without converting again, so a change of type (a bigint for a number, a Date for a
 * string) would reach them silently.
 */
const EVERY_TYPE = `
  SELECT
    'text' AS text, 42::INTEGER AS integer, 7::SMALLINT AS smallint, 3::TINYINT AS tinyint,
    9007199254740991::BIGINT AS bigint, 12::HUGEINT AS hugeint, 1.5::DOUBLE AS double, 0.25::FLOAT AS float,
    true AS boolean, DATE '2025-11-30' AS date,
    TIMESTAMP '2025-11-30 08:15:30.123' AS timestamp, TIMESTAMPTZ '2025-11-30 08:15:30+00' AS timestamptz,
    ['a', 'b'] AS list, {'n': 1::BIGINT, 'day': DATE '2025-01-02'} AS struct, 2.50::DECIMAL(6, 2) AS decimal,
    NULL::VARCHAR AS null_text, NULL::DATE AS null_date, NULL::BIGINT AS null_bigint`;

const EXPECTED: Row = {
  text: 'text',
  integer: 42,
  smallint: 7,
  tinyint: 3,
  bigint: 9007199254740991,
  hugeint: 12,
  double: 1.5,
  float: 0.25,
  boolean: true,
  date: '2025-11-30',
  timestamp: '2025-11-30T08:15:30.123Z',
  timestamptz: '2025-11-30T08:15:30.000Z',
  list: ['a', 'b'],
  struct: { n: 1, day: '2025-01-02' },
  decimal: '2.50',
  null_text: null,
  null_date: null,
  null_bigint: null,
};

describe('rows read from DuckDB', () => {
  let warehouse: Warehouse;
  beforeEach(async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true });
  });
  afterEach(async () => {
    await warehouse.close();
  });

  it('reach callers as plain JS values of the same type for every column type', async () => {
    const [row] = await warehouse.query(EVERY_TYPE);
    expect(row).toStrictEqual(EXPECTED);
    expect(Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, typeof v]))).toStrictEqual(
      Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, typeof v])),
    );
  });

  it('are the same values whether queried at once or streamed in batches', async () => {
    const batches: Row[] = [];
    for await (const batch of warehouse.queryBatches(EVERY_TYPE)) batches.push(...batch);
    expect(batches).toStrictEqual([EXPECTED]);
  });

  it('keep their order and columns across many chunks', async () => {
    const sql = `SELECT i::INTEGER AS i, 'p' || i AS name, CASE WHEN i % 3 = 0 THEN NULL ELSE DATE '2025-01-01' + i::INTEGER END AS day
                 FROM range(5000) AS t(i) ORDER BY i`;
    const rows = await warehouse.query(sql);
    expect(rows).toHaveLength(5000);
    expect(rows[4097]).toStrictEqual({ i: 4097, name: 'p4097', day: '2036-03-21' });
    expect(rows[4098]).toStrictEqual({ i: 4098, name: 'p4098', day: null });
    const streamed: Row[] = [];
    for await (const batch of warehouse.queryBatches(sql)) streamed.push(...batch);
    expect(streamed).toStrictEqual(rows);
  });
});
