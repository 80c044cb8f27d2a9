/** `pem check`: the job. Detects, lists alerts, prints the report or the JSON document, publishes the HTML report. */
import { Option, type Command } from 'commander';
import { deliverAlerts } from '../alerts/deliver.js';
import { retryPolicyWith } from '../alerts/retry.js';
import { unusableRowNotes } from '../check/notes.js';
import { deployedConfigDrift } from '../check/deployed.js';
import type { CheckResult, RunLevel } from '../check/report.js';
import { runCheck, undeployedText } from '../check/run.js';
import { plural } from '../printable.js';
import { destinationSecrets, readSettings, routeDestinationsFrom } from '../config/env.js';
import type { Registry } from '../config/registry.js';
import { PemError, describeError, runtimeError, thresholdError } from '../errors.js';
import { htmlReportBuffer } from '../report/html.js';
import { describeStorageError, parseReportUri, publishReport, type ReportLocation } from '../report/publish.js';
import { runMonitoredCheck } from './self-record.js';
import { addExamples, type CliContext } from './context.js';
import { chosenFormat, formatOption } from './format.js';
import { withProgress } from './progress.js';
import {
  CHECK_FORMATS,
  addCheckSelectionOptions,
  checkingText,
  commandContext,
  sliceProgress,
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
  publishReport?: string;
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
    )
    .option('--publish-report <gs-uri>', 'after the alerts, upload the HTML report to Cloud Storage, gs://BUCKET/PATH.html (default: $PEM_REPORT_URI)');
  addExamples(command, [
    ['pem check', 'today, the last 7 days, every enabled processor; sends the alerts'],
    ['pem check --dry-run --lookback-days 14', 'two weeks, nothing sent and no state written'],
    ['pem check --dry-run --date 2025-10-07 --processors gamebook_processor --json-output', 'one processor, the JSON document only'],
    ['pem check --dry-run --format csv > days.csv', 'one CSV line per processor and date'],
    ['pem check --dry-run --fail-on critical', 'in CI: exit 3 when anything is CRITICAL'],
    ['pem check --publish-report gs://my-pem-reports/health.html', 'also publish the HTML report, after the alerts'],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckFlags, self: Command) => {
    const format = chosenFormat(self, flags);
    // Every setting, the alert destinations' too, in one pass: all that is wrong, said at once.
    readSettings(context.env);
    // Bad input stops here (exit 2) and is no run; the registry is loaded and the clock read once.
    const publishTo = reportLocation(flags, context);
    const prepared = await prepareCheck(flags, context.now(), (note) => context.log.warn(note));
    // The routes' variables (SPEC §11) are settings too: a malformed one is bad input, before any run.
    routeDestinationsFrom(context.settings.environment, prepared.registry.routes);
    // Recorded as a run of processor_execution_monitor, then the heartbeat (not on --dry-run).
    const level = await runMonitoredCheck(flags, context, prepared, () => checkAction(flags, context, prepared, format, publishTo));
    // After the run is recorded as a success: reaching --fail-on is a finding, not a failed monitor.
    if (flags.failOn && REACHES[flags.failOn].includes(level)) {
      throw thresholdError(`run level ${level} reached --fail-on ${flags.failOn} (exit 3)`);
    }
  });
}

/** Where the report is published: `--publish-report`, else PEM_REPORT_URI, else nowhere. */
function reportLocation(flags: CheckFlags, context: CliContext): ReportLocation | null {
  if (flags.publishReport !== undefined) return parseReportUri(flags.publishReport, '--publish-report');
  const uri = context.settings.reportPublish.uri;
  return uri ? parseReportUri(uri, 'PEM_REPORT_URI') : null;
}

