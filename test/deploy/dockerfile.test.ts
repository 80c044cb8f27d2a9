import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, dockerignoreAllows, execForm, instructions, parseCopy, readDockerfile, readDockerignore } from './dockerfile.js';

const stages = readDockerfile();
const build = stages.find((stage) => stage.name === 'build');
const runtime = stages.at(-1)!;
const ignore = readDockerignore();

describe('the Dockerfile', () => {
  it('has a build stage and a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime).not.toBe(build);
  });

  it('builds the runtime from node 20 on Debian slim, because the DuckDB binding needs glibc', () => {
    expect(runtime.base).toBe('node:20-bookworm-slim');
    expect(build!.base).toBe('node:20-bookworm-slim');
  });

  it('compiles with the dev dependencies in the build stage', () => {
    const runs = instructions(build!, 'RUN');
    expect(runs.some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);
    expect(runs.some((run) => /\bnpm run build\b/.test(run))).toBe(true);
  });

  it('installs only production dependencies in the runtime, without running prepare (tsc is a dev dependency)', () => {
    const installs = instructions(runtime, 'RUN').filter((run) => /\bnpm (ci|install)\b/.test(run));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toContain('--omit=dev');
    expect(installs[0]).toContain('--ignore-scripts');
  });

  it('takes the compiled dist/ from the build stage and never copies sources or node_modules into the runtime', () => {
    const copies = instructions(runtime, 'COPY').map(parseCopy);
    expect(copies).toContainEqual({ from: 'build', sources: ['/app/dist'], destination: './dist' });
    const localSources = copies.filter((copy) => copy.from === null).flatMap((copy) => copy.sources);
    expect(localSources).not.toContain('src');
    expect(localSources).not.toContain('node_modules');
    expect(localSources).not.toContain('.');
  });

  it('runs as a non-root user', () => {
    const users = instructions(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1)!.trim());
  });

  it('has pem check as the exec-form entry point, so Cloud Run job args are appended to it', () => {
    const entrypoints = instructions(runtime, 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    expect(execForm(entrypoints[0]!)).toEqual(['node', '/app/bin/pem.js', 'check']);
    // A CMD would be replaced by the job's args anyway; none keeps `docker run image --help` meaning pem check --help.
    expect(instructions(runtime, 'CMD')).toEqual([]);
    expect(instructions(runtime, 'WORKDIR').at(-1)).toBe('/app');
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const sources = stages
      .flatMap((stage) => instructions(stage, 'COPY').map(parseCopy))
      .filter((copy) => copy.from === null)
      .flatMap((copy) => copy.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
      expect(dockerignoreAllows(source, ignore), source).toBe(true);
    }
  });
});

describe('the .dockerignore', () => {
  it.each([
    '.df-credentials.json',
    '.env',
    '.pem/monitoring.duckdb',
    'node_modules/commander/index.js',
    'node_modules/.vite/vitest/results.json',
    '.git/config',
    'dist/index.js',
    'scratch/notes.txt',
    'test/check/smoke.test.ts',
    'test/container/image.test.ts',
    'bench/run.ts',
    'scripts/docker-engine.sh',
    'artifacts/report.png',
    'includes/.env',
    'src/secret/sa-key.json',
    'demo/.npmrc',
  ])(
    'keeps %s out of the build context',
    (path) => {
      expect(dockerignoreAllows(path, ignore)).toBe(false);
    },
  );

  it.each(['src/cli/main.ts', 'sql/check.sql.hbs', 'includes/processors.js', 'package-lock.json'])('lets %s in', (path) => {
    expect(dockerignoreAllows(path, ignore)).toBe(true);
  });
});
