/**
 * includes/pem_sql.js is generated from sql/ and src/ (Dataform includes cannot read files): it
 * must be committed up to date, and render exactly what the TypeScript renders.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/load.js';
import { dataformProject, type DataformProject } from '../../src/dataform/project.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { REPO_ROOT } from './support/compile.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'bundle-sql.mjs');
/** What the TypeScript renders: the project over the templates on disk. */
const project = dataformProject(loadTemplateBundle());

function bundleScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { cwd: REPO_ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'pem-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('includes/pem_sql.js', () => {
  it('is up to date with sql/ and src/ (run `npm run bundle:sql` when this fails)', async () => {
    const run = await bundleScript(['--check']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('is reported stale when it differs', async () => {
    const stale = join(scratch, 'pem_sql.js');
    writeFileSync(stale, '// an old bundle\n');
    const run = await bundleScript(['--check', '--output', stale]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/pem_sql\.js is stale: run `npm run bundle:sql`/);
  });

  it('renders exactly what the TypeScript renders', async () => {
    const bundle = createRequire(import.meta.url)(join(REPO_ROOT, 'includes', 'pem_sql.js')) as DataformProject;
    const registry = await loadRegistry(join(REPO_ROOT, 'includes', 'processors.js'));
    const fromBundle = bundle.loadRegistry(createRequire(import.meta.url)(join(REPO_ROOT, 'includes', 'processors.js')));
    expect(fromBundle).toEqual(registry);
    const resolve = (name: string) => `p.${name}`;
    expect(bundle.healthAtDdl('p.ds.f', fromBundle, resolve, 'p.ds.processor_last_success')).toBe(
      project.healthAtDdl('p.ds.f', registry, resolve, 'p.ds.processor_last_success'),
    );
    expect(bundle.lastSuccessQuery('p.ds.c', 'p.ds.r', 'p.ds.s', true)).toBe(project.lastSuccessQuery('p.ds.c', 'p.ds.r', 'p.ds.s', true));
    expect(bundle.lastSuccessPruneSql('p.ds.s', 'p.ds.c')).toBe(project.lastSuccessPruneSql('p.ds.s', 'p.ds.c'));
    expect(bundle.processorConfigQuery(fromBundle)).toBe(project.processorConfigQuery(registry));
    expect(bundle.processorRunsQuery(fromBundle, resolve, 'p.ds.c')).toBe(project.processorRunsQuery(registry, resolve, 'p.ds.c'));
    expect(bundle.runHistoryDdl('`p.ds.t`')).toBe(project.runHistoryDdl('p.ds.t'));
  });

  it('refuses a filter cut short, which only DuckDB\'s parse caught: Dataform would deploy a function failing at its first run', () => {
    const bundle = createRequire(import.meta.url)(join(REPO_ROOT, 'includes', 'pem_sql.js')) as DataformProject;
    expect(() => bundle.loadRegistry({ processors: { c: { processor_filter: 'processor_name = ' } } })).toThrow(
      /processors\.c\.processor_filter: is cut short: it ends with "=", with nothing after it/,
    );
  });

  it('lists every problem of an invalid registry, as Dataform will show them', () => {
    const bundle = createRequire(import.meta.url)(join(REPO_ROOT, 'includes', 'pem_sql.js')) as DataformProject;
    expect(() => bundle.loadRegistry({ processors: { a: { expected_frequency: 'hourly', priorty: 'high' } } })).toThrow(
      /invalid processor registry[\s\S]*processors\.a\.(expected_frequency|priorty)[\s\S]*processors\.a\.(expected_frequency|priorty)/,
    );
  });
});
