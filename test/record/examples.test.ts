/**
 * The Python and shell examples of docs/instrumentation.md, run as written against a DuckDB file,
 * with a `pem` on PATH that runs this checkout's CLI.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const run = promisify(execFile);
const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;
const REPO = resolve(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(REPO, 'docs', 'instrumentation.md'), 'utf8');

/** The fenced block that follows `<!-- example: name -->` in the doc. */
function example(name: string): string {
  const match = new RegExp(`<!-- example: ${name.replace('.', '\\.')} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match) throw new Error(`docs/instrumentation.md has no example ${name}`);
  return match[1]!;
}

let scenario: Scenario;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { roster: {}, gamebook: {} } });
  // The examples name no database: they get the default, .pem/monitoring.duckdb, in their directory.
  mkdirSync(join(scenario.dir, '.pem'));
  const applied = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--database', join(scenario.dir, '.pem', 'monitoring.duckdb')]);
  expect(applied.code).toBe(0);
  const bin = join(scenario.dir, 'bin');
  mkdirSync(bin);
  const main = pathToFileURL(join(REPO, 'src', 'cli', 'main.ts')).href;
  const tsx = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  writeFileSync(
    join(bin, 'pem'),
    `#!/usr/bin/env bash\nexec "${process.execPath}" --import "${tsx}" --input-type=module -e "import { main } from '${main}'; process.exitCode = await main(process.argv.slice(1));" -- "$@"\n`,
  );
  chmodSync(join(bin, 'pem'), 0o755);
  writeFileSync(join(scenario.dir, 'with-run.sh'), example('with-run.sh'));
  writeFileSync(join(scenario.dir, 'pem_run.py'), example('pem_run.py'));
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PEM_ENGINE: 'duckdb' };
}, 60_000);
afterAll(() => scenario?.cleanup());

async function finalRows(processor: string): Promise<Record<string, unknown>[]> {
  // A `pem record` of an example may be writing the file right now: wait for its turn.
  const warehouse = await openDuckDb({ path: join(scenario.dir, '.pem', 'monitoring.duckdb'), create: false, lockWaitMs: 10_000 });
  try {
    return await warehouse.query(
      `SELECT processing_date, status, records_processed, errors, trigger_source FROM nba_reference.processor_run_history
       WHERE processor_name = '${processor}' ORDER BY processing_date, completed_at NULLS FIRST`,
    );
  } finally {
    await warehouse.close();
  }
}

describe('the shell example', () => {
  it('records a command that succeeds and one that fails, and keeps its exit status', async () => {
    const ok = await run('bash', ['with-run.sh', 'roster', '2025-10-06', 'true'], { cwd: scenario.dir, env });
    expect(ok.stderr).toBe('');
    const failed = await run('bash', ['with-run.sh', 'roster', '2025-10-07', 'false'], { cwd: scenario.dir, env }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in failed ? failed.code : 0).toBe(1);
    expect(await finalRows('roster')).toEqual([
      { processing_date: '2025-10-06', status: 'running', records_processed: null, errors: null, trigger_source: 'scheduler' },
      { processing_date: '2025-10-06', status: 'success', records_processed: null, errors: null, trigger_source: 'scheduler' },
      { processing_date: '2025-10-07', status: 'running', records_processed: null, errors: null, trigger_source: 'scheduler' },
      {
        processing_date: '2025-10-07',
        status: 'failed',
        records_processed: null,
        errors: [{ error_type: 'ExitStatus', error_message: 'false exited with status 1' }],
        trigger_source: 'scheduler',
      },
    ]);
  }, 60_000);
});

/** Whether the process has a handler for SIGTERM (signal 15: bit 14 of the caught-signals mask in /proc, Linux). */
function catchesSigterm(pid: number): boolean {
  const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return caught !== undefined && (BigInt(`0x${caught}`) & (1n << 14n)) !== 0n;
}

