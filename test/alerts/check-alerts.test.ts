/**
 * `pem check` delivering alerts end to end: a DuckDB scenario built with `pem schema apply`, the
 * real Slack and PagerDuty clients, and HTTP servers on 127.0.0.1 standing in for both.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, toRunRow, type RowSpec, type Scenario } from '../support/scenario.js';
import {
  alertEnv,
  AS_OF,
  badMorningWithReceivers,
  CHECK_ARGS,
  NEVER_ANSWERS,
  NOW,
  pagerDutyOk,
  ROUTING_KEY,
  run,
  SLACK_PATH,
  slackOk,
  successes,
  type BadMorningRig,
  type FakeServer,
} from './support.js';

const HOUR = 3_600_000;
const at = (hours: number) => new Date(new Date(NOW).getTime() + hours * HOUR);

let rig: BadMorningRig;
let scenario: Scenario;
let slack: FakeServer;
let pagerduty: FakeServer;

beforeEach(async () => {
  rig = await badMorningWithReceivers();
  ({ scenario, slack, pagerduty } = rig);
});

afterEach(() => rig.close());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** `pem check --json-output` at `now`; the JSON is parsed whatever the exit code. */
async function check(options: { now?: Date; env?: Record<string, string>; args?: string[] } = {}): Promise<Run> {
  const result = await runCli(
    ['check', '--config', scenario.registryPath, '--database', scenario.databasePath, ...CHECK_ARGS, ...(options.args ?? [])],
    { env: options.env ?? alertEnv(slack, pagerduty), now: options.now ?? new Date(NOW) },
  );
  let json: unknown = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    // Not every failure prints the document.
  }
  return { ...result, json };
}

async function addRows(rows: RowSpec[]): Promise<void> {
  const wh = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    await wh.insertRunRows('nba_reference.processor_run_history', rows.map(toRunRow));
  } finally {
    await wh.close();
  }
}

async function stateRows(): Promise<{ event: string; destination: string; alert_key: string }[]> {
  const wh = await openDuckDb({ path: scenario.databasePath, create: false });
  try {
    return (await wh.query('SELECT event, destination, alert_key FROM nba_reference.pem_alert_state ORDER BY recorded_at, alert_key')) as never;
  } finally {
    await wh.close();
  }
}

const reasonsOf = (json: any) => [...new Set(json.alerts.map((a: any) => a.reason))];
const sentOf = (json: any) => Object.fromEntries(json.alerts.map((a: any) => [a.processor ?? a.level, a.sent]));
const pdEvents = (server: FakeServer) => server.requests.map((r) => `${r.body.event_action} ${r.body.dedup_key}`);
const slackSections = (server: FakeServer, i: number): string[] =>
  server.requests[i]!.body.blocks.filter((b: any) => b.type === 'section').map((b: any) => b.text.text as string);

const CRITICAL_PAGES = [
  'trigger pem/nba_reference/gamebook_processor/stale',
  'trigger pem/nba_reference/nbac_player_list_processor/stale',
  'trigger pem/nba_reference/bettingpros_props_processor/stale',
];

