/** `pem record start|complete`: bad input is exit 2 with one line; a warehouse problem never fails the caller unless --strict. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { spoolDirOf } from '../../src/warehouse/duckdb-spool.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { createScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario;
const NOW = new Date('2025-10-08T06:00:00Z');

beforeAll(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook: {} } });
});
afterAll(() => scenario?.cleanup());

const target = () => ['--config', scenario.registryPath, '--database', scenario.databasePath];
const record = (args: string[], env: Record<string, string> = {}) => runCli(['record', ...args, ...target()], { now: NOW, env });

describe('pem record start', () => {
  it('prints only the run id, which names the processor, the date and the start instant', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\/20251008T060000000Z-[0-9a-f]{12}\n$/);
  });

  it('records whatever the alert settings say: a malformed SLACK_WEBHOOK_URL in the container is not its to judge', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'], { SLACK_WEBHOOK_URL: 'hooks.slack.com/oops', PEM_ALERT_RETRIES: 'many' });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\//);
  });

  it('stores --metadata as given: whole numbers a double holds exactly, decimals, digits inside strings', async () => {
    const metadata = '{"ids": [9007199254740992, -9007199254740991, 1e21], "ratio": 0.30000000000000004, "job": "a \\"12345678901234567891\\" b"}';
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07', '--metadata', metadata]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await warehouse.query('SELECT metadata::VARCHAR AS metadata FROM nba_reference.processor_run_history WHERE run_id = $runId', { runId: { type: 'STRING', value: run.stdout.trim() } });
      expect(JSON.parse(String(rows[0]!.metadata))).toEqual(JSON.parse(metadata));
    } finally {
      await warehouse.close();
    }
  });

  it.each([
    [['--date', '2025-02-30', '--processor', 'gamebook'], "error: --date '2025-02-30' is not a valid date: use YYYY-MM-DD, for example 2025-10-07"],
    [['--date', '07/10/2025', '--processor', 'gamebook'], "error: --date '07/10/2025' is not a valid date"],
    [['--date', '2025-10-07', '--processor', ' '], "error: --processor must be a non-empty string, for example 'gamebook'"],
    [['--date', '2025-10-07', '--processor', 'gamebook', '--metadata', '{oops'], 'error: --metadata is not valid JSON'],
    [['--date', '2025-10-07', '--processor', 'gamebook', '--metadata', '{"total": [1, -1e999]}'], "error: --metadata has a number beyond what JSON stores (read as -Infinity): pass it as a string"],
    [
      ['--date', '2025-10-07', '--processor', 'gamebook', '--metadata', '{"note": "12345678901234567891", "ids": [9007199254740993]}'],
      "error: --metadata has the whole number 9007199254740993, beyond 2^53: it would be stored as 9007199254740992; pass it as a string, for example '{\"job_id\": \"9007199254740993\"}'",
    ],
    [['--date', '2025-10-07', '--processor', 'gamebook', '--table', 'no_dataset'], "error: --table 'no_dataset' is not a table name"],
    [['--date', '2025-10-07'], "error: required option '--processor <name>' not specified"],
  ])('exits 2 on %j with one clear line', async (args, message) => {
    const run = await record(['start', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('names --table beside --config when the registry is missing (a processor that does not ship it)', async () => {
    const missing = join(scenario.dir, 'absent.js');
    const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', missing, '--database', scenario.databasePath], { now: NOW });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: registry file ${missing} does not exist (pass --config PATH to a .js or .json registry, or --table DATASET.processor_run_history to record without it)\n`,
    });
    const withTable = await runCli(
      ['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', missing, '--table', 'nba_reference.processor_run_history', '--database', scenario.databasePath],
      { now: NOW },
    );
    expect(withTable).toMatchObject({ code: 0, stderr: '' });
  });

  it('says in --help what becomes of a row it cannot write in time', async () => {
    for (const sub of ['start', 'complete']) {
      const help = await runCli(['record', sub, '--help']);
      expect(help.stdout).toContain('A row not written within PEM_RECORD_TIMEOUT_MS (default 10000');
      expect(help.stdout).toContain('kept in <database>.spool/');
    }
  });

  it('exits 2 on a bad PEM_RECORD_TIMEOUT_MS', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'], { PEM_RECORD_TIMEOUT_MS: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: PEM_RECORD_TIMEOUT_MS 'soon' must be a whole number of milliseconds from 1 to 2147483647, for example 10000\n");
    // Beyond Node's longest timer every write timed out at once and was spooled.
    for (const value of ['99999999999', '0']) {
      const beyond = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'], { PEM_RECORD_TIMEOUT_MS: value });
      expect(beyond).toMatchObject({ code: 2, stderr: `error: PEM_RECORD_TIMEOUT_MS '${value}' must be a whole number of milliseconds from 1 to 2147483647, for example 10000\n` });
    }
  });

  it('still prints a run id and exits 0 when the warehouse cannot be written, with one warning', async () => {
    const missing = join(scenario.dir, 'absent.duckdb');
    const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', missing], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\//);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^warning: cannot record the start of run gamebook\/2025-10-07\/.*\/absent\.duckdb does not exist/);
    // What a one-row process's warning ends with: its exit code, not the library's "the run goes on".
    expect(run.stderr.trim()).toMatch(/\(exit 0 all the same: recording never fails the caller; --strict makes it exit 1\)$/);
  });

  it('quotes a value with a line break or an escape sequence back on its one line, its reason whole', async () => {
    const broken = await record(['start', '--processor', 'game\nbook', '--date', '2025-10-07']);
    expect(broken).toEqual({ code: 2, stdout: '', stderr: "error: --processor 'game?book' holds a control character\n" });
    const coloured = await record(['start', '--processor', 'gamebook', '--date', '\u001b[31m2025-10-07']);
    expect(coloured.code).toBe(2);
    expect(coloured.stderr).toBe("error: --date '?[31m2025-10-07' is not a valid date: use YYYY-MM-DD, for example 2025-10-07\n");
    // The same name carried in a run id is refused too, as start refuses it.
    const carried = await record(['complete', '--run-id', 'game\u0001book/2025-10-07/20251008T060000000Z-0123456789ab', '--status', 'success']);
    expect(carried).toEqual({ code: 2, stdout: '', stderr: "error: the processor of --run-id 'game?book' holds a control character: pass the id `pem record start` printed\n" });
  });

  it('refuses a --trigger that is empty, holds a line break or runs past 256 characters (it was cut or stored as typed)', async () => {
    const start = (trigger: string) => record(['start', '--processor', 'gamebook', '--date', '2025-10-07', '--trigger', trigger]);
    expect(await start('')).toEqual({ code: 2, stdout: '', stderr: 'error: --trigger is empty: leave it out, or name what started the run, for example --trigger backfill\n' });
    expect(await start('back\nfill')).toEqual({ code: 2, stdout: '', stderr: "error: --trigger 'back?fill' holds a control character\n" });
    expect(await start('x'.repeat(257))).toEqual({ code: 2, stdout: '', stderr: 'error: --trigger is longer than 256 characters: name the source, for example --trigger backfill\n' });
    expect((await start('x'.repeat(256))).code).toBe(0);
  });

  it('refuses a --table with a project part on DuckDB (its row waited in the spool for a schema nobody makes)', async () => {
    const run = await record(['start', '--processor', 'gamebook', '--date', '2025-10-07', '--table', 'my-project.nba_reference.processor_run_history']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: table 'my-project.nba_reference.processor_run_history' names a project (my-project), which a DuckDB file does not have: use nba_reference.processor_run_history\n",
    });
    expect(existsSync(spoolDirOf(scenario.databasePath)) ? readdirSync(spoolDirOf(scenario.databasePath)) : []).toEqual([]);
  });

  it('refuses an empty --database (an unset variable expanded) instead of looking for a file named ""', async () => {
    const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', ''], { now: NOW });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: option '--database <path>' argument '' is invalid. An empty name is no file: give the DuckDB file, for example --database .pem/monitoring.duckdb\n",
    });
  });

  it('exits 1 with --strict when the warehouse cannot be written', async () => {
    const missing = join(scenario.dir, 'absent.duckdb');
    const run = await runCli(
      ['record', 'start', '--strict', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', missing],
      { now: NOW },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: cannot record the start of run .*absent\.duckdb does not exist/);
  });
});

describe('pem record into a run-history table made by hand', () => {
  it('names the columns that are not those of SPEC §2 (DuckDB says only "Unimplemented type for cast"), once, and keeps the row', async () => {
    const path = join(scenario.dir, 'hand-made.duckdb');
    const warehouse = await openDuckDb({ path, create: true });
    await warehouse.query('CREATE SCHEMA nba_reference');
    await warehouse.query(
      `CREATE TABLE nba_reference.processor_run_history (run_id VARCHAR, processor_name VARCHAR, processing_date INTEGER, status VARCHAR,
         started_at TIMESTAMP, completed_at TIMESTAMP, records_processed DATE, errors STRUCT(error_type VARCHAR, error_message VARCHAR)[],
         trigger_source VARCHAR, metadata JSON)`,
    );
    await warehouse.close();
    const run = await runCli(
      ['record', 'start', '--strict', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', path],
      { now: NOW },
    );
    expect(run.code).toBe(1);
    // --strict fails, but the row is kept and added once the table is mended: its id is still printed, to complete the run with.
    expect(run.stdout).toMatch(/^gamebook\/2025-10-07\/\S+\n$/);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot record the start of run ${run.stdout.trim()} in DuckDB`);
    expect(lines[0]).toMatch(/^error: cannot record the start of run gamebook\/2025-10-07\/\S+ in DuckDB \S+hand-made\.duckdb: cannot append to nba_reference\.processor_run_history: /);
    expect(lines[0]).toContain(
      '(nba_reference.processor_run_history has other columns than the run history\'s, SPEC §2: processing_date is INTEGER, not DATE; records_processed is DATE, not BIGINT); kept in ',
    );
  });
});

describe('pem record complete', () => {
  const started = async () => (await record(['start', '--processor', 'gamebook', '--date', '2025-10-07'])).stdout.trim();

  it('writes the final row silently', async () => {
    const runId = await started();
    const run = await record(['complete', '--run-id', runId, '--status', 'skipped', '--records', '0']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it.each([
    [['--status', 'done'], "error: --status 'done' is not a final status: use success, failed or skipped"],
    [['--status', 'running'], "error: --status 'running' is not a final status"],
    [['--status', 'success', '--records', '-3'], "error: --records '-3' must be a whole number of 0 or more, for example 1200"],
    [['--status', 'success', '--records', '1.5'], "error: --records '1.5' must be a whole number"],
    [['--status', 'success', '--records', '9007199254740992'], "error: --records '9007199254740992' is more than pem can store exactly (9007199254740991)"],
    [['--status', 'success', '--processor', 'roster'], "belongs to processor 'gamebook' and date 2025-10-07"],
  ])('exits 2 on %j with one clear line', async (args, message) => {
    const run = await record(['complete', '--run-id', await started(), ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stores errors given with a success, and warns that a check shows the errors of failed runs only', async () => {
    const runId = await started();
    const run = await record(['complete', '--run-id', runId, '--status', 'success', '--error-type', 'Timeout', '--error-message', 'gave up']);
    expect(run).toEqual({
      code: 0,
      stdout: '',
      stderr:
        'warning: --error-type/--error-message are stored with this success row, but pem shows errors of failed runs only: pass --status failed if the run failed\n',
    });
    const failed = await record(['complete', '--run-id', await started(), '--status', 'failed', '--error-type', 'Timeout']);
    expect(failed).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('says when a second complete with other values is not stored: the first row stays, and the check reads it', async () => {
    const runId = await started();
    expect(await record(['complete', '--run-id', runId, '--status', 'success', '--records', '10'])).toEqual({ code: 0, stdout: '', stderr: '' });
    // A retry with the same values is what idempotency is for: nothing to say.
    expect(await record(['complete', '--run-id', runId, '--status', 'success', '--records', '10', '--trigger', 'retry'])).toEqual({ code: 0, stdout: '', stderr: '' });
    const again = await record(['complete', '--run-id', runId, '--status', 'success', '--records', '20', '--error-type', 'Note', '--error-message', 'late rows']);
    expect(again).toEqual({
      code: 0,
      stdout: '',
      stderr:
        `warning: run ${runId} already has a stored success row, so this one was not stored (a run keeps its first row of each status, SPEC §2): ` +
        "stored records_processed 10, not 20; errors none, not 'Note: late rows'. To record other values, record the date as a new run (pem record start)\n",
    });
    // Values with a line break or an escape sequence stay on the warning's one line.
    const marked = await record(['complete', '--run-id', runId, '--status', 'success', '--records', '10', '--error-type', 'E', '--error-message', 'line1\nline2\u001b[31m']);
    expect(marked.stderr).toContain("errors none, not 'E: line1?line2?[31m'. To record");
    expect(marked.stderr.trimEnd().split('\n')).toHaveLength(1);
    const strict = await record(['complete', '--run-id', runId, '--status', 'success', '--records', '30', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe(
      `error: run ${runId} already has a stored success row, so this one was not stored (a run keeps its first row of each status, SPEC §2): ` +
        'stored records_processed 10, not 30. To record other values, record the date as a new run (pem record start)\n',
    );
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await warehouse.query("SELECT records_processed FROM nba_reference.processor_run_history WHERE run_id = $runId AND status = 'success'", {
        runId: { type: 'STRING', value: runId },
      });
      expect(rows.map((row) => Number(row.records_processed))).toEqual([10]);
    } finally {
      await warehouse.close();
    }
    // Another final status is another row: a failure after a success is stored (the check orders them).
    expect(await record(['complete', '--run-id', runId, '--status', 'failed', '--error-type', 'Late'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 2 on a run id with spaces at its ends: it would complete a run of another processor', async () => {
    const runId = await started();
    const run = await record(['complete', '--run-id', ` ${runId}`, '--status', 'success']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: --run-id ' ${runId}' has spaces at its ends: pass the id as \`pem record start\` printed it, for example --run-id "$run_id"\n`);
  });

  it('leaves no spool beside a --database that is not a DuckDB file (a mistake to report, not to keep rows beside)', async () => {
    const notes = join(scenario.dir, 'notes.js');
    writeFileSync(notes, 'module.exports = {};\n');
    const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--table', 'nba_reference.processor_run_history', '--database', notes], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: cannot record the start of run \S+ in DuckDB .*notes\.js: .*not a valid DuckDB database file/);
    expect(run.stderr).not.toContain('spool');
    expect(existsSync(`${notes}.spool`)).toBe(false);
  });

  it('exits 2 on an empty run id: every run completed with it would be one run', async () => {
    const run = await record(['complete', '--run-id', ' ', '--status', 'skipped', '--processor', 'gamebook', '--date', '2025-10-06']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'error: --run-id is empty: pass the id `pem record start` printed, for example --run-id "$run_id"\n' });
  });

  it('exits 2 on a run id it cannot place', async () => {
    const run = await record(['complete', '--run-id', 'airflow-run-17', '--status', 'success']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: --run-id 'airflow-run-17' is not a run id printed by `pem record start` (processor/YYYY-MM-DD/…): pass the id it printed, or --processor and --date for a run started elsewhere\n",
    );
  });

  it('exits 2 on a run id whose date is not a date of the calendar, storing nothing (2025-02-30 was stored as March 2; month 13 blocked the file)', async () => {
    for (const date of ['2025-02-30', '2025-13-01', '1899-12-31']) {
      const runId = `gamebook/${date}/20251008T050000000Z-0123456789ab`;
      const run = await record(['complete', '--run-id', runId, '--status', 'success']);
      expect(run).toEqual({
        code: 2,
        stdout: '',
        stderr: `error: --run-id '${runId}' carries the date ${date}, which is not a date from 1900-01-01 to 9998-12-31: pass the id \`pem record start\` printed, or --processor and --date for a run started elsewhere\n`,
      });
    }
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const stored = await warehouse.query("SELECT COUNT(*) AS n FROM nba_reference.processor_run_history WHERE run_id LIKE '%-0123456789ab'");
      expect(Number(stored[0]!.n)).toBe(0);
    } finally {
      await warehouse.close();
    }
    expect(existsSync(spoolDirOf(scenario.databasePath)) ? readdirSync(spoolDirOf(scenario.databasePath)) : []).toEqual([]);
  });

  it('completes a run id made elsewhere when told its processor and date', async () => {
    const run = await record(['complete', '--run-id', 'airflow-run-17', '--status', 'success', '--processor', 'gamebook', '--date', '2025-10-06']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('pem record, for a row no check would see', () => {
  let watched: Scenario;
  beforeAll(async () => {
    watched = await createScenario({
      dataset: 'nba_reference',
      processors: {
        gamebook_processor: { processor_filter: "processor_name = 'gamebook' AND trigger_source IS DISTINCT FROM 'test'" },
        props: { processor_filter: "processor_name LIKE 'player_props%'" },
        roster: {},
        legacy: { enabled: false },
        foreign: { execution_table: 'ops.other_runs' },
      },
    });
  });
  afterAll(() => watched?.cleanup());

  const at = () => ['--config', watched.registryPath, '--database', watched.databasePath];
  const start = (args: string[]) => runCli(['record', 'start', '--date', '2025-10-07', ...args, ...at()], { now: NOW });
  const recorded = async (processor: string) => {
    const warehouse = await openDuckDb({ path: watched.databasePath, create: false });
    try {
      return await warehouse.query(`SELECT status FROM nba_reference.processor_run_history WHERE processor_name = '${processor}' ORDER BY status`);
    } finally {
      await warehouse.close();
    }
  };

  it('says nothing when a processor filter selects the row', async () => {
    expect((await start(['--processor', 'gamebook'])).stderr).toBe('');
    expect((await start(['--processor', 'roster'])).stderr).toBe('');
  });

  it('warns in one line, and still records and exits 0, when no filter selects it', async () => {
    const run = await start(['--processor', 'rostr']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^rostr\/2025-10-07\//);
    expect(run.stderr).toBe(
      `warning: rostr: no processor of ${watched.registryPath} selects this row in nba_reference.processor_run_history, so no check will see it; did you mean --processor roster? (recorded anyway)\n`,
    );
    expect(await recorded('rostr')).toEqual([{ status: 'running' }]);
    // Its end takes the processor from the run id (complete has no --processor): the hint says where to correct it.
    const end = await runCli(['record', 'complete', '--run-id', run.stdout.trim(), '--status', 'success', ...at()], { now: NOW });
    expect(end.code).toBe(0);
    expect(end.stderr).toContain('did you mean pem record start --processor roster? (recorded anyway)');
    // A run id pem did not print takes its name from complete's own --processor.
    const foreign = await runCli(['record', 'complete', '--run-id', 'airflow-17', '--processor', 'rostr', '--date', '2025-10-07', '--status', 'success', ...at()], { now: NOW });
    expect(foreign.code).toBe(0);
    expect(foreign.stderr).toContain('did you mean --processor roster? (recorded anyway)');
  });

  it('evaluates the whole filter, other columns included', async () => {
    const run = await start(['--processor', 'gamebook', '--trigger', 'test']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: gamebook: no processor of .* selects this row in nba_reference\.processor_run_history, so no check will see it \(recorded anyway\)\n$/);
  });

  it("suggests the name a custom filter selects when given its registry key (the name pem check --processors takes)", async () => {
    const run = await start(['--processor', 'gamebook_processor']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      `warning: gamebook_processor: no processor of ${watched.registryPath} selects this row in nba_reference.processor_run_history, so no check will see it; did you mean --processor gamebook? (recorded anyway)\n`,
    );
    // A near miss of the filter's name too; but never a name the filter would not select either.
    expect((await start(['--processor', 'gamebok'])).stderr).toContain('did you mean --processor gamebook?');
    expect((await start(['--processor', 'gamebook_processor', '--trigger', 'test'])).stderr).not.toContain('did you mean');
    // A LIKE pattern matches its own text, but is no name to pass.
    expect((await start(['--processor', 'player_prop'])).stderr).not.toContain('did you mean');
  });

  it('says when only a disabled processor selects it', async () => {
    const run = await start(['--processor', 'legacy']);
    expect(run.stderr).toBe(
      `warning: legacy: only disabled processor legacy of ${watched.registryPath} selects this row in nba_reference.processor_run_history: checks skip it unless named with --processors (recorded anyway)\n`,
    );
  });

  it('warns on complete too, for a run started elsewhere', async () => {
    const run = await runCli(
      ['record', 'complete', '--run-id', 'airflow-9', '--processor', 'boxscores', '--date', '2025-10-07', '--status', 'success', ...at()],
      { now: NOW },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('warning: boxscores: no processor of');
    expect(await recorded('boxscores')).toEqual([{ status: 'success' }]);
  });

  it('names a table no processor reads', async () => {
    await watched.sql('CREATE TABLE nba_reference.other_history AS SELECT * FROM nba_reference.processor_run_history LIMIT 0');
    const run = await runCli(['record', 'start', '--processor', 'roster', '--date', '2025-10-07', '--table', 'nba_reference.other_history', ...at()], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      `warning: roster: no processor of ${watched.registryPath} reads nba_reference.other_history, so no check will see this row (recorded anyway)\n`,
    );
  });

  it('says nothing about filters when the row could not be written (that warning is the one line)', async () => {
    const run = await runCli(['record', 'start', '--processor', 'rostr', '--date', '2025-10-07', '--table', 'nba_reference.absent', ...at()], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('cannot record the start of run');
  });

  it('says nothing about filters with --table and no registry to read', async () => {
    const run = await runCli(
      ['record', 'start', '--processor', 'nobody', '--date', '2025-10-07', '--table', 'nba_reference.processor_run_history', '--config', join(watched.dir, 'absent.json'), '--database', watched.databasePath],
      { now: NOW },
    );
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(await recorded('nobody')).toEqual([{ status: 'running' }]);
  });
});

// A row `pem record` could not write is spooled beside the DuckDB file and added by the next open that
// can (nothing lost). While the table still refuses it, the check says so, once, instead of the rows
// waiting unseen.
describe('run rows spooled for a table that does not exist yet', () => {
  it('are added by pem schema apply when it creates the table, without a warning that they cannot be', async () => {
    const path = join(scenario.dir, 'before-schema.duckdb');
    await (await openDuckDb({ path, create: true })).close();
    const started = await runCli(['record', 'start', '--processor', 'gamebook', '--date', '2025-10-07', '--config', scenario.registryPath, '--database', path], { now: NOW });
    expect(started.stderr).toContain(`kept in ${spoolDirOf(path)}`);
    const applied = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--database', path], { now: NOW });
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(spoolDirOf(path))).toEqual([]);
    const warehouse = await openDuckDb({ path, create: false });
    try {
      expect(await warehouse.query('SELECT run_id FROM nba_reference.processor_run_history')).toEqual([{ run_id: started.stdout.trim() }]);
    } finally {
      await warehouse.close();
    }
  });

  it('are named by every check while they wait, once each, and added once the table exists', async () => {
    const spool = spoolDirOf(scenario.databasePath);
    const recorded = [];
    for (const date of ['2025-10-06', '2025-10-07']) {
      const run = await runCli(['record', 'start', '--processor', 'gamebook', '--date', date, '--table', 'elsewhere.runs', ...target()], { now: NOW });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`kept in ${spool}`);
      recorded.push(run.stdout.trim());
    }
    expect(readdirSync(spool)).toHaveLength(2);

    const check = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', ...target()], { now: NOW });
    expect(check.code).toBe(0);
    expect(check.stderr.split('\n').filter((line) => line.includes(spool))).toEqual([
      `warning: 2 run rows kept in ${spool} cannot be added to elsewhere.runs yet: Catalog Error: Table with name "elsewhere.runs" does not exist because schema "elsewhere" does not exist; they stay there, and are added once the table accepts them`,
    ]);
    expect(readdirSync(spool)).toHaveLength(2);

    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      await warehouse.execute('CREATE SCHEMA elsewhere');
      await warehouse.execute('CREATE TABLE elsewhere.runs AS SELECT * FROM nba_reference.processor_run_history LIMIT 0');
    } finally {
      await warehouse.close();
    }
    const next = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', ...target()], { now: NOW });
    expect(next.code).toBe(0);
    expect(next.stderr).not.toContain(spool);
    expect(existsSync(spool) ? readdirSync(spool) : []).toEqual([]);
    const reopened = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await reopened.query('SELECT run_id FROM elsewhere.runs ORDER BY processing_date');
      expect(rows.map((row) => row.run_id)).toEqual(recorded);
    } finally {
      await reopened.close();
    }
  });
});
