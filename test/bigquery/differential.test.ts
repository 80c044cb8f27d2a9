/**
 * The BigQuery rendering of the detection, run on ZetaSQL's reference evaluator (BigQuery's own
 * SQL semantics), returns the same rows as the DuckDB rendering on DuckDB, over fixtures that
 * cover every day status and every rule of SPEC §4 and §10 (records, durations, median baselines,
 * anomalies, "auto" runtime). Three BigQuery forms are checked:
 *   - the detection query with bound parameters (`pem sql render --dialect bigquery`);
 *   - the statement `pem check --engine bigquery` sends, through the deployed table function
 *     `processor_health_daily_at` and the `processor_config` table (both as Dataform renders them);
 *   - the `processor_runs` view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedConfigDifferences } from '../../src/check/deployed.js';
import { healthParams } from '../../src/check/inputs.js';
import { checkDayRow } from '../../src/check/report.js';
import type { Registry } from '../../src/config/registry.js';
import { dataformProject, HEALTH_AT_ARGUMENTS } from '../../src/dataform/project.js';
import { healthContext } from '../../src/sql/health.js';
import { renderBacktestEventsSql, renderCheckSql, renderHealthSql, renderTableProbeSql } from '../../src/sql/statements.js';
import { loadTemplateBundle, sqlRenderer } from '../../src/sql/load.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { Row } from '../../src/warehouse/types.js';
import type { Scenario } from '../support/scenario.js';
import { startZetaSql, type Columns, type Plain, type ZetaSql } from '../support/zetasql.js';
import { deployedFixture } from './support/deployed.js';
import { duckDbScenario, registryOf, sortRows, zetaFixture, type Fixture } from './support/fixtures.js';
import { SCENARIOS, type Check } from './support/scenarios.js';

/** The Dataform project's SQL, over the templates on disk (includes/pem_sql.js bundles the same). */
const dataform = dataformProject(loadTemplateBundle());

let zeta: ZetaSql;
beforeAll(async () => {
  zeta = await startZetaSql();
});
afterAll(() => zeta?.close());

const DAY_MS = 86_400_000;

function selected(registry: Registry, check: Check): string[] {
  return check.processors ?? registry.processors.filter((p) => p.enabled).map((p) => p.name);
}

function zetaParams(registry: Registry, check: Check): Record<string, [string, unknown]> {
  return {
    end_date: ['DATE', check.date],
    lookback_days: ['INT64', check.lookback],
    now: ['TIMESTAMP', check.now],
    processors: ['ARRAY<STRING>', selected(registry, check)],
  };
}

async function duckDbRows(scenario: Scenario, sql: string, registry: Registry, check: Check): Promise<Row[]> {
  const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    const windowStart = new Date(Date.parse(`${check.date}T00:00:00Z`) - (check.lookback - 1) * DAY_MS).toISOString().slice(0, 10);
    return await warehouse.query(
      sql,
      healthParams({ endDate: check.date, windowStart, lookbackDays: check.lookback, now: new Date(check.now), processors: selected(registry, check) }),
    );
  } finally {
    await warehouse.close();
  }
}

/**
 * The check statement's rows (check_columns: the processor, its verdict as JSON on its first date,
 * the day as JSON with short keys), in order, as rows of processor_health_daily: each day, its keys
 * named back by the runner's own `checkDayRow`, with its processor's verdict.
 */
function perDayRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  let verdict: Record<string, unknown> = {};
  let processor: unknown = null;
  return rows.map((row) => {
    if (row.processor_name !== processor) {
      expect(row.verdict, `the first row of ${String(row.processor_name)} carries its verdict`).not.toBeNull();
      processor = row.processor_name;
      verdict = JSON.parse(String(row.verdict)) as Record<string, unknown>;
    } else {
      expect(row.verdict, `only the first row of ${String(row.processor_name)} carries its verdict`).toBeNull();
    }
    return { processor_name: row.processor_name, ...verdict, ...checkDayRow(JSON.parse(String(row.day)) as Row) };
  });
}

/** The processor_config table as Dataform would create it: its SELECT, evaluated by ZetaSQL. */
async function configTable(registry: Registry): Promise<{ columns: Columns; rows: Record<string, Plain>[] }> {
  const result = await zeta.evaluate(dataform.processorConfigQuery(registry), { catalog: { tables: {} }, content: {} });
  return { columns: Object.fromEntries(result.columns.map((c) => [c.name, c.type])), rows: result.rows };
}

function expectFacts(rows: Row[], check: Check): void {
  for (const [processor, date, column, value] of check.expect) {
    const row = rows.find((r) => r.processor_name === processor && (date === null || r.processing_date === date));
    expect(row, `a row for ${processor} ${date ?? ''}`).toBeDefined();
    expect(row![column], `${processor} ${date ?? '(any date)'} ${column}`).toEqual(value);
  }
}

