/**
 * An option that needs a value never takes another option as its value: commander would, and
 * `pem check --location --dry-run` ran a check that was no dry run (exit 0, alerts and state).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('an option followed by another option where its value belongs', () => {
  it('is refused in one line, exit 2, before anything runs', async () => {
    for (const [flag, next] of [['--location', '--dry-run'], ['--project', '--dry-run'], ['--now', '--dry-run'], ['--config', '--json-output'], ['--location', '-h'], ['--location', '--help']]) {
      const run = await runCli(['check', flag!, next!]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(`error: ${flag} needs a value, and the word after it is the option ${next}: give ${flag} its value, or leave it out\n`);
    }
  });

  it('catches an option among the words of a list given twice, and takes --option=value as the value it is', async () => {
    const listed = await runCli(['check', '--processors', 'a', '--processors', '--dry-run']);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toBe('error: --processors needs a value, and the word after it is the option --dry-run: give --processors its value, or leave it out\n');
    // With '=', the value is meant: refused further on for what it is (an unknown processor), not as an option.
    const meant = await runCli(['check', '--processors=--dry-run', '--dry-run']);
    expect(meant.code).toBe(2);
    expect(meant.stderr).not.toContain('needs a value');
  });

  it('still takes a value that only starts with -- (a file named so): it is no option of the command', async () => {
    const run = await runCli(['sql', 'render', '--config', '--no-such-registry.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--no-such-registry.json');
    expect(run.stderr).not.toContain('needs a value');
  });
});

describe('--processors given more than once', () => {
  it('checks every processor named, not only the last', async () => {
    const { createScenario } = await import('../support/scenario.js');
    const scenario = await createScenario({ processors: { a: {}, b: {}, c: {} } });
    try {
      const json = await scenario.check(['--dry-run', '--json-output', '--date', '2025-10-07', '--processors', 'a', '--processors', 'c']);
      expect(json.code, json.stderr).toBe(0);
      expect(json.json.processors.map((p: { name: string }) => p.name)).toEqual(['a', 'c']);
    } finally {
      scenario.cleanup();
    }
  });
});

describe('--location', () => {
  it('is refused in one line, exit 2, when it names no BigQuery location', async () => {
    const run = await runCli(['check', '--engine', 'bigquery', '--project', 'p', '--location', '', '--dry-run']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: --location '' is not a BigQuery location: name one such as US, EU or us-central1\n");
  });
});

describe('an empty value where a name belongs (an empty variable expanded)', () => {
  it('is refused in one line, exit 2, naming what is empty', async () => {
    const cases: [string[], string][] = [
      [['demo', '--database', ''], "error: option '--database <path>' argument '' is invalid. An empty name is no file: give the file to build, for example --database .pem/demo.duckdb\n"],
      [['check', '--config', ''], 'error: --config is empty: pass the registry file, for example --config includes/processors.js\n'],
      [['silence', 'remove', ''], 'error: the silence id is empty: give one that `pem silence list` shows, for example `pem silence remove sil_1a2b3c4d`\n'],
    ];
    for (const [args, stderr] of cases) {
      const run = await runCli(args);
      expect([run.code, run.stderr]).toEqual([2, stderr]);
    }
  });
});
