/** `pem config validate`: every registry problem at once, exit 2 when there is any. */
import type { Command } from 'commander';
import { PemError } from '../errors.js';
import { addExamples, configOption, type CliContext } from './context.js';
import { formatOption } from './format.js';
import { loadCheckedRegistry } from './registry.js';
import { unreachableBaselineNotes, type Registry } from '../config/registry.js';
import { readSettings, routeDestinationsFrom } from '../config/env.js';
import { parseReportUri } from '../report/publish.js';

const VALIDATE_FORMATS = ['table', 'json'] as const;

export function registerConfigCommand(program: Command, context: CliContext): void {
  const config = program.command('config').description('work with the processor registry');
  addExamples(config, [['pem config validate --config includes/processors.js', 'check the registry before deploying it']]);
  const validate = config
    .command('validate')
    .description('validate the registry: every problem is printed, exit 2 if any')
    .addOption(configOption())
    .addOption(formatOption(VALIDATE_FORMATS, 'json'));
  addExamples(validate, [
    ['pem config validate', 'checks includes/processors.js'],
    ['pem config validate --config demo/processors.json', 'another registry'],
    ['pem config validate --format json', 'a JSON verdict on stdout (problems listed), for CI'],
  ]);
  validate.action(async (flags: { config: string; format: (typeof VALIDATE_FORMATS)[number] }) => {
    if (flags.format === 'json') return validateAsJson(flags.config, context);
    const registry = await loadCheckedRegistry(flags.config, { onNote: (note) => context.log.warn(note) });
    for (const note of [...unreachableBaselineNotes(registry.processors), ...environmentNotes(context, registry)]) context.log.warn(note);
    const enabled = registry.processors.filter((p) => p.enabled).length;
    context.stdout.write(
      `${flags.config}: valid, ${registry.processors.length} processor${registry.processors.length === 1 ? '' : 's'} ` +
        `(${enabled} enabled), dataset ${registry.dataset}, time zone ${registry.timezone}\n`,
    );
  });
}

/**
 * What in this environment would stop `pem check` with this registry (exit 2 there): a registry
 * found valid in a deploy pipeline whose job then fails on SLACK_WEBHOOK_URL is caught one step
 * late. Notes, not problems: the environment validate runs in is often not the job's.
 */
function environmentNotes(context: CliContext, registry: Registry): string[] {
  const problems: string[] = [];
  // PEM_REPORT_URI is read as text by the settings, and refused by pem check where it parses it.
  const reportUri = () => {
    let uri: string | null = null;
    try {
      uri = readSettings(context.env, { eager: false }).reportPublish.uri;
    } catch {
      return; // the settings' own problems, said once above
    }
    if (uri) parseReportUri(uri, 'PEM_REPORT_URI');
  };
  for (const read of [() => readSettings(context.env), () => routeDestinationsFrom(context.env, registry.routes), reportUri]) {
    try {
      read();
    } catch (error) {
      if (!(error instanceof PemError)) throw error;
      problems.push(...error.problems);
    }
  }
  // The default route's variables are the settings' own: each said once.
  const variable = (problem: string) => problem.split(' ')[0];
  const ofRoutes = (problem: string) => / \(routes? /.test(problem);
  const fromSettings = new Set(problems.filter((p) => !ofRoutes(p)).map(variable));
  return [...new Set(problems)]
    .filter((p) => !(ofRoutes(p) && fromSettings.has(variable(p))))
    .map((p) => `this environment would stop pem check: ${p}`);
}

/**
 * `{"config", "valid", "problems", …}` on stdout whether or not the registry is valid; an invalid
 * one still exits 2 with its one line on stderr, as without --format json.
 */
async function validateAsJson(path: string, context: CliContext): Promise<void> {
  try {
    const notes: string[] = [];
    const registry = await loadCheckedRegistry(path, { onNote: (note) => notes.push(note) });
    notes.push(...unreachableBaselineNotes(registry.processors), ...environmentNotes(context, registry));
    const verdict = {
      config: path,
      valid: true,
      problems: [],
      notes,
      dataset: registry.dataset,
      timezone: registry.timezone,
      processors: registry.processors.length,
      enabled_processors: registry.processors.filter((p) => p.enabled).length,
    };
    context.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  } catch (error) {
    if (error instanceof PemError && error.code === 'config') {
      const problems = error.problems;
      const verdict = { config: path, valid: false, problems, notes: [], dataset: null, timezone: null, processors: null, enabled_processors: null };
      context.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    }
    throw error;
  }
}
