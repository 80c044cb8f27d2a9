/**
 * The container entry point without Docker: the runtime stage's file layout is assembled in a
 * temporary folder by following the Dockerfile's own instructions (WORKDIR, COPY, ENV, the
 * production install, ENTRYPOINT), with dist/ compiled fresh by the same build script as the
 * image's build stage. Then the image's command line — ENTRYPOINT plus Cloud Run job args — runs
 * as a child process against a DuckDB scenario, with and without Cloud Run's environment.
 *
 * Why not the repository's dist/: it may be stale, and the image never sees this checkout's
 * other folders; a file the image forgets to COPY makes this test fail.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';
import { REPO_ROOT, execForm, parseCopy, readDockerfile } from './dockerfile.js';

interface ImageLayout {
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
}

/** Maps a path inside the image to the assembled folder. */
const inImage = (layout: ImageLayout, path: string): string => join(layout.root, path);

async function assembleImage(): Promise<ImageLayout> {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;
  const root = mkdtempSync(join(tmpdir(), 'pem-image-'));
  const layout: ImageLayout = { root, workdir: '/', env: {}, entrypoint: [] };
  const resolveIn = (path: string) => (path.startsWith('/') ? path : join(layout.workdir, path));

  for (const { keyword, args } of runtime.instructions) {
    if (keyword === 'WORKDIR') {
      layout.workdir = resolveIn(args.trim());
      mkdirSync(inImage(layout, layout.workdir), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const match of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) layout.env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
    } else if (keyword === 'COPY') {
      const copy = parseCopy(args);
      const destination = inImage(layout, resolveIn(copy.destination));
      if (copy.from !== null) {
        // The only cross-stage copy is the compiled output of `npm run build`.
        expect(copy).toEqual({ from: 'build', sources: ['/app/dist'], destination: './dist' });
        await compileInto(destination);
        continue;
      }
      for (const source of copy.sources) {
        const target = copy.destination.endsWith('/') ? join(destination, source) : destination;
        cpSync(join(REPO_ROOT, source), target, { recursive: true });
      }
    } else if (keyword === 'RUN' && /\bnpm ci\b/.test(args)) {
      // The production install: the checkout's node_modules stands in for it.
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(inImage(layout, layout.workdir), 'node_modules'), 'dir');
    } else if (keyword === 'ENTRYPOINT') {
      layout.entrypoint = execForm(args) ?? [];
    }
  }
  return layout;
}

