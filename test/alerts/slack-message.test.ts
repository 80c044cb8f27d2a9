/**
 * What a person sees in Slack. The golden file is the exact payload the webhook received for a
 * realistic bad morning (3 CRITICAL, 5 ERROR, 12 healthy); rewrite it with UPDATE_GOLDEN=1 after
 * an intended change and review the diff. The limits tests build results of any size directly.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckResult, DayReport, ProcessorDetail, ProcessorReport } from '../../src/check/report.js';
import { planAlerts } from '../../src/check/report.js';
import {
  buildSlackMessage,
  MAX_BLOCKS,
  MAX_CONTEXT_ELEMENTS,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  MESSAGE_TEXT_BUDGET,
  messageTextLength,
  type SlackMessage,
} from '../../src/alerts/slack-message.js';
import { runCli } from '../support/cli.js';
import { createScenario } from '../support/scenario.js';
import { alertEnv, badMorning, CHECK_ARGS, NOW, processorDetail as detail, SLACK_PATH, slackOk, startFakeServer } from './support.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '__golden__', 'bad-morning.slack.json');

describe('the Slack message of a bad morning', () => {
  it('matches the golden file, as the webhook received it', async () => {
    const { registry, rows } = badMorning();
    const scenario = await createScenario(registry, rows);
    const slack = await startFakeServer(SLACK_PATH, slackOk);
    try {
      const result = await runCli(['check', '--config', scenario.registryPath, '--database', scenario.databasePath, ...CHECK_ARGS], {
        env: alertEnv(slack, null),
        now: new Date(NOW),
      });
      expect(result.code).toBe(0);
      expect(slack.requests).toHaveLength(1);
      // The scenario's temporary folder appears in the `pem check` lines; the golden file names it <scenario>.
      const received = `${JSON.stringify(slack.requests[0]!.body, null, 2)}\n`.split(scenario.dir).join('<scenario>');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, received);
      expect(received).toBe(readFileSync(GOLDEN, 'utf8'));
      expectWithinLimits(slack.requests[0]!.body);
    } finally {
      await slack.close();
      scenario.cleanup();
    }
  });

  it('puts critical first, then high priority and revenue impact', () => {
    const message = JSON.parse(readFileSync(GOLDEN, 'utf8')) as SlackMessage;
    const order = message.blocks
      .filter((b) => b.type === 'section')
      .map((b) => (b.type === 'section' ? /`([a-z_]+)`/.exec(b.text.text)![1] : ''));
    expect(order).toEqual([
      'gamebook_processor',
      'nbac_player_list_processor',
      'bettingpros_props_processor',
      'odds_game_lines_processor',
      'bdl_boxscores_processor',
      'espn_scoreboard_processor',
      'nbac_injury_report_processor',
      'br_roster_processor',
    ]);
  });
});

describe('a silent failure in Slack (SPEC §10)', () => {
  it('says what is anomalous with the numbers, and what to do', () => {
    const day = (date: string, measures: Partial<DayReport>): DayReport => ({
      date,
      status: 'success',
      runs: 1,
      failed_runs: 0,
      anomalies: [],
      records: 12_400,
      duration_seconds: 2100,
      baseline_records: 12_400,
      baseline_duration_seconds: 2100,
      ...measures,
    });
    const p = processor('gamebook_processor', {
      failed_dates: [],
      low_volume_dates: ['2025-10-07'],
      slow_dates: ['2025-10-06'],
      days: [day('2025-10-06', { anomalies: ['slow'], duration_seconds: 11_400 }), day('2025-10-07', { anomalies: ['low_volume'], records: 0 })],
    });
    const result = resultOf([p], [detail(p.name, { latest_failure: null })]);
    const message = build(result, { triggers: [{ processor: p.name, kinds: [{ kind: 'low_volume', reason: 'new' }, { kind: 'slow', reason: 'new' }] }] });
    const section = message.message.blocks.find((b) => b.type === 'section');
    const text = section?.type === 'section' ? section.text.text : '';
    expect(text).toContain('• *Low volume:* 2025-10-07 (0 records; usual 12,400)');
    expect(text).toContain('• *Slow:* 2025-10-06 (3 h 10 min; usual 35 min)');
    expect(text).toContain(':wrench: A run succeeded but wrote far fewer records than usual');
  });
});

// ---------------------------------------------------------------------------------------

function processor(name: string, overrides: Partial<ProcessorReport> = {}): ProcessorReport {
  return {
    name,
    display_name: name,
    level: 'ERROR',
    priority: 'medium',
    revenue_impact: false,
    missing_dates: [],
    failed_dates: ['2025-10-06'],
    hung_dates: [],
    recovered_failure_dates: [],
    low_volume_dates: [],
    high_volume_dates: [],
    slow_dates: [],
    last_success_date: '2025-10-07',
    days_since_success: 0,
    is_stale: false,
    scheduler_issue: false,
    days: [],
    problem_since: null,
    blocked_by: [],
    route: 'default',
    ...overrides,
  };
}

function resultOf(processors: ProcessorReport[], details: ProcessorDetail[] = processors.map((p) => detail(p.name))): CheckResult {
  return {
    report: {
      as_of_date: '2025-10-07',
      window_start: '2025-10-01',
      window_end: '2025-10-07',
      lookback_days: 7,
      now: '2025-10-08T12:00:00.000Z',
      level: processors.some((p) => p.level === 'CRITICAL') ? 'CRITICAL' : 'ERROR',
      processors,
      alerts: planAlerts(processors),
    },
    details: Object.fromEntries(details.map((d) => [d.name, d])),
  };
}

function build(result: CheckResult, extra: Partial<Parameters<typeof buildSlackMessage>[0]> = {}) {
  return buildSlackMessage({
    result,
    dataset: 'nba_reference',
    triggers: result.report.processors.filter((p) => p.level !== 'OK').map((p) => ({ processor: p.name, kinds: [{ kind: 'failed' as const, reason: 'new' as const }] })),
    recoveries: [],
    alsoOpen: [],
    silenced: [],
    renotifyHours: 24,
    ...extra,
  });
}

function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const block of message.blocks) {
    if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
    if (block.type === 'context') {
      expect(block.elements.length).toBeLessThanOrEqual(MAX_CONTEXT_ELEMENTS);
      // A context element is a text object: at most 3,000 characters, as a section's text.
      for (const element of block.elements) expect(element.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    }
  }
  expect(messageTextLength(message)).toBeLessThanOrEqual(MESSAGE_TEXT_BUDGET);
  // Slack rejected messages near 13,000 characters (slackapi/bolt-js#2509): stay well under, JSON included.
  expect(JSON.stringify(message.blocks).length).toBeLessThan(13_000);
}

describe('Slack limits', () => {
  it('keeps 500 failing processors within 50 blocks and the text budget, with "…and N more"', () => {
    const processors = Array.from({ length: 500 }, (_, i) =>
      processor(`processor_${String(i).padStart(3, '0')}_with_a_long_descriptive_name`, {
        level: i % 5 === 0 ? 'CRITICAL' : 'ERROR',
        is_stale: i % 5 === 0,
        display_name: `Processor number ${i} of the nightly NBA reference pipeline`,
        missing_dates: ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07'],
      }),
    );
    const details = processors.map((p) => detail(p.name, { latest_failure: { date: '2025-10-06', error_type: 'Boom', error_message: 'x'.repeat(5000) } }));
    const built = build(resultOf(processors, details), {
      recoveries: Array.from({ length: 200 }, (_, i) => ({ processor: `recovered_${i}`, kinds: ['missing' as const] })),
      alsoOpen: Array.from({ length: 50 }, (_, i) => `open_${i}`),
      silenced: Array.from({ length: 30 }, (_, i) => ({ silence_id: `sil_${i}`, processor_name: `quiet_${i}`, silenced_until: '2025-10-09T00:00:00.000Z', reason: 'x' })),
    });
    expectWithinLimits(built.message);
    expect(built.detailed.length + built.summarized.length).toBe(500);
    // Sections this full (a 280-character error, seven dates, the stale hint) fit five at a time.
    expect(built.detailed.length).toBeGreaterThanOrEqual(5);
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain(`…and ${built.summarized.length} more: `);
    // It points to the footer's dry-run line, never to a bare `pem check` (that one sends alerts).
    expect(text).toContain('All of them: the *Full report* line at the end of this message.');
    expect(text).not.toContain('Run `pem check`');
    expect(text).toContain('Full report: `pem check --date 2025-10-07`');
    // The critical ones come first.
    expect(built.detailed.every((name) => Number(name.slice(10, 13)) % 5 === 0)).toBe(true);
  });

  it('stays within the limits when every section carries since-when, links, backfill commands and a pem check line', () => {
    const processors = Array.from({ length: 300 }, (_, i) => processor(`p_${String(i).padStart(3, '0')}_${'x'.repeat(60)}`, { level: i % 3 === 0 ? 'CRITICAL' : 'ERROR', is_stale: i % 3 === 0 }));
    const actions = new Map(
      processors.map((p) => [
        p.name,
        {
          since: '2025-10-01',
          problemDates: ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-05'],
          problemRanges: 'Oct 1–3, Oct 5 (4 dates)',
          streakBeforeWindow: false,
          runbookUrl: `https://runbooks.example.com/${p.name}?date=2025-10-05&${'q'.repeat(400)}`,
          backfillCommands: ['2025-10-01', '2025-10-02', '2025-10-03'].map((d) => `gcloud run jobs execute ${p.name} --region=us-west2 --args=--date=${d},${'a'.repeat(240)}`),
          moreBackfillDates: 1,
          checkCommand: `pem check --date 2025-10-07 --processors ${p.name} --config /very/long/${'d'.repeat(200)}/processors.json`,
          gapsCommand: `pem gaps --format commands --date 2025-10-07 --processors ${p.name} --config /very/long/${'d'.repeat(200)}/processors.json`,
        },
      ]),
    );
    const built = build(resultOf(processors), {
      actions,
      reportUrl: `https://storage.cloud.google.com/pem-reports/${'r'.repeat(300)}.html`,
      warning: { processors: 300, byRoute: { default: 100, stats: 200 } },
      checkCommand: `pem check --date 2025-10-07 --config /very/long/${'d'.repeat(200)}/processors.json`,
      timezone: 'America/New_York',
    });
    expectWithinLimits(built.message);
    expect(built.detailed.length).toBeGreaterThan(0);
    expect(built.detailed.length + built.summarized.length).toBe(300);
  });

  it('keeps the summary and the footer within a context element when routes are many and the report link is huge', () => {
    // 400 routes in trouble (a team per route), a signed report URL of 3,700 characters, a route name of 500.
    const byRoute = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`team_route_${String(i).padStart(4, '0')}`, i === 7 ? 9 : 1]));
    const built = build(resultOf([processor('p')]), {
      warning: { processors: 408, byRoute },
      route: `stats_${'r'.repeat(500)}`,
      reportUrl: `https://storage.googleapis.com/pem-reports/health.html?X-Goog-Signature=${'ab12'.repeat(900)}`,
      checkCommand: 'pem check --date 2025-10-07 --dry-run',
    });
    expectWithinLimits(built.message);
    expect(built.detailed).toEqual(['p']);
    const text = JSON.stringify(built.message.blocks);
    // The route with the most processors comes first, then nine more, then the count of the rest.
    expect(text).toContain('across all routes (team_route_0007: 9, team_route_0000: 1, ');
    expect(text).toContain('+390 more routes).');
    expect(text).toContain("Full report: `pem check --date 2025-10-07 --dry-run` · HTML report: a link too long for Slack, see the registry's report_url");
  });

  it('keeps what to do at the end of a section when a list or a link is huge: long lists end in +N more, a link too long is left out whole', () => {
    const name = 'root';
    const sectionOf = (built: ReturnType<typeof build>) => {
      const section = built.message.blocks.find((b) => b.type === 'section' && b.text.text.includes('root'));
      return section && section.type === 'section' ? section.text.text : '';
    };
    const actions = (runbookUrl: string | null) =>
      new Map([[name, { since: '2025-10-06', problemDates: ['2025-10-06'], problemRanges: 'Oct 6 (1 date)', streakBeforeWindow: false, runbookUrl, backfillCommands: [], moreBackfillDates: 0, checkCommand: 'pem check --date 2025-10-07 --processors root', gapsCommand: 'pem gaps --format commands --date 2025-10-07 --processors root' }]]);
    // 400 dependents and 120 owners.
    const crowded = build(
      resultOf([processor(name)], [detail(name, { also_affected: Array.from({ length: 400 }, (_, i) => `dependent_processor_${i}`), owners: Array.from({ length: 120 }, (_, i) => `owner.${i}@example.com`) })]),
      { actions: actions('https://wiki.example.com/root') },
    );
    expectWithinLimits(crowded.message);
    const text = sectionOf(crowded);
    expect(text).toContain('`dependent_processor_9` +390 more');
    expect(text).toMatch(/:busts_in_silhouette: owner\.0@example\.com · .* \+\d+ more$/);
    expect(text).toContain('*Reproduce:* `pem check --date 2025-10-07 --processors root`');
    // A runbook URL of 3,000 characters: the line goes, the rest stays whole.
    const linked = build(resultOf([processor(name)]), { actions: actions(`https://wiki.example.com/${'y'.repeat(3000)}`) });
    expectWithinLimits(linked.message);
    const withLink = sectionOf(linked);
    expect(withLink).toContain(':book: (a link too long for Slack: see the registry)');
    expect(withLink).toContain('*Reproduce:*');
    expect(withLink).toMatch(/:busts_in_silhouette: data-eng@example\.com · #nba-data-alerts$/);
    // Backfill commands too long to show whole: the code block is not cut open, it points to pem gaps.
    const longCommands = new Map([[name, { ...actions('https://wiki.example.com/root').get(name)!, backfillCommands: ['a', 'b', 'c'].map((d) => `rerun ${d} ${'x'.repeat(1_200)}`) }]]);
    const commanded = build(resultOf([processor(name)]), { actions: longCommands });
    expectWithinLimits(commanded.message);
    const withCommands = sectionOf(commanded);
    expect(withCommands).toContain('*Backfill:* `pem gaps --format commands --date 2025-10-07 --processors root` (too long for this message)');
    expect(withCommands).not.toContain('```');
    expect(withCommands).toContain('*Reproduce:*');
    // Commands too long to be shown at all (processorActions gives none, and counts every date): the same pointer.
    const noCommands = new Map([[name, { ...actions('https://wiki.example.com/root').get(name)!, backfillCommands: [], moreBackfillDates: 4 }]]);
    const pointed = sectionOf(build(resultOf([processor(name)]), { actions: noCommands }));
    expect(pointed).toContain('*Backfill:* `pem gaps --format commands --date 2025-10-07 --processors root` (too long for this message)\n*Reproduce:*');
  });

  it("notifies the owners written as Slack mentions, and shows any other owner as text", () => {
    const name = 'root';
    const owners = ['<@U024BE7LH>', '<!subteam^SAZ94GDB8|@data-eng>', '<!channel>', '@alice', 'a&b <team>'];
    const built = build(resultOf([processor(name)], [detail(name, { owners, slack_channel: '<#C024BE7LR>' })]));
    const section = built.message.blocks.find((b) => b.type === 'section' && b.text.text.includes('root'));
    const text = section && section.type === 'section' ? section.text.text : '';
    // A broadcast (<!channel>) is not an owner's mention: shown, it notifies no one.
    expect(text).toContain(':busts_in_silhouette: <@U024BE7LH> · <!subteam^SAZ94GDB8|@data-eng> · &lt;!channel&gt; · @alice · a&amp;b &lt;team&gt; · <#C024BE7LR>');
  });

  it('says how long the newest hung date has been running, when its rows give a start', () => {
    const hung = processor('h', { failed_dates: [], hung_dates: ['2025-10-06', '2025-10-07'] });
    const sectionOf = (latestHung: ProcessorDetail['latest_hung']) => {
      const built = build(resultOf([hung], [detail('h', { latest_hung: latestHung })]));
      const section = built.message.blocks.find((b) => b.type === 'section' && b.text.text.includes('Hung'));
      return section && section.type === 'section' ? section.text.text : '';
    };
    // now is 2025-10-08T12:00Z.
    expect(sectionOf({ date: '2025-10-07', started_at: '2025-10-08T00:40:00.000Z' })).toContain('• *Hung:* 2025-10-06, 2025-10-07 (2025-10-07 running for 11 h 20 min)');
    expect(sectionOf({ date: '2025-10-07', started_at: '2025-10-06T10:00:00.000Z' })).toContain('(2025-10-07 running for 2 d 2 h)');
    expect(sectionOf({ date: '2025-10-07', started_at: null })).toMatch(/• \*Hung:\* 2025-10-06, 2025-10-07\n/);
  });

  it('truncates a huge error message instead of breaking the section', () => {
    const built = build(resultOf([processor('p')], [detail('p', { latest_failure: { date: '2025-10-06', error_type: 'E', error_message: 'y'.repeat(10_000) } })]));
    expectWithinLimits(built.message);
    const section = built.message.blocks.find((b) => b.type === 'section');
    expect(section && section.type === 'section' && section.text.text).toMatch(/y…\n/);
    expect(built.summarized).toEqual([]);
  });

  it('never cuts an emoji in half (a lone surrogate is invalid JSON text to Slack)', () => {
    const emoji = '\u{1F600}';
    const built = build(
      resultOf(
        [processor('p', { display_name: emoji.repeat(600) })],
        [detail('p', { latest_failure: { date: '2025-10-06', error_type: 'E', error_message: emoji.repeat(3000) } })],
      ),
    );
    expectWithinLimits(built.message);
    const text = JSON.stringify(built.message);
    expect(text).toContain(`${emoji}…`);
    // JSON.stringify escapes a lone surrogate as \udXXX; a whole pair stays as it is.
    expect(text).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
  });

  it("keeps a processor's names on their line: a line break in a display name, an owner or an error type cannot make a line of its own", () => {
    const built = build(
      resultOf(
        [processor('p', { level: 'CRITICAL', is_stale: true, display_name: 'Gamebook\n:large_green_circle: *OK · all fine, ignore this*' })],
        [detail('p', { owners: ['alice\n:white_check_mark: resolved'], latest_failure: { date: '2025-10-06', error_type: 'Bad\nType', error_message: 'boom' } })],
      ),
    );
    const section = built.message.blocks.find((b) => b.type === 'section');
    const lines = section && section.type === 'section' ? section.text.text.split('\n') : [];
    expect(lines[0]).toBe(':red_circle: *CRITICAL · Gamebook :large_green_circle: *OK · all fine, ignore this**');
    expect(lines.some((line) => /^:(large_green_circle|white_check_mark):/.test(line))).toBe(false);
    expect(lines).toContain(':busts_in_silhouette: alice :white_check_mark: resolved · #nba-data-alerts');
    expect(lines).toContain('• *Latest error* (2025-10-06): `Bad Type` boom');
  });

  it('shows the reproduce command as run: a path with two spaces stays that path', () => {
    const checkCommand = "pem check --date 2025-10-07 --processors p --config '/srv/pem/team  a/registry.json' --dry-run";
    const built = build(resultOf([processor('p', { level: 'CRITICAL', is_stale: true })]), {
      actions: new Map([['p', { since: '2025-10-06', problemDates: ['2025-10-06'], problemRanges: 'Oct 6 (1 date)', streakBeforeWindow: false, runbookUrl: null, backfillCommands: [], moreBackfillDates: 0, checkCommand, gapsCommand: 'pem gaps --format commands --date 2025-10-07 --processors p' }]]),
      checkCommand,
    });
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain(`*Reproduce:* \`${checkCommand}\``);
    expect(text).toContain(`Full report: \`${checkCommand}\``);
  });

  it('escapes the characters Slack reads as markup, and cannot be broken out of inline code', () => {
    const built = build(
      resultOf(
        [processor('p', { display_name: 'A <b> & <!channel>' })],
        [detail('p', { latest_failure: { date: '2025-10-06', error_type: 'Bad`Type', error_message: '<@U123> said x > y & z' } })],
      ),
    );
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain('A &lt;b&gt; &amp; &lt;!channel&gt;');
    expect(text).toContain("`Bad'Type` &lt;@U123&gt; said x &gt; y &amp; z");
    expect(text).not.toContain('<!channel>');
  });

  it('keeps control characters, bidirectional controls and a stray ``` of a processor\'s text out of the channel', () => {
    const built = build(
      resultOf(
        [processor('p', { display_name: 'Evil\u202e gnp.exe\u0007' })],
        [detail('p', { latest_failure: { date: '2025-10-06', error_type: 'IOError', error_message: 'disk full ``` see \u001b[2Jlog\r\nline two' } })],
      ),
    );
    const text = built.message.blocks.map((block) => JSON.stringify(block)).join('');
    expect(text).toContain('Evil? gnp.exe?');
    // The error is one line in Slack (its whitespace folded); a CRLF is not left as a '?'.
    expect(text).toContain("disk full ''' see ?[2Jlog line two");
    expect(text).not.toMatch(/[\u0000-\u0008\u001b\u202e]/);
    // Every ``` left is one pem opened and closed itself.
    expect((text.match(/```/g) ?? []).length % 2).toBe(0);
  });

  it('sends a message for recoveries alone, saying what is still wrong', () => {
    const result = resultOf([processor('still_bad')]);
    const built = buildSlackMessage({
      result,
      dataset: 'nba_reference',
      triggers: [],
      recoveries: [{ processor: 'still_bad', kinds: ['stale'] }],
      alsoOpen: ['still_bad'],
      silenced: [],
      renotifyHours: 24,
    });
    // The check mark leads with what recovered, then what is still open: never "✅ 1 error" first.
    expect(built.message.blocks[0]).toMatchObject({ type: 'header', text: { text: ':white_check_mark: pem: 1 recovered; still open: 1 error in nba_reference' } });
    expect(JSON.stringify(built.message.blocks)).toContain('`still_bad` no longer stale; still ERROR');
    expect(built.message.text).toBe('pem: 1 recovered; still open: 1 error in nba_reference');
  });

  it('never says a kind of dates recovered while its processor is still open: the dates may only have left the window', () => {
    // Failed and hung on dates that left the window, never re-run; its scheduler is now the issue.
    const result = resultOf([processor('left_behind', { level: 'CRITICAL', scheduler_issue: true })]);
    const built = buildSlackMessage({
      result,
      dataset: 'nba_reference',
      triggers: [],
      recoveries: [{ processor: 'left_behind', kinds: ['hung', 'stale', 'failed'] }],
      alsoOpen: ['left_behind'],
      silenced: [],
      renotifyHours: 24,
    });
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain('`left_behind` no longer stale; no failed, hung dates left in Oct 1–7; still CRITICAL');
    expect(text).not.toContain('no longer failed');
    const reworded = buildSlackMessage({
      result: resultOf([processor('still_open', { level: 'ERROR' })]),
      dataset: 'nba_reference',
      triggers: [],
      recoveries: [{ processor: 'still_open', kinds: ['recovered_failures', 'scheduler_issue'] }],
      alsoOpen: ['still_open'],
      silenced: [],
      renotifyHours: 24,
    });
    expect(JSON.stringify(reworded.message.blocks)).toContain('`still_open` no longer a scheduler issue; no recovered-failure dates left in Oct 1–7; still ERROR');
  });

  it('gives the hint of the worst problem the section shows, not of the kind that is due', () => {
    // Stale and already paged; its failed dates are new this run.
    const result = resultOf([processor('stale_and_failing', { level: 'CRITICAL', is_stale: true, days_since_success: 5, last_success_date: '2025-10-02' })]);
    const built = build(result, { triggers: [{ processor: 'stale_and_failing', kinds: [{ kind: 'failed', reason: 'new' }] }] });
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain(':wrench: Fix the cause, then backfill every date since the last success');
    expect(text).not.toContain('Read the latest error, fix it');
  });

  it('calls a processor whose problem dates cleared "all clear" for the window, not "healthy again": its dates may only have left the window', () => {
    const ok = (name: string, days: DayReport[] = []) => processor(name, { level: 'OK', failed_dates: [], days });
    const day = (date: string, status: DayReport['status']) => ({ date, status }) as DayReport;
    const result = resultOf([ok('aged_out'), ok('paged', [day('2025-10-07', 'success')]), ok('off_season'), ok('rerun_started', [day('2025-10-06', 'success'), day('2025-10-07', 'running')])]);
    const built = buildSlackMessage({
      result,
      dataset: 'nba_reference',
      triggers: [],
      recoveries: [
        { processor: 'aged_out', kinds: ['failed'] },
        { processor: 'paged', kinds: ['stale'] },
        { processor: 'off_season', kinds: ['scheduler_issue'] },
        { processor: 'rerun_started', kinds: ['missing'] },
      ],
      alsoOpen: [],
      silenced: [],
      renotifyHours: 24,
    });
    const text = JSON.stringify(built.message.blocks);
    expect(text).toContain('`aged_out` all clear for Oct 1–7 (was failed)');
    // Healthy again on a new success; a scheduler issue that cleared with no success in the
    // window (no due date left in it) is only all clear.
    expect(text).toContain('`paged` healthy again (was stale)');
    expect(text).toContain('`off_season` all clear for Oct 1–7 (was scheduler issue)');
    expect(text).toContain('`rerun_started` all clear for Oct 1–7 (was missing); running: Oct 7 (1 date)');
    expect(text).not.toContain('`aged_out` healthy again');
  });
});
