/**
 * `pem backtest` (SPEC §13): replays `pem check` over a period at a cadence with alert state,
 * reminders, recoveries, thresholds, dependencies and silences simulated, and reports what it
 * would have sent. Sends nothing and writes nothing; reads the warehouse as of each instant.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_LOOKBACK_DAYS, parseDate, parseLookbackDays, selectProcessors, todayIn, withUpstreams } from '../check/inputs.js';
import { PemError, describeError, runtimeError, usageError } from '../errors.js';
import { plural } from '../printable.js';
import { parseEvery } from '../backtest/cadence.js';
import { BACKTEST_FORMATS, renderBacktestCsv, renderBacktestJson, renderBacktestText, type BacktestFormat, type BacktestReport } from '../backtest/render.js';
import { runBacktest } from '../backtest/replay.js';
import { runCheck } from '../check/run.js';
import { openWarehouse } from '../warehouse/open.js';
import { addExamples, addWarehouseOptions, configOption, joinRepeated, type CliContext } from './context.js';
import { chosenFormat, formatOption } from './format.js';
import { withProgress } from './progress.js';
import { localTime } from '../local-time.js';
import { loadCheckedRegistry } from './registry.js';
import { projectQualifiedKeys, type ProcessorConfig, type Registry } from '../config/registry.js';
import { RUNNER_KEYS } from '../check/deployed.js';

interface BacktestFlags {
  from: string;
  to: string;
  every: string;
  config: string;
  compare?: string;
  lookbackDays?: string;
  processors?: string;
  jsonOutput?: boolean;
  format: BacktestFormat;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
}

const RENDERERS: Record<BacktestFormat, (report: BacktestReport) => string> = { table: renderBacktestText, json: renderBacktestJson, csv: renderBacktestCsv };

export function registerBacktestCommand(program: Command, context: CliContext): void {
  const command = program
    .command('backtest')
    .description('replay pem check over a period: pages, Slack messages, never-alerted dates, flaps and detection latency')
    .requiredOption('--from <YYYY-MM-DD>', 'first date of the period (its 00:00 in the registry time zone)')
    .requiredOption('--to <YYYY-MM-DD>', 'last date of the period (to its end; today at the latest, then to now)')
    .addOption(new Option('--every <interval>', 'cadence of the checks, whole minutes from 5m to 24h: 1h, 30m, 1h30m').default('1h'))
    .addOption(configOption())
    .option('--compare <path>', 'a second registry, replayed on the same history and shown side by side')
    .option('--lookback-days <n>', `window length L of each check, 1-366 (default: ${DEFAULT_LOOKBACK_DAYS})`)
    .option('--processors <a,b>', 'only these registry keys (disabled ones included when named; repeatable)', joinRepeated)
    .option('--json-output', 'print the figures as JSON on stdout and nothing else (same as --format json)')
    .addOption(formatOption(BACKTEST_FORMATS, 'csv'));
  addExamples(command, [
    ['pem backtest --from 2025-10-01 --to 2025-11-30', 'what the registry would have paged and posted over two months, checked hourly'],
    ['pem backtest --from 2025-10-01 --to 2025-11-30 --compare includes/processors.tuned.js', 'tune a threshold: both registries side by side on the same history'],
    ['pem backtest --from 2025-11-01 --to 2025-11-07 --every 15m --json-output', 'the same figures as JSON, at a 15-minute cadence'],
    ['pem backtest --from 2025-10-01 --to 2025-11-30 --format csv > backtest.csv', 'one CSV line per total, week and processor, for a spreadsheet'],
  ]);
  addWarehouseOptions(command).action(async (flags: BacktestFlags, self: Command) => {
    // A contradiction between --json-output and --format is bad usage before any replay.
    const format = chosenFormat(self, flags);
    const report = await backtestReport(flags, context);
    context.stdout.write(RENDERERS[format](report));
  });
}

/**
 * Where two registries differ in what detection reads: `processors.a.staleness_threshold_days`,
 * the dataset. A processor only one of them has is no difference: that replay checks one fewer.
 */
export function detectionDifferences(a: Registry, b: Registry): string[] {
  const differences: string[] = [];
  if (a.dataset !== b.dataset) differences.push('dataset');
  const byName = new Map(b.processors.map((p) => [p.name, p]));
  for (const p of a.processors) {
    const other = byName.get(p.name);
    if (!other) continue;
    for (const key of Object.keys(p) as (keyof ProcessorConfig)[]) {
      if (!RUNNER_KEYS.has(key) && JSON.stringify(p[key]) !== JSON.stringify(other[key])) differences.push(`processors.${p.name}.${key}`);
    }
  }
  return differences;
}

const PROGRESS_EVERY_MS = 100;

/** `error`, saying which registry it is about (`--compare b.json: …`), with its exit code kept. */
function fromRegistry(error: unknown, registry: string): unknown {
  if (error instanceof PemError) {
    const named = new PemError(error.code, `${registry}: ${error.message}`, error.details);
    named.cause = error;
    return named;
  }
  const named = runtimeError(`${registry}: ${describeError(error)}`);
  named.cause = error;
  return named;
}

