/**
 * The build precompiles the templates (scripts/precompile-sql.mjs → dist/sql/precompiled-templates.cjs)
 * so `pem` does not compile them at every start. Precompiled or compiled on first use, the SQL is
 * the same, byte for byte; a precompiled template whose file has changed since is never used.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { precompiledModule } from '../../scripts/precompile-sql.mjs';
import { parseRegistry, type Registry } from '../../src/config/registry.js';
import { runHistoryTable } from '../../src/config/names.js';
import { renderBackfillQueueSql } from '../../src/report/queue.js';
import { healthContext, processorConfigRows } from '../../src/sql/health.js';
import { loadTemplateBundle, readPrecompiledTemplates } from '../../src/sql/load.js';
import { COMPILE_OPTIONS, compiledSources, createSqlRenderer, DIALECTS, type SqlRenderer, type TemplateBundle } from '../../src/sql/render.js';
import { renderBacktestEventsSql, renderCheckSql, renderHealthSql, renderSchemaSql, renderTableProbeSql } from '../../src/sql/statements.js';

const scratch = mkdtempSync(join(tmpdir(), 'pem-precompiled-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bundle = loadTemplateBundle();

/** What the build writes, for `templates`, read back as the runner reads it. */
function buildPrecompiled(templates: TemplateBundle, file = join(scratch, `precompiled-${Math.random().toString(36).slice(2)}.cjs`)) {
  writeFileSync(file, (precompiledModule(compiledSources(templates), COMPILE_OPTIONS) as { text: string }).text);
  return { file, templates: readPrecompiledTemplates(file)! };
}

function registry(document: unknown): Registry {
  const result = parseRegistry(document);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.registry;
}

// Every kind of processor the templates branch on: the demo's (calendar, weekdays, weekly,
// disabled, grace, max runtime) and filters, dependencies, baselines off, streak alerting.
const demo = JSON.parse(readFileSync(new URL('../../demo/processors.json', import.meta.url), 'utf8')) as { processors: Record<string, unknown> };
const reg = registry({
  ...demo,
  processors: {
    ...demo.processors,
    filtered_processor: { processor_filter: "processor_name = 'filtered' AND region IN ('us', 'eu')", depends_on: ['gamebook_processor', { processor: 'roster_processor', offset_days: -1 }] },
    custom_table_processor: { execution_table: 'ops.job_runs', run_id_field: null, started_at_field: null, records_field: null, max_runtime_minutes: 'auto' },
    streak_processor: { alert_after_dates: 2, alert_within_dates: 3, volume_min_ratio: null, runtime_max_ratio: null, owners: 'o@example.com' },
  },
});
const table = runHistoryTable(reg);

/** Each statement the templates make, by what makes it; together they render every template. */
const STATEMENTS: [string, (renderer: SqlRenderer) => string][] = [
  ['health', (r) => renderHealthSql(r, reg)],
  ['health, whole history, config table', (r) => renderHealthSql(r, reg, { selectProcessors: false, orderRows: false, wholeHistory: true, configTable: 'nba_reference.processor_config', paramPrefix: 'pem_' })],
  ['check', (r) => renderCheckSql(r, reg)],
  ['schema', (r) => renderSchemaSql(r, reg).join(';\n')],
  ['backtest events', (r) => renderBacktestEventsSql(r, reg)],
  ['backfill queue', (r) => renderBackfillQueueSql(r, reg)],
  ['table probe', (r) => renderTableProbeSql(r, table)],
  ['processor config', (r) => r.render('processor_config', { processors: processorConfigRows(reg.processors) })],
  ['processor runs', (r) => r.render('processor_runs', healthContext(reg, { selectProcessors: false, orderRows: false, wholeHistory: true, paramPrefix: null, configTable: 'nba_reference.processor_config' }, r.templates))],
  ...[true, false].map((incremental): [string, (r: SqlRenderer) => string] => [
    `last success (incremental: ${incremental})`,
    (r) => r.render('processor_last_success', { config_table: 'd.processor_config', runs_view: 'd.processor_runs', self: 'd.processor_last_success', incremental, rescan_days: 35 }),
  ]),
  ['last success prune', (r) => r.render('processor_last_success_prune', { self: 'd.processor_last_success', config_table: 'd.processor_config' })],
  ['run row selected by', (r) => r.render('run_row_selected_by', { filtered: [{ processor: 'filtered_processor', filter: "processor_name = 'filtered'" }] })],
  ...['alert_state_latest', 'alert_state_claim', 'alert_state_claim_winners', 'alert_state_append', 'alert_state_record', 'alert_silences_add', 'alert_silences_remove'].map(
    (template): [string, (r: SqlRenderer) => string] => [template, (r) => r.render(template, { table })],
  ),
  ...[true, false].map((activeOnly): [string, (r: SqlRenderer) => string] => [
    `silences list (active only: ${activeOnly})`,
    (r) => r.render('alert_silences_list', { table, active_only: activeOnly }),
  ]),
];

