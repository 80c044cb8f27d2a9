/**
 * `pem report --html <file>`: the check's result as one self-contained HTML page.
 *
 * Also home of what `report` and `gaps` share with `check`: the window, processor and warehouse
 * flags, and "load the registry, open the warehouse, run the check once".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { resolveCheckInputs } from '../check/inputs.js';
import type { CheckResult } from '../check/report.js';
import { runCheck } from '../check/run.js';
import type { Registry } from '../config/registry.js';
import { runtimeError } from '../errors.js';
import { renderHtmlReport } from '../report/html.js';
import { openWarehouse } from '../warehouse/open.js';
import { addWarehouseOptions, configOption, type CliContext } from './main.js';
import { loadCheckedRegistry } from './registry.js';

/** The flags of `pem check` that choose what is checked and where (SPEC §6). */
export interface CheckSelectionFlags {
  date?: string;
  lookbackDays?: string;
  processors?: string;
  config: string;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
  now?: string;
}

/** Adds `check`'s window, processor, registry and warehouse flags to a command. */
export function addCheckSelectionOptions(command: Command): Command {
  command
    .option('--date <YYYY-MM-DD>', 'end date E of the window (default: today in the registry time zone)')
    .option('--lookback-days <n>', 'window length L, 1-366 (default: 7)')
    .option('--processors <a,b>', 'only these registry keys (disabled ones included when named)')
    .addOption(configOption())
    .addOption(new Option('--now <ISO-8601>', 'evaluation instant, for tests and backtests (default: now)'));
  return addWarehouseOptions(command);
}

/** Runs the detection once, exactly as `pem check` does for the same flags; `clock` is the command's one clock reading. */
export async function checkFromFlags(
  flags: CheckSelectionFlags,
  context: CliContext,
  clock: Date,
): Promise<{ registry: Registry; result: CheckResult }> {
  const registry = await loadCheckedRegistry(flags.config);
  const inputs = resolveCheckInputs(
    { date: flags.date, lookbackDays: flags.lookbackDays, now: flags.now, processors: flags.processors },
    registry,
    clock,
  );
  const warehouse = await openWarehouse(flags, context.env, { create: false });
  try {
    return { registry, result: await runCheck(warehouse, registry, inputs) };
  } finally {
    await warehouse.close();
  }
}

/** Writes the report, creating its folder; a write failure is the monitor failing (exit 1). */
export function writeHtmlReport(path: string, result: CheckResult, registry: Registry, generatedAt: Date): void {
  const html = renderHtmlReport(result, { timezone: registry.timezone, generatedAt });
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, html, 'utf8');
  } catch (error) {
    throw runtimeError(`cannot write the HTML report to ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function registerReportCommand(program: Command, context: CliContext): void {
  const command = program
    .command('report')
    .description('write the health report (heatmap of day statuses, worst first) as one self-contained HTML file')
    .requiredOption('--html <file>', 'HTML file to write (its folder is created)');
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { html: string }) => {
    const clock = context.now();
    const { registry, result } = await checkFromFlags(flags, context, clock);
    writeHtmlReport(flags.html, result, registry, clock);
    const { report } = result;
    context.stdout.write(
      `wrote ${flags.html}: ${report.processors.length} processor${report.processors.length === 1 ? '' : 's'} x ` +
        `${report.lookback_days} day${report.lookback_days === 1 ? '' : 's'} (${report.window_start} .. ${report.window_end}), level ${report.level}\n`,
    );
  });
}
