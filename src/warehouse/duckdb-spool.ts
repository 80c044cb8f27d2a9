/**
 * The spool of a DuckDB file: run rows that could not be written because another process held
 * the file (DuckDB allows one writing process per file) wait here, beside the database, until the
 * next process that opens it for writing adds them. Late, never lost.
 *
 * One file per row in `<database>.spool/`, named after `(table, run_id, status)`, written to a
 * temporary name, fsync'd and renamed into place (then the folder is fsync'd), so a reader sees
 * whole rows or none and a crash leaves no half row. Adding is idempotent twice over: a row
 * spooled twice is one file, and the table's append skips a `(run_id, status)` it already holds.
 * Draining lists the folder, appends what it read, and removes only the files it read, so a row
 * spooled during a drain waits for the next one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRow } from './run-row.js';

const ROW_FILE = /^[0-9a-f]{64}\.json$/;

/** A spooled row: the table it belongs to and the row. */
export interface SpooledRow {
  file: string;
  table: string;
  row: RunRow;
}

/** The spool folder of a DuckDB file. */
export function spoolDirOf(databasePath: string): string {
  return `${databasePath}.spool`;
}

/** Keeps `rows` of `table` in the spool of `databasePath`, durably; returns the folder. */
export function spoolRunRows(databasePath: string, table: string, rows: readonly RunRow[]): string {
  const dir = spoolDirOf(databasePath);
  mkdirSync(dir, { recursive: true });
  for (const row of rows) {
    const name = createHash('sha256').update(`${table}\u0000${row.run_id}\u0000${row.status}`).digest('hex');
    const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    writeDurably(temporary, JSON.stringify({ table, row }));
    renameSync(temporary, join(dir, `${name}.json`));
  }
  // The renames themselves are durable only once the folder is.
  syncPath(dir);
  return dir;
}

/** The rows waiting in the spool of `databasePath` (none when it has no spool). */
export function readSpool(databasePath: string): SpooledRow[] {
  const dir = spoolDirOf(databasePath);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => ROW_FILE.test(name));
  } catch {
    return [];
  }
  const rows: SpooledRow[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const { table, row } = JSON.parse(readFileSync(file, 'utf8')) as { table: string; row: RunRow & { started_at: string | null; completed_at: string | null } };
      rows.push({
        file,
        table,
        row: {
          ...row,
          started_at: row.started_at === null ? null : new Date(row.started_at),
          completed_at: row.completed_at === null ? null : new Date(row.completed_at),
        },
      });
    } catch {
      // Removed by a concurrent drain, or unreadable: left for the next drain to try.
    }
  }
  return rows;
}

/** Removes spooled rows once their table holds them. */
export function forgetSpooled(rows: readonly SpooledRow[]): void {
  for (const { file } of rows) rmSync(file, { force: true });
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
