/**
 * The monitor watches itself: each `pem check` is a recorded run of processor_execution_monitor,
 * and a completed check pings PEM_HEARTBEAT_URL. Neither can fail the check, and `--dry-run`
 * does neither.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { pingHeartbeat } from '../../src/record/heartbeat.js';
import { MONITOR_PROCESSOR } from '../../src/cli/self-record.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const TOKEN = 'hc-token-5f3e9a1c';
const CHECK = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z'];
const CLOCK = new Date('2025-10-08T12:00:05Z');

interface Ping {
  method: string;
  path: string;
  body: string;
}

let server: Server;
let endpoint: string;
let pings: Ping[];
let answer: (res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      pings.push({ method: req.method ?? '', path: req.url ?? '', body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  pings = [];
  answer = (res) => res.end('OK');
});
afterEach(() => {
  server.closeAllConnections();
});

const heartbeatUrl = () => `${endpoint}/ping/${TOKEN}`;

/** The lines of stderr about recording and the heartbeat (alert delivery has its own notes). */
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => /record|heartbeat/i.test(line));

/** A loopback port where nothing listens. */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function ownRows(scenario: Scenario): Promise<Record<string, unknown>[]> {
  const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    return await warehouse.query(
      `SELECT * FROM nba_reference.processor_run_history WHERE processor_name = '${MONITOR_PROCESSOR}' ORDER BY completed_at NULLS FIRST`,
    );
  } finally {
    await warehouse.close();
  }
}

describe('pem check records its own run', () => {
  let scenario: Scenario;
  beforeEach(async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {}, roster: {} } });
  });
  afterEach(() => scenario.cleanup());

  it('as a running row and a success row of processor_execution_monitor for the end date', async () => {
    const run = await scenario.check(['--json-output', ...CHECK], { now: CLOCK });
    expect(run.code).toBe(0);
    expect(ownLines(run.stderr)).toEqual([]);
    expect(run.json.level).toBe('CRITICAL');
    const rows = await ownRows(scenario);
    const metadata = { engine: 'duckdb', window_start: '2025-10-01', lookback_days: 7, processors: 2 };
    expect(rows).toEqual([
      {
        run_id: expect.stringMatching(/^processor_execution_monitor\/2025-10-07\/20251008T120005000Z-/),
        processor_name: MONITOR_PROCESSOR,
        processing_date: '2025-10-07',
        status: 'running',
        started_at: '2025-10-08T12:00:05.000Z',
        completed_at: null,
        records_processed: null,
        errors: null,
        trigger_source: 'manual',
        metadata: JSON.stringify(metadata),
      },
      {
        run_id: rows[0]!.run_id,
        processor_name: MONITOR_PROCESSOR,
        processing_date: '2025-10-07',
        status: 'success',
        started_at: '2025-10-08T12:00:05.000Z',
        completed_at: '2025-10-08T12:00:05.000Z',
        records_processed: 2,
        errors: null,
        trigger_source: 'manual',
        metadata: JSON.stringify(metadata),
      },
    ]);
  });

  it('as scheduled on Cloud Run, unless PEM_TRIGGER_SOURCE says otherwise', async () => {
    await scenario.check(CHECK, { now: CLOCK, env: { CLOUD_RUN_JOB: 'processor-execution-monitor', CLOUD_RUN_EXECUTION: 'exec-1' } });
    await scenario.check(CHECK, { now: CLOCK, env: { PEM_TRIGGER_SOURCE: 'backfill' } });
    const rows = await ownRows(scenario);
    expect(rows.map((r) => r.trigger_source)).toEqual(['scheduler', 'backfill', 'scheduler', 'backfill']);
    expect(JSON.parse(String(rows[0]!.metadata)).cloud_run_execution).toBe('exec-1');
  });

  it('writes nothing on --dry-run', async () => {
    const run = await scenario.check(['--dry-run', ...CHECK], { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(0);
    expect(await ownRows(scenario)).toEqual([]);
    expect(pings).toEqual([]);
  });

  it('writes nothing for bad input, which is not a run', async () => {
    const run = await scenario.check(['--processors', 'nope', ...CHECK], { now: CLOCK });
    expect(run.code).toBe(2);
    expect(await ownRows(scenario)).toEqual([]);
  });

  it('writes nothing with PEM_RECORD_SELF=off, and still pings the heartbeat', async () => {
    const run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_RECORD_SELF: 'off', PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(0);
    expect(await ownRows(scenario)).toEqual([]);
    expect(pings).toHaveLength(1);
  });
});

