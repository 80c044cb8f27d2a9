/**
 * SPEC §11 routes and actionable alerts, end to end: the bad morning with two named routes
 * (`stats`, `props`) beside the default one, a loopback Slack webhook per route and one PagerDuty
 * receiver that tells the routing keys apart; the real `@slack/webhook` and our PagerDuty client.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { alertEnv, AS_OF, badMorning, CHECK_ARGS, NOW, pagerDutyOk, ROUTING_KEY, run, SLACK_PATH, slackOk, startFakeServer, successes, type FakeServer } from './support.js';

const STATS_KEY = 'STATSK3Y000000000000000000SECRET';
const PROPS_KEY = 'PROPSK3Y000000000000000000SECRET';
const HOUR = 3_600_000;
const at = (hours: number) => new Date(new Date(NOW).getTime() + hours * HOUR);

/** The bad morning, with box scores and the player list on `stats` and the two betting feeds on `props`. */
function routedMorning(routes: Record<string, unknown> = {}): { registry: Record<string, any>; rows: ReturnType<typeof badMorning>['rows'] } {
  const { registry, rows } = badMorning();
  const processors = registry.processors as Record<string, Record<string, unknown>>;
  processors.nbac_player_list_processor!.route = 'stats';
  processors.bdl_boxscores_processor!.route = 'stats';
  processors.bdl_boxscores_processor!.backfill_command = 'pem-backfill --processor {processor} --date {date}';
  processors.bettingpros_props_processor!.route = 'props';
  processors.odds_game_lines_processor!.route = 'props';
  processors.bettingpros_props_processor!.runbook_url = 'https://runbooks.example.com/{processor}/{date}';
  processors.bettingpros_props_processor!.backfill_command = 'gcloud run jobs execute props --args=--date={date}';
  return {
    registry: {
      ...registry,
      timezone: 'America/New_York',
      routes: {
        stats: { slack_webhook_env: 'SLACK_WEBHOOK_URL_STATS', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY_STATS' },
        props: { slack_webhook_env: 'SLACK_WEBHOOK_URL_PROPS', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY_PROPS' },
        ...routes,
      },
    },
    rows,
  };
}

let scenario: Scenario;
let slack: FakeServer;
let stats: FakeServer;
let props: FakeServer;
let pagerduty: FakeServer;

beforeEach(async () => {
  const { registry, rows } = routedMorning();
  scenario = await createScenario(registry, rows);
  slack = await startFakeServer(SLACK_PATH, slackOk);
  stats = await startFakeServer('/services/T0STATS/B0STATS/st4tsW3bh00kT0k3n', slackOk);
  props = await startFakeServer('/services/T0PROPS/B0PROPS/pr0psW3bh00kT0k3n', slackOk);
  pagerduty = await startFakeServer('/v2/enqueue', pagerDutyOk);
});

afterEach(async () => {
  await Promise.all([slack.close(), stats.close(), props.close(), pagerduty.close()]);
  scenario.cleanup();
});

function env(extra: Record<string, string> = {}, without: string[] = []): Record<string, string> {
  const all: Record<string, string> = {
    ...alertEnv(slack, pagerduty),
    SLACK_WEBHOOK_URL_STATS: stats.url,
    SLACK_WEBHOOK_URL_PROPS: props.url,
    PAGERDUTY_ROUTING_KEY_STATS: STATS_KEY,
    PAGERDUTY_ROUTING_KEY_PROPS: PROPS_KEY,
    ...extra,
  };
  for (const name of without) delete all[name];
  return all;
}

async function check(options: { now?: Date; env?: Record<string, string>; args?: string[] } = {}) {
  const result = await runCli(
    ['check', '--config', scenario.registryPath, '--database', scenario.databasePath, ...CHECK_ARGS, ...(options.args ?? [])],
    { env: options.env ?? env(), now: options.now ?? new Date(NOW) },
  );
  let json: any = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    // Not every failure prints the document.
  }
  return { ...result, json };
}

const sectionsOf = (server: FakeServer, i = 0): string[] =>
  server.requests[i]!.body.blocks.filter((b: any) => b.type === 'section').map((b: any) => b.text.text as string);
const namesIn = (server: FakeServer, i = 0) => sectionsOf(server, i).map((t) => /`([a-z_]+)`/.exec(t)![1]);
const alertOf = (json: any, processor: string | null) => json.alerts.find((a: any) => a.processor === processor);
const pagesBy = (key: string) => pagerduty.requests.filter((r) => r.body.routing_key === key).map((r) => `${r.body.event_action} ${r.body.payload?.component ?? r.body.dedup_key}`);

describe('routes (SPEC §11)', () => {
  it('sends one Slack message per route, each holding only its own processors', async () => {
    const result = await check();
    expect(result.code).toBe(0);
    expect([slack.requests.length, stats.requests.length, props.requests.length]).toEqual([1, 1, 1]);
    expect(namesIn(stats)).toEqual(['nbac_player_list_processor', 'bdl_boxscores_processor']);
    expect(namesIn(props)).toEqual(['bettingpros_props_processor', 'odds_game_lines_processor']);
    expect(namesIn(slack)).toEqual(['gamebook_processor', 'espn_scoreboard_processor', 'nbac_injury_report_processor', 'br_roster_processor']);
    expect(stats.requests[0]!.body.blocks[0].text.text).toBe(':rotating_light: pem: 1 critical, 1 error in nba_reference (route stats)');
    expect(result.stderr).toContain('slack: sent 1 message to route stats (2 processors with issues, 0 recovered)');
  });

  it('puts the WARNING summary on the default route only', async () => {
    const result = await check();
    const warning = ':warning: *WARNING:* 8 processors with issues across all routes (default: 4, props: 2, stats: 2).';
    expect(JSON.stringify(slack.requests[0]!.body)).toContain(warning);
    expect(JSON.stringify(stats.requests[0]!.body)).not.toContain('WARNING');
    expect(JSON.stringify(props.requests[0]!.body)).not.toContain('WARNING');
    expect(alertOf(result.json, null)).toEqual({ level: 'WARNING', processor: null, destinations: ['slack'], route: 'default', sent: true, reason: null });
  });

  it('sends the WARNING summary alone on the default route when only other routes have news, once', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    for (const processor of ['gamebook_processor', 'espn_scoreboard_processor', 'nbac_injury_report_processor', 'br_roster_processor']) {
      const silence = await runCli(['silence', 'add', ...base, '--processor', processor, '--until', '2025-10-10T00:00:00Z', '--reason', 'outage'], { now: new Date(NOW) });
      expect(silence.code).toBe(0);
    }
    // A dry run counts it among what it would send.
    const dry = await check({ args: ['--dry-run'] });
    expect(dry.stderr).toContain('dry run: would send 3 Slack messages (4 processors; one the WARNING summary alone)');
    const result = await check();
    expect([slack.requests.length, stats.requests.length, props.requests.length]).toEqual([1, 1, 1]);
    const blocks = slack.requests[0]!.body.blocks;
    expect(blocks[0].text.text).toBe(':warning: pem: WARNING: 8 processors with issues across all routes in nba_reference');
    expect(JSON.stringify(blocks)).toContain(':warning: *WARNING:* 8 processors with issues across all routes (default: 4, props: 2, stats: 2).');
    expect(sectionsOf(slack)).toEqual([]);
    // The summary, one divider and the footer: no processor, so no "In this message" count.
    expect(blocks.map((b: any) => b.type)).toEqual(['header', 'context', 'divider', 'context']);
    expect(JSON.stringify(blocks)).not.toContain('In this message');
    expect(alertOf(result.json, null)).toMatchObject({ level: 'WARNING', sent: true, reason: null });
    expect(result.stderr).toContain('slack: sent the WARNING summary alone (the default route had no message of its own)');
    // Nothing new anywhere: no summary either.
    const again = await check({ now: at(1) });
    expect(slack.requests).toHaveLength(1);
    expect(alertOf(again.json, null)).toMatchObject({ level: 'WARNING', sent: false, reason: 'already_open' });
    // A day on, the other routes' reminders are no news: they go out, the summary does not again.
    const reminded = await check({ now: at(25) });
    expect([slack.requests.length, stats.requests.length, props.requests.length]).toEqual([1, 2, 2]);
    expect(JSON.stringify(stats.requests[1]!.body)).toContain('In this message: 0 new, 2 reminders, 0 recovered.');
    expect(alertOf(reminded.json, null)).toMatchObject({ level: 'WARNING', sent: false, reason: 'already_open' });
  });

  it('says the WARNING summary failed when the message carrying it alone failed', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    for (const processor of ['gamebook_processor', 'espn_scoreboard_processor', 'nbac_injury_report_processor', 'br_roster_processor']) {
      await runCli(['silence', 'add', ...base, '--processor', processor, '--until', '2025-10-09T00:00:00Z', '--reason', 'outage'], { now: new Date(NOW) });
    }
    slack.answer(() => ({ status: 404, body: "no_service" }));
    const result = await check();
    expect(result.code).toBe(1);
    expect(alertOf(result.json, null)).toMatchObject({ level: 'WARNING', sent: false, reason: 'failed' });
    expect(result.stderr).toContain('(the WARNING summary: ');
  });

  it('says the WARNING summary failed when the other routes failed, so none went alone', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    for (const processor of ['gamebook_processor', 'espn_scoreboard_processor', 'nbac_injury_report_processor', 'br_roster_processor']) {
      await runCli(['silence', 'add', ...base, '--processor', processor, '--until', '2025-10-09T00:00:00Z', '--reason', 'outage'], { now: new Date(NOW) });
    }
    stats.answer(() => ({ status: 404, body: 'no_service' }));
    props.answer(() => ({ status: 404, body: 'no_service' }));
    const result = await check();
    expect(result.code).toBe(1);
    expect(slack.requests).toHaveLength(0);
    expect(alertOf(result.json, null)).toMatchObject({ level: 'WARNING', sent: false, reason: 'failed' });
  });

  it("pages with each route's routing key", async () => {
    await check();
    expect(pagesBy(ROUTING_KEY)).toEqual(['trigger gamebook_processor']);
    expect(pagesBy(STATS_KEY)).toEqual(['trigger nbac_player_list_processor']);
    expect(pagesBy(PROPS_KEY)).toEqual(['trigger bettingpros_props_processor']);
  });

  it('gives every processor and alert its route in the JSON document', async () => {
    const { json } = await check();
    expect(json.processors.find((p: any) => p.name === 'bdl_boxscores_processor')).toMatchObject({ route: 'stats', problem_since: '2025-10-05' });
    expect(json.processors.find((p: any) => p.name === 'roster_processor')).toMatchObject({ route: 'default', problem_since: null });
    expect(alertOf(json, 'bettingpros_props_processor')).toMatchObject({ route: 'props', sent: true, reason: null });
  });

  it('skips a route whose variables are unset with a note, and says why its alerts were not sent', async () => {
    const result = await check({ env: env({}, ['SLACK_WEBHOOK_URL_STATS', 'PAGERDUTY_ROUTING_KEY_STATS']) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: slack: SLACK_WEBHOOK_URL_STATS is not set; Slack alerts of route stats skipped');
    expect(result.stderr).toContain('warning: pagerduty: PAGERDUTY_ROUTING_KEY_STATS is not set; PagerDuty alerts of route stats skipped');
    expect(stats.requests).toHaveLength(0);
    expect(pagesBy(STATS_KEY)).toEqual([]);
    expect(alertOf(result.json, 'bdl_boxscores_processor')).toMatchObject({ sent: false, reason: 'no_destination' });
    expect(alertOf(result.json, 'gamebook_processor')).toMatchObject({ sent: true, reason: null });
    expect(props.requests).toHaveLength(1);
  });

  it('exits 2 naming a route variable that is not a webhook URL, never its value, and sends nothing', async () => {
    const result = await check({ env: env({ SLACK_WEBHOOK_URL_STATS: 'hooks.slack.com/services/T0/B0/s3cr3tpart' }) });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['error: SLACK_WEBHOOK_URL_STATS (route stats) is not an http(s) URL: set it to the incoming webhook URL Slack gave you']);
    expect(result.stderr).not.toContain('s3cr3tpart');
    expect(slack.requests.length + stats.requests.length + props.requests.length + pagerduty.requests.length).toBe(0);
  });

  it('exits 2 naming PAGERDUTY_EVENTS_URL when only a route pages through it (no default routing key), and sends nothing', async () => {
    const result = await check({ env: env({ PAGERDUTY_EVENTS_URL: 'not a url' }, ['PAGERDUTY_ROUTING_KEY']) });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'error: PAGERDUTY_EVENTS_URL is not an http(s) URL (routes props, stats page through it), for example https://events.pagerduty.com/v2/enqueue',
    ]);
    expect(slack.requests.length + stats.requests.length + props.requests.length + pagerduty.requests.length).toBe(0);
  });

  it('keeps alert state when a processor changes route: no second page, no resolve', async () => {
    await check();
    const { registry } = routedMorning();
    (registry.processors as any).bettingpros_props_processor.route = 'stats';
    writeFileSync(scenario.registryPath, JSON.stringify(registry));
    const moved = await check({ now: at(1) });
    expect(moved.code).toBe(0);
    expect(pagerduty.requests).toHaveLength(3);
    expect(stats.requests).toHaveLength(1);
    expect(alertOf(moved.json, 'bettingpros_props_processor')).toMatchObject({ route: 'stats', sent: false, reason: 'already_open' });
    // The reminder a day later goes to the new route, under the same dedup key.
    await check({ now: at(24) });
    expect(pagesBy(STATS_KEY)).toContain('trigger bettingpros_props_processor');
    expect(pagerduty.requests.at(-1)!.body.dedup_key).toBe('pem/nba_reference/bettingpros_props_processor/stale');
  });

  it('fails only the route whose webhook fails, naming it, and marks those alerts failed', async () => {
    props.answer(() => ({ status: 500, body: 'rollup_error' }));
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: alert delivery failed: slack route props (HTTP 500 (rollup_error) after 3 attempts)');
    expect(alertOf(result.json, 'odds_game_lines_processor')).toMatchObject({ sent: false, reason: 'failed' });
    expect(alertOf(result.json, 'bdl_boxscores_processor')).toMatchObject({ sent: true, reason: null });
    expect(alertOf(result.json, null)).toMatchObject({ sent: true });
  });

  it('announces recoveries on their route with a check mark, not an alarm', async () => {
    await check();
    const rows = [...successes('bettingpros_props_processor', '2025-10-04', AS_OF), ...run('odds_game_lines_processor', AS_OF, 'success')];
    const { openDuckDb } = await import('../../src/warehouse/duckdb.js');
    const { toRunRow } = await import('../support/scenario.js');
    const wh = await openDuckDb({ path: scenario.databasePath, create: false });
    await wh.insertRunRows('nba_reference.processor_run_history', rows.map(toRunRow));
    await wh.close();
    const recovered = await check({ now: at(2) });
    expect(recovered.code).toBe(0);
    expect(props.requests).toHaveLength(2);
    expect(props.requests[1]!.body.blocks[0].text.text).toMatch(/^:white_check_mark: pem: 2 recovered in nba_reference \(route props\)$/);
    expect(pagesBy(PROPS_KEY)).toEqual(['trigger bettingpros_props_processor', 'resolve pem/nba_reference/bettingpros_props_processor/stale']);
  });

  it('never shows a webhook URL or a routing key of any route', async () => {
    pagerduty.answer(() => ({ status: 400, body: JSON.stringify({ message: `bad key ${STATS_KEY} ${PROPS_KEY}` }) }));
    stats.answer(() => ({ status: 500 }));
    const result = await check();
    const text = `${result.stdout}\n${result.stderr}`;
    expect(result.code).toBe(1);
    for (const secret of [STATS_KEY, PROPS_KEY, ROUTING_KEY, 'st4tsW3bh00kT0k3n', 'pr0psW3bh00kT0k3n', 's3cr3tW3bh00kT0k3n']) expect(text).not.toContain(secret);
  });
  it("masks every route's secrets that a run's error quotes, in the terminal, Slack, PagerDuty, the report and gaps (SPEC §5)", async () => {
    // A processor's HTTP client quoted the webhook it posted to and the keys it tried, as clients do.
    const quoting = `POST ${stats.url} failed: 500; retried with ${STATS_KEY}, then ${ROUTING_KEY} for ${SLACK_PATH}`;
    const { registry, rows } = routedMorning();
    const quoted = await createScenario(
      registry,
      rows.map((row) => (row.processor_name === 'gamebook_processor' && row.errors ? { ...row, errors: [{ error_type: `HTTPError ${PROPS_KEY}`, error_message: quoting }] } : row)),
    );
    try {
      const args = ['--config', quoted.registryPath, '--database', quoted.databasePath, '--date', AS_OF];
      const options = { env: env(), now: new Date(NOW) };
      const checked = await runCli(['check', ...args], options);
      const report = await runCli(['report', ...args, '--html', '-'], options);
      const gaps = await runCli(['gaps', ...args, '--format', 'csv'], options);
      expect([checked.code, report.code, gaps.code]).toEqual([0, 0, 0]);
      const page = pagerduty.requests.find((r) => r.body.payload?.component === 'gamebook_processor')!;
      const { routing_key: _key, ...event } = page.body;
      const shown = {
        terminal: checked.stdout + checked.stderr,
        slack: slack.requests.map((r) => r.raw).join('\n'),
        pagerduty: JSON.stringify(event),
        report: report.stdout,
        gaps: gaps.stdout,
      };
      for (const [where, text] of Object.entries(shown)) {
        for (const secret of [STATS_KEY, PROPS_KEY, ROUTING_KEY, 'st4tsW3bh00kT0k3n', 's3cr3tW3bh00kT0k3n']) expect(text, `${where} shows ${secret}`).not.toContain(secret);
        expect(text, where).toContain('[redacted]');
      }
      // What is not a secret stays: the message still says what failed.
      expect(shown.terminal).toContain('POST [redacted] failed: 500; retried with [redacted], then [redacted] for [redacted]');
    } finally {
      quoted.cleanup();
    }
  });
});

