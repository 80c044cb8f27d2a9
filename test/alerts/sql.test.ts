/**
 * The alert state and silences SQL in both dialects: `pem schema apply` creates the tables, every
 * BigQuery statement resolves on ZetaSQL (BigQuery's own analyzer), and the BigQuery reads return
 * what the DuckDB reads return, on ZetaSQL's reference evaluator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAlertSql } from '../../src/alerts/state.js';
import { alertSilencesTable, alertStateTable } from '../../src/config/names.js';
import { parseRegistry } from '../../src/config/registry.js';
import { renderSchemaSql } from '../../src/sql/statements.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { createSqlRenderer, DIALECTS } from '../../src/sql/render.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { QueryParams } from '../../src/warehouse/types.js';
import { startZetaSql, type Columns, type ZetaSql } from '../support/zetasql.js';

const parsed = parseRegistry({ dataset: 'nba_reference', processors: { a: {} } });
if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
const registry = parsed.registry;
const STATE = alertStateTable(registry);
const SILENCES = alertSilencesTable(registry);

/** Columns as the BigQuery DDL declares them: the DDL template is the one source. */
function ddlColumns(ddl: string): Columns {
  const columns: Columns = {};
  for (const match of ddl.matchAll(/^\s+([a-z_]+) ([A-Z0-9<>, ]+?)(?: NOT NULL)?,?$/gm)) columns[match[1]!] = match[2]!;
  return columns;
}

const bigQueryDdl = renderSchemaSql('bigquery', registry);
const catalog = {
  tables: {
    [STATE]: ddlColumns(bigQueryDdl.find((s) => s.includes('pem_alert_state'))!),
    [SILENCES]: ddlColumns(bigQueryDdl.find((s) => s.includes('pem_alert_silences'))!),
  },
};

/** Every alert statement, its context and the types of its parameters. */
const STATEMENTS: [string, Record<string, unknown>, Record<string, string>][] = [
  ['alert_state_latest', { table: STATE }, { processors: 'ARRAY<STRING>' }],
  ['alert_state_claim', { table: STATE }, { claims: 'STRING', run_id: 'STRING', now: 'TIMESTAMP', lease_start: 'TIMESTAMP', id_prefix: 'STRING' }],
  ['alert_state_claim_winners', { table: STATE }, { run_id: 'STRING', lease_start: 'TIMESTAMP' }],
  ['alert_state_append', { table: STATE }, { events: 'STRING', run_id: 'STRING', now: 'TIMESTAMP', id_prefix: 'STRING' }],
  // A table with the window length column (alert_state_upgrade): each row records the check's L.
  ['alert_state_latest', { table: STATE, lookback_days: true }, { processors: 'ARRAY<STRING>' }],
  ['alert_state_claim', { table: STATE, lookback_days: true }, { claims: 'STRING', run_id: 'STRING', now: 'TIMESTAMP', lease_start: 'TIMESTAMP', id_prefix: 'STRING' }],
  ['alert_state_append', { table: STATE, lookback_days: true }, { events: 'STRING', run_id: 'STRING', now: 'TIMESTAMP', id_prefix: 'STRING' }],
  ['alert_state_record', { table: STATE, lookback_days: true }, { run_id: 'STRING', now: 'TIMESTAMP', lost: 'ARRAY<STRING>', released: 'ARRAY<STRING>', resolved: 'ARRAY<STRING>', id_prefix: 'STRING' }],
  ['alert_silences_list', { table: SILENCES, active_only: true }, { now: 'TIMESTAMP' }],
  ['alert_silences_list', { table: SILENCES, active_only: false }, { now: 'TIMESTAMP' }],
  ['alert_silences_add', { table: SILENCES }, { silence_id: 'STRING', processor: 'STRING', reason: 'STRING', created_by: 'STRING', until: 'TIMESTAMP', now: 'TIMESTAMP' }],
  ['alert_silences_remove', { table: SILENCES }, { silence_ids: 'ARRAY<STRING>', reason: 'STRING', created_by: 'STRING', now: 'TIMESTAMP' }],
];

let zeta: ZetaSql;
beforeAll(async () => {
  zeta = await startZetaSql();
});
afterAll(() => zeta?.close());

