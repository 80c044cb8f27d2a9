import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../support/child-cli.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

describe('pem report usage', () => {
  let scenario: Scenario;
  beforeAll(async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { a: {} } });
  });
  afterAll(() => scenario?.cleanup());

  it('requires --html, with exit 2', async () => {
    const { code, stderr } = await runCli(['report', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(code).toBe(2);
    expect(stderr).toContain("required option '--html <file>' not specified");
  });

  it('refuses an empty --html before checking anything, with exit 2 and one line', async () => {
    const run = await runCli(['report', '--html', '', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: 'error: --html needs a file name, for example --html report.html\n' });
  });

  it('refuses a folder as --html before checking anything, with exit 2 and one line', async () => {
    const folder = join(scenario.dir, 'reports');
    mkdirSync(folder);
    const run = await runCli(['report', '--html', folder, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: `error: --html ${folder} is a folder: name a file, for example --html ${join(folder, 'report.html')}\n` });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses to replace a file that is not an HTML page (the database, the registry), with exit 2 and one line, before checking anything', async () => {
    const markdown = join(scenario.dir, 'README.md');
    writeFileSync(markdown, '<!-- generated: do not edit -->\n# Processors\n');
    for (const target of [scenario.databasePath, scenario.registryPath, markdown]) {
      const before = readFileSync(target);
      const run = await runCli(['report', '--html', target, '--config', scenario.registryPath, '--database', scenario.databasePath]);
      expect(run).toMatchObject({ code: 2, stdout: '', stderr: `error: --html ${target} exists and is not an HTML page: pem replaces only pages; remove it first, or name another file\n` });
      expect(readFileSync(target).equals(before)).toBe(true);
    }
    // An earlier page, any page and an empty file are replaced.
    for (const [name, text] of [['earlier.html', '<!doctype html>\n<p>old'], ['other.html', '\uFEFF  <HTML><body>hand-made'], ['commented.html', '<!-- built by hand -->\n<!DOCTYPE html><p>old'], ['empty.html', '']] as const) {
      const target = join(scenario.dir, name);
      writeFileSync(target, text);
      const run = await runCli(['report', '--html', target, '--config', scenario.registryPath, '--database', scenario.databasePath]);
      expect(run.code, run.stderr).toBe(0);
      expect(readFileSync(target, 'utf8')).toMatch(/^<!doctype html>/);
    }
  });

  it('refuses a name ending in a slash as a folder, with exit 2 and one line', async () => {
    const folder = join(scenario.dir, 'not-yet', '');
    const run = await runCli(['report', '--html', `${folder}/`, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: `error: --html ${folder}/ names a folder: name a file, for example --html ${join(folder, 'report.html')}\n` });
    expect(existsSync(folder)).toBe(false);
  });

  it('names the file in the way of the folder, not the system call', async () => {
    const blocker = join(scenario.dir, 'blocker');
    writeFileSync(blocker, '');
    const target = join(blocker, 'deeper', 'report.html');
    const run = await runCli(['report', '--html', target, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(run).toMatchObject({ code: 1, stdout: '', stderr: `error: cannot write the HTML report to ${target}: ${blocker} is a file, not a folder\n` });
  });

  it.skipIf(process.platform !== 'linux')('ends, in one line, where a file system refuses a new folder (Node 20 recursive mkdir spins on /proc)', async () => {
    const run = await runCli(['report', '--html', '/proc/pem-no-such-folder/report.html', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: cannot write the HTML report to /proc/pem-no-such-folder/report.html: cannot make the folder /proc/pem-no-such-folder: ENOENT: no such file or directory\n',
    });
  });

  it('writes the page to /dev/stdout through a pipe, its summary line to stderr (not into the page)', async () => {
    const cli = await bundleCli();
    try {
      const run = await cli.run(['report', '--html', '/dev/stdout', '--config', scenario.registryPath, '--database', scenario.databasePath]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
      expect(run.stderr).toMatch(/^wrote \/dev\/stdout: 1 processor x 7 days \(/);
      // Stdout appended to a file that is not a page (`>> log`): written after what it holds, not refused.
      const log = join(scenario.dir, 'appended.log');
      writeFileSync(log, 'earlier line\n');
      const fd = openSync(log, 'a');
      try {
        const appended = await cli.run(['report', '--html', '/dev/stdout', '--config', scenario.registryPath, '--database', scenario.databasePath], {}, undefined, { stdoutFd: fd });
        expect(appended.code, appended.stderr).toBe(0);
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(log, 'utf8')).toMatch(/^earlier line\n<!doctype html>[\s\S]*<\/html>\n$/);
    } finally {
      cli.cleanup();
    }
  }, 60_000);

  it('takes --html - as stdout (it wrote a file named -), and shows a file name with a line break as one line', async () => {
    const cwd = process.cwd();
    process.chdir(scenario.dir);
    try {
      const run = await runCli(['report', '--html', '-', '--config', scenario.registryPath, '--database', scenario.databasePath]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
      expect(run.stderr).toMatch(/^wrote the page to stdout: 1 processor x 7 days \([^\n]*\n$/);
      expect(existsSync(join(scenario.dir, '-'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
    const odd = join(scenario.dir, 'two\nlines.html');
    const named = await runCli(['report', '--html', odd, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout.split('\n')).toEqual([expect.stringMatching(/^wrote .*two\?lines\.html: 1 processor x 7 days/), '']);
    expect(existsSync(odd)).toBe(true);
  });

  it('fails with exit 1 and one line when the file cannot be written', async () => {
    const blocker = join(scenario.dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const target = join(blocker, 'report.html');
    const { code, stdout, stderr } = await runCli(['report', '--html', target, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toMatch(new RegExp(`^error: cannot write the HTML report to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });

  it('writes the page whole or not at all: a failure leaves no partial file beside the target', async () => {
    // A folder named like the page (refused before the check, exit 2), and a page under a file (the write fails, exit 1).
    const folder = join(scenario.dir, 'a-folder.html');
    mkdirSync(folder);
    const refused = await runCli(['report', '--html', folder, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(refused.code).toBe(2);
    expect(statSync(folder).isDirectory()).toBe(true);
    const blocker = join(scenario.dir, 'a-file');
    writeFileSync(blocker, '');
    const failed = await runCli(['report', '--html', join(blocker, 'page.html'), '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.split('\n')[0]).toMatch(/^error: cannot write the HTML report to .*a-file\/page\.html: /);
    expect(readdirSync(scenario.dir).filter((name) => name.includes('partial'))).toEqual([]);

    const written = join(scenario.dir, 'whole.html');
    const ok = await runCli(['report', '--html', written, '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(written, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
    expect(readdirSync(scenario.dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('fails with exit 2 on a bad window flag, naming it, before writing anything', async () => {
    const target = join(scenario.dir, 'never.html');
    const { code, stderr } = await runCli(['report', '--html', target, '--lookback-days', '0', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(code).toBe(2);
    expect(stderr).toBe("error: --lookback-days '0' must be a whole number from 1 to 366, for example 7\n");
    expect(existsSync(target)).toBe(false);
  });
});
