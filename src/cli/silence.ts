/**
 * `pem silence add|list|remove`: silences as data, in `<dataset>.pem_alert_silences`. A silenced
 * processor is still checked and shown by `pem check`; its alerts are not sent until the silence
 * ends. Every silence has an expiry, so none is forgotten for a season.
 */
import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { parseInstantOrDuration } from '../check/inputs.js';
import { PemError, describeError, runtimeError, usageError } from '../errors.js';
import { addSilence, listSilences, removeSilences, type Silence } from '../alerts/silences.js';
import { alertSilencesTable } from '../config/names.js';
import { projectQualifiedKeys, type Registry } from '../config/registry.js';
import { localTime } from '../local-time.js';
import { MISSING_TABLE, MISSING_TABLE_ONLY, type Warehouse } from '../warehouse/types.js';
import { openWarehouse } from '../warehouse/open.js';
import { renderCsv } from '../report/csv.js';
import { addExamples, addWarehouseOptions, configOption, type CliContext } from './context.js';
import { chosenFormat, formatOption } from './format.js';
import { knownNamesHint } from '../suggest.js';
import { loadCheckedRegistry } from './registry.js';
import { printable } from '../printable.js';

export const SILENCE_LIST_FORMATS = ['table', 'json', 'csv'] as const;
/** The longest --reason (of adding or of removing) a silence keeps. */
const MAX_REASON_CHARS = 500;
/** The longest `--by`: a person's name or address. */
const MAX_BY_CHARS = 100;

/** The CSV columns of `pem silence list`: the JSON array's fields, in its order. */
const SILENCE_COLUMNS = ['silence_id', 'processor_name', 'silenced_until', 'state', 'created_at', 'created_by', 'removed_at', 'reason', 'removed_by', 'removal_reason'] as const satisfies readonly (keyof Silence)[];

interface WarehouseFlags {
  config: string;
  engine?: string;
  database?: string;
  project?: string;
  location?: string;
}

interface AddFlags extends WarehouseFlags {
  processor: string;
  until: string;
  reason: string;
  by?: string;
}

interface ListFlags extends WarehouseFlags {
  all?: boolean;
  jsonOutput?: boolean;
  format: (typeof SILENCE_LIST_FORMATS)[number];
}

interface RemoveFlags extends WarehouseFlags {
  processor?: string;
  reason?: string;
  by?: string;
}

