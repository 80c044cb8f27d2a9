/**
 * Runs `pem` as a real child process: this checkout's CLI bundled once with esbuild (loading it
 * through tsx costs about twice the CPU per process, which tests starting dozens of processes
 * cannot afford on a shared machine). The bundle sits in the repository's `.pem/` folder, so its
 * packages resolve from `node_modules` as the CLI's do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
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
  /**
   * Holds the child (module hooks: Node 20.6 or later) in bin/pem.js's import of the CLI (after its first lines ran, before pem's own
   * handling is loaded) until this resolves: what happens while pem loads, without guessing how
   * long loading takes on this machine.
   */
  whileLoading?: (child: ChildProcess) => Promise<void>;
  /** Runs the child as this user and group (the caller must be root): what another user may read and write. */
  asUser?: { uid: number; gid: number };
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
  // Module hooks (run with --import) that hold the import of ./main.mjs while a file is missing.
  writeFileSync(join(dir, 'hold-hooks.mjs'), HOLD_HOOKS);
  writeFileSync(join(dir, 'hold.mjs'), "import { register } from 'node:module';\nregister('./hold-hooks.mjs', import.meta.url);\n");
  let holds = 0;
  return {
    run(args, env = {}, started, options = {}) {
      const hold = options.whileLoading && { marker: join(dir, `held-${++holds}`), release: join(dir, `release-${holds}`) };
      // Beside any preload the caller gives (attachMarkersEnv), not instead of it.
      const holdEnv = hold
        ? { NODE_OPTIONS: [env.NODE_OPTIONS, `--import=${pathToFileURL(join(dir, 'hold.mjs')).href}`].filter(Boolean).join(' '), HOLD_MARKER: hold.marker, HOLD_RELEASE: hold.release }
        : {};
      // The bundle's folder (made 0700) is read by the other user too.
      if (options.asUser) chmodSync(dir, 0o755);
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [entry, ...args], {
          ...(options.asUser ?? {}),
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', ...env, ...holdEnv },
          stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', fail);
        started?.(child);
        child.on('close', (code) => done({ code, stdout, stderr }));
        if (hold) {
          void releaseAfter(hold, child, options.whileLoading!).catch((error: unknown) => {
            child.kill('SIGKILL');
            fail(error);
          });
        }
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HOLD_HOOKS = `import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
const { HOLD_MARKER: marker, HOLD_RELEASE: release } = process.env;
export async function resolve(specifier, context, next) {
  if (specifier === './main.mjs' && marker) {
    writeFileSync(marker, '');
    const deadline = Date.now() + 30000;
    while (!existsSync(release) && Date.now() < deadline) await sleep(10);
  }
  return next(specifier, context);
}
`;

/** Waits until the child is held loading, runs `whileLoading`, then lets the child go on. */
async function releaseAfter(hold: { marker: string; release: string }, child: ChildProcess, whileLoading: (child: ChildProcess) => Promise<void>): Promise<void> {
  await untilMarked(hold.marker, () => child, 'the import of the CLI');
  await whileLoading(child);
  writeFileSync(hold.release, '');
}

/**
 * The environment that preloads test/support/attach-markers-preload.mjs into a child: `attached`
 * is written once it has attached a DuckDB file (holds it), `lockWait` gets a line each time DuckDB
 * refused it the file for another process's lock (it is waiting).
 */
export function attachMarkersEnv(markers: { attached?: string; lockWait?: string }): Record<string, string> {
  return {
    NODE_OPTIONS: `--import=${pathToFileURL(join(REPO, 'test', 'support', 'attach-markers-preload.mjs')).href}`,
    ...(markers.attached ? { ATTACHED_MARKER: markers.attached } : {}),
    ...(markers.lockWait ? { LOCK_WAIT_MARKER: markers.lockWait } : {}),
  };
}

/** Resolves once `marker` exists; fails if the child ends first or `timeoutMs` passes. */
export async function untilMarked(marker: string, child: () => ChildProcess | undefined, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(marker)) {
    const exited = child()?.exitCode;
    if (exited != null) throw new Error(`the child ended (exit ${exited}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`the child did not reach ${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
}
