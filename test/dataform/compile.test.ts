/**
 * The Dataform project compiles offline, deploys what SPEC §1 and issue 3 list, renders its
 * detection from the same templates as the runner, and every action is valid BigQuery: each
 * statement is analyzed by ZetaSQL against the contract schema, in dependency order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/load.js';
import type { Registry } from '../../src/config/registry.js';
import { dataformProject, OBJECTS } from '../../src/dataform/project.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { renderHealthSql, renderSchemaSql } from '../../src/sql/statements.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { compileDataform, fullName, REPO_ROOT, replayGraph, type CompiledGraph, type CompileRun, type ReplayedStatement } from './support/compile.js';

const PROJECT = 'your-gcp-project';
const DATASET = 'nba_reference';
const q = (name: string, project = PROJECT) => `${project}.${DATASET}.${name}`;
/** The Dataform project's SQL, over the templates on disk (includes/pem_sql.js bundles the same). */
const dataform = dataformProject(loadTemplateBundle());

let zeta: ZetaSql;
let compiled: CompileRun;
let graph: CompiledGraph;
let registry: Registry;
let statements: ReplayedStatement[];

beforeAll(async () => {
  [zeta, compiled, registry] = await Promise.all([startZetaSql(), compileDataform(), loadRegistry(`${REPO_ROOT}/includes/processors.js`)]);
  graph = compiled.graph!;
  // No source tables: the default registry reads only the run history, which the project creates.
  ({ statements } = await replayGraph(zeta, graph, { tables: {} }));
});
afterAll(() => zeta?.close());

const operation = (name: string) => graph.operations!.find((o) => o.target.name === name)!;
const table = (name: string) => graph.tables!.find((t) => t.target.name === name)!;

describe('dataform compile --json (offline, no credentials)', () => {
  it('compiles with no compilation errors', () => {
    expect(compiled.graph, compiled.stderr).not.toBeNull();
    expect(graph.graphErrors?.compilationErrors ?? []).toEqual([]);
    expect(compiled.code).toBe(0);
  });

  it('reads dataform.json: the registry dataset is the default schema, the project a placeholder', () => {
    expect(graph.projectConfig).toMatchObject({ defaultDatabase: PROJECT, defaultSchema: DATASET, assertionSchema: `${DATASET}_assertions` });
  });

  it('deploys every object into the registry dataset, with the right kind', () => {
    const kinds = Object.fromEntries([
      ...graph.tables!.map((t) => [fullName(t.target), t.type]),
      ...graph.operations!.map((o) => [fullName(o.target), o.hasOutput ? 'operation with output' : 'operation']),
    ]);
    expect(kinds).toEqual({
      [q(OBJECTS.runHistory)]: 'operation with output',
      [q(OBJECTS.alertState)]: 'operation with output',
      [q(OBJECTS.alertSilences)]: 'operation with output',
      [q(OBJECTS.processorConfig)]: 'table',
      [q(OBJECTS.lastSuccess)]: 'incremental',
      [q(OBJECTS.processorRuns)]: 'view',
      [q(OBJECTS.healthAt)]: 'operation with output',
      [q(OBJECTS.healthDaily)]: 'operation with output',
      [q(OBJECTS.health)]: 'view',
      [q(OBJECTS.backfillQueue)]: 'view',
    });
    expect(graph.assertions!.map((a) => a.target.name).sort()).toEqual([
      'nba_reference_processor_config_assertions_rowConditions',
      'nba_reference_processor_config_assertions_uniqueKey_0',
      'nba_reference_processor_last_success_assertions_rowConditions',
      'nba_reference_processor_last_success_assertions_uniqueKey_0',
      'processor_last_success_agrees',
      'processor_run_history_completed_after_start',
      'processor_run_history_known_statuses',
      'processor_run_history_one_final_row',
    ]);
  });

  it('orders the graph: config and run history, then the table functions, then the views that read them', () => {
    const deps = (name: string) => [...(operation(name)?.dependencyTargets ?? table(name)?.dependencyTargets ?? [])].map((t) => t.name).sort();
    expect(deps(OBJECTS.healthAt)).toEqual([OBJECTS.lastSuccess, OBJECTS.runHistory].sort());
    // Kept incrementally from the config and the runs view (SPEC §14), before the table function that reads it.
    expect(deps(OBJECTS.lastSuccess)).toEqual([OBJECTS.processorConfig, OBJECTS.processorRuns].sort());
    expect(deps(OBJECTS.healthDaily)).toEqual([OBJECTS.processorConfig, OBJECTS.healthAt].sort());
    expect(deps(OBJECTS.processorRuns)).toEqual([OBJECTS.processorConfig, OBJECTS.runHistory].sort());
    expect(deps(OBJECTS.health)).toEqual([OBJECTS.healthDaily]);
    expect(deps(OBJECTS.backfillQueue)).toEqual([OBJECTS.healthDaily]);
    for (const a of graph.assertions!.filter((x) => x.target.name.startsWith('processor_run_history_'))) {
      expect(a.dependencyTargets!.map((t) => t.name)).toEqual([OBJECTS.runHistory]);
    }
  });
});

