/**
 * SPEC §12, rule by rule: thresholds and dependencies in `pem check --json-output`, on DuckDB
 * scenarios built by `pem schema apply`, against answers computed by hand. No destination is
 * configured, so an alert that is not held is unsent with reason `no_destination`, and a held one
 * says `threshold` or `dependency`. Unless said otherwise: time zone UTC, E = 2025-10-07, L = 7,
 * W = 2025-10-01..2025-10-07, now = 2025-10-08T12:00Z (every date of W due).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { datesBetween, runRows, runsOn } from '../support/runs.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';

const E = '2025-10-07';
const NOW = '2025-10-08T12:00:00Z';
const W = datesBetween('2025-10-01', E);

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

/** `args` come after the default --date and --now, so a test may give its own (the last one counts). */
async function check(processors: Record<string, unknown>, rows: RowSpec[], args: string[] = [], timezone = 'UTC') {
  scenario = await createScenario({ dataset: 'nba_reference', timezone, processors }, rows);
  const result = await scenario.check(['--json-output', '--date', E, '--now', NOW, ...args]);
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  return result.json;
}

const processor = (json: any, name: string) => json.processors.find((p: any) => p.name === name);
const alertOf = (json: any, name: string) => json.alerts.find((a: any) => a.processor === name) ?? null;
/** Successes on every date of W except `gaps` (which get no row at all: missing). */
const successesExcept = (name: string, gaps: string[], dates = W) => runsOn(name, dates.filter((d) => !gaps.includes(d)));

