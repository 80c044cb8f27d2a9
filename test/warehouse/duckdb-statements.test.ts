/**
 * Statements asked while another runs on the same DuckDB warehouse (a backtest computes checks
 * ahead, each with its slices): every kind of statement takes a connection of
 * its own while the main one is busy, so none ends a stream in progress, and a release waits for
 * all of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';

let dir: string;
let warehouse: Warehouse;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pem-statements-'));
  warehouse = await openDuckDb({ path: join(dir, 'w.duckdb'), create: true });
  await warehouse.execute('CREATE TABLE numbers AS SELECT range AS n FROM range(10000)');
  await warehouse.execute('CREATE TABLE notes (note VARCHAR)');
});

afterEach(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a DuckDB warehouse', () => {
  it('runs a statement without rows beside a stream in progress without ending the stream', async () => {
    let streamed = 0;
    let batches = 0;
    for await (const batch of warehouse.queryBatches('SELECT n FROM numbers ORDER BY n')) {
      streamed += batch.length;
      // Between the stream's chunks, as a backtest's other work would.
      if (batches++ === 0) await warehouse.execute("INSERT INTO notes VALUES ('written while streaming')");
    }
    expect(batches).toBeGreaterThan(1);
    expect(streamed).toBe(10000);
    expect(await warehouse.query('SELECT note FROM notes')).toEqual([{ note: 'written while streaming' }]);
  });

  it('keeps the file open for a statement without rows that is still running when a release is asked', async () => {
    const writing = warehouse.execute('INSERT INTO notes SELECT CAST(n AS VARCHAR) FROM numbers');
    await warehouse.release();
    await writing;
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM notes')).toEqual([{ n: 10000 }]);
  });
});
