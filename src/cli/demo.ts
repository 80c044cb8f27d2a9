/**
 * `pem demo`: builds a DuckDB file with a season of realistic history and runs the check on it,
 * so a newcomer sees the product work in one command, with no cloud and no setup.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { sendingNothing } from '../alerts/deliver.js';
import { runBacktest } from '../backtest/replay.js';
import { addDays } from '../calendar.js';
import { isAcceptedDate, todayIn } from '../check/inputs.js';
import { runCheck } from '../check/run.js';
import { DEMO_SEASON, buildDemoHistory } from '../demo/history.js';
import { runHistoryTable } from '../config/names.js';
import type { Registry } from '../config/registry.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { renderSchemaSql } from '../sql/statements.js';
import { openDuckDb } from '../warehouse/duckdb.js';
import { addExamples, type CliContext } from './context.js';
import { chosenFormat, formatOption } from './format.js';
import { startProgress, type Progress } from './progress.js';
import { CHECK_FORMATS, commandContext, prepareCheck, writeCheckResult, type CheckFormat, type PreparedCheck } from './selection.js';
import { writeHtmlReport } from './report.js';
import { plural, shellWord } from '../printable.js';
import { MONITOR_PROCESSOR } from './self-record.js';

export const DEMO_DATABASE = '.pem/demo.duckdb';
/** The demo ends with a backtest of the week before today (SPEC §13): what its registry would have sent. */
const DEMO_BACKTEST_WEEKS = 1;
export const DEMO_REGISTRY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'processors.json');

export function registerDemoCommand(program: Command, context: CliContext): void {
  const command = program
    .command('demo')
    .description('build a local DuckDB with a season of realistic run history and check it')
    .addOption(
      new Option('--database <path>', 'DuckDB file to (re)build').default(DEMO_DATABASE).argParser((value: string) => {
        // An empty variable expanded (--database "$DB"): not a file name, and not the default either.
        if (value.trim() === '') throw new InvalidArgumentError(`An empty name is no file: give the file to build, for example --database ${DEMO_DATABASE}`);
        return value;
      }),
    )
    .option('--json-output', 'print the JSON document instead of the report (same as --format json)')
    .addOption(formatOption(CHECK_FORMATS, 'json'))
    .addOption(new Option('--now <ISO-8601>', 'pretend it is this instant (default: now)'));
  addExamples(command, [
    ['pem demo', 'build .pem/demo.duckdb, print the report, write .pem/demo-report.html'],
    ['pem demo --json-output | jq .level', 'the same check as the JSON document'],
    ['pem demo --now 2026-03-01T12:00:00Z', 'the season as it looked at another instant'],
  ]);
  command.action(async (flags: DemoFlags, self: Command) => {
    const format = chosenFormat(self, flags);
    // DuckDB's settings are read before the file is rebuilt: a bad one stops the demo with nothing
    // done. The alert ones are pem check's alone: the demo sends nothing.
    const { memoryLimit } = context.settings.duckDb;
    const prepared = await prepareCheck({ config: DEMO_REGISTRY, now: flags.now }, context.now());
    const progress = startProgress(context, 'building a season of run history');
    try {
      await buildAndCheck(flags, format, prepared, context, progress, memoryLimit);
    } finally {
      progress.done();
    }
  });
}

interface DemoFlags {
  database: string;
  jsonOutput?: boolean;
  format: CheckFormat;
  now?: string;
}

