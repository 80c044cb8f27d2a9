/**
 * deploy/source-datasets.mjs: the datasets deploy.sh grants read access on, found from the
 * registry's execution_table / calendar_table with the loader Dataform's includes use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './dockerfile.js';

const SCRIPT = join(REPO_ROOT, 'deploy', 'source-datasets.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'pem-source-datasets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sourceDatasets(config: string, dataset = 'ops') {
  const run = spawnSync(process.execPath, [SCRIPT, `--config=${config}`, '--project=nba-monitoring', `--dataset=${dataset}`], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function registry(processors: Record<string, { execution_table: string; calendar_table?: string }>): string {
  const path = join(scratch, `registry-${Math.random().toString(36).slice(2)}.cjs`);
  const entries = Object.fromEntries(
    Object.entries(processors).map(([name, tables]) => [
      name,
      {
        ...tables,
        date_field: 'processing_date',
        status_field: 'status',
        // A calendar table is read only by a calendar processor (the registry refuses it elsewhere).
        ...(tables.calendar_table ? { expected_frequency: 'calendar', calendar_date_field: 'game_date' } : { expected_frequency: 'daily' }),
      },
    ]),
  );
  writeFileSync(path, `module.exports = ${JSON.stringify({ dataset: 'ops', timezone: 'UTC', processors: entries })};\n`);
  return path;
}

describe('deploy/source-datasets.mjs', () => {
  it('lists each dataset outside the monitor\'s own once, as project:dataset, the project defaulting to the deployment\'s', () => {
    const config = registry({
      gamebook: { execution_table: 'raw.gamebook_runs', calendar_table: 'calendars-project.calendars.game_days' },
      roster: { execution_table: 'raw.roster_runs' },
      own: { execution_table: 'ops.processor_run_history' },
    });
    expect(sourceDatasets(config)).toEqual({ code: 0, stdout: 'calendars-project:calendars\nnba-monitoring:raw\n', stderr: '' });
  });

  it('lists nothing for the default registry, which reads only the run history', () => {
    expect(sourceDatasets(join(REPO_ROOT, 'includes', 'processors.js'), 'nba_reference')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('refuses a registry it cannot load with one line and exit 2', () => {
    const run = sourceDatasets(join(scratch, 'missing.js'));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^deploy\/source-datasets\.mjs: Cannot find module/);
  });
});