export async function backtestReport(flags: BacktestFlags, context: CliContext): Promise<BacktestReport> {
  const from = parseDate(flags.from, '--from');
  const to = parseDate(flags.to, '--to');
  if (to < from) throw usageError(`--to ${to} is before --from ${from}`);
  const everyMs = parseEvery(flags.every);
  const lookbackDays = flags.lookbackDays === undefined ? DEFAULT_LOOKBACK_DAYS : parseLookbackDays(flags.lookbackDays);
  // What pem check warns of in a registry (a dependency on a disabled processor, ignored) shapes the
  // replay as much: said the same way, naming the registry when there are two.
  const noteOf = (flag: string, path: string) => (note: string) => context.log.warn(flags.compare !== undefined ? `${flag} ${path}: ${note}` : note);
  const loaded = [{ path: flags.config, registry: await loadCheckedRegistry(flags.config, { onNote: noteOf('--config', flags.config) }) }];
  if (flags.compare !== undefined) loaded.push({ path: flags.compare, registry: await loadCheckedRegistry(flags.compare, { flag: '--compare', onNote: noteOf('--compare', flags.compare) }) });
  const timezone = loaded[0]!.registry.timezone;
  const registries = loaded.map(({ path, registry }, i) => {
    if (registry.timezone !== timezone) throw usageError(`--compare ${path}: its time zone ${registry.timezone} differs from ${timezone}; the two replays would not check at the same instants`);
    // With two registries, an error says which one it is about.
    const named = (error: unknown) => (flags.compare !== undefined ? fromRegistry(error, `${i === 0 ? '--config' : '--compare'} ${path}`) : error);
    let processors: string[];
    try {
      processors = selectProcessors(registry, flags.processors);
    } catch (error) {
      throw named(error);
    }
    // As pem check says it: a replay of nothing reads as a quiet period.
    if (processors.length === 0) context.log.warn(`no processor of ${path} is enabled: nothing is replayed, so nothing can read as sent`);
    return { path, registry, processors, named };
  });
  // A check dated after today sees the history as it is now, with every later date missing: its
  // pages and problem dates would be made up.
  const today = todayIn(timezone, context.now());
  if (to > today) throw usageError(`--to ${to} is after today (${today} in ${timezone}): a backtest replays checks that could have run, so end it today at the latest`);

  const warehouse = await openWarehouse(flags, context.settings, {
    create: false,
    // A replay writes nothing: its alert state is simulated.
    readsOnly: true,
    warn: (message) => context.log.warn(message),
    atStop: context.stop.atStop,
    projectKeys: registries.flatMap(({ registry, processors }) => projectQualifiedKeys(registry, withUpstreams(registry, processors))),
  });
  try {
    if (flags.compare !== undefined && warehouse.detectsWithDeployedRegistry) {
      const differences = detectionDifferences(registries[0]!.registry, registries[1]!.registry);
      if (differences.length > 0) {
        throw usageError(
          `--compare ${flags.compare}: ${differences.slice(0, 3).join(', ')}${differences.length > 3 ? ` and ${differences.length - 3} more` : ''} differ from ${flags.config}, ` +
            `but ${warehouse.description} detects with the registry Dataform deployed, so both replays would show the same: ` +
            `there, compare only alert_after_dates (alert_within_dates unchanged) and renotify_hours (docs/noise.md)`,
        );
      }
    }
    // Each registry's tables read once, as pem check reads them, before anything is replayed: one
    // that misreads them (a filter or field naming a column the table lacks, a missing table) is
    // named with its processors and keys, as check, gaps and report name them, and before the other
    // registry has been replayed for nothing. Its result is not used.
    for (const { registry, processors, named } of registries) {
      if (processors.length === 0) continue;
      await runCheck(warehouse, registry, { endDate: to, windowStart: to, lookbackDays: 1, now: context.now(), processors }).catch((error: unknown) => {
        throw named(error);
      });
    }
    const runs: BacktestReport['runs'] = [];
    for (const { path, registry, processors, named } of registries) {
      const started = performance.now();
      let shownAt = 0;
      const run = await withProgress(context, `replaying ${path}`, (progress) =>
        runBacktest(warehouse, registry, {
          from,
          to,
          everyMs,
          lookbackDays,
          processors,
          until: context.now(),
          // Most checks carry results forward in microseconds: redraw at most ten times a second.
          onCheck: (done, total, at) => {
            if (done < total && performance.now() - shownAt < PROGRESS_EVERY_MS) return;
            shownAt = performance.now();
            // In the registry's time zone, as the report's dates and the alerts' times are.
            progress.step(`replaying ${path}: check ${done} of ${total} (${localTime(at.toISOString(), registry.timezone)})`);
          },
        }).catch((error: unknown) => {
          // What the read above could not foresee (a value of another day that cannot be cast).
          throw named(error);
        }),
      );
      context.log.info(`backtest ${path}: ${plural(run.checks, 'check')} replayed with ${run.queries} detection quer${run.queries === 1 ? 'y' : 'ies'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      runs.push({ config: path, ...run });
    }
    return { from, to, every_minutes: everyMs / 60_000, lookback_days: lookbackDays, timezone, runs };
  } finally {
    await warehouse.close();
  }
}
