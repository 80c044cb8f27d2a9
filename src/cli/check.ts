/** `pem check`: the job. Detects, lists alerts, prints the report or the JSON document. */
import { Option, type Command } from 'commander';
import { deliverAlerts } from '../alerts/deliver.js';
import { unusableRowNotes } from '../check/notes.js';
import type { RunLevel } from '../check/report.js';
import { runCheck } from '../check/run.js';
import { thresholdError } from '../errors.js';
import { runMonitoredCheck } from './self-record.js';
import { addExamples, type CliContext } from './context.js';
import { chosenFormat, formatOption } from './format.js';
import { withProgress } from './progress.js';
import {
  CHECK_FORMATS,
  addCheckSelectionOptions,
  checkingText,
  prepareCheck,
  withCheckSession,
  writeCheckResult,
  type CheckFormat,
  type CheckSelectionFlags,
  type PreparedCheck,
} from './selection.js';

/** The run levels `--fail-on` can name, and the run levels that reach each. */
export const FAIL_ON_LEVELS = ['critical', 'error'] as const;
type FailOn = (typeof FAIL_ON_LEVELS)[number];
const REACHES: Record<FailOn, readonly RunLevel[]> = { critical: ['CRITICAL'], error: ['CRITICAL', 'ERROR'] };

export interface CheckFlags extends CheckSelectionFlags {
  dryRun?: boolean;
  jsonOutput?: boolean;
  format: CheckFormat;
  failOn?: FailOn;
}

export function registerCheckCommand(program: Command, context: CliContext): void {
  const command = program
    .command('check')
    .description('check every processor over a window of dates and deliver the alerts')
    .option('--dry-run', 'compute and print everything, send nothing, write no state')
    .option('--json-output', 'print the JSON document on stdout and nothing else (same as --format json)')
    .addOption(formatOption(CHECK_FORMATS, 'json'))
    .addOption(
      new Option('--fail-on <level>', 'exit 3 when the run level reaches it, for CI: critical = CRITICAL, error = ERROR or CRITICAL').choices(
        FAIL_ON_LEVELS,
      ),
    );
  addExamples(command, [
    ['pem check', 'today, the last 7 days, every enabled processor; sends the alerts'],
    ['pem check --dry-run --lookback-days 14', 'two weeks, nothing sent and no state written'],
    ['pem check --date 2025-10-07 --processors gamebook_processor --json-output', 'one processor, the JSON document only'],
    ['pem check --dry-run --format csv > days.csv', 'one CSV line per processor and date'],
    ['pem check --dry-run --fail-on critical', 'in CI: exit 3 when anything is CRITICAL'],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckFlags, self: Command) => {
    const format = chosenFormat(self, flags);
    // Bad input stops here (exit 2) and is no run; the registry is loaded and the clock read once.
    const prepared = await prepareCheck(flags, context.now());
    // Recorded as a run of processor_execution_monitor, then the heartbeat (not on --dry-run).
    const level = await runMonitoredCheck(flags, context, prepared, () => checkAction(flags, context, prepared, format));
    // After the run is recorded as a success: reaching --fail-on is a finding, not a failed monitor.
    if (flags.failOn && REACHES[flags.failOn].includes(level)) {
      throw thresholdError(`run level ${level} reached --fail-on ${flags.failOn} (exit 3)`);
    }
  });
}

/** The whole check; returns the run level. */
export async function checkAction(flags: CheckFlags, context: CliContext, prepared: PreparedCheck, format: CheckFormat): Promise<RunLevel> {
  return withCheckSession(flags, context, prepared, async ({ registry, inputs, warehouse }) => {
    const { result, error: deliveryError } = await withProgress(context, checkingText(prepared, warehouse), async (progress) => {
      // Per-day run details are for the HTML report and gaps: the check leaves them out (memory, SPEC §14).
      const found = await runCheck(warehouse, registry, inputs, { dayDetails: false });
      for (const note of unusableRowNotes(found)) context.log.warn(note);
      progress.step(flags.dryRun ? 'listing the alerts (dry run: nothing is sent)' : 'delivering the alerts');
      // Alerts go out before printing, so the report shows what was sent (SPEC §7 `sent`).
      return deliverAlerts(found, { registry, warehouse, settings: context.settings, log: context.log, dryRun: Boolean(flags.dryRun) });
    });
    await writeCheckResult(result, context, format);
    // A destination that failed after retries fails the run (exit 1), once the report is out.
    if (deliveryError) throw deliveryError;
    return result.report.level;
  });
}
