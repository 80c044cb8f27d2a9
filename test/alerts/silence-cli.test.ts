/** `pem silence add|list|remove` on a DuckDB scenario. */
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEvery } from '../../src/backtest/cadence.js';
import { renderSilences } from '../../src/cli/silence.js';
import { parseDurationMs } from '../../src/check/inputs.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';

const NOW = new Date('2025-10-08T12:00:00Z');
let scenario: Scenario;
let base: string[];

beforeEach(async () => {
  scenario = await createScenario({ dataset: 'nba_reference', processors: { gamebook_processor: {}, roster_processor: {} } });
  base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
});
afterEach(() => scenario.cleanup());

const silence = (args: string[], now: Date = NOW, env: Record<string, string> = { USER: 'ops-oncall' }) =>
  runCli(['silence', ...args, ...base], { now, env });

async function add(processor: string, until: string, reason = 'backfill in progress'): Promise<string> {
  const result = await silence(['add', '--processor', processor, '--until', until, '--reason', reason]);
  expect(result.code).toBe(0);
  return /\((sil_[0-9a-f]{8})\)/.exec(result.stdout)![1]!;
}

describe('pem silence add', () => {
  it('records a silence and says until when, with its id', async () => {
    const result = await silence(['add', '--processor', 'gamebook_processor', '--until', '2025-10-09T06:00:00Z', '--reason', 'NBA.com outage']);
    expect(result.code).toBe(0);
    // Said in the registry's time zone (UTC by default).
    expect(result.stdout).toMatch(/^silenced gamebook_processor until 2025-10-09 06:00:00 UTC \(sil_[0-9a-f]{8}\): NBA.com outage\n$/);
  });

  it('confirms a reason without its control characters, as the list shows it (a terminal would obey an escape)', async () => {
    const result = await silence(['add', '--processor', 'gamebook_processor', '--until', '2025-10-09T06:00:00Z', '--reason', 'two\nlines \u001b[2J']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\): two\?lines \?\[2J\n$/);
  });

  it.each([
    [['--processor', 'nope', '--until', '2025-10-09T00:00:00Z', '--reason', 'x'], "--processor 'nope' is not in the registry; it has gamebook_processor, roster_processor"],
    [['--processor', 'gamebook_processor', '--until', 'tomorrow', '--reason', 'x'], "--until 'tomorrow' is not an ISO-8601 instant nor a duration: use for example 2h, 3d, 90m or 2099-10-09T18:00:00Z"],
    [['--processor', 'gamebook_processor', '--until', '2', '--reason', 'x'], "--until '2' is not an ISO-8601 instant nor a duration"],
    [['--processor', 'gamebook_processor', '--until', '-2h', '--reason', 'x'], "--until '-2h' is not an ISO-8601 instant nor a duration"],
    [['--processor', 'gamebook_processor', '--until', '0m', '--reason', 'x'], "--until '0m' is not an ISO-8601 instant nor a duration"],
    [['--processor', 'gamebook_processor', '--until', '99999999d', '--reason', 'x'], "--until '99999999d' ends after 9998-12-31T23:59:59Z"],
    [['--processor', 'gamebook_processor', '--until', '1000000w', '--reason', 'x'], "--until '1000000w' ends after 9998-12-31T23:59:59Z"],
    [['--processor', 'gamebook_processor', '--until', '2025-10-08T11:00:00Z', '--reason', 'x'], "--until '2025-10-08T11:00:00Z' is not in the future"],
    [['--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', '  '], '--reason is empty'],
    [['--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', 'x', '--by', ''], '--by is empty: name who it is, for example --by alice, or leave --by out for $USER'],
    [['--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', 'x'.repeat(501)], '--reason is longer than 500 characters: say why in a sentence, and link to the rest'],
    [['--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', '\u{1F6A7}'.repeat(501)], '--reason is longer than 500 characters'],
    [['--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', 'x', '--by', 'b'.repeat(101)], '--by is longer than 100 characters: name who it is'],
    [['--processor', 'gamebook_processor', '--reason', 'x'], "required option '--until <when>' not specified"],
  ])('exits 2 on %j with one clear line', async (args, message) => {
    const result = await silence(['add', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('counts a reason in characters as a person does: 500 emoji are 500, not 1,000', async () => {
    const result = await silence(['add', '--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', '\u{1F6A7}'.repeat(500)]);
    expect(result.code).toBe(0);
  });
});

describe('pem silence add --until as a duration', () => {
  it.each([
    ['2h', '2025-10-08 14:00:00 UTC'],
    ['3d', '2025-10-11 12:00:00 UTC'],
    ['90m', '2025-10-08 13:30:00 UTC'],
    ['1h30m', '2025-10-08 13:30:00 UTC'],
    ['2 days', '2025-10-10 12:00:00 UTC'],
  ])('--until %s silences until %s (now is 2025-10-08T12:00:00Z)', async (until, expected) => {
    const result = await silence(['add', '--processor', 'gamebook_processor', '--until', until, '--reason', 'outage']);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(`silenced gamebook_processor until ${expected} (sil_`)).toBe(true);
  });
});

describe('a duration (pem silence add --until, pem backtest --every)', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['1h 30m', 90 * 60_000],
    ['1.5h', 90 * 60_000],
    ['2 days', 2 * 86_400_000],
    ['1w', 7 * 86_400_000],
    ['45s', 45_000],
  ])('reads %s', (text, ms) => {
    expect(parseDurationMs(text, '--until')).toBe(ms);
  });

  // parse-duration alone skips what it does not know: each of these was read as some other length.
  it.each(['2h ago', '10d-9d', '1h-30m', '1h1', '3 bananas 2h', '2026-W50-1', '2', '-2h', '0m', 'h', '2 fortnights', '1mo'])('refuses %j', (text) => {
    expect(() => parseDurationMs(text, '--until')).toThrow(`--until '${text}' is not a duration`);
  });

  it('shows in a dry run with no destination set, as reason silenced: a silence can be tried on a laptop', async () => {
    await add('gamebook_processor', '2025-10-09T06:00:00Z');
    const dry = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', ...base], { now: NOW, env: {} });
    expect(dry.code).toBe(0);
    const reasons = Object.fromEntries(JSON.parse(dry.stdout).alerts.filter((a: any) => a.processor).map((a: any) => [a.processor, a.reason]));
    expect(reasons).toMatchObject({ gamebook_processor: 'silenced', roster_processor: 'dry_run' });
    expect(dry.stderr).toMatch(/dry run: gamebook_processor silenced until 2025-10-09 06:00:00 UTC \(sil_[0-9a-f]{8}\)/);
    // Only for a processor the check could alert for: not one left out by --processors.
    const other = await runCli(['check', '--dry-run', '--json-output', '--date', '2025-10-07', '--processors', 'roster_processor', ...base], { now: NOW, env: {} });
    expect(other.stderr).not.toContain('silenced');
  });

  it('refuses a silence --until that is not a clean duration, in one line, exit 2', async () => {
    const result = await silence(['add', '--processor', 'gamebook_processor', '--until', '2h ago', '--reason', 'x']);
    expect([result.code, result.stderr]).toEqual([2, "error: --until '2h ago' is not an ISO-8601 instant nor a duration: use for example 2h, 3d, 90m or 2099-10-09T18:00:00Z\n"]);
  });

  it('backtest --every takes the same durations, in whole minutes from 5m to 24h', () => {
    expect(parseEvery('1h30m')).toBe(90 * 60_000);
    expect(parseEvery('24h')).toBe(86_400_000);
    for (const text of ['90s', '4m', '25h', '5m30s', '1h1', 'hourly']) {
      expect(() => parseEvery(text)).toThrow(`--every '${text}' must be whole minutes from 5m to 24h, for example 1h, 30m or 1h30m`);
    }
  });
});

