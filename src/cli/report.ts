/**
 * `pem report --html <file>`: the check's result as one self-contained HTML page.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../check/report.js';
import type { Registry } from '../config/registry.js';
import { runtimeError, usageError } from '../errors.js';
import { htmlReportPieces } from '../report/html.js';
import { addExamples, type CliContext } from './context.js';
import { addCheckSelectionOptions, checkFromFlags, type CheckSelectionFlags } from './selection.js';

/**
 * Writes the report, creating its folder; a write failure is the monitor failing (exit 1). Written
 * piece by piece (the page of 10,000 processors × 90 days is 55 MB), and to a partial file beside
 * the target renamed over it once whole: a run that fails half-way leaves the last page whole (one
 * killed half-way, by SIGKILL or out of memory, leaves a `.pem-report-*.partial` beside it too).
 */
export function writeHtmlReport(path: string, result: CheckResult, registry: Registry, generatedAt: Date): void {
  const failure = (error: unknown) => runtimeError(`cannot write the HTML report to ${path}: ${error instanceof Error ? error.message : String(error)}`);
  let plan: WritePlan;
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    plan = writePlan(path);
  } catch (error) {
    throw failure(error);
  }
  let fd: number | null = null;
  try {
    fd = openSync(plan.partial ?? plan.target, 'w');
    if (plan.partial !== null && plan.mode !== null) fchmodSync(fd, plan.mode);
    for (const piece of htmlReportPieces(result, { timezone: registry.timezone, generatedAt })) {
      const bytes = Buffer.from(piece, 'utf8');
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    }
    closeSync(fd);
    fd = null;
    if (plan.partial !== null) renameSync(plan.partial, plan.target);
  } catch (error) {
    // Each on its own: the write's own failure is the one to report.
    try {
      if (fd !== null) closeSync(fd);
    } catch {}
    try {
      if (plan.partial !== null) rmSync(plan.partial, { force: true });
    } catch {}
    throw failure(error);
  }
}

/**
 * Where the page goes. A regular file (or none yet): a partial file beside it, renamed over it, with
 * the replaced file's permissions. A symbolic link: the file it names, the link kept (as a plain
 * write through it would). Anything else (a FIFO, a device, `/dev/stdout`): written into directly,
 * since it cannot be replaced, nor should be. A folder: refused before the page is made.
 */
interface WritePlan {
  target: string;
  partial: string | null;
  mode: number | null;
}

/** Whether `path` names a folder (through a link too); a path that cannot be looked at is the write's to report. */
function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function writePlan(path: string): WritePlan {
  let target = path;
  let stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink()) {
    try {
      target = realpathSync(path);
    } catch {
      // A link to nothing (or to a pipe, as /dev/stdout may be): written through, as before.
      return { target: path, partial: null, mode: null };
    }
    stat = lstatSync(target, { throwIfNoEntry: false });
  }
  if (stat?.isDirectory()) throw new Error('it is a folder; name a file, for example report.html');
  if (stat && !stat.isFile()) return { target, partial: null, mode: null };
  // Short and unique: beside a name near the file system's limit, and beside another container's write.
  const partial = join(dirname(target), `.pem-report-${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  return { target, partial, mode: stat ? stat.mode & 0o7777 : null };
}

export function registerReportCommand(program: Command, context: CliContext): void {
  const command = program
    .command('report')
    .description('write the health report (heatmap of day statuses, worst first) as one self-contained HTML file')
    .requiredOption('--html <file>', 'HTML file to write (its folder is created)');
  addExamples(command, [
    ['pem report --html .pem/report.html', 'the last 7 days of every enabled processor'],
    ['pem report --html .pem/q3.html --date 2025-09-30 --lookback-days 90', 'a quarter'],
    ['pem report --html .pem/gamebook.html --processors gamebook_processor', 'one processor'],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { html: string }) => {
    // Before the check runs: an empty name would fail only at the write, after all the work.
    if (flags.html.trim() === '') throw usageError('--html needs a file name, for example --html report.html');
    if (isFolder(flags.html)) {
      throw usageError(`--html ${flags.html} is a folder: name a file, for example --html ${join(flags.html, 'report.html')}`);
    }
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
