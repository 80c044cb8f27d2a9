/**
 * One machine-output convention for every command that prints data: `--format table|json|csv`
 * (`table`, for people, is the default; each command offers the formats it can print). `pem check`
 * and `pem demo` keep `--json-output` (SPEC §6) as another way to say `--format json`.
 */
import { Option, type Command } from 'commander';
import { usageError } from '../errors.js';

/** The `--format` option: its choices show in `--help` and in shell completion. */
export function formatOption(formats: readonly string[], example = formats.find((f) => f !== 'table') ?? formats[0]!): Option {
  return new Option('--format <format>', 'output format')
    .choices(formats)
    .default('table')
    // Our own line for a bad value (exit 2, one line naming the choices), instead of commander's.
    .argParser((value) => {
      if (!formats.includes(value)) throw usageError(`--format '${value}' is not a format: use ${formats.join(', ')}, for example --format ${example}`);
      return value;
    });
}

/**
 * The format asked for. `--json-output` means `--format json`; naming another format beside it
 * is a contradiction, reported as bad usage rather than silently picking one.
 */
export function chosenFormat<F extends string>(command: Command, flags: { format: F; jsonOutput?: boolean }): F | 'json' {
  if (!flags.jsonOutput) return flags.format;
  if (command.getOptionValueSource('format') === 'cli' && flags.format !== 'json') {
    throw usageError(`--json-output and --format ${flags.format} disagree: --json-output is --format json, so give one of them`);
  }
  return 'json';
}
