/**
 * `pem backtest` (SPEC §13) on small DuckDB scenarios whose figures were computed by hand, and its
 * cadence across DST days. Registry zone UTC unless said otherwise; every processor has
 * grace_hours 2.5, so date D is due at D+1 02:30 and an hourly check first sees it missing at 03:00.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cadenceInstants, parseEvery, weekOf } from '../../src/backtest/cadence.js';
import { percentiles } from '../../src/backtest/simulate.js';
import { runCli } from '../support/cli.js';
import { detectionDifferences } from '../../src/cli/backtest.js';
import { parseRegistry, type Registry } from '../../src/config/registry.js';

const parseOk = (document: unknown): Registry => {
  const parsed = parseRegistry(document);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.registry;
};
import { addDays, datesBetween, runRows } from '../support/runs.js';
import { createScenario, type RowSpec, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

/** A daily success for each date, run at 00:30 the next day (done at 00:40: before it is due). */
const nightly = (processor: string, dates: string[]): RowSpec[] =>
  dates.flatMap((d) => runRows(`${processor}-${d}`, processor, d, 'success', `${addDays(d, 1)}T00:30:00Z`));

/** The instant the tests run at: after every period they replay (a backtest ends today at the latest). */
const NOW = new Date('2026-01-01T12:00:00Z');