describe('what a page and a section let a person do (SPEC §11)', () => {
  it('gives the page links and details: runbook, report, since when, backfill and a pem check line', async () => {
    await check();
    const page = pagerduty.requests.find((r) => r.body.routing_key === PROPS_KEY)!.body;
    expect(page.links).toEqual([
      { href: 'https://runbooks.example.com/bettingpros_props_processor/2025-10-07', text: 'Runbook' },
      { href: 'https://storage.cloud.google.com/pem-reports/health.html', text: 'Health report' },
    ]);
    expect(page.payload.custom_details).toMatchObject({
      route: 'props',
      problem_since: '2025-10-04',
      problem_dates: 'Oct 4–7 (4 dates)',
      backfill_commands: [
        'gcloud run jobs execute props --args=--date=2025-10-04',
        'gcloud run jobs execute props --args=--date=2025-10-05',
        'gcloud run jobs execute props --args=--date=2025-10-06',
      ],
      more_backfill_dates: 1,
      gaps_command: `pem gaps --format commands --date 2025-10-07 --processors bettingpros_props_processor --now 2025-10-08T12:00:00.000Z --config ${scenario.registryPath} --database ${scenario.databasePath}`,
      evaluated_at: '2025-10-08 08:00 EDT (UTC-04:00)',
      check_command: `pem check --date 2025-10-07 --processors bettingpros_props_processor --now 2025-10-08T12:00:00.000Z --dry-run --config ${scenario.registryPath} --database ${scenario.databasePath}`,
    });
  });

  it("gives the report's pem gaps line the run's own flags, as the alerts do: pasted, it reads the same registry, file and instant", async () => {
    const page = await runCli(['report', '--html', '-', '--config', scenario.registryPath, '--database', scenario.databasePath, '--date', AS_OF, '--lookback-days', '14'], {
      env: env(),
      now: new Date(NOW),
    });
    expect(page.code, page.stderr).toBe(0);
    const data = JSON.parse(page.stdout.slice(page.stdout.indexOf('<script type="application/json"'), page.stdout.indexOf('</script>')).replace(/^[^>]*>/, ''));
    const entry = data.p.find((p: any) => p.n === 'gamebook_processor');
    const line = entry.bg;
    expect(line).toBe(
      `pem gaps --format commands --date ${AS_OF} --lookback-days 14 --processors gamebook_processor --now 2025-10-08T12:00:00.000Z --config ${scenario.registryPath} --database ${scenario.databasePath}`,
    );
    // Pasted, it runs: the same dates, the commands the page could not all show.
    const pasted = await runCli(line.split(' ').slice(1), { env: env() });
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(pasted.stdout.trim().split('\n')).toHaveLength(entry.bf.length + entry.bm);
  });

  it('says since when and what to run in the Slack section, with times in the registry zone', async () => {
    await check();
    const section = sectionsOf(stats).find((t) => t.includes('bdl_boxscores_processor'))!;
    expect(section).toContain('• *Since* 2025-10-05: Oct 5 (1 date)');
    expect(section).toContain('```pem-backfill --processor bdl_boxscores_processor --date 2025-10-05```');
    expect(section).toContain(`*Reproduce:* \`pem check --date 2025-10-07 --processors bdl_boxscores_processor --now 2025-10-08T12:00:00.000Z --dry-run --config ${scenario.registryPath}`);
    expect(JSON.stringify(stats.requests[0]!.body)).toContain('at 2025-10-08 08:00 EDT (UTC-04:00)');
  });
});

describe('reason on every unsent alert (SPEC §11)', () => {
  it('is dry_run for every alert of a dry run', async () => {
    const { json } = await check({ args: ['--dry-run'] });
    expect(json.alerts.map((a: any) => a.reason)).toEqual(json.alerts.map(() => 'dry_run'));
  });

  it('is already_open for alerts notified before and not due for a reminder', async () => {
    await check();
    const { json } = await check({ now: at(1) });
    expect(new Set(json.alerts.map((a: any) => a.reason))).toEqual(new Set(['already_open']));
  });

  it('is silenced for a silenced processor', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    await runCli(['silence', 'add', ...base, '--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', 'outage'], { now: new Date(NOW) });
    const { json } = await check();
    expect(alertOf(json, 'gamebook_processor')).toMatchObject({ sent: false, reason: 'silenced' });
    // The terminal report says the same in words.
    const words = await runCli(['check', ...base, '--date', AS_OF], { env: env(), now: at(1) });
    expect(words.stdout).toContain('CRITICAL gamebook_processor -> pagerduty, slack (not sent: silenced)');
    expect(words.stdout).toContain('ERROR    bdl_boxscores_processor -> slack (route stats) (not sent: already notified, reminder not yet due)');
  });
});
