/**
 * DuckDB allows one writing process per file. Twenty processors recording at once, beside a
 * `pem check` whose Slack webhook hangs, lose no row: the check lets go of the file while it
 * talks to Slack, recorders wait their turn, and a row that still cannot be written in time is
 * spooled beside the database and added by the next `pem record` or `pem check`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spoolDirOf } from '../../src/warehouse/duckdb-spool.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { bundleCli, type ChildCli } from '../support/child-cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

// Twenty, not fifty: the file is written one process at a time either way, and fifty processes
// starting Node at once cost the suite ~20 s more on 2 cores for no other path exercised.
const RECORDERS = 20;
const CHECK_SLACK_TIMEOUT_MS = 8_000;

let scenario: Scenario;
let cli: ChildCli;
let slack: Server;
let slackUrl: string;
const slackRequests: IncomingMessage[] = [];
let slackCalled: () => void;
const slackReached = new Promise<void>((done) => (slackCalled = done));

beforeAll(async () => {
  // No history at all: the check raises a scheduler issue, so it has a Slack message to send.
  // `held` and `after` are registered so `pem record` has no "no processor selects this row" warning to give.
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {}, held: {}, after: {} } });
  cli = await bundleCli();
  // A webhook that never answers: the check waits for it until its own timeout.
  slack = createServer((request) => {
    slackRequests.push(request);
    slackCalled();
  });
  await new Promise<void>((done) => slack.listen(0, '127.0.0.1', done));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/hanging`;
}, 60_000);

afterAll(async () => {
  for (const request of slackRequests) request.socket.destroy();
  await new Promise((done) => slack?.close(done));
  cli?.cleanup();
  scenario?.cleanup();
});

const target = () => ['--config', scenario.registryPath, '--database', scenario.databasePath];

describe('twenty `pem record start` processes beside a check whose Slack webhook hangs', () => {
  it('store every row, in the table or (late) through the spool', async () => {
    const check = cli.run(['check', '--json-output', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', ...target()], {
      SLACK_WEBHOOK_URL: slackUrl,
      PEM_ALERT_TIMEOUT_MS: String(CHECK_SLACK_TIMEOUT_MS),
      PEM_ALERT_RETRIES: '0',
    });
    // The recorders start once the check is talking to Slack, which is when it used to hold the file.
    await Promise.race([slackReached, check.then((run) => Promise.reject(new Error(`check ended first: ${run.stderr}`)))]);
    const recorders = await Promise.all(
      Array.from({ length: RECORDERS }, (_, i) =>
        cli.run(['record', 'start', '--processor', `processor_${i}`, '--date', '2025-10-07', ...target()], { PEM_RECORD_TIMEOUT_MS: '10000' }),
      ),
    );
    const checked = await check;

    for (const run of recorders) expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^processor_\d+\/2025-10-07\/\S+\n$/) });
    const runIds = recorders.map((run) => run.stdout.trim());
    // The Slack timeout fails the check (exit 1), after its JSON document.
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout).alerts.length).toBeGreaterThan(0);

    // Opening the file for writing adds whatever was spooled.
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false, lockWaitMs: 30_000 });
    try {
      const rows = await warehouse.query(
        "SELECT run_id FROM nba_reference.processor_run_history WHERE status = 'running' AND regexp_matches(processor_name, '^processor_[0-9]+$')",
      );
      expect(new Set(rows.map((row) => row.run_id))).toEqual(new Set(runIds));
      expect(rows).toHaveLength(RECORDERS);
    } finally {
      await warehouse.close();
    }
    const spool = spoolDirOf(scenario.databasePath);
    expect(existsSync(spool) ? readdirSync(spool) : []).toEqual([]);
  }, 300_000);
});

describe('pem record start while another process holds the file past the bound', () => {
  it('says on stderr that the row was spooled, exits 0, and the next writer adds it', async () => {
    const { spawn } = await import('node:child_process');
    // A process that holds the DuckDB file open for writing until told to let go.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const instance = await DuckDBInstance.create(${JSON.stringify(scenario.databasePath)});
         await instance.connect();
         process.stdout.write('holding\\n');
         process.stdin.once('data', () => process.exit(0));`,
      ],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((done, fail) => {
        holder.stdout!.once('data', () => done());
        holder.once('exit', () => fail(new Error('the holder could not open the file')));
      });
      // 3 s: long enough that a loaded machine has tried the file (and been refused) before the bound, which the line names.
      const held = await cli.run(['record', 'start', '--processor', 'held', '--date', '2025-10-07', ...target()], { PEM_RECORD_TIMEOUT_MS: '3000' });
      expect(held.code).toBe(0);
      expect(held.stdout).toMatch(/^held\/2025-10-07\//);
      const spool = spoolDirOf(scenario.databasePath);
      expect(held.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(`^warning: cannot record the start of run held/2025-10-07/\\S+ in DuckDB .*: no answer within 3000 ms \\(last attempt: another process holds DuckDB .*\\); kept in ${spool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, added by the next`),
        ),
      ]);
      expect(readdirSync(spool)).toHaveLength(1);
    } finally {
      holder.stdin!.write('go\n');
      await new Promise((done) => holder.once('exit', done));
    }
    const next = await cli.run(['record', 'start', '--processor', 'after', '--date', '2025-10-07', ...target()]);
    expect(next).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(spoolDirOf(scenario.databasePath))).toEqual([]);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false, lockWaitMs: 30_000 });
    try {
      const rows = await warehouse.query("SELECT processor_name FROM nba_reference.processor_run_history WHERE processor_name IN ('held', 'after') ORDER BY 1");
      expect(rows).toEqual([{ processor_name: 'after' }, { processor_name: 'held' }]);
    } finally {
      await warehouse.close();
    }
  }, 60_000);
});
