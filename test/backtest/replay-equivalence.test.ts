/**
 * The backtest's carried replay (query only the processors whose inputs changed, carry the others'
 * results forward) against the reference that runs the full check at every cadence instant, on a
 * generated history that has dependencies (with an offset, transitive), thresholds, staleness, hung
 * runs (fixed and "auto" limits, one that ends after it turned hung), late runs, anomalies, a
 * processor in another time zone, renotifies and a silence that starts and ends inside the period.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBacktest, type BacktestOptions } from '../../src/backtest/replay.js';
import { loadCheckedRegistry } from '../../src/cli/registry.js';
import { parseRegistry } from '../../src/config/registry.js';
import { seeded } from '../../src/demo/history.js';
import { renderBacktestEventsSql } from '../../src/sql/statements.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { RUN_HISTORY_COLUMNS } from '../bigquery/support/fixtures.js';
import { runCli } from '../support/cli.js';
import { addDays, datesBetween, runRows } from '../support/runs.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';
import { startZetaSql, zetaCatalog } from '../support/zetasql.js';

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

const FROM = '2025-10-13';
const TO = '2025-10-16';

const registry = {
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  renotify_hours: 6,
  processors: {
    ingest: { grace_hours: 2, staleness_threshold_days: 2 },
    stats: { grace_hours: 3, depends_on: ['ingest'], alert_after_dates: 2 },
    report: { grace_hours: 4, staleness_threshold_days: 3, depends_on: [{ processor: 'stats', offset_days: -1 }] },
    volume: { grace_hours: 1, max_runtime_minutes: 'auto' },
    berlin: { timezone: 'Europe/Berlin', grace_hours: 1.5, expected_frequency: 'weekdays', max_runtime_minutes: 90 },
    flaky: { grace_hours: 2, alert_after_dates: 2, alert_within_dates: 3 },
    quiet: { grace_hours: 2, staleness_threshold_days: 1 },
    audit: { grace_hours: 2, depends_on: ['ingest'] },
  },
};

const at = (date: string, minutes: number) => new Date(Date.parse(`${addDays(date, 1)}T00:00:00Z`) + minutes * 60_000).toISOString();

/**
 * Runs placed by hand, so that some changes come with nothing else happening to that processor:
 * flaky's run turns hung at 10-15 11:10Z and never ends; berlin's (limit 90 minutes) is hung from
 * 10-16 09:50Z until it succeeds at 11:40Z; volume's ("auto" limit) runs six hours; audit's missing
 * 10-13 is explained by ingest's failure until ingest's late retry succeeds at 10-15 15:20Z.
 */
const PLACED: Record<string, RowSpec[]> = {
  'ingest|2025-10-13': [...runRows('ingest-placed-a', 'ingest', '2025-10-13', 'failed', '2025-10-14T05:00:00Z'), ...runRows('ingest-placed-b', 'ingest', '2025-10-13', 'success', '2025-10-15T15:20:00Z')],
  'audit|2025-10-13': [],
  'flaky|2025-10-14': [runRows('flaky-placed', 'flaky', '2025-10-14', 'running', '2025-10-15T09:10:00Z')[0]!],
  'berlin|2025-10-15': runRows('berlin-placed', 'berlin', '2025-10-15', 'success', '2025-10-16T08:20:00Z', 200),
  'volume|2025-10-13': runRows('volume-placed', 'volume', '2025-10-13', 'success', '2025-10-14T07:00:00Z', 360),
};

/** Each processor's history from five weeks before the period to its end, drawn from a seeded generator. */
function generatedHistory(): RowSpec[] {
  const random = seeded(15);
  const rows: RowSpec[] = [];
  for (const processor of Object.keys(registry.processors)) {
    for (const date of datesBetween(addDays(FROM, -35), TO)) {
      const id = `${processor}-${date}`;
      const placed = PLACED[`${processor}|${date}`];
      if (placed) {
        rows.push(...placed.map((r) => (r.status === 'success' ? { ...r, records_processed: 1000 } : r)));
        continue;
      }
      const start = at(date, 60 + Math.floor(random() * 600)); // 01:00 to 11:00 UTC the next day
      const records = random() < 0.06 ? 40 : 1000 + Math.floor(random() * 100);
      const withRecords = (specs: RowSpec[]) => specs.map((r) => (r.status === 'running' ? r : { ...r, records_processed: records }));
      // ingest fails two dates in the period: its downstreams are blocked, it goes stale.
      const draw = processor === 'ingest' && (date === '2025-10-12' || date === '2025-10-13') ? 0.1 : random();
      if (draw < 0.08) continue; // missing
      if (draw < 0.16) rows.push(...runRows(id, processor, date, 'failed', start));
      else if (draw < 0.21) rows.push(...runRows(`${id}-a`, processor, date, 'failed', start), ...withRecords(runRows(`${id}-b`, processor, date, 'success', at(date, 60 * 14 + Math.floor(random() * 300)))));
      else if (draw < 0.25) rows.push(runRows(id, processor, date, 'running', start)[0]!); // hung for good
      else if (draw < 0.29) rows.push(...withRecords(runRows(id, processor, date, 'success', start, 150 + Math.floor(random() * 120)))); // hung, then done
      else if (draw < 0.34) rows.push(...withRecords(runRows(id, processor, date, 'success', at(date, 60 * 16 + Math.floor(random() * 900))))); // late
      else rows.push(...withRecords(runRows(id, processor, date, 'success', start, 5 + Math.floor(random() * 20))));
    }
  }
  return rows;
}