describe('thresholds: alert_after_dates N of alert_within_dates M', () => {
  it('holds the ERROR alert when fewer than N of the M most recent expected, due dates are problem dates', async () => {
    // Last three dates 10-05, 10-06, 10-07: only 10-05 missing, 1 < 2.
    const json = await check({ p: { alert_after_dates: 2, alert_within_dates: 3 } }, successesExcept('p', ['2025-10-05']));
    expect(processor(json, 'p').level).toBe('ERROR');
    expect(processor(json, 'p').missing_dates).toEqual(['2025-10-05']);
    expect(alertOf(json, 'p')).toEqual({ level: 'ERROR', processor: 'p', destinations: ['slack'], route: 'default', sent: false, reason: 'threshold' });
  });

  it('raises the alert once N of the M most recent are problem dates', async () => {
    // 10-05 missing and 10-07 failed: 2 of the last 3.
    const json = await check({ p: { alert_after_dates: 2, alert_within_dates: 3 } }, [
      ...successesExcept('p', ['2025-10-05', '2025-10-07']),
      ...runsOn('p', ['2025-10-07'], 'failed'),
    ]);
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });

  it('does not count older problem dates of the window that are not among the M most recent', async () => {
    const json = await check({ p: { alert_after_dates: 2, alert_within_dates: 3 } }, successesExcept('p', ['2025-10-01', '2025-10-02', '2025-10-03']));
    expect(processor(json, 'p').missing_dates).toEqual(['2025-10-01', '2025-10-02', '2025-10-03']);
    expect(alertOf(json, 'p').reason).toBe('threshold');
  });

  it('defaults M to N: alert_after_dates 2 alone needs the two most recent dates both in trouble', async () => {
    const held = await check({ p: { alert_after_dates: 2 } }, successesExcept('p', ['2025-10-05', '2025-10-07']));
    expect(alertOf(held, 'p').reason).toBe('threshold');
    scenario?.cleanup();
    const raised = await check({ p: { alert_after_dates: 2 } }, successesExcept('p', ['2025-10-06', '2025-10-07']));
    expect(alertOf(raised, 'p').reason).toBe('no_destination');
  });

  it('counts only expected dates: a weekdays processor looks past the weekend', async () => {
    // Weekdays; E = Mon 10-06 (L = 7: 09-30..10-06). Most recent expected, due dates: Mon 10-06, Fri 10-03.
    const rows = [...runsOn('p', ['2025-09-30', '2025-10-01', '2025-10-02'])];
    const json = await check({ p: { expected_frequency: 'weekdays', alert_after_dates: 2 } }, rows, ['--date', '2025-10-06']);
    expect(processor(json, 'p').missing_dates).toEqual(['2025-10-03', '2025-10-06']);
    expect(alertOf(json, 'p').reason).toBe('no_destination');
  });

  it('reads the M most recent dates before the window when the window is shorter', async () => {
    // L = 2 (10-06, 10-07); M = 3 reaches 10-05, missing, like 10-07: 2 of 3.
    const json = await check({ p: { alert_after_dates: 2, alert_within_dates: 3 } }, successesExcept('p', ['2025-10-05', '2025-10-07'], datesBetween('2025-09-20', E)), [
      '--lookback-days',
      '2',
    ]);
    expect(processor(json, 'p').missing_dates).toEqual(['2025-10-07']);
    expect(alertOf(json, 'p').reason).toBe('no_destination');
  });

  it('reaches past the dates not yet due: grace keeps E − 1 out, so the M dates go one further back', async () => {
    // now = 10-07 03:00, grace 6 h: E (10-07) and 10-06 are not due, so the M = 3 most recent due
    // dates are 10-05 (in W = 10-05..10-07, missing), 10-04 and 10-03 (missing): 2 of 3, raised.
    // Reading one day less before W would leave 10-05 and 10-04: 1 of 2, held.
    const json = await check(
      { p: { grace_hours: 6, staleness_threshold_days: 7, alert_after_dates: 2, alert_within_dates: 3 } },
      // 10-06 ran early (done 01:00, before now), so W has rows: no scheduler issue.
      [...successesExcept('p', ['2025-10-03', '2025-10-05'], datesBetween('2025-09-20', '2025-10-05')), ...runRows('p-early', 'p', '2025-10-06', 'success', '2025-10-07T01:00:00Z')],
      ['--lookback-days', '3', '--now', '2025-10-07T03:00:00Z'],
    );
    expect(processor(json, 'p').missing_dates).toEqual(['2025-10-05']);
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });

  it("gives the oldest of the M dates its whole baseline: a weekly processor's zero-record date five Mondays back counts", async () => {
    // Weekly on MON; E = Tue 10-07, L = 7. The M = 5 most recent Mondays: 10-06 (failed), 09-29,
    // 09-22, 09-15 and 09-08, a success that wrote 0 records. 09-08's baseline is the Mondays of the
    // 28 days before it (08-11, 08-18, 08-25, 09-01: 1,000 records each, 4 >= baseline_min_dates 3),
    // so 09-08 is low_volume, a problem date: 2 of 5, and the alert is raised, not held.
    const mondays = ['2025-08-11', '2025-08-18', '2025-08-25', '2025-09-01', '2025-09-08', '2025-09-15', '2025-09-22', '2025-09-29'];
    const rows = runsOn('p', mondays).map((row) => (row.status === 'success' ? { ...row, records_processed: row.processing_date === '2025-09-08' ? 0 : 1000 } : row));
    const json = await check(
      { p: { expected_frequency: 'weekly', staleness_threshold_days: 14, alert_after_dates: 2, alert_within_dates: 5, baseline_min_dates: 3 } },
      [...rows, ...runsOn('p', ['2025-10-06'], 'failed')],
    );
    expect(processor(json, 'p').failed_dates).toEqual(['2025-10-06']);
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });

  it('never holds a CRITICAL alert', async () => {
    // Last success 10-03, 4 days before E (threshold 2 days): stale. Only 4 of the last 7 dates are problems, below N = 5.
    const json = await check({ p: { alert_after_dates: 5, alert_within_dates: 7, staleness_threshold_days: 2 } }, runsOn('p', datesBetween('2025-10-01', '2025-10-03')));
    expect(processor(json, 'p')).toMatchObject({ level: 'CRITICAL', is_stale: true, missing_dates: ['2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07'] });
    expect(alertOf(json, 'p').reason).toBe('no_destination');
  });

  it('keeps held alerts out of the WARNING summary', async () => {
    const json = await check(
      { held: { alert_after_dates: 3 }, loud: {}, ok: {} },
      [...successesExcept('held', ['2025-10-07']), ...successesExcept('loud', ['2025-10-07']), ...successesExcept('ok', [])],
    );
    expect(json.alerts.map((a: any) => [a.level, a.processor, a.reason])).toEqual([
      ['ERROR', 'held', 'threshold'],
      ['ERROR', 'loud', 'no_destination'],
    ]);
  });
});

