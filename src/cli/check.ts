/** `pem check`: the job. Detects, lists alerts, prints the report or the JSON document. */
import type { Command } from 'commander';
import { deliverAlerts } from '../alerts/deliver.js';
import { runCheck } from '../check/run.js';
import { runMonitoredCheck } from './self-record.js';
import type { CliContext } from './context.js';
import { addCheckSelectionOptions, prepareCheck, withCheckSession, writeCheckResult, type CheckSelectionFlags, type PreparedCheck } from './selection.js';

export interface CheckFlags extends CheckSelectionFlags {
  dryRun?: boolean;
  jsonOutput?: boolean;
}

export function registerCheckCommand(program: Command, context: CliContext): void {
  const command = program
    .command('check')
    .description('check every processor over a window of dates and deliver the alerts')
    .option('--dry-run', 'compute and print everything, send nothing, write no state')
    .option('--json-output', 'print the JSON document on stdout and nothing else');
  addCheckSelectionOptions(command).action(async (flags: CheckFlags) => {
    // Bad input stops here (exit 2) and is no run; the registry is loaded and the clock read once.
    const prepared = await prepareCheck(flags, context.now());
    // Recorded as a run of processor_execution_monitor, then the heartbeat (not on --dry-run).
    await runMonitoredCheck(flags, context, prepared, () => checkAction(flags, context, prepared));
  });
}

export async function checkAction(flags: CheckFlags, context: CliContext, prepared: PreparedCheck): Promise<void> {
  await withCheckSession(flags, context, prepared, async ({ registry, inputs, warehouse }) => {
    // Alerts go out before printing, so the report shows what was sent (SPEC §7 `sent`).
    const { result, error: deliveryError } = await deliverAlerts(await runCheck(warehouse, registry, inputs), {
      registry, warehouse, settings: context.settings, log: context.log, dryRun: Boolean(flags.dryRun),
    });
    writeCheckResult(result, context, Boolean(flags.jsonOutput));
    // A destination that failed after retries fails the run (exit 1), once the report is out.
    if (deliveryError) throw deliveryError;
  });
}
