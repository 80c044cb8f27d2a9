/**
 * `pem report --html <file>`: the check's result as one self-contained HTML page.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../check/report.js';
import type { Registry } from '../config/registry.js';
import { runtimeError } from '../errors.js';
import { htmlReportPieces } from '../report/html.js';
import { addExamples, type CliContext } from './context.js';
import { addCheckSelectionOptions, checkFromFlags, type CheckSelectionFlags } from './selection.js';

/**
 * Writes the report, creating its folder; a write failure is the monitor failing (exit 1). Written
 * piece by piece (the page of 10,000 processors × 90 days is 55 MB) to a file beside it, then
 * renamed over it: a run that fails or is stopped half-way leaves the last report whole.
 */
export function writeHtmlReport(path: string, result: CheckResult, registry: Registry, generatedAt: Date): void {
  const partial = `${path}.${process.pid}.partial`;
  let fd: number | null = null;
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    fd = openSync(partial, 'w');
    for (const piece of htmlReportPieces(result, { timezone: registry.timezone, generatedAt })) {
      const bytes = Buffer.from(piece, 'utf8');
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    }
    closeSync(fd);
    fd = null;
    renameSync(partial, path);
  } catch (error) {
    try {
      if (fd !== null) closeSync(fd);
      rmSync(partial, { force: true });
    } catch {
      // The write's own failure is the one to report.
    }
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