describe.each(SCENARIOS)('$name', ({ fixture, checks }) => {
  let scenario: Scenario;
  let registry: Registry;
  beforeAll(async () => {
    scenario = await duckDbScenario(fixture);
    registry = registryOf(fixture);
  });
  afterAll(() => scenario?.cleanup());

  it.each(checks)('gives the same rows on ZetaSQL (BigQuery) as on DuckDB: E=$date L=$lookback now=$now', async (check) => {
    const duck = sortRows(await duckDbRows(scenario, renderHealthSql('duckdb', registry), registry, check));
    expectFacts(duck, check);

    const { catalog, content } = zetaFixture(fixture);
    const inline = await zeta.evaluate(renderHealthSql('bigquery', registry), { catalog, content, params: zetaParams(registry, check) });
    expect(inline.columns.map((c) => c.name)).toEqual(Object.keys(duck[0]!));
    expect(sortRows(inline.rows)).toEqual(duck);
  });

  it.each(checks)('gives the same rows through the deployed table function: E=$date L=$lookback now=$now', async (check) => {
    const duck = sortRows(await duckDbRows(scenario, renderHealthSql('duckdb', registry), registry, check));
    // processor_config and processor_last_success as Dataform deploys them; the function reads
    // the last success before its scans from the latter, never older history (SPEC §14).
    const { catalog, content, lastSuccessName } = await deployedFixture(zeta, fixture, registry);
    catalog.tableFunctions = [
      {
        name: `${registry.dataset}.processor_health_daily_at`,
        args: HEALTH_AT_ARGUMENTS.map((a) => ({ name: a.name, type: a.type })),
        body: dataform.healthAtBody(registry, (name) => name, lastSuccessName),
      },
    ];
    // Exactly the statement the runner sends (one query, ordered by processor and date), its
    // compact rows (check_columns) read back into processor_health_daily's shape.
    const result = await zeta.evaluate(renderCheckSql('bigquery', registry), { catalog, content, params: zetaParams(registry, check) });
    expect(result.columns.map((c) => c.name)).toEqual(['processor_name', 'verdict', 'day', 'deployed_config', 'undeployed']);
    expect(perDayRows(result.rows)).toEqual(duck);
    // Every processor asked is deployed here: none named as not.
    expect(result.rows.every((row) => row.undeployed === null)).toBe(true);
    // The deployed config on each processor's first row (beside its verdict), as the registry deployed it.
    const configs = result.rows.filter((row) => row.deployed_config !== null);
    expect(configs.map((row) => row.processor_name)).toEqual(result.rows.filter((row) => row.verdict !== null).map((row) => row.processor_name));
    const deployed = new Map(configs.map((row) => [String(row.processor_name), JSON.parse(String(row.deployed_config)) as Record<string, unknown>]));
    expect(deployedConfigDifferences(registry, deployed)).toEqual([]);
  });

  it('normalises runs the same way in the processor_runs view', async () => {
    const noRunId = new Set(registry.processors.filter((p) => p.run_id_field === null).map((p) => p.name));
    // Rows without a run id get a hash of the row as run_id, which differs between engines' row serialisations.
    const comparable = (rows: Record<string, unknown>[]) =>
      sortRows(
        rows.map((r) => (noRunId.has(String(r.processor_name)) ? { ...r, run_id: null } : r)),
        ['processor_name', 'processing_date', 'run_id', 'completed_at', 'run_state'],
      );
    const duckSql = sqlRenderer('duckdb').render('processor_runs', healthContext(registry, { selectProcessors: false, wholeHistory: true }, loadTemplateBundle()));
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    let duck: Row[];
    try {
      duck = await warehouse.query(duckSql);
    } finally {
      await warehouse.close();
    }
    const config = await configTable(registry);
    const configName = `${registry.dataset}.processor_config`;
    const { catalog, content } = zetaFixture(fixture, { [configName]: config.columns });
    content[configName] = config.rows;
    const result = await zeta.evaluate(dataform.processorRunsQuery(registry, (name) => name, configName), { catalog, content });
    expect(comparable(result.rows)).toEqual(comparable(duck));
    expect(result.rows.length).toBe(new Set(duck.map((r) => `${r.processor_name}|${r.processing_date}|${r.run_id}`)).size);
  });

  it("finds the same change instants for pem backtest (backtest_events), each row's start and end with its class", async () => {
    const noRunId = new Set(registry.processors.filter((p) => p.run_id_field === null).map((p) => p.name));
    const comparable = (rows: Record<string, unknown>[]) =>
      sortRows(
        rows.map((r) => (noRunId.has(String(r.processor_name)) ? { ...r, run_id: null } : r)),
        ['processor_name', 'processing_date', 'run_id', 'started_at', 'completed_at', 'run_class'],
      );
    const processors = registry.processors.map((p) => p.name);
    // Every row of the fixture, and a period that cuts some of them off (rows outside are no change).
    const periods = [
      { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' },
      { from: '2025-10-02T00:00:00.000Z', to: '2025-10-08T12:00:00.000Z' },
    ];
    const found: number[] = [];
    for (const period of periods) {
      const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
      let duck: Row[];
      try {
        duck = await warehouse.query(renderBacktestEventsSql('duckdb', registry), {
          processors: { type: 'ARRAY<STRING>', value: processors },
          window_from: { type: 'TIMESTAMP', value: new Date(period.from) },
          window_to: { type: 'TIMESTAMP', value: new Date(period.to) },
        });
      } finally {
        await warehouse.close();
      }
      // On BigQuery the status lists come from the deployed registry (processor_last_success).
      const { catalog, content } = await deployedFixture(zeta, fixture, registry);
      const result = await zeta.evaluate(renderBacktestEventsSql('bigquery', registry), {
        catalog,
        content,
        params: { processors: ['ARRAY<STRING>', processors], window_from: ['TIMESTAMP', period.from], window_to: ['TIMESTAMP', period.to] },
      });
      expect(result.columns.map((c) => c.name)).toEqual(['processor_name', 'processing_date', 'run_id', 'run_class', 'started_at', 'completed_at']);
      expect(comparable(result.rows)).toEqual(comparable(duck));
      found.push(duck.length);
    }
    // Every fixture with runs has some in the whole period; the cut period finds no more.
    expect(found[0]! > 0).toBe((fixture.runs?.length ?? 0) > 0);
    expect(found[1]).toBeLessThanOrEqual(found[0]!);
  });
});

describe('the differential fixtures', () => {
  // The hand-computed facts are asserted on both engines above; here: they reach every status and level.
  const facts = SCENARIOS.flatMap((s) => s.checks.flatMap((c) => c.expect));
  const valuesOf = (column: string) => [...new Set(facts.filter((f) => f[2] === column).map((f) => String(f[3])))].sort();

  it('cover every day status and every processor level', () => {
    expect(valuesOf('day_status')).toEqual(['failed', 'hung', 'missing', 'not_expected', 'pending', 'running', 'success']);
    expect(valuesOf('processor_level')).toEqual(['CRITICAL', 'ERROR', 'OK']);
  });

  it('cover staleness, the scheduler rule and recovered failures both ways', () => {
    expect(valuesOf('is_stale')).toEqual(['false', 'true']);
    expect(valuesOf('scheduler_issue')).toEqual(['false', 'true']);
    expect(valuesOf('is_recovered_failure')).toEqual(['true']);
  });

  it('cover every anomaly both ways, baselines of odd and even counts, and null measures (SPEC §10)', () => {
    for (const column of ['is_low_volume', 'is_high_volume', 'is_slow']) expect(valuesOf(column)).toEqual(['false', 'true']);
    // A fractional median (the middle pair of an even count), whole ones, and none.
    expect(valuesOf('baseline_records')).toEqual(expect.arrayContaining(['30.5', '41', 'null']));
    expect(valuesOf('duration_seconds')).toContain('null');
  });

  it('keep the evaluator fast: every fixture is small', () => {
    const sizes = SCENARIOS.map(({ fixture }: { fixture: Fixture }) =>
      (fixture.runs?.length ?? 0) + Object.values(fixture.tables ?? {}).reduce((n, t) => n + t.rows.length, 0),
    );
    expect(Math.max(...sizes)).toBeLessThan(200);
  });
});

describe('the table probe a failed check uses to name what it could not read (table_probe)', () => {
  it('reads nothing from a table that exists on both engines, and fails on one that does not', async () => {
    const fixture = SCENARIOS[0]!.fixture;
    const registry = registryOf(fixture);
    const table = registry.processors[0]!.execution_table;
    const { catalog, content } = zetaFixture(fixture);
    const result = await zeta.evaluate(renderTableProbeSql('bigquery', table), { catalog, content, params: {} });
    expect(result.columns.map((c) => c.name)).toEqual(['present']);
    expect(result.rows).toEqual([]);
    await expect(zeta.evaluate(renderTableProbeSql('bigquery', 'legacy.old_runs'), { catalog, content, params: {} })).rejects.toThrow(/old_runs/);
    const scenario = await duckDbScenario(fixture);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      expect(await warehouse.query(renderTableProbeSql('duckdb', table))).toEqual([]);
      await expect(warehouse.query(renderTableProbeSql('duckdb', 'legacy.old_runs'))).rejects.toThrow(/old_runs/);
    } finally {
      await warehouse.close();
      scenario.cleanup();
    }
  });
});
