/**
 * `pem backtest`'s engine (SPEC §13): replays `pem check` at every cadence instant, without running
 * thousands of full checks. A processor's result only changes when one of its rows starts or ends
 * (as-of reads), when a run still running passes max_runtime_minutes, when one of its dates becomes
 * due, when the end date E moves (local midnight), or when an upstream of it changed. So the detection
 * query runs only at those instants, only for the processors concerned (with their downstreams), and
 * every other processor's last result is carried forward. The SQL still computes every status; this
 * module only decides when to ask. Silences are read as of each instant where one starts or ends.
 * `reevaluate: 'every_check'` asks at every instant for every processor: the reference the carried
 * replay is proven equal to (test/backtest/replay-equivalence.test.ts).
 */
import { DateTime } from 'luxon';
import { assembleCheckResult, type CheckResult, type CheckWindow, type ProcessorDetail, type ProcessorReport } from '../check/report.js';
import { addDays } from '../calendar.js';
import { todayIn, withUpstreams } from '../check/inputs.js';
import { runCheck } from '../check/run.js';
import type { Registry } from '../config/registry.js';
import type { ActiveSilence } from '../alerts/plan.js';
import { listSilences } from '../alerts/silences.js';
import { alertSilencesTable } from '../config/names.js';
import { historyDaysFor } from '../sql/health.js';
import { renderBacktestEventsSql, renderCheckSql } from '../sql/statements.js';
import type { Row, Warehouse } from '../warehouse/types.js';
import { cadenceInstants } from './cadence.js';
import { AlertSimulation, type BacktestFigures } from './simulate.js';

export interface BacktestOptions {
  from: string;
  to: string;
  everyMs: number;
  lookbackDays: number;
  /** Registry keys to replay, sorted. */
  processors: string[];
  /**
   * `changed` (the default): query only the processors whose inputs changed since the previous
   * check. `every_check`: the full check at every instant, slow; the reference for the first.
   */
  reevaluate?: 'changed' | 'every_check';
  /**
   * The last instant a check may be replayed at (`pem backtest`: now). A check later than now
   * would see dates not yet due as missing and runs still going as hung: made-up problems.
   */
  until?: Date;
  /** Hears each replayed check (1-based) of how many, with its instant: a long replay shows progress. */
  onCheck?: (done: number, total: number, at: Date) => void;
}

export interface BacktestRun extends BacktestFigures {
  /**
   * The first check (its instant) that saw a run row or a success of the processors replayed; null
   * when none did. Later than the period's first check when the period begins before the history:
   * the checks before it read every expected date as missing, which is not what the registry would
   * have sent about the history itself.
   */
  first_check_with_history: string | null;
  /**
   * The earliest date that check saw a run row or a success of (its processors' last success, or
   * the first date of its window with a run): the history's first date as far as the check could
   * see it, from which the first window within the history is told. Null with the check.
   */
  first_date_with_history: string | null;
  /**
   * The dates that check read as missing before `first_date_with_history`, every processor's
   * counted: its window reaching back before the history as far as it could see. 0 when none (a
   * long history's window, whose first days were weekends or off days, reaches back before no one).
   */
  missing_before_history: number;
  /** Detection queries actually run (the rest of the checks carried results forward). */
  queries: number;
  /** Where the time went: waiting on the warehouse (detection, events, silences; checks run ahead) and the simulation. */
  query_ms: number;
  simulate_ms: number;
}

/**
 * Checks asked ahead of the simulation. Two keep a second DuckDB connection (or BigQuery job) busy
 * while one result is read and simulated: DuckDB spends much of a check planning and scheduling
 * its pipelines on one thread, so two side by side use the second core.
 */
const CHECKS_AHEAD = 2;

/**
 * How often a backtest on a warehouse that holds a file (`holdsFile`: DuckDB) pauses its checks to
 * call `betweenSlices`, as a large check does between its statements. DuckDB lets one process open
 * a file at a time, and a backtest runs for minutes: a scheduled `pem check` or `pem record` on the
 * same file waited for all of it, then failed (or spooled). With nothing in flight, DuckDB lets go
 * of the file it has held for its hold time (2 s) for a waiting process's turn, which also hands
 * back the memory DuckDB kept (bench/README.md: 798 → 362 MiB over a year). The backtest then
 * waits for the file like any process (PEM_DUCKDB_LOCK_TIMEOUT_MS).
 */
