/**
 * `pem` as a process when its stdout goes away: a reader that closes the pipe early (`| head`) is
 * its choice, and the command still ends with its own exit code and lines (a failed delivery is
 * exit 1, said); a stdout that cannot be written (a full disk) is one line and exit 1, never a
 * stack trace. Either way the rest of the run's work is done: alerts, alert state, its own run row.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { alertEnv, AS_OF, childCliOnBadMornings, NOW, type BadMorningRig } from '../alerts/support.js';
import type { ChildCli } from '../support/child-cli.js';

let cli: ChildCli;
let rig: BadMorningRig;
childCliOnBadMornings({ cli: (c) => (cli = c), rig: (r) => (rig = r) });

const check = () => ['check', '--json-output', '--date', AS_OF, '--now', NOW, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath];
const lines = (text: string) => text.split('\n').filter(Boolean);

async function monitorRows(): Promise<string[]> {
  const warehouse = await openDuckDb({ path: rig.scenario.databasePath, create: false });
  try {
    const rows = await warehouse.query("SELECT status FROM nba_reference.processor_run_history WHERE processor_name = 'processor_execution_monitor' ORDER BY status");
    return rows.map((row) => String(row.status));
  } finally {
    await warehouse.close();
  }
}

describe('a reader that closes stdout before the document is written', () => {
  it('still gets the exit code and the line of a failed delivery, and the run is recorded', async () => {
    rig.slack.answer(() => ({ status: 500, body: 'rollup_error' }));
    const run = await cli.run(check(), alertEnv(rig.slack, rig.pagerduty, { PEM_ALERT_RETRIES: '0', PEM_RECORD_SELF: 'on' }), (child) => child.stdout!.destroy());
    expect(run.code).toBe(1);
    expect(lines(run.stderr).at(-1)).toMatch(/^error: alert delivery failed: slack \(HTTP 500/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(rig.pagerduty.requests.length).toBeGreaterThan(0);
    expect(await monitorRows()).toEqual(['failed', 'running']);
  }, 60_000);
});

describe.skipIf(!existsSync('/dev/full'))('a stdout that cannot be written (/dev/full)', () => {
  it('is one line and exit 1, never a stack trace, after the alerts went out and the run was recorded', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const run = await cli.run(check(), alertEnv(rig.slack, rig.pagerduty, { PEM_RECORD_SELF: 'on' }), undefined, { stdoutFd: full });
      expect(run.code).toBe(1);
      expect(lines(run.stderr).filter((line) => line.startsWith('error: '))).toEqual([
        'error: cannot write the output to stdout (ENOSPC: no space left on device, write): it is incomplete',
      ]);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(rig.slack.requests).toHaveLength(1);
      expect(rig.pagerduty.requests.length).toBeGreaterThan(0);
      expect((await monitorRows()).length).toBe(2);
      // The report for a person is one write, whose failure can be told after the command returned.
      const report = await cli.run(['check', '--dry-run', '--date', AS_OF, '--now', NOW, '--config', rig.scenario.registryPath, '--database', rig.scenario.databasePath], {}, undefined, { stdoutFd: full });
      expect(report.code).toBe(1);
      expect(lines(report.stderr).filter((line) => line.startsWith('error: '))).toEqual([
        'error: cannot write the output to stdout (ENOSPC: no space left on device, write): it is incomplete',
      ]);
    } finally {
      closeSync(full);
    }
  }, 60_000);
});