describe('pem schema apply', () => {
  it.each(DIALECTS)('creates the alert state and silences tables in the registry dataset (%s)', (dialect) => {
    const statements = renderSchemaSql(dialect, registry);
    expect(statements.some((s) => /CREATE TABLE IF NOT EXISTS [`"]?nba_reference[`"]?\.?[`"]?pem_alert_state/.test(s))).toBe(true);
    expect(statements.some((s) => /CREATE TABLE IF NOT EXISTS [`"]?nba_reference[`"]?\.?[`"]?pem_alert_silences/.test(s))).toBe(true);
  });

  it('declares the same columns in both dialects', () => {
    const duck = renderSchemaSql('duckdb', registry).filter((s) => s.includes('pem_alert'));
    const names = (sql: string) => [...sql.matchAll(/^\s+([a-z_]+) /gm)].map((m) => m[1]);
    expect(duck.map(names)).toEqual(bigQueryDdl.filter((s) => s.includes('pem_alert')).map(names));
    expect(Object.keys(catalog.tables[STATE]!)).toContain('claim_token');
  });

  it.each(bigQueryDdl.filter((s) => s.includes('pem_alert')).map((s) => [s.split('\n').find((l) => /^(CREATE|ALTER) /.test(l))!, s]))(
    'is BigQuery DDL ZetaSQL accepts: %s',
    async (_name, sql) => {
      // The upgrade alters the table the DDL before it created.
      const tables = sql.startsWith('ALTER') ? catalog.tables : {};
      expect(await zeta.analyze(sql, { catalog: { tables } })).toMatchObject({ ok: true });
    },
  );

  it.each(DIALECTS)('upgrades an alert state table made before the window columns in place, keeping its rows (%s)', async (dialect) => {
    const statements = renderSchemaSql(dialect, registry);
    const upgrades = statements.filter((s) => s.startsWith('ALTER TABLE'));
    expect(upgrades.map((s) => /ADD COLUMN IF NOT EXISTS (\w+) (INT64|BIGINT)\s*$/.exec(s)?.[1])).toEqual(['lookback_days', 'raised_lookback_days']);
    if (dialect !== 'duckdb') return;
    const duck = await openDuckDb({ path: ':memory:', create: true });
    try {
      // The table as the previous version's DDL made it, with a row.
      const ddl = statements.find((s) => s.includes('TABLE IF NOT EXISTS') && s.includes('pem_alert_state'))!;
      await duck.execute('CREATE SCHEMA IF NOT EXISTS nba_reference');
      await duck.execute(ddl.replace(/,\n\s+lookback_days BIGINT,\n\s+raised_lookback_days BIGINT/, ''));
      await duck.execute(`INSERT INTO ${STATE} (event_id, event, alert_key, destination, processor_name, issue_kind, run_id, event_at) VALUES ('e1', 'notified', 'k', 'slack', 'a', 'stale', 'r', TIMESTAMP '2025-10-07 12:00:00')`);
      expect((await duck.tableColumns(STATE)).map((c) => c.name)).not.toContain('lookback_days');
      for (const statement of statements) await duck.execute(statement);
      for (const statement of statements) await duck.execute(statement); // and again: nothing changes
      expect((await duck.tableColumns(STATE)).map((c) => c.name).slice(-2)).toEqual(['lookback_days', 'raised_lookback_days']);
      expect(await duck.query(`SELECT event_id, lookback_days, raised_lookback_days FROM ${STATE}`)).toEqual([{ event_id: 'e1', lookback_days: null, raised_lookback_days: null }]);
    } finally {
      await duck.close();
    }
  });
});