export function registerSilenceCommand(program: Command, context: CliContext): void {
  const silence = program.command('silence').description('hold back the alerts of a processor until a given time');
  addExamples(silence, [
    ['pem silence add --processor gamebook_processor --until 2h --reason "NBA.com outage"', 'hold its alerts for two hours'],
    ['pem silence list', 'what is silenced now'],
    ['pem silence remove --processor gamebook_processor', 'end its silences early'],
  ]);

  const add = silence
    .command('add')
    .description('silence a processor until a given time (it is still checked and shown)')
    .requiredOption('--processor <name>', 'registry key of the processor')
    .requiredOption('--until <when>', 'when the silence ends: a duration from now (2h, 3d, 90m, 1h30m) or an instant (2099-10-09T18:00:00Z)')
    .requiredOption('--reason <text>', 'why, for whoever reads the alerts next')
    .addOption(new Option('--by <name>', 'who is silencing (default: $USER, else $LOGNAME, else your OS user name)'))
    .addOption(configOption());
  addExamples(add, [
    ['pem silence add --processor gamebook_processor --until 2h --reason "NBA.com outage"', 'for the next two hours'],
    ['pem silence add --processor roster_processor --until 3d --reason "backfill of 2025-10-01..07"', 'for three days'],
    ['pem silence add --processor roster_processor --until 2099-10-09T18:00:00Z --reason "vendor fix due"', 'until an instant (UTC without an offset)'],
  ]);
  addWarehouseOptions(add).action(async (flags: AddFlags) => {
    const registry = await loadCheckedRegistry(flags.config);
    const now = context.now();
    const processor = knownProcessor(registry, flags.processor);
    const until = parseInstantOrDuration(flags.until, '--until', now);
    if (until.getTime() <= now.getTime()) {
      throw usageError(`--until '${flags.until}' is not in the future (now is ${now.toISOString()}): give the time the silence ends`);
    }
    const reason = flags.reason.trim();
    if (!reason) throw usageError('--reason is empty: say why, for example --reason "backfill of 2025-10-01..07 in progress"');
    boundedReason(reason);
    const by = createdBy(flags.by, context);
    const id = await withSilences(flags, context, registry, (warehouse, table) => addSilence(warehouse, table, { processor, until, reason, createdBy: by }, now));
    context.stdout.write(`silenced ${processor} until ${localTime(until.toISOString(), registry.timezone, { seconds: true })} (${id}): ${printable(reason)}\n`);
  });

  const list = silence
    .command('list')
    .description('list active silences (--all: expired and removed ones too)')
    .option('--all', 'include expired and removed silences')
    .option('--json-output', 'print a JSON array (same as --format json)')
    .addOption(formatOption(SILENCE_LIST_FORMATS, 'json'))
    .addOption(configOption());
  addExamples(list, [
    ['pem silence list', 'the active silences'],
    ['pem silence list --all --format csv', 'every silence ever made, expired and removed ones too, as CSV'],
    ['pem silence list --format json', 'the active silences as a JSON array'],
  ]);
  addWarehouseOptions(list).action(async (flags: ListFlags, self: Command) => {
    const format = chosenFormat(self, flags);
    const registry = await loadCheckedRegistry(flags.config);
    const now = context.now();
    const silences = await withSilences(
      flags,
      context,
      registry,
      // A monitor never `pem schema apply`'d has no silences: a read says so, as check --dry-run reads it.
      (warehouse, table) =>
        listSilences(warehouse, table, now, { activeOnly: !flags.all }).catch((error: unknown) => {
          if (!MISSING_TABLE_ONLY.test(describeError(error))) throw error;
          context.log.warn(`${table} does not exist yet (\`pem schema apply\` creates it): no silences`);
          return [];
        }),
      true,
    );
    if (format === 'json') context.stdout.write(`${JSON.stringify(silences, null, 2)}\n`);
    else if (format === 'csv') context.stdout.write(renderCsv(SILENCE_COLUMNS, silences));
    else context.stdout.write(renderSilences(silences, Boolean(flags.all), registry.timezone));
  });

  const remove = silence
    .command('remove')
    .description('end a silence early, by id or for every active silence of a processor')
    .argument('[id]', 'silence id, as `pem silence list` shows it')
    .option('--processor <name>', 'end every active silence of this processor')
    .option('--reason <text>', 'why it ends early')
    .addOption(new Option('--by <name>', 'who is removing it (default: $USER, else $LOGNAME, else your OS user name)'))
    .addOption(configOption());
  addExamples(remove, [
    ['pem silence remove sil_1a2b3c4d', 'end one silence, by the id `pem silence list` shows'],
    ['pem silence remove --processor gamebook_processor --reason "fixed"', 'end every active silence of a processor'],
  ]);
  addWarehouseOptions(remove).action(async (id: string | undefined, flags: RemoveFlags) => {
    if (id === undefined && flags.processor === undefined) {
      throw usageError('pem silence remove needs a silence id or --processor, for example `pem silence remove sil_1a2b3c4d`');
    }
    // An empty variable expanded (pem silence remove "$ID"): no id at all.
    if (id !== undefined && id.trim() === '') throw usageError('the silence id is empty: give one that `pem silence list` shows, for example `pem silence remove sil_1a2b3c4d`');
    const registry = await loadCheckedRegistry(flags.config);
    const now = context.now();
    // Not checked against the registry first: a processor taken out of it may still have silences
    // to end. Only when it has none is an unknown name told as such (with its did-you-mean).
    const processor = flags.processor?.trim();
    const removalReason = flags.reason?.trim() || null;
    if (removalReason !== null) boundedReason(removalReason);
    const by = createdBy(flags.by, context);
    const removed = await withSilences(flags, context, registry, async (warehouse, table) => {
      const active = await listSilences(warehouse, table, now, { activeOnly: true });
      const chosen = active.filter((s) => (id === undefined || s.silence_id === id) && (processor === undefined || s.processor_name === processor));
      if (chosen.length === 0) {
        // Throws, with the names the registry has, when it is not one of them.
        if (processor !== undefined) knownProcessor(registry, processor);
        const what = [id ? `id ${id}` : null, processor ? `processor ${processor}` : null].filter(Boolean).join(' and ');
        throw usageError(`no active silence with ${what}; \`pem silence list\` shows the active ones`);
      }
      await removeSilences(warehouse, table, chosen.map((s) => s.silence_id), now, {
        reason: removalReason,
        createdBy: by,
      });
      return chosen;
    });
    for (const s of removed) context.stdout.write(`removed ${s.silence_id} (${s.processor_name}, was until ${localTime(s.silenced_until, registry.timezone, { seconds: true })})\n`);
  });
}