async function buildAndCheck(
  flags: DemoFlags,
  format: CheckFormat,
  { registry, inputs }: PreparedCheck,
  context: CliContext,
  progress: Progress,
  memoryLimit: string | null,
): Promise<void> {
  const history = buildDemoHistory(inputs.endDate, inputs.now);
  await refuseAnythingButADemo(flags.database, registry);
  progress.step(`writing ${history.runs.length} run rows to ${flags.database}`);
  // Built beside it and renamed over it once whole: a demo stopped halfway (Ctrl-C, SIGTERM, a kill)
  // leaves the last demo as it was, not a file without its tables that the next demo would refuse.
  // One name per target: what a killed build left is removed before the next one starts (of two
  // demos building one target at the same moment, one fails).
  const building = join(dirname(flags.database), `.${basename(flags.database)}.building`);
  const removeBuilding = () => {
    for (const suffix of ['', '.wal']) rmSync(`${building}${suffix}`, { force: true });
  };
  removeBuilding();
  // A stop (Ctrl-C, SIGTERM) ends the process without unwinding this function.
  process.once('exit', removeBuilding);
  try {
    const builder = await openDuckDb({ path: building, create: true, memoryLimit });
    try {
      for (const statement of renderSchemaSql('duckdb', registry)) await builder.execute(statement);
      await builder.insertRunRows(runHistoryTable(registry), history.runs);
      await builder.execute(
        `CREATE TABLE ${registry.dataset}.game_schedule AS SELECT CAST(unnest($dates) AS DATE) AS game_date, $season AS season`,
        { dates: { type: 'ARRAY<STRING>', value: history.gameDates }, season: { type: 'STRING', value: DEMO_SEASON } },
      );
    } finally {
      await builder.close();
    }
    rmSync(`${flags.database}.wal`, { force: true });
    renameSync(building, flags.database);
  } finally {
    removeBuilding();
    process.removeListener('exit', removeBuilding);
  }
  // Written through the spinner's hook on stderr: it lands above the progress line.
  context.log.info(
    `built ${flags.database}: ${registry.processors.length} processors, ${history.runs.length} run rows over a ${history.gameDates.length}-game season`,
  );
  const warehouse = await openDuckDb({ path: flags.database, create: false, memoryLimit });
  try {
    progress.step(`checking ${inputs.processors.length} processors`);
    // The demo sends nothing: its alerts say so, as a dry run's do (SPEC §11).
    const result = sendingNothing(await runCheck(warehouse, registry, inputs));
    const reportPath = join(dirname(flags.database), 'demo-report.html');
    progress.step(`writing ${reportPath}`);
    // Generated now, evaluated at --now (as `pem report` says both).
    const command = commandContext({ config: relative(process.cwd(), DEMO_REGISTRY) || DEMO_REGISTRY, engine: 'duckdb', database: flags.database }, context.settings, result.report);
    writeHtmlReport(reportPath, result, registry, context.now(), command);
    progress.done();
    await writeCheckResult(result, context, format, registry.timezone);
    if (format !== 'table') {
      context.log.info(`wrote the HTML report: ${reportPath}`);
      return;
    }
    // Paths as shell words: the lines below are for pasting into a shell, whatever the folder's name.
    // --dry-run: without it, a check sends to any Slack webhook or PagerDuty key set in the
    // environment and writes what it delivered and its own run into the demo's file.
    const registryPath = shellWord(relative(process.cwd(), DEMO_REGISTRY) || DEMO_REGISTRY);
    const database = shellWord(flags.database);
    // The demo's history is made for its --now: a check without it reads that history at another instant.
    const now = flags.now === undefined ? '' : ` --now ${shellWord(flags.now)}`;
    context.stdout.write(
      `\nNext: pem check --config ${registryPath} --database ${database} --dry-run --lookback-days 14${now}` +
        `\n      pem check --config ${registryPath} --database ${database} --dry-run --json-output${now}\n`,
    );
    context.stdout.write(`\nHTML report: ${reportPath} (open it in a browser; pem report --html <file> writes one for any window)\n`);
    // SPEC §13: what this registry would have sent over the week before today, checked hourly.
    const from = addDays(inputs.endDate, -DEMO_BACKTEST_WEEKS * 7);
    const to = addDays(inputs.endDate, -1);
    const backtest = await runBacktest(warehouse, registry, { from, to, everyMs: 3_600_000, lookbackDays: inputs.lookbackDays, processors: inputs.processors });
    // Whole counts over the period replayed ("2 pages", not the mean "2.0 per week").
    const period = DEMO_BACKTEST_WEEKS === 1 ? 'the week' : `the ${DEMO_BACKTEST_WEEKS} weeks`;
    // pem backtest replays up to today only, and from 1900: a demo --now later than today, or in
    // the first week of 1900, has no command to offer.
    const replayable = to <= todayIn(registry.timezone, context.now()) && isAcceptedDate(from);
    context.stdout.write(
      `\nBacktest ${from} .. ${to}, hourly: ${plural(backtest.totals.pages, 'PagerDuty page')} and ${plural(backtest.totals.slack_messages, 'Slack message')} in ${period}, ` +
        `${backtest.totals.never_alerted_dates} problem dates never alerted` +
        (replayable ? `\n      pem backtest --config ${registryPath} --database ${database} --from ${from} --to ${to} [--compare OTHER_REGISTRY]\n` : '\n'),
    );
  } finally {
    await warehouse.close();
  }
}