const BETWEEN_CHECKS_EVERY_MS = 2_000;

interface Step {
  window: CheckWindow;
  /** The processors whose result may have changed since the previous check (none: carry all forward). */
  wanted: string[];
  /** A silence started or ended since the previous check. */
  readSilences: boolean;
}

interface Change {
  at: number;
  processors: readonly string[];
}

export async function runBacktest(warehouse: Warehouse, registry: Registry, options: BacktestOptions): Promise<BacktestRun> {
  const until = options.until?.getTime() ?? Infinity;
  const instants = cadenceInstants(options.from, options.to, registry.timezone, options.everyMs).filter((at) => at.getTime() <= until);
  const simulation = new AlertSimulation({ dataset: registry.dataset, renotifyHours: registry.renotify_hours, timezone: registry.timezone, registry });
  if (instants.length === 0 || options.processors.length === 0) {
    return { ...simulation.figures(), first_check_with_history: null, first_date_with_history: null, missing_before_history: 0, queries: 0, query_ms: 0, simulate_ms: 0 };
  }
  let queryMs = 0;
  let simulateMs = 0;
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      queryMs += performance.now() - started;
    }
  };
  const first = instants[0]!.getTime();
  const last = instants[instants.length - 1]!.getTime();

  // The processors whose rows and due dates can change a replayed one's result: it and its
  // upstreams, which its check evaluates beside it (an upstream's re-run ends a dependency hold).
  const readers = withUpstreams(registry, options.processors);
  const read = [...readers];
  const changes = [...(await timed(() => rowChanges(warehouse, registry, read, first, last, options.everyMs))), ...dueChanges(registry, read, options, first, last)].sort(
    (a, b) => a.at - b.at,
  );
  const downstream = downstreamClosure(registry);
  const everyCheck = options.reevaluate === 'every_check';
  // Rendered once: the statement is the same at every instant, only its parameters move.
  const checkSql = renderCheckSql(warehouse.dialect, registry, readers);
  const silenceTimes = await timed(() => silenceChangeTimes(warehouse, registry, new Date(last)));

  // First when to ask what (pure: it needs no result), then the asking, CHECKS_AHEAD queries ahead
  // of the simulation: the detection never depends on alert state, so checks can run side by side.
  const steps: Step[] = [];
  let previous = -Infinity;
  let previousEnd = '';
  let c = 0;
  let s = 0;
  for (const instant of instants) {
    const t = instant.getTime();
    const endDate = todayIn(registry.timezone, instant);
    let changed: Set<string>;
    if (everyCheck || endDate !== previousEnd) {
      changed = new Set(options.processors);
    } else {
      changed = new Set();
      for (; c < changes.length && changes[c]!.at <= t; c++) {
        if (changes[c]!.at <= previous) continue;
        for (const name of changes[c]!.processors) for (const affected of downstream.get(name) ?? [name]) changed.add(affected);
      }
    }
    for (; c < changes.length && changes[c]!.at <= t; c++);
    let silenceChanged = previous === -Infinity || everyCheck;
    for (; s < silenceTimes.length && silenceTimes[s]! <= t; s++) silenceChanged = true;
    steps.push({
      window: { endDate, windowStart: addDays(endDate, 1 - options.lookbackDays), lookbackDays: options.lookbackDays, now: instant },
      wanted: options.processors.filter((name) => changed.has(name)),
      readSilences: silenceChanged && silenceTimes.length > 0,
    });
    previous = t;
    previousEnd = endDate;
  }

  const asked = steps.filter((step) => step.wanted.length > 0);
  const inFlight: Promise<CheckResult>[] = [];
  const ask = (i: number) => {
    const step = asked[i]!;
    const pending = runCheck(warehouse, registry, { ...step.window, processors: step.wanted }, { dayDetails: true, sql: checkSql });
    pending.catch(() => undefined); // awaited in order below; this only keeps a failure ahead of its turn from going unhandled
    inFlight[i] = pending;
  };
  let next = 0;
  let lastPause = performance.now();
  const merged = new Map<string, { report: ProcessorReport; detail: ProcessorDetail }>();
  let silences: ActiveSilence[] = [];
  let replayed = 0;
  let firstCheckWithHistory: string | null = null;
  let firstDateWithHistory: string | null = null;
  let missingBeforeHistory = 0;
  try {
    for (const step of steps) {
      if (step.wanted.length > 0) {
        for (let i = next; i < Math.min(next + CHECKS_AHEAD, asked.length); i++) if (!inFlight[i]) ask(i);
        const result = await timed(() => inFlight[next]!);
        delete inFlight[next++];
        if (warehouse.holdsFile && performance.now() - lastPause >= BETWEEN_CHECKS_EVERY_MS) {
          // The checks asked ahead finish first: the file is let go only with nothing in flight.
          await timed(async () => {
            await Promise.allSettled(inFlight.filter(Boolean));
            await warehouse.betweenSlices();
          });
          lastPause = performance.now();
        }
        for (const report of result.report.processors) merged.set(report.name, { report, detail: result.details[report.name]! });
        if (firstCheckWithHistory === null) {
          const seen = result.report.processors.flatMap((p) => [...(p.last_success_date === null ? [] : [p.last_success_date]), ...p.days.filter((d) => d.runs > 0).map((d) => d.date)]);
          if (seen.length > 0) {
            firstCheckWithHistory = step.window.now.toISOString();
            const earliest = seen.reduce((a, b) => (b < a ? b : a));
            firstDateWithHistory = earliest;
            missingBeforeHistory = result.report.processors.reduce((n, p) => n + p.days.filter((d) => d.status === 'missing' && d.date < earliest).length, 0);
          }
        }
      }
      if (step.readSilences) silences = await timed(() => listSilences(warehouse, alertSilencesTable(registry), step.window.now, { activeOnly: true }));

      const started = performance.now();
      const names = [...merged.keys()].sort();
      const result = assembleCheckResult(
        names.map((name) => merged.get(name)!.report),
        Object.fromEntries(names.map((name) => [name, merged.get(name)!.detail])),
        step.window,
      );
      simulation.step(step.window.now, result, silences);
      simulateMs += performance.now() - started;
      options.onCheck?.(++replayed, steps.length, step.window.now);
    }
  } finally {
    // Never leave a statement running behind a failure: the caller closes the warehouse next.
    await Promise.allSettled(inFlight.filter(Boolean));
  }
  const started = performance.now();
  const figures = simulation.figures();
  return {
    ...figures,
    first_check_with_history: firstCheckWithHistory,
    first_date_with_history: firstDateWithHistory,
    missing_before_history: missingBeforeHistory,
    queries: asked.length,
    query_ms: Math.round(queryMs),
    simulate_ms: Math.round(simulateMs + performance.now() - started),
  };
}

