/**
 * Round trip on DuckDB: runs recorded through `RunRecorder` and through `pem record` are what
 * `pem check` then reports (success, failed with its error, hung, running, retried).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { RunRecorder } from '../../src/record/recorder.js';
import { duckDbFileSink } from '../../src/record/sink.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const TABLE = 'nba_reference.processor_run_history';
const REGISTRY = {
  dataset: 'nba_reference',
  timezone: 'UTC',
  processors: {
    gamebook: { max_runtime_minutes: 60 },
    roster: { max_runtime_minutes: 120 },
  },
};
const CHECK = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z'];

let scenario: Scenario;
let logged = '';
let report: any;
let terminal: string;

/** `pem record …` against the scenario, at clock instant `now`. */
async function pemRecord(args: string[], now: string) {
  return runCli(['record', ...args, '--config', scenario.registryPath, '--database', scenario.databasePath], { now: new Date(now) });
}

async function rows(where: string): Promise<Record<string, unknown>[]> {
  const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    return await warehouse.query(`SELECT * FROM ${TABLE} WHERE ${where} ORDER BY completed_at NULLS FIRST`);
  } finally {
    await warehouse.close();
  }
}

beforeAll(async () => {
  scenario = await createScenario(REGISTRY);
  let instant = '';
  const recorder = new RunRecorder({
    sink: duckDbFileSink(scenario.databasePath, TABLE),
    clock: () => new Date(instant),
    log: createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false }),
  });
  /** One gamebook run for `date`, started and ended at the given instants. */
  const gamebook = async (date: string, start: string, end: string, body: (run: { setRecordsProcessed(n: number): void; markSkipped(): void }) => void) => {
    instant = start;
    const run = recorder.withRun('gamebook', date, (ctx) => {
      instant = end;
      body(ctx);
      return 'ok';
    });
    await run.catch(() => undefined);
  };
  await gamebook('2025-10-01', '2025-10-02T06:00:00Z', '2025-10-02T06:10:00Z', (run) => run.setRecordsProcessed(120));
  await gamebook('2025-10-02', '2025-10-03T06:00:00Z', '2025-10-03T06:05:00Z', () => {
    throw new Error('timeout talking to the source');
  });
  await gamebook('2025-10-02', '2025-10-03T07:00:00Z', '2025-10-03T07:10:00Z', (run) => run.setRecordsProcessed(118));
  await gamebook('2025-10-03', '2025-10-04T06:00:00Z', '2025-10-04T06:01:00Z', () => {
    throw new TypeError('bad payload');
  });
  await gamebook('2025-10-04', '2025-10-05T06:00:00Z', '2025-10-05T06:01:00Z', (run) => run.markSkipped());
  await gamebook('2025-10-05', '2025-10-06T06:00:00Z', '2025-10-06T06:10:00Z', () => undefined);
  await gamebook('2025-10-06', '2025-10-07T06:00:00Z', '2025-10-07T06:10:00Z', () => undefined);
  // Started three hours before `now` and never ended: hung (max 60 minutes).
  instant = '2025-10-08T09:00:00Z';
  await recorder.recordRunStart('gamebook', '2025-10-07', { triggerSource: 'scheduler' });

  for (const date of ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06']) {
    const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const start = await pemRecord(['start', '--processor', 'roster', '--date', date, '--trigger', 'scheduler'], `${next}T05:00:00Z`);
    expect(start.code, start.stderr).toBe(0);
    const runId = start.stdout.trim();
    const outcome =
      date === '2025-10-06'
        ? ['--status', 'failed', '--error-type', 'SchemaError', '--error-message', 'column x missing']
        : ['--status', 'success', '--records', '10'];
    const end = await pemRecord(['complete', '--run-id', runId, ...outcome], `${next}T05:30:00Z`);
    expect(end.code, end.stderr).toBe(0);
  }
  // Started an hour before `now`: still running (max 120 minutes).
  expect((await pemRecord(['start', '--processor', 'roster', '--date', '2025-10-07'], '2025-10-08T11:00:00Z')).code).toBe(0);

  const json = await scenario.check(['--json-output', ...CHECK]);
  expect(json.code, json.stderr).toBe(0);
  report = json.json;
  terminal = (await scenario.check(CHECK)).stdout;
}, 60_000);

