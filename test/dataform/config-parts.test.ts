/**
 * BigQuery refuses a query over 1,024K characters, and `processor_config` holds the registry as
 * literal rows (about 800 characters a processor): 1,300 processors already failed the deployment,
 * and with it every check (processor_last_success is built from it). A registry that long is
 * written in part tables, each its own query, which processor_config unions.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegistry, type Registry } from '../../src/config/registry.js';
import { dataformProject, MAX_CONFIG_QUERY_CHARS, OBJECTS, processorConfigPartName } from '../../src/dataform/project.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { compileDataform, fullName, REPO_ROOT, replayGraph } from './support/compile.js';

const dataform = dataformProject(loadTemplateBundle());
/** BigQuery's limit on a query's text (https://cloud.google.com/bigquery/quotas#query_jobs). */
const BIGQUERY_MAX_QUERY_CHARS = 1024 * 1000;

function registryOf(document: unknown): Registry {
  const parsed = parseRegistry(document);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.registry;
}

let zeta: ZetaSql;
const project = mkdtempSync(join(tmpdir(), 'pem-dataform-parts-'));
// What `dataform compile` loads: @dataform/core, and the packages includes/pem_sql.js requires.
const PACKAGES = ['@dataform/core', 'fastest-levenshtein', 'handlebars', 'luxon', 'zod', 'neo-async', 'source-map', 'wordwrap', 'minimist'];

beforeAll(async () => {
  zeta = await startZetaSql();
  for (const file of ['package.json', 'dataform.json', 'definitions', 'includes']) cpSync(join(REPO_ROOT, file), join(project, file), { recursive: true });
  for (const name of PACKAGES) cpSync(join(REPO_ROOT, 'node_modules', name), join(project, 'node_modules', name), { recursive: true });
}, 60_000);
afterAll(() => {
  zeta?.close();
  rmSync(project, { recursive: true, force: true });
});

describe('processorConfigParts', () => {
  const registry = registryOf({
    dataset: 'nba_reference',
    processors: {
      a_default: {},
      b_filtered: { execution_table: 'raw.jobs', processor_filter: `job_name = 'b' AND region IN ('us', 'eu')`, run_id_field: null },
      c_weekly: { expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'], owners: ['x@example.com', 'y@example.com'] },
      d_thresholds: { alert_after_dates: 2, alert_within_dates: 3, depends_on: [{ processor: 'a_default', offset_days: -1 }], max_runtime_minutes: 'auto' },
      e_calendar: { expected_frequency: 'calendar', calendar_table: 'ref.games', calendar_date_field: 'game_date', backfill_command: 'rerun {processor} --date={date}' },
    },
  });

  it('is the table’s own query while the registry fits one', () => {
    expect(dataform.processorConfigParts(registry)).toEqual([dataform.processorConfigQuery(registry)]);
    const empty = registryOf({ dataset: 'nba_reference', processors: {} });
    expect(dataform.processorConfigParts(empty)).toEqual([dataform.processorConfigQuery(empty)]);
  });

  it('splits a longer registry into parts within the limit that hold every row once, in order', async () => {
    const whole = dataform.processorConfigQuery(registry);
    const limit = Math.ceil(whole.length / 2.5);
    const parts = dataform.processorConfigParts(registry, limit);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(limit);
    const rows = [];
    for (const part of parts) rows.push(...(await zeta.evaluate(part, { catalog: { tables: {} }, content: {} })).rows);
    expect(rows).toEqual((await zeta.evaluate(whole, { catalog: { tables: {} }, content: {} })).rows);
  });
});

describe('processorConfigParts across its batches of rows', () => {
  it('gives, at every limit, parts that are each the table query of their rows, all rows once and in order', () => {
    // 250 processors: two whole batches and a half; some with long filters, so rows differ in length.
    const processors: Record<string, unknown> = {};
    for (let i = 0; i < 250; i++) processors[`p${String(i).padStart(3, '0')}`] = i % 7 === 0 ? { processor_filter: `processor_name = 'p${i}' AND region IN (${"'x', ".repeat(i % 40)}'y')` } : {};
    const registry = registryOf({ dataset: 'nba_reference', processors });
    const whole = dataform.processorConfigQuery(registry);
    expect(dataform.processorConfigParts(registry, whole.length)).toEqual([whole]);
    for (const limit of [Math.floor(whole.length / 2), Math.floor(whole.length / 3) + 17, 60_000, 20_000]) {
      const parts = dataform.processorConfigParts(registry, limit);
      let next = 0;
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(limit);
        const rows = part.split('\n  (').length - 1;
        expect(part).toBe(dataform.processorConfigQuery({ ...registry, processors: registry.processors.slice(next, next + rows) }));
        next += rows;
      }
      expect(next).toBe(registry.processors.length);
    }
  });
});

