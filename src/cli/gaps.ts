/**
 * `pem gaps`: the backfill queue — every missing, failed or hung (processor, processing date)
 * of the window, and every success with a volume anomaly (SPEC §10): the dates no upstream explains
 * first (SPEC §12), then high priority first, then by date and processor. `--format csv|json` print
 * the rows and nothing else on stdout (CSV with a leading `'` on text that starts like a formula);
 * `--format commands` prints each processor's `backfill_command` filled in (a `#` line where it
 * has none), for piping into a shell.
 */
import type { Command } from 'commander';
import { GAP_FORMATS, buildGaps, renderGapsCommands, renderGapsCsv, renderGapsJson, renderGapsTable, type GapFormat } from '../report/gaps.js';
import { addExamples, type CliContext } from './context.js';
import { formatOption } from './format.js';
import { addCheckSelectionOptions, checkFromFlags, type CheckSelectionFlags } from './selection.js';

export function registerGapsCommand(program: Command, context: CliContext): void {
  const command = program
    .command('gaps')
    .description('list the backfill queue: every missing, failed or hung processing date, and every success with low or high volume, the dates no upstream explains first, then high priority first')
    .addOption(formatOption(GAP_FORMATS));
  addExamples(command, [
    ['pem gaps', 'the queue of the last 7 days, as a table'],
    ['pem gaps --lookback-days 30 --format csv > gaps.csv', 'a month of gaps, for a spreadsheet or a re-run script'],
    ['pem gaps --processors gamebook_processor --format json', 'one processor, as a JSON array'],
    ['pem gaps --format commands | sh', "run each processor's backfill_command for its dates"],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { format: GapFormat }) => {
    const { format } = flags;
    const { registry, result } = await checkFromFlags(flags, context, context.now());
    const gaps = buildGaps(result);
    const { report } = result;
    const output =
      format === 'csv'
        ? renderGapsCsv(gaps)
        : format === 'json'
          ? renderGapsJson(gaps)
          : format === 'commands'
            ? renderGapsCommands(gaps, registry)
            : renderGapsTable(gaps, { start: report.window_start, end: report.window_end });
    context.stdout.write(output);
  });
}

