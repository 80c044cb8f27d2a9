/**
 * A large check runs as slices of processors (SPEC §14, `runCheck`). A downstream's blocked_by and
 * explained dates need its upstreams' days (SPEC §12): each slice's statement evaluates the
 * upstreams it needs beside it and reports only its own processors, so slicing never changes the
 * result. Slices are bounded by processors as well as by processor-days (a DuckDB statement's memory
 * grows with its processors whatever the window), and between slices the warehouse hands back the
 * memory the statement freed and lets go of a file it has held a while (`betweenSlices`). A check
 * over LARGE_CHECK_PROCESSOR_DAYS holds its day details packed, and asks the warehouse to leave room
 * for what it holds (DuckDB: a lower memory_limit for its statements).
 * DuckDB scenario of `pem schema apply`; E = 2025-10-07, L = 7, now = 2025-10-08T12:00Z.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/load.js';
import { resolveCheckInputs } from '../../src/check/inputs.js';
import { runCheck } from '../../src/check/run.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import type { QueryBatchesOptions, QueryParams, Warehouse } from '../../src/warehouse/types.js';
import { datesBetween, runsOn } from '../support/runs.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const E = '2025-10-07';
const W = datesBetween('2025-10-01', E);

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

/** Four processors on a database file, a_down depending on z_up (failed on 10-05), opened for a check. */
async function openFourProcessorScenario() {
  scenario = await createScenario(
    { dataset: 'nba_reference', timezone: 'UTC', processors: { a_down: { depends_on: ['z_up'] }, b_ok: {}, c_gap: {}, z_up: {} } },
    [
      ...runsOn('z_up', W.filter((d) => d !== '2025-10-05')),
      ...runsOn('z_up', ['2025-10-05'], 'failed'),
      ...runsOn('a_down', W.filter((d) => d !== '2025-10-05')),
      ...runsOn('b_ok', W),
      ...runsOn('c_gap', W.filter((d) => d !== '2025-10-03')),
    ],
  );
  const registry = await loadRegistry(scenario.registryPath);
  const inputs = resolveCheckInputs({ date: E, now: '2025-10-08T12:00:00Z' }, registry, new Date());
  const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
  return { registry, inputs, warehouse };
}

