/**
 * `pem gaps`: the backfill queue — every missing, failed or hung (processor, processing date)
 * of the window, and every success with a volume anomaly (SPEC §10), high priority first, then by date and processor. `--format csv|json` print
 * exactly the rows and nothing else on stdout, for piping into a re-run.
 */
import { Option, type Command } from 'commander';
import { usageError } from '../errors.js';
import { GAP_FORMATS, buildGaps, renderGapsCsv, renderGapsJson, renderGapsTable, type GapFormat } from '../report/gaps.js';
import type { CliContext } from './context.js';
import { addCheckSelectionOptions, checkFromFlags, type CheckSelectionFlags } from './selection.js';

export function registerGapsCommand(program: Command, context: CliContext): void {
  const command = program
    .command('gaps')
    .description('list the backfill queue: every missing, failed or hung processing date, and every success with low or high volume, high priority first')
    .addOption(new Option('--format <format>', `output: ${GAP_FORMATS.join(', ')}`).default('table'));
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { format: string }) => {
    const format = parseFormat(flags.format);
    const { result } = await checkFromFlags(flags, context, context.now());
    const gaps = buildGaps(result);
    const { report } = result;
    const output =
      format === 'csv'
        ? renderGapsCsv(gaps)
        : format === 'json'
          ? renderGapsJson(gaps)
          : renderGapsTable(gaps, { start: report.window_start, end: report.window_end });
    context.stdout.write(output);
  });
}

function parseFormat(value: string): GapFormat {
  if (!(GAP_FORMATS as readonly string[]).includes(value)) {
    throw usageError(`--format '${value}' is not a format: use ${GAP_FORMATS.join(', ')}, for example --format csv`);
  }
  return value as GapFormat;
}
