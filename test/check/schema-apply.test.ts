/**
 * `pem schema apply` on DuckDB is safe to re-run, and a run-history table that already exists with
 * other column types is not taken for the contract's: exit 2, one line naming the columns.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';

let dir: string;
let registryPath: string;
let databasePath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pem-schema-'));
  registryPath = join(dir, 'processors.json');
  databasePath = join(dir, 'monitoring.duckdb');
  writeFileSync(registryPath, JSON.stringify({ dataset: 'nba_reference', processors: { gamebook: {} } }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const apply = () => runCli(['schema', 'apply', '--config', registryPath, '--database', databasePath]);

describe('pem schema apply on DuckDB', () => {
  it('can be run again over its own tables', async () => {
    expect((await apply()).code).toBe(0);
    const again = await apply();
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('schema applied to DuckDB');
  });

  it('exits 2 naming the columns of an existing run-history table with other types', async () => {
    const warehouse = await openDuckDb({ path: databasePath, create: true });
    try {
      await warehouse.execute('CREATE SCHEMA nba_reference');
      await warehouse.execute(
        `CREATE TABLE nba_reference.processor_run_history (run_id VARCHAR, processor_name VARCHAR, processing_date VARCHAR, status INTEGER,
         started_at TIMESTAMP, completed_at TIMESTAMP, records_processed BIGINT, trigger_source VARCHAR, metadata JSON)`,
      );
    } finally {
      await warehouse.close();
    }
    const run = await apply();
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: nba_reference.processor_run_history in DuckDB ${databasePath} already exists with other columns than the run history's (SPEC §2): ` +
        'processing_date is VARCHAR, not DATE; status is INTEGER, not VARCHAR; errors is missing\n',
    );
  });
});