/** A running row is hung after at most this long whatever its limit (the registry's largest max_runtime_minutes). */
const LONGEST_RUNTIME_MS = 7 * 24 * 3_600_000;

/**
 * Starts, ends and hung thresholds of the rows that started or ended in the period. A threshold is
 * a change only for a run still running then: a run that ended before its limit never turns hung, so
 * its threshold asks nothing (most runs end in minutes; asking at each would double the queries).
 * With `max_runtime_minutes: "auto"` the limit is the SQL's (a baseline of E): such a running row is
 * looked at every check until it ends, rather than guessing when it turns hung.
 */
async function rowChanges(warehouse: Warehouse, registry: Registry, processors: string[], from: number, to: number, everyMs: number): Promise<Change[]> {
  const sql = renderBacktestEventsSql(warehouse.dialect, registry, new Set(processors));
  const rows = await warehouse.query(sql, {
    processors: { type: 'ARRAY<STRING>', value: processors },
    // A run that started up to a week before the period can still turn hung inside it.
    window_from: { type: 'TIMESTAMP', value: new Date(from - LONGEST_RUNTIME_MS) },
    window_to: { type: 'TIMESTAMP', value: new Date(to) },
  });
  const maxRuntime = new Map(registry.processors.map((p) => [p.name, p.max_runtime_minutes === 'auto' ? null : p.max_runtime_minutes * 60_000]));
  // When each run ended: its first final row (success or failed). From then on the run is final
  // (as of each check, SPEC §13), so it cannot turn hung; rows of no class end nothing.
  const runOf = (row: Row) => `${String(row.processor_name)}|${String(row.processing_date)}|${String(row.run_id)}`;
  const runEnd = new Map<string, number>();
  for (const row of rows) {
    if (row.completed_at === null || (row.run_class !== 'success' && row.run_class !== 'failed')) continue;
    const completed = Date.parse(String(row.completed_at));
    runEnd.set(runOf(row), Math.min(runEnd.get(runOf(row)) ?? Infinity, completed));
  }
  const changes: Change[] = [];
  for (const row of rows) {
    const name = String(row.processor_name);
    const started = row.started_at === null ? null : Date.parse(String(row.started_at));
    const completed = row.completed_at === null ? null : Date.parse(String(row.completed_at));
    if (started !== null) {
      changes.push({ at: started, processors: [name] });
      const limit = maxRuntime.get(name);
      const ended = runEnd.get(runOf(row));
      // Only a running row can make its date hung, and only while its run has not ended.
      const endedBy = (at: number) => row.run_class !== 'running' || (ended !== undefined && ended < at);
      if (limit !== null && limit !== undefined) {
        if (!endedBy(started + limit + 1)) changes.push({ at: started + limit + 1, processors: [name] });
      } else if (row.run_class === 'running') {
        for (let at = started + everyMs; at <= Math.min(ended ?? to, started + LONGEST_RUNTIME_MS, to); at += everyMs) changes.push({ at, processors: [name] });
      }
    }
    if (completed !== null) changes.push({ at: completed, processors: [name] });
  }
  return changes;
}

