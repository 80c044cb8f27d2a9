/** Every command's `--help` reads cold: what it does, its flags, and examples to copy. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { createStopControl } from '../../src/cli/stop.js';
import { readSettings } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { runCli } from '../support/cli.js';

/** Every command of the tree as the words that name it (`[]` is pem itself), help commands aside. */
function commandPaths(): string[][] {
  const sink = { write: () => true };
  const program = buildProgram({ stdout: sink, stderr: sink, env: {}, now: () => new Date(), stop: createStopControl(), log: createLogger(sink, { json: false }), settings: readSettings({}) });
  const paths: string[][] = [];
  const visit = (command: Command, path: string[]) => {
    paths.push(path);
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return paths;
}

describe('--help', () => {
  const paths = commandPaths();

  it('covers the whole command tree', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['', 'check', 'gaps', 'silence add', 'record start', 'completion', 'config validate']));
  });

  it.each(paths.map((p) => [p.join(' ') || '(pem)', p] as const))('of %s ends with examples of that command', async (_name, path) => {
    const run = await runCli([...path, '--help']);
    expect(run.code).toBe(0);
    const examples = run.stdout.split('\nExamples:\n')[1];
    expect(examples, run.stdout).toBeDefined();
    const lines = examples!.trimEnd().split('\n').filter((line) => line.startsWith('  $ '));
    expect(lines.length).toBeGreaterThan(0);
    // Each example runs the command it documents (or a sub-command of it).
    for (const line of lines) expect(line.includes(`pem ${path.join(' ')}`.trimEnd()), line).toBe(true);
  });

  it.each(paths.map((p) => [p.join(' ') || '(pem)', p] as const))('of %s fits 80 columns, examples aside (commander wraps only where a description gets 40)', async (_name, path) => {
    const run = await runCli([...path, '--help']);
    const [described] = run.stdout.split('\nExamples:\n');
    const wide = described!.split('\n').filter((line) => line.length > 80);
    expect(wide).toEqual([]);
  });

  it.each(paths.filter((p) => p.length > 0).map((p) => [p.join(' '), p] as const))('`pem help %s` prints the same help as --help', async (_name, path) => {
    const asked = await runCli(['help', ...path]);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toBe((await runCli([...path, '--help'])).stdout);
  });

  it('answers `pem help` with a word that names no command in one line, exit 2', async () => {
    for (const [words, line] of [
      [['chek'], "error: unknown command 'chek' (did you mean check?)"],
      [['config', 'validat'], "error: unknown command 'validat'"],
    ] as const) {
      const asked = await runCli(['help', ...words]);
      expect(asked.code).toBe(2);
      expect(asked.stdout).toBe('');
      expect(asked.stderr.trim()).toMatch(new RegExp(`^${line.replace(/[()?]/g, '\\$&')}`));
    }
  });

  it('prints help, and runs nothing, when options follow `pem help <command>`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pem-help-'));
    try {
      const database = join(dir, 'x.duckdb');
      const asked = await runCli(['help', 'schema', 'apply', '--database', database]);
      expect(asked.code).toBe(0);
      expect(asked.stdout).toBe((await runCli(['schema', 'apply', '--help'])).stdout);
      expect(existsSync(database)).toBe(false);
      // A leaf command's arguments after it: its help, not a run.
      const leaf = await runCli(['help', 'silence', 'remove', 'sil_12345678', '--database', database]);
      expect([leaf.code, leaf.stdout]).toEqual([0, (await runCli(['silence', 'remove', '--help'])).stdout]);
      expect(existsSync(database)).toBe(false);
      const unknown = await runCli(['help', 'config', 'validat', '--config', 'x.json']);
      expect([unknown.code, unknown.stdout, unknown.stderr.trim()]).toEqual([2, '', "error: unknown command 'validat' (did you mean validate?)"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names exit code 3 of --fail-on beside the others', async () => {
    expect((await runCli(['--help'])).stdout).toContain('3 the run level reached `pem check --fail-on`');
    expect((await runCli(['check', '--help'])).stdout).toMatch(/--fail-on <level>\s+exit 3 when the run level reaches it/);
  });

  it('names every fallback a default reads, as the README does', async () => {
    // Commander wraps descriptions, so compare with the whitespace folded.
    const help = async (...words: string[]) => (await runCli([...words, '--help'])).stdout.replace(/\s+/g, ' ');
    expect(await help('check')).toContain('BigQuery project (default: $GOOGLE_CLOUD_PROJECT, else $GCLOUD_PROJECT)');
    expect(await help('silence', 'add')).toContain('(default: $USER, else $LOGNAME, else your OS user name)');
    expect(await help('silence', 'remove')).toContain('(default: $USER, else $LOGNAME, else your OS user name)');
  });

  it('gives backtest the range of --lookback-days and what --processors does with a disabled processor, as check has them', async () => {
    const help = (await runCli(['backtest', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('window length L of each check, 1-366 (default: 7)');
    expect(help).toContain('only these registry keys (disabled ones included when named; repeatable)');
  });

  it('gives the order of pem gaps as the queue has it: the dates no upstream explains first, then priority', async () => {
    const summary = (await runCli(['--help'])).stdout.replace(/\s+/g, ' ');
    expect(summary).toContain('the dates no upstream explains first, then high priority first');
    expect((await runCli(['gaps', '--help'])).stdout.replace(/\s+/g, ' ')).toContain('the dates no upstream explains first, then high priority first');
  });
});