describe('thresholds read back as far as their M due dates may lie (SPEC §14: and no further)', () => {
  it('for a processor whose zone is behind the registry\'s: its E − 1 is not due yet at the registry\'s midnight', async () => {
    // Registry Tokyo, processor Los Angeles, no grace; E = 10-07, now 10-07 01:00Z (10-06 18:00 in
    // Los Angeles): 10-06 is not due, so the 3 most recent due dates are 10-05, 10-04, 10-03, all missing.
    const rows = [...runsOn('p', datesBetween('2025-09-20', '2025-10-02')), ...runRows('p-early', 'p', '2025-10-06', 'success', '2025-10-07T00:10:00Z')];
    const json = await check(
      { p: { timezone: 'America/Los_Angeles', staleness_threshold_days: 30, alert_after_dates: 3 } },
      rows,
      ['--date', '2025-10-07', '--lookback-days', '3', '--now', '2025-10-07T01:00:00Z'],
      'Asia/Tokyo',
    );
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });

  it('across a spring-forward day: with 24 hours of grace, E − 2 is due an hour after E begins', async () => {
    // New York, clocks forward on 03-09; E = 03-10, now 00:30 EDT: 03-08 is due at 01:00, so the 3
    // most recent due dates are 03-07, 03-06, 03-05, all missing.
    const rows = [...runsOn('p', datesBetween('2025-02-20', '2025-03-04')), ...runRows('p-early', 'p', '2025-03-09', 'success', '2025-03-10T04:00:00Z')];
    const json = await check(
      { p: { grace_hours: 24, staleness_threshold_days: 30, alert_after_dates: 3 } },
      rows,
      ['--date', '2025-03-10', '--lookback-days', '4', '--now', '2025-03-10T04:30:00Z'],
      'America/New_York',
    );
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });

  it('for a weekly processor that lists its day more than once', async () => {
    // Mondays only (listed 7 times); E = Tue 10-07: the 2 most recent Mondays, 10-06 and 09-29, are missing.
    const rows = runsOn('p', ['2025-09-01', '2025-09-08', '2025-09-15', '2025-09-22', '2025-10-02']);
    const json = await check({ p: { expected_frequency: 'weekly', expected_weekdays: Array(7).fill('MON'), staleness_threshold_days: 30, alert_after_dates: 2 } }, rows);
    expect(alertOf(json, 'p')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
  });
});

describe('dependencies: depends_on', () => {
  it('explains a downstream date whose upstream date failed: blocked_by, held with reason dependency', async () => {
    const json = await check({ up: {}, down: { depends_on: ['up'] } }, [
      ...successesExcept('up', ['2025-10-06']),
      ...runsOn('up', ['2025-10-06'], 'failed'),
      ...successesExcept('down', ['2025-10-06']),
    ]);
    expect(processor(json, 'down')).toMatchObject({ level: 'ERROR', missing_dates: ['2025-10-06'], blocked_by: [{ processor: 'up', dates: ['2025-10-06'] }] });
    expect(processor(json, 'up').blocked_by).toEqual([]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
    expect(alertOf(json, 'up').reason).toBe('no_destination');
    // One processor alerting: no WARNING summary for a cause that is one processor.
    expect(json.alerts.map((a: any) => a.level)).toEqual(['ERROR', 'ERROR']);
  });

  it('holds a downstream with a recovered failure, unless its registry asks to hear of recovered failures (then they are its own news)', async () => {
    const rows = (down: string) => [
      ...successesExcept('up', ['2025-10-06']),
      ...runsOn('up', ['2025-10-06'], 'failed'),
      ...successesExcept(down, ['2025-10-06']),
      // A failure on 10-03 that a later run of the same date recovered.
      ...runRows(`${down}-recovered`, down, '2025-10-03', 'failed', '2025-10-04T09:00:00Z'),
    ];
    const quiet = await check({ up: {}, down: { depends_on: ['up'], alert_on_recovered_failures: false } }, rows('down'));
    expect(processor(quiet, 'down')).toMatchObject({ recovered_failure_dates: ['2025-10-03'], blocked_by: [{ processor: 'up', dates: ['2025-10-06'] }] });
    expect(alertOf(quiet, 'down').reason).toBe('dependency');
    scenario?.cleanup();
    const told = await check({ up: {}, down: { depends_on: ['up'], alert_on_recovered_failures: true } }, rows('down'));
    expect(alertOf(told, 'down').reason).toBe('no_destination');
  });

  it('explains nothing by a disabled upstream (not checked, it has no days): the downstream alerts on its own, with a warning', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { old: { enabled: false }, down: { depends_on: ['old'] } } }, successesExcept('down', ['2025-10-06']));
    const result = await scenario.check(['--json-output', '--date', E, '--now', NOW]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`warning: processors.down.depends_on: "old" is disabled, so it explains none of down's dates: the dependency is ignored until it is enabled`);
    expect(processor(result.json, 'down')).toMatchObject({ level: 'ERROR', missing_dates: ['2025-10-06'], blocked_by: [] });
    expect(alertOf(result.json, 'down').reason).toBe('no_destination');
  });

  it('does not explain a downstream date whose upstream date succeeded', async () => {
    const json = await check({ up: {}, down: { depends_on: ['up'] } }, [
      ...successesExcept('up', ['2025-10-06']),
      ...runsOn('up', ['2025-10-06'], 'failed'),
      ...successesExcept('down', ['2025-10-04', '2025-10-06']),
    ]);
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-06'] }]);
    // 10-04 is unexplained (up succeeded that day): the downstream alerts on its own.
    expect(alertOf(json, 'down').reason).toBe('no_destination');
  });

  it('is explained by an upstream date that is running, pending or missing as well', async () => {
    // up's 10-07 still running (started 11:00, 1 h before now); down's 10-07 missing.
    const json = await check({ up: {}, down: { depends_on: ['up'] } }, [
      ...successesExcept('up', ['2025-10-07']),
      { run_id: 'r', processor_name: 'up', processing_date: '2025-10-07', status: 'running', started_at: '2025-10-08T11:00:00Z' },
      ...successesExcept('down', ['2025-10-07']),
    ]);
    expect(processor(json, 'up').level).toBe('OK');
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-07'] }]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
  });

  it('lists in blocked_by only the dates a processor waits on: a date of its own still running is none, even where the upstream failed', async () => {
    // up's 10-05 failed; down's 10-05 is running (limit 100 h, so not hung), its other dates succeeded.
    const json = await check({ up: {}, down: { depends_on: ['up'], max_runtime_minutes: 6000 } }, [
      ...successesExcept('up', ['2025-10-05']),
      ...runsOn('up', ['2025-10-05'], 'failed'),
      ...successesExcept('down', ['2025-10-05']),
      { run_id: 'r', processor_name: 'down', processing_date: '2025-10-05', status: 'running', started_at: '2025-10-06T10:00:00Z' },
    ]);
    expect(processor(json, 'down').level).toBe('OK');
    expect(processor(json, 'down').blocked_by).toEqual([]);
    scenario?.cleanup();
    // Stale since its success of 10-03: its dates since then are blocked, its running 10-02 before it is not.
    const stale = await check({ up: {}, down: { depends_on: ['up'], max_runtime_minutes: 6000 } }, [
      ...runsOn('up', ['2025-10-01', '2025-10-03']),
      ...runsOn('up', ['2025-10-02', '2025-10-04', '2025-10-05', '2025-10-06', E], 'failed'),
      ...runsOn('down', ['2025-10-01', '2025-10-03']),
      { run_id: 'r', processor_name: 'down', processing_date: '2025-10-02', status: 'running', started_at: '2025-10-08T10:00:00Z' },
    ]);
    expect(processor(stale, 'down')).toMatchObject({ is_stale: true, last_success_date: '2025-10-03' });
    expect(processor(stale, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-04', '2025-10-05', '2025-10-06', E] }]);
  });

  it('honours offset_days: the downstream date D needs the upstream date D + K', async () => {
    // K = -1: down's 10-07 needs up's 10-06 (failed); up's 10-07 succeeded.
    const rows = [...successesExcept('up', ['2025-10-06']), ...runsOn('up', ['2025-10-06'], 'failed'), ...successesExcept('down', ['2025-10-07'])];
    const json = await check({ up: {}, down: { depends_on: [{ processor: 'up', offset_days: -1 }] } }, rows);
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-07'] }]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
    scenario?.cleanup();
    const sameDay = await check({ up: {}, down: { depends_on: ['up'] } }, rows);
    expect(processor(sameDay, 'down').blocked_by).toEqual([]);
    expect(alertOf(sameDay, 'down').reason).toBe('no_destination');
  });

  it('reads the upstream date before the window that an offset needs', async () => {
    // L = 1: W = {10-07}; down needs up's 10-05 (K = -2), which failed.
    const rows = [...runsOn('up', ['2025-10-05'], 'failed'), ...runsOn('up', ['2025-10-06', '2025-10-07']), ...runsOn('down', datesBetween('2025-10-01', '2025-10-06'))];
    const json = await check({ up: {}, down: { depends_on: [{ processor: 'up', offset_days: -2 }] } }, rows, ['--lookback-days', '1']);
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-07'] }]);
    // No run in its one-day window: CRITICAL (scheduler issue). Its root is OK in its own window and
    // pages for nothing, so the downstream's page is its own (noise control never loses a page).
    expect(processor(json, 'down').level).toBe('CRITICAL');
    expect(alertOf(json, 'down').reason).toBe('no_destination');
  });

  it('holds a CRITICAL downstream only while a root pages for it: behind an ERROR root, or one held by its threshold, it pages itself', async () => {
    // down is stale (threshold 1 day) since 10-05; every date since is explained by up's missing dates.
    const rows = [...runsOn('up', datesBetween('2025-10-01', '2025-10-04')), ...runsOn('down', datesBetween('2025-10-01', '2025-10-04'))];
    const heldRoot = await check({ up: { alert_after_dates: 4, staleness_threshold_days: 5 }, down: { depends_on: ['up'], staleness_threshold_days: 1 } }, rows);
    expect(processor(heldRoot, 'up').level).toBe('ERROR');
    expect(processor(heldRoot, 'down')).toMatchObject({ level: 'CRITICAL', is_stale: true });
    expect(alertOf(heldRoot, 'up').reason).toBe('threshold');
    expect(alertOf(heldRoot, 'down').reason).toBe('no_destination');
    scenario?.cleanup();
    const slackRoot = await check({ up: { staleness_threshold_days: 5 }, down: { depends_on: ['up'], staleness_threshold_days: 1 } }, rows);
    expect(alertOf(slackRoot, 'up')).toMatchObject({ level: 'ERROR', reason: 'no_destination' });
    expect(alertOf(slackRoot, 'down')).toMatchObject({ level: 'CRITICAL', reason: 'no_destination' });
    scenario?.cleanup();
    // A root that pages (stale itself) carries it: held, listed as also affected.
    const pagingRoot = await check({ up: { staleness_threshold_days: 1 }, down: { depends_on: ['up'], staleness_threshold_days: 1 } }, rows);
    expect(alertOf(pagingRoot, 'up')).toMatchObject({ level: 'CRITICAL', reason: 'no_destination' });
    expect(alertOf(pagingRoot, 'down').reason).toBe('dependency');
  });

  it('is transitive: a -> b -> c, only the root alerts and lists the others as also affected', async () => {
    const json = await check({ a: {}, b: { depends_on: ['a'] }, c: { depends_on: ['b'] } }, [
      ...successesExcept('a', ['2025-10-07']),
      ...runsOn('a', ['2025-10-07'], 'failed'),
      ...successesExcept('b', ['2025-10-07']),
      ...successesExcept('c', ['2025-10-07']),
    ]);
    expect(processor(json, 'b').blocked_by).toEqual([{ processor: 'a', dates: ['2025-10-07'] }]);
    expect(processor(json, 'c').blocked_by).toEqual([{ processor: 'b', dates: ['2025-10-07'] }]);
    expect(json.alerts.map((a: any) => [a.processor, a.reason])).toEqual([
      ['a', 'no_destination'],
      ['b', 'dependency'],
      ['c', 'dependency'],
    ]);
    const text = await runCli(['check', '--config', scenario!.registryPath, '--database', scenario!.databasePath, '--date', E, '--now', NOW]);
    expect(text.stdout).toContain('also affected: b, c');
    expect(text.stdout).toContain('blocked by a: 2025-10-07');
    // Before the table, whatever its order: where to start (the waiting ones may outrank their root).
    expect(text.stdout.split('\n')[2]).toBe('Fix first: a (2 processors wait on it)');
  });

  it("names the root that processors wait on through others, counting every one that waits on it, in the terminal's Fix first line", async () => {
    // up fails (ERROR); b and y wait on it, c and d on b (so on up): four wait on up. b is stale
    // (CRITICAL), so its alert is not held behind an ERROR root, and c and d are held behind b.
    await check({ up: { priority: 'low' }, b: { depends_on: ['up'], priority: 'high', staleness_threshold_days: 0 }, c: { depends_on: ['b'] }, d: { depends_on: ['b'] }, y: { depends_on: ['up'] } }, [
      ...successesExcept('up', ['2025-10-07']),
      ...runsOn('up', ['2025-10-07'], 'failed'),
      ...['b', 'c', 'd', 'y'].flatMap((name) => successesExcept(name, ['2025-10-07'])),
    ]);
    const text = await runCli(['check', '--config', scenario!.registryPath, '--database', scenario!.databasePath, '--date', E, '--now', NOW]);
    expect(text.stdout.split('\n')[2]).toBe('Fix first: up (4 processors wait on it)');
  });

  it('has no Fix first line when no processor waits on another', async () => {
    await check({ a: {}, b: {} }, [...successesExcept('a', ['2025-10-07']), ...successesExcept('b', [])]);
    const text = await runCli(['check', '--config', scenario!.registryPath, '--database', scenario!.databasePath, '--date', E, '--now', NOW]);
    expect(text.stdout).not.toContain('Fix first');
  });

  it('holds a stale downstream only when every expected, due date since its last success is explained', async () => {
    // down last succeeded 09-28; up failed every day since 09-29, so down's streak is all explained.
    const upFailing = [...runsOn('up', datesBetween('2025-09-20', '2025-09-28')), ...runsOn('up', datesBetween('2025-09-29', E), 'failed')];
    const downRows = runsOn('down', datesBetween('2025-09-20', '2025-09-28'));
    const json = await check({ up: {}, down: { depends_on: ['up'] } }, [...upFailing, ...downRows]);
    expect(processor(json, 'down')).toMatchObject({ level: 'CRITICAL', is_stale: true, last_success_date: '2025-09-28' });
    expect(alertOf(json, 'down').reason).toBe('dependency');
    expect(alertOf(json, 'up').reason).toBe('no_destination');
    scenario?.cleanup();
    // up succeeded on 09-29 (before W) but down did not run: that date is unexplained, down pages itself.
    const upRecovered = [...runsOn('up', datesBetween('2025-09-20', '2025-09-29')), ...runsOn('up', datesBetween('2025-09-30', E), 'failed')];
    const json2 = await check({ up: {}, down: { depends_on: ['up'] } }, [...upRecovered, ...downRows]);
    expect(processor(json2, 'down').blocked_by).toEqual([{ processor: 'up', dates: W }]);
    expect(alertOf(json2, 'down').reason).toBe('no_destination');
  });

  it('explains a stale downstream back to 28 days before W, however far another processor makes the check reach', async () => {
    // down last succeeded 08-19, 43 days before W (10-01); up failed every day since 08-20.
    const upFailing = [...runsOn('up', datesBetween('2025-08-10', '2025-08-19')), ...runsOn('up', datesBetween('2025-08-20', E), 'failed')];
    const rows = [...upFailing, ...runsOn('down', datesBetween('2025-08-10', '2025-08-19'))];
    const alone = await check({ up: {}, down: { depends_on: ['up'] } }, rows);
    expect(processor(alone, 'down')).toMatchObject({ level: 'CRITICAL', is_stale: true, last_success_date: '2025-08-19' });
    expect(alertOf(alone, 'down').reason).toBe('no_destination');
    scenario?.cleanup();
    // An unrelated pair with a 20-day offset has every processor evaluated 48 days before W: the
    // same streak still pages on its own.
    const reaching = await check({ up: {}, down: { depends_on: ['up'] }, y: {}, x: { depends_on: [{ processor: 'y', offset_days: -20 }] } }, rows);
    expect(alertOf(reaching, 'down').reason).toBe('no_destination');
    scenario?.cleanup();
    // A window of 30 days (W from 09-08) reaches it: held behind up.
    const longer = await check({ up: {}, down: { depends_on: ['up'] } }, rows, ['--lookback-days', '30']);
    expect(alertOf(longer, 'down').reason).toBe('dependency');
  });

  it('evaluates an upstream that --processors did not name, and shows only the named ones', async () => {
    const json = await check(
      { up: {}, down: { depends_on: ['up'] } },
      [...successesExcept('up', ['2025-10-06']), ...runsOn('up', ['2025-10-06'], 'failed'), ...successesExcept('down', ['2025-10-06'])],
      ['--processors', 'down'],
    );
    expect(json.processors.map((p: any) => p.name)).toEqual(['down']);
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-06'] }]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
  });
});

describe('anomalous dates (SPEC §10) in noise control', () => {
  // up's success on 10-06 wrote 0 records against a baseline of 1,000: low_volume, a problem date.
  const volumes = (name: string, dates: string[], zeroOn: string) =>
    runsOn(name, dates).map((row) => (row.status === 'success' ? { ...row, records_processed: row.processing_date === zeroOn ? 0 : 1000 } : row));

  it('counts an anomalous date towards a threshold, and lets it explain a downstream date', async () => {
    const json = await check(
      { up: { alert_after_dates: 2, alert_within_dates: 2 }, down: { depends_on: ['up'] } },
      [...volumes('up', datesBetween('2025-09-20', E), '2025-10-06'), ...runsOn('down', datesBetween('2025-09-20', '2025-10-05')), ...runsOn('down', [E])],
    );
    expect(processor(json, 'up').low_volume_dates).toEqual(['2025-10-06']);
    // 1 problem date (10-06) of the 2 most recent: held.
    expect(alertOf(json, 'up').reason).toBe('threshold');
    expect(processor(json, 'up').problem_since).toBe('2025-10-06');
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: ['2025-10-06'] }]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
  });

  it('holds a downstream whose only problems are anomalies when an upstream explains every anomalous date (a thin upstream makes a thin downstream)', async () => {
    const json = await check(
      { up: {}, down: { depends_on: ['up'] } },
      [...volumes('up', datesBetween('2025-09-20', E), E), ...volumes('down', datesBetween('2025-09-20', E), E)],
    );
    expect(processor(json, 'down').low_volume_dates).toEqual([E]);
    expect(processor(json, 'down').blocked_by).toEqual([{ processor: 'up', dates: [E] }]);
    expect(alertOf(json, 'down').reason).toBe('dependency');
    expect(alertOf(json, 'up').reason).toBe('no_destination');
  });
});

