/**
 * A registry or a var Dataform cannot use stops the compilation with one error that says what is
 * wrong. `includes/pem.js` threw before, which left `pem` undefined in every definition: the real
 * error came among fifteen "pem is not defined", each printed with its stack (182 lines).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDataform, REPO_ROOT } from './support/compile.js';

const project = mkdtempSync(join(tmpdir(), 'pem-dataform-errors-'));
// What `dataform compile` loads: @dataform/core, and the packages includes/pem_sql.js requires.
const PACKAGES = ['@dataform/core', 'fastest-levenshtein', 'handlebars', 'luxon', 'zod', 'neo-async', 'source-map', 'wordwrap', 'minimist'];

beforeAll(() => {
  for (const file of ['package.json', 'dataform.json', 'definitions', 'includes']) cpSync(join(REPO_ROOT, file), join(project, file), { recursive: true });
  for (const name of PACKAGES) cpSync(join(REPO_ROOT, 'node_modules', name), join(project, 'node_modules', name), { recursive: true });
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

const messages = async (args: string[] = []) => {
  const run = await compileDataform(args, project);
  const g = run.graph;
  const actions = [...(g?.tables ?? []), ...(g?.operations ?? []), ...(g?.assertions ?? [])] as { disabled?: boolean }[];
  return {
    code: run.code,
    errors: (g?.graphErrors?.compilationErrors ?? []).map((e) => `${e.fileName}: ${e.message}`),
    enabled: actions.filter((a) => !a.disabled).length,
  };
};

describe('dataform compile with a registry or vars it cannot use', () => {
  it('gives one error for an invalid registry, naming every problem, and no "pem is not defined"', async () => {
    writeFileSync(join(project, 'includes', 'processors.js'), "module.exports = { dataset: 'nba_reference', processors: { gamebook: { staleness_treshold_days: 2, priority: 'urgent' } } };\n");
    const { code, errors, enabled } = await messages(['--vars=pem_health_lookback_days=soon']);
    expect(code).toBe(1);
    // The stand-in the other definitions compiled against: nothing of it would run.
    expect(enabled).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^definitions\/pem_problems\.js: invalid processor registry \(includes\/processors\.js\):\n/);
    expect(errors[0]).toContain('processors.gamebook.staleness_treshold_days: unknown key (did you mean "staleness_threshold_days"?)');
    expect(errors[0]).toContain('processors.gamebook.priority: "urgent" is not one of low, medium, high');
    expect(errors[0]).toContain('var pem_health_lookback_days must be a whole number from 1 to 366');
  }, 60_000);

  it('says once that a dataset naming a project cannot be deployed by Dataform, instead of an error per action', async () => {
    writeFileSync(join(project, 'includes', 'processors.js'), "module.exports = { dataset: 'other-proj.nba_reference', processors: { gamebook: {} } };\n");
    const { code, errors, enabled } = await messages();
    expect(code).toBe(1);
    expect(enabled).toBe(0);
    expect(errors).toEqual([
      'definitions/pem_problems.js: invalid processor registry (includes/processors.js): dataset "other-proj.nba_reference" names a project, and the Dataform project deploys into its own ' +
        '(defaultDatabase, --default-database): give "nba_reference" as the dataset and deploy the Dataform project (and the job: PROJECT_ID) in other-proj',
    ]);
  }, 60_000);

  it('compiles as before once the registry is put right', async () => {
    writeFileSync(join(project, 'includes', 'processors.js'), "module.exports = { dataset: 'nba_reference', processors: { gamebook: {} } };\n");
    const { code, errors, enabled } = await messages();
    expect({ code, errors }).toEqual({ code: 0, errors: [] });
    expect(enabled).toBeGreaterThan(10);
  }, 60_000);
});