describe('a check that fails', () => {
  let scenario: Scenario;
  afterEach(() => scenario.cleanup());

  it('is recorded as a failed run with its error, and sends no heartbeat', async () => {
    scenario = await createScenario({
      dataset: 'nba_reference',
      processors: { gamebook: { execution_table: 'nba_reference.no_such_table' } },
    });
    const run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(1);
    const rows = await ownRows(scenario);
    expect(rows.map((r) => r.status)).toEqual(['running', 'failed']);
    expect(rows[1]!.errors).toEqual([{ error_type: 'PemError', error_message: expect.stringContaining('no_such_table') }]);
    expect(pings).toEqual([]);
  });

  it('because the warehouse is missing prints only its own error, not recording warnings too', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
    const missing = `${scenario.dir}/absent.duckdb`;
    const run = await runCli(['check', '--config', scenario.registryPath, '--database', missing, ...CHECK], { now: CLOCK });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: DuckDB database .*absent\.duckdb does not exist/)]);
  });

  it('is not failed by a run history it cannot write to', async () => {
    scenario = await createScenario(
      {
        dataset: 'nba_reference',
        // A foreign table without a records column says so (SPEC §10: the default is records_processed).
        processors: { gamebook: { execution_table: 'nba_reference.jobs', records_field: null } },
      },
      [],
      ['CREATE TABLE nba_reference.jobs (processor_name VARCHAR, run_id VARCHAR, processing_date DATE, status VARCHAR, started_at TIMESTAMP, completed_at TIMESTAMP)'],
    );
    await scenario.sql('DROP TABLE nba_reference.processor_run_history');
    const run = await scenario.check(['--json-output', ...CHECK], { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(0);
    expect(run.json.processors[0].name).toBe('gamebook');
    // The start and the end fail for the same reason: one line.
    const lines = ownLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: cannot record the start of run processor_execution_monitor\/2025-10-07\/.*processor_run_history/);
    expect(pings).toHaveLength(1);
  });
});

describe('a check whose DuckDB file another writer holds', () => {
  let scenario: Scenario;
  afterEach(() => scenario.cleanup());

  it('waits for it once (PEM_DUCKDB_LOCK_TIMEOUT_MS), not again for its own rows, which are kept in the spool', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
    const holder = await openDuckDb({ path: scenario.databasePath, create: false });
    let run;
    const started = performance.now();
    try {
      run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_DUCKDB_LOCK_TIMEOUT_MS: '1500', PEM_RECORD_TIMEOUT_MS: '10000' } });
    } finally {
      await holder.close();
    }
    const tookMs = performance.now() - started;
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cannot open DuckDB database .*holds the file \(waited 1500 ms\)$/)]);
    // The start and the end each waited PEM_RECORD_TIMEOUT_MS (10 s) before.
    expect(tookMs).toBeLessThan(8_000);
    expect((await ownRows(scenario)).map((r) => r.status)).toEqual(['running', 'failed']);
  }, 60_000);

  it('whose start was spooled while the file was held is added by the check itself, without a warning', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
    const holder = await openDuckDb({ path: scenario.databasePath, create: false });
    setTimeout(() => void holder.close(), 300);
    const run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_DUCKDB_LOCK_TIMEOUT_MS: '20000' } });
    expect(run.code, run.stderr).toBe(0);
    expect(ownLines(run.stderr)).toEqual([]);
    expect((await ownRows(scenario)).map((r) => r.status)).toEqual(['running', 'success']);
  }, 60_000);
});

