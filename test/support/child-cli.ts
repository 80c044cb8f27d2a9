/**
 * Runs `pem` as a real child process: this checkout's CLI bundled once with esbuild (loading it
 * through tsx costs about twice the CPU per process, which tests starting dozens of processes
 * cannot afford on a shared machine). The bundle sits in the repository's `.pem/` folder, so its
 * packages resolve from `node_modules` as the CLI's do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const REPO = resolve(import.meta.dirname, '..', '..');

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ChildRunOptions {
  /** A file descriptor for the child's stdout instead of a pipe (its output is then not collected). */
  stdoutFd?: number;
}

export interface ChildCli {
  /** Runs `pem args…` with exactly `env` (plus PATH), resolving when the process exits; `started` gets the process (to signal it). */
  run(args: string[], env?: Record<string, string>, started?: (child: ChildProcess) => void, options?: ChildRunOptions): Promise<ChildRun>;
  cleanup(): void;
}

export async function bundleCli(): Promise<ChildCli> {
  mkdirSync(join(REPO, '.pem'), { recursive: true });
  const dir = mkdtempSync(join(REPO, '.pem', 'child-cli-'));
  const bundle = join(dir, 'main.mjs');
  await build({ entryPoints: [join(REPO, 'src', 'cli', 'process.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: bundle, logLevel: 'silent' });
  const entry = join(dir, 'pem.mjs');
  // bin/pem.js itself, with the bundle in place of dist/: what it does before loading (holding
  // early signals) is tested as shipped.
  const bin = readFileSync(join(REPO, 'bin', 'pem.js'), 'utf8');
  if (!bin.includes("'../dist/cli/process.js'")) throw new Error('bin/pem.js no longer imports ../dist/cli/process.js: update test/support/child-cli.ts');
  writeFileSync(entry, bin.replace("'../dist/cli/process.js'", "'./main.mjs'"));
  return {
    run(args, env = {}, started, options = {}) {
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [entry, ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', ...env },
          stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', fail);
        started?.(child);
        child.on('close', (code) => done({ code, stdout, stderr }));
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
