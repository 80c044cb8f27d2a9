/**
 * `npm run bench`: speed and scale of the SQL-first design, measured side by side in one run
 * (issue 8). Prints one report on stdout (progress goes to stderr):
 *   1. the detection query over synthetic history (100, 1,000, 10,000 processors × 2 years),
 *      7-, 30- and 90-day windows;
 *   2. the seed's one-query-per-processor approach on the same data, and the ratio;
 *   3. `pem check` end to end on the demo database: wall time and peak RSS;
 *   4. Slack message and PagerDuty event building for 500 failing processors;
 *   5. the Cloud Run image: its size and cold start (skipped, with one line, without Docker);
 *   6. `pem backtest`: an hourly replay of 180 days over 100 processors × 2 years (issue 15);
 * then each target of the issue, met or not, with the figure.
 *
 * Options (flags win over environment variables):
 *   --tiny                      a seconds-long run for tests (20 processors, 1 run each)
 *   --sizes=100,1000,10000      BENCH_SIZES: processor counts
 *   --windows=7,30,90           BENCH_WINDOWS: window lengths in days
 *   --runs=5 --warmups=1        BENCH_RUNS / BENCH_WARMUPS: measured runs (median) and warm-ups
 *   --per-processor-max=1000    BENCH_PER_PROCESSOR_MAX: largest size to run the per-processor approach at
 *   --sections=1,2,3,4,5,6      BENCH_SECTIONS: which benchmarks to run (--tiny leaves out 5, the image)
 *   --backtest-days=180         BENCH_BACKTEST_DAYS: days the backtest replays (hourly)
 *   --json=PATH                 also write every figure as JSON
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { openDuckDb } from '../src/warehouse/duckdb.js';
import { benchAlerts, type AlertsResult } from './alerts.js';
import { benchBacktest, type BacktestBenchResult } from './backtest.js';
import { benchCheckE2e, type CheckE2eResult } from './check-e2e.js';
import { HISTORY_DAYS } from './dataset.js';
import { benchDetection, type DetectionResult } from './detection.js';
import { benchImage, type ImageResult } from './image.js';

export interface BenchOptions {
  sizes: number[];
  windows: number[];
  runs: number;
  warmups: number;
  perProcessorMax: number;
  perProcessorRuns: number;
  historyDays: number;
  sections: Set<number>;
  e2eRuns: number;
  alertFailing: number;
  backtestProcessors: number;
  backtestDays: number;
  json: string | null;
}

export interface BenchResults {
  environment: { node: string; duckdb: string; cpus: number; cpuModel: string; memoryGb: number; loadBefore: number[]; loadAfter: number[] };
  options: Omit<BenchOptions, 'sections'> & { sections: number[] };
  detection: DetectionResult[];
  checkE2e: CheckE2eResult | null;
  alerts: AlertsResult | null;
  image: ImageResult | null;
  backtest: BacktestBenchResult | null;
  targets: TargetResult[];
}

export interface TargetResult {
  name: string;
  limit: string;
  figure: string;
  met: boolean | null;
  /** For the detection targets: the same through pem's DuckDB adapter (JS rows included). */
  adapter?: { figure: string; met: boolean };
}

// No image section: building it belongs to the container tests (test/container), which run it too.
const TINY: Partial<BenchOptions> = {
  sizes: [20],
  windows: [7, 30],
  runs: 1,
  warmups: 1,
  perProcessorRuns: 1,
  e2eRuns: 1,
  alertFailing: 50,
  backtestProcessors: 20,
  backtestDays: 3,
  sections: new Set([1, 2, 3, 4, 6]),
};

