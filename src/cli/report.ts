/**
 * `pem report --html <file>`: the check's result as one self-contained HTML page.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../check/report.js';
import type { CheckCommandContext } from '../alerts/actions.js';
import type { Registry } from '../config/registry.js';
import { runtimeError, usageError } from '../errors.js';
import { plural, printable } from '../printable.js';
import { htmlReportPieces } from '../report/html.js';
import { addExamples, type CliContext } from './context.js';
import { addCheckSelectionOptions, checkFromFlags, commandContext, writePieces, type CheckSelectionFlags } from './selection.js';

/**
 * Writes the report, creating its folder; a write failure is the monitor failing (exit 1). Written
 * piece by piece (the page of 10,000 processors × 90 days is 55 MB), and to a partial file beside
 * the target renamed over it once whole: a run that fails half-way leaves the last page whole (one
 * killed half-way, by SIGKILL or out of memory, leaves a `.pem-report-*.partial` beside it too).
 */
export function writeHtmlReport(path: string, result: CheckResult, registry: Registry, generatedAt: Date, command?: CheckCommandContext): void {
  const failure = (error: unknown) => runtimeError(`cannot write the HTML report to ${path}: ${fileErrorReason(error)}`);
  let plan: WritePlan;
  try {
    makeFolders(dirname(resolve(path)));
    plan = writePlan(path);
  } catch (error) {
    throw failure(error);
  }
  let fd: number | null = null;
  try {
    fd = openSync(plan.partial ?? plan.target, 'w');
    if (plan.partial !== null && plan.mode !== null) fchmodSync(fd, plan.mode);
    for (const piece of htmlReportPieces(result, { timezone: registry.timezone, generatedAt, configs: new Map(registry.processors.map((p) => [p.name, p])), command })) {
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

function writePlan(path: string): WritePlan {
  let target = path;
  let stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink()) {
    // What the link leads to, as a write through it would reach it: `/dev/stdout` leads to a pipe
    // whose "path" (`/proc/<pid>/fd/pipe:[…]`) names no file beside which to write.
    const reached = statSync(path, { throwIfNoEntry: false });
    if (!reached?.isFile()) {
      if (reached?.isDirectory()) throw new Error('it is a folder; name a file, for example report.html');
      // A link to nothing (written through, creating its file) or to a pipe or a device.
      return { target: path, partial: null, mode: null };
    }
    target = realpathSync(path);
    stat = reached;
  }
  if (stat?.isDirectory()) throw new Error('it is a folder; name a file, for example report.html');
  if (stat && !stat.isFile()) return { target, partial: null, mode: null };
  // Short and unique: beside a name near the file system's limit, and beside another container's write.
  const partial = join(dirname(target), `.pem-report-${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  return { target, partial, mode: stat ? stat.mode & 0o7777 : null };
}

/**
 * Makes `folder` and the folders above it that do not exist, one at a time. Not `mkdirSync`'s
 * `recursive`: under a file system that refuses a new folder with ENOENT (`/proc/nope`), Node 20's
 * recursive mkdir tries again for ever.
 */
function makeFolders(folder: string): void {
  const missing: string[] = [];
  for (let at = folder; ; at = dirname(at)) {
    let stat;
    try {
      stat = statSync(at, { throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: a file further up; that file is named when the walk reaches it.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
    if (stat) {
      if (!stat.isDirectory()) throw new Error(`${at} is a file, not a folder`);
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const next of missing) {
    try {
      mkdirSync(next);
    } catch (error) {
      // Made meanwhile by another report writing beside this one: as good as made here.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(next, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new Error(`cannot make the folder ${next}: ${fileErrorReason(error)}`);
    }
  }
}

/**
 * A file system error without the path it names (the partial file's, never the one given) and
 * without the system call: `EACCES: permission denied`, `ENOSPC: no space left on device`.
 */
function fileErrorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return (error as NodeJS.ErrnoException).code ? error.message.replace(/, \w+ '.*'$/s, '') : error.message;
}

/** Whether the start of `file` reads as an HTML page (an earlier report, or any page), not data. */
function looksLikeHtml(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8').replace(/^\uFEFF/, '').toLowerCase();
    // Comments may come first (in a page, and in Markdown or XML too): what follows them decides.
    const start = text.replace(/^(?:\s|<!--[\s\S]*?-->)*/, '');
    return text.trim() === '' || start.startsWith('<!doctype html') || start.startsWith('<html');
  } finally {
    closeSync(fd);
  }
}

/**
 * What `--html` must not name, refused before the check runs (exit 2): a folder, and an existing
 * file that is not an HTML page: a typo's `--html .pem/monitoring.duckdb` or `--html
 * includes/processors.js` would have replaced the database or the registry with the page.
 */
function refuseHtmlTarget(path: string): void {
  if (path.trim() === '') throw usageError('--html needs a file name, for example --html report.html');
  const example = (folder: string) => `name a file, for example --html ${join(folder, 'report.html')}`;
  if (path.endsWith('/') || path.endsWith(sep)) throw usageError(`--html ${path} names a folder: ${example(path)}`);
  let stat;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch {
    // A path that cannot be looked at is the write's to report.
    return;
  }
  if (stat?.isDirectory()) throw usageError(`--html ${path} is a folder: ${example(path)}`);
  let html = true;
  try {
    html = !stat?.isFile() || looksLikeHtml(path);
  } catch {
    // Unreadable (write-only): the write decides.
  }
  if (!html) throw usageError(`--html ${path} exists and is not an HTML page: pem replaces only pages; remove it first, or name another file`);
}

/** Whether `path` is this process's standard output (`/dev/stdout`, `/proc/self/fd/1`, the file it is redirected to). */
function isProcessStdout(path: string): boolean {
  try {
    const [named, stdout] = [statSync(path), fstatSync(1)];
    return named.dev === stdout.dev && named.ino === stdout.ino;
  } catch {
    return false;
  }
}

export function registerReportCommand(program: Command, context: CliContext): void {
  const command = program
    .command('report')
    .description('write the health report (heatmap of day statuses, worst first) as one self-contained HTML file')
    .requiredOption('--html <file>', 'HTML file to write (required; its folder is created; - writes the page to stdout)');
  addExamples(command, [
    ['pem report --html .pem/report.html', 'the last 7 days of every enabled processor'],
    ['pem report --html .pem/q3.html --date 2025-09-30 --lookback-days 90', 'a quarter'],
    ['pem report --html .pem/gamebook.html --processors gamebook_processor', 'one processor'],
  ]);
  addCheckSelectionOptions(command).action(async (flags: CheckSelectionFlags & { html: string }) => {
    // The page itself on stdout (`--html /dev/stdout | …`, `>> log`): written as stdout is, whatever
    // it is (a pipe, a socket that cannot be opened by name, a file), never replaced, and the line
    // saying so goes beside it.
    const toStdout = flags.html === '-' || isProcessStdout(flags.html);
    // Before the check runs: these would fail (or destroy a file) only at the write, after all the work.
    if (!toStdout) refuseHtmlTarget(flags.html);
    const clock = context.now();
    const { registry, result } = await checkFromFlags(flags, context, clock);
    // The page's `pem gaps` lines read what this did: its registry, warehouse and instant.
    const command = commandContext(flags, context.settings, result.report);
    if (toStdout) await writePieces(context, htmlReportPieces(result, { timezone: registry.timezone, generatedAt: clock, configs: new Map(registry.processors.map((p) => [p.name, p])), command }));
    else writeHtmlReport(flags.html, result, registry, clock, command);
    const { report } = result;
    (toStdout ? context.stderr : context.stdout).write(
      `wrote ${flags.html === '-' ? 'the page to stdout' : printable(flags.html)}: ${plural(report.processors.length, 'processor')} x ` +
        `${plural(report.lookback_days, 'day')} (${report.window_start} .. ${report.window_end}), level ${report.level}\n`,
    );
  });
}
