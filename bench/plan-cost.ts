/**
 * Where the detection statement's fixed cost goes on DuckDB: planning (parse, bind, optimise,
 * physical plan) against running it, single-threaded process CPU, side by side in one run.
 *
 *   node --import tsx bench/plan-cost.ts [--processors=1000] [--days=7] [--runs=11] [--file=PATH]
 *
 * Builds (or reuses, with --file) the bench's synthetic history (dataset.ts), renders the statement
 * `pem check` sends (renderCheckSql) and binds it as `pem check` does (checkParams), then times,
 * alternating, on one DuckDB thread (engine.ts) so that process CPU is DuckDB's work whatever the load:
 *   - the whole statement (prepare, bind, run, read into DuckDB's chunks: engine.ts);
 *   - `EXPLAIN` of it: everything but execution, and the rendering of the plan's text, which no
 *     check pays (the statement is re-bound with its values at execution: its parameter types are
 *     not all known at prepare);
 *   - `EXPLAIN` of the same WITH list ending in `SELECT count(*) FROM <cte>` for each named CTE:
 *     the planning of that CTE and everything it reads, so differences between CTEs show what each
 *     part of the statement adds; `bounds` (one row of parameters, reading nothing) is the floor of
 *     parsing and binding the whole WITH list's text;
 *   - then the whole statement under DuckDB's profiler (engine.ts `profile`): binding, optimisers and
 *     physical planning as DuckDB times them, against its operators' own time. These, not
 *     `EXPLAIN`, say what planning costs a check.
 * Prints medians (CPU and wall, ms) and the load average before and after (bench/README.md).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkParams } from '../src/check/inputs.js';
import { renderCheckSql } from '../src/sql/statements.js';
import { HISTORY_DAYS, syntheticRegistry } from './dataset.js';
import { benchInputs, buildHistoryDatabase } from './detection.js';
import { openEngine } from './engine.js';
import { median } from './stats.js';

/** The CTEs whose planning is reported, in the order they build on each other. */
const MILESTONES = [
  'bounds', 'selected_processors', 'run_states', 'day_runs', 'expected_days', 'baselines', 'day_status', 'noise_days',
  'window_last_success', 'last_success', 'first_expected_after_anchor', 'window_summary', 'problem_streaks', 'processor_verdict',
];

/** What the profiled runs report, by the metric names engine.ts `profile` returns. */
const PROFILE_LINES: [string, string][] = [
  ['binding (planner_binding)', 'planner_binding_ms'],
  ['logical planning (planner)', 'planner_ms'],
  ['optimisers (all_optimizers)', 'all_optimizers_ms'],
  ['physical planning (physical_planner)', 'physical_planner_ms'],
  ['operators, summed over threads', 'operators_ms'],
  ['latency (the whole statement)', 'latency_ms'],
];

function option(name: string, fallback: string): string {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return flag ? flag.slice(name.length + 3) : fallback;
}

/** `EXPLAIN` of the WITH list of processor_health_daily ending in a count of `cte`. */
function planOnly(sql: string, cte: string): string {
  const start = sql.indexOf('WITH\n');
  const end = sql.search(/\n\)\nSELECT\n {2}d\.processor_name,/);
  if (start < 0 || end < 0) throw new Error('the check statement no longer has the shape plan-cost.ts cuts at');
  return `EXPLAIN ${sql.slice(start, end + 2)}\nSELECT count(*) FROM ${cte}`;
}

async function main(): Promise<void> {
  const processors = Number(option('processors', '1000'));
  const days = Number(option('days', '7'));
  const runs = Number(option('runs', '11'));
  let path = option('file', '');
  if (!path || !existsSync(path)) {
    path ||= join(mkdtempSync(join(tmpdir(), 'pem-plan-cost-')), 'history.duckdb');
    process.stderr.write(`building ${processors} processors × ${HISTORY_DAYS} days in ${path}\n`);
    await buildHistoryDatabase(path, processors, HISTORY_DAYS);
  }
  const registry = syntheticRegistry(processors);
  const sql = renderCheckSql('duckdb', registry);
  const params = checkParams(benchInputs(registry, days), registry);
  const cases: [string, string][] = [
    ['whole statement', sql],
    ['EXPLAIN (planning)', `EXPLAIN ${sql}`],
    ...MILESTONES.map((cte): [string, string] => [`  plan to ${cte}`, planOnly(sql, cte)]),
  ];

  const engine = await openEngine(path, { threads: 1 });
  try {
    const loadBefore = loadavg()[0]!;
    const samples = cases.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
    for (const [, text] of cases) await engine.query(text, params); // warm-up
    for (let run = 0; run < runs; run++) {
      for (const [i, [, text]] of cases.entries()) {
        const cpu = process.cpuUsage();
        const started = performance.now();
        await engine.query(text, params);
        samples[i]!.wall.push(performance.now() - started);
        const used = process.cpuUsage(cpu);
        samples[i]!.cpu.push((used.user + used.system) / 1000);
      }
    }
    const profiles: Record<string, number>[] = [];
    for (let run = 0; run < runs; run++) profiles.push(await engine.profile(sql, params));
    console.log(`${processors} processors, ${days}-day window, ${sql.length} characters, median of ${runs}, 1 thread; load ${loadBefore.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`);
    for (const [i, [name]] of cases.entries()) {
      console.log(`${name.padEnd(38)} cpu ${median(samples[i]!.cpu).toFixed(1).padStart(7)} ms   wall ${median(samples[i]!.wall).toFixed(1).padStart(7)} ms`);
    }
    console.log("DuckDB's profiler, whole statement:");
    for (const [label, metric] of PROFILE_LINES) {
      const values = profiles.map((p) => p[metric]).filter((v): v is number => v !== undefined);
      console.log(`  ${label.padEnd(36)} ${values.length > 0 ? `${median(values).toFixed(1).padStart(7)} ms` : 'not reported by this DuckDB'}`);
    }
  } finally {
    engine.close();
  }
}

await main();
