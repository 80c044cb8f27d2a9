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
        'processing_date is VARCHAR, not DATE; status is INTEGER, not VARCHAR; errors is missing: rename or drop it, or use another dataset\n',
    );
    // Refused before anything was made: the monitor's own tables are not there either.
    expect(await tablesOf(databasePath)).toEqual(['processor_run_history']);
  });

  it("refuses alert-state and silence tables that are not pem's, changing nothing: the upgrade added its columns to them, and every silence then failed", async () => {
    const warehouse = await openDuckDb({ path: databasePath, create: true });
    try {
      await warehouse.execute('CREATE SCHEMA nba_reference');
      await warehouse.execute('CREATE TABLE nba_reference.pem_alert_state (y VARCHAR)');
      await warehouse.execute('CREATE TABLE nba_reference.pem_alert_silences (x INTEGER)');
    } finally {
      await warehouse.close();
    }
    const run = await apply();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: nba_reference\.pem_alert_state in DuckDB .* already exists with other columns than pem's alert state: event_id is missing; .*\. nba_reference\.pem_alert_silences in DuckDB .* than pem's silences: silence_id is missing; .*: rename or drop them, or use another dataset\n$/);
    // Nothing created, nothing added.
    expect(await tablesOf(databasePath)).toEqual(['pem_alert_silences', 'pem_alert_state']);
    const reopened = await openDuckDb({ path: databasePath, create: false });
    try {
      expect((await reopened.tableColumns('nba_reference.pem_alert_state')).map((c) => c.name)).toEqual(['y']);
    } finally {
      await reopened.close();
    }
  });

  it('upgrades an alert-state table of an older pem (without the window lengths), as before', async () => {
    const warehouse = await openDuckDb({ path: databasePath, create: true });
    try {
      await warehouse.execute('CREATE SCHEMA nba_reference');
      await warehouse.execute(
        `CREATE TABLE nba_reference.pem_alert_state (event_id VARCHAR NOT NULL, event VARCHAR NOT NULL, alert_key VARCHAR NOT NULL, destination VARCHAR NOT NULL,
         processor_name VARCHAR NOT NULL, issue_kind VARCHAR NOT NULL, level VARCHAR, claim_token VARCHAR, run_id VARCHAR NOT NULL, event_at TIMESTAMP NOT NULL, recorded_at TIMESTAMP)`,
      );
    } finally {
      await warehouse.close();
    }
    const run = await apply();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('added to nba_reference.pem_alert_state: lookback_days, raised_lookback_days (its rows kept)');
  });
});

/** The tables of the nba_reference schema in a DuckDB file, by name. */
async function tablesOf(path: string): Promise<string[]> {
  const warehouse = await openDuckDb({ path, create: false });
  try {
    const rows = await warehouse.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'nba_reference' ORDER BY table_name");
    return rows.map((r) => String(r.table_name));
  } finally {
    await warehouse.close();
  }
}