/** When dates become due: each processor's local midnight plus grace, for every date a check in the period reads. */
function dueChanges(registry: Registry, processors: readonly string[], options: BacktestOptions, from: number, to: number): Change[] {
  const groups = new Map<string, string[]>();
  const selected = new Set(processors);
  for (const p of registry.processors) {
    if (!selected.has(p.name)) continue;
    const key = JSON.stringify([p.timezone, p.grace_hours]);
    groups.set(key, [...(groups.get(key) ?? []), p.name]);
  }
  const firstDate = addDays(options.from, -options.lookbackDays - historyDaysFor(registry, options.lookbackDays) - 1);
  const lastDate = addDays(options.to, 1);
  const changes: Change[] = [];
  for (const [key, processors] of groups) {
    const [zone, grace] = JSON.parse(key) as [string, number];
    for (let date = firstDate; date <= lastDate; date = addDays(date, 1)) {
      const due = DateTime.fromISO(addDays(date, 1), { zone }).startOf('day').toMillis() + Math.round(grace * 3600) * 1000;
      if (due > from && due <= to) changes.push({ at: due, processors });
    }
  }
  return changes;
}

/** Each processor with every processor downstream of it (itself included). */
function downstreamClosure(registry: Registry): Map<string, string[]> {
  const direct = new Map<string, string[]>();
  for (const p of registry.processors) for (const d of p.depends_on) direct.set(d.processor, [...(direct.get(d.processor) ?? []), p.name]);
  const closure = new Map<string, string[]>();
  for (const p of registry.processors) {
    const seen = new Set([p.name]);
    const stack = [p.name];
    while (stack.length > 0) for (const next of direct.get(stack.pop()!) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next);
    closure.set(p.name, [...seen]);
  }
  return closure;
}

/** Instants at which some silence starts, ends or is removed; none when the table does not exist yet. */
async function silenceChangeTimes(warehouse: Warehouse, registry: Registry, end: Date): Promise<number[]> {
  let all;
  try {
    all = await listSilences(warehouse, alertSilencesTable(registry), end, { activeOnly: false });
  } catch {
    return [];
  }
  return all
    .flatMap((silence) => [silence.created_at, silence.silenced_until, silence.removed_at])
    .filter((value): value is string => value !== null)
    .map((value) => Date.parse(value))
    .sort((a, b) => a - b);
}
