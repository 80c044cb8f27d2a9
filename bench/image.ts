/**
 * Section 5: the Cloud Run image. Builds this checkout's Dockerfile with scripts/docker-engine.sh
 * (on the locally made Node base, or PEM_TEST_BASE_IMAGE), then reports the image's size and its
 * cold start: `docker run` of the image with `--help` (container start, node start, loading the
 * CLI, exit), the first run after the build and the median of the runs after it. Needs a Docker
 * engine that answers; without one the section says so in one line and the bench goes on.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Timing } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENGINE_SCRIPT = join(ROOT, 'scripts', 'docker-engine.sh');

export const NO_DOCKER = 'no Docker engine answers (scripts/docker-engine.sh up starts one)';

export type ImageResult =
  | { skipped: string }
  | { skipped: null; tag: string; buildSeconds: number; sizeMb: number; firstStartMs: number; start: Timing };

function run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function benchImage(options: { runs: number }): ImageResult {
  if (run('bash', [ENGINE_SCRIPT, 'status']).status !== 0) return { skipped: NO_DOCKER };
  const building = performance.now();
  const built = run('bash', [ENGINE_SCRIPT, 'image']);
  if (built.status !== 0) throw new Error(`docker build failed:\n${built.stderr.trim().split('\n').slice(-20).join('\n')}`);
  const buildSeconds = (performance.now() - building) / 1000;
  const tag = built.stdout.trim().split('\n').at(-1)!;
  const size = Number(run('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]).stdout.trim());

  const start = (): number => {
    const started = performance.now();
    const help = run('docker', ['run', '--rm', '--network', 'host', tag, '--help']);
    if (help.status !== 0 || !help.stdout.includes('Usage: pem check')) throw new Error(`the image did not start: ${help.stderr.trim()}`);
    return performance.now() - started;
  };
  const firstStartMs = start();
  const samples = Array.from({ length: options.runs }, start);
  return { skipped: null, tag, buildSeconds, sizeMb: size / 1e6, firstStartMs, start: { median: median(samples), samples } };
}
