/**
 * Run rows reach a run-history table made by hand by column name, not position: SPEC §2's columns
 * in another order, or with more columns, take them whole; a table without SPEC §2's columns
 * refuses them naming what differs. The appender's own order is the DDL's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runHistoryDdlColumns } from '../../src/sql/run-history-columns.js';
import { openDuckDb, RUN_HISTORY_APPEND_ORDER } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';
import { toRunRow } from '../support/scenario.js';

const table = 'monitoring.processor_run_history';
const rows = [
  toRunRow({ run_id: 'r1', processor_name: 'gamebook', processing_date: '2025-10-07', status: 'running', started_at: '2025-10-08T01:00:00Z', trigger_source: 'scheduler' }),
  toRunRow({
    run_id: 'r1', processor_name: 'gamebook', processing_date: '2025-10-07', status: 'failed', started_at: '2025-10-08T01:00:00Z', completed_at: '2025-10-08T01:05:00Z',
    records_processed: 7, errors: [{ error_type: 'Timeout', error_message: 'slow' }], trigger_source: 'scheduler',
  }),
];

let dir: string | undefined;
let warehouse: Warehouse | undefined;
afterEach(async () => {
  await warehouse?.close();
  warehouse = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function withTable(ddl: string): Promise<Warehouse> {
  dir = mkdtempSync(join(tmpdir(), 'pem-column-order-'));
  warehouse = await openDuckDb({ path: join(dir, 'h.duckdb'), create: true });
  await warehouse.execute('CREATE SCHEMA monitoring');
  await warehouse.execute(ddl);
  return warehouse;
}

describe('appending run rows to DuckDB', () => {
  it('appends in the order the DDL declares the columns', () => {
    expect(runHistoryDdlColumns('duckdb', table).map((c) => c.name)).toEqual([...RUN_HISTORY_APPEND_ORDER]);
  });

  it("fills a hand-made table whose columns are SPEC §2's in another order, plus one of its own, by name", async () => {
    const wh = await withTable(
      `CREATE TABLE ${table} (processor_name VARCHAR, run_id VARCHAR, processing_date DATE, trigger_source VARCHAR, started_at TIMESTAMP,
       completed_at TIMESTAMP, records_processed BIGINT, errors STRUCT(error_type VARCHAR, error_message VARCHAR)[], status VARCHAR, metadata JSON,
       ingested_by VARCHAR DEFAULT 'loader')`,
    );
    await wh.insertRunRows(table, rows);
    const stored = await wh.query(
      `SELECT run_id, processor_name, CAST(processing_date AS VARCHAR) AS processing_date, status, trigger_source, records_processed,
              errors[1].error_type AS error_type, ingested_by
       FROM ${table} ORDER BY status DESC`,
    );
    expect(stored).toEqual([
      { run_id: 'r1', processor_name: 'gamebook', processing_date: '2025-10-07', status: 'running', trigger_source: 'scheduler', records_processed: null, error_type: null, ingested_by: 'loader' },
      { run_id: 'r1', processor_name: 'gamebook', processing_date: '2025-10-07', status: 'failed', trigger_source: 'scheduler', records_processed: 7, error_type: 'Timeout', ingested_by: 'loader' },
    ]);
    // Stored once per (run_id, status): a retry adds nothing.
    await wh.insertRunRows(table, rows);
    expect(await wh.query(`SELECT count(*)::INTEGER AS n FROM ${table}`)).toEqual([{ n: 2 }]);
  });

  it("refuses a hand-made table without SPEC §2's columns, naming them, and writes nothing", async () => {
    const wh = await withTable(
      `CREATE TABLE ${table} (processor_name VARCHAR, run_id VARCHAR, processing_date DATE, status VARCHAR, started_at TIMESTAMP, completed_at TIMESTAMP)`,
    );
    await expect(wh.insertRunRows(table, rows)).rejects.toThrow(
      `cannot append to ${table}: ${table} has other columns than the run history's, SPEC §2: records_processed is missing; errors is missing; trigger_source is missing; metadata is missing`,
    );
    expect(await wh.query(`SELECT count(*)::INTEGER AS n FROM ${table}`)).toEqual([{ n: 0 }]);
  });
});