describe('the deployed objects', () => {
  it('creates the run history with the DDL of `pem schema apply`: partitioned by processing_date, clustered', () => {
    const [ddl] = operation(OBJECTS.runHistory).queries;
    expect(ddl).toBe(renderSchemaSql('bigquery', registry)[1]!.replace(`\`${DATASET}.`, `\`${PROJECT}.${DATASET}.`));
    expect(ddl).toMatch(/^CREATE TABLE IF NOT EXISTS `your-gcp-project\.nba_reference\.processor_run_history`/);
    expect(ddl).toMatch(/\)\nPARTITION BY processing_date\nCLUSTER BY processor_name, status\n?$/);
  });

  it('creates the alert tables with the DDL of `pem schema apply`', () => {
    const schema = renderSchemaSql('bigquery', registry).map((s) => s.replace(`\`${DATASET}.`, `\`${PROJECT}.${DATASET}.`));
    // The alert state's columns added since a table was first made, in place (ALTER … ADD COLUMN IF NOT EXISTS).
    expect(operation(OBJECTS.alertState).queries).toEqual(schema.filter((s) => s.includes('.pem_alert_state`')));
    expect(operation(OBJECTS.alertState).queries).toHaveLength(3);
    expect(schema).toContain(operation(OBJECTS.alertSilences).queries[0]);
  });

  it('fills processor_config with the registry, defaults applied', async () => {
    const { rows } = await zeta.evaluate(table(OBJECTS.processorConfig).query, { catalog: { tables: {} }, content: {} });
    expect(rows).toEqual(
      registry.processors.map(({ name, ...settings }) => ({ processor_name: name, ...settings })),
    );
  });

  it('renders the runner’s table function from the detection template, reading processor_last_success and no processor_config', () => {
    const [ddl] = operation(OBJECTS.healthAt).queries;
    expect(ddl).toMatch(/^CREATE OR REPLACE TABLE FUNCTION `your-gcp-project\.nba_reference\.processor_health_daily_at`\(pem_end_date DATE, pem_lookback_days INT64, pem_now TIMESTAMP\)\n/);
    const resolve = (name: string) => `${PROJECT}.${name}`;
    expect(ddl!.endsWith(dataform.healthAtBody(registry, resolve, q(OBJECTS.lastSuccess)).trimEnd())).toBe(true);
    // BigQuery bills at least 10 MB per table read: the config comes from processor_last_success too (SPEC §14).
    expect(ddl).not.toContain(q(OBJECTS.processorConfig));
    expect(ddl).toContain(`FROM \`${q(OBJECTS.lastSuccess)}\``);
    // Arguments, never query parameters, inside a table function.
    expect(ddl).not.toMatch(/@\w/);
  });

  it('has the analysts’ table function call the runner’s with CURRENT_TIMESTAMP()', () => {
    const [ddl] = operation(OBJECTS.healthDaily).queries;
    expect(ddl).toMatch(/^CREATE OR REPLACE TABLE FUNCTION `your-gcp-project\.nba_reference\.processor_health_daily`\(end_date DATE, lookback_days INT64\)/);
    expect(ddl).toContain(`FROM \`${q(OBJECTS.healthAt)}\`(end_date, lookback_days, CURRENT_TIMESTAMP())`);
  });

  it('bounds every scan of the run history by processing_date, so BigQuery prunes partitions', () => {
    const runHistory = `\`${q(OBJECTS.runHistory)}\``;
    const scans: string[] = [];
    const sources = [
      ...graph.operations!.filter((o) => o.target.name !== OBJECTS.runHistory).flatMap((o) => o.queries),
      ...graph.assertions!.map((a) => a.query),
      ...graph.tables!.filter((t) => t.target.name !== OBJECTS.processorRuns).map((t) => t.query),
    ];
    for (const sql of sources) {
      let at = sql.indexOf(runHistory);
      while (at >= 0) {
        scans.push(sql.slice(at, at + 600));
        at = sql.indexOf(runHistory, at + 1);
      }
    }
    expect(scans.length).toBeGreaterThanOrEqual(4);
    for (const scan of scans) expect(scan).toMatch(/WHERE [^\n]*processing_date`? (<|<=|>=) /);
  });
});

describe('every compiled action, analyzed by ZetaSQL (BigQuery’s front end)', () => {
  it('resolves with zero errors, each against the outputs of the actions it depends on', () => {
    const failures = statements.filter((s) => !s.ok).map((s) => `${s.action}:\n${s.error}`);
    expect(failures).toEqual([]);
    const actions = (graph.tables?.length ?? 0) + (graph.operations?.length ?? 0) + (graph.assertions?.length ?? 0);
    expect(new Set(statements.map((s) => s.action)).size).toBe(actions);
  });

  it('leaves no template placeholder unfilled: Dataform fills no ${…} in a SQL comment, and the deployed SQL would show it', () => {
    const unfilled = statements.filter((s) => s.sql.includes('${')).map((s) => `${s.action}: ${/.*\$\{.*/.exec(s.sql)![0].trim()}`);
    expect(unfilled).toEqual([]);
  });

  it('gives processor_health_daily_at the columns the runner reads', async () => {
    const inline = await zeta.analyze(renderHealthSql('bigquery', registry), {
      catalog: { tables: { [`${DATASET}.processor_run_history`]: (await import('../bigquery/support/fixtures.js')).RUN_HISTORY_COLUMNS } },
      params: { end_date: 'DATE', lookback_days: 'INT64', now: 'TIMESTAMP', processors: 'ARRAY<STRING>' },
    });
    expect(inline.ok).toBe(true);
    const call = await zeta.analyze(`SELECT * FROM \`${q(OBJECTS.healthAt)}\`(DATE '2025-10-07', 7, CURRENT_TIMESTAMP())`, {
      catalog: (await replayGraph(zeta, graph, { tables: {} })).catalog,
    });
    expect(call.ok && call.columns).toEqual(inline.ok && inline.columns);
  });

  it('catches a BigQuery mistake: the same analysis rejects a misspelled column', async () => {
    const broken: CompiledGraph = {
      ...graph,
      assertions: [{ ...graph.assertions![0]!, query: `SELECT processor_nme FROM \`${q(OBJECTS.processorConfig)}\`` }],
    };
    const { statements: replayed } = await replayGraph(zeta, broken, { tables: {} });
    expect(replayed.find((s) => !s.ok)?.error).toMatch(/Unrecognized name: processor_nme/);
  });
});