describe('the shell example stopped by SIGTERM (a Cloud Run task timeout)', () => {
  it('passes the signal on to the command and records the run as failed with its exit status', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('bash', ['with-run.sh', 'roster', '2025-10-08', 'sleep', '30'], { cwd: scenario.dir, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // `pem record start` has printed the run id once the command is running: wait for the running row.
    const deadline = Date.now() + 30_000;
    while (!(await finalRows('roster')).some((r) => r.processing_date === '2025-10-08')) {
      if (Date.now() > deadline) throw new Error(`the run never started: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // …and the script passes a SIGTERM on once its trap is set: wait until bash catches SIGTERM
    // (signal 15: bit 14 of SigCgt in /proc, Linux), not for a guessed time.
    while (!catchesSigterm(child.pid!)) {
      if (Date.now() > deadline) throw new Error(`the script never set its trap: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect((await finalRows('roster')).filter((r) => r.processing_date === '2025-10-08').map((r) => [r.status, r.errors])).toEqual([
      ['running', null],
      ['failed', [{ error_type: 'ExitStatus', error_message: 'sleep exited with status 143' }]],
    ]);
  }, 60_000);
});

describe('the Python example', () => {
  it.skipIf(!HAS_PYTHON)('(needs python3 on PATH) records what ends a run in unusual ways: a NUL byte, a 200,000-character message, sys.exit(0)', async () => {
    const script = `
import sys
from pem_run import recorded_run
for date, error in (("2025-10-01", ValueError("bad\\x00byte")), ("2025-10-02", RuntimeError("Q" * 200000))):
    try:
        with recorded_run("gamebook", date):
            raise error
    except Exception:
        pass
try:
    with recorded_run("gamebook", "2025-10-03") as run:
        run.records = 7
        sys.exit(0)
except SystemExit:
    print("exited")
`;
    const { stdout } = await run('python3', ['-c', script], { cwd: scenario.dir, env, maxBuffer: 1 << 24 });
    expect(stdout).toBe('exited\n');
    const finals = (await finalRows('gamebook')).filter((r) => r.status !== 'running' && String(r.processing_date) < '2025-10-04');
    expect(finals.map((r) => [r.processing_date, r.status])).toEqual([
      ['2025-10-01', 'failed'],
      ['2025-10-02', 'failed'],
      ['2025-10-03', 'success'],
    ]);
    const errors = finals.map((r) => (r.errors as { error_type: string; error_message: string }[] | null)?.[0] ?? null);
    expect(errors[0]).toEqual({ error_type: 'ValueError', error_message: 'bad?byte' });
    expect(errors[1]!.error_message).toMatch(/^Q{3000,}/);
    expect(errors[2]).toBeNull();
    // sys.exit(0) inside the block keeps the records set before it.
    expect(finals[2]!.records_processed).toBe(7);
  }, 60_000);

  it.skipIf(!HAS_PYTHON)('(needs python3 on PATH) takes what a processor has at hand: a datetime.date, records as a float, records that are no number', async () => {
    const script = `
import datetime
from pem_run import recorded_run
with recorded_run("gamebook", datetime.date(2025, 9, 20)) as run:
    run.records = 1200.0
with recorded_run("gamebook", "2025-09-21") as run:
    run.records = "many"
print("ran")
`;
    const { stdout, stderr } = await run('python3', ['-c', script], { cwd: scenario.dir, env });
    expect(stdout).toBe('ran\n');
    expect(stderr).toBe("pem_run: records 'many' is not a count pem stores (a whole number from 0 to 2**53 - 1); the run is completed without it\n");
    const finals = (await finalRows('gamebook')).filter((r) => r.status !== 'running' && ['2025-09-20', '2025-09-21'].includes(String(r.processing_date)));
    expect(finals.map((r) => [r.processing_date, r.status, r.records_processed])).toEqual([
      ['2025-09-20', 'success', 1200],
      ['2025-09-21', 'success', null],
    ]);
  }, 60_000);

  it.skipIf(!HAS_PYTHON)('(needs python3 on PATH) records a run that succeeds and one that raises, re-raising the error', async () => {
    const script = `
from pem_run import recorded_run
with recorded_run("gamebook", "2025-10-06") as run:
    run.records = 42
try:
    with recorded_run("gamebook", "2025-10-07"):
        raise ValueError("-1 is not a valid score")
except ValueError as error:
    print("re-raised:", error)
`;
    const { stdout, stderr } = await run('python3', ['-c', script], { cwd: scenario.dir, env });
    expect(stderr).toBe('');
    expect(stdout).toBe('re-raised: -1 is not a valid score\n');
    expect((await finalRows('gamebook')).filter((r) => r.status !== 'running' && String(r.processing_date) >= '2025-10-06')).toEqual([
      { processing_date: '2025-10-06', status: 'success', records_processed: 42, errors: null, trigger_source: 'scheduler' },
      {
        processing_date: '2025-10-07',
        status: 'failed',
        records_processed: null,
        errors: [{ error_type: 'ValueError', error_message: '-1 is not a valid score' }],
        trigger_source: 'scheduler',
      },
    ]);
  }, 60_000);
});
