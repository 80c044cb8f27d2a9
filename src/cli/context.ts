/**
 * What every `pem` command receives from the entry point (`main.ts`): its streams, the clock
 * (read once per command) and the logger, plus the options several commands share. Kept apart
 * from `main.ts` so that commands never import the entry that imports them.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Environment, Settings } from '../config/env.js';
import { ENGINES } from '../config/names.js';
import type { Logger, Writable } from '../log.js';
import type { StopControl } from './stop.js';

/** A stream the CLI writes to; `isTTY` and a terminal's width, `columns`, as Node sets them on process.stdout / process.stderr. */
export type CliStream = Writable & { isTTY?: boolean; columns?: number };

export interface CliIo {
  stdout: CliStream;
  /** Diagnostics, and progress while it is a terminal (`progress.ts`). */
  stderr: CliStream;
  /** The environment (the process's unless a test gives one); read only by `config/env.ts`. */
  env: Environment;
  /** The clock, read once per command. */
  now: () => Date;
  /** A stop request (SIGTERM, `cli/process.ts`); work that must settle before the process ends runs under it. */
  stop: StopControl;
}

export interface CliContext extends CliIo {
  log: Logger;
  /**
   * Every PEM_* setting, validated together on first use (`readSettings`): a bad one fails the
   * command that needs it (exit 2), while `--help` or `pem sql render` still work. The alert
   * destinations, retries and report location are read on their own first use (`pem check` reads
   * every setting together first), so that a malformed SLACK_WEBHOOK_URL does not stop
   * `pem record`, `pem gaps` or `pem report`.
   */
  readonly settings: Settings;
}

export type Register = (program: Command, context: CliContext) => void;

/** Whether to colour what goes to `stream`: FORCE_COLOR / NO_COLOR decide (config/env.ts), else whether it is a terminal. */
export function colorFor(context: CliContext, stream: CliStream): boolean {
  const mode = context.settings.color;
  return mode === 'auto' ? Boolean(stream.isTTY) : mode === 'always';
}

/**
 * A list option given more than once (`--processors a --processors b`) as one list `a,b`: commander
 * keeps the last value only, and the first was dropped without a word.
 */
export function joinRepeated(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/**
 * The Examples section every command's `--help` ends with (a test holds every command to it):
 * each example is what it does, as a `#` comment, above its command line.
 */
export function addExamples(command: Command, examples: readonly (readonly [string, string])[]): Command {
  const text = examples.map(([line, what]) => `  # ${what}\n  $ ${line}`).join('\n\n');
  return command.addHelpText('after', `\nExamples:\n${text}\n`);
}

/** Options shared by every command that reads the registry. */
export const configOption = () =>
  new Option('--config <path>', 'processor registry (.js, .cjs or .json)').default('includes/processors.js');

/** Options shared by every command that talks to a warehouse. */
export function addWarehouseOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--engine <engine>', 'warehouse: duckdb or bigquery (default: $PEM_ENGINE, else duckdb)')
        .choices(ENGINES)
        // The choices are for --help and shell completion; resolveEngine (warehouse/open.ts) checks
        // the value together with PEM_ENGINE and names both in one line.
        .argParser((value) => value),
    )
    .addOption(
      new Option('--database <path>', 'DuckDB file').default('.pem/monitoring.duckdb').argParser((value: string) => {
        // An empty variable expanded (--database "$DB"): not a file name, and not the default either.
        if (value.trim() === '') throw new InvalidArgumentError('An empty name is no file: give the DuckDB file, for example --database .pem/monitoring.duckdb');
        return value;
      }),
    )
    .addOption(new Option('--project <id>', 'BigQuery project (default: $GOOGLE_CLOUD_PROJECT, else $GCLOUD_PROJECT)'))
    .addOption(new Option('--location <loc>', 'BigQuery location (default: $PEM_BIGQUERY_LOCATION, else US)'));
}