/** The whole check; returns the run level. */
export async function checkAction(
  flags: CheckFlags,
  context: CliContext,
  prepared: PreparedCheck,
  format: CheckFormat,
  publishTo: ReportLocation | null = null,
): Promise<RunLevel> {
  const { result, deliveryError, undeployed } = await withCheckSession(flags, context, prepared, async ({ registry, inputs, warehouse }) => {
    const checking = checkingText(prepared, warehouse);
    const delivered = await withProgress(context, checking, async (progress) => {
      // Per-day run details are for the HTML report (and gaps): a check that publishes no report leaves
      // them out (memory, SPEC §14).
      // Processors Dataform has not deployed yet do not stop the others' alerts: named after them (exit 1).
      const found = await runCheck(warehouse, registry, inputs, {
        dayDetails: publishTo !== null,
        onStatement: sliceProgress(checking, progress),
        allowUndeployed: true,
        redact: destinationSecrets(context.settings.environment, registry.routes),
      });
      for (const note of unusableRowNotes(found)) context.log.warn(note);
      const drift = deployedConfigDrift(registry, found, flags.config);
      if (drift) context.log.warn(drift);
      progress.step(flags.dryRun ? 'listing the alerts (dry run: nothing is sent)' : 'delivering the alerts');
      // Alerts go out before printing, so the report shows what was sent (SPEC §7 `sent`). A SIGTERM
      // meanwhile lets delivery settle its alert state before the process ends (`stop.ts`).
      const sent = await context.stop.whileStoppable(() =>
        deliverAlerts(found, {
          registry, warehouse, settings: context.settings, log: context.log, dryRun: Boolean(flags.dryRun),
          checkCommand: commandContext(flags, context.settings, found.report), stop: context.stop.signal,
        }),
      );
      return { ...sent, undeployed: found.undeployed ?? [] };
    });
    await writeCheckResult(delivered.result, context, format, registry.timezone);
    const undeployedError =
      delivered.undeployed.length > 0
        ? runtimeError(`${warehouse.description}: ${undeployedText(delivered.undeployed)}; ${plural(delivered.result.report.processors.length, 'other processor')} checked`)
        : null;
    return { result: delivered.result, deliveryError: delivered.error, undeployed: undeployedError };
  }, Boolean(flags.dryRun));
  // After the alerts and outside the warehouse session: a slow or failing upload never holds
  // the database nor an alert (SPEC §11).
  // Not once the run was asked to stop (SIGTERM during delivery): its few seconds are for the alert state.
  const uploadError = publishTo && !context.stop.signal.aborted ? await publish(result, prepared.registry, publishTo, flags, context) : null;
  // Asked to stop after delivery had settled (nothing left to give back): the command still did
  // not finish (no upload, no heartbeat), which is exit 1 and says so.
  const stopped = context.stop.signal.aborted && deliveryError === null ? runtimeError(`${describeError(context.stop.signal.reason)}; alert delivery had finished`) : null;
  // A destination that failed after retries, or the upload, fails the run (exit 1), once the report is out.
  const errors = [undeployed, deliveryError, uploadError, stopped].filter((e): e is PemError => e !== null);
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw runtimeError(errors.map((e) => e.message).join('; '));
  return result.report.level;
}

async function publish(result: CheckResult, registry: Registry, to: ReportLocation, flags: CheckFlags, context: CliContext): Promise<PemError | null> {
  if (flags.dryRun) {
    context.log.info(`dry run: would publish the HTML report to ${to.uri}; nothing uploaded`);
    return null;
  }
  const html = htmlReportBuffer(result, {
    timezone: registry.timezone,
    generatedAt: context.now(),
    configs: new Map(registry.processors.map((p) => [p.name, p])),
    command: commandContext(flags, context.settings, result.report),
  });
  const policy = retryPolicyWith(context.settings.alertRetry);
  try {
    await publishReport(html, to, {
      apiEndpoint: context.settings.reportPublish.apiEndpoint,
      projectId: context.settings.bigQuery.project,
      retries: policy.retries,
      timeoutMs: policy.timeoutMs,
    });
  } catch (error) {
    return runtimeError(`report upload to ${to.uri} failed: ${describeStorageError(error)}`);
  }
  context.log.info(`report: published ${to.uri}${registry.report_url ? ` (${registry.report_url})` : ''}`);
  return null;
}

