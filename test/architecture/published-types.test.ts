/**
 * The types a TypeScript user of the package compiles against (`types`: dist/index.d.ts), emitted
 * afresh from src/ as `npm run build` emits them, then type-checked from a consumer project under
 * strict settings, without skipLibCheck: the build skips checking its own declarations, so a
 * declaration that names a type it does not import (handlebars' global TemplateSpecification)
 * passed every check here and failed each user's build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const dir = mkdtempSync(join(tmpdir(), 'pem-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs tsc; its output when it fails (exit status and diagnostics), '' when it passes. */
function tsc(args: string[], cwd: string): string {
  try {
    execFileSync(process.execPath, [TSC, ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return `tsc exited ${failed.status}: ${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
}

describe('the published types', () => {
  it('compile in a TypeScript user\'s strict build, declarations checked', () => {
    // The package as installed: its package.json, its declarations, and its own dependencies.
    const pkg = join(dir, 'consumer', 'node_modules', 'processor-execution-monitor');
    mkdirSync(pkg, { recursive: true });
    expect(tsc(['-p', join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', join(pkg, 'dist')], ROOT)).toBe('');
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'processor-execution-monitor', type: 'module', types: 'dist/index.d.ts', exports: { '.': { types: './dist/index.d.ts' } } }));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');

    const consumer = join(dir, 'consumer');
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
    writeFileSync(
      join(consumer, 'index.ts'),
      "import { createRunRecorder } from 'processor-execution-monitor';\nexport const recorder: typeof createRunRecorder = createRunRecorder;\n",
    );
    const args = ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'index.ts'];
    expect(tsc(args, consumer)).toBe('');
    // Two compilations of the whole source: seconds, more on a loaded machine.
  }, 180_000);
});