async function replay(reevaluate: BacktestOptions['reevaluate']) {
  const warehouse = await openDuckDb({ path: scenario!.databasePath, create: false });
  try {
    const loaded = await loadCheckedRegistry(scenario!.registryPath);
    return await runBacktest(warehouse, loaded, { from: FROM, to: TO, everyMs: 3_600_000, lookbackDays: 7, processors: Object.keys(registry.processors).sort(), reevaluate });
  } finally {
    await warehouse.close();
  }
}

describe('the carried backtest replay', () => {
  // 96 full checks for the reference: slow by design, so a longer bound than the suite's 30 s.
  it('gives exactly the figures of the full check at every instant, with fewer queries', { timeout: 120_000 }, async () => {
    scenario = await createScenario(registry, generatedHistory());
    const silenced = await runCli(
      ['silence', 'add', '--config', scenario.registryPath, '--database', scenario.databasePath, '--processor', 'quiet', '--until', '2025-10-15T01:00:00Z', '--reason', 'planned'],
      { now: new Date('2025-10-14T02:00:00Z') },
    );
    expect(silenced.code).toBe(0);

    const reference = await replay('every_check');
    const carried = await replay('changed');

    // The scenario has something to get right: pages, reminders, held and never-alerted dates, flaps.
    expect(reference.checks).toBe(96);
    expect(reference.totals.pages).toBeGreaterThan(0);
    expect(reference.totals.slack_messages).toBeGreaterThan(reference.totals.pages);
    expect(reference.totals.never_alerted_dates).toBeGreaterThan(0);
    expect(reference.totals.flaps).toBeGreaterThan(0);
    expect(reference.queries).toBe(96);

    expect(carried.checks).toBe(reference.checks);
    expect(carried.totals).toEqual(reference.totals);
    expect(carried.processors).toEqual(reference.processors);
    expect(carried.weeks).toEqual(reference.weeks);
    expect(carried.never_alerted).toEqual(reference.never_alerted);
    expect(carried.queries).toBeLessThan(reference.queries);
  });
});

describe("the backtest's change instants statement", () => {
  it('resolves on BigQuery (ZetaSQL) with its parameters typed', async () => {
    const zeta = await startZetaSql();
    try {
      const loaded = parseRegistry({ dataset: 'nba_reference', processors: { a: {}, b: { depends_on: ['a'] } } });
      if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
      const sql = renderBacktestEventsSql('bigquery', loaded.registry);
      const params = { processors: 'ARRAY<STRING>', window_from: 'TIMESTAMP', window_to: 'TIMESTAMP' };
      // The status lists from the deployed registry: processor_last_success, its config columns (those read here).
      const lastSuccess = { processor_name: 'STRING', success_statuses: 'ARRAY<STRING>', failure_statuses: 'ARRAY<STRING>', running_statuses: 'ARRAY<STRING>', last_success_date: 'DATE' };
      const analyzed = await zeta.analyze(sql, { catalog: zetaCatalog({ 'nba_reference.processor_run_history': RUN_HISTORY_COLUMNS, 'nba_reference.processor_last_success': lastSuccess }), params });
      expect(analyzed).toMatchObject({ ok: true });
      // Its text does not grow with the registry: 3,000 processors stay far from BigQuery's 1,024K characters.
      const large = parseRegistry({ dataset: 'nba_reference', processors: Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`p${i}`, {}])) });
      if (!large.ok) throw new Error(large.problems.join('\n'));
      expect(renderBacktestEventsSql('bigquery', large.registry).length).toBe(sql.length);
    } finally {
      zeta.close();
    }
  });
});