/** Runs one step of `npm run build` (a node script) from the checkout; its output if it fails. */
async function buildStep(args: string[]): Promise<void> {
  // Not spawnSync: tsc takes 20-35 s here, and a worker whose event loop is blocked that long
  // misses vitest's RPC replies ("Timeout calling onTaskUpdate" after 60 s on a loaded machine).
  try {
    await promisify(execFile)(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 16 << 20 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed as it would in the image:\n${stdout}${stderr}`);
  }
}

/** The build stage's `npm run build`, with the output sent to the image folder. */
async function compileInto(outDir: string): Promise<void> {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.build).toBe('tsc -p tsconfig.build.json && node scripts/precompile-sql.mjs');
  // The image build fails on a type error, so this does too.
  await buildStep([join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir]);
  await buildStep([join(REPO_ROOT, 'scripts/precompile-sql.mjs'), '--dist', outDir]);
  expect(existsSync(join(outDir, 'sql', 'precompiled-templates.cjs'))).toBe(true);
}

/** `docker run image ARGS...`: ENTRYPOINT + ARGS, from WORKDIR, with the image's ENV. */
function runImage(layout: ImageLayout, args: string[], env: Record<string, string> = {}) {
  const [program, ...rest] = layout.entrypoint;
  expect(program).toBe('node');
  const argv = rest.map((arg) => (arg.startsWith('/') ? inImage(layout, arg) : arg));
  const run = spawnSync(process.execPath, [...argv, ...args], {
    cwd: inImage(layout, layout.workdir),
    env: { PATH: process.env.PATH ?? '', HOME: layout.root, ...layout.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const REGISTRY = {
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  processors: {
    gamebook_processor: { processor_filter: "processor_name = 'gamebook'", priority: 'high', revenue_impact: true },
    roster_processor: { processor_filter: "processor_name = 'roster'" },
  },
};

const dailyRuns = (name: string, dates: string[]): RowSpec[] =>
  dates.map((date, index) => ({
    run_id: `${name}-${index}`,
    processor_name: name,
    processing_date: date,
    status: 'success',
    started_at: `${date}T06:00:00Z`,
    completed_at: `${date}T06:05:00Z`,
  }));

const WEEK = ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07'];
const AS_OF = ['--date=2025-10-07', '--now=2025-10-08T12:00:00Z'];

describe('the container entry point (node /app/bin/pem.js check + job args)', () => {
  let layout: ImageLayout;
  let scenario: Scenario;

  beforeAll(async () => {
    layout = await assembleImage();
    // gamebook ran every day; roster stopped after 2025-10-02.
    scenario = await createScenario(REGISTRY, [...dailyRuns('gamebook', WEEK), ...dailyRuns('roster', WEEK.slice(0, 2))]);
  }, 240_000);

  afterAll(() => {
    scenario?.cleanup();
    if (layout) rmSync(layout.root, { recursive: true, force: true });
  });

  it('runs pem check with the job args appended and prints the JSON report', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${scenario.registryPath}`, '--json-output', '--lookback-days=7', ...AS_OF]);
    expect(run.code, run.stderr).toBe(0);
    // Notes (e.g. a destination without its variable) may go to stderr; nothing fails.
    expect(run.stderr).not.toMatch(/^error:/m);
    const report = JSON.parse(run.stdout);
    expect(report.lookback_days).toBe(7);
    expect(report.window_start).toBe('2025-10-01');
    expect(report.processors.map((p: { name: string; level: string }) => [p.name, p.level])).toEqual([
      ['gamebook_processor', 'OK'],
      ['roster_processor', 'CRITICAL'],
    ]);
  });

  it('passes a changed lookback through, as gcloud run jobs execute --args does', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${scenario.registryPath}`, '--json-output', '--lookback-days=14', ...AS_OF]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).window_start).toBe('2025-09-24');
  });

  it('reads the registry baked into the image (includes/processors.js) when no --config is given', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, '--json-output', ...AS_OF]);
    expect(run.code).toBe(0);
    const names = JSON.parse(run.stdout).processors.map((p: { name: string }) => p.name);
    expect(names).toEqual(['gamebook_processor', 'roster_processor']);
  });

  it('defaults to BigQuery inside the image, as the job runs it', () => {
    expect(layout.env.PEM_ENGINE).toBe('bigquery');
  });

  it('keeps stdout for the report and stderr for JSON log lines when a check succeeds in Cloud Run', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${scenario.registryPath}`, '--json-output', ...AS_OF], {
      CLOUD_RUN_JOB: 'processor-execution-monitor',
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).level).toBe('CRITICAL');
    for (const line of run.stderr.split('\n').filter(Boolean)) {
      expect(JSON.parse(line)).toEqual(expect.objectContaining({ severity: expect.any(String), message: expect.any(String) }));
    }
  });

  it('logs one JSON object per stderr line in Cloud Run, with severity and message', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${scenario.registryPath}`, '--processors=gamebook_processor,nope', ...AS_OF], {
      CLOUD_RUN_JOB: 'processor-execution-monitor',
    });
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((line) => JSON.parse(line) as { severity: string; message: string });
    for (const entry of entries) {
      expect(typeof entry.severity).toBe('string');
      expect(typeof entry.message).toBe('string');
    }
    expect(entries[0]!.severity).toBe('ERROR');
    expect(entries[0]!.message).toContain('nope');
  });

  it('keeps a multi-line registry error as one JSON entry in Cloud Run', () => {
    const badRegistry = join(scenario.dir, 'bad.json');
    writeFileSync(badRegistry, JSON.stringify({ ...REGISTRY, processors: { a: { priority: 'urgent', staleness_threshold_days: -1 } } }));
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${badRegistry}`], { CLOUD_RUN_JOB: 'processor-execution-monitor' });
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry.severity).toBe('ERROR');
    expect(entry.details.length).toBeGreaterThanOrEqual(2);
    expect(entry.details.join('\n')).toContain('priority');
  });

  it('writes plain text, not JSON, outside Cloud Run', () => {
    const run = runImage(layout, ['--engine=duckdb', `--database=${scenario.databasePath}`, `--config=${scenario.registryPath}`, '--processors=nope', ...AS_OF]);
    expect(run.code).toBe(2);
    expect(run.stderr.startsWith('error: ')).toBe(true);
    expect(() => JSON.parse(run.stderr.split('\n')[0]!)).toThrow();
  });
});
