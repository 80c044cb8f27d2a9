/**
 * A `.js` registry is code, and cannot break the run: it is loaded in a worker, its output goes to
 * stderr, its export comes back as plain data, and any failure is exit 2 with one line naming the
 * file. Run as real `pem` processes, because what is at stake is the process's stdout and exit.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function registryFile(name: string, source: string): string {
  const path = join(scenario.dir, name);
  writeFileSync(path, source);
  return path;
}

const REGISTRY = "{ dataset: 'nba_reference', processors: { gamebook: {} } }";
const check = (registry: string) =>
  cli.run(['check', '--json-output', '--dry-run', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--config', registry, '--database', scenario.databasePath]);

describe('a .js registry', () => {
  it("prints to stderr, never into the JSON document on stdout", async () => {
    const run = await check(registryFile('chatty.js', `console.log('loading processors'); module.exports = ${REGISTRY};`));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).processors.map((p: { name: string }) => p.name)).toEqual(['gamebook']);
    expect(run.stderr).toContain('loading processors');
  });

  it('has all it prints passed on, in order, not only what came before its export reached pem', async () => {
    const path = registryFile('talks.js', `console.log('one'); console.error('two'); process.stdout.write('three\\n'); console.log('four'); module.exports = ${REGISTRY};`);
    // The later lines were lost at random (4 runs in 10) when the worker was ended on its export.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let said = '';
      const output = new Writable({ write: (chunk: Buffer, _encoding, next) => ((said += chunk.toString()), next()) });
      await loadRegistry(path, undefined, { output });
      expect(said).toBe('one\ntwo\nthree\nfour\n');
    }
  });

  it('that leaves a timer running is read, and its worker ended', async () => {
    const path = registryFile('ticks.js', `setInterval(() => console.log('tick'), 60_000); module.exports = ${REGISTRY};`);
    await expect(loadRegistry(path)).resolves.toMatchObject({ dataset: 'nba_reference' });
  });

  it('is read without waiting for what it does after its export, even a call blocked in the system', async () => {
    // A wait for the worker's end (to have its output whole) waited out this sleep; one blocked on
    // a FIFO no writer opens was never ended, by SIGTERM either.
    const done = join(scenario.dir, 'slept');
    const path = registryFile('sleeps.js', `setTimeout(() => require('node:child_process').execSync('sleep 4 && touch ${done}'), 1_000); module.exports = ${REGISTRY};`);
    await expect(loadRegistry(path)).resolves.toMatchObject({ dataset: 'nba_reference' });
    expect(existsSync(done)).toBe(false);
  });

  it('cannot end the check with process.exit(0): exit 2 naming the file', async () => {
    const path = registryFile('exits.js', `module.exports = ${REGISTRY}; process.exit(0);`);
    const run = await check(path);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(`error: registry file ${path} cannot be read: it ended the process (exit code 0) before exporting a registry\n`);
  });

  it('with a getter that throws is exit 2 naming the file', async () => {
    const path = registryFile('getter.js', "module.exports = { get processors() { throw new Error('no processors today'); } };");
    const run = await check(path);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(`error: registry file ${path} cannot be read: its export is not plain data (no processors today)\n`);
  });

  it('that never finishes loading is given up on at the bound', async () => {
    const path = registryFile('spins.js', 'while (true) {}');
    const started = Date.now();
    await expect(loadRegistry(path, undefined, { timeoutMs: 300 })).rejects.toThrow(
      `registry file ${path} cannot be read: it did not finish loading within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('that throws while loading is a config error naming the file, first line only', async () => {
    const path = registryFile('throws.js', "throw new Error('bad registry\\nsecond line');");
    await expect(loadRegistry(path)).rejects.toMatchObject({ code: 'config', message: `registry file ${path} cannot be read: bad registry` });
  });
});