describe('pem silence list, as a table', () => {
  it('shows a reason and an author without their control characters (they are whatever was typed)', () => {
    const silence = {
      silence_id: 'sil_1',
      processor_name: 'gamebook_processor',
      silenced_until: '2025-10-09T00:00:00.000Z',
      reason: 'two\nlines \u001b[2J',
      created_at: '2025-10-08T00:00:00.000Z',
      created_by: 'eve\u001b]0;title\u0007',
      removed_at: null,
      removed_by: null,
      removal_reason: null,
      state: 'active' as const,
    };
    expect(renderSilences([silence], false, 'UTC')).toBe(
      'ID     PROCESSOR           UNTIL                    STATE   BY             REASON\n' +
        'sil_1  gamebook_processor  2025-10-09 00:00:00 UTC  active  eve?]0;title?  two?lines ?[2J\n',
    );
    // In the registry's time zone, with the offset.
    expect(renderSilences([silence], false, 'America/New_York')).toContain('  2025-10-08 20:00:00 EDT (UTC-04:00)  active  ');
  });
});

describe('pem silence --by', () => {
  it('defaults to $USER, and to the OS user when no USER or LOGNAME is set', async () => {
    await add('gamebook_processor', '2025-10-09T00:00:00Z');
    const noUser = await silence(['add', '--processor', 'roster_processor', '--until', '1d', '--reason', 'r'], NOW, {});
    expect(noUser.code).toBe(0);
    const listed = JSON.parse((await silence(['list', '--format', 'json'])).stdout) as { processor_name: string; created_by: string }[];
    expect(Object.fromEntries(listed.map((s) => [s.processor_name, s.created_by]))).toEqual({
      gamebook_processor: 'ops-oncall',
      roster_processor: userInfo().username,
    });
  });
});

