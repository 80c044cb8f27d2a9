import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spoolDirOf, spoolRunRows } from '../../src/warehouse/duckdb-spool.js';
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

    const told: { file: string; why: string; aside: string }[] = [];
    const kept: string[] = [];
    const open = () =>
      openDuckDb({
        path: scenario!.databasePath,
        create: false,
        onSpoolDamaged: (file, why, aside) => told.push({ file, why, aside }),
        onSpoolKept: (t, rows, reason) => kept.push(`${t} ${rows} ${reason}`),
      });
    const warehouse = await open();
    try {
      const rows = await warehouse.query(`SELECT run_id FROM ${table} ORDER BY run_id`);
      expect(rows.map((r) => r.run_id)).toEqual(['good-1', 'good-2']);
    } finally {
      await warehouse.close();
    }
    expect(kept).toEqual([]);
    expect(told.map(({ file, why }) => [file, why])).toEqual([
      [truncated, expect.stringMatching(/^not JSON: /)],
      [wrongInstant, 'row.started_at: not an instant'],
      [monthThirteen, 'row.processing_date: not a YYYY-MM-DD date'],
    ]);
    // Moved beside the others, under a name the drain does not read, content untouched.
    for (const { file, aside } of told) {
      expect(aside).toMatch(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${basename(file, '.json')}\\.\\d+\\.damaged\\.json$`));
    }
    expect(readFileSync(told[1]!.aside, 'utf8')).toBe(badInstant);
    expect(readdirSync(dir).sort()).toEqual(told.map((t) => basename(t.aside)).sort());

    // The next open finds nothing to drain and says nothing again.
    const again = await open();
    await again.query('SELECT 1 AS one');
    await again.close();
    expect(told).toHaveLength(3);
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

  it('names the file and what to do in pem check, one line, and the check goes on', async () => {
    scenario = await createScenario(registry);
    const dir = spoolDirOf(scenario.databasePath);
    spoolRunRows(scenario.databasePath, table, [row('good-1')]);
    const file = damagedFile(dir, 'd', JSON.stringify({ table, row: { run_id: 'x', processor_name: 'p', processing_date: '2025-02-30', status: 'success' } }));
    const run = await scenario.check(['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--dry-run', '--json-output']);
    expect(run.code).toBe(0);
    const warnings = run.stderr.split('\n').filter((line) => line.includes('run row'));
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds no whole run row \\(row\\.processing_date: not a YYYY-MM-DD date\\): moved to ${basename(file, '.json')}\\.\\d+\\.damaged\\.json beside it and not added to the run history; see what it holds, and record that run again \\(pem record\\) if it matters$`,
        ),
      ),
    ]);
    expect(run.json.processors[0].days.at(-1)).toMatchObject({ date: '2025-10-07', status: 'success' });
  });
});
