/**
 * Benchmark 3: `pem check --json-output --dry-run` end to end on the synthetic history, as a
 * scheduler runs it: a fresh process each time (Node start, registry load and validation, DuckDB
 * open, the query, alert routing, the JSON document on stdout). Wall time is measured around the
 * spawned process; peak RSS is the process's maximum resident set size, from GNU time
 * (`/usr/bin/time -v`) when present, else from a wrapper that reads
 * `process.resourceUsage().maxRSS` in the process itself.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_END_DATE, BENCH_NOW } from './dataset.js';
import { median, type Timing } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GNU_TIME = '/usr/bin/time';

export interface CheckE2eCase {
  processors: number;
  days: number;
  databasePath: string;
  registryPath: string;
}

export interface CheckE2eOptions {
  warmups: number;
  runs: number;
}

export interface CheckE2eResult {
  processors: number;
  days: number;
  wall: Timing;
  /** Peak RSS of each measured run, in MB (1,048,576 bytes). */
  peakRssMb: number[];
  maxPeakRssMb: number;
  rssSource: 'GNU time' | 'process.resourceUsage';
  /** `dist` (the built CLI, bin/pem.js) or `source` (tsx: dist older than src/, run npm run build). */
  cli: 'dist' | 'source';
  /** Processors in the JSON document, and its size and digest (identical on every run). */
  documentProcessors: number;
  documentBytes: number;
  documentSha256: string;
}

interface Spawned {
  code: number;
  /** stdout, kept only up to KEEP_STDOUT bytes (the digest and size cover all of it). */
  stdout: string | null;
  stdoutBytes: number;
  stdoutSha256: string;
  stderr: string;
  wallMs: number;
}

const KEEP_STDOUT = 64 * 1024 * 1024;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Spawned> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const digest = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      digest.update(chunk);
      bytes += chunk.length;
      if (bytes <= KEEP_STDOUT) chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        code: code ?? -1,
        stdout: bytes <= KEEP_STDOUT ? Buffer.concat(chunks).toString('utf8') : null,
        stdoutBytes: bytes,
        stdoutSha256: digest.digest('hex'),
        stderr,
        wallMs: performance.now() - started,
      }),
    );
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * How to start pem: the built CLI (bin/pem.js) when dist/ is at least as new as src/, otherwise
 * src/ through tsx (slower to start; the result says so). `wrapped` runs it inside
 * measured-pem.mjs, which reports the process's own peak RSS (when GNU time is absent).
 */
export function pemEntry(wrapped: boolean): { cli: 'dist' | 'source'; nodeArgs: string[] } {
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  const wrapper = join(ROOT, 'bench', 'measured-pem.mjs');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src'))) {
    return { cli: 'dist', nodeArgs: wrapped ? [wrapper, built] : [join(ROOT, 'bin', 'pem.js')] };
  }
  return { cli: 'source', nodeArgs: ['--import', 'tsx', wrapper, join(ROOT, 'src', 'cli', 'main.ts')] };
}

export async function benchCheckE2e(testCase: CheckE2eCase, options: CheckE2eOptions): Promise<CheckE2eResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // No destination is configured: alerts are routed and recorded, nothing leaves the machine.
  for (const name of ['SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY', 'PAGERDUTY_EVENTS_URL', 'PEM_ENGINE']) delete env[name];
  const useGnuTime = existsSync(GNU_TIME);
  const entry = pemEntry(!useGnuTime);
  const checkArgs = [
    ...entry.nodeArgs, 'check', '--json-output', '--dry-run',
    '--config', testCase.registryPath, '--database', testCase.databasePath,
    '--date', BENCH_END_DATE, '--now', BENCH_NOW.toISOString(), '--lookback-days', String(testCase.days),
  ];
  const walls: number[] = [];
  const rss: number[] = [];
  const digests = new Set<string>();
  let documentProcessors = 0;
  let documentBytes = 0;
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const result = useGnuTime ? await run(GNU_TIME, ['-v', process.execPath, ...checkArgs], env) : await run(process.execPath, checkArgs, env);
    if (result.code !== 0) {
      // pem's own lines, not GNU time's report that follows them.
      const said = result.stderr.split('\n').filter((line) => /^(error|warning|note):/.test(line));
      throw new Error(`pem check failed (exit ${result.code}): ${(said.length > 0 ? said : result.stderr.trim().split('\n').slice(-3)).join(' | ')}`);
    }
    digests.add(result.stdoutSha256);
    documentBytes = result.stdoutBytes;
    if (i === 0) documentProcessors = result.stdout === null ? -1 : (JSON.parse(result.stdout) as { processors: unknown[] }).processors.length;
    if (i < options.warmups) continue;
    walls.push(result.wallMs);
    rss.push(peakRssMb(result.stderr, useGnuTime));
  }
  if (digests.size !== 1) throw new Error(`pem check printed ${digests.size} different documents for the same inputs`);
  return {
    processors: testCase.processors,
    days: testCase.days,
    wall: { median: median(walls), samples: walls },
    peakRssMb: rss,
    maxPeakRssMb: Math.max(...rss),
    rssSource: useGnuTime ? 'GNU time' : 'process.resourceUsage',
    cli: entry.cli,
    documentProcessors,
    documentBytes,
    documentSha256: [...digests][0]!,
  };
}

/** GNU time's "Maximum resident set size (kbytes)", else the wrapper's own line; both in KiB. */
function peakRssMb(stderr: string, gnuTime: boolean): number {
  const pattern = gnuTime ? /Maximum resident set size \(kbytes\):\s*(\d+)/ : /pem-bench-maxrss-kb=(\d+)/;
  const match = pattern.exec(stderr);
  if (!match) throw new Error(`no peak RSS in the output of pem check: ${stderr.slice(-300)}`);
  return Number(match[1]) / 1024;
}