describe('precompiled templates', () => {
  const precompiled = buildPrecompiled(bundle).templates;

  it('cover every template and partial of sql/ (each compiles)', () => {
    const missing = compiledSources(bundle).filter((text) => !precompiled.has(text));
    expect(missing).toEqual([]);
  });

  describe.each(DIALECTS)('%s', (dialect) => {
    const rendered = new Set<string>();
    const recording = (renderer: SqlRenderer): SqlRenderer => ({
      ...renderer,
      render: (template, context) => {
        rendered.add(template);
        return renderer.render(template, context);
      },
    });
    const fromText = createSqlRenderer(dialect, bundle);
    const fromPrecompiled = recording(createSqlRenderer(dialect, bundle, precompiled));

    it.each(STATEMENTS)('render %s byte for byte as the templates compiled from their text', (_, statement) => {
      const sql = statement(fromPrecompiled);
      expect(sql.length).toBeGreaterThan(40);
      expect(sql).toBe(statement(fromText));
    });

    it('rendered every template of sql/ in the statements above', () => {
      expect([...rendered].sort()).toEqual(Object.keys(bundle.templates).sort());
    });
  });

  it('are not used for a template whose file changed after the build: its new text is compiled', () => {
    const edited: TemplateBundle = { ...bundle, templates: { ...bundle.templates, create_dataset: bundle.templates.create_dataset!.replace('CREATE SCHEMA', 'CREATE  SCHEMA') } };
    expect(edited.templates.create_dataset).not.toBe(bundle.templates.create_dataset);
    const stale = createSqlRenderer('duckdb', edited, precompiled);
    expect(stale.render('create_dataset', { dataset: 'nba_reference' })).toBe(createSqlRenderer('duckdb', edited).render('create_dataset', { dataset: 'nba_reference' }));
    expect(stale.render('create_dataset', { dataset: 'nba_reference' })).toContain('CREATE  SCHEMA');
  });

  it('are not used for a partial whose file changed after the build', () => {
    const dialects = { ...bundle.dialects, bigquery: { ...bundle.dialects.bigquery!, param: '@@{{name}}' } };
    const edited: TemplateBundle = { ...bundle, dialects };
    const sql = createSqlRenderer('bigquery', edited, precompiled).render('alert_state_latest', { table });
    expect(sql).toContain('@@processors');
    expect(sql).toBe(createSqlRenderer('bigquery', edited).render('alert_state_latest', { table }));
  });

  it('are refused, naming the rebuild, when compiled with other options (they would render other SQL)', () => {
    const file = join(scratch, 'other-options.cjs');
    writeFileSync(file, (precompiledModule(['SELECT {{x}}'], { noEscape: false, strict: true }) as { text: string }).text);
    expect(() => readPrecompiledTemplates(file)).toThrow(/compiled with options .* run `npm run build`/);
  });

  it('are refused when compiled by another Handlebars revision', () => {
    const file = join(scratch, 'other-revision.cjs');
    const text = (precompiledModule(['SELECT 1'], COMPILE_OPTIONS) as { text: string }).text;
    const revision = Number(/"compiler":\[(\d+),/.exec(text)?.[1]);
    expect(revision).toBeGreaterThan(6);
    writeFileSync(file, text.replace(`"compiler":[${revision},`, '"compiler":[6,'));
    const oneTemplate: TemplateBundle = { templates: { one: 'SELECT 1' }, partials: {}, dialects: { duckdb: { param: '${{name}}' }, bigquery: {} } };
    expect(() => createSqlRenderer('duckdb', oneTemplate, readPrecompiledTemplates(file)).render('one', {})).toThrow(/precompiled with an older version of Handlebars/);
  });

  it('are absent where no build wrote them (src/ through tsx): every template compiles from its text', () => {
    expect(readPrecompiledTemplates(join(scratch, 'none.cjs'))).toBeUndefined();
  });
});