describe('pem check with Slack and PagerDuty configured', () => {
  it('sends one Slack message for everything and one page per critical processor, and marks them sent', async () => {
    const first = await check();
    expect(first.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expect(slackSections(slack, 0)).toHaveLength(8);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    const trigger = pagerduty.requests[0]!.body;
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { severity: 'critical', source: 'pem/nba_reference', component: 'gamebook_processor', class: 'stale' },
    });
    expect(trigger.payload.custom_details).toMatchObject({
      processor: 'gamebook_processor', priority: 'high', revenue_impact: true, last_success_date: '2025-10-02', problem_since: '2025-10-03', problem_since_before_window: false,
    });
    // Its last success (09-28) before the window, and dates expected since: problem_since is the
    // window's first date, and the event says the streak began before it.
    const player = pagerduty.requests.find((r) => r.body.payload.component === 'nbac_player_list_processor')!.body;
    expect(player.payload.custom_details).toMatchObject({ problem_since: '2025-10-01', problem_since_before_window: true });
    expect(Object.values(sentOf(first.json)).every((sent) => sent === true)).toBe(true);
    expect(first.stderr).toContain('slack: sent 1 message (8 processors with issues, 0 recovered)');
    expect(first.stderr).toContain('pagerduty: sent 3 triggers, 0 resolves');
  });

  it('does not re-send open issues on the next run', async () => {
    await check();
    const second = await check({ now: at(1) });
    expect(second.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expect(pagerduty.requests).toHaveLength(3);
    expect(Object.values(sentOf(second.json)).every((sent) => sent === false)).toBe(true);
    expect(reasonsOf(second.json)).toEqual(['already_open']);
    expect(second.stderr).toContain('8 processors already notified, not re-sent until the reminder is due');
  });

  it('re-sends open issues once renotify_hours (24) have passed, as reminders', async () => {
    await check();
    await check({ now: at(23.9) });
    expect(slack.requests).toHaveLength(1);
    const reminder = await check({ now: at(24) });
    expect(reminder.code).toBe(0);
    expect(slack.requests).toHaveLength(2);
    expect(slackSections(slack, 1).every((s) => s.includes('_reminder: still open_'))).toBe(true);
    expect(pdEvents(pagerduty).slice(3)).toEqual(CRITICAL_PAGES);
    await check({ now: at(25) });
    expect(slack.requests).toHaveLength(2);
    expect(pagerduty.requests).toHaveLength(6);
  });

  it('announces a recovery once: a Slack "recovered" line and a PagerDuty resolve', async () => {
    await check();
    await addRows([...successes('bettingpros_props_processor', '2025-10-04', AS_OF), ...run('espn_scoreboard_processor', '2025-10-06', 'success')]);
    const recovered = await check({ now: at(2) });
    expect(recovered.code).toBe(0);
    expect(slack.requests).toHaveLength(2);
    const text = slackSections(slack, 1).join('\n');
    expect(text).toContain('*Recovered* (2)');
    expect(text).toContain('`bettingpros_props_processor` all clear for Oct 1–7 (was stale, missing)');
    expect(text).toContain('`espn_scoreboard_processor` all clear for Oct 1–7 (was failed)');
    expect(pdEvents(pagerduty).slice(3)).toEqual(['resolve pem/nba_reference/bettingpros_props_processor/stale']);
    expect(pagerduty.requests[3]!.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'pem/nba_reference/bettingpros_props_processor/stale' });

    await check({ now: at(3) });
    expect(slack.requests).toHaveLength(2);
    expect(pagerduty.requests).toHaveLength(4);
  });

  it('declares nothing recovered from a look at an older window: the open incident stays open, and nothing pages twice', async () => {
    await check();
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    // On 10-02 the two stale processors had just run; that says nothing about now.
    const past = await check({ now: at(1), args: ['--date', '2025-10-02', '--lookback-days', '1', '--processors', 'gamebook_processor,bettingpros_props_processor'] });
    expect(past.code).toBe(0);
    expect(past.json.processors.map((p: any) => p.level)).toEqual(['OK', 'OK']);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    expect(slack.requests).toHaveLength(1);
    expect(past.stderr).toContain(
      "alerts: 4 open issues not declared recovered: this check's window ends 2025-10-02, more than a day before they were last notified, so it does not see the dates they were raised for",
    );
    const current = await check({ now: at(2) });
    expect(current.code).toBe(0);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
  });

  it('declares nothing recovered from a check of another window length, which does not see what the scheduled check raised', async () => {
    await check();
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    const scheduledSlack = slackSections(slack, 0).join('\n');
    // Fourteen days back, nbac_player_list_processor's last runs (09-20 to 09-28) are in the window:
    // it has run rows, so the scheduler issue the 7-day check raised reads as cleared there.
    const wider = await check({ now: at(1), args: ['--lookback-days', '14'] });
    expect(wider.code).toBe(0);
    expect(wider.json.processors.find((p: any) => p.name === 'nbac_player_list_processor').scheduler_issue).toBe(false);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    expect(slack.requests.slice(1).flatMap((_, i) => slackSections(slack, i + 1)).join('\n')).not.toContain('*Recovered* (');
    expect(wider.stderr).toMatch(/alerts: \d+ open issues? not declared recovered: a 7-day check raised or last notified (it|them), and this one's window \(14 days\) holds other dates/);
    // One day back, the scheduled check's older dates are out of sight: nothing is declared recovered either.
    const narrower = await check({ now: at(2), args: ['--lookback-days', '1'] });
    expect(narrower.code).toBe(0);
    expect(pdEvents(pagerduty).filter((e) => e.startsWith('resolve'))).toEqual([]);
    expect(narrower.stderr).toMatch(/not declared recovered: a (7-day|7-day or 14-day) check raised or last notified (it|them), and this one's window \(1 day\)/);
    // The scheduled check an hour later: its incidents are still open, so nothing pages again.
    const scheduled = await check({ now: at(3) });
    expect(scheduled.code).toBe(0);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    expect(scheduledSlack).toContain('nbac_player_list_processor');
    // Every row the checks wrote says the window it saw.
    const wh = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const windows = await wh.query('SELECT DISTINCT lookback_days FROM nba_reference.pem_alert_state ORDER BY 1');
      expect(windows.map((r) => r.lookback_days)).toEqual(expect.arrayContaining([7]));
      expect(windows.map((r) => r.lookback_days)).not.toContain(null);
    } finally {
      await wh.close();
    }
  });

  it('leaves the issues a one-off wider check raised to the scheduled check once they have had no reminder for renotify_hours and a day', async () => {
    await check();
    await check({ now: at(1), args: ['--lookback-days', '14'] });
    const raisedByWider = slack.requests.length;
    // The wider check told Slack about 09-24 (no processor ran that day); the 7-day check does not see it.
    const soon = await check({ now: at(2) });
    expect(slack.requests).toHaveLength(raisedByWider);
    expect(soon.stderr).toContain("a 14-day check raised or last notified them, and this one's window (7 days) holds other dates");
    const later = await check({ now: at(1 + 24 + 24 + 1) });
    expect(later.code).toBe(0);
    expect(later.stderr).not.toContain('a 14-day check raised');
    expect(slackSections(slack, slack.requests.length - 1).join('\n')).toContain('*Recovered*');
  });

  it('keeps the window an issue was raised with through a reminder a check of another length sends, so the raising check still resolves it', async () => {
    await check();
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    // A look at 14 days a day later (the next date's window), not a dry run: the pages are due again
    // and it sends the reminders.
    await check({ now: at(25), args: ['--date', '2025-10-08', '--lookback-days', '14'] });
    expect(pdEvents(pagerduty).slice(3)).toEqual(CRITICAL_PAGES);
    // The reminder's row says both: written by a 14-day check, for an issue raised with 7.
    const wh = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const [reminder] = await wh.query(
        "SELECT lookback_days, raised_lookback_days FROM nba_reference.pem_alert_state WHERE event = 'notified' AND destination = 'pagerduty' " +
          "AND alert_key = 'pem/nba_reference/gamebook_processor/stale' ORDER BY recorded_at DESC LIMIT 1",
      );
      expect(reminder).toEqual({ lookback_days: 14, raised_lookback_days: 7 });
    } finally {
      await wh.close();
    }
    // gamebook_processor is put right; the scheduled 7-day check resolves the incident it raised.
    await addRows(successes('gamebook_processor', '2025-10-03', '2025-10-08'));
    const scheduled = await check({ now: at(26), args: ['--date', '2025-10-08'] });
    expect(scheduled.code).toBe(0);
    expect(pdEvents(pagerduty).slice(6)).toEqual(['resolve pem/nba_reference/gamebook_processor/stale']);
  });

  it('names only the window column a partly upgraded state table lacks', async () => {
    await scenario.sql('ALTER TABLE nba_reference.pem_alert_state DROP COLUMN raised_lookback_days');
    const partial = await check();
    expect(partial.code).toBe(0);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    expect(partial.stderr).toContain('nba_reference.pem_alert_state lacks the window length column raised_lookback_days (made by an older pem); `pem schema apply` or the next Dataform workflow run adds it.');
  });

  it('keeps alerting on a state table made before lookback_days, says how to add it, and records the window once it is added', async () => {
    const wh = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      await wh.execute('ALTER TABLE nba_reference.pem_alert_state DROP COLUMN lookback_days');
      await wh.execute('ALTER TABLE nba_reference.pem_alert_state DROP COLUMN raised_lookback_days');
    } finally {
      await wh.close();
    }
    const old = await check();
    expect(old.code).toBe(0);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    expect(old.stderr).toContain(
      'warning: alerts: nba_reference.pem_alert_state lacks the window length columns lookback_days, raised_lookback_days (made by an older pem); `pem schema apply` or the next Dataform workflow run adds them.',
    );
    const applied = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('added to nba_reference.pem_alert_state: lookback_days, raised_lookback_days (its rows kept)\n');
    // Applied again: nothing to add, nothing said about it.
    const again = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--database', scenario.databasePath]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('added to');
    const upgraded = await check({ now: at(1), args: ['--lookback-days', '14'] });
    expect(upgraded.code).toBe(0);
    expect(upgraded.stderr).not.toContain('lacks the window length columns');
    // The rows written before the upgrade say no window, so any check may resolve them, as before:
    // the 14-day window sees nbac_player_list_processor's runs of 09-20..09-28, so its scheduler issue
    // (raised by the 7-day check, before the column) is declared recovered, not held.
    expect(upgraded.stderr).not.toContain('a 7-day check raised');
    expect(slackSections(slack, slack.requests.length - 1).join('\n')).toMatch(/`nbac_player_list_processor` no longer a scheduler issue; still /);
    const after = await openDuckDb({ path: scenario.databasePath, create: false });
    try {
      const rows = await after.query("SELECT lookback_days, count(*) AS n FROM nba_reference.pem_alert_state WHERE event = 'notified' GROUP BY 1 ORDER BY 1 NULLS FIRST");
      expect(rows.map((r) => r.lookback_days)).toEqual([null, 14]);
    } finally {
      await after.close();
    }
  });

  it('pages again when a resolved issue comes back', async () => {
    await check();
    await addRows(successes('bettingpros_props_processor', '2025-10-04', AS_OF));
    await check({ now: at(1) });
    // The same history seen a day later, with the end date moved on and nothing new run: stale again.
    const again = await check({ now: new Date('2025-10-11T12:00:00Z'), args: ['--date', '2025-10-10'] });
    expect(again.code).toBe(0);
    expect(pdEvents(pagerduty).filter((e) => e.includes('bettingpros'))).toEqual([
      'trigger pem/nba_reference/bettingpros_props_processor/stale',
      'resolve pem/nba_reference/bettingpros_props_processor/stale',
      'trigger pem/nba_reference/bettingpros_props_processor/stale',
    ]);
  });
});

