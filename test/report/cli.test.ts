import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
