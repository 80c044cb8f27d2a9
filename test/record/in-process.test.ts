/**
 * Runs recorded side by side in one process (`Promise.all` over a processor's dates) into one
 * DuckDB file. DuckDB's file lock belongs to the process, so its instances do not keep each other
 * out: they lost rows and then corrupted the file (`WAL cannot contain more than one checkpoint
 * marker`) until each open waited for an open of its own process as for another process.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { RunRecorder } from '../../src/record/recorder.js';
import { duckDbFileSink } from '../../src/record/sink.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { RunRow } from '../../src/warehouse/run-row.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const DATES = Array.from({ length: 8 }, (_, i) => `2025-10-${String(i + 1).padStart(2, '0')}`);
const warnings: string[] = [];
let scenario: Scenario;

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {}, roster: {} } });
}, 60_000);

afterAll(() => scenario?.cleanup());

describe('withRun side by side in one process', () => {
  it('stores every start and every end, and leaves the file whole for the next open', async () => {
    const log = createLogger({ write: (chunk: string) => warnings.push(chunk) }, { json: false });
    const recorder = new RunRecorder({ sink: duckDbFileSink(scenario.databasePath, 'nba_reference.processor_run_history'), log });
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        ['gamebook', 'roster'].flatMap((processor) =>
          DATES.map((date) => recorder.withRun(processor, date, async (run) => run.setRecordsProcessed(round + 1))),
        ),
      );
    }
    expect(warnings).toEqual([]);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await warehouse.query('SELECT status, count(*) AS n FROM nba_reference.processor_run_history GROUP BY status ORDER BY status');
      expect(rows).toEqual([
        { status: 'running', n: 2 * 2 * DATES.length },
        { status: 'success', n: 2 * 2 * DATES.length },
      ]);
    } finally {
      await warehouse.close();
    }
  }, 120_000);

  it('writes a hundred runs started at once in batches, well within the default bound, none spooled', async () => {
    const noted: string[] = [];
    const log = createLogger({ write: (chunk: string) => noted.push(chunk) }, { json: false });
    const recorder = new RunRecorder({ sink: duckDbFileSink(scenario.databasePath, 'nba_reference.processor_run_history'), log });
    const dates = Array.from({ length: 100 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
    await Promise.all(dates.map((date) => recorder.withRun('gamebook', date, (run) => run.setRecordsProcessed(1))));
    expect(noted).toEqual([]);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await warehouse.query("SELECT count(*) AS n FROM nba_reference.processor_run_history WHERE processing_date < DATE '2025-01-01'");
      expect(rows).toEqual([{ n: 200 }]);
    } finally {
      await warehouse.close();
    }
  }, 60_000);

  it("settles each write of a batch with its own outcome: one row the table refuses fails only its writer", async () => {
    const setup = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      await setup.execute(
        "CREATE TABLE nba_reference.guarded (run_id VARCHAR NOT NULL, processor_name VARCHAR NOT NULL CHECK (processor_name <> 'bad'), " +
          'processing_date DATE NOT NULL, status VARCHAR NOT NULL, started_at TIMESTAMP, completed_at TIMESTAMP, records_processed BIGINT, ' +
          'errors STRUCT(error_type VARCHAR, error_message VARCHAR)[], trigger_source VARCHAR, metadata JSON)',
      );
    } finally {
      await setup.close();
    }
    const sink = duckDbFileSink(scenario.databasePath, 'nba_reference.guarded');
    const row = (processor: string, i: number): RunRow => ({
      run_id: `${processor}-${i}`, processor_name: processor, processing_date: '2025-10-07', status: 'running',
      started_at: null, completed_at: null, records_processed: null, errors: null, trigger_source: null, metadata: null,
    });
    const signal = new AbortController().signal;
    const outcomes = await Promise.allSettled(['gamebook', 'bad', 'gamebook', 'roster'].map((name, i) => sink.write([row(name, i)], { signal })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('resolves each write of a batch with the rows it repeated, beside the stored row or the batch\'s earlier one', async () => {
    const sink = duckDbFileSink(scenario.databasePath, 'nba_reference.processor_run_history');
    const row = (runId: string, records: number): RunRow => ({
      run_id: runId, processor_name: 'gamebook', processing_date: '2025-09-01', status: 'success',
      started_at: null, completed_at: null, records_processed: records, errors: null, trigger_source: null, metadata: null,
    });
    const signal = new AbortController().signal;
    expect(await sink.write([row('repeat-a', 5)], { signal })).toEqual([]);
    // Side by side: a repeat of a stored row; then a new row and its repeat, written in one batch.
    const [stored, fresh, inBatch] = await Promise.all([
      sink.write([row('repeat-a', 6)], { signal }),
      sink.write([row('repeat-b', 7)], { signal }),
      sink.write([row('repeat-b', 8)], { signal }),
    ]);
    expect(stored).toEqual([{ row: row('repeat-a', 6), stored: { processor_name: 'gamebook', processing_date: '2025-09-01', records_processed: 5, errors: null } }]);
    expect(fresh).toEqual([]);
    expect(inBatch).toEqual([{ row: row('repeat-b', 8), stored: row('repeat-b', 7) }]);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await warehouse.query("SELECT run_id, records_processed FROM nba_reference.processor_run_history WHERE run_id LIKE 'repeat-%' ORDER BY run_id");
      expect(rows).toEqual([{ run_id: 'repeat-a', records_processed: 5 }, { run_id: 'repeat-b', records_processed: 7 }]);
    } finally {
      await warehouse.close();
    }
  });

  it('tells a write queued behind a batch that waits for a held file why it waits', async () => {
    const holder = await openDuckDb({ path: scenario.databasePath, create: false });
    const sink = duckDbFileSink(scenario.databasePath, 'nba_reference.processor_run_history');
    const heard: string[][] = [[], []];
    const controllers = [new AbortController(), new AbortController()];
    const row = (i: number): RunRow => ({
      run_id: `queued-${i}`, processor_name: 'gamebook', processing_date: '2025-10-07', status: 'running',
      started_at: null, completed_at: null, records_processed: null, errors: null, trigger_source: null, metadata: null,
    });
    try {
      const first = sink.write([row(0)], { signal: controllers[0]!.signal, onRetry: (cause) => heard[0]!.push(cause.message) });
      // The batch is waiting for the held file once it has said why.
      for (const deadline = Date.now() + 20_000; heard[0]!.length === 0; await new Promise((resolve) => setTimeout(resolve, 5))) {
        if (Date.now() > deadline) throw new Error('the first write never said it waits for the held file');
      }
      // Queued behind it, the second write is told at once (in write itself).
      const second = sink.write([row(1)], { signal: controllers[1]!.signal, onRetry: (cause) => heard[1]!.push(cause.message) });
      for (const controller of controllers) controller.abort(new Error('bound'));
      await Promise.allSettled([first, second]);
    } finally {
      await holder.close();
    }
    for (const messages of heard) expect(messages).toEqual([expect.stringMatching(/^another open in this process holds DuckDB /)]);
    // Given up, the batch's open does not take the file once it is free: the next open gets it at once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await openDuckDb({ path: scenario.databasePath, create: false });
    const rows = await next.query("SELECT run_id FROM nba_reference.processor_run_history WHERE run_id LIKE 'queued-%'");
    await next.close();
    expect(rows).toEqual([]);
  });

  it('lets an open of the same file through another name (a link to it) wait its turn too', async () => {
    const first = await openDuckDb({ path: scenario.databasePath, create: false });
    const alias = join(scenario.dir, 'alias.duckdb');
    symlinkSync(scenario.databasePath, alias);
    try {
      await expect(openDuckDb({ path: alias, create: false })).rejects.toThrow(/another open in this process holds the file \(waited 0 ms\)/);
      const waiting = openDuckDb({ path: alias, create: false, lockWaitMs: 10_000 });
      setTimeout(() => void first.close(), 200);
      const second = await waiting;
      expect(await second.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await second.close();
    } finally {
      await first.close();
    }
  });

  it('lets go of the file when closed while it is opening it again (a statement after release)', async () => {
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    await warehouse.release();
    const statement = warehouse.query('SELECT 1 AS one').catch(() => null);
    await warehouse.close();
    await statement;
    const next = await openDuckDb({ path: scenario.databasePath, create: false });
    await next.close();
  });
});
