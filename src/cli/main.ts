/**
 * The `pem` command line. The only place that knows about exit codes: every command throws
 * `PemError` (or lets a foreign error through), and `main` turns it into one clear line on
 * stderr and the exit code of SPEC §6 (0 ran, 1 the monitor failed, 2 bad usage or config), or
 * 3 when `pem check --fail-on` was reached.
 */
import { Command, CommanderError } from 'commander';
import { PemError, describeError, exitCodeFor } from '../errors.js';
import { environmentOf, isCloudRun, readSettings, secretValues, type Settings } from '../config/env.js';
import { createLogger } from '../log.js';
import { addExamples, type CliContext, type CliIo, type Register } from './context.js';
import { registerBacktestCommand } from './backtest.js';
import { registerCheckCommand } from './check.js';
import { registerCompletionCommand } from './completion.js';
import { registerConfigCommand } from './config.js';
import { registerDemoCommand } from './demo.js';
import { registerGapsCommand } from './gaps.js';
import { registerRecordCommand } from './record.js';
import { registerReportCommand } from './report.js';
import { registerSchemaCommand } from './schema.js';
import { registerSilenceCommand } from './silence.js';
import { registerSqlCommand } from './sql.js';
import { createStopControl } from './stop.js';

export type { CliContext, CliIo, Register } from './context.js';

export const COMMANDS: Register[] = [
  registerCheckCommand,
  registerReportCommand,
  registerGapsCommand,
  registerBacktestCommand,
  registerConfigCommand,
  registerSchemaCommand,
  registerSilenceCommand,
  registerSqlCommand,
  registerDemoCommand,
  registerRecordCommand,
  registerCompletionCommand,
];

export function buildProgram(context: CliContext, commands: Register[] = COMMANDS): Command {
  const program = new Command('pem')
    .description('Processor Execution Monitor: is every data processor running, succeeding and fresh?')
    .version('0.1.0', '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => writeErr(context, text),
      outputError: (text, write) => write(text),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 the check ran (whatever it found), 1 the monitor itself failed,
2 bad usage or config, 3 the run level reached \`pem check --fail-on\`.
Start here: pem demo`,
    );
  addExamples(program, [
    ['pem demo', 'a season of realistic history in a local DuckDB, then the check'],
    ['pem check --dry-run', 'check the processors of includes/processors.js, send nothing'],
    ['pem gaps --format csv', 'what to re-run, as CSV'],
    ['pem help check', 'the flags of one command, with examples'],
  ]);
  for (const register of commands) register(program, context);
  // Sub-commands inherit exit and output handling.
  for (const command of program.commands) inheritErrorHandling(command, context);
  return program;
}

/** Commander's own messages (unknown option, usage): one JSON log entry in Cloud Run, plain text in a terminal. */
function writeErr(context: CliContext, text: string): void {
  if (isCloudRun(context.env)) context.log.error(text.trimEnd());
  else context.stderr.write(text);
}

function inheritErrorHandling(command: Command, context: CliContext): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => context.stdout.write(text),
    writeErr: (text) => writeErr(context, text),
  });
  for (const sub of command.commands) inheritErrorHandling(sub, context);
}

export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const env = environmentOf(io.env);
  let settings: Settings | undefined;
  const context: CliContext = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env,
    now: io.now ?? (() => new Date()),
    stop: io.stop ?? createStopControl(),
    log: createLogger(io.stderr ?? process.stderr, { json: isCloudRun(env), redact: secretValues(env) }),
    get settings() {
      return (settings ??= readSettings(env));
    },
  };
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not failures; commander already printed its own message.
      // Asked-for help and version exit 0; help shown because a command is missing is bad usage.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return error.exitCode === 0 ? 0 : 2;
      return 2;
    }
    // Details travel as a field, so that in Cloud Run the whole error stays one JSON log entry.
    const details = error instanceof PemError ? error.details : [];
    context.log.error(describeError(error), details.length > 0 ? { details } : {});
    return exitCodeFor(error);
  }
}
