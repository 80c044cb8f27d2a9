import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spoolDirOf, spoolRunRows, type DamagedSpoolFile } from '../../src/warehouse/duckdb-spool.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { createScenario, toRunRow, type Scenario } from '../support/scenario.js';

const registry = { dataset: 'monitoring', timezone: 'UTC', processors: { p: { expected_frequency: 'daily' } } };
const table = 'monitoring.processor_run_history';
const row = (runId: string) =>
  toRunRow({ run_id: runId, processor_name: 'p', processing_date: '2025-10-07', status: 'success', started_at: '2025-10-08T01:00:00Z', completed_at: '2025-10-08T01:10:00Z', records_processed: 5 });

/** A spool file with a name the drain reads (64 hex digits), holding `content`. */
const damagedFile = (dir: string, digit: string, content: string) => {
  const file = join(dir, `${digit.repeat(64)}.json`);
  writeFileSync(file, content);
  return file;
};

let scenario: Scenario | undefined;
afterEach(() => scenario?.cleanup());

describe('a damaged spool file', () => {
  it('is set aside with its content, said once, and does not keep the good rows out of the table', async () => {
    scenario = await createScenario(registry);
    const dir = spoolRunRows(scenario.databasePath, table, [row('good-1'), row('good-2')]);
    const truncated = damagedFile(dir, 'a', '{"table":"monitoring.processor_run_history","row":{"run_id":"cut');
    // Whole JSON, but an instant the appender cannot take: before, its table's batch failed with it, every time.
    const badInstant = JSON.stringify({ table, row: { ...JSON.parse(JSON.stringify(row('bad-instant'))), started_at: 'yesterday' } });
    const wrongInstant = damagedFile(dir, 'b', badInstant);
    // A month 13: its check threw inside validation, and every open of the file failed.
    const monthThirteen = damagedFile(dir, 'c', JSON.stringify({ table, row: { ...JSON.parse(JSON.stringify(row('month-13'))), processing_date: '2025-13-07' } }));

    // The file cut short holds an escape sequence and a line break: the warning must quote neither.
    writeFileSync(truncated, '{"table":\n\u001b[31mred');
    const told: DamagedSpoolFile[][] = [];
    const kept: string[] = [];
    const open = (withWarning = true) =>
      openDuckDb({
        path: scenario!.databasePath,
        create: false,
        ...(withWarning ? { onSpoolDamaged: (files: readonly DamagedSpoolFile[]) => void told.push([...files]) } : {}),
        onSpoolKept: (t, rows, reason) => kept.push(`${t} ${rows} ${reason}`),
      });
    // Drained first by an open with no one to tell (a recorder's), as a check's own run row does.
    const silent = await open(false);
    try {
      const rows = await silent.query(`SELECT run_id FROM ${table} ORDER BY run_id`);
      expect(rows.map((r) => r.run_id)).toEqual(['good-1', 'good-2']);
    } finally {
      await silent.close();
    }
    expect(kept).toEqual([]);
    // Moved beside the others, under a name the drain does not read, content untouched.
    const names = readdirSync(dir).sort();
    expect(names).toHaveLength(3);
    for (const [i, file] of [truncated, wrongInstant, monthThirteen].entries()) {
      expect(names[i]).toMatch(new RegExp(`^${basename(file, '.json')}\\.\\d+\\.damaged\\.json$`));
    }
    expect(readFileSync(join(dir, names[1]!), 'utf8')).toBe(badInstant);

    // Every later open that can warn says so, once per warehouse, while the files remain.
    const later = await open();
    await later.query('SELECT 1 AS one');
    await later.query('SELECT 2 AS two');
    await later.close();
    // With why, read again from each file: the open that set them aside had no one to tell.
    expect(told).toEqual([
      [
        { file: names[0], reason: 'not JSON (cut short, or edited)' },
        { file: names[1], reason: 'row.started_at: not an instant' },
        { file: names[2], reason: 'row.processing_date: not a YYYY-MM-DD date' },
      ],
    ]);
  });

  it('is never written: DuckDB refuses a row whose date is not of the calendar, whole, before appending any', async () => {
    scenario = await createScenario(registry);
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rolled = { ...row('rolled'), processing_date: '2025-02-30' };
      await expect(warehouse.insertRunRows(table, [row('fine'), rolled])).rejects.toThrow("run rolled: processing_date '2025-02-30' is not a calendar date (YYYY-MM-DD)");
      expect(await warehouse.query(`SELECT run_id FROM ${table}`)).toEqual([]);
    } finally {
      await warehouse.close();
    }
  });

  it('is named with what is wrong and what to do by pem check, one line, also after its own run row drained the spool silently', async () => {
    scenario = await createScenario(registry);
    const dir = spoolDirOf(scenario.databasePath);
    spoolRunRows(scenario.databasePath, table, [row('good-1')]);
    const file = damagedFile(dir, 'd', JSON.stringify({ table, row: { run_id: 'x', processor_name: 'p', processing_date: '2025-02-30', status: 'success' } }));
    // Not a dry run: the check records its own run row first, through an open that warns no one.
    const run = await scenario.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--json-output']);
    expect(run.code, run.stderr).toBe(0);
    const warnings = run.stderr.split('\n').filter((line) => line.includes('set aside'));
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: 1 file in ${escaped(dir)} was set aside, not added to the run history: ${basename(file, '.json')}\\.\\d+\\.damaged\\.json \\(row\\.processing_date: not a YYYY-MM-DD date\\); see what it holds and, if it matters, record it with pem record \\(as a new run where the reason says so\\), then delete it$`,
        ),
      ),
    ]);
    expect(run.json.processors[0].days.at(-1)).toMatchObject({ date: '2025-10-07', status: 'success' });
  });
});

describe('a second row of a (run_id, status) that says something else', () => {
  const withRecords = (runId: string, records: number) => ({ ...row(runId), records_processed: records });
  /** The table's runs and counts, read by an open (which drains the spool first, telling `onSpoolDamaged`). */
  const countsAfterOpen = async (onSpoolDamaged?: (files: readonly DamagedSpoolFile[]) => void) => {
    const warehouse = await openDuckDb({ path: scenario!.databasePath, create: false, ...(onSpoolDamaged ? { onSpoolDamaged } : {}) });
    try {
      return await warehouse.query(`SELECT run_id, records_processed FROM ${table} ORDER BY run_id`);
    } finally {
      await warehouse.close();
    }
  };

  it('is refused when spooled, saying how it differs, and the first row waiting there stays; the same values again are a retry', async () => {
    scenario = await createScenario(registry);
    const dir = spoolRunRows(scenario.databasePath, table, [withRecords('twice', 10)]);
    // A retry: kept once, nothing said.
    expect(spoolRunRows(scenario.databasePath, table, [withRecords('twice', 10)])).toBe(dir);
    expect(() => spoolRunRows(scenario!.databasePath, table, [withRecords('other', 3), withRecords('twice', 20)])).toThrow(
      `run twice already has a success row waiting in ${dir}, which says records_processed 10, not 20; a run keeps its first row of each status`,
    );
    // No temporary file left behind; the other row of that call was kept.
    expect(readdirSync(dir).filter((name) => !name.endsWith('.json'))).toEqual([]);
    expect(await countsAfterOpen()).toEqual([
      { run_id: 'other', records_processed: 3 },
      { run_id: 'twice', records_processed: 10 },
    ]);
  });

  it('takes the place of a damaged file waiting under its name, which is set aside, never deleted', async () => {
    scenario = await createScenario(registry);
    const dir = spoolDirOf(scenario.databasePath);
    mkdirSync(dir, { recursive: true });
    const name = createHash('sha256').update(`${table}\u0000twice\u0000success`).digest('hex');
    writeFileSync(join(dir, `${name}.json`), '{"table":"cut sh');
    spoolRunRows(scenario.databasePath, table, [withRecords('twice', 10)]);
    const names = readdirSync(dir).sort();
    expect(names).toEqual([expect.stringMatching(new RegExp(`^${name}\\.\\d+\\.damaged\\.json$`)), `${name}.json`]);
    expect(readFileSync(join(dir, names[0]!), 'utf8')).toBe('{"table":"cut sh');
    expect(await countsAfterOpen()).toEqual([{ run_id: 'twice', records_processed: 10 }]);
  });

  it('is set aside with why when the table already holds the first, and named by the next open that can warn', async () => {
    scenario = await createScenario(registry);
    const first = await openDuckDb({ path: scenario.databasePath, create: false });
    await first.insertRunRows(table, [withRecords('stored', 10), withRecords('retried', 4)]);
    await first.close();
    // Spooled while the file was held: one that differs from the stored row, and a plain retry.
    const dir = spoolRunRows(scenario.databasePath, table, [withRecords('stored', 20), withRecords('retried', 4)]);
    const told: DamagedSpoolFile[][] = [];
    expect(await countsAfterOpen((files) => void told.push([...files]))).toEqual([
      { run_id: 'retried', records_processed: 4 },
      { run_id: 'stored', records_processed: 10 },
    ]);
    const names = readdirSync(dir);
    expect(names).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.\d+\.damaged\.json$/)]);
    expect(JSON.parse(readFileSync(join(dir, names[0]!), 'utf8')).row).toMatchObject({ run_id: 'stored', records_processed: 20 });
    // Told by the very open whose drain set it aside.
    expect(told).toEqual([[{ file: names[0], reason: 'run stored already has a stored success row, which says records_processed 10, not 20; a run keeps its first row of each status, so record the date as a new run (pem record start) to keep these values' }]]);
  });
});

describe('a DuckDB file reached through a link', () => {
  it('shares its spool with the file itself: rows spooled through the link are added by an open of the file', async () => {
    scenario = await createScenario(registry);
    const link = join(scenario.dir, 'link.duckdb');
    symlinkSync(scenario.databasePath, link);
    expect(spoolDirOf(link)).toBe(spoolDirOf(realpathSync(scenario.databasePath)));
    spoolRunRows(link, table, [row('through-the-link')]);
    const warehouse = await openDuckDb({ path: realpathSync(scenario.databasePath), create: false });
    try {
      expect(await warehouse.query(`SELECT run_id FROM ${table}`)).toEqual([{ run_id: 'through-the-link' }]);
    } finally {
      await warehouse.close();
    }
  });
});

describe('a spooled row its table refuses', () => {
  it('stays spooled alone, said once, while the other rows of its table are added', async () => {
    scenario = await createScenario(registry);
    const setUp = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      // A table made by hand whose count is a 32-bit INTEGER: it refuses a count of three billion.
      await setUp.execute(`CREATE TABLE monitoring.narrow AS SELECT * REPLACE (CAST(records_processed AS INTEGER) AS records_processed) FROM ${table} LIMIT 0`);
      await setUp.execute(`DROP TABLE ${table}`);
      await setUp.execute('ALTER TABLE monitoring.narrow RENAME TO processor_run_history');
    } finally {
      await setUp.close();
    }
    const dir = spoolRunRows(scenario.databasePath, table, [row('good-1'), { ...row('too-many'), records_processed: 3_000_000_000 }, row('good-2')]);
    const kept: string[] = [];
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false, onSpoolKept: (t, rows, reason) => kept.push(`${t} ${rows} ${reason}`) });
    try {
      expect((await warehouse.query(`SELECT run_id FROM ${table} ORDER BY run_id`)).map((r) => r.run_id)).toEqual(['good-1', 'good-2']);
    } finally {
      await warehouse.close();
    }
    expect(kept).toEqual([expect.stringMatching(/^monitoring\.processor_run_history 1 .*out of range/i)]);
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

describe('a spool file this process cannot read', () => {
  it('is left for a drain that can, said once by an open that warns, and keeps no other row out', async () => {
    scenario = await createScenario(registry);
    const dir = spoolRunRows(scenario.databasePath, table, [row('readable')]);
    // What root cannot read either: a folder under a row file's name (another user's 0600 file reads as EACCES).
    mkdirSync(join(dir, `${'e'.repeat(64)}.json`));
    const told: DamagedSpoolFile[][] = [];
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false, onSpoolUnreadable: (files) => void told.push([...files]) });
    try {
      expect(await warehouse.query(`SELECT run_id FROM ${table}`)).toEqual([{ run_id: 'readable' }]);
      await warehouse.query('SELECT 1 AS again');
    } finally {
      await warehouse.close();
    }
    expect(told).toEqual([[{ file: `${'e'.repeat(64)}.json`, reason: 'cannot be read: EISDIR' }]]);
    expect(readdirSync(dir)).toEqual([`${'e'.repeat(64)}.json`]);
  });

  it('is not set aside by a row spooled under its name, which is refused instead (the first stays)', async () => {
    scenario = await createScenario(registry);
    const dir = spoolDirOf(scenario.databasePath);
    const name = createHash('sha256').update(`${table}\u0000other-user\u0000success`).digest('hex');
    mkdirSync(join(dir, `${name}.json`), { recursive: true });
    expect(() => spoolRunRows(scenario!.databasePath, table, [row('other-user')])).toThrow(
      `run other-user already has a success row waiting in ${dir}, which this user cannot read; a run keeps its first row of each status`,
    );
    expect(readdirSync(dir)).toEqual([`${name}.json`]);
  });

  it('is named by pem check in one line, with what to do', async () => {
    scenario = await createScenario(registry);
    const dir = spoolDirOf(scenario.databasePath);
    mkdirSync(join(dir, `${'f'.repeat(64)}.json`), { recursive: true });
    const run = await scenario.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--json-output', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line.includes('cannot be read'))).toEqual([
      `warning: 1 file in ${dir} cannot be read, so the run row in it waits: ${'f'.repeat(64)}.json (cannot be read: EISDIR); where another user wrote it (EACCES: a pem record run as another user than the check), run pem as that user or make it readable`,
    ]);
  });
});
