/**
 * The settings every DuckDB instance of a warehouse is opened with, also when a sliced check
 * releases it between statements and the next statement opens it again (bench/README.md: what
 * they do to a check's peak memory).
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
  dir = mkdtempSync(join(tmpdir(), 'pem-settings-'));
  warehouse = await openDuckDb({ path: join(dir, 'w.duckdb'), create: true, memoryLimit: '200MiB' });
});

afterEach(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const settings = async () =>
  Object.fromEntries(
    (
      await warehouse.query(
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'allocator_bulk_deallocation_flush_threshold') ORDER BY name",
      )
    ).map((row) => [row.name, row.value]),
  );

describe('a DuckDB warehouse instance', () => {
  it('returns the memory a statement frees in bulk beyond 4 MiB (DuckDB keeps up to 512 MiB by default), under its memory limit, also after a release', async () => {
    const expected = { allocator_bulk_deallocation_flush_threshold: '4.0 MiB', memory_limit: '200.0 MiB' };
    expect(await settings()).toEqual(expected);
    await warehouse.release();
    expect(await settings()).toEqual(expected);
  });
});