describe('the BigQuery alert statements', () => {
  it.each(STATEMENTS.map(([name, context, params]) => [`${name}${context.active_only ? ' (active only)' : ''}`, name, context, params] as const))(
    '%s resolves on ZetaSQL with its parameters typed',
    async (_label, name, context, params) => {
      const sql = renderAlertSql('bigquery', name, context);
      expect(sql).not.toMatch(/\$[a-z]/);
      expect(await zeta.analyze(sql, { catalog, params })).toMatchObject({ ok: true });
    },
  );

  it('reads the latest delivered state and the active silences as DuckDB does', async () => {
    const state = [
      // The last columns, lookback_days and raised_lookback_days: NULL on a row written before they existed.
      ['e1', 'notified', 'k1', 'slack', 'a', 'stale', 'CRITICAL', 't1', 'r1', '2025-10-07T12:00:00Z', '2025-10-07T12:00:01Z', 7, 1],
      ['e2', 'resolved', 'k1', 'slack', 'a', 'stale', 'CRITICAL', 't2', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:01Z', 14, null],
      ['e3', 'claimed', 'k1', 'pagerduty', 'a', 'stale', 'CRITICAL', 't3', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:01Z', 14, 14],
      ['e4', 'notified', 'k2', 'pagerduty', 'a', 'stale', 'CRITICAL', 't4', 'r1', '2025-10-07T12:00:00Z', '2025-10-07T12:00:01Z', null, null],
      ['e5', 'notified', 'k3', 'slack', 'other', 'missing', 'ERROR', 't5', 'r1', '2025-10-07T12:00:00Z', '2025-10-07T12:00:01Z', 7, 7],
    ];
    const silences = [
      ['s1', 'add', 'a', '2025-10-09T00:00:00Z', 'vendor', '2025-10-08T00:00:00Z', 'ops'],
      ['s2', 'add', 'a', '2025-10-08T06:00:00Z', 'old', '2025-10-07T00:00:00Z', null],
      ['s3', 'add', 'b', '2025-10-10T00:00:00Z', 'fixed', '2025-10-08T00:00:00Z', 'ops'],
      ['s3', 'remove', 'b', null, 'done', '2025-10-08T09:00:00Z', 'ops'],
    ];
    const stateColumns = Object.keys(catalog.tables[STATE]!);
    const silenceColumns = Object.keys(catalog.tables[SILENCES]!);
    const objects = (columns: string[], rows: unknown[][]) => rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
    const content = { [STATE]: objects(stateColumns, state), [SILENCES]: objects(silenceColumns, silences) };

    const duck = await openDuckDb({ path: ':memory:', create: true });
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await duck.execute(statement);
      const insert = (table: string, columns: string[], rows: unknown[][]) =>
        duck.execute(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map((r) => `(${r.map((v) => (v === null ? 'NULL' : `'${String(v).replace(/^(\d{4}-\d\d-\d\d)T(.*)Z$/, '$1 $2')}'`)).join(', ')})`).join(', ')}`,
        );
      await insert(STATE, stateColumns, state);
      await insert(SILENCES, silenceColumns, silences);

      const now = '2025-10-08T12:00:00.000Z';
      const cases: [string, Record<string, unknown>, QueryParams, Record<string, [string, unknown]>][] = [
        ['alert_state_latest', { table: STATE }, { processors: { type: 'ARRAY<STRING>', value: ['a'] } }, { processors: ['ARRAY<STRING>', ['a']] }],
        ['alert_state_latest', { table: STATE, lookback_days: true }, { processors: { type: 'ARRAY<STRING>', value: ['a'] } }, { processors: ['ARRAY<STRING>', ['a']] }],
        [
          'alert_state_claim_winners',
          { table: STATE },
          { run_id: { type: 'STRING', value: 'r2' }, lease_start: { type: 'TIMESTAMP', value: new Date('2025-10-08T11:45:00Z') } },
          { run_id: ['STRING', 'r2'], lease_start: ['TIMESTAMP', '2025-10-08T11:45:00Z'] },
        ],
        ['alert_silences_list', { table: SILENCES, active_only: false }, { now: { type: 'TIMESTAMP', value: new Date(now) } }, { now: ['TIMESTAMP', now] }],
        ['alert_silences_list', { table: SILENCES, active_only: true }, { now: { type: 'TIMESTAMP', value: new Date(now) } }, { now: ['TIMESTAMP', now] }],
      ];
      for (const [name, context, duckParams, zetaParams] of cases) {
        const big = await zeta.evaluate(renderAlertSql('bigquery', name, context), { catalog, content, params: zetaParams });
        const local = await duck.query(renderAlertSql('duckdb', name, context), duckParams);
        expect(local, name).toEqual(big.rows);
        expect(local.length, name).toBeGreaterThan(0);
      }
    } finally {
      await duck.close();
    }
  });
});
