/**
 * The spool of a DuckDB file: run rows that could not be written because another process held
 * the file (DuckDB allows one writing process per file) wait here, beside the database, until the
 * next process that opens it for writing adds them. Late, never lost.
 *
 * One file per row in `<database>.spool/`, named after `(table, run_id, status)`, written to a
 * temporary name, fsync'd and linked into place (then the folder is fsync'd), so a reader sees
 * whole rows or none and a crash leaves no half row. Adding is idempotent twice over: a row
 * spooled twice is one file, and the table's append skips a `(run_id, status)` it already holds.
 * Either way the first row of a `(run_id, status)` is the one kept (SPEC §2), as when the table
 * takes it at once: a second one that says something else is refused when it is spooled, and set
 * aside with why when the drain finds the table already holding another (never dropped unsaid).
 * Draining lists the folder, appends what it read, and removes only the files it read, so a row
 * spooled during a drain waits for the next one. A file that does not hold a whole run row (edited
 * by hand, or written by a disk that failed) is set aside under another name, never deleted: left in
 * place it would be read again at every open, and its table's other rows would fail with it. Every
 * open that can warn says so while such files remain (`damagedSpoolFiles`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { isCalendarDate } from '../calendar.js';
import { repeatDifferences, type RepeatedRunRow, type RunRow } from './run-row.js';

const ROW_FILE = /^[0-9a-f]{64}\.json$/;
/** A ROW_FILE set aside because it held no whole run row (`setAsideDamaged`), or one its table would not take (`setAsideRepeated`). */
const DAMAGED_FILE = /^[0-9a-f]{64}\.\d+\.damaged\.json$/;

/** A spooled row: the table it belongs to and the row. */
export interface SpooledRow {
  file: string;
  table: string;
  row: RunRow;
}

/** A spool file that holds no whole run row, and why. */
export interface DamagedSpoolFile {
  file: string;
  reason: string;
}

const instant = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'not an instant');
const calendarDate = z.string().refine(isCalendarDate, 'not a YYYY-MM-DD date');
const text = z.string().min(1);
/** What `spoolRunRows` writes, as the appender needs it (SPEC §2's columns; nullable ones may be absent). */
const spooledFile = z.object({
  table: text,
  row: z.object({
    run_id: text,
    processor_name: text,
    processing_date: calendarDate,
    status: text,
    started_at: instant.nullish(),
    completed_at: instant.nullish(),
    // A count the table's BIGINT holds exactly (what pem record writes); a larger one failed its table's whole drain.
    records_processed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
    errors: z.array(z.object({ error_type: z.string(), error_message: z.string() })).nullish(),
    trigger_source: z.string().nullish(),
    metadata: z.unknown(),
  }),
  /** Written into a row set aside by `setAsideRepeated`: why it was not added. */
  not_added: z.string().optional(),
});

/** Why `content` is not a spooled run row, in a few words (`row.started_at: not an instant`), or the row. */
function parseSpooled(content: string): { table: string; row: RunRow; notAdded?: string } | string {
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch {
    // Not the parser's message: it quotes the file's text, which may hold anything.
    return 'not JSON (cut short, or edited)';
  }
  const parsed = spooledFile.safeParse(document);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return issue ? `${issue.path.join('.') || 'the file'}: ${issue.message}` : 'not a run row';
  }
  const { table, row, not_added: notAdded } = parsed.data;
  return {
    table,
    ...(notAdded === undefined ? {} : { notAdded }),
    row: {
      run_id: row.run_id,
      processor_name: row.processor_name,
      processing_date: row.processing_date,
      status: row.status,
      started_at: row.started_at == null ? null : new Date(row.started_at),
      completed_at: row.completed_at == null ? null : new Date(row.completed_at),
      records_processed: row.records_processed ?? null,
      errors: row.errors ?? null,
      trigger_source: row.trigger_source ?? null,
      metadata: row.metadata ?? null,
    },
  };
}

/** The names in a spool folder of one kind (`ROW_FILE`, `DAMAGED_FILE`), sorted; none when there is no folder. */
function spoolFileNames(dir: string, kind: RegExp): string[] {
  try {
    return readdirSync(dir).filter((name) => kind.test(name)).sort();
  } catch {
    return [];
  }
}

/**
 * The spool folder of a DuckDB file: beside the file itself, also when it is reached through a
 * link to it (a recorder given the link and a check given the file must share one spool).
 */
export function spoolDirOf(databasePath: string): string {
  let file = databasePath;
  try {
    if (lstatSync(databasePath).isSymbolicLink()) file = realpathSync(databasePath);
  } catch {
    // No such file (or a dangling link): named as given, and reported as missing by whoever opens it.
  }
  return `${file}.spool`;
}

/**
 * Keeps `rows` of `table` in the spool of `databasePath`, durably; returns the folder. A row whose
 * `(run_id, status)` already waits there with other values is not kept (the first stays): once the
 * others are kept, that is an error saying which and how they differ. The same values again are a
 * retry, kept once.
 */
