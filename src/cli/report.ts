/**
 * `pem report --html <file>`: the check's result as one self-contained HTML page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../check/report.js';
import type { Registry } from '../config/registry.js';
import { runtimeError } from '../errors.js';
import { renderHtmlReport } from '../report/html.js';
import { addExamples, type CliContext } from './context.js';
import { addCheckSelectionOptions, checkFromFlags, type CheckSelectionFlags } from './selection.js';

/** Writes the report, creating its folder; a write failure is the monitor failing (exit 1). */
export function writeHtmlReport(path: string, result: CheckResult, registry: Registry, generatedAt: Date): void {
  const html = renderHtmlReport(result, { timezone: registry.timezone, generatedAt });
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, html, 'utf8');
  } catch (error) {
    throw runtimeError(`cannot write the HTML report to ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function registerReportCommand(program: Command, context: CliContext): void {
  const command = program
    .command('report')
    .description('write the health report (heatmap of day statuses, worst first) as one self-contained HTML file')
    .requiredOption('--html <file>', 'HTML file to write (its folder is created)');
  addExamples(command, [
    ['pem report --html report.html', 'the last 7 days of every enabled processor'],
    ['pem report --html q3.html --date 2025-09-30 --lookback-days 90', 'a quarter'],
    ['pem report --html gamebook.html --processors gamebook_processor', 'one processor'],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { html: string }) => {
    const clock = context.now();
    const { registry, result } = await checkFromFlags(flags, context, clock);
    writeHtmlReport(flags.html, result, registry, clock);
    const { report } = result;
    context.stdout.write(
      `wrote ${flags.html}: ${report.processors.length} processor${report.processors.length === 1 ? '' : 's'} x ` +
        `${report.lookback_days} day${report.lookback_days === 1 ? '' : 's'} (${report.window_start} .. ${report.window_end}), level ${report.level}\n`,
    );
  });
}
