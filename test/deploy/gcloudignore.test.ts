/**
 * `deploy/deploy.sh --build` runs `gcloud builds submit`, which uploads the checkout to a Cloud
 * Storage bucket before the image is built. `.gcloudignore` keeps that upload to what the build
 * reads: the Dockerfile, its .dockerignore and the build context .dockerignore lets in. Without it
 * gcloud fell back to .gitignore and uploaded an untracked `.env` or key file, which stayed there.
 * Read with gitignore's rules (the `ignore` package; gcloud's syntax is gitignore's), and, where
 * gcloud is installed, by gcloud itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ignore from 'ignore';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, dockerignoreAllows, readDockerignore } from './dockerfile.js';

const gcloudignore = readFileSync(join(REPO_ROOT, '.gcloudignore'), 'utf8');
const uploads = (path: string) => !ignore().add(gcloudignore).ignores(path);
/** What the image build reads: the Docker build context, and the two files Docker reads beside it. */
const buildReads = (path: string) => path === 'Dockerfile' || path === '.dockerignore' || dockerignoreAllows(path, readDockerignore());

/** Files a checkout may hold untracked that must never leave the machine, and what a build leaves. */
const UNTRACKED = [
  '.env',
  '.env.production',
  'sa-key.json',
  '.npmrc',
  '.df-credentials.json',
  '.pem/monitoring.duckdb',
  'dist/cli/main.js',
  'node_modules/commander/index.js',
  // Inside the folders the build takes, and so into the image: kept out by name.
  'src/.env',
  'includes/.env.local',
  'includes/secret/service-key.json',
  'demo/.npmrc',
  'bin/tls.pem',
];

const gcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;

describe('the .gcloudignore', () => {
  const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

  it('uploads exactly what the image build reads, of every tracked file', () => {
    const wrong = tracked.filter((path) => uploads(path) !== buildReads(path));
    expect(wrong).toEqual([]);
    expect(tracked.filter(uploads)).toEqual(expect.arrayContaining(['Dockerfile', '.dockerignore', 'package-lock.json', 'src/cli/main.ts', 'scripts/precompile-sql.mjs']));
  });

  it.each(UNTRACKED)('keeps %s out of the upload and out of the build context', (path) => {
    expect(uploads(path)).toBe(false);
    expect(buildReads(path)).toBe(false);
  });

  describe.skipIf(!gcloud)('as gcloud reads it (gcloud meta list-files-for-upload)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pem-gcloudignore-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('lists the build inputs of a checkout holding secrets, and no secret', () => {
      const files = ['Dockerfile', '.dockerignore', 'package.json', 'src/cli/main.ts', 'scripts/precompile-sql.mjs', 'scripts/docker-engine.sh', 'test/x.test.ts', 'README.md', ...UNTRACKED];
      writeFileSync(join(dir, '.gcloudignore'), gcloudignore);
      for (const file of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), 'x');
      }
      const listed = execFileSync('gcloud', ['meta', 'list-files-for-upload', dir], { encoding: 'utf8', env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' } })
        .split('\n')
        .filter(Boolean)
        .sort();
      expect(listed).toEqual(files.filter(buildReads).sort());
      expect(listed).toEqual(['.dockerignore', 'Dockerfile', 'package.json', 'scripts/precompile-sql.mjs', 'src/cli/main.ts']);
    });
  });
});
