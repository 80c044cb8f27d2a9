/**
 * The SQL shapes of issue 13's alert state (SPEC §14) on both dialects: the outcome statement
 * resolves on ZetaSQL, JSON batches decode record by record the same way in both engines, and
 * the winners of a contested claim are the same in both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAlertSql } from '../../src/alerts/state.js';
import { alertStateTable } from '../../src/config/names.js';
import { parseRegistry } from '../../src/config/registry.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { createSqlRenderer } from '../../src/sql/render.js';
import { renderSchemaSql } from '../../src/sql/statements.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { startZetaSql, type Columns, type ZetaSql } from '../support/zetasql.js';

const parsed = parseRegistry({ dataset: 'nba_reference', processors: { a: {} } });
if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
const registry = parsed.registry;
const STATE = alertStateTable(registry);
const ddl = renderSchemaSql('bigquery', registry).find((s) => s.includes('pem_alert_state'))!;
const columns: Columns = {};
for (const match of ddl.matchAll(/^\s+([a-z_]+) ([A-Z0-9<>, ]+?)(?: NOT NULL)?,?$/gm)) columns[match[1]!] = match[2]!;
const catalog = { tables: { [STATE]: columns } };

let zeta: ZetaSql;
beforeAll(async () => {
  zeta = await startZetaSql();
});
afterAll(() => zeta?.close());

describe('the alert state statements of a 20,000-issue run', () => {
  it('records the outcome from the claims in a statement ZetaSQL resolves with its parameters typed', async () => {
    const sql = renderAlertSql('bigquery', 'alert_state_record', { table: STATE });
    const params = { run_id: 'STRING', now: 'TIMESTAMP', lost: 'ARRAY<STRING>', released: 'ARRAY<STRING>', resolved: 'ARRAY<STRING>', id_prefix: 'STRING' };
    expect(await zeta.analyze(sql, { catalog, params })).toMatchObject({ ok: true, kind: 'insert_stmt' });
  });

  it('decodes a JSON batch into records the same way in both engines: strings, nulls, quotes and missing fields', async () => {
    const bundle = loadTemplateBundle();
    const probe = `SELECT r.k, r.v, r.w FROM {{> json_records param="rows" fields="k,v,w" as="r"}} ORDER BY r.k`;
    const rows = JSON.stringify([
      { k: 'a', v: "it's \"quoted\" <&>", w: 'x' },
      { k: 'b', v: null, w: 'y' },
      { k: 'c', v: 'pem/nba_reference/p/stale|slack|trigger|none' },
    ]);
    const render = (dialect: 'bigquery' | 'duckdb') => createSqlRenderer(dialect, { ...bundle, templates: { ...bundle.templates, probe } }).render('probe', {});
    const big = await zeta.evaluate(render('bigquery'), { catalog: { tables: {} }, content: {}, params: { rows: ['STRING', rows] } });
    const duck = await openDuckDb({ path: ':memory:', create: true });
    try {
      expect(await duck.query(render('duckdb'), { rows: { type: 'STRING', value: rows } })).toEqual(big.rows);
    } finally {
      await duck.close();
    }
    expect(big.rows).toEqual([
      { k: 'a', v: "it's \"quoted\" <&>", w: 'x' },
      { k: 'b', v: null, w: 'y' },
      { k: 'c', v: 'pem/nba_reference/p/stale|slack|trigger|none', w: null },
    ]);
  });

  it('gives a contested token to the earliest live claim in both engines, skipping released and expired claims', async () => {
    const stateColumns = Object.keys(columns);
    // t1: r1 first; t2: r1 released its claim, so r2 holds it; t3: r1's claim is past the lease; t4: same instant, r1 sorts first.
    const state = [
      ['e1', 'claimed', 'k1', 'slack', 'a', 'stale', 'CRITICAL', 't1', 'r1', '2025-10-08T12:00:00Z', '2025-10-08T12:00:01Z'],
      ['e2', 'claimed', 'k1', 'slack', 'a', 'stale', 'CRITICAL', 't1', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:02Z'],
      ['e3', 'claimed', 'k2', 'slack', 'a', 'stale', 'CRITICAL', 't2', 'r1', '2025-10-08T12:00:00Z', '2025-10-08T12:00:01Z'],
      ['e4', 'released', 'k2', 'slack', 'a', 'stale', 'CRITICAL', 't2', 'r1', '2025-10-08T12:00:00Z', '2025-10-08T12:00:03Z'],
      ['e5', 'claimed', 'k2', 'slack', 'a', 'stale', 'CRITICAL', 't2', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:04Z'],
      ['e6', 'claimed', 'k3', 'slack', 'a', 'stale', 'CRITICAL', 't3', 'r1', '2025-10-08T11:00:00Z', '2025-10-08T11:00:01Z'],
      ['e7', 'claimed', 'k3', 'slack', 'a', 'stale', 'CRITICAL', 't3', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:05Z'],
      ['e8', 'claimed', 'k4', 'slack', 'a', 'stale', 'CRITICAL', 't4', 'r2', '2025-10-08T12:00:00Z', '2025-10-08T12:00:06Z'],
      ['e9', 'claimed', 'k4', 'slack', 'a', 'stale', 'CRITICAL', 't4', 'r1', '2025-10-08T12:00:00Z', '2025-10-08T12:00:06Z'],
    ];
    const content = { [STATE]: state.map((r) => Object.fromEntries(stateColumns.map((c, i) => [c, r[i]]))) };
    const duck = await openDuckDb({ path: ':memory:', create: true });
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await duck.execute(statement);
      await duck.execute(`INSERT INTO ${STATE} (${stateColumns.slice(0, state[0]!.length).join(', ')}) VALUES ${state.map((r) => `(${r.map((v) => `'${v.replace(/^(\d{4}-\d\d-\d\d)T(.*)Z$/, '$1 $2')}'`).join(', ')})`).join(', ')}`);
      const held: Record<string, unknown[]> = {};
      for (const run of ['r1', 'r2']) {
        const sql = (dialect: 'bigquery' | 'duckdb') => renderAlertSql(dialect, 'alert_state_claim_winners', { table: STATE });
        const big = await zeta.evaluate(sql('bigquery'), {
          catalog,
          content,
          params: { run_id: ['STRING', run], lease_start: ['TIMESTAMP', '2025-10-08T11:45:00Z'] },
        });
        const local = await duck.query(sql('duckdb'), {
          run_id: { type: 'STRING', value: run },
          lease_start: { type: 'TIMESTAMP', value: new Date('2025-10-08T11:45:00Z') },
        });
        expect(local, run).toEqual(big.rows);
        expect(local).toHaveLength(1);
        held[run] = String(local[0]!.claim_tokens).split(';');
      }
      expect(held).toEqual({ r1: ['t1', 't4'], r2: ['t2', 't3'] });
    } finally {
      await duck.close();
    }
  });
});