afterAll(() => scenario?.cleanup());

const processor = (name: string) => report.processors.find((p: { name: string }) => p.name === name);
const day = (name: string, date: string) => processor(name).days.find((d: { date: string }) => d.date === date);

describe('runs recorded through RunRecorder', () => {
  it('report success, a retried failure as recovered, a failure, a skip as success, and a hung run', () => {
    expect(logged).toBe('');
    const gamebook = processor('gamebook');
    expect(gamebook.days.map((d: { status: string }) => d.status)).toEqual(['success', 'success', 'failed', 'success', 'success', 'success', 'hung']);
    expect(gamebook.failed_dates).toEqual(['2025-10-03']);
    expect(gamebook.hung_dates).toEqual(['2025-10-07']);
    expect(gamebook.recovered_failure_dates).toEqual(['2025-10-02']);
    expect(day('gamebook', '2025-10-02')).toEqual({
      date: '2025-10-02',
      status: 'success',
      runs: 2,
      failed_runs: 1,
      // SPEC §10: the retry's records and duration; one success date before it is no baseline.
      anomalies: [],
      records: 118,
      duration_seconds: 600,
      baseline_records: null,
      baseline_duration_seconds: null,
    });
    expect(gamebook.last_success_date).toBe('2025-10-06');
    expect(gamebook.level).toBe('ERROR');
  });

  it('carry the failure type and message through to the report', () => {
    expect(terminal).toContain('latest error (2025-10-03): TypeError: bad payload');
  });
});

describe('runs recorded through pem record', () => {
  it('report successes, a failure and a run still going', () => {
    const roster = processor('roster');
    expect(roster.days.map((d: { status: string }) => d.status)).toEqual(['success', 'success', 'success', 'success', 'success', 'failed', 'running']);
    expect(roster.failed_dates).toEqual(['2025-10-06']);
    expect(roster.hung_dates).toEqual([]);
    expect(terminal).toContain('latest error (2025-10-06): SchemaError: column x missing');
  });

  it('write a final row that repeats the start row, as SPEC §2 defines them', async () => {
    const run = await rows("processor_name = 'roster' AND processing_date = DATE '2025-10-06'");
    expect(run).toEqual([
      {
        run_id: expect.stringMatching(/^roster\/2025-10-06\/20251007T050000000Z-[0-9a-f]{12}$/),
        processor_name: 'roster',
        processing_date: '2025-10-06',
        status: 'running',
        started_at: '2025-10-07T05:00:00.000Z',
        completed_at: null,
        records_processed: null,
        errors: null,
        trigger_source: 'scheduler',
        metadata: null,
      },
      {
        run_id: run[0]!.run_id,
        processor_name: 'roster',
        processing_date: '2025-10-06',
        status: 'failed',
        started_at: '2025-10-07T05:00:00.000Z',
        completed_at: '2025-10-07T05:30:00.000Z',
        records_processed: null,
        errors: [{ error_type: 'SchemaError', error_message: 'column x missing' }],
        trigger_source: null,
        metadata: null,
      },
    ]);
  });

  it('store a retried completion once', async () => {
    const [start] = await rows("processor_name = 'roster' AND processing_date = DATE '2025-10-01' AND status = 'running'");
    const again = await pemRecord(['complete', '--run-id', String(start!.run_id), '--status', 'success', '--records', '10'], '2025-10-02T05:45:00Z');
    expect(again.code).toBe(0);
    const final = await rows(`run_id = '${String(start!.run_id)}' AND status = 'success'`);
    expect(final).toHaveLength(1);
    expect(final[0]!.completed_at).toBe('2025-10-02T05:30:00.000Z');
  });
});