describe('pem silence list', () => {
  it('prints CSV with --format csv, the JSON fields as columns', async () => {
    const id = await add('gamebook_processor', '2025-10-10T00:00:00Z', 'vendor, "late"');
    const csv = await silence(['list', '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(
      'silence_id,processor_name,silenced_until,state,created_at,created_by,removed_at,reason,removed_by,removal_reason\n' +
        `${id},gamebook_processor,2025-10-10T00:00:00.000Z,active,2025-10-08T12:00:00.000Z,ops-oncall,,"vendor, ""late""",,\n`,
    );
  });

  it('prints the same JSON for --format json and --json-output, and refuses both with another format', async () => {
    await add('gamebook_processor', '2025-10-10T00:00:00Z');
    expect((await silence(['list', '--format', 'json'])).stdout).toBe((await silence(['list', '--json-output'])).stdout);
    const both = await silence(['list', '--json-output', '--format', 'table']);
    expect([both.code, both.stderr]).toEqual([2, 'error: --json-output and --format table disagree: --json-output is --format json, so give one of them\n']);
  });

  it('lists active silences, and with --all the expired and removed ones', async () => {
    const active = await add('gamebook_processor', '2025-10-10T00:00:00Z', 'waiting on the vendor');
    const short = await add('roster_processor', '2025-10-08T13:00:00Z');
    const removed = await add('roster_processor', '2025-10-12T00:00:00Z');
    expect((await silence(['remove', removed, '--reason', 'fixed upstream', '--by', 'alice'])).code).toBe(0);

    const later = new Date('2025-10-08T14:00:00Z');
    const list = await silence(['list'], later);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+PROCESSOR\s+UNTIL\s+STATE\s+BY\s+REASON$/);
    expect(list.stdout).toContain(active);
    expect(list.stdout).toContain('2025-10-10 00:00:00 UTC  active  ops-oncall  waiting on the vendor');
    expect(list.stdout).not.toContain(short);
    expect(list.stdout).not.toContain(removed);

    const all = JSON.parse((await silence(['list', '--all', '--json-output'], later)).stdout) as { silence_id: string; state: string }[];
    expect(Object.fromEntries(all.map((s) => [s.silence_id, s.state]))).toEqual({ [active]: 'active', [short]: 'expired', [removed]: 'removed' });
    // Who removed it and why, beside who added it and why.
    expect(all.find((s) => s.silence_id === removed)).toMatchObject({ created_by: 'ops-oncall', removed_by: 'alice', removal_reason: 'fixed upstream' });
    expect(all.find((s) => s.silence_id === active)).toMatchObject({ removed_by: null, removal_reason: null });
    const table = (await silence(['list', '--all'], later)).stdout;
    expect(table.split('\n').find((line) => line.startsWith(removed))).toMatch(/ removed\s+ops-oncall\s+\S.* \(removed by alice: fixed upstream\)$/);
  });

  it('says so when there is nothing to list', async () => {
    expect((await silence(['list'])).stdout).toBe('No active silences.\n');
  });

  it('lists none, with a note, where the silences table was never made: a read, as pem check --dry-run reads it', async () => {
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    await warehouse.execute('DROP TABLE nba_reference.pem_alert_silences');
    await warehouse.close();
    const listed = await silence(['list']);
    expect(listed).toMatchObject({ code: 0, stdout: 'No active silences.\n' });
    expect(listed.stderr).toBe('warning: nba_reference.pem_alert_silences does not exist yet (`pem schema apply` creates it): no silences\n');
    expect((await silence(['list', '--all', '--format', 'json'])).stdout).toBe('[]\n');
    // Adding one still needs the table: that is a failed write, said as before.
    const added = await silence(['add', '--processor', 'gamebook_processor', '--until', '2h', '--reason', 'x']);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('does not exist yet: `pem schema apply` creates it');
  });
});

