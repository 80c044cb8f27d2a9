/** What is due, from issues and delivered state (pure), and the keys and events it is built on. */
import { describe, expect, it } from 'vitest';
import { collectIssues, issueKey, MAX_DEDUP_KEY, type Issue } from '../../src/alerts/issues.js';
import { buildPagerDutyTrigger, SEVERITY } from '../../src/alerts/pagerduty-event.js';
import { planDeliveries, slackCompanions, type DeliveredState, type PlanInputs } from '../../src/alerts/plan.js';
import { planAlerts, type CheckResult, type ProcessorReport } from '../../src/check/report.js';
import { processorDetail } from './support.js';

const NOW = new Date('2025-10-08T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

const issue = (processor: string, destinations: Issue['destinations'] = ['pagerduty', 'slack']): Issue => ({
  key: issueKey('ds', processor, 'stale'),
  processor,
  kind: 'stale',
  level: 'CRITICAL',
  destinations,
  held: null,
});

const delivered = (processor: string, destination: 'slack' | 'pagerduty', event: 'notified' | 'resolved', at: Date): DeliveredState => ({
  alert_key: issueKey('ds', processor, 'stale'),
  destination,
  processor_name: processor,
  issue_kind: 'stale',
  level: 'CRITICAL',
  event,
  event_id: `${processor}-${destination}-${event}`,
  event_at: at,
});

function plan(overrides: Partial<PlanInputs>) {
  return planDeliveries({
    issues: [],
    state: [],
    silences: [],
    configured: new Set(['slack', 'pagerduty']),
    checked: new Set(['a', 'b']),
    renotifyHours: 24,
    now: NOW,
    ...overrides,
  });
}

describe('planDeliveries', () => {
  it('sends a new issue to every configured destination of its routing', () => {
    const p = plan({ issues: [issue('a')] });
    expect(p.due.map((d) => `${d.destination} ${d.action} ${d.reason}`)).toEqual(['pagerduty trigger new', 'slack trigger new']);
  });

  it('leaves out destinations that are not configured', () => {
    expect(plan({ issues: [issue('a')], configured: new Set(['slack']) }).due.map((d) => d.destination)).toEqual(['slack']);
  });

  it.each([
    [23.99, 0],
    [24, 2],
    [30, 2],
  ])('re-sends an issue notified %s hours ago: %i due', (hours, count) => {
    const p = plan({
      issues: [issue('a')],
      state: [delivered('a', 'slack', 'notified', hoursAgo(hours)), delivered('a', 'pagerduty', 'notified', hoursAgo(hours))],
    });
    expect(p.due).toHaveLength(count);
    if (count > 0) expect(p.due.every((d) => d.reason === 'reminder')).toBe(true);
    else expect(p.open.slack).toEqual(['a']);
  });

  it('treats an issue resolved earlier as new again', () => {
    const p = plan({ issues: [issue('a', ['slack'])], state: [delivered('a', 'slack', 'resolved', hoursAgo(1))] });
    expect(p.due).toMatchObject([{ reason: 'new', basis: 'a-slack-resolved' }]);
  });

  it('resolves a notified issue that cleared, once, and only for processors checked this run', () => {
    const state = [delivered('a', 'pagerduty', 'notified', hoursAgo(2)), delivered('z', 'pagerduty', 'notified', hoursAgo(2))];
    expect(plan({ state }).due).toMatchObject([{ processor: 'a', action: 'resolve', reason: 'recovered' }]);
    expect(plan({ state: [delivered('a', 'pagerduty', 'resolved', hoursAgo(1))] }).due).toEqual([]);
  });

  it('holds back triggers of a silenced processor but still resolves what was notified', () => {
    const silence = { silence_id: 'sil_1', processor_name: 'a', silenced_until: '2025-10-09T00:00:00.000Z', reason: 'maintenance' };
    const p = plan({ issues: [issue('a')], silences: [silence] });
    expect(p.due).toEqual([]);
    expect(p.silenced).toEqual([silence]);
    const cleared = plan({ silences: [silence], state: [delivered('a', 'slack', 'notified', hoursAgo(1))] });
    expect(cleared.due).toMatchObject([{ action: 'resolve' }]);
  });

  it('resolves a cleared issue only from a check whose window ends no more than a day before the issue was last notified', () => {
    // Notified two hours before NOW, whose date in UTC is the day `today` names.
    const state = [delivered('a', 'pagerduty', 'notified', hoursAgo(2))];
    const notifiedOn = hoursAgo(2).toISOString().slice(0, 10);
    const dayBefore = new Date(Date.parse(`${notifiedOn}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const weeksBefore = new Date(Date.parse(`${notifiedOn}T00:00:00Z`) - 14 * 86_400_000).toISOString().slice(0, 10);
    for (const end of [notifiedOn, dayBefore]) {
      const p = plan({ state, window: { end, timezone: 'UTC' } });
      expect(p.due).toMatchObject([{ processor: 'a', action: 'resolve' }]);
      expect(p.heldResolves).toBe(0);
    }
    // A look at a window two weeks back does not see the dates the issue was raised for.
    const old = plan({ state, window: { end: weeksBefore, timezone: 'UTC' } });
    expect(old.due).toEqual([]);
    expect(old.heldResolves).toBe(1);
  });

  it('leaves a cleared issue to the checks of the window lengths that raised and last notified it, until it has gone a reminder and a day without one', () => {
    /** A scheduler issue raised with `raisedWith` days, last notified by a check of `sentBy`, `hours` ago. */
    const raised = (raisedWith: number | undefined, hours: number, sentBy = raisedWith): DeliveredState => ({
      ...delivered('a', 'pagerduty', 'notified', hoursAgo(hours)),
      alert_key: issueKey('ds', 'a', 'scheduler_issue'),
      issue_kind: 'scheduler_issue',
      ...(sentBy === undefined ? {} : { lookback_days: sentBy }),
      ...(raisedWith === undefined ? {} : { raised_lookback_days: raisedWith }),
    });
    const today = NOW.toISOString().slice(0, 10);
    const resolves = (state: DeliveredState, lookbackDays: number) =>
      plan({ state: [state], window: { end: today, timezone: 'UTC', lookbackDays } });
    // The same window length, or an event written before the columns existed: resolved as before.
    expect(resolves(raised(7, 2), 7).due).toMatchObject([{ action: 'resolve', reason: 'recovered', lookbackDays: 7 }]);
    expect(resolves(raised(undefined, 2), 14).due).toMatchObject([{ action: 'resolve' }]);
    // A reminder of such an event, sent by a 14-day check: still no raising length, so not held.
    expect(resolves(raised(undefined, 2, 14), 7).due).toMatchObject([{ action: 'resolve' }]);
    // Wider (sees older runs) or narrower (misses dates): held, and said so with the raising length.
    for (const lookbackDays of [14, 1]) {
      const held = resolves(raised(7, 2), lookbackDays);
      expect(held.due).toEqual([]);
      expect(held.heldForWindow).toEqual({ issues: 1, lookbackDays: [7] });
      expect(held.heldResolves).toBe(0);
    }
    // Raised by a 7-day check, last reminded by a one-off 14-day one: the 7-day check resolves it.
    expect(resolves(raised(7, 2, 14), 7).due).toMatchObject([{ action: 'resolve' }]);
    // Raised first by a one-off 1-day check, re-notified since by the scheduled 7-day one: that one resolves it.
    expect(resolves(raised(1, 2, 7), 7).due).toMatchObject([{ action: 'resolve' }]);
    expect(resolves(raised(1, 2, 7), 14).heldForWindow).toEqual({ issues: 1, lookbackDays: [1, 7] });
    // No reminder for renotify_hours (24) and a day: the raising check no longer runs; this one resolves.
    expect(resolves(raised(7, 47.9), 14).due).toEqual([]);
    expect(resolves(raised(7, 48), 14).due).toMatchObject([{ action: 'resolve' }]);
    expect(resolves(raised(7, 48), 14).heldForWindow).toEqual({ issues: 0, lookbackDays: [] });
    // Counted once per issue, whatever its destinations; lengths listed once each, ascending.
    const both = plan({
      state: [
        raised(30, 2),
        { ...raised(30, 2), destination: 'slack' },
        { ...delivered('b', 'slack', 'notified', hoursAgo(3)), lookback_days: 14, raised_lookback_days: 14 },
      ],
      window: { end: today, timezone: 'UTC', lookbackDays: 7 },
    });
    expect(both.heldForWindow).toEqual({ issues: 2, lookbackDays: [14, 30] });
  });

  it('records the window length an issue was raised with on its reminders and Slack companions, whichever check sends them', () => {
    const today = NOW.toISOString().slice(0, 10);
    const raisedBy7 = { ...delivered('a', 'pagerduty', 'notified', hoursAgo(25)), lookback_days: 7, raised_lookback_days: 7 };
    const byOneOff = plan({ issues: [issue('a', ['pagerduty'])], state: [raisedBy7], window: { end: today, timezone: 'UTC', lookbackDays: 14 } });
    expect(byOneOff.due).toMatchObject([{ reason: 'reminder', lookbackDays: 14, raisedLookbackDays: 7 }]);
    // A new issue: this check's length both ways.
    expect(plan({ issues: [issue('b', ['pagerduty'])], window: { end: today, timezone: 'UTC', lookbackDays: 14 } }).due).toMatchObject([
      { reason: 'new', lookbackDays: 14, raisedLookbackDays: 14 },
    ]);
    // A reminder of an event from before the columns: no raising length, as before.
    const { lookback_days: _, raised_lookback_days: __, ...beforeColumns } = raisedBy7;
    const [reminder] = plan({ issues: [issue('a', ['pagerduty'])], state: [beforeColumns], window: { end: today, timezone: 'UTC', lookbackDays: 14 } }).due;
    expect(reminder).toMatchObject({ reason: 'reminder', lookbackDays: 14 });
    expect(reminder).not.toHaveProperty('raisedLookbackDays');
    // Without a window length (the backtest) nothing is recorded.
    expect(plan({ issues: [issue('b')] }).due.every((d) => !('lookbackDays' in d) && !('raisedLookbackDays' in d))).toBe(true);
    // Slack companions: an open issue keeps its raising length; one never told is raised with this check's.
    const missing: Issue = { ...issue('a', ['slack']), key: issueKey('ds', 'a', 'missing'), kind: 'missing', level: 'ERROR' };
    const stale = issue('a', ['slack']);
    const companions = slackCompanions([stale, missing], new Set(['a']), [], [{ ...delivered('a', 'slack', 'notified', hoursAgo(2)), lookback_days: 1, raised_lookback_days: 7 }], 14);
    expect(companions.map((c) => [c.kind, c.lookbackDays, c.raisedLookbackDays])).toEqual([['stale', 14, 7], ['missing', 14, 14]]);
  });

  it('keeps one incident when a processor paged for a scheduler issue goes stale too: the page goes on under its open key', () => {
    const schedulerKey = issueKey('ds', 'a', 'scheduler_issue');
    const paged: DeliveredState = { ...delivered('a', 'pagerduty', 'notified', hoursAgo(2)), alert_key: schedulerKey, issue_kind: 'scheduler_issue', event_id: 'page-1' };
    // Both now: the stale issue pages, the scheduler issue goes to Slack only (collectIssues).
    const both = [issue('a'), { ...issue('a', ['slack']), key: schedulerKey, kind: 'scheduler_issue' as const }];
    const quiet = plan({ issues: both, state: [paged] });
    expect(quiet.due.map((d) => `${d.destination} ${d.action} ${d.kind}`)).toEqual(['slack trigger stale', 'slack trigger scheduler_issue']);
    expect(quiet.open.pagerduty).toEqual(['a']);
    // Its reminder comes under the open key, then it resolves once nothing pages any more.
    const reminder = plan({ issues: both, state: [{ ...paged, event_at: hoursAgo(25) }] });
    // Saying what is wrong now (stale), under the incident already open.
    expect(reminder.due.filter((d) => d.destination === 'pagerduty')).toMatchObject([{ key: schedulerKey, kind: 'stale', action: 'trigger', reason: 'reminder', basis: 'page-1' }]);
    expect(plan({ issues: [], state: [paged] }).due).toMatchObject([{ key: schedulerKey, action: 'resolve' }]);
    // Without an open page of the other kind, stale pages as itself.
    expect(plan({ issues: both, state: [] }).due.filter((d) => d.destination === 'pagerduty')).toMatchObject([{ key: issueKey('ds', 'a', 'stale'), reason: 'new' }]);
  });

  it('shows a processor with several silences as silenced until the last of them ends', () => {
    // As listSilences orders them: latest end first.
    const longer = { silence_id: 'sil_2', processor_name: 'a', silenced_until: '2025-10-12T00:00:00.000Z', reason: 'migration' };
    const shorter = { silence_id: 'sil_1', processor_name: 'a', silenced_until: '2025-10-09T00:00:00.000Z', reason: 'maintenance' };
    expect(plan({ issues: [issue('a')], silences: [longer, shorter] }).silenced).toEqual([longer]);
    expect(plan({ issues: [issue('a')], silences: [shorter, longer] }).silenced).toEqual([longer]);
  });
});

// ---------------------------------------------------------------------------------------

function report(p: Partial<ProcessorReport>): CheckResult {
  const processor: ProcessorReport = {
    name: 'gamebook_processor',
    display_name: 'Gamebook',
    level: 'CRITICAL',
    priority: 'high',
    revenue_impact: true,
    missing_dates: ['2025-10-07'],
    failed_dates: [],
    hung_dates: [],
    recovered_failure_dates: [],
    low_volume_dates: [],
    high_volume_dates: [],
    slow_dates: [],
    last_success_date: '2025-09-28',
    days_since_success: 9,
    is_stale: true,
    scheduler_issue: true,
    days: [],
    problem_since: null,
    blocked_by: [],
    route: 'default',
    ...p,
  };
  return {
    report: {
      as_of_date: '2025-10-07',
      window_start: '2025-10-01',
      window_end: '2025-10-07',
      lookback_days: 7,
      now: NOW.toISOString(),
      level: 'CRITICAL',
      processors: [processor],
      alerts: planAlerts([processor]),
    },
    details: {},
  };
}

describe('issues and PagerDuty events', () => {
  it('pages once for a processor both stale and without runs, and says both', () => {
    const result = report({});
    const issues = collectIssues(result, 'nba_reference');
    expect(issues.map((i) => `${i.kind} ${i.destinations.join('+')}`)).toEqual(['scheduler_issue slack', 'stale pagerduty+slack', 'missing slack']);
    const event = buildPagerDutyTrigger(result, 'gamebook_processor', 'stale', issues[1]!.key, 'nba_reference');
    expect(event.dedup_key).toBe('pem/nba_reference/gamebook_processor/stale');
    expect(event.payload.summary).toBe(
      'Gamebook (gamebook_processor) is stale: last success 2025-09-28, 9 days before 2025-10-07; no runs at all in the window (scheduler issue)',
    );
    expect(event.payload.severity).toBe('critical');
    // One day is a day, as Slack says it.
    const dayAgo = report({ last_success_date: '2025-10-06', days_since_success: 1, scheduler_issue: false });
    const staleKey = collectIssues(dayAgo, 'nba_reference').find((i) => i.kind === 'stale')!.key;
    expect(buildPagerDutyTrigger(dayAgo, 'gamebook_processor', 'stale', staleKey, 'nba_reference').payload.summary).toBe(
      'Gamebook (gamebook_processor) is stale: last success 2025-10-06, 1 day before 2025-10-07',
    );
  });

  it("lists a stale processor's anomalous dates in custom_details, which its problem_dates counts (SPEC §10)", () => {
    const result = report({ scheduler_issue: false, missing_dates: [], low_volume_dates: ['2025-10-05'], slow_dates: ['2025-10-06'] });
    const details = buildPagerDutyTrigger(result, 'gamebook_processor', 'stale', 'k', 'nba_reference').payload.custom_details;
    expect(details).toMatchObject({ low_volume_dates: ['2025-10-05'], high_volume_dates: [], slow_dates: ['2025-10-06'] });
  });

  it('never cuts an emoji in half in the summary (a lone surrogate is invalid JSON text to PagerDuty), nor lets a long name push out what is wrong', () => {
    const emoji = '\u{1F600}';
    const result = report({ display_name: emoji.repeat(600) });
    const event = buildPagerDutyTrigger(result, 'gamebook_processor', 'stale', 'k', 'nba_reference');
    expect(event.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(event.payload.summary).toMatch(new RegExp(`^${emoji}+… \\(gamebook_processor\\) is stale: `, 'u'));
    expect(JSON.stringify(event)).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
  });

  it("keeps an event well under PagerDuty's 512 KB whatever the registry and the history hold: owners and dependents beyond 50 are counted, long names cut", () => {
    const result = report({});
    result.details['gamebook_processor'] = processorDetail('gamebook_processor', {
      owners: Array.from({ length: 8000 }, (_, i) => `owner.${i}.${'o'.repeat(60)}@example.com`),
      slack_channel: `#${'c'.repeat(100_000)}`,
      // A root upstream of 3,000 processors, each name 200 characters.
      also_affected: Array.from({ length: 3000 }, (_, i) => `dependent_${i}_${'d'.repeat(190)}`),
      // A stack trace written as the error type (run history is written by any script).
      latest_failure: { date: '2025-10-06', error_type: `java.lang.RuntimeException: ${'Caused by: com.example.Foo '.repeat(25_000)}`, error_message: 'boom' },
    });
    const event = buildPagerDutyTrigger(result, 'gamebook_processor', 'stale', 'k', 'nba_reference');
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(64 * 1024);
    const owners = event.payload.custom_details.owners as string[];
    expect([owners.length, owners.at(-1)]).toEqual([51, '+7950 more']);
    const affected = event.payload.custom_details.also_affected as string[];
    expect([affected.length, affected.at(-1)]).toEqual([51, '+2950 more']);
    expect((event.payload.custom_details.slack_channel as string).length).toBe(200);
    expect((event.payload.custom_details.latest_error as { error_type: string }).error_type).toMatch(/^java\.lang\.RuntimeException: Caused by: .{100,}…$/);
  });

  it('pages a scheduler issue on its own when the processor is not stale', () => {
    const issues = collectIssues(report({ is_stale: false }), 'ds');
    expect(issues.find((i) => i.kind === 'scheduler_issue')!.destinations).toEqual(['pagerduty', 'slack']);
  });

  it('raises a silent failure as a Slack issue of its own kind, never a page (SPEC §10)', () => {
    const result = report({ level: 'ERROR', is_stale: false, scheduler_issue: false, missing_dates: [], low_volume_dates: ['2025-10-06'], slow_dates: ['2025-10-07'] });
    expect(collectIssues(result, 'ds').map((i) => `${i.kind} ${i.destinations.join('+')}`)).toEqual(['low_volume slack', 'slow slack']);
  });

  it('keeps dedup keys stable and within 255 characters, however long the names', () => {
    const long = 'p'.repeat(400);
    const key = issueKey('nba_reference', long, 'stale');
    expect(key.length).toBe(MAX_DEDUP_KEY);
    expect(issueKey('nba_reference', long, 'stale')).toBe(key);
    expect(issueKey('nba_reference', long, 'scheduler_issue')).not.toBe(key);
    expect(issueKey('nba_reference', `${long}x`, 'stale')).not.toBe(key);
  });

  it('maps every level to a PagerDuty severity', () => {
    expect(SEVERITY).toEqual({ CRITICAL: 'critical', ERROR: 'error', WARNING: 'warning', INFO: 'info' });
  });
});