/**
 * `pem demo` rebuilds its file from scratch, so a `--database` that holds anything else is
 * refused (exit 2) before it is removed: a typo must not cost a registry or a run history. A demo's
 * file is a DuckDB database with the demo season's game schedule, whose run history holds only the
 * demo registry's processors and pem check's record of itself (so one where `pem check`, `pem
 * silence` or `pem record` was tried out on the demo's processors passes too).
 */
async function refuseAnythingButADemo(path: string, registry: Registry): Promise<void> {
  if (!existsSync(path)) return;
  const refuse = (why: string) =>
    usageError(`--database ${path} exists and is not a database pem demo built (${why}): pem demo rebuilds its file from scratch, so name another file, or remove this one yourself`);
  if (statSync(path).isDirectory()) throw refuse('it is a folder');
  let warehouse;
  try {
    warehouse = await openDuckDb({ path, create: false });
  } catch (error) {
    const said = describeError(error);
    if (said.includes('holds the file')) throw runtimeError(`cannot rebuild ${path}: another process holds it; try again when it has finished`);
    throw refuse(/not a (valid )?DuckDB database file/.test(said) ? 'it is not a DuckDB database file' : said);
  }
  try {
    const runHistory = runHistoryTable(registry);
    const schedule = `${registry.dataset}.game_schedule`;
    const [historyColumns, scheduleColumns] = [await warehouse.tableColumns(runHistory), await warehouse.tableColumns(schedule)];
    const missing = [historyColumns.length === 0 ? runHistory : null, scheduleColumns.length === 0 ? schedule : null].filter(Boolean);
    if (missing.length > 0) throw refuse(`it has no ${missing.join(' nor ')}`);
    // The demo's schedule is of its own season: a real game schedule (this is an NBA project) is not.
    const seasons = scheduleColumns.some((c) => c.name === 'season')
      ? await warehouse.query(`SELECT DISTINCT CAST(season AS VARCHAR) AS season FROM ${schedule}`)
      : [{ season: null }];
    if (seasons.some((row) => row.season !== DEMO_SEASON)) throw refuse(`its ${schedule} is not the demo's ${DEMO_SEASON} season`);
    // The demo's processors, and pem check's record of itself (the demo suggests a check on it).
    const demoProcessors = [...registry.processors.map((p) => p.name), MONITOR_PROCESSOR];
    const others = await warehouse.query(
      `SELECT DISTINCT processor_name FROM ${runHistory} WHERE NOT list_contains($demo, processor_name) ORDER BY 1 LIMIT 4`,
      { demo: { type: 'ARRAY<STRING>', value: demoProcessors } },
    );
    if (others.length > 0) {
      const shown = others.slice(0, 3).map((row) => String(row.processor_name));
      throw refuse(`its run history has processors the demo does not have: ${shown.join(', ')}${others.length > 3 ? ', …' : ''}`);
    }
  } finally {
    await warehouse.close();
  }
}