export function spoolRunRows(databasePath: string, table: string, rows: readonly RunRow[]): string {
  const dir = spoolDirOf(databasePath);
  mkdirSync(dir, { recursive: true });
  const refused: string[] = [];
  for (const row of rows) {
    const name = createHash('sha256').update(`${table}\u0000${row.run_id}\u0000${row.status}`).digest('hex');
    const file = join(dir, `${name}.json`);
    const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      // A full or read-only disk fails here: the half-written temporary goes with the failure.
      writeDurably(temporary, JSON.stringify({ table, row }));
      if (placeFirst(temporary, file)) continue;
      const waiting = readSpoolFile(file);
      if (waiting !== null && 'unreadable' in waiting) {
        // Another user's row (mode 0600): not this process's to set aside or compare; the first stays.
        refused.push(`run ${row.run_id} already has a ${row.status} row waiting in ${dir}, which this user cannot read; a run keeps its first row of each status`);
        continue;
      }
      if (waiting === null || 'damaged' in waiting) {
        // Damaged (or gone since): set aside as the drain would (never deleted), and this whole row takes its place.
        setAsideDamaged({ file, reason: waiting?.damaged ?? 'gone' });
        if (!placeFirst(temporary, file)) refused.push(`run ${row.run_id}: another ${row.status} row took its place in ${dir} meanwhile`);
        continue;
      }
      const differences = repeatDifferences({ row, stored: waiting.row });
      if (differences.length > 0) {
        refused.push(`run ${row.run_id} already has a ${row.status} row waiting in ${dir}, which says ${differences.join('; ')}; a run keeps its first row of each status`);
      }
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  // The links themselves are durable only once the folder is.
  syncPath(dir);
  if (refused.length > 0) throw new Error(refused.join('; '));
  return dir;
}

/**
 * Puts `temporary` in place as `file` unless a file is there already (false): a link, which unlike
 * a rename never replaces a row already waiting. Where the file system has no hard links (FAT,
 * some network and FUSE mounts), an exclusive copy instead, then fsync'd.
 */
function placeFirst(temporary: string, file: string): boolean {
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
  }
  try {
    copyFileSync(temporary, file, constants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  syncPath(file);
  return true;
}

/**
 * What one spool file holds: its row; why it holds no whole row (`damaged`); why this process
 * cannot read it (`unreadable`: another user's); or nothing, gone (a concurrent drain removed it).
 */
function readSpoolFile(file: string): { table: string; row: RunRow; notAdded?: string } | { damaged: string } | { unreadable: string } | null {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return code === 'ENOENT' ? null : { unreadable: code };
  }
  const spooled = parseSpooled(content);
  return typeof spooled === 'string' ? { damaged: spooled } : spooled;
}


/**
 * The rows waiting in the spool of `databasePath` (none when it has no spool), and the files that
 * hold no whole row (`setAsideDamaged`).
 */
export function readSpool(databasePath: string): { rows: SpooledRow[]; damaged: DamagedSpoolFile[]; unreadable: DamagedSpoolFile[] } {
  const dir = spoolDirOf(databasePath);
  const rows: SpooledRow[] = [];
  const damaged: DamagedSpoolFile[] = [];
  const unreadable: DamagedSpoolFile[] = [];
  for (const name of spoolFileNames(dir, ROW_FILE)) {
    const file = join(dir, name);
    const read = readSpoolFile(file);
    // Gone (a concurrent drain): nothing to say. Unreadable to this user (written by another,
    // mode 0600): left for a drain that can read it, and said, or it waits unseen.
    if (read === null) continue;
    if ('unreadable' in read) unreadable.push({ file: name, reason: `cannot be read: ${read.unreadable}` });
    else if ('damaged' in read) damaged.push({ file, reason: read.damaged });
    else rows.push({ file, ...read });
  }
  return { rows, damaged, unreadable };
}

/**
 * Moves a damaged spool file out of the drain's way, beside the others
 * (`<name>.<epoch ms>.damaged.json`, DAMAGED_FILE), so a person can see what it held. When it cannot
 * be moved (another drain moved it first, a read-only folder), it is left where it is.
 */
export function setAsideDamaged(damaged: DamagedSpoolFile, now = Date.now()): void {
  try {
    renameSync(damaged.file, join(damaged.file, '..', `${basename(damaged.file, '.json')}.${now}.damaged.json`));
  } catch {
    // Left in place: read (and refused) again by the next drain, never added, never blocking others.
  }
}

/**
 * Moves a spooled row its table did not take, because the table already holds another row of its
 * `(run_id, status)` that says something else, out of the drain's way as `setAsideDamaged` does, with
 * why written into it: every open that can warn then names it (`damagedSpoolFiles`), so the row
 * that was not added is not passed over in silence. Left in place when it cannot be moved.
 */
export function setAsideRepeated({ file, table, row }: SpooledRow, repeat: RepeatedRunRow, now = Date.now()): void {
  const why = `run ${row.run_id} already has a stored ${row.status} row, which says ${repeatDifferences(repeat).join('; ')}; a run keeps its first row of each status, so record the date as a new run (pem record start) to keep these values`;
  try {
    // Durably before the original goes: a crash in between leaves both, never neither.
    writeDurably(join(file, '..', `${basename(file, '.json')}.${now}.damaged.json`), JSON.stringify({ table, row, not_added: why }));
    syncPath(join(file, '..'));
    rmSync(file, { force: true });
  } catch {
    // Left in place: skipped again as a repeat by the next drain.
  }
}

/** Removes spooled rows once their table holds them. */
export function forgetSpooled(rows: readonly SpooledRow[]): void {
  for (const { file } of rows) rmSync(file, { force: true });
}

/** The damaged files set aside in the spool of `databasePath`, by name, each with why it holds no run row. */
export function damagedSpoolFiles(databasePath: string): DamagedSpoolFile[] {
  const dir = spoolDirOf(databasePath);
  return spoolFileNames(dir, DAMAGED_FILE).map((name) => {
    let why: string;
    try {
      const parsed = parseSpooled(readFileSync(join(dir, name), 'utf8'));
      why = typeof parsed === 'string' ? parsed : (parsed.notAdded ?? 'a whole run row after all: add it with pem record');
    } catch (error) {
      why = `unreadable: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
    }
    return { file: name, reason: why };
  });
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