describe('the table function of a registry with thousands of dependencies', () => {
  it('reads the edges from the deployed config: its text does not grow with them', () => {
    // One literal row per edge made 5,000 dependencies 663K characters of 1,024K, and 10,000 too many.
    const chain = (n: number) => {
      const processors: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) processors[`processor_${i}`] = i === 0 ? {} : { depends_on: [{ processor: `processor_${i - 1}`, offset_days: -1 }] };
      return registryOf({ dataset: 'nba_reference', processors });
    };
    const body = (registry: Registry) => dataform.healthAtBody(registry, (name) => `p.${name}`, 'p.nba_reference.processor_last_success');
    expect(body(chain(5_000)).length).toBe(body(chain(2)).length);
  });
});

describe('dataform compile of a registry longer than one BigQuery query', () => {
  it('writes processor_config in part tables, every query within BigQuery’s limit, and the deployment replays on ZetaSQL', async () => {
    // 1,500 processors, some with settings of their own: about 1.2 M characters as one query.
    const processors: Record<string, unknown> = {};
    for (let i = 0; i < 1_500; i++) {
      processors[`processor_${String(i).padStart(4, '0')}`] = i % 10 === 0 ? { priority: 'high', owners: ['data-eng@example.com'], runbook_url: 'https://runbooks.example.com/{processor}' } : {};
    }
    const registry = registryOf({ dataset: 'nba_reference', processors });
    expect(dataform.processorConfigQuery(registry).length).toBeGreaterThan(BIGQUERY_MAX_QUERY_CHARS);
    writeFileSync(join(project, 'includes', 'processors.js'), `module.exports = ${JSON.stringify({ dataset: 'nba_reference', processors })};\n`);

    const run = await compileDataform([], project);
    expect(run.graph?.graphErrors?.compilationErrors ?? [], run.stderr).toEqual([]);
    const graph = run.graph!;
    const queries = [...graph.tables!.map((t) => t.query), ...graph.operations!.flatMap((o) => o.queries), ...graph.assertions!.map((a) => a.query)];
    expect(Math.max(...queries.map((q) => q.length))).toBeLessThanOrEqual(MAX_CONFIG_QUERY_CHARS);

    const parts = dataform.processorConfigParts(registry);
    expect(parts.length).toBe(2);
    const table = (name: string) => graph.tables!.find((t) => t.target.name === name);
    parts.forEach((part, i) => expect(table(processorConfigPartName(i))).toMatchObject({ type: 'table', query: part }));
    const config = table(OBJECTS.processorConfig)!;
    expect(config.dependencyTargets!.map((t) => t.name).sort()).toEqual(parts.map((_, i) => processorConfigPartName(i)));
    expect(config.query).toBe(parts.map((_, i) => `SELECT * FROM \`your-gcp-project.nba_reference.${processorConfigPartName(i)}\``).join('\nUNION ALL\n'));

    // What a deployment runs, in dependency order: every statement resolves, processor_config with the parts' columns.
    const { statements, catalog } = await replayGraph(zeta, graph, { tables: {} });
    expect(statements.filter((s) => !s.ok).map((s) => `${s.action}: ${s.error}`)).toEqual([]);
    expect(Object.keys(catalog.tables[fullName(config.target)]!)).toEqual(Object.keys(catalog.tables[`your-gcp-project.nba_reference.${processorConfigPartName(0)}`]!));
  }, 180_000);
});