/** A --reason is shown in every `pem silence list` and beside the held alerts: a sentence, not a log pasted in. */
function boundedReason(reason: string): void {
  // Characters as a person counts them (code points): an emoji is one, not two UTF-16 units.
  if ([...reason].length > MAX_REASON_CHARS) throw usageError(`--reason is longer than ${MAX_REASON_CHARS} characters: say why in a sentence, and link to the rest`);
}

function knownProcessor(registry: Registry, name: string): string {
  const trimmed = name.trim();
  if (registry.processors.some((p) => p.name === trimmed)) return trimmed;
  throw usageError(`--processor '${name}' is not in the registry; ${knownNamesHint([trimmed], registry.processors.map((p) => p.name), 'it')}`);
}

/** `--by`, else $USER / $LOGNAME (config/env.ts), else the OS account running pem. */
function createdBy(flag: string | undefined, context: CliContext): string | null {
  // Given but empty is a mistake (a variable that was not set), as an empty --reason is: not "me".
  if (flag !== undefined && flag.trim() === '') throw usageError('--by is empty: name who it is, for example --by alice, or leave --by out for $USER');
  // A name, not a text: one 5,000-character --by padded every row of `pem silence list`.
  if (flag !== undefined && [...flag.trim()].length > MAX_BY_CHARS) throw usageError(`--by is longer than ${MAX_BY_CHARS} characters: name who it is, for example --by alice@example.com`);
  return flag?.trim() || context.settings.user || osUserName();
}

function osUserName(): string | null {
  try {
    return userInfo().username || null;
  } catch {
    // No passwd entry for this uid (a container running as an arbitrary user): nobody to name.
    return null;
  }
}

/** `readsOnly`: the command only lists (a DuckDB file this user may not write is read read-only). */
async function withSilences<T>(
  flags: WarehouseFlags,
  context: CliContext,
  registry: Registry,
  fn: (warehouse: Warehouse, table: string) => Promise<T>,
  readsOnly = false,
): Promise<T> {
  const warehouse = await openWarehouse(flags, context.settings, { create: false, readsOnly, atStop: context.stop.atStop, projectKeys: projectQualifiedKeys(registry) });
  const table = alertSilencesTable(registry);
  try {
    return await fn(warehouse, table);
  } catch (error) {
    if (error instanceof PemError && error.code !== 'runtime') throw error;
    const why = describeError(error);
    throw runtimeError(MISSING_TABLE.test(why) ? `${why} (${table} does not exist yet: \`pem schema apply\` creates it)` : why);
  } finally {
    await warehouse.close();
  }
}

/** Who removed a removed silence, and why, after its reason: ` (removed by alice: fixed upstream)`. */
function removal(s: Silence): string {
  if (s.state !== 'removed') return '';
  const why = s.removal_reason ? `: ${s.removal_reason}` : '';
  return ` (removed${s.removed_by ? ` by ${s.removed_by}` : ''}${why})`;
}

/**
 * The human listing, `pem silence list`'s table: one line per silence, aligned, each end in the
 * registry's time zone with its offset (the JSON and CSV keep UTC). Pure.
 */
export function renderSilences(silences: readonly Silence[], all: boolean, timezone: string): string {
  if (silences.length === 0) return all ? 'No silences.\n' : 'No active silences.\n';
  // Reasons and authors are whatever was typed, stored in the warehouse: shown without control characters.
  const rows = silences.map((s) =>
    [s.silence_id, s.processor_name, localTime(s.silenced_until, timezone, { seconds: true }), s.state, s.created_by ?? '', `${s.reason ?? ''}${removal(s)}`].map(printable),
  );
  const head = ['ID', 'PROCESSOR', 'UNTIL', 'STATE', 'BY', 'REASON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