describe('problem_since', () => {
  it('is the first problem date after the last success that precedes the latest problem date', async () => {
    // 10-02 failed, 10-03 and 10-04 succeeded, 10-05 and 10-07 missing, 10-06 running (not a problem, not a success).
    const json = await check({ p: {} }, [
      ...successesExcept('p', ['2025-10-02', '2025-10-05', '2025-10-06', '2025-10-07']),
      ...runsOn('p', ['2025-10-02'], 'failed'),
      { run_id: 'r', processor_name: 'p', processing_date: '2025-10-06', status: 'running', started_at: '2025-10-08T11:30:00Z' },
    ]);
    expect(processor(json, 'p').problem_since).toBe('2025-10-05');
    scenario?.cleanup();
    const healthy = await check({ p: {} }, successesExcept('p', []));
    expect(processor(healthy, 'p').problem_since).toBeNull();
  });
});

describe('registry validation (exit 2, one line each)', () => {
  async function validate(processors: Record<string, unknown>) {
    scenario = await createScenario({ dataset: 'nba_reference', processors: {} });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(scenario.registryPath, JSON.stringify({ dataset: 'nba_reference', processors }));
    return runCli(['config', 'validate', '--config', scenario.registryPath]);
  }

  it('refuses an unknown processor key in depends_on', async () => {
    const result = await validate({ gamebook: {}, boxscores: { depends_on: ['gamebok'] } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('processors.boxscores.depends_on.0: unknown processor "gamebok" (did you mean "gamebook"?)');
  });

  it('refuses a cycle, naming it once', async () => {
    const result = await validate({ a: { depends_on: ['c'] }, b: { depends_on: ['a'] }, c: { depends_on: ['b'] }, d: { depends_on: ['a'] } });
    expect(result.code).toBe(2);
    expect(result.stderr.match(/dependency cycle/g)).toHaveLength(1);
    expect(result.stderr).toContain('processors.a.depends_on: dependency cycle a -> c -> b -> a');
  });

  it('names a cycle through a depends_on list that has a faulty item too, with the item: all at once', async () => {
    const result = await validate({ a: { depends_on: ['b'] }, b: { depends_on: ['a', { processor: 'a', ofset_days: 0 }] } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('processors.b.depends_on.1.ofset_days: unknown key');
    expect(result.stderr).toContain('processors.a.depends_on: dependency cycle a -> b -> a');
  });

  it('refuses a positive offset and an alert_within_dates below alert_after_dates', async () => {
    const result = await validate({ a: {}, b: { depends_on: [{ processor: 'a', offset_days: 1 }], alert_after_dates: 3, alert_within_dates: 2 } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('processors.b.depends_on.0.offset_days: 1 is positive');
    expect(result.stderr).toContain('processors.b.alert_within_dates: must be at least alert_after_dates (3)');
  });

  it('never suggests the processor itself for an unknown key in its own depends_on', async () => {
    const result = await validate({ a: { depends_on: ['b'] }, longname: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('processors.a.depends_on.0: unknown processor "b"\n');
  });

  it('accepts a dependency on a disabled processor, with a note that it is ignored', async () => {
    const result = await validate({ old: { enabled: false }, b: { depends_on: ['old'] } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/: valid, 2 processors \(1 enabled\)/);
    expect(result.stderr).toBe(`warning: processors.b.depends_on: "old" is disabled, so it explains none of b's dates: the dependency is ignored until it is enabled\n`);
  });

  it('refuses a processor that depends on itself', async () => {
    const result = await validate({ a: { depends_on: [{ processor: 'a', offset_days: -1 }] } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('processors.a.depends_on.0: a processor cannot depend on itself');
  });
});
