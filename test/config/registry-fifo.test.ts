/**
 * A registry file that never comes (a FIFO no one writes, a hung network mount) must not take the
 * process's signals with it: SIGTERM (Cloud Run's timeout) and Ctrl-C still stop `pem` with its
 * line. A read that blocks the main thread left only SIGKILL. Run as a real `pem` process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/load.js';
import { bundleCli, type ChildCli } from '../support/child-cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario;
let cli: ChildCli;

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
  cli = await bundleCli();
}, 60_000);
afterAll(() => {
  cli?.cleanup();
  scenario?.cleanup();
});

it('a .json registry that never comes (a FIFO no one writes) still stops at SIGTERM, with its line', async () => {
  const fifo = join(scenario.dir, 'never.json');
  execFileSync('mkfifo', [fifo]);
  let child: ChildProcess | undefined;
  let killed = false;
  // SIGTERM once pem is surely reading (it has loaded; the FIFO blocks its read), SIGKILL only
  // if SIGTERM did nothing: then the test fails on the exit.
  const stop = (c: ChildProcess) => {
    child = c;
    setTimeout(() => c.kill('SIGTERM'), 1_500);
    setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null) {
        killed = true;
        c.kill('SIGKILL');
      }
    }, 6_000);
  };
  const run = await cli.run(['check', '--dry-run', '--date', '2025-10-07', '--config', fifo, '--database', scenario.databasePath], {}, stop);
  expect(child).toBeDefined();
  expect(killed).toBe(false);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe('error: stopped by SIGTERM (task timeout or cancellation) before the command finished\n');
}, 20_000);

it('a .json registry piped in through a named pipe is read whole, however late its writer comes', async () => {
  const fifo = join(scenario.dir, 'piped.json');
  execFileSync('mkfifo', [fifo]);
  const registry = JSON.stringify({ dataset: 'nba_reference', processors: { gamebook: { display_name: 'Gamebook' } } });
  // The writer opens the pipe after the reader, and writes in two parts with a pause between them.
  const writer = spawn('sh', ['-c', `sleep 0.3; { printf '%s' "$1"; sleep 0.2; printf '%s' "$2"; } > "$3"`, 'sh', registry.slice(0, 20), registry.slice(20), fifo]);
  const written = new Promise((done) => writer.on('close', done));
  await expect(loadRegistry(fifo)).resolves.toMatchObject({ processors: [{ name: 'gamebook', display_name: 'Gamebook' }] });
  await written;
});

it('a named pipe no one writes is given up at the registry bound, naming the file', async () => {
  const fifo = join(scenario.dir, 'silent.json');
  execFileSync('mkfifo', [fifo]);
  await expect(loadRegistry(fifo, undefined, { timeoutMs: 300 })).rejects.toThrow(
    `registry file ${fifo} cannot be read: nothing came through the named pipe within 300 ms`,
  );
});

it('a named pipe whose writer sends part of the registry and keeps it open is given up at the bound, saying so', async () => {
  const fifo = join(scenario.dir, 'stalled.json');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', `exec 3>"$1"; printf '{"dataset": ' >&3; exec sleep 3`, 'sh', fifo]);
  const ended = new Promise((done) => writer.on('close', done));
  await expect(loadRegistry(fifo, undefined, { timeoutMs: 700 })).rejects.toThrow(
    `registry file ${fifo} cannot be read: the named pipe's writer did not finish within 700 ms (it sent part of the registry and kept the pipe open)`,
  );
  writer.kill();
  await ended;
});

it('a named pipe whose writer never stops is given up before it fills the memory', async () => {
  const fifo = join(scenario.dir, 'endless.json');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'exec cat /dev/zero > "$1"', 'sh', fifo]);
  const ended = new Promise((done) => writer.on('close', done));
  await expect(loadRegistry(fifo)).rejects.toThrow(`registry file ${fifo} cannot be read: more than 64 MiB came through the named pipe, more than any registry`);
  writer.kill();
  await ended;
});
