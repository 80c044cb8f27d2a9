/**
 * `npm run bench` runs once at a tiny size, so the benchmark cannot rot unnoticed. No timing is
 * asserted here (timings belong to the benchmark's own report); what is asserted is that every
 * section runs and prints its table, and that the seed-style per-processor check and the detection
 * query agree on every processor.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/run.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'pem-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runBench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args],
      { cwd: ROOT, env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run bench --tiny', () => {
  const json = join(scratch, 'bench.json');
  let run: { code: number; stdout: string; stderr: string };

  it('runs every section and prints the report', async () => {
    run = await runBench(['--tiny', `--json=${json}`]);
    expect(run.stderr).not.toMatch(/bench failed/);
    expect(run.code).toBe(0);
    for (const heading of [
      '## 1. Detection query',
      '## 2. One query vs one query per processor',
      '## 3. `pem check --json-output --dry-run` end to end on the synthetic history',
      '## 4. Alerts: building for 50 failing processors',
      '## 6. `pem backtest`: 3 days, a check every hour, 20 processors',
      '## 7. BigQuery bytes billed per check',
      '## Targets (SPEC §14)',
    ]) {
      expect(run.stdout).toContain(heading);
    }
    // Every budget of SPEC §14 is listed with its target; one the tiny run did not measure says so.
    for (const budget of [
      /\| `pem check` 1,000 processors × 2 years, 7-day, wall\s+\| ≤ 800 ms\s+\| not measured in this run\s+\| -/,
      /\| `pem check` 10,000 × 90-day, peak RSS\s+\| ≤ 512 MiB\s+\| not measured in this run/,
      /\| detection query via adapter, 1,000 × 7-day\s+\| ≤ 60 ms/,
      /\| one query vs a per-processor loop, 1,000 processors\s+\| ≥ 20×/,
      /\| planning and delivering alerts for 300 open issues, CPU\s+\| ≤ 200 ms\s+\| [\d.,]+ ms\s+\| -/,
      /\| BigQuery billed bytes per check, 1,000 processors, 2 and 5 years\s+\| ≤ 25 MB\s+\| [\d.]+ \/ [\d.]+ MB\s+\| (yes|NO)\s+\|\s+-\s+\| model/,
    ]) {
      expect(run.stdout).toMatch(budget);
    }
  }, 180_000);

  it('gets the same verdicts from the per-processor approach as from the detection query', () => {
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    const [size] = results.detection;
    expect(size?.historyRows).toBeGreaterThan(0);
    expect(size?.windows.map((w) => w.days)).toEqual([7, 30]);
    expect(size?.perProcessor?.disagreements).toBe(0);
    // The synthetic history has every level in it.
    expect(Object.keys(size?.levels ?? {}).sort()).toEqual(['CRITICAL', 'ERROR', 'OK']);
  });

  it('measures pem check on the synthetic history and builds alerts within Slack limits', () => {
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    const [e2e] = results.checkE2e;
    expect(e2e?.documentProcessors).toBe(20);
    expect(e2e?.maxPeakRssMb).toBeGreaterThan(0);
    expect(results.alerts?.slack.withinLimits).toBe(true);
    expect(results.alerts?.pagerDuty.events).toBe(50);
  });

  it('replays a backtest hour by hour with fewer detection queries than checks', () => {
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    // 3 days in New York, no DST change: 72 checks.
    expect(results.backtest?.checks).toBe(72);
    expect(results.backtest?.queries).toBeGreaterThan(0);
    expect(results.backtest?.queries).toBeLessThan(72);
    expect(results.backtest?.totals.problem_dates).toBeGreaterThan(0);
  });

  it('plans and delivers every due issue once: one Slack message, one page per stale processor, each claimed and recorded', () => {
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    expect(results.delivery?.issues).toBe(300);
    expect(results.delivery?.slackMessages).toBe(1);
    // 100 failing processors, each stale (paged) with failed and missing dates (Slack only).
    expect(results.delivery?.pagerDutyEvents).toBe(100);
    // A claim and a notification for each of the 300 Slack and 100 PagerDuty deliveries.
    expect(results.delivery?.stateEventsRecorded).toBe(2 * (300 + 100));
  });
});

describe('npm run bench, the image section', () => {
  it('is skipped with one line when no Docker engine answers, and the rest of the report still prints', async () => {
    const run = await runBench(['--sections=5'], { ...process.env, DOCKER_HOST: `unix://${join(scratch, 'no-docker.sock')}` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('## 5. The Cloud Run image');
    expect(run.stdout).toContain('Skipped: no Docker engine answers (scripts/docker-engine.sh up starts one).');
    expect(run.stdout).toContain('## Targets');
  }, 60_000);
});
