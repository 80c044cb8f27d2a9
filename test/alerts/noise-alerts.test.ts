/**
 * SPEC §12 with destinations configured (Slack and PagerDuty stand-ins on 127.0.0.1): a held alert
 * is not sent and says why, and the root upstream's alert lists what else is affected.
 * Time zone UTC; E = 2025-10-07; now = 2025-10-08T12:00Z.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { datesBetween, runsOn } from '../support/runs.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { alertEnv, pagerDutyOk, SLACK_PATH, slackOk, startFakeServer, type FakeServer } from './support.js';

let scenario: Scenario | undefined;
let slack: FakeServer;
let pagerduty: FakeServer;
beforeEach(async () => {
  slack = await startFakeServer(SLACK_PATH, slackOk);
  pagerduty = await startFakeServer('/v2/enqueue', pagerDutyOk);
});
afterEach(async () => {
  await slack.close();
  await pagerduty.close();
  scenario?.cleanup();
});

const W = datesBetween('2025-10-01', '2025-10-07');
const except = (name: string, gaps: string[]) => runsOn(name, W.filter((d) => !gaps.includes(d)));

async function check(now = '2025-10-08T12:00:00Z') {
  const run = await runCli(['check', '--config', scenario!.registryPath, '--database', scenario!.databasePath, '--json-output', '--date', '2025-10-07', '--now', now], {
    env: alertEnv(slack, pagerduty),
    now: new Date(now),
  });
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}
const slackText = () => JSON.stringify(slack.requests.map((r) => r.body));

describe('noise control with destinations', () => {
  it('sends the root upstream alone, listing its explained downstreams as also affected, on Slack and PagerDuty', async () => {
    // gamebook stale since 10-03 (failing); boxscores (same day) and props (the day after) only miss those dates.
    const rows = [
      ...runsOn('gamebook', datesBetween('2025-09-25', '2025-10-02')),
      ...runsOn('gamebook', datesBetween('2025-10-03', '2025-10-07'), 'failed'),
      ...runsOn('boxscores', datesBetween('2025-09-25', '2025-10-02')),
      ...runsOn('props', datesBetween('2025-09-25', '2025-10-03')),
    ];
    scenario = await createScenario(
      {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: { gamebook: {}, boxscores: { depends_on: ['gamebook'] }, props: { depends_on: [{ processor: 'boxscores', offset_days: -1 }] } },
      },
      rows,
    );
    const json = await check();
    expect(json.alerts.map((a: any) => [a.level, a.processor, a.sent, a.reason])).toEqual([
      ['CRITICAL', 'boxscores', false, 'dependency'],
      ['CRITICAL', 'gamebook', true, null],
      ['CRITICAL', 'props', false, 'dependency'],
    ]);
    expect(slack.requests).toHaveLength(1);
    expect(slackText()).toContain('*Also affected:* `boxscores`, `props`');
    expect(pagerduty.requests.map((r) => r.body.dedup_key)).toEqual(['pem/nba_reference/gamebook/stale']);
    expect(pagerduty.requests[0]!.body.payload.custom_details.also_affected).toEqual(['boxscores', 'props']);
  });

  it('counts no held processor in the WARNING summary, and names the held ones in the footer of their route', async () => {
    const rows = [
      ...runsOn('gamebook', datesBetween('2025-09-25', '2025-10-02')),
      ...runsOn('gamebook', datesBetween('2025-10-03', '2025-10-07'), 'failed'),
      ...runsOn('boxscores', datesBetween('2025-09-25', '2025-10-02')),
      ...except('injuries', ['2025-10-06']),
      ...except('rosters', ['2025-10-07']),
    ];
    scenario = await createScenario(
      {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: { gamebook: {}, boxscores: { depends_on: ['gamebook'] }, injuries: {}, rosters: { alert_after_dates: 2 } },
      },
      rows,
    );
    const json = await check();
    expect(json.alerts.map((a: any) => [a.level, a.processor, a.sent, a.reason])).toEqual([
      ['CRITICAL', 'boxscores', false, 'dependency'],
      ['CRITICAL', 'gamebook', true, null],
      ['ERROR', 'injuries', true, null],
      ['ERROR', 'rosters', false, 'threshold'],
      ['WARNING', null, true, null],
    ]);
    expect(slack.requests).toHaveLength(1);
    expect(slackText()).toContain(':warning: *WARNING:* 2 processors with issues across all routes (default: 2).');
    expect(slackText()).toContain('Held by noise control, not sent: `boxscores` (explained by an upstream processor), `rosters` (below its alert threshold).');
  });

  it('holds an ERROR below its threshold without sending it, and sends it once the threshold is reached', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', timezone: 'UTC', processors: { p: { alert_after_dates: 2, alert_within_dates: 3 } } }, except('p', ['2025-10-07']));
    const held = await check();
    expect(held.alerts).toEqual([{ level: 'ERROR', processor: 'p', destinations: ['slack'], route: 'default', sent: false, reason: 'threshold' }]);
    expect(slack.requests).toHaveLength(0);
    // The next day (E = 10-08): 10-07 and 10-08 both missing, 2 of the last 3.
    const run = await runCli(['check', '--config', scenario.registryPath, '--database', scenario.databasePath, '--json-output', '--date', '2025-10-08', '--now', '2025-10-09T12:00:00Z'], {
      env: alertEnv(slack, pagerduty),
      now: new Date('2025-10-09T12:00:00Z'),
    });
    expect(JSON.parse(run.stdout).alerts).toEqual([{ level: 'ERROR', processor: 'p', destinations: ['slack'], route: 'default', sent: true, reason: null }]);
    expect(slack.requests).toHaveLength(1);
  });
});