describe('the deployment environment, decided once from dataform.json and --vars', () => {
  it('follows --default-database and the lookback vars everywhere', async () => {
    const run = await compileDataform(['--default-database=acme-data-prod', '--vars=pem_health_lookback_days=14,pem_assertion_lookback_days=3']);
    expect(run.graph?.graphErrors?.compilationErrors ?? []).toEqual([]);
    const g = run.graph!;
    const everything = [...g.tables!.map((t) => t.query), ...g.operations!.flatMap((o) => o.queries), ...g.assertions!.map((a) => a.query)].join('\n');
    expect(everything).not.toContain(PROJECT);
    expect(g.operations!.find((o) => o.target.name === OBJECTS.healthAt)!.queries[0]).toContain(`\`${q(OBJECTS.runHistory, 'acme-data-prod')}\``);
    expect(g.tables!.find((t) => t.target.name === OBJECTS.health)!.query).toMatch(/\(CURRENT_DATE\('America\/New_York'\), 14\)/);
    expect(g.assertions!.find((a) => a.target.name === 'processor_run_history_known_statuses')!.query).toContain('INTERVAL 3 DAY');
  });

  it('refuses a bad var with a message naming it and a good value', async () => {
    const run = await compileDataform(['--vars=pem_health_lookback_days=soon']);
    expect(run.code).toBe(1);
    const messages = (run.graph?.graphErrors?.compilationErrors ?? []).map((e) => e.message).join('\n');
    expect(messages).toMatch(/var pem_health_lookback_days must be a whole number from 1 to 366, for example --vars=pem_health_lookback_days=7 \(got "soon"\)/);
  });
});
