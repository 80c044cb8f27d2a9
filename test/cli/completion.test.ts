/**
 * `pem completion bash|zsh`: the scripts are generated from the command tree, and run in the
 * real shells here: bash through its programmable-completion variables, zsh with its completion
 * builtins replaced by functions that print what they were given.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pem-completion-'));
  writeFileSync(join(dir, 'processors.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shellMissing = (tool: string) => spawnSync(tool, tool === 'shellcheck' ? ['--version'] : ['-c', 'true']).error !== undefined;

async function script(shell: 'bash' | 'zsh'): Promise<string> {
  const run = await runCli(['completion', shell]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

/** What bash offers for the words typed so far (the last one is being completed). */
async function bashComplete(words: string[]): Promise<string[]> {
  const file = join(dir, 'pem.bash');
  writeFileSync(file, await script('bash'));
  const program = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pem_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '-c', program], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter(Boolean).sort();
}

/** What zsh's _pem hands to _describe / compadd / _files for the words typed so far. */
async function zshComplete(words: string[]): Promise<string> {
  const file = join(dir, 'pem.zsh');
  writeFileSync(file, await script('zsh'));
  const program = [
    // The completion system's functions, replaced by ones that say what they were given.
    'compdef() { :; }',
    '_describe() { local -a list; list=("${(@P)4}"); print -r -- "describe: ${(j:|:)list}"; }',
    'compadd() { shift; print -r -- "compadd: $*"; }',
    '_files() { print -r -- files; }',
    "_message() { print -r -- \"message: $1\"; }",
    'compset() { print -r -- "compset: $*"; }',
    `source ${JSON.stringify(file)}`,
    `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}`,
    '_pem',
  ].join('\n');
  const run = spawnSync('zsh', ['-f', '-c', program], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

describe.skipIf(shellMissing('bash'))('pem completion bash', () => {
  it('offers the commands, then their sub-commands and flags', async () => {
    expect(await bashComplete(['pem', ''])).toEqual(
      ['--help', '--version', '-V', '-h', 'backtest', 'check', 'completion', 'config', 'demo', 'gaps', 'help', 'record', 'report', 'schema', 'silence', 'sql'].sort(),
    );
    expect(await bashComplete(['pem', 'sil'])).toEqual(['silence']);
    expect(await bashComplete(['pem', 'silence', ''])).toEqual(['--help', '-h', 'add', 'help', 'list', 'remove'].sort());
    expect(await bashComplete(['pem', 'check', '--f'])).toEqual(['--fail-on', '--format']);
  });

  it('offers the commands after help, at every level: help takes a command name', async () => {
    expect(await bashComplete(['pem', 'help', 'ba'])).toEqual(['backtest']);
    expect(await bashComplete(['pem', 'silence', 'help', ''])).toEqual(expect.arrayContaining(['add', 'list', 'remove']));
    expect(await bashComplete(['pem', 'silence', 'help', ''])).not.toContain('help');
    // And down, as pem help silence add reads: the sub-commands of the command named, nothing after a leaf.
    expect(await bashComplete(['pem', 'help', 'silence', ''])).toEqual(['add', 'list', 'remove']);
    expect(await bashComplete(['pem', 'help', 'config', 'va'])).toEqual(['validate']);
    expect(await bashComplete(['pem', 'help', 'check', ''])).toEqual([]);
  });

  it('offers the choices of a flag, and files where a flag takes a path', async () => {
    expect(await bashComplete(['pem', 'check', '--format', ''])).toEqual(['csv', 'json', 'table']);
    expect(await bashComplete(['pem', 'gaps', '--engine', 'b'])).toEqual(['bigquery']);
    expect(await bashComplete(['pem', 'check', '--config', 'proc'])).toEqual(['processors.json']);
    expect(await bashComplete(['pem', 'completion', ''])).toEqual(['--help', '-h', 'bash', 'zsh'].sort());
    // pem record complete checks --status itself (to say why 'running' is none), and offers them all the same.
    expect(await bashComplete(['pem', 'record', 'complete', '--status', ''])).toEqual(['failed', 'skipped', 'success']);
  });

  it("offers pem backtest's formats, and files after --compare", async () => {
    expect(await bashComplete(['pem', 'backtest', '--format', ''])).toEqual(['csv', 'json', 'table']);
    expect(await bashComplete(['pem', 'backtest', '--from', '2025-10-01', '--compare', 'proc'])).toEqual(['processors.json']);
  });

  it('finds the command past flags and their values', async () => {
    expect(await bashComplete(['pem', 'silence', '--help', 'list', '--format', 'j'])).toEqual(['json']);
    expect(await bashComplete(['pem', 'check', '--lookback-days', '14', '--dry'])).toEqual(['--dry-run']);
  });

  it('offers nothing made up for a value that is free text', async () => {
    expect(await bashComplete(['pem', 'check', '--date', ''])).toEqual([]);
  });

  it('completes the value of --option=value, which bash breaks into three words at the =', async () => {
    expect(await bashComplete(['pem', 'check', '--format', '='])).toEqual(['csv', 'json', 'table']);
    expect(await bashComplete(['pem', 'gaps', '--format', '=', 'c'])).toEqual(['commands', 'csv']);
    expect(await bashComplete(['pem', 'check', '--config', '=', 'proc'])).toEqual(['processors.json']);
    // An '=' inside a free-text value is no option's: nothing is made up after it.
    expect(await bashComplete(['pem', 'silence', 'add', '--reason', 'a', '='])).toEqual([]);
  });
});

describe.skipIf(shellMissing('zsh') && !process.env.CI)('pem completion zsh', () => {
  it('describes the commands with their help text', async () => {
    const offered = await zshComplete(['pem', '']);
    expect(offered).toMatch(/^describe: /);
    expect(offered).toContain('check:check every processor over a window of dates and deliver the alerts');
    expect(offered).toContain('completion:print a shell completion script: bash or zsh');
  });

  it('offers the sub-commands and flags of the command typed so far', async () => {
    const offered = await zshComplete(['pem', 'silence', 'list', '--']);
    expect(offered).toContain('--format:output format');
    expect(offered).toContain('--all:include expired and removed silences');
    expect(offered).not.toContain('--until');
  });

  it('offers choices, files and nothing made up, per flag', async () => {
    expect(await zshComplete(['pem', 'check', '--fail-on', ''])).toBe('compadd: critical error');
    expect(await zshComplete(['pem', 'report', '--html', ''])).toBe('files');
    expect(await zshComplete(['pem', 'check', '--date', ''])).toBe('message: a value');
  });

  it('completes the value of --option=value typed as one word, after the =', async () => {
    expect(await zshComplete(['pem', 'check', '--format=j'])).toBe('compset: -P *=\ncompadd: table json csv');
    expect(await zshComplete(['pem', 'report', '--html=out'])).toBe('compset: -P *=\nfiles');
  });
});

describe('the completion scripts', () => {
  it('follow the command tree: every flag of a command is offered', async () => {
    const help = (await runCli(['silence', 'add', '--help'])).stdout;
    const flags = [...help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
    expect(flags).toContain('--until');
    const bash = await script('bash');
    const arm = bash.split('\n').find((line) => line.startsWith("    'silence add')"))!;
    for (const flag of flags) expect(arm).toContain(flag);
  });

  it('bash: is shellcheck clean', async ({ skip }) => {
    skip(shellMissing('shellcheck') && !process.env.CI, 'shellcheck is not installed here (.ci/run installs it from Debian packages)');
    const file = join(dir, 'pem-check.bash');
    writeFileSync(file, await script('bash'));
    const run = spawnSync('shellcheck', ['--shell=bash', '--severity=style', file], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('rejects a shell it does not know with exit 2', async () => {
    const run = await runCli(['completion', 'fish']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("'fish' is invalid");
    expect(run.stderr).toContain('bash, zsh');
  });
});