describe('pem silence remove', () => {
  it('ends every active silence of a processor with --processor', async () => {
    const one = await add('gamebook_processor', '2025-10-09T00:00:00Z');
    const two = await add('gamebook_processor', '2025-10-10T00:00:00Z');
    const other = await add('roster_processor', '2025-10-10T00:00:00Z');
    const result = await silence(['remove', '--processor', 'gamebook_processor', '--reason', 'fixed']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`removed ${one} (gamebook_processor`);
    expect(result.stdout).toContain(`removed ${two} (gamebook_processor`);
    const list = await silence(['list']);
    expect(list.stdout).toContain(other);
    expect(list.stdout).not.toContain('gamebook_processor');
  });

  it.each([
    [['sil_00000000'], 'no active silence with id sil_00000000'],
    [[], 'needs a silence id or --processor'],
    [['--processor', 'nope'], "--processor 'nope' is not in the registry"],
  ])('exits 2 on %j', async (args, message) => {
    const result = await silence(['remove', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('ends the silences of a processor taken out of the registry since (they could be removed only one id at a time)', async () => {
    const id = await add('roster_processor', '2025-10-10T00:00:00Z');
    const registry = JSON.parse(readFileSync(scenario.registryPath, 'utf8'));
    delete registry.processors.roster_processor;
    writeFileSync(scenario.registryPath, JSON.stringify(registry));
    const result = await silence(['remove', '--processor', 'roster_processor', '--reason', 'processor retired']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`removed ${id} (roster_processor`);
  });

  it('takes --processor with spaces at its ends, as add does', async () => {
    const id = await add('roster_processor', '2025-10-10T00:00:00Z');
    const result = await silence(['remove', '--processor', ' roster_processor ']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`removed ${id} (roster_processor`);
  });

  it('cannot remove the same silence twice', async () => {
    const id = await add('gamebook_processor', '2025-10-09T00:00:00Z');
    expect((await silence(['remove', id])).code).toBe(0);
    expect((await silence(['remove', id])).code).toBe(2);
  });
});
