/**
 * What every `pem` command receives from the entry point (`main.ts`): its streams, the clock
 * (read once per command) and the logger, plus the options several commands share. Kept apart
 * from `main.ts` so that commands never import the entry that imports them.
 */
import { Option, type Command } from 'commander';
import type { Environment, Settings } from '../config/env.js';
import type { Logger, Writable } from '../log.js';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** The environment (the process's unless a test gives one); read only by `config/env.ts`. */
  env: Environment;
  /** The clock, read once per command. */
  now: () => Date;
}

export interface CliContext extends CliIo {
  log: Logger;
  /**
   * Every PEM_* and destination setting, validated together on first use (`readSettings`): a bad
   * one fails the command that needs it (exit 2), while `--help` or `pem sql render` still work.
   */
  readonly settings: Settings;
}

export type Register = (program: Command, context: CliContext) => void;

/** Options shared by every command that reads the registry. */
export const configOption = () =>
  new Option('--config <path>', 'processor registry (.js or .json)').default('includes/processors.js');

/** Options shared by every command that talks to a warehouse. */
export function addWarehouseOptions(command: Command): Command {
  return command
    .addOption(new Option('--engine <engine>', 'warehouse: duckdb or bigquery (default: $PEM_ENGINE, else duckdb)'))
    .addOption(new Option('--database <path>', 'DuckDB file').default('.pem/monitoring.duckdb'))
    .addOption(new Option('--project <id>', 'BigQuery project (default: $GOOGLE_CLOUD_PROJECT)'))
    .addOption(new Option('--location <loc>', 'BigQuery location (default: $PEM_BIGQUERY_LOCATION, else US)'));
}
