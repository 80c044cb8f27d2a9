/**
 * Alert state in the warehouse, on the real SQL (DuckDB): what a run claims, what overlapping runs
 * see, and what is read back as delivered.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimToken, planDeliveries, type DueItem } from '../../src/alerts/plan.js';
import { appendEvents, claimDue, CLAIM_LEASE_MS, parseDeliveredState, readDeliveredState } from '../../src/alerts/state.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Warehouse } from '../../src/warehouse/types.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const TABLE = 'nba_reference.pem_alert_state';
const NOW = new Date('2025-10-08T12:00:00Z');

let scenario: Scenario;
let warehouse: Warehouse;

beforeEach(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { a: {}, b: {} } });
  warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
});

afterEach(async () => {
  await warehouse.close();
  scenario.cleanup();
});

function item(processor: string, destination: 'slack' | 'pagerduty', basis = 'none'): DueItem {
  return {
    key: `pem/nba_reference/${processor}/stale`,
    destination,
    processor,
    kind: 'stale',
    level: 'CRITICAL',
    action: 'trigger',
    reason: 'new',
    basis,
  };
}

const due = [item('a', 'slack'), item('a', 'pagerduty'), item('b', 'slack')];
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe('claims: two overlapping runs do not both send', () => {
  it('gives every due notification to the first run and none to a second run that read the same state', async () => {
    expect(await claimDue(warehouse, TABLE, due, 'run-A', NOW)).toEqual(due);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', later(5_000))).toEqual([]);
  });

  it('settles two claims that both got in (concurrent inserts) on the earliest, for both runs', async () => {
    await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    // Run B's claim row written despite A's, as two concurrent BigQuery INSERTs can.
    await appendEvents(warehouse, TABLE, due.map((i) => ({ item: i, event: 'claimed' as never })), 'run-B', NOW);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', NOW)).toEqual([]);
    expect(await claimDue(warehouse, TABLE, due, 'run-A', NOW)).toEqual(due);
  });

  it('lets the next run take what a failed run released', async () => {
    await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    await appendEvents(warehouse, TABLE, [{ item: due[0]!, event: 'released' }], 'run-A', NOW);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', later(60_000))).toEqual([due[0]]);
  });

  it('lets the next run take the claims of a run that died, once the lease is over', async () => {
    await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', later(CLAIM_LEASE_MS - 1000))).toEqual([]);
    expect(await claimDue(warehouse, TABLE, due, 'run-C', later(CLAIM_LEASE_MS + 1000))).toEqual(due);
  });

  it('never reclaims a delivered notification, whatever the lease', async () => {
    await claimDue(warehouse, TABLE, due, 'run-A', NOW);
    await appendEvents(warehouse, TABLE, due.map((i) => ({ item: i, event: 'notified' as const })), 'run-A', NOW);
    expect(await claimDue(warehouse, TABLE, due, 'run-B', later(2 * CLAIM_LEASE_MS))).toEqual([]);
  });
});

describe('delivered state', () => {
  it('reads the latest delivered event per key and destination, for the checked processors only', async () => {
    await appendEvents(warehouse, TABLE, due.map((i) => ({ item: i, event: 'notified' as const })), 'run-A', NOW);
    await appendEvents(warehouse, TABLE, [{ item: { ...due[1]!, action: 'resolve' }, event: 'resolved' }], 'run-B', later(3_600_000));
    await appendEvents(warehouse, TABLE, [{ item: due[2]!, event: 'released' }], 'run-B', later(3_600_000));
    const state = await readDeliveredState(warehouse, TABLE, ['a']);
    expect(state.map((s) => [s.destination, s.event, s.event_at.toISOString()])).toEqual([
      ['pagerduty', 'resolved', '2025-10-08T13:00:00.000Z'],
      ['slack', 'notified', '2025-10-08T12:00:00.000Z'],
    ]);
  });

  it('reads every field of a state back, a null level as empty, and nothing when there is no state', async () => {
    expect(await readDeliveredState(warehouse, TABLE, ['a', 'b'])).toEqual([]);
    await appendEvents(warehouse, TABLE, [{ item: { ...due[0]!, level: null as unknown as string }, event: 'notified' }], 'run-A', NOW);
    const [state] = await readDeliveredState(warehouse, TABLE, ['a']);
    expect(state).toEqual({
      alert_key: due[0]!.key,
      destination: due[0]!.destination,
      processor_name: 'a',
      issue_kind: 'stale',
      level: '',
      event: 'notified',
      event_id: expect.stringMatching(/^[0-9a-f-]{36}-1$/),
      event_at: NOW,
    });
  });

  it('refuses a state line it cannot read, naming it, rather than planning from a wrong state', () => {
    expect(() => parseDeliveredState('pem/ds/a/stale|slack|a|stale|ERROR|notified|e-1|not-a-time')).toThrow(
      "unreadable alert state line 'pem/ds/a/stale|slack|a|stale|ERROR|notified|e-1|not-a-time'",
    );
    expect(() => parseDeliveredState('pem/ds/a/stale|slack|a')).toThrow(/unreadable alert state line/);
    expect(() => parseDeliveredState('pem/ds/a/stale|slack|a|stale|ERROR|notified|e-1|0|7.5|7')).toThrow(/unreadable alert state line/);
    expect(() => parseDeliveredState('pem/ds/a/stale|slack|a|stale|ERROR|notified|e-1|0|7|x')).toThrow(/unreadable alert state line/);
    expect(() => parseDeliveredState('pem/ds/a/stale|slack|a|stale|ERROR|notified|e-1|0|7')).toThrow(/unreadable alert state line/);
  });

  it('reads the window lengths of an event (its check\'s, and the one its issue was raised with), and none from a row written before the columns existed', () => {
    const [withLengths, withoutLengths, fromOldTable] = parseDeliveredState(
      'k1|slack|a|stale|ERROR|notified|e-1|0|14|7;k2|slack|a|stale|ERROR|notified|e-2|0||;k3|slack|a|stale|ERROR|notified|e-3|0',
    );
    expect(withLengths).toMatchObject({ lookback_days: 14, raised_lookback_days: 7 });
    expect(withoutLengths).not.toHaveProperty('lookback_days');
    expect(withoutLengths).not.toHaveProperty('raised_lookback_days');
    expect(fromOldTable).not.toHaveProperty('lookback_days');
  });

  it('follows a delivered event with a new claim token, so the next reminder can be claimed', async () => {
    await claimDue(warehouse, TABLE, [due[0]!], 'run-A', NOW);
    await appendEvents(warehouse, TABLE, [{ item: due[0]!, event: 'notified' }], 'run-A', NOW);
    const state = await readDeliveredState(warehouse, TABLE, ['a', 'b']);
    const next = planDeliveries({
      issues: [{ key: due[0]!.key, processor: 'a', kind: 'stale', level: 'CRITICAL', destinations: ['slack'], held: null }],
      state,
      silences: [],
      configured: new Set(['slack']),
      checked: new Set(['a']),
      renotifyHours: 24,
      now: later(24 * 3_600_000),
    });
    expect(next.due).toHaveLength(1);
    expect(next.due[0]).toMatchObject({ reason: 'reminder', basis: state[0]!.event_id });
    expect(claimToken(next.due[0]!)).not.toBe(claimToken(due[0]!));
    expect(await claimDue(warehouse, TABLE, next.due, 'run-B', later(24 * 3_600_000))).toEqual(next.due);
  });
});