describe('the heartbeat', () => {
  let scenario: Scenario;
  beforeAll(async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
  });
  afterAll(() => scenario.cleanup());

  it('is a GET of PEM_HEARTBEAT_URL after a completed check, never printed', async () => {
    const run = await scenario.check(['--json-output', ...CHECK], { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(0);
    expect(pings).toEqual([{ method: 'GET', path: `/ping/${TOKEN}`, body: '' }]);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('is a POST with the run when PEM_HEARTBEAT_METHOD=POST', async () => {
    await scenario.check(CHECK, { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl(), PEM_HEARTBEAT_METHOD: 'post' } });
    expect(pings).toHaveLength(1);
    expect(pings[0]!.method).toBe('POST');
    expect(JSON.parse(pings[0]!.body)).toEqual({
      processor: MONITOR_PROCESSOR,
      processing_date: '2025-10-07',
      run_id: expect.stringMatching(/^processor_execution_monitor\/2025-10-07\//),
      status: 'success',
    });
  });

  it('that fails is a warning naming the status, and the check still exits 0', async () => {
    answer = (res) => {
      res.statusCode = 503;
      res.end(`no such check ${TOKEN}`);
    };
    const run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl() } });
    expect(run.code).toBe(0);
    expect(ownLines(run.stderr)).toEqual(['warning: heartbeat ping failed: HTTP 503']);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('that hangs is given up within PEM_HEARTBEAT_TIMEOUT_MS', async () => {
    // Timed from the ping's arrival, not the check's start: the heartbeat is the check's last step,
    // and a loaded machine can make the check itself take seconds. Waiting out the 5 s default
    // instead of the setting would still fail.
    let pingedAt = Number.NaN;
    answer = () => void (pingedAt = performance.now());
    const run = await scenario.check(CHECK, { now: CLOCK, env: { PEM_HEARTBEAT_URL: heartbeatUrl(), PEM_HEARTBEAT_TIMEOUT_MS: '200' } });
    expect(run.code).toBe(0);
    expect(ownLines(run.stderr)).toEqual(['warning: heartbeat ping failed: no answer within 200 ms']);
    expect(performance.now() - pingedAt).toBeLessThan(3_000);
  });

  describe('on its own, without the log redaction of the CLI', () => {
    let logged: string;
    const log = () => createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false });
    const details = { runId: 'r', processor: MONITOR_PROCESSOR, processingDate: '2025-10-07' };
    beforeEach(() => {
      logged = '';
    });

    it('reports a refused connection without the URL', async () => {
      const url = `http://127.0.0.1:${await deadPort()}/ping/${TOKEN}`;
      expect(await pingHeartbeat({ PEM_HEARTBEAT_URL: url }, log(), details)).toBe(false);
      expect(logged).toBe('warning: heartbeat ping failed: network error (ECONNREFUSED)\n');
    });

    it('says a port fetch refuses to use is the reason, not a bare "network error (Error)"', async () => {
      const url = `http://127.0.0.1:1/ping/${TOKEN}`;
      expect(await pingHeartbeat({ PEM_HEARTBEAT_URL: url }, log(), details)).toBe(false);
      expect(logged).toBe("warning: heartbeat ping failed: the URL's port is one fetch never connects to (a blocked port: https://fetch.spec.whatwg.org/#port-blocking)\n");
    });

    it.each([
      ['a URL that is not http(s)', 'ftp://example.invalid/ping/', 'heartbeat skipped: PEM_HEARTBEAT_URL is not an http(s) URL'],
      ['a URL that does not parse', 'not a url ', 'heartbeat skipped: PEM_HEARTBEAT_URL is not an http(s) URL'],
    ])('reports %s without the URL', async (_name, url, message) => {
      const ok = await pingHeartbeat({ PEM_HEARTBEAT_URL: `${url}${TOKEN}` }, log(), details);
      expect(ok).toBe(false);
      expect(logged).toBe(`warning: ${message}\n`);
    });

    it('does nothing when PEM_HEARTBEAT_URL is not set', async () => {
      expect(await pingHeartbeat({}, log(), details)).toBe(false);
      expect(logged).toBe('');
      expect(pings).toEqual([]);
    });

    it('refuses a method other than GET or POST', async () => {
      expect(await pingHeartbeat({ PEM_HEARTBEAT_URL: heartbeatUrl(), PEM_HEARTBEAT_METHOD: 'PUT' }, log(), details)).toBe(false);
      expect(logged).toBe("warning: heartbeat skipped: PEM_HEARTBEAT_METHOD 'PUT' must be GET or POST\n");
      expect(pings).toEqual([]);
    });
  });
});