async function backtest(args: string[]) {
  const run = await runCli(['backtest', '--config', scenario!.registryPath, '--database', scenario!.databasePath, '--json-output', ...args], { now: NOW });
  expect(run.stderr).not.toMatch(/^error/m);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe('pem backtest, computed by hand', () => {
  /*
   * Period 2025-10-05 .. 2025-10-06, hourly: 48 checks, E = the check's UTC date, L = 7.
   *   p  ran nightly until 10-03, nothing for 10-04, 10-05's run at 10-06 00:30 (staleness 5 days):
   *      10-04 missing from 10-05 03:00 -> Slack (new); reminder 24 h later at 10-06 03:00.
   *   q  last success 10-01 (staleness 2): at the first check (10-05 00:00) stale and missing 10-02,
   *      10-03 -> a page and Slack; 10-04 and 10-05 join at 03:00 each day; reminder at 10-06 00:00
   *      (PagerDuty and Slack, not a new page).
   *   r  only 10-04 missing, alert_after_dates 2: held by the threshold the whole time -> never alerted.
   * Slack messages: 10-05 00:00 (q), 10-05 03:00 (p), 10-06 00:00 (q), 10-06 03:00 (p) = 4; pages 1.
   * Problem dates: p 10-04 (due 10-05 02:30, alerted 03:00: 30 min), q 10-02 (due 10-03 02:30,
   * before the first check: alerted at 10-05 00:00 but no latency, the replay starts with no alert
   * state), q 10-03 (due 10-04 02:30: the same), q 10-04 (due 10-05 02:30; q's missing issue is
   * already open, so no message tells of it until q's reminder at 10-06 00:00: 1,290 min), q 10-05
   * (due 10-06 02:30; q's next reminder is after the period: never), r 10-04 (never).
   * Latency of the 2 alerted dates due in the replay, nearest rank: p50 30, p95 1,290, max 1,290.
   */
  const registry = {
    dataset: 'nba_reference',
    timezone: 'UTC',
    renotify_hours: 24,
    processors: {
      p: { grace_hours: 2.5, staleness_threshold_days: 5 },
      q: { grace_hours: 2.5 },
      r: { grace_hours: 2.5, staleness_threshold_days: 5, alert_after_dates: 2 },
    },
  };
  const rows = [
    ...nightly('p', [...datesBetween('2025-09-25', '2025-10-03'), '2025-10-05']),
    ...nightly('q', datesBetween('2025-09-25', '2025-10-01')),
    ...nightly('r', [...datesBetween('2025-09-25', '2025-10-03'), '2025-10-05']),
  ];

  it('counts pages, Slack messages (reminders included), never-alerted dates and latency', async () => {
    scenario = await createScenario(registry, rows);
    const json = await backtest(['--from', '2025-10-05', '--to', '2025-10-06']);
    expect(json).toMatchObject({ from: '2025-10-05', to: '2025-10-06', every_minutes: 60, lookback_days: 7, timezone: 'UTC' });
    const [run] = json.runs;
    expect(run.checks).toBe(48);
    expect(run.totals).toEqual({
      pages: 1,
      slack_messages: 4,
      problem_dates: 6,
      never_alerted_dates: 2,
      flaps: 0,
      latency: { alerted_dates: 2, p50_minutes: 30, p95_minutes: 1290, max_minutes: 1290 },
    });
    expect(run.never_alerted).toEqual([
      { processor: 'q', date: '2025-10-05' },
      { processor: 'r', date: '2025-10-04' },
    ]);
    const byName = Object.fromEntries(run.processors.map((p: any) => [p.processor, p]));
    expect(byName.p).toMatchObject({ pages: 0, slack_messages: 2, problem_dates: 1, latency: { alerted_dates: 1, max_minutes: 30 } });
    expect(byName.q).toMatchObject({ pages: 1, slack_messages: 2, problem_dates: 4, never_alerted_dates: 1, latency: { alerted_dates: 1, max_minutes: 1290 } });
    expect(byName.r).toMatchObject({ pages: 0, slack_messages: 0, problem_dates: 1, never_alerted_dates: 1 });
    // 10-05 is a Sunday: the period spans two ISO weeks.
    expect(run.weeks.map((w: any) => [w.week, w.pages, w.slack_messages])).toEqual([
      ['2025-W40', 1, 2],
      ['2025-W41', 0, 2],
    ]);
  });

  it('re-checks a processor named by --processors when a row of its upstream changes, as the whole replay does', async () => {
    /*
     * Period 2025-10-05 .. 2025-10-07, hourly. down depends on up, grace 6 h: its 10-06 is due at
     * 10-07 06:00. up's 10-06 fails at 10-07 01:05 and re-runs 07:30–07:40; down's 10-06 runs only
     * at 12:00–12:10. From 06:00 to 07:40 up's failure explains down's missing date (held); from
     * 08:00 it no longer does, and down alerts on its own (Slack) until its run at 12:00.
     */
    const chain = {
      dataset: 'nba_reference',
      timezone: 'UTC',
      processors: { up: { grace_hours: 6 }, down: { grace_hours: 6, depends_on: ['up'] } },
    };
    const days = datesBetween('2025-09-25', '2025-10-05');
    scenario = await createScenario(chain, [
      ...nightly('up', days),
      ...nightly('down', days),
      ...runRows('up-fail', 'up', '2025-10-06', 'failed', '2025-10-07T00:55:00Z'),
      ...runRows('up-rerun', 'up', '2025-10-06', 'success', '2025-10-07T07:30:00Z'),
      ...runRows('down-late', 'down', '2025-10-06', 'success', '2025-10-07T12:00:00Z'),
    ]);
    const period = ['--from', '2025-10-05', '--to', '2025-10-07'];
    const whole = (await backtest(period)).runs[0].processors.find((p: any) => p.processor === 'down');
    expect(whole).toMatchObject({ slack_messages: 2, never_alerted_dates: 0 });
    const named = (await backtest([...period, '--processors', 'down'])).runs[0].processors.find((p: any) => p.processor === 'down');
    expect(named).toEqual(whole);
  });

  it("counts one Slack message per route, the WARNING summary when it goes alone, and no page on a route without PagerDuty (SPEC §11)", async () => {
    /*
     * As above, with q on route chat, which names a Slack variable and no PagerDuty: q's stale
     * alert pages no one. Messages: 10-05 00:00 chat (q); 03:00 default (p, with the WARNING: p and
     * q in trouble, r held); 10-06 00:00 chat (q's reminder, and no WARNING alone on default: a
     * reminder is no news, and the summary went out with the news before it); 03:00 default (p's
     * reminder) = 4.
     */
    const routed = {
      ...registry,
      routes: { chat: { slack_webhook_env: 'SLACK_WEBHOOK_URL_CHAT' } },
      processors: { ...registry.processors, q: { ...registry.processors.q, route: 'chat' } },
    };
    scenario = await createScenario(routed, rows);
    const [run] = (await backtest(['--from', '2025-10-05', '--to', '2025-10-06'])).runs;
    expect(run.totals).toMatchObject({ pages: 0, slack_messages: 4 });
    expect(run.weeks.map((w: any) => [w.week, w.pages, w.slack_messages])).toEqual([
      ['2025-W40', 0, 2],
      ['2025-W41', 0, 2],
    ]);
    const byName = Object.fromEntries(run.processors.map((p: any) => [p.processor, p]));
    expect(byName.q).toMatchObject({ pages: 0, slack_messages: 2 });
    expect(byName.p).toMatchObject({ pages: 0, slack_messages: 2 });
  });

  it('shows which check it is replaying on a terminal, and nothing when stderr is not one', async () => {
    scenario = await createScenario(registry, rows);
    const args = ['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-06'];
    const shown = await runCli(args, { now: NOW, stderrTty: true });
    expect(shown.code).toBe(0);
    expect(shown.stderr).toContain(`replaying ${scenario.registryPath}: check 48 of 48 (2025-10-06 23:00 UTC)`);
    const piped = await runCli(args, { now: NOW });
    expect(piped.stderr).not.toContain('replaying');
  });

  it("gives the same figures with a disabled processor whose table is gone: it reads only the replayed processors' tables", async () => {
    const retired = { ...registry, processors: { ...registry.processors, old: { enabled: false, execution_table: 'legacy.old_runs' } } };
    scenario = await createScenario(retired, rows);
    const json = await backtest(['--from', '2025-10-05', '--to', '2025-10-06']);
    expect(json.runs[0].totals).toMatchObject({ pages: 1, slack_messages: 4, problem_dates: 6, never_alerted_dates: 2 });
  });

  it('names --compare, not --config, when the second registry does not exist', async () => {
    scenario = await createScenario(registry, rows);
    const run = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-06', '--compare', 'nope.json']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe('error: registry file nope.json does not exist (pass --compare PATH to a .js or .json registry)\n');
    // An empty one (a script's unset variable) is refused too, not replayed as no comparison.
    const empty = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-06', '--compare', '']);
    expect(empty).toMatchObject({ code: 2, stdout: '' });
    expect(empty.stderr).toBe('error: --compare is empty: pass the registry file, for example --compare includes/processors.js\n');
  });

  it('names the processors and keys that misread their tables, as pem check does, and which registry with --compare, before replaying either', async () => {
    scenario = await createScenario(registry, rows);
    const misreading = { ...registry, processors: { ...registry.processors, q: { grace_hours: 2.5, processor_filter: 'nope_col = 1' }, r: { grace_hours: 2.5, records_field: 'nothere' } } };
    const wrong = join(scenario.dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify(misreading));
    const period = ['--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-06'];
    const alone = await runCli(['backtest', '--config', wrong, ...period], { now: NOW });
    const checked = await runCli(['check', '--config', wrong, '--database', scenario.databasePath, '--date', '2025-10-06', '--dry-run'], { now: NOW });
    expect(checked.code).toBe(2);
    expect(alone).toMatchObject({ code: 2, stdout: '' });
    // The same line as the check's: every processor and key at fault (it was exit 1, DuckDB's first Binder Error alone).
    expect(alone.stderr).toBe(checked.stderr);
    expect(alone.stderr).toMatch(/^error: .*processor q \(processor_filter\).*processor r \(records_field\)/);
    // The second registry wrong: said at once, naming it, and the first not replayed for nothing.
    const compared = await runCli(['backtest', '--config', scenario.registryPath, '--compare', wrong, ...period], { now: NOW, stderrTty: true });
    expect(compared).toMatchObject({ code: 2, stdout: '' });
    expect(compared.stderr).not.toContain('replaying');
    expect(compared.stderr.trim().split('\n')).toEqual([checked.stderr.trim().replace(/^error: /, `error: --compare ${wrong}: `)]);
    // --processors naming a processor the second registry lacks: that registry is named.
    const fewer = join(scenario.dir, 'fewer.json');
    writeFileSync(fewer, JSON.stringify({ ...registry, processors: { p: registry.processors.p } }));
    const unknown = await runCli(['backtest', '--config', scenario.registryPath, '--compare', fewer, '--processors', 'q', ...period], { now: NOW });
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe(`error: --compare ${fewer}: --processors: unknown processor 'q'; did you mean 'p'? the registry has p\n`);
  });

  it('says "1 check" of a one-check replay, not "1 checks"', async () => {
    scenario = await createScenario(registry, rows);
    const run = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-05', '--every', '24h', '--format', 'table'], { now: NOW });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('a check every 24h00 (1 check, 7-day window, UTC)');
    expect(run.stderr).toMatch(/backtest \S+: 1 check replayed with 1 detection query in /);
  });

  it('says that a registry with no processor enabled replays nothing, as pem check says it', async () => {
    scenario = await createScenario({ ...registry, processors: { p: { enabled: false } } }, rows);
    const run = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-05', '--format', 'table'], { now: NOW });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: no processor of ${scenario.registryPath} is enabled: nothing is replayed, so nothing can read as sent\n`);
  });

  it("warns of a dependency on a disabled processor, as pem check does, naming the registry with --compare", async () => {
    // The replay ignores q's dependency on the disabled old: the figures rest on it, so it is said.
    const withRetired = { ...registry, processors: { ...registry.processors, old: { enabled: false }, q: { ...registry.processors.q, depends_on: ['old'] } } };
    scenario = await createScenario(withRetired, rows);
    const period = ['--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-05', '--every', '24h'];
    const note = `processors.q.depends_on: "old" is disabled, so it explains none of q's dates: the dependency is ignored until it is enabled`;
    const checked = await runCli(['check', '--config', scenario.registryPath, '--database', scenario.databasePath, '--date', '2025-10-05', '--dry-run', '--json-output'], { now: NOW });
    expect(checked.stderr).toContain(`warning: ${note}\n`);
    const alone = await runCli(['backtest', '--config', scenario.registryPath, ...period], { now: NOW });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).toContain(`warning: ${note}\n`);
    const compared = await runCli(['backtest', '--config', scenario.registryPath, '--compare', scenario.registryPath, ...period], { now: NOW });
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stderr).toContain(`warning: --config ${scenario.registryPath}: ${note}\n`);
    expect(compared.stderr).toContain(`warning: --compare ${scenario.registryPath}: ${note}\n`);
  });

  it('replays a second registry side by side with --compare', async () => {
    scenario = await createScenario(registry, rows);
    // r without its threshold: its 10-04 alerts at 10-05 03:00 in p's message, and is reminded with p's.
    const other = join(scenario.dir, 'loose.json');
    writeFileSync(other, JSON.stringify({ ...registry, processors: { ...registry.processors, r: { grace_hours: 2.5, staleness_threshold_days: 5 } } }));
    const json = await backtest(['--from', '2025-10-05', '--to', '2025-10-06', '--compare', other]);
    expect(json.runs.map((r: any) => [r.config, r.totals.slack_messages, r.totals.never_alerted_dates])).toEqual([
      [scenario.registryPath, 4, 2],
      [other, 4, 1],
    ]);
    const text = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-06', '--compare', other]);
    expect(text.stdout).toMatch(/never alerted\s+2\s+1\s+-1/);
    // Latency differs by signed minutes, like the counts (it was left blank).
    const [a, b] = json.runs.map((r: any) => r.totals.latency.max_minutes as number | null);
    const shown = (m: number) => (m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`);
    const delta = a === null || b === null ? '-' : b === a ? '0m' : `${b > a ? '+' : '-'}${shown(Math.abs(b - a))}`;
    expect(text.stdout).toMatch(new RegExp(`latency max\\s+\\S+\\s+\\S+\\s+${delta.replace('+', '\\+')}\n`));
    expect(text.stdout).toContain('Never alerted (A):\n  q  2025-10-05 (1 date)\n  r  2025-10-04 (1 date)\n\nNever alerted (B):\n');
  });

  it('holds back alerts while a silence that starts and ends inside the period is active', async () => {
    // s: 10-04 missing from 10-05 03:00; silenced from 10-05 01:00 until 12:00: first told at 12:00
    // (570 min after due), reminded at 10-06 12:00; its 10-05 (missing from 10-06 02:30) joins the open
    // alert, so it is told of by that reminder: 570 min too.
    scenario = await createScenario(
      { dataset: 'nba_reference', timezone: 'UTC', processors: { s: { grace_hours: 2.5, staleness_threshold_days: 5 } } },
      nightly('s', datesBetween('2025-09-25', '2025-10-03')),
    );
    const added = await runCli(
      ['silence', 'add', '--config', scenario.registryPath, '--database', scenario.databasePath, '--processor', 's', '--until', '2025-10-05T12:00:00Z', '--reason', 'planned'],
      { now: new Date('2025-10-05T01:00:00Z') },
    );
    expect(added.code).toBe(0);
    const [run] = (await backtest(['--from', '2025-10-05', '--to', '2025-10-06'])).runs;
    expect(run.totals).toMatchObject({ pages: 0, slack_messages: 2, problem_dates: 2, never_alerted_dates: 0 });
    expect(run.totals.latency).toEqual({ alerted_dates: 2, p50_minutes: 570, p95_minutes: 570, max_minutes: 570 });
  });

  it('counts an alert resolved within two hours as a flap', async () => {
    // f: 10-04 runs at 10-05 03:30 instead of 00:30: missing at 03:00 (Slack), success at 04:00 (resolved, 1 h later).
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { f: { grace_hours: 2.5 } } }, [
      ...nightly('f', [...datesBetween('2025-09-25', '2025-10-03'), '2025-10-05']),
      ...runRows('late', 'f', '2025-10-04', 'success', '2025-10-05T03:30:00Z'),
    ]);
    const [run] = (await backtest(['--from', '2025-10-05', '--to', '2025-10-06'])).runs;
    expect(run.totals).toMatchObject({ pages: 0, slack_messages: 2, flaps: 1, problem_dates: 1, never_alerted_dates: 0 });
  });

  it('counts one flap for an alert of several issues that all resolve, and none while the processor stays wrong', async () => {
    // g: stale and missing 10-02, 10-03 at 10-05 00:00 (a page and a message); its backfills land at
    // 01:00 and every issue resolves: one alert resolved within two hours, one flap (not one per kind).
    // z: 10-04 missing at 03:00, then a failed run at 03:40: no longer missing, but failed: no flap.
    scenario = await createScenario(
      { dataset: 'nba_reference', timezone: 'UTC', processors: { g: { grace_hours: 2.5 }, y: { grace_hours: 2.5, staleness_threshold_days: 5 }, z: { grace_hours: 2.5, staleness_threshold_days: 5 } } },
      [
        ...nightly('g', datesBetween('2025-09-25', '2025-10-01')),
        ...['2025-10-02', '2025-10-03', '2025-10-04'].flatMap((d) => runRows(`g-backfill-${d}`, 'g', d, 'success', '2025-10-05T00:50:00Z')),
        ...nightly('z', [...datesBetween('2025-09-25', '2025-10-03'), '2025-10-05']),
        ...runRows('z-late', 'z', '2025-10-04', 'failed', '2025-10-05T03:30:00Z'),
        ...nightly('y', [...datesBetween('2025-09-25', '2025-10-03'), '2025-10-05']),
        ...runRows('y-late', 'y', '2025-10-04', 'failed', '2025-10-05T03:30:00Z'),
      ],
    );
    // y: as z, but silenced from 03:30: its missing resolves at 04:00 while its failed is held by the
    // silence, so no issue stays open; it is still wrong, so no flap either.
    const silenced = await runCli(
      ['silence', 'add', '--config', scenario.registryPath, '--database', scenario.databasePath, '--processor', 'y', '--until', '2025-10-06T00:00:00Z', '--reason', 'r'],
      { now: new Date('2025-10-05T03:30:00Z') },
    );
    expect(silenced.code).toBe(0);
    const [run] = (await backtest(['--from', '2025-10-05', '--to', '2025-10-05'])).runs;
    const byName = Object.fromEntries(run.processors.map((p: any) => [p.processor, p]));
    expect(byName.g).toMatchObject({ pages: 1, flaps: 1 });
    expect(byName.z).toMatchObject({ flaps: 0 });
    expect(byName.y).toMatchObject({ flaps: 0, slack_messages: 2 });
    expect(run.totals.flaps).toBe(1);
  });

  it('refuses --compare on BigQuery when the registries differ in what detection reads there from the deployed registry', async () => {
    scenario = await createScenario(registry, []);
    const other = join(scenario.dir, 'stricter.json');
    writeFileSync(other, JSON.stringify({ ...registry, processors: { ...registry.processors, p: { grace_hours: 2.5, staleness_threshold_days: 30 } } }));
    const run = await runCli(
      ['backtest', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--from', '2025-10-05', '--to', '2025-10-06', '--compare', other],
      { now: NOW, env: { PEM_BIGQUERY_API_ENDPOINT: 'http://127.0.0.1:9' } },
    );
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(
      `error: --compare ${other}: processors.p.staleness_threshold_days differ from ${scenario.registryPath}, but BigQuery project pem-test (US) detects with the registry Dataform deployed, ` +
        'so both replays would show the same: there, compare only alert_after_dates (alert_within_dates unchanged) and renotify_hours (docs/noise.md)\n',
    );
    // What the runner applies itself may differ; alert_within_dates (which defaults to alert_after_dates) is read by the statement.
    const thresholds = { ...registry, renotify_hours: 12, processors: { ...registry.processors, r: { ...registry.processors.r, alert_after_dates: 1, alert_within_dates: 2, owners: ['ops'] } } };
    expect(detectionDifferences(parseOk(registry), parseOk(thresholds))).toEqual([]);
    const implicitWithin = { ...registry, processors: { ...registry.processors, p: { ...registry.processors.p, alert_after_dates: 3 } } };
    expect(detectionDifferences(parseOk(registry), parseOk(implicitWithin))).toEqual(['processors.p.alert_within_dates']);
    // Checking fewer processors, or other ones, is the runner's choice too.
    expect(detectionDifferences(parseOk(registry), parseOk({ ...registry, processors: { p: registry.processors.p, q: { ...registry.processors.q, enabled: false }, extra: {} } }))).toEqual([]);
  });

  it('prints the same figures as CSV with --format csv: a total, each week and each processor, per registry', async () => {
    scenario = await createScenario(registry, rows);
    const other = join(scenario.dir, 'loose.json');
    writeFileSync(other, JSON.stringify({ ...registry, processors: { ...registry.processors, r: { grace_hours: 2.5, staleness_threshold_days: 5 } } }));
    const period = ['--from', '2025-10-05', '--to', '2025-10-06', '--compare', other];
    const json = await backtest(period);
    const csv = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, ...period, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const [header, ...lines] = csv.stdout.trimEnd().split('\n');
    expect(header).toBe('config,scope,key,pages,slack_messages,problem_dates,never_alerted_dates,flaps,alerted_dates,latency_p50_minutes,latency_p95_minutes,latency_max_minutes');
    const expected = json.runs.flatMap((run: any) =>
      [['total', '', run.totals], ...run.weeks.map((w: any) => ['week', w.week, w]), ...run.processors.map((p: any) => ['processor', p.processor, p])].map(([scope, key, f]: any) =>
        [run.config, scope, key, f.pages, f.slack_messages, f.problem_dates, f.never_alerted_dates, f.flaps, f.latency.alerted_dates, f.latency.p50_minutes ?? '', f.latency.p95_minutes ?? '', f.latency.max_minutes ?? ''].join(','),
      ),
    );
    expect(lines).toEqual(expected);
    expect(lines[0]).toBe(`${scenario.registryPath},total,,1,4,6,2,0,2,30,1290,1290`);
  });

  it('replays today only up to now: a later check would see dates not yet due as missing', async () => {
    scenario = await createScenario(registry, rows);
    const run = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--json-output', '--from', '2025-10-05', '--to', '2025-10-06'], {
      now: new Date('2025-10-06T05:30:00Z'),
    });
    expect(run.code).toBe(0);
    // 24 checks on 10-05, then 00:00 .. 05:00 on 10-06.
    expect(JSON.parse(run.stdout).runs[0].checks).toBe(30);
  });

  it('measures the latency of a date the same whichever --from the replay starts at, once the date is due in it', async () => {
    scenario = await createScenario(registry, rows);
    // From 10-03 00:00, q's 10-02 (due 10-03 02:30) and 10-03 (due 10-04 02:30) are due in the replay.
    // 10-02 opens q's missing issue at 03:00 (30 min); q turns stale at 10-04 00:00 (a page and a
    // message), so 10-03, 10-04 join issues already open and are told of by the reminders at
    // 10-05 00:00 and 10-06 00:00: 1,290 min each; 10-05's reminder falls after the period.
    const earlier = (await backtest(['--from', '2025-10-03', '--to', '2025-10-06'])).runs[0].processors.find((p: any) => p.processor === 'q');
    expect(earlier.latency).toEqual({ alerted_dates: 3, p50_minutes: 1290, p95_minutes: 1290, max_minutes: 1290 });
    // From 10-05, the replay starts with no alert state: q is new at 00:00, reminded at 10-06 00:00.
    // 10-04 waits for that reminder as above (1,290 min): the same latency whichever --from.
    const later = (await backtest(['--from', '2025-10-05', '--to', '2025-10-06'])).runs[0].processors.find((p: any) => p.processor === 'q');
    expect(later.latency).toEqual({ alerted_dates: 1, p50_minutes: 1290, p95_minutes: 1290, max_minutes: 1290 });
    expect(later.problem_dates).toBe(4);
  });

  it('takes --format json as --json-output, and refuses the two when they disagree', async () => {
    scenario = await createScenario(registry, rows);
    const base = ['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-05', '--to', '2025-10-05'];
    const viaFormat = await runCli([...base, '--format', 'json']);
    const viaFlag = await runCli([...base, '--json-output']);
    expect(viaFormat.code).toBe(0);
    // The same document, but for where the time went (query_ms, simulate_ms), which no two runs share.
    const figures = (stdout: string) => JSON.parse(stdout).runs.map(({ query_ms, simulate_ms, ...run }: any) => run);
    expect(figures(viaFormat.stdout)).toEqual(figures(viaFlag.stdout));
    expect(Object.keys(JSON.parse(viaFormat.stdout))).toEqual(['from', 'to', 'every_minutes', 'lookback_days', 'timezone', 'runs']);
    const both = await runCli([...base, '--json-output', '--format', 'csv']);
    expect([both.code, both.stderr]).toEqual([2, 'error: --json-output and --format csv disagree: --json-output is --format json, so give one of them\n']);
    const unknown = await runCli([...base, '--format', 'xml']);
    expect([unknown.code, unknown.stderr]).toEqual([2, "error: --format 'xml' is not a format: use table, json, csv, for example --format csv\n"]);
  });

  it('shows --format and a CSV example in --help', async () => {
    const help = await runCli(['backtest', '--help']);
    expect(help.stdout).toMatch(/--format <format>\s+output format \(choices: "table", "json", "csv", default:\s+"table"\)/);
    expect(help.stdout).toContain('pem backtest --from 2025-10-01 --to 2025-11-30 --format csv > backtest.csv');
  });

  it('refuses bad flags with exit 2 and one line', async () => {
    scenario = await createScenario(registry, []);
    const base = ['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath];
    const every = await runCli([...base, '--from', '2025-10-05', '--to', '2025-10-06', '--every', '90s']);
    expect([every.code, every.stderr.trim()]).toEqual([2, "error: --every '90s' must be whole minutes from 5m to 24h, for example 1h, 30m or 1h30m"]);
    const backwards = await runCli([...base, '--from', '2025-10-06', '--to', '2025-10-05']);
    expect([backwards.code, backwards.stderr.trim()]).toEqual([2, 'error: --to 2025-10-05 is before --from 2025-10-06']);
    // A check of a date not yet come would see every later date missing: made-up pages.
    const future = await runCli([...base, '--from', '2025-10-07', '--to', '2025-10-09'], { now: new Date('2025-10-08T12:00:00Z') });
    expect([future.code, future.stderr.trim()]).toEqual([
      2,
      'error: --to 2025-10-09 is after today (2025-10-08 in UTC): a backtest replays checks that could have run, so end it today at the latest',
    ]);
  });
});

describe('the cadence', () => {
  it('refuses more than 200,000 checks with their count and the --every that would fit', () => {
    expect(() => cadenceInstants('2005-01-01', '2026-12-04', 'UTC', parseEvery('5m'))).toThrow(
      '--from 2005-01-01 --to 2026-12-04 every 5 minutes is 2,306,304 checks, more than the 200,000 a backtest replays: check less often (--every 58m or more) or replay a shorter period',
    );
    expect(cadenceInstants('2005-01-01', '2026-12-04', 'UTC', parseEvery('58m'))).toHaveLength(198_820);
    expect(() => cadenceInstants('1900-01-01', '2500-12-31', 'UTC', parseEvery('24h'))).toThrow(/: replay a shorter period$/);
  });

  it('has 25 hourly checks on the day New York falls back, an hour apart from local midnight', () => {
    const instants = cadenceInstants('2025-11-02', '2025-11-02', 'America/New_York', parseEvery('1h'));
    expect(instants).toHaveLength(25);
    expect(instants[0]!.toISOString()).toBe('2025-11-02T04:00:00.000Z');
    expect(instants[24]!.toISOString()).toBe('2025-11-03T04:00:00.000Z');
    expect(instants.every((t, i) => i === 0 || t.getTime() - instants[i - 1]!.getTime() === 3_600_000)).toBe(true);
  });

  it('has 23 hourly checks on the day New York springs forward', () => {
    const instants = cadenceInstants('2025-03-09', '2025-03-09', 'America/New_York', parseEvery('1h'));
    expect(instants).toHaveLength(23);
    expect([instants[0]!.toISOString(), instants[22]!.toISOString()]).toEqual(['2025-03-09T05:00:00.000Z', '2025-03-10T03:00:00.000Z']);
  });

  it('replays the fall-back day with 25 checks, moving E at local midnight', async () => {
    // No runs at all, L = 2: 11-01 is due at 11-02 00:00 EDT (04:00Z, the first check); 11-02 only at
    // 11-03 00:00 EST (05:00Z), after the period: one problem date, alerted at once, with one page.
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'America/New_York', processors: { p: {} } }, []);
    const [run] = (await backtest(['--from', '2025-11-02', '--to', '2025-11-02', '--lookback-days', '2'])).runs;
    expect(run.checks).toBe(25);
    expect(run.totals).toMatchObject({ problem_dates: 1, pages: 1, latency: { alerted_dates: 1, max_minutes: 0 } });
  });

  it('names ISO weeks in the registry zone and ranks percentiles by nearest rank', () => {
    expect(weekOf(new Date('2025-10-06T03:00:00Z'), 'America/New_York')).toBe('2025-W40');
    expect(weekOf(new Date('2025-10-06T05:00:00Z'), 'America/New_York')).toBe('2025-W41');
    expect(percentiles([30, 2730, 30, 1290, 30])).toEqual({ alerted_dates: 5, p50_minutes: 30, p95_minutes: 2730, max_minutes: 2730 });
    expect(percentiles([])).toEqual({ alerted_dates: 0, p50_minutes: null, p95_minutes: null, max_minutes: null });
  });
});

describe('pem backtest over a period that begins before the history', () => {
  const registry = { dataset: 'nba_reference', timezone: 'UTC', processors: { p: { grace_hours: 2.5 } } };

  it('names the first check that saw the history, and says which --from replays the history alone', async () => {
    // p's first run: 2025-10-04 (done 10-05 00:30); the period begins on 10-01.
    scenario = await createScenario(registry, nightly('p', datesBetween('2025-10-04', '2025-10-08')));
    const json = await backtest(['--from', '2025-10-01', '--to', '2025-10-06']);
    expect(json.runs[0].first_check_with_history).toBe('2025-10-05T01:00:00.000Z');
    expect(json.runs[0].first_date_with_history).toBe('2025-10-04');
    const text = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-01', '--to', '2025-10-12'], { now: NOW });
    // A check dated 10-10 reads 10-04 .. 10-10: the first window within the history.
    expect(text.stdout.split('\n')[1]).toBe(
      'The history begins after this period does: the checks before 2025-10-05 01:00 UTC saw no run and read every expected date as missing; ' +
        '--from 2025-10-10 replays checks whose 7-day windows lie within the history.',
    );
    // A suggestion past --to would be refused: it says what would do instead.
    const short = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-01', '--to', '2025-10-06'], { now: NOW });
    expect(short.stdout.split('\n')[1]).toBe(
      'The history begins after this period does: the checks before 2025-10-05 01:00 UTC saw no run and read every expected date as missing; ' +
        'no check of this period has its 7-day window within the history, which begins on 2025-10-04: replay up to 2025-10-10 or later, or use a shorter --lookback-days.',
    );
    // A period whose first check sees the history with a window reaching back before it: the
    // dates before 10-04 read as missing all the same (10-06's window is 09-30 .. 10-06).
    const reaching = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-06', '--to', '2025-10-12'], { now: NOW });
    expect(reaching.stdout.split('\n')[1]).toBe(
      "The first checks' 7-day windows reach back before the earliest run or success they saw, on 2025-10-04: if the history begins there, the dates before it read as missing; " +
        '--from 2025-10-10 replays checks whose 7-day windows lie within the history.',
    );
    // A period whose checks' windows all lie within the history says nothing of it.
    const later = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-10', '--to', '2025-10-10'], { now: NOW });
    expect(later.stdout.split('\n')[1]).toBe('');
  });

  it('says nothing of a long history whose first window begins on days that expected no run (a weekend)', async () => {
    // Weekdays since August: 10-10's window (10-04 .. 10-10) holds a weekend before its first run.
    const weekdays = { ...registry, processors: { w: { expected_frequency: 'weekdays', grace_hours: 2.5 } } };
    const ran = datesBetween('2025-08-01', '2025-10-12').filter((d) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()));
    scenario = await createScenario(weekdays, nightly('w', ran));
    const json = await backtest(['--from', '2025-10-10', '--to', '2025-10-12']);
    expect(json.runs[0]).toMatchObject({ first_date_with_history: '2025-10-06', missing_before_history: 0 });
    const text = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-10', '--to', '2025-10-12'], { now: NOW });
    expect(text.stdout.split('\n')[1]).toBe('');
  });

  it('advises no --from when the history was written after its dates (a late backfill): an earlier --from would not help', async () => {
    // Dates 10-01 .. 10-03, all written on 10-20: the checks before then saw nothing.
    const late = datesBetween('2025-10-01', '2025-10-03').flatMap((d) => runRows(`p-${d}`, 'p', d, 'success', '2025-10-20T00:30:00Z'));
    scenario = await createScenario(registry, late);
    const text = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-10-15', '--to', '2025-10-21'], { now: NOW });
    expect(text.stdout.split('\n')[1]).toBe(
      'The history begins after this period does: the checks before 2025-10-20 01:00 UTC saw no run and read every expected date as missing.',
    );
  });

  it('says when no check saw any history at all (a period before it, or the wrong file)', async () => {
    scenario = await createScenario(registry, nightly('p', datesBetween('2025-10-04', '2025-10-08')));
    const json = await backtest(['--from', '2025-09-01', '--to', '2025-09-02']);
    expect(json.runs[0].first_check_with_history).toBeNull();
    const text = await runCli(['backtest', '--config', scenario.registryPath, '--database', scenario.databasePath, '--from', '2025-09-01', '--to', '2025-09-02'], { now: NOW });
    expect(text.stdout.split('\n')[1]).toBe(
      'No check in this period saw a run or a success of these processors: the period is before their history, or the history is elsewhere (--database, --config); every expected date read as missing.',
    );
  });
});
