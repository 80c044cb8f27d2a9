/**
 * `pem backtest` on the embedded engine runs for minutes, and DuckDB lets one process open a file
 * at a time. The scheduled `pem check` on the same file must not wait for all of it and fail: the
 * backtest lets go of the file every couple of seconds, as a large check does between its
 * statements (`betweenSlices`), and the check takes its turn.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachMarkersEnv, bundleCli, untilMarked, type ChildCli } from '../support/child-cli.js';

const DEMO_REGISTRY = resolve(import.meta.dirname, '..', '..', 'demo', 'processors.json');
const NOW = '2026-03-01T12:00:00Z';

let cli: ChildCli;
let dir: string;

beforeAll(async () => {
  cli = await bundleCli();
  dir = mkdtempSync(join(tmpdir(), 'pem-backtest-turns-'));
}, 60_000);

afterAll(() => {
  cli?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pem backtest beside a scheduled pem check on the same DuckDB file', () => {
  it('lets the check take its turn at the file while the backtest goes on', async () => {
    const database = join(dir, 'demo.duckdb');
    const built = await cli.run(['demo', '--database', database, '--now', NOW]);
    expect(built.code, built.stderr).toBe(0);

    // 45 days replayed hourly: about 15 s here. The backtest lets go of the file for 50 ms every
    // 2 s; the check waits up to 20 s for one of those turns. Without them it gets in only once
    // the backtest has ended, which the last assertion catches (however fast the machine).
    // The check starts once the backtest holds the file (a preload marks its first ATTACH), not
    // after a guessed time that a fast machine's backtest could outlast or a slow one not reach.
    const attached = join(dir, 'backtest-attached');
    let backtestRunning = true;
    let backtestChild: ChildProcess | undefined;
    const backtest = cli
      .run(
        ['backtest', '--config', DEMO_REGISTRY, '--database', database, '--from', '2026-01-01', '--to', '2026-02-14', '--json-output'],
        attachMarkersEnv({ attached }),
        (child) => (backtestChild = child),
      )
      .finally(() => (backtestRunning = false));
    await untilMarked(attached, () => backtestChild, 'holding the file');

    const check = await cli.run(['check', '--config', DEMO_REGISTRY, '--database', database, '--dry-run', '--json-output', '--now', NOW], {
      PEM_DUCKDB_LOCK_TIMEOUT_MS: '20000',
    });
    const checkedWhileBacktestRan = backtestRunning;
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).processors.length).toBeGreaterThan(0);

    const replayed = await backtest;
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout).runs[0].checks).toBe(45 * 24);
    // The point: the check was served during the backtest, not after it.
    expect(checkedWhileBacktestRan).toBe(true);
  }, 180_000);
});