describe('pem check when a destination fails', () => {
  it('still pages when Slack is down, exits 1 naming Slack, and retries only Slack next run', async () => {
    slack.answer(() => ({ status: 500, body: 'rollup_error' }));
    const failed = await check();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: alert delivery failed: slack (HTTP 500 (rollup_error) after 3 attempts)');
    expect(slack.requests).toHaveLength(3);
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    // The report is still printed; nothing counts as sent while Slack still owes it.
    expect(Object.values(sentOf(failed.json)).every((sent) => sent === false)).toBe(true);
    expect(reasonsOf(failed.json)).toEqual(['failed']);

    slack.answer(slackOk);
    const retried = await check({ now: at(1) });
    expect(retried.code).toBe(0);
    expect(slack.requests).toHaveLength(4);
    expect(slackSections(slack, 3)).toHaveLength(8);
    expect(pagerduty.requests).toHaveLength(3);
    // Slack now has it and PagerDuty already had it: the critical alerts are complete.
    expect(sentOf(retried.json)).toMatchObject({ gamebook_processor: true, espn_scoreboard_processor: true });
  });

  it('still sends Slack when PagerDuty is down, exits 1 naming PagerDuty, and retries only the pages', async () => {
    pagerduty.answer(() => ({ status: 503 }));
    const failed = await check();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: alert delivery failed: pagerduty (3 of 3 events not delivered: HTTP 503 after 3 attempts)');
    // The first event's retries are spent; the others are not thrown at a destination that is down.
    expect(pagerduty.requests).toHaveLength(3);
    expect(slack.requests).toHaveLength(1);
    expect(sentOf(failed.json)).toMatchObject({ gamebook_processor: false, espn_scoreboard_processor: true, WARNING: true });

    pagerduty.answer(pagerDutyOk);
    const retried = await check({ now: at(1) });
    expect(retried.code).toBe(0);
    expect(pdEvents(pagerduty).slice(3)).toEqual(CRITICAL_PAGES);
    expect(slack.requests).toHaveLength(1);
  });

  it('fails a destination that never answers by its timeout, without holding up the other', async () => {
    slack.answer(() => 'hang');
    const failed = await check({ env: alertEnv(slack, pagerduty, NEVER_ANSWERS) });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('slack (timed out after 400 ms after 3 attempts)');
    expect(pagerduty.requests).toHaveLength(3);
  });

  it('delivers after a 429 with Retry-After', async () => {
    slack.answer((_r, i) => (i === 0 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '0' } } : { status: 200, body: 'ok' }));
    const first = await check();
    expect(first.code).toBe(0);
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests[1]!.raw).toBe(slack.requests[0]!.raw);
  });

  it('stops at once on a permanent Slack error (the webhook was revoked)', async () => {
    slack.answer(() => ({ status: 404, body: 'no_service' }));
    const failed = await check();
    expect(failed.code).toBe(1);
    expect(slack.requests).toHaveLength(1);
    expect(failed.stderr).toContain('slack (HTTP 404 (no_service))');
  });

  it('keeps sending the other pages when PagerDuty rejects one event', async () => {
    pagerduty.answer((r) =>
      r.body.dedup_key.includes('gamebook') ? { status: 400, body: JSON.stringify({ message: 'Event object is invalid' }) } : pagerDutyOk(r, 0),
    );
    const failed = await check();
    expect(failed.code).toBe(1);
    expect(pagerduty.requests).toHaveLength(3);
    expect(failed.stderr).toContain('pagerduty (1 of 3 events not delivered: HTTP 400 (Event object is invalid))');
    expect(sentOf(failed.json)).toMatchObject({ gamebook_processor: false, bettingpros_props_processor: true });
  });

  it('never shows the webhook URL or the routing key, in stdout, stderr or the JSON', async () => {
    const outputs: string[] = [];
    for (const answer of [() => ({ status: 500 }), () => 'hang' as const, () => ({ status: 404, body: 'no_service' })]) {
      slack.answer(answer);
      pagerduty.answer(() => ({ status: 400, body: JSON.stringify({ message: `bad key ${ROUTING_KEY}`, errors: [`${SLACK_PATH}`] }) }));
      const result = await check({ env: alertEnv(slack, pagerduty, NEVER_ANSWERS) });
      expect(result.code).toBe(1);
      outputs.push(result.stdout, result.stderr);
    }
    const cloudRun = await check({ env: alertEnv(slack, pagerduty, { CLOUD_RUN_JOB: 'processor-execution-monitor' }) });
    outputs.push(cloudRun.stdout, cloudRun.stderr);
    const text = outputs.join('\n');
    expect(text).toContain('alert delivery failed');
    expect(text).not.toContain(ROUTING_KEY);
    expect(text).not.toContain('s3cr3tW3bh00kT0k3n');
    expect(text).not.toContain(slack.url);
  });
});

