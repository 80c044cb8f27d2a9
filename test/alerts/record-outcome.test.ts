/**
 * What a run records after sending, copied from its own claim rows (alert_state_record), on the
 * real SQL: DuckDB here, and the BigQuery statement on ZetaSQL (test/alerts/sql.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DueItem } from '../../src/alerts/plan.js';
import { appendEvents, claimDue, readDeliveredState, recordOutcome } from '../../src/alerts/state.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const TABLE = 'nba_reference.pem_alert_state';
const NOW = new Date('2025-10-08T12:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

let scenario: Scenario;
let warehouse: Warehouse;

beforeEach(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { a: {}, b: {}, c: {} } });
  warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
});

afterEach(async () => {
  await warehouse.close();
  scenario.cleanup();
});

function item(processor: string, destination: 'slack' | 'pagerduty', action: 'trigger' | 'resolve' = 'trigger'): DueItem {
  return {
    key: `pem/nba_reference/${processor}/stale`,
    destination,
    processor,
    kind: 'stale',
    level: 'CRITICAL',
    action,
    reason: action === 'trigger' ? 'new' : 'recovered',
    basis: action === 'trigger' ? 'none' : 'e0',
  };
}

async function events(runId: string): Promise<[string, string, string][]> {
  const rows = await warehouse.query(
    `SELECT processor_name, destination, event FROM ${TABLE} WHERE run_id = $run_id AND event <> 'claimed' ORDER BY 1, 2, 3`,
    { run_id: { type: 'STRING', value: runId } },
  );
  return rows.map((r) => [String(r.processor_name), String(r.destination), String(r.event)]);
}

describe('recording the outcome of a run from its claims', () => {
  it('records what it delivered as notified or resolved and what it held but did not deliver as released', async () => {
    const due = [item('a', 'slack'), item('a', 'pagerduty'), item('b', 'pagerduty', 'resolve')];
    const held = await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    await recordOutcome(warehouse, TABLE, { claimed: due, held, delivered: [due[0]!, due[2]!], unclaimed: [] }, 'run-A', NOW);
    expect(await events('run-A')).toEqual([
      ['a', 'pagerduty', 'released'],
      ['a', 'slack', 'notified'],
      ['b', 'pagerduty', 'resolved'],
    ]);
  });

  it('records nothing for claims it wrote but lost to an earlier run', async () => {
    const due = [item('a', 'slack'), item('b', 'slack')];
    await claimDue(warehouse, TABLE, [due[0]!], 'run-A', NOW);
    // Run B's claim of `a` written despite A's, as two concurrent BigQuery INSERTs can.
    await appendEvents(warehouse, TABLE, [{ item: due[0]!, event: 'claimed' as never }], 'run-B', later(1_000));
    const held = await claimDue(warehouse, TABLE, due, 'run-B', later(1_000));
    expect(held).toEqual([due[1]]);
    await recordOutcome(warehouse, TABLE, { claimed: due, held, delivered: held, unclaimed: [] }, 'run-B', later(1_000));
    expect(await events('run-B')).toEqual([['b', 'slack', 'notified']]);
  });

  it('records the unclaimed Slack companions as notified, with their own tokens', async () => {
    const due = [item('a', 'slack')];
    const held = await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    const companion = { ...item('c', 'slack'), kind: 'missing' as const, key: 'pem/nba_reference/c/missing', reason: 'reminder' as const };
    await recordOutcome(warehouse, TABLE, { claimed: due, held, delivered: held, unclaimed: [{ item: companion, event: 'notified' }] }, 'run-A', NOW);
    expect(await events('run-A')).toEqual([
      ['a', 'slack', 'notified'],
      ['c', 'slack', 'notified'],
    ]);
    const state = await readDeliveredState(warehouse, TABLE, ['c']);
    expect(state.map((s) => [s.alert_key, s.issue_kind, s.event])).toEqual([['pem/nba_reference/c/missing', 'missing', 'notified']]);
  });

  it('lets the next run claim what was released, and never what was delivered', async () => {
    const due = [item('a', 'slack'), item('b', 'slack')];
    const held = await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    await recordOutcome(warehouse, TABLE, { claimed: due, held, delivered: [due[0]!], unclaimed: [] }, 'run-A', NOW);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', later(60_000))).toEqual([due[1]]);
  });

  it('only copies the claims of this run and instant, not those of an earlier call with the same run id', async () => {
    const first = [item('a', 'slack')];
    await claimDue(warehouse, TABLE, first, 'run-A', NOW);
    const second = [item('b', 'slack')];
    const held = await claimDue(warehouse, TABLE, second, 'run-A', later(1_000));
    await recordOutcome(warehouse, TABLE, { claimed: second, held, delivered: held, unclaimed: [] }, 'run-A', later(1_000));
    expect(await events('run-A')).toEqual([['b', 'slack', 'notified']]);
  });
});
