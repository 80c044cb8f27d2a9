/** `pem check`: the job. Detects, lists alerts, prints the report or the JSON document. */
import { Option, type Command } from 'commander';
import { resolveCheckInputs } from '../check/inputs.js';
import { deliverAlerts } from '../alerts/deliver.js';
import { runCheck } from '../check/run.js';
import { renderTerminalReport } from '../check/terminal.js';
import { runMonitoredCheck } from '../record/monitor.js';
import { openWarehouse } from '../warehouse/open.js';
import { addWarehouseOptions, configOption, type CliContext } from './main.js';
import { loadCheckedRegistry } from './registry.js';

export interface CheckFlags {
  date?: string;
  lookbackDays?: string;
  processors?: string;
  dryRun?: boolean;
  jsonOutput?: boolean;
  config: string;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
  now?: string;
}

export function registerCheckCommand(program: Command, context: CliContext): void {
  const command = program
    .command('check')
    .description('check every processor over a window of dates and list the alerts')
    .option('--date <YYYY-MM-DD>', 'end date E of the window (default: today in the registry time zone)')
    .option('--lookback-days <n>', 'window length L, 1-366 (default: 7)')
    .option('--processors <a,b>', 'only these registry keys (disabled ones included when named)')
    .option('--dry-run', 'compute and print everything, send nothing, write no state')
    .option('--json-output', 'print the JSON document on stdout and nothing else')
    .addOption(configOption())
    .addOption(new Option('--now <ISO-8601>', 'evaluation instant, for tests and backtests (default: now)'));
  addWarehouseOptions(command).action(async (flags: CheckFlags) => {
    // Recorded as a run of processor_execution_monitor, then the heartbeat (not on --dry-run).
    await runMonitoredCheck(flags, context, () => checkAction(flags, context));
  });
}

export async function checkAction(flags: CheckFlags, context: CliContext): Promise<void> {
  const registry = await loadCheckedRegistry(flags.config);
  const inputs = resolveCheckInputs(
    { date: flags.date, lookbackDays: flags.lookbackDays, now: flags.now, processors: flags.processors },
    registry,
    context.now(),
  );
  const warehouse = await openWarehouse(flags, context.env, { create: false });
  try {
    // Alerts go out before printing, so the report shows what was sent (SPEC §7 `sent`).
    const { result, error: deliveryError } = await deliverAlerts(await runCheck(warehouse, registry, inputs), {
      registry, warehouse, env: context.env, log: context.log, dryRun: Boolean(flags.dryRun),
    });
    if (flags.jsonOutput) {
      context.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
    } else {
      const color = Boolean(context.stdout.isTTY) && !context.env.NO_COLOR;
      context.stdout.write(renderTerminalReport(result, { color }));
    }
    // A destination that failed after retries fails the run (exit 1), once the report is out.
    if (deliveryError) throw deliveryError;
  } finally {
    await warehouse.close();
  }
}