describe('pem check without destinations, in dry runs, and when healthy', () => {
  it('skips a destination whose variable is missing with a note, and never crashes', async () => {
    const result = await check({ env: alertEnv(null, pagerduty) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: slack: SLACK_WEBHOOK_URL is not set; Slack alerts skipped');
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES);
    // PagerDuty is the only configured destination of the critical alerts, and it has them.
    expect(sentOf(result.json)).toMatchObject({ gamebook_processor: true, espn_scoreboard_processor: false, WARNING: false });
  });

  it('sends nothing and marks nothing sent when no destination is configured', async () => {
    const result = await check({ env: { PEM_RECORD_SELF: 'off' } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('PAGERDUTY_ROUTING_KEY is not set');
    expect(Object.values(sentOf(result.json)).every((sent) => sent === false)).toBe(true);
    expect(reasonsOf(result.json)).toEqual(['no_destination']);
    expect(await stateRows()).toEqual([]);
  });

  it('--dry-run computes and prints, sends nothing and writes no state', async () => {
    const dry = await check({ args: ['--dry-run'] });
    expect(dry.code).toBe(0);
    expect(slack.requests).toHaveLength(0);
    expect(pagerduty.requests).toHaveLength(0);
    expect(await stateRows()).toEqual([]);
    expect(dry.json.alerts).toHaveLength(9);
    expect(Object.values(sentOf(dry.json)).every((sent) => sent === false)).toBe(true);
    expect(reasonsOf(dry.json)).toEqual(['dry_run']);
    expect(dry.stderr).toContain('dry run: would send 1 Slack message (8 processors) and 3 PagerDuty events (3 triggers, 0 resolves); nothing sent, no alert state written');
    // A real run afterwards still sends everything: the dry run claimed nothing.
    await check();
    expect(slack.requests).toHaveLength(1);
  });

  it('sends nothing and exits 1 when the alert state cannot be read, after printing the report', async () => {
    await scenario.sql('DROP TABLE nba_reference.pem_alert_state');
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.json.level).toBe('CRITICAL');
    expect(result.stderr).toMatch(/error: alert delivery failed: alert state unavailable \(.*pem_alert_state.*\); `pem schema apply` creates nba_reference.pem_alert_state and nba_reference.pem_alert_silences; nothing was sent/);
    expect(slack.requests).toHaveLength(0);
    expect(pagerduty.requests).toHaveLength(0);
  });

  it('suggests pem schema apply only when the table is missing, not when it cannot be read otherwise', async () => {
    await scenario.sql('DROP TABLE nba_reference.pem_alert_state');
    await scenario.sql('CREATE TABLE nba_reference.pem_alert_state (event_id INTEGER)');
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: alert delivery failed: alert state unavailable \(.*\); nothing was sent/);
    expect(result.stderr).not.toContain('schema apply');
    expect(slack.requests).toHaveLength(0);
  });

  it('--dry-run without any destination prints no alert lines at all', async () => {
    const dry = await check({ env: { PEM_RECORD_SELF: 'off' }, args: ['--dry-run'] });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
  });

  it('writes state only for what was delivered', async () => {
    slack.answer(() => ({ status: 500 }));
    await check();
    const rows = await stateRows();
    expect(rows.filter((r) => r.event === 'notified').every((r) => r.destination === 'pagerduty')).toBe(true);
    expect(rows.filter((r) => r.event === 'notified')).toHaveLength(3);
    // Slack's claims were given back so the next run can take them.
    expect(rows.filter((r) => r.event === 'released' && r.destination === 'slack').length).toBeGreaterThan(0);
  });

  it('prints the INFO note to the console when every processor is healthy', async () => {
    const healthy = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { a: {}, b: {} } }, [
      ...successes('a', '2025-09-30', AS_OF),
      ...successes('b', '2025-09-30', AS_OF),
    ]);
    try {
      const result = await runCli(['check', '--config', healthy.registryPath, '--database', healthy.databasePath, ...CHECK_ARGS], {
        env: alertEnv(slack, pagerduty),
        now: new Date(NOW),
      });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('INFO: all 2 processors healthy for 2025-10-01..2025-10-07');
      expect(JSON.parse(result.stdout).alerts).toEqual([{ level: 'INFO', processor: null, destinations: ['console'], route: null, sent: true, reason: null }]);
      expect(slack.requests).toHaveLength(0);
      expect(pagerduty.requests).toHaveLength(0);
    } finally {
      healthy.cleanup();
    }
  });

  it.each([
    [{ SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/secretpart' }, 'SLACK_WEBHOOK_URL is not an http(s) URL'],
    [{ PEM_ALERT_RETRIES: 'lots' }, "PEM_ALERT_RETRIES 'lots' must be a whole number"],
  ])('exits 2 on a bad alert setting %o, naming it and never its value', async (extra, message) => {
    const result = await check({ env: { ...alertEnv(null, null), ...extra } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('secretpart');
  });
});

describe('silences', () => {
  it('holds back a silenced processor: computed and shown, not sent, until the silence is removed', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    const added = await runCli(['silence', 'add', ...base, '--processor', 'gamebook_processor', '--until', '2025-10-09T00:00:00Z', '--reason', 'NBA.com outage, backfill tomorrow'], {
      now: new Date(NOW),
    });
    expect(added.code).toBe(0);
    const id = /\((sil_[0-9a-f]{8})\)/.exec(added.stdout)![1]!;

    // A dry run shows the silence as a real run would (its JSON too), and sends nothing.
    const dry = await check({ args: ['--dry-run'] });
    expect(dry.json.alerts.find((a: any) => a.processor === 'gamebook_processor').reason).toBe('silenced');
    expect(dry.json.alerts.find((a: any) => a.processor === 'nbac_player_list_processor').reason).toBe('dry_run');
    expect(slack.requests).toHaveLength(0);

    const silenced = await check();
    expect(silenced.code).toBe(0);
    expect(silenced.json.processors.find((p: any) => p.name === 'gamebook_processor').level).toBe('CRITICAL');
    expect(sentOf(silenced.json)).toMatchObject({ gamebook_processor: false, nbac_player_list_processor: true });
    expect(silenced.json.alerts.find((a: any) => a.processor === 'gamebook_processor').reason).toBe('silenced');
    expect(silenced.json.alerts.find((a: any) => a.processor === 'nbac_player_list_processor').reason).toBeNull();
    expect(pdEvents(pagerduty)).toEqual(CRITICAL_PAGES.slice(1));
    const sections = slackSections(slack, 0).join('\n');
    expect(sections).not.toContain('Gamebook registry processor');
    expect(JSON.stringify(slack.requests[0]!.body)).toContain('Silenced, not sent: `gamebook_processor` until 2025-10-09 00:00 UTC (NBA.com outage, backfill tomorrow).');
    expect(silenced.stderr).toContain(`gamebook_processor silenced until 2025-10-09 00:00:00 UTC (${id}); not sent`);

    const removed = await runCli(['silence', 'remove', id, ...base], { now: at(1) });
    expect(removed.code).toBe(0);
    const after = await check({ now: at(1) });
    expect(sentOf(after.json)).toMatchObject({ gamebook_processor: true });
    expect(pdEvents(pagerduty).slice(2)).toEqual([CRITICAL_PAGES[0]]);
    expect(slackSections(slack, 1)).toHaveLength(1);
  });

  it('stops holding back once the silence has expired', async () => {
    const base = ['--config', scenario.registryPath, '--database', scenario.databasePath];
    await runCli(['silence', 'add', ...base, '--processor', 'gamebook_processor', '--until', '2025-10-08T13:00:00Z', '--reason', 'deploy'], { now: new Date(NOW) });
    await check();
    expect(pdEvents(pagerduty)).not.toContain(CRITICAL_PAGES[0]);
    await check({ now: at(1) });
    expect(pdEvents(pagerduty)).toContain(CRITICAL_PAGES[0]);
  });
});
