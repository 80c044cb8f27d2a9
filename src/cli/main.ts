/**
 * The `pem` command line. The only place that knows about exit codes: every command throws
 * `PemError` (or lets a foreign error through), and `main` turns it into one clear line on
 * stderr and the exit code of SPEC §6 (0 ran, 1 the monitor failed, 2 bad usage or config), or
 * 3 when `pem check --fail-on` was reached.
 */
import { Command, CommanderError } from 'commander';
import { PemError, describeError, exitCodeFor, shortened, usageError } from '../errors.js';
import { environmentOf, isCloudRun, readSettings, secretValues, type Settings } from '../config/env.js';
import { createLogger } from '../log.js';
import { printable } from '../printable.js';
import { nearestWithin } from '../suggest.js';
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
  // Every command, sub-commands too, has the same exit and output handling.
  handleErrors(program, context);
  return program;
}

/**
 * Commander takes the word after an option that needs a value as that value, even another
 * option: `pem check --location --dry-run` ran a check that was no dry run, its location
 * `--dry-run` (on DuckDB, ignored without a word). A value that is one of the command's own
 * options is refused (exit 2); one that only starts with `--` (a reason, say) is a value.
 */
function refuseOptionsAsValues(command: Command, rawArgs: readonly string[]): void {
  // Help too, which commander keeps apart from the command's options (`--reason --help` made a silence).
  const flags = new Set([...optionFlags(command), '-h', '--help']);
  for (const option of command.options) {
    if (!option.required && !option.optional) continue;
    const name = option.attributeName();
    if (command.getOptionValueSource(name) !== 'cli') continue;
    const value: unknown = command.getOptionValue(name);
    // A list given twice is joined with commas (`joinRepeated`): each of its words is a value.
    const words = (Array.isArray(value) ? value : [value]).flatMap((given) => (typeof given === 'string' ? given.split(',') : []));
    for (const word of words) {
      const flag = word.split('=')[0]!;
      // Given with `=` (`--reason=--by`), it is the value beyond doubt.
      if (!flags.has(flag) || rawArgs.some((arg) => option.long !== undefined && arg.startsWith(`${option.long}=`))) continue;
      throw usageError(`${option.long ?? option.flags} needs a value, and the word after it is the option ${flag}: give ${option.long ?? option.flags} its value, or leave it out`);
    }
  }
}

/** Commander's own messages (unknown option, usage): one JSON log entry in Cloud Run, plain text in a terminal. */
function writeErr(context: CliContext, text: string): void {
  if (isCloudRun(context.env)) context.log.error(text.trimEnd());
  else context.stderr.write(text);
}

/**
 * Commander throws instead of exiting (`main` returns the exit code), and its usage errors are
 * written as one line each (SPEC §6). Its message is held until the exit, so that a mistyped
 * option (`--procesor`) is what is named, not the required option it left unset, which commander
 * checks first; and its "Did you mean" second line joins the first.
 */
function handleErrors(command: Command, context: CliContext): void {
  let pending = '';
  command
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => writeErr(context, text),
      outputError: (text) => void (pending += text),
    })
    .exitOverride((error) => {
      const message = pending;
      pending = '';
      // Commander's own unknown-option line keeps its suggestion (help and the parents' options
      // included); only the missing-required-option error is told as the mistyped option instead.
      const mistyped = error.code === 'commander.missingMandatoryOptionValue' ? firstUnknownOption(command) : null;
      if (mistyped === null) {
        // Help and version exits come here too, having written nothing through outputError.
        let line = message.replace(/\n\(Did you mean (.+)\?\)\n?$/, ' (did you mean $1?)\n');
        // Commander suggests only near spellings: a long option remembered short (--lookback) gets ours.
        const unknown = error.code === 'commander.unknownOption' && !/did you mean/.test(line) ? /unknown option '([^']+)'/.exec(line)?.[1] : undefined;
        if (unknown !== undefined) line = line.replace(/\n?$/, `${optionSuggestion(command, unknown)}\n`);
        // The words quoted back are whatever was typed: no escape sequence or line break reaches the terminal.
        if (line !== '') writeErr(context, `${shortened(printable(line.replace(/\n$/, '')))}\n`);
        throw error;
      }
      const line = shortened(printable(`error: unknown option '${mistyped}'${optionSuggestion(command, mistyped)}`));
      writeErr(context, `${line}\n`);
      throw new CommanderError(error.exitCode, 'commander.unknownOption', line);
    });
  for (const sub of command.commands) handleErrors(sub, context);
}

/** The options a command takes, long and short (`--processor`, `-h`). */
function optionFlags(command: Command): string[] {
  return command.options.flatMap((option) => [option.long, option.short]).filter((flag): flag is string => flag !== undefined);
}

/** The first argument that looks like an option the command does not take (commander keeps them in `args`). */
function firstUnknownOption(command: Command): string | null {
  const known = new Set(optionFlags(command));
  return command.args.find((arg) => /^--?[A-Za-z]/.test(arg) && !known.has(arg.split('=')[0]!)) ?? null;
}

/** ` (did you mean --processor?)` for a long option within two edits of one the command takes (or `--help`). */
function optionSuggestion(command: Command, flag: string): string {
  const name = flag.split('=')[0]!;
  const hint = name.startsWith('--') ? nearestWithin(name, [...optionFlags(command).filter((f) => f.startsWith('--')), '--help']) : null;
  return hint ? ` (did you mean ${hint}?)` : '';
}

/**
 * `pem help config validate` as `pem config validate --help`: commander's help command looks one
 * level down only, and printed the `config` group's help. Only the words before the first option
 * are read, and never run: `pem help check --date …` is the help of check, not a check. A word that
 * names no command is given as the path it spells, up to it (`pem help chek` as `pem chek`), so it
 * gets the one-line "unknown command" error, with its suggestion, instead of the whole help.
 */
function nestedHelp(program: Command, argv: string[]): string[] {
  if (argv[0] !== 'help') return argv;
  const words = argv.slice(1);
  const firstOption = words.findIndex((word) => word.startsWith('-'));
  const path = firstOption === -1 ? words : words.slice(0, firstOption);
  if (path.length === 0) return argv;
  let command: Command = program;
  for (const [i, name] of path.entries()) {
    const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
    // Past a command without subcommands, the words are its arguments: its help, never a run
    // (`pem help silence remove sil_1` must not remove it).
    if (!sub) return command.commands.length === 0 ? [...path.slice(0, i), '--help'] : path.slice(0, i + 1);
    command = sub;
  }
  return [...path, '--help'];
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
      // Alert settings are `pem check`'s, which reads them all first (checkAction's caller).
      return (settings ??= readSettings(env, { eager: false }));
    },
  };
  const program = buildProgram(context);
  program.hook('preAction', (_program, action) => refuseOptionsAsValues(action, argv));
  try {
    await program.parseAsync(nestedHelp(program, argv), { from: 'user' });
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
