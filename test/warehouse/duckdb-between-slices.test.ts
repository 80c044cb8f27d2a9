/**
 * What a DuckDB warehouse does between the statements of a sliced check (`betweenSlices`): it
 * keeps its instance (reopening costs ~50 ms a slice, bench/README.md) while it has held the file
 * for less than its hold time, hands back the memory its allocator keeps by changing its thread
 * count and setting it back, and lets go of the file once it has held it longer, so that a
 * recorder in another process gets its turn during a long check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pem-between-slices-'));
  path = join(dir, 'w.duckdb');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Whether another process can open the file for writing right now (DuckDB's lock is per process). */
function freeForAnotherProcess(file: string): boolean {
  const script = `import { DuckDBInstance } from '@duckdb/node-api';
try { (await DuckDBInstance.create(process.argv[1])).closeSync(); console.log('free'); } catch (error) { console.log(String(error).includes('lock') ? 'held' : 'error: ' + error); }`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', cwd: process.cwd() });
  const answer = child.stdout.trim();
  if (answer !== 'free' && answer !== 'held') throw new Error(`probe failed: ${answer} ${child.stderr}`);
  return answer === 'free';
}

const threads = async (warehouse: Awaited<ReturnType<typeof openDuckDb>>) =>
  (await warehouse.query("SELECT current_setting('threads') AS threads"))[0]?.threads;

describe('a DuckDB warehouse between the slices of a check', () => {
  it('keeps its instance and the file while it has held them less than its hold time, and its thread count is unchanged', async () => {
    const warehouse = await openDuckDb({ path, create: true });
    try {
      const before = await threads(warehouse);
      // A temporary table lives as long as the instance: still there after betweenSlices means no reopen.
      await warehouse.execute('CREATE TEMP TABLE marker AS SELECT 42 AS n');
      await warehouse.betweenSlices();
      expect(await warehouse.query('SELECT n FROM marker')).toEqual([{ n: 42 }]);
      expect(await threads(warehouse)).toBe(before);
      expect(freeForAnotherProcess(path)).toBe(false);
    } finally {
      await warehouse.close();
    }
    expect(freeForAnotherProcess(path)).toBe(true);
  });

  it('lets go of the file once it has held it for its hold time, and opens it again for the next statement', async () => {
    const warehouse = await openDuckDb({ path, create: true, sliceFileHoldMs: 0 });
    try {
      await warehouse.execute('CREATE TABLE kept AS SELECT 7 AS n');
      await warehouse.execute('CREATE TEMP TABLE marker AS SELECT 42 AS n');
      await warehouse.betweenSlices();
      expect(freeForAnotherProcess(path)).toBe(true);
      expect(await warehouse.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
      await expect(warehouse.query('SELECT n FROM marker')).rejects.toThrow(/marker/);
    } finally {
      await warehouse.close();
    }
  });

  it('changes nothing for an in-memory warehouse but its freed memory', async () => {
    const warehouse = await openDuckDb({ path: ':memory:', create: true, sliceFileHoldMs: 0 });
    try {
      await warehouse.execute('CREATE TABLE kept AS SELECT 7 AS n');
      await warehouse.betweenSlices();
      expect(await warehouse.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
    } finally {
      await warehouse.close();
    }
  });
});