const list = (value: string) =>
  value.split(',').map((s) => {
    const n = Number(s.trim().replace(/_/g, ''));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive whole number: '${s}'`);
    return n;
  });

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument '${arg}' (see bench/run.ts for the options)`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const known = ['tiny', 'sizes', 'windows', 'runs', 'warmups', 'per-processor-max', 'sections', 'backtest-days', 'json'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
  const pick = (flag: string, variable: string) => flags.get(flag) ?? env[variable];
  const tiny = flags.has('tiny') || env.BENCH_TINY === '1';
  const base: BenchOptions = {
    sizes: [100, 1000, 10000],
    windows: [7, 30, 90],
    runs: 5,
    warmups: 1,
    perProcessorMax: 1000,
    perProcessorRuns: 3,
    historyDays: HISTORY_DAYS,
    sections: new Set([1, 2, 3, 4, 5, 6]),
    e2eRuns: 5,
    alertFailing: 500,
    backtestProcessors: 100,
    backtestDays: 180,
    json: null,
    ...(tiny ? TINY : {}),
  };
  const sizes = pick('sizes', 'BENCH_SIZES');
  const windows = pick('windows', 'BENCH_WINDOWS');
  const runs = pick('runs', 'BENCH_RUNS');
  const warmups = pick('warmups', 'BENCH_WARMUPS');
  const perProcessorMax = pick('per-processor-max', 'BENCH_PER_PROCESSOR_MAX');
  const sections = pick('sections', 'BENCH_SECTIONS');
  const backtestDays = pick('backtest-days', 'BENCH_BACKTEST_DAYS');
  return {
    ...base,
    ...(sizes ? { sizes: list(sizes) } : {}),
    ...(windows ? { windows: list(windows) } : {}),
    ...(runs ? { runs: list(runs)[0]!, e2eRuns: list(runs)[0]! } : {}),
    ...(warmups !== undefined ? { warmups: Number(warmups) } : {}),
    ...(perProcessorMax ? { perProcessorMax: list(perProcessorMax)[0]! } : {}),
    ...(sections ? { sections: new Set(list(sections)) } : {}),
    ...(backtestDays ? { backtestDays: list(backtestDays)[0]! } : {}),
    json: flags.get('json') ?? env.BENCH_JSON ?? null,
  };
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const loadBefore = loadavg();
  const detection: DetectionResult[] = [];
  if (options.sections.has(1) || options.sections.has(2)) {
    for (const processors of options.sizes) {
      progress(`detection: ${processors} processors × ${options.historyDays} days`);
      detection.push(
        await benchDetection({
          processors,
          historyDays: options.historyDays,
          windows: options.sections.has(1) ? options.windows : [7],
          warmups: options.warmups,
          runs: options.runs,
          perProcessor: options.sections.has(2) && processors <= options.perProcessorMax,
          perProcessorRuns: options.perProcessorRuns,
        }),
      );
    }
  }
  let checkE2e: CheckE2eResult | null = null;
  if (options.sections.has(3)) {
    progress('pem check end to end on the demo database');
    checkE2e = await benchCheckE2e({ warmups: options.warmups, runs: options.e2eRuns });
  }
  let alerts: AlertsResult | null = null;
  if (options.sections.has(4)) {
    progress(`alert building for ${options.alertFailing} failing processors`);
    alerts = benchAlerts({ failing: options.alertFailing, warmups: Math.max(1, options.warmups), runs: Math.max(5, options.runs) });
  }
  let image: ImageResult | null = null;
  if (options.sections.has(5)) {
    progress('the Cloud Run image: build, size, cold start');
    image = benchImage({ runs: Math.max(3, options.runs) });
    if (image.skipped !== null) progress(`image section skipped: ${image.skipped}`);
  }
  let backtest: BacktestBenchResult | null = null;
  if (options.sections.has(6)) {
    progress(`backtest: ${options.backtestDays} days hourly, ${options.backtestProcessors} processors × ${options.historyDays} days`);
    backtest = await benchBacktest({ processors: options.backtestProcessors, historyDays: options.historyDays, days: options.backtestDays });
  }
  const results: BenchResults = {
    environment: await environment(loadBefore),
    options: { ...options, sections: [...options.sections].sort() },
    detection,
    checkE2e,
    alerts,
    image,
    backtest,
    targets: [],
  };
  results.targets = evaluateTargets(results);
  return results;
}

async function environment(loadBefore: number[]) {
  const warehouse = await openDuckDb({ path: ':memory:', create: true });
  const [row] = await warehouse.query('SELECT version() AS v');
  await warehouse.close();
  return {
    node: process.version,
    duckdb: String(row?.v ?? '?'),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadBefore,
    loadAfter: loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// Targets (issue 8), on this machine.

export function evaluateTargets(results: BenchResults): TargetResult[] {
  const at = (processors: number) => results.detection.find((d) => d.processors === processors);
  const window = (processors: number, days: number) => at(processors)?.windows.find((w) => w.days === days);
  const limitMs = (name: string, processors: number, days: number, limit: number): TargetResult => {
    const w = window(processors, days);
    if (w === undefined) return { name, limit: `≤ ${limit} ms`, figure: 'not measured in this run', met: null };
    return {
      name,
      limit: `≤ ${limit} ms`,
      figure: `${ms(w.engine.median)} ms`,
      met: w.engine.median <= limit,
      adapter: { figure: `${ms(w.adapter.median)} ms`, met: w.adapter.median <= limit },
    };
  };
  const perProcessor = at(1000)?.perProcessor;
  const e2e = results.checkE2e;
  return [
    limitMs('7-day check, 1,000 processors × 2 years (warm)', 1000, 7, 60),
    limitMs('90-day check, 1,000 processors × 2 years (warm)', 1000, 90, 250),
    limitMs('7-day check, 10,000 processors × 2 years (warm)', 10000, 7, 600),
    !perProcessor
      ? { name: 'one query vs per-processor, 1,000 processors', limit: '≥ 20×', figure: 'not measured in this run', met: null }
      : {
          name: 'one query vs per-processor, 1,000 processors',
          limit: '≥ 20×',
          figure: perProcessor.ratioToEngine === null ? '-' : `${perProcessor.ratioToEngine.toFixed(1)}×`,
          met: perProcessor.ratioToEngine === null ? null : perProcessor.ratioToEngine >= 20,
          adapter: { figure: `${perProcessor.ratio.toFixed(1)}×`, met: perProcessor.ratio >= 20 },
        },
    e2e === null
      ? { name: '`pem check` on the demo, wall', limit: '≤ 1,500 ms', figure: 'not measured in this run', met: null }
      : { name: '`pem check` on the demo, wall', limit: '≤ 1,500 ms', figure: `${ms(e2e.wall.median)} ms`, met: e2e.wall.median <= 1500 },
    backtestTarget(results.backtest),
    e2e === null
      ? { name: '`pem check` on the demo, peak RSS', limit: '≤ 250 MB', figure: 'not measured in this run', met: null }
      : { name: '`pem check` on the demo, peak RSS', limit: '≤ 250 MB', figure: `${e2e.maxPeakRssMb.toFixed(0)} MB`, met: e2e.maxPeakRssMb <= 250 },
  ];
}

/** Issue 15: a 180-day hourly backtest over 100 processors × 2 years in ≤ 60 s. */
function backtestTarget(b: BacktestBenchResult | null): TargetResult {
  const name = '`pem backtest`, 180 days hourly, 100 processors × 2 years';
  if (b === null) return { name, limit: '≤ 60 s', figure: 'not measured in this run', met: null };
  const figure = `${(b.milliseconds / 1000).toFixed(1)} s`;
  if (b.days !== 180 || b.processors !== 100) return { name, limit: '≤ 60 s', figure: `${figure} (${b.days} days × ${b.processors} processors: not the target's size)`, met: null };
  return { name, limit: '≤ 60 s', figure, met: b.milliseconds <= 60_000 };
}

// ---------------------------------------------------------------------------------------------
// The report.

function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

const count = (n: number) => n.toLocaleString('en-US');

/** A Markdown table; columns of numbers are right-aligned. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^(-|[\d,.]+( ?(ms|MB|×))?)$/.test(r[i] ?? '')));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${numeric[i] ? ':' : '-'}`).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function formatReport(results: BenchResults): string {
  const { environment: env, options } = results;
  const out: string[] = [];
  out.push('# pem benchmark');
  out.push('');
  out.push(
    `DuckDB ${env.duckdb}, Node ${env.node}, ${env.cpus} × ${env.cpuModel}, ${env.memoryGb} GB; ` +
      `load average ${env.loadBefore[0]!.toFixed(2)} before, ${env.loadAfter[0]!.toFixed(2)} after. ` +
      `Medians of ${options.runs} run(s) after ${options.warmups} warm-up(s).`,
  );

  if (results.detection.length > 0) {
    const windows = [...new Set(results.detection.flatMap((d) => d.windows.map((w) => w.days)))].sort((a, b) => a - b);
    const cell = (d: DetectionResult, days: number, pick: 'engine' | 'adapter') => {
      const w = d.windows.find((x) => x.days === days);
      return w ? ms(w[pick].median) : '-';
    };
    out.push('');
    out.push(`## 1. Detection query (the rendered \`pem check\` statement), ${options.historyDays} days of history`);
    out.push('');
    out.push('Engine: prepare, bind, run and read the result in DuckDB (ms).');
    out.push('');
    out.push(
      table(
        ['processors', 'history rows', 'generate (s)', 'render (ms)', ...windows.map((w) => `${w}-day`), 'levels (first window)'],
        results.detection.map((d) => [
          count(d.processors),
          count(d.historyRows),
          (d.generateMs / 1000).toFixed(1),
          ms(d.renderMs.median),
          ...windows.map((w) => cell(d, w, 'engine')),
          Object.entries(d.levels)
            .sort()
            .map(([k, v]) => `${k} ${count(v)}`)
            .join(', '),
        ]),
      ),
    );
    out.push('');
    out.push("Through pem's DuckDB adapter (`Warehouse.query`: the same, plus every value turned into a JS object) (ms).");
    out.push('');
    out.push(
      table(
        ['processors', ...windows.map((w) => `${w}-day`), ...windows.map((w) => `${w}-day rows`)],
        results.detection.map((d) => [
          count(d.processors),
          ...windows.map((w) => cell(d, w, 'adapter')),
          ...windows.map((w) => count(d.windows.find((x) => x.days === w)?.rows ?? 0)),
        ]),
      ),
    );
  }

  const compared = results.detection.filter((d) => d.perProcessor !== null);
  if (compared.length > 0) {
    out.push('');
    out.push('## 2. One query vs one query per processor (seed approach), 7-day window, same data');
    out.push('');
    out.push('The per-processor approach runs through the adapter (it combines JS rows in TypeScript); the one query is shown both ways.');
    out.push('');
    out.push(
      table(
        ['processors', 'per-processor (ms)', 'one query, adapter (ms)', 'ratio', 'one query, engine (ms)', 'ratio', 'same answers'],
        compared.map((d) => {
          const p = d.perProcessor!;
          const engine7 = d.windows.find((w) => w.days === 7)?.engine.median;
          return [
            count(d.processors),
            ms(p.timing.median),
            ms(p.oneQuery.median),
            `${p.ratio.toFixed(1)}×`,
            engine7 === undefined ? '-' : ms(engine7),
            p.ratioToEngine === null ? '-' : `${p.ratioToEngine.toFixed(1)}×`,
            p.disagreements === 0 ? 'yes' : `NO (${p.disagreements} processors differ)`,
          ];
        }),
      ),
    );
    const skipped = results.detection.filter((d) => d.perProcessor === null).map((d) => count(d.processors));
    if (skipped.length > 0) out.push(`\nPer-processor approach not run at ${skipped.join(', ')} processors (--per-processor-max=${options.perProcessorMax}).`);
  }

  if (results.checkE2e) {
    const e = results.checkE2e;
    out.push('');
    out.push('## 3. `pem check` end to end on the demo database (a new process each run)');
    out.push('');
    out.push(
      table(
        ['processors', 'wall median (ms)', 'wall runs (ms)', 'peak RSS max (MB)', 'RSS from', 'CLI'],
        [[count(e.processors), ms(e.wall.median), e.wall.samples.map(ms).join(', '), e.maxPeakRssMb.toFixed(0), e.rssSource, e.cli === 'dist' ? 'bin/pem.js (dist)' : 'src via tsx (dist stale)']],
      ),
    );
  }

  if (results.alerts) {
    const a = results.alerts;
    out.push('');
    out.push(`## 4. Alert building for ${count(a.failing)} failing processors (src/alerts builders)`);
    out.push('');
    out.push(
      table(
        ['builder', 'median (ms)', 'output'],
        [
          [
            'Slack message (Block Kit)',
            ms(a.slack.median),
            `${a.slack.blocks} blocks, ${count(a.slack.textChars)} text chars, ${a.slack.detailed} detailed + ${a.slack.summarized} in "…and N more"; within Slack limits: ${a.slack.withinLimits ? 'yes' : 'NO'}`,
          ],
          ['PagerDuty events (v2 trigger)', ms(a.pagerDuty.median), `${count(a.pagerDuty.events)} events, ${count(a.pagerDuty.jsonBytes)} bytes of JSON`],
        ],
      ),
    );
  }

  if (results.image) out.push('', ...formatImage(results.image));
  if (results.backtest) {
    const b = results.backtest;
    out.push('');
    out.push(`## 6. \`pem backtest\`: ${count(b.days)} days, a check every hour, ${count(b.processors)} processors × ${count(b.historyDays)} days of history`);
    out.push('');
    out.push('Detection queries run only where something changed (a row started or ended, a date became due, a run went hung, E moved); every other check carries results forward.');
    out.push('');
    out.push(
      table(
        ['history rows', 'checks', 'detection queries', 'warehouse (ms)', 'simulation (ms)', 'total (ms)', 'pages', 'Slack messages', 'problem dates'],
        [[count(b.historyRows), count(b.checks), count(b.queries), ms(b.queryMs), ms(b.simulateMs), ms(b.milliseconds), count(b.totals.pages), count(b.totals.slack_messages), count(b.totals.problem_dates)]],
      ),
    );
  }

  out.push('');
  out.push('## Targets');
  out.push('');
  const verdict = (met: boolean | null | undefined) => (met === null || met === undefined ? '-' : met ? 'yes' : 'NO');
  out.push(
    table(
      ['target', 'limit', 'measured (engine)', 'met', 'via adapter', 'met'],
      results.targets.map((t) => [t.name, t.limit, t.figure, verdict(t.met), t.adapter?.figure ?? '-', verdict(t.adapter?.met)]),
    ),
  );
  return `${out.join('\n')}\n`;
}

export function formatImage(image: ImageResult): string[] {
  const heading = '## 5. The Cloud Run image (Dockerfile, `docker run IMAGE --help`)';
  if (image.skipped !== null) return [heading, '', `Skipped: ${image.skipped}.`];
  return [
    heading,
    '',
    table(
      ['image', 'size (MB)', 'build (s)', 'first start (ms)', 'start median (ms)', 'start runs (ms)'],
      [[image.tag, image.sizeMb.toFixed(0), image.buildSeconds.toFixed(1), ms(image.firstStartMs), ms(image.start.median), image.start.samples.map(ms).join(', ')]],
    ),
    '',
    'Build: scripts/docker-engine.sh image (cached layers make a rebuild of an unchanged checkout quick). Start: container created, node started, the CLI loaded, exit.',
  ];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const results = await runBench(options);
  process.stdout.write(formatReport(results));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
