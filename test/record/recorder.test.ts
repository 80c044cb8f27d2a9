/** RunRecorder's contract, on a sink that keeps rows in memory. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { RunRecorder, type RunRecorderOptions } from '../../src/record/recorder.js';
import type { RunRow } from '../../src/warehouse/run-row.js';
import { MAX_ERROR_MESSAGE_CHARS, MAX_ERRORS_PER_ROW, runErrorFrom, truncate } from '../../src/record/run-error.js';
import { newRunId, parseRunId } from '../../src/record/run-id.js';
import type { RunSink } from '../../src/record/sink.js';

function setup(options: Partial<RunRecorderOptions> = {}) {
  const rows: RunRow[] = [];
  let logged = '';
  const sink: RunSink = {
    description: 'memory',
    async write(batch) {
      rows.push(...batch);
    },
  };
  let tick = 0;
  const recorder = new RunRecorder({
    sink,
    // Each reading of the clock is one minute later: shows which reading each column took.
    clock: () => new Date(Date.UTC(2025, 9, 8, 6, tick++)),
    log: createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false }),
    ...options,
  });
  return { recorder, rows, logged: () => logged };
}

describe('RunRecorder', () => {
  it('reads the clock once per row: started_at at the start, completed_at at the end', async () => {
    const { recorder, rows } = setup();
    await recorder.withRun('gamebook', '2025-10-07', () => undefined, { triggerSource: 'backfill', metadata: { batch: 3 } });
    expect(rows.map((r) => [r.status, r.started_at?.toISOString(), r.completed_at?.toISOString() ?? null])).toEqual([
      ['running', '2025-10-08T06:00:00.000Z', null],
      ['success', '2025-10-08T06:00:00.000Z', '2025-10-08T06:01:00.000Z'],
    ]);
    expect(rows[1]).toMatchObject({ trigger_source: 'backfill', metadata: { batch: 3 }, errors: null, records_processed: null });
  });

  it('ends a run marked skipped as skipped, with its record count', async () => {
    const { recorder, rows } = setup();
    await recorder.withRun('gamebook', '2025-10-07', (run) => {
      run.setRecordsProcessed(0);
      run.markSkipped();
    });
    expect(rows[1]).toMatchObject({ status: 'skipped', records_processed: 0 });
  });

  it('rethrows the very error the processor threw, after recording it', async () => {
    const { recorder, rows } = setup();
    const thrown = new RangeError('date out of season');
    await expect(recorder.withRun('gamebook', '2025-10-07', () => Promise.reject(thrown))).rejects.toBe(thrown);
    expect(rows[1]).toMatchObject({ status: 'failed', errors: [{ error_type: 'RangeError', error_message: 'date out of season' }] });
  });

  it('completes from another recorder (another process) through the run id alone', async () => {
    const first = setup();
    const runId = await first.recorder.recordRunStart('team/gamebook', '2025-10-07');
    const second = setup();
    await second.recorder.recordRunComplete(runId, { status: 'success', recordsProcessed: 5 });
    expect(second.rows[0]).toMatchObject({
      run_id: runId,
      processor_name: 'team/gamebook',
      processing_date: '2025-10-07',
      started_at: new Date('2025-10-08T06:00:00.000Z'),
      records_processed: 5,
    });
  });

  it('uses a caller-given run id, completed elsewhere with its processor and date', async () => {
    const { recorder, rows } = setup();
    expect(await recorder.recordRunStart('gamebook', '2025-10-07', { runId: 'airflow__2025-10-07' })).toBe('airflow__2025-10-07');
    const unplaced = setup();
    await unplaced.recorder.recordRunComplete('airflow__2025-10-07', { status: 'failed' });
    expect(unplaced.rows).toEqual([]);
    expect(unplaced.logged()).toContain("run id 'airflow__2025-10-07' was neither started by this recorder nor made by recordRunStart");
    const elsewhere = setup();
    await elsewhere.recorder.recordRunComplete('airflow__2025-10-07', { status: 'failed', processor: 'gamebook', processingDate: '2025-10-07' });
    expect(rows[0]!.run_id).toBe('airflow__2025-10-07');
    expect(elsewhere.rows[0]).toMatchObject({ run_id: 'airflow__2025-10-07', processor_name: 'gamebook', started_at: null });
  });

  it.each([
    ['an impossible date', 'gamebook', '2025-02-29', "processing date '2025-02-29' is not a valid date"],
    ['an empty processor', '', '2025-10-07', 'processor must be a non-empty string'],
  ])('logs %s instead of throwing, writes nothing, and still returns a run id', async (_name, processor, date, message) => {
    const { recorder, rows, logged } = setup();
    const runId = await recorder.recordRunStart(processor, date);
    expect(typeof runId).toBe('string');
    expect(rows).toEqual([]);
    expect(logged()).toContain(message);
  });

  it('throws bad input in strict mode', async () => {
    const { recorder } = setup({ strict: true });
    await expect(recorder.recordRunStart('gamebook', '2025-13-01')).rejects.toMatchObject({ code: 'usage' });
    await expect(recorder.recordRunComplete('not-a-pem-id', { status: 'success' })).rejects.toThrow(/neither started by this recorder nor made by recordRunStart/);
    await expect(recorder.recordRunComplete(newRunId('g', '2025-10-07', new Date()), { status: 'done' as 'success' })).rejects.toThrow(
      "status 'done' is not a final status",
    );
    await expect(recorder.recordRunComplete(newRunId('g', '2025-10-07', new Date()), { status: 'success', recordsProcessed: -1 })).rejects.toThrow(
      'records processed -1 (number) is not a whole number of 0 or more',
    );
  });

  it('says so when a run ended before it started (a start instant from a host whose clock is ahead), and stores it as it happened', async () => {
    const { recorder, rows, logged } = setup();
    const runId = newRunId('gamebook', '2025-10-07', new Date('2099-01-01T00:00:00Z'));
    await recorder.recordRunComplete(runId, { status: 'success' });
    expect(rows[0]).toMatchObject({ started_at: new Date('2099-01-01T00:00:00Z'), completed_at: new Date('2025-10-08T06:00:00Z') });
    expect(logged().trim()).toBe(
      `warning: run ${runId}: it started at 2099-01-01T00:00:00.000Z, after it ended (2025-10-08T06:00:00.000Z), so its duration reads negative; are the clocks of the hosts that started and ended it apart?`,
    );
    // An ordinary run says nothing.
    const ordinary = setup();
    await ordinary.recorder.withRun('gamebook', '2025-10-07', () => undefined);
    expect(ordinary.logged()).toBe('');
  });

  it('says the row is lost when it can be neither written nor kept for later, in its one warning', async () => {
    let logged = '';
    const recorder = new RunRecorder({
      sink: {
        description: 'DuckDB db.duckdb',
        write: async () => Promise.reject(new Error('DuckDB db.duckdb: another process holds the file')),
        spool: async () => Promise.reject(new Error("EEXIST: file already exists, mkdir 'db.duckdb.spool'")),
      },
      clock: () => new Date('2025-10-08T06:00:00Z'),
      log: createLogger({ write: (chunk: string) => (logged += chunk) }, { json: false }),
    });
    const runId = await recorder.recordRunStart('gamebook', '2025-10-07');
    expect(logged.trim().split('\n')).toEqual([
      `warning: cannot record the start of run ${runId} in DuckDB db.duckdb: another process holds the file; it could not be kept for later either (EEXIST: file already exists, mkdir 'db.duckdb.spool'): this row is lost (the run goes on; repeats of this failure are not logged)`,
    ]);
    expect(recorder.lastWriteKept).toBe(false);
  });

  it('writes no row for a run whose date is not of the calendar, neither its start nor, through its id, its end', async () => {
    // withRun with 2025-02-30: the start was refused, then the end was written from the run id, as 2025-03-02.
    for (const date of ['2025-02-30', '2025-13-01', '1899-12-31']) {
      const { recorder, rows, logged } = setup();
      await recorder.withRun('gamebook', date, () => undefined);
      expect(rows).toEqual([]);
      expect(logged()).toContain(`processing date '${date}'`);
      // Said once: the end is not tried, where it was refused again in other words ("not made by recordRunStart").
      expect(logged().trim().split('\n')).toHaveLength(1);
      await expect(recorder.withRun('gamebook', date, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(rows).toEqual([]);
      const strict = setup({ strict: true });
      await expect(strict.recorder.recordRunComplete(newRunId('gamebook', date, new Date()), { status: 'success' })).rejects.toThrow(
        `carries processing date '${date}', which is not a date from 1900-01-01 to 9998-12-31`,
      );
    }
  });

  it('stores the final row of a run whose count it cannot store, without the count, and says why', async () => {
    const { recorder, rows, logged } = setup();
    const counts: unknown[] = [10n, '12', 1.5, -1, Number.NaN, 2 ** 60, '1e3', -3n, 2n ** 60n];
    for (const count of counts) {
      await recorder.withRun('gamebook', '2025-10-07', (run) => run.setRecordsProcessed(count as number));
    }
    const finals = rows.filter((row) => row.status === 'success');
    expect(finals.map((row) => row.records_processed)).toEqual([10, 12, null, null, null, null, null, null, null]);
    expect(logged().trim().split('\n').map((line) => line.replace(/^warning: run \S+: /, ''))).toEqual([
      'records processed 1.5 (number) is not a whole number of 0 or more; its success row is stored without it',
      'records processed -1 (number) is not a whole number of 0 or more; its success row is stored without it',
      'records processed NaN (number) is not a whole number of 0 or more; its success row is stored without it',
      'records processed 1152921504606847000 is more than pem can store exactly (9007199254740991); its success row is stored without it',
      "records processed '1e3' (string) is not a whole number of 0 or more; its success row is stored without it",
      'records processed -3n (bigint) is not a whole number of 0 or more; its success row is stored without it',
      'records processed 1152921504606846976n is more than pem can store exactly (9007199254740991); its success row is stored without it',
    ]);
  });

  it('records a failure whose thrown value throws when read', async () => {
    const { recorder, rows } = setup();
    const unreadable = new Error('x');
    Object.defineProperty(unreadable, 'message', { get: () => { throw new Error('no message for you'); } });
    const trap = new Proxy({}, { get: () => { throw new TypeError('trapped'); }, getPrototypeOf: () => { throw new TypeError('trapped'); } });
    for (const thrown of [unreadable, trap]) {
      await expect(recorder.withRun('gamebook', '2025-10-07', () => { throw thrown; })).rejects.toBe(thrown);
    }
    const failed = rows.filter((row) => row.status === 'failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]!.errors).toEqual([{ error_type: 'Error', error_message: 'the thrown value could not be read (Error: no message for you)' }]);
    // The Proxy's traps throw on every read but its own keys (JSON.stringify sees none): an empty object.
    expect(failed[1]!.errors).toEqual([{ error_type: 'Unreadable', error_message: expect.stringMatching(/^the thrown value could not be read \(|^\{\}$/) }]);
  });

  it('stores metadata JSON cannot hold as null, and still records the run', async () => {
    const { recorder, rows, logged } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await recorder.recordRunStart('gamebook', '2025-10-07', { metadata: circular });
    expect(rows[0]!.metadata).toBeNull();
    expect(logged()).toMatch(/metadata is not JSON .*stored as null/);
  });

  it('stores metadata with lone surrogates (a string cut inside an emoji) as well-formed JSON', async () => {
    const { recorder, rows } = setup();
    const cut = '😀'.slice(0, 1);
    await recorder.recordRunStart('gamebook', '2025-10-07', { metadata: { note: `x${cut}`, [`k${'😀'.slice(1)}`]: [cut, 'fine 😀'] } });
    expect(rows[0]!.metadata).toEqual({ note: 'x\uFFFD', 'k\uFFFD': ['\uFFFD', 'fine 😀'] });
    expect(JSON.stringify(rows[0]!.metadata)).not.toMatch(/\\ud[89a-f]/i);
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => setup({ timeoutMs: 0 })).toThrow('timeoutMs 0 must be a positive number of milliseconds');
    // Node's timers fire at once beyond 2^31 - 1 ms: every write would time out.
    expect(() => setup({ timeoutMs: 1e12 })).toThrow('timeoutMs 1000000000000 must be a positive number of milliseconds up to 2147483647');
  });
});

describe('run ids', () => {
  it('parse back to their processor, date and start instant, whatever the processor holds', () => {
    const startedAt = new Date('2025-10-08T06:07:08.009Z');
    for (const processor of ['gamebook', 'team/feed/2025-10-07/x', 'ünïcode feed']) {
      expect(parseRunId(newRunId(processor, '2025-10-07', startedAt))).toEqual({ processor, processingDate: '2025-10-07', startedAt });
    }
  });

  it.each(['', 'gamebook', 'gamebook/2025-10-07', 'gamebook/2025-10-07/20251008T060708009Z-XYZ', 'gamebook/2025-10-07/20251308T060708009Z-0123456789ab', 'gamebook/2025-10-07/20260230T000000000Z-0123456789ab', 'gamebook/2025-10-07/20251008T250000000Z-0123456789ab'])(
    'are not read into %j',
    (runId) => {
      expect(parseRunId(runId)).toBeNull();
    },
  );
});

describe('run errors', () => {
  it.each([
    ['a named error', new TypeError('x is undefined'), 'TypeError', 'x is undefined'],
    ['a subclass that keeps the name Error', new (class FeedUnavailable extends Error {})('503 from feed'), 'FeedUnavailable', '503 from feed'],
    ['a string', 'plain failure', 'string', 'plain failure'],
    ['an object', { code: 42 }, 'Object', '{"code":42}'],
    ['null', null, 'null', 'null'],
    ['an error with a cause', new Error('load failed', { cause: new Error('socket hang up') }), 'Error', 'load failed (caused by Error: socket hang up)'],
  ])('take the type and message of %s', (_name, thrown, type, message) => {
    expect(runErrorFrom(thrown)).toEqual({ error_type: type, error_message: message });
  });

  it('cut long messages to the bound, saying so, without splitting a character', () => {
    const { error_message } = runErrorFrom(new Error('😀'.repeat(10_000)));
    expect(error_message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(error_message).toMatch(/ … \[truncated from 20000 characters\]$/);
    expect(error_message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(truncate('short', 10)).toBe('short');
  });

  it('keep at most the bound of errors per row, noting the rest', async () => {
    const { recorder, rows } = setup();
    const runId = await recorder.recordRunStart('gamebook', '2025-10-07');
    const errors = Array.from({ length: 30 }, (_, i) => ({ error_type: 'RowError', error_message: `row ${i}` }));
    await recorder.recordRunComplete(runId, { status: 'failed', errors });
    expect(rows[1]!.errors).toHaveLength(MAX_ERRORS_PER_ROW);
    expect(rows[1]!.errors!.at(-1)).toEqual({ error_type: 'TooManyErrors', error_message: '11 more errors were not recorded' });
  });
});
