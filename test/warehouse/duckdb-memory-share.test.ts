/**
 * A statement whose caller holds much of what it read before (a large check: `runCheck` asks it
 * beyond LARGE_CHECK_PROCESSOR_DAYS) runs under DuckDB's memory_limit lowered by what the caller
 * holds, to no less than LARGE_RESULT_MEMORY_SHARE of it, so that DuckDB's cache of the run history
 * and the check's held results fit the job together (issue 13). It must never make a statement fail
 * that the whole limit lets run: one that runs out before its first rows runs again under the whole
 * limit. Real DuckDB, in memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { duckDbMemoryBytes } from '../../src/config/env.js';
import { LARGE_RESULT_MEMORY_SHARE, openDuckDb } from '../../src/warehouse/duckdb.js';
import type { QueryBatchesOptions, Warehouse } from '../../src/warehouse/types.js';

const LIMIT = "SELECT current_setting('memory_limit') AS memory_limit";
/**
 * 150,000 strings of ~107 bytes in one list value: more than 40 MB and less than 64 MB, on one
 * thread or two alike (a list grows by doubling, in one piece). A sort of 400,000 such strings was
 * used before: its need depends on how many threads take part, and under load it ran in 40 MB.
 */
const LARGE_SORT = "SELECT len(list(s)) AS n, max(s) AS top FROM (SELECT repeat('x', 100) || i AS s FROM range(150000) t(i))";

let warehouse: Warehouse | undefined;
afterEach(async () => {
  await warehouse?.close();
  warehouse = undefined;
});

async function rows(sql: string, options?: QueryBatchesOptions) {
  const all = [];
  for await (const batch of warehouse!.queryBatches(sql, {}, options)) all.push(...batch);
  return all;
}

describe('a statement that leaves room for its caller', () => {
  it('runs under the memory limit less the room asked, to no less than 5/8 of it, and the limit is whole again after it', async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '64MB' });
    expect(LARGE_RESULT_MEMORY_SHARE).toBe(5 / 8);
    // DuckDB shows its limit in MiB: 64 MB is 61.0 MiB, 54 MB 51.4 (DuckDB cuts the decimals), 40 MB 38.1.
    expect(await rows(LIMIT)).toEqual([{ memory_limit: '61.0 MiB' }]);
    expect(await rows(LIMIT, { leaveRoomForCaller: 10_000_000 })).toEqual([{ memory_limit: '51.4 MiB' }]);
    expect(await warehouse.query(LIMIT)).toEqual([{ memory_limit: '61.0 MiB' }]);
    expect(await rows(LIMIT, { leaveRoomForCaller: 24_000_000 })).toEqual([{ memory_limit: '38.1 MiB' }]);
    expect(await rows(LIMIT, { leaveRoomForCaller: 1e12 })).toEqual([{ memory_limit: '38.1 MiB' }]);
    expect(await warehouse.query(LIMIT)).toEqual([{ memory_limit: '61.0 MiB' }]);
    expect(await rows(LIMIT, { leaveRoomForCaller: 0 })).toEqual([{ memory_limit: '61.0 MiB' }]);
  });

  it('runs again under the whole limit when the lower one is not enough, with the same rows', async () => {
    // The statement needs more than 40 MB: under a whole limit of 40 MB it fails, with one line.
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '40MB' });
    await expect(rows(LARGE_SORT)).rejects.toThrow(/^DuckDB \(in memory\): out of memory \(.*\): check fewer processors/);
    await warehouse.close();
    // Under 64 MB, lowered to 40 MB for it: it runs out there, then runs whole.
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '64MB' });
    const expected = await rows(LARGE_SORT);
    expect(expected).toEqual([{ n: 150000, top: `${'x'.repeat(100)}99999` }]);
    expect(await rows(LARGE_SORT, { leaveRoomForCaller: 1e12 })).toEqual(expected);
    expect(await warehouse.query(LIMIT)).toEqual([{ memory_limit: '61.0 MiB' }]);
  });

  it('gives back what a statement held as soon as it is done, not when V8 collects its wrapper', async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '128MB' });
    const held = async () => Number((await warehouse!.query("SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT AS b FROM duckdb_memory() WHERE tag = 'ALLOCATOR'"))[0]!.b);
    // Streamed (a check's statements), read whole (query) and run for no rows (execute): each kept
    // ~32 MB of aggregate state counted against memory_limit until a garbage collection.
    await rows(LARGE_SORT);
    expect(await held()).toBeLessThan(4_000_000);
    await warehouse.query(LARGE_SORT);
    expect(await held()).toBeLessThan(4_000_000);
    await warehouse.execute(`CREATE TEMP TABLE t AS ${LARGE_SORT}`);
    expect(await held()).toBeLessThan(4_000_000);
    // So the same statement runs again and again under a limit it fits only once in.
    for (let i = 0; i < 4; i++) expect(await rows(LARGE_SORT)).toEqual([{ n: 150000, top: `${'x'.repeat(100)}99999` }]);
  });

  it('fails as before when even the whole limit is not enough', async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '40MB' });
    await expect(rows(LARGE_SORT, { leaveRoomForCaller: 1e12 })).rejects.toThrow(/^DuckDB \(in memory\): out of memory \(.*\): check fewer processors/);
    expect(await warehouse.query(LIMIT)).toEqual([{ memory_limit: '38.1 MiB' }]);
  });

  it('keeps the whole limit while another statement runs (the limit is the instance’s)', async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true, memoryLimit: '64MB' });
    const other = warehouse.queryBatches('SELECT range AS n FROM range(1000000)')[Symbol.asyncIterator]();
    expect((await other.next()).done).toBe(false);
    expect(await rows(LIMIT, { leaveRoomForCaller: 1e12 })).toEqual([{ memory_limit: '61.0 MiB' }]);
    let streamed = 0;
    for (let step = await other.next(); !step.done; step = await other.next()) streamed += step.value.length;
    expect(streamed).toBeGreaterThan(0);
  });

  it('changes nothing without a configured limit (DuckDB’s own default)', async () => {
    warehouse = await openDuckDb({ path: ':memory:', create: true });
    const [whole] = await rows(LIMIT);
    expect(await rows(LIMIT, { leaveRoomForCaller: 1e12 })).toEqual([whole]);
  });
});

describe('duckDbMemoryBytes', () => {
  it('reads sizes as DuckDB does: KB, MB, … in thousands, KiB, MiB, … in 1,024s', () => {
    expect(duckDbMemoryBytes('256MB')).toBe(256_000_000);
    expect(duckDbMemoryBytes('1GiB')).toBe(2 ** 30);
    expect(duckDbMemoryBytes('1.5 gb')).toBe(1_500_000_000);
    expect(duckDbMemoryBytes(' 512kib ')).toBe(512 * 1024);
    expect(duckDbMemoryBytes('100B')).toBe(100);
    expect(duckDbMemoryBytes('2TB')).toBe(2e12);
    expect(duckDbMemoryBytes('plenty')).toBeNull();
    expect(duckDbMemoryBytes('256')).toBeNull();
    expect(duckDbMemoryBytes('-1MB')).toBeNull();
  });
});
