/**
 * What a DuckDB warehouse does between the statements of a sliced check (`betweenSlices`): it
 * keeps its instance (reopening costs ~50 ms a slice, bench/README.md) while it has held the file
 * for less than its hold time, hands back the memory its allocator keeps by changing its thread
 * count and setting it back (what that saves is measured by `npm run bench`, not here: RSS is the
 * machine's), and lets go of the file once it has held it longer, long enough for a process
 * waiting for it (as `pem record` does) to take its turn.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';

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

/**
 * Another process that waits for the file as `pem record` does (pem's own `openDuckDb`, which tries
 * again every 5–40 ms, for up to 10 s) and, once it has it, writes the table `table` and lets go.
 * Resolves when it is waiting; its `done` when it has exited, with what it said.
 */
async function waitingWriter(file: string, table: string): Promise<{ done: Promise<string> }> {
  const script = `
    import { openDuckDb } from './src/warehouse/duckdb.ts';
    try {
      const warehouse = await openDuckDb({ path: ${JSON.stringify(file)}, create: false, lockWaitMs: 10000, onLockWait: () => console.log('waiting') });
      await warehouse.execute('CREATE TABLE ${table} AS SELECT 1 AS n');
      await warehouse.close();
      console.log('wrote');
    } catch (error) {
      console.log('gave up: ' + String(error));
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const done = new Promise<string>((resolve) => child.once('exit', () => resolve(output)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => (output += String(data)));
    child.stdout!.on('data', (data: Buffer) => {
      output += String(data);
      if (output.includes('waiting')) resolve();
    });
    void done.then(() => reject(new Error(`the writer ended before waiting for the file: ${output}`)));
  });
  return { done };
}

const threads = async (warehouse: Warehouse) => (await warehouse.query("SELECT current_setting('threads') AS threads"))[0]?.threads;

describe('a DuckDB warehouse between the slices of a check', () => {
  it('keeps its instance and the file while it has held them less than its hold time, and its thread count is unchanged', async () => {
    const warehouse = await openDuckDb({ path, create: true, sliceFileHoldMs: 60_000 });
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

  it('does not end a stream asked while it hands back memory (the stream takes another connection)', async () => {
    const warehouse = await openDuckDb({ path: ':memory:', create: true });
    try {
      const between = warehouse.betweenSlices();
      let streamed = 0;
      for await (const batch of warehouse.queryBatches('SELECT range AS n FROM range(2000000)')) streamed += batch.length;
      await between;
      expect(streamed).toBe(2_000_000);
    } finally {
      await warehouse.close();
    }
  });

  it('lets go of the file once it has held it for its hold time, long enough for a process waiting for it to take its turn', async () => {
    const warehouse = await openDuckDb({ path, create: true, sliceFileHoldMs: 0, lockWaitMs: 10_000 });
    try {
      await warehouse.execute('CREATE TABLE kept AS SELECT 7 AS n');
      await warehouse.execute('CREATE TEMP TABLE marker AS SELECT 42 AS n');
      // Three turns: a waiting process that only raced the reopen would lose most of them.
      for (const turn of ['turn_1', 'turn_2', 'turn_3']) {
        const writer = await waitingWriter(path, turn);
        await warehouse.betweenSlices();
        // The next statement opens the file again, after the writer's turn (it waits for it).
        expect(await warehouse.query(`SELECT n FROM ${turn}`)).toEqual([{ n: 1 }]);
        expect(await writer.done).toContain('wrote');
      }
      expect(await warehouse.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
      await expect(warehouse.query('SELECT n FROM marker')).rejects.toThrow(/marker/);
    } finally {
      await warehouse.close();
    }
  }, 90_000);

  it('closes the instance instead, without failing the check, when DuckDB refuses the thread change', async () => {
    const warehouse = await openDuckDb({ path, create: true, sliceFileHoldMs: 60_000 });
    try {
      const before = await threads(warehouse);
      await warehouse.execute('CREATE TABLE kept AS SELECT 7 AS n');
      await warehouse.execute('CREATE TEMP TABLE marker AS SELECT 42 AS n');
      // From here on DuckDB refuses every SET of a setting, `threads` included.
      await warehouse.execute('SET lock_configuration = true');
      await expect(warehouse.betweenSlices()).resolves.toBeUndefined();
      // The next statement opened a fresh instance: the temporary table is gone, the threads are DuckDB's own.
      expect(await warehouse.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
      await expect(warehouse.query('SELECT n FROM marker')).rejects.toThrow(/marker/);
      expect(await threads(warehouse)).toBe(before);
    } finally {
      await warehouse.close();
    }
  });

  it('changes nothing for an in-memory warehouse but its freed memory', async () => {
    const warehouse = await openDuckDb({ path: ':memory:', create: true, sliceFileHoldMs: 0 });
    try {
      await warehouse.execute('CREATE TABLE kept AS SELECT 7 AS n');
      const before = await threads(warehouse);
      await warehouse.betweenSlices();
      expect(await warehouse.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
      expect(await threads(warehouse)).toBe(before);
    } finally {
      await warehouse.close();
    }
  });
});
