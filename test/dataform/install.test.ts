/**
 * Dataform in Google Cloud compiles this repository after installing the packages of its root
 * package.json (docs/deployment.md, "What Dataform installs"). This installs a copy of the
 * repository the strictest way that behaviour allows — the `dependencies` only (no dev
 * dependencies: no Dataform CLI, no TypeScript compiler), optional (native) packages left out,
 * lifecycle scripts allowed to run — and compiles it with the pinned Dataform CLI.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDataform, REPO_ROOT, type CompiledGraph, type CompileRun } from './support/compile.js';

/** What a Dataform repository connected to this Git repository holds that matters to an install and a compile. */
const REPOSITORY_FILES = ['package.json', 'package-lock.json', 'dataform.json', 'definitions', 'includes', 'scripts', 'src', 'sql'];
/** npm's flags for "only what Dataform needs": offline-friendly, from the local cache when it has the packages. */
const INSTALL = ['ci', '--omit=dev', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund'];

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  scripts: Record<string, string>;
}
interface LockedPackage {
  dev?: boolean;
  optional?: boolean;
  hasInstallScript?: boolean;
}

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };
const copy = mkdtempSync(join(tmpdir(), 'pem-dataform-install-'));
let install: { code: number; stdout: string; stderr: string };
let compiled: CompileRun;
let reference: CompileRun;

function npm(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A user-level npm config must not change what is installed (e.g. `omit` or `ignore-scripts`).
    const env = { ...process.env, npm_config_userconfig: join(cwd, '.npmrc-none') };
    execFile('npm', args, { cwd, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Every file under a directory whose name ends with the suffix. */
function filesEndingWith(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith(suffix));
}

const actions = (graph: CompiledGraph | null) => JSON.stringify([graph?.tables, graph?.operations, graph?.assertions, graph?.declarations]);

beforeAll(async () => {
  for (const file of REPOSITORY_FILES) cpSync(join(REPO_ROOT, file), join(copy, file), { recursive: true });
  install = await npm(INSTALL, copy);
  [compiled, reference] = await Promise.all([compileDataform([], copy), compileDataform()]);
}, 180_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('the repository as Dataform installs it', () => {
  it('declares @dataform/core as a regular dependency, pinned to an exact version like every other package', () => {
    expect(manifest.dependencies['@dataform/core']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.devDependencies['@dataform/core']).toBeUndefined();
    for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    }
  });

  it('has no production package with an install script, so nothing is built from source on install', () => {
    const scripted = Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript && !entry.dev && !entry.optional);
    expect(scripted.map(([path]) => path)).toEqual([]);
  });

  it('installs the dependencies alone, its prepare script skipping the build that needs dev dependencies', () => {
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('prepare: no TypeScript compiler or src/ here (a production install); dist/ not built');
    expect(existsSync(join(copy, 'dist'))).toBe(false);
    expect(JSON.parse(readFileSync(join(copy, 'node_modules', '@dataform', 'core', 'package.json'), 'utf8')).version).toBe(manifest.dependencies['@dataform/core']);
  });

  it('installs no native binary, browser, compiler or Dataform CLI', () => {
    expect(filesEndingWith(join(copy, 'node_modules'), '.node')).toEqual([]);
    for (const name of ['typescript', 'playwright-core', '@fivetrandevelopers/zetasql', '@dataform/cli', '@duckdb/node-bindings-linux-x64']) {
      expect(existsSync(join(copy, 'node_modules', name)), name).toBe(false);
    }
  });

  it('compiles with the pinned Dataform CLI with no compilation errors, to the same graph as the development checkout', () => {
    expect(compiled.graph, compiled.stderr).not.toBeNull();
    expect(compiled.graph!.graphErrors?.compilationErrors ?? []).toEqual([]);
    expect(compiled.code).toBe(0);
    expect(compiled.graph!.operations!.map((o) => o.target.name)).toContain('processor_run_history');
    expect(actions(compiled.graph)).toBe(actions(reference.graph));
  });
});