describe('a large check', () => {
  it('holds its day details packed beyond the processor-days bound, and reads them back the same', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    try {
      const plain = await runCheck(warehouse, registry, inputs, { dayDetails: true });
      // 4 processors × 7 days = 28 processor-days: packed beyond 27, not beyond 28.
      const packed = await runCheck(warehouse, registry, inputs, { dayDetails: true, packDayDetailsBeyond: 27 });
      const atBound = await runCheck(warehouse, registry, inputs, { dayDetails: true, packDayDetailsBeyond: 28 });
      const withoutDetails = await runCheck(warehouse, registry, inputs, { dayDetails: false, packDayDetailsBeyond: 0 });
      const heldPacked = (result: typeof plain) => Object.values(result.details).map((d) => Object.getOwnPropertyDescriptor(d, 'days')?.get !== undefined);
      expect(heldPacked(packed)).toEqual([true, true, true, true]);
      expect(heldPacked(plain)).toEqual([false, false, false, false]);
      expect(heldPacked(atBound)).toEqual([false, false, false, false]);
      expect(heldPacked(withoutDetails)).toEqual([false, false, false, false]);
      expect(packed.details).toEqual(plain.details);
      expect(packed.details['c_gap']!.days.map((d) => [d.date, d.is_problem_date])).toContainEqual(['2025-10-03', true]);
    } finally {
      await warehouse.close();
    }
  });

  it('asks the warehouse to leave room for what it holds so far beyond the processor-days bound, and not at it', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    const asked: (number | undefined)[] = [];
    // The real warehouse, with the options of each statement it is asked written down.
    const recording = new Proxy(warehouse, {
      get(target, key) {
        if (key === 'queryBatches') {
          return (sql: string, params?: QueryParams, options?: QueryBatchesOptions) => {
            asked.push(options?.leaveRoomForCaller);
            return target.queryBatches(sql, params, options);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    try {
      // 4 processors × 7 days = 28 processor-days; one processor a slice: four statements, each
      // after 0, 7, 14 and 21 processor-days folded.
      const plain = await runCheck(recording, registry, inputs, { dayDetails: true, processorsPerQuery: 1 });
      expect(asked.splice(0)).toEqual([0, 0, 0, 0]);
      const atBound = await runCheck(recording, registry, inputs, { dayDetails: true, processorsPerQuery: 1, leaveRoomBeyond: 28 });
      expect(asked.splice(0)).toEqual([0, 0, 0, 0]);
      const beyond = await runCheck(recording, registry, inputs, { dayDetails: true, processorsPerQuery: 1, leaveRoomBeyond: 27 });
      expect(asked.splice(0)).toEqual([0, 7, 14, 21].map((days) => days * 112));
      const withoutDetails = await runCheck(recording, registry, inputs, { dayDetails: false, processorsPerQuery: 1, leaveRoomBeyond: 27 });
      expect(asked.splice(0)).toEqual([0, 7, 14, 21].map((days) => days * 64));
      expect(atBound).toEqual(plain);
      expect(beyond).toEqual(plain);
      expect(withoutDetails.report).toEqual(plain.report);
    } finally {
      await warehouse.close();
    }
  });
});

describe('a check run in slices', () => {
  it('gives the unsliced result when a slice boundary separates downstreams from their upstream', async () => {
    // Sorted, one processor a slice: a_down and b_down come before z_up, alone in their slices.
    scenario = await createScenario(
      {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: { a_down: { depends_on: ['z_up'] }, b_down: { depends_on: [{ processor: 'z_up', offset_days: -1 }] }, m_alone: {}, z_up: {} },
      },
      [
        ...runsOn('z_up', W.filter((d) => d !== '2025-10-05')),
        ...runsOn('z_up', ['2025-10-05'], 'failed'),
        ...runsOn('a_down', W.filter((d) => d !== '2025-10-05')),
        ...runsOn('b_down', W.filter((d) => d !== '2025-10-06')),
        ...runsOn('m_alone', W.filter((d) => d !== '2025-10-03')),
      ],
    );
    const registry = await loadRegistry(scenario.registryPath);
    const inputs = resolveCheckInputs({ date: E, now: '2025-10-08T12:00:00Z' }, registry, new Date());
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const whole = await runCheck(warehouse, registry, inputs, { dayDetails: true });
      const sliced = await runCheck(warehouse, registry, inputs, { dayDetails: true, processorDaysPerQuery: inputs.lookbackDays });

      const down = whole.report.processors.find((p) => p.name === 'a_down');
      expect(down?.blocked_by).toEqual([{ processor: 'z_up', dates: ['2025-10-05'] }]);
      expect(whole.report.processors.find((p) => p.name === 'b_down')?.blocked_by).toEqual([{ processor: 'z_up', dates: ['2025-10-06'] }]);
      // Every processor reported once, in both.
      expect(sliced.report.processors.map((p) => p.name)).toEqual(['a_down', 'b_down', 'm_alone', 'z_up']);
      expect(JSON.stringify(sliced)).toBe(JSON.stringify(whole));
    } finally {
      await warehouse.close();
    }
  });

  it('gives the unsliced result when sliced by processor count, each slice after betweenSlices', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    try {
      const wholeProgress: number[][] = [];
      const slicedProgress: number[][] = [];
      const whole = await runCheck(warehouse, registry, inputs, { dayDetails: true, onStatement: (...p) => wholeProgress.push(p) });
      const sliced = await runCheck(warehouse, registry, inputs, { dayDetails: true, processorsPerQuery: 1, onStatement: (...p) => slicedProgress.push(p) });

      expect(sliced.report.processors.map((p) => p.name)).toEqual(['a_down', 'b_ok', 'c_gap', 'z_up']);
      expect(JSON.stringify(sliced)).toBe(JSON.stringify(whole));
      // Progress is told after each statement of a sliced check only.
      expect(slicedProgress).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
      expect(wholeProgress).toEqual([]);
    } finally {
      await warehouse.close();
    }
  });

  it('gives the unsliced result to sliced checks asked side by side (as pem backtest asks them): a release waits for statements in flight', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    try {
      const whole = JSON.stringify(await runCheck(warehouse, registry, inputs, { dayDetails: true }));
      const sideBySide = await Promise.all(
        Array.from({ length: 3 }, () => runCheck(warehouse, registry, inputs, { dayDetails: true, processorsPerQuery: 1 })),
      );
      for (const sliced of sideBySide) expect(JSON.stringify(sliced)).toBe(whole);
    } finally {
      await warehouse.close();
    }
  });
});

describe('a failed check statement', () => {
  /** The real warehouse, its check statements failing with `message`, its other queries written down. */
  function failingWith(warehouse: Warehouse, message: string, probes: string[]): Warehouse {
    return new Proxy(warehouse, {
      get(target, key) {
        if (key === 'queryBatches') {
          return () => ({
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error(message)) }),
          });
        }
        if (key === 'query') {
          return (sql: string, params?: QueryParams) => {
            probes.push(sql);
            return target.query(sql, params);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  it('comes back unchanged, with no table probed, when it is not about a table', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    const probes: string[] = [];
    try {
      // Named like the run-history table, but about a held file.
      const held = 'cannot open DuckDB database processor_run_history.duckdb: another process holds the file (waited 1000 ms)';
      await expect(runCheck(failingWith(warehouse, held, probes), registry, inputs)).rejects.toThrow(new Error(held));
      expect(probes).toEqual([]);
    } finally {
      await warehouse.close();
    }
  });

  it('names the processors behind a missing table only when a probe finds it missing too', async () => {
    const { registry, inputs, warehouse } = await openFourProcessorScenario();
    const probes: string[] = [];
    try {
      // The table exists (the probe reads it): the warehouse's error is passed on as it was.
      const stale = 'Catalog Error: Table with name processor_run_history does not exist!';
      await expect(runCheck(failingWith(warehouse, stale, probes), registry, inputs)).rejects.toThrow(new Error(stale));
      expect(probes).toHaveLength(1);
      await warehouse.execute('DROP TABLE nba_reference.processor_run_history');
      await expect(runCheck(failingWith(warehouse, stale, probes), registry, inputs)).rejects.toThrow(
        `${stale} (nba_reference.processor_run_history is the execution_table of processors a_down, b_ok, c_gap and 1 more: create it or correct the registry)`,
      );
    } finally {
      await warehouse.close();
    }
  });
});
