/** What an alert lets a person do (SPEC §11): since-when ranges, templates, the pem check line, local times. */
import { describe, expect, it } from 'vitest';
import { checkCommandLine, compactRanges, firstExpectedAfter, processorActions } from '../../src/alerts/actions.js';
import { localTime } from '../../src/local-time.js';
import type { DayReport, ProcessorReport } from '../../src/check/report.js';
import { parseRegistry, type ProcessorConfig } from '../../src/config/registry.js';

describe('compactRanges', () => {
  it('writes runs of dates as ranges with the count: Nov 25–27, Nov 29 (4 dates)', () => {
    expect(compactRanges(['2025-11-25', '2025-11-26', '2025-11-27', '2025-11-29'])).toBe('Nov 25–27, Nov 29 (4 dates)');
  });

  it('names both months across a month end, and says "1 date" for one', () => {
    expect(compactRanges(['2025-11-30', '2025-12-01', '2025-12-02'])).toBe('Nov 30–Dec 2 (3 dates)');
    expect(compactRanges(['2025-10-05'])).toBe('Oct 5 (1 date)');
  });

  it('shows the years when the dates span two', () => {
    expect(compactRanges(['2025-12-31', '2026-01-01', '2026-01-03'])).toBe('Dec 31, 2025–Jan 1, 2026, Jan 3, 2026 (3 dates)');
  });
});

describe('localTime', () => {
  it('shows an instant in the registry zone with its offset, across DST', () => {
    expect(localTime('2025-10-08T12:00:00.000Z', 'America/New_York')).toBe('2025-10-08 08:00 EDT (UTC-04:00)');
    expect(localTime('2025-12-08T12:00:00.000Z', 'America/New_York')).toBe('2025-12-08 07:00 EST (UTC-05:00)');
    expect(localTime('2025-10-08T12:00:00.000Z', 'UTC')).toBe('2025-10-08 12:00 UTC');
  });
});

describe('checkCommandLine', () => {
  it('keeps the flags that made the finding and leaves the defaults out, as a dry run: pasted from an alert, it only shows', () => {
    expect(checkCommandLine({ asOfDate: '2025-10-07', lookbackDays: 7 }, 'p')).toBe('pem check --date 2025-10-07 --processors p --dry-run');
    expect(
      checkCommandLine({ asOfDate: '2025-10-07', lookbackDays: 14, now: '2025-10-08T12:00:00.000Z', config: 'my registry.json', engine: 'bigquery', project: 'acme-data' }, 'p'),
    ).toBe("pem check --date 2025-10-07 --lookback-days 14 --processors p --now 2025-10-08T12:00:00.000Z --dry-run --config 'my registry.json' --engine bigquery --project acme-data");
  });
});

describe('processorActions', () => {
  const day = (date: string, status: DayReport['status']): DayReport => ({ date, status, runs: 1, failed_runs: 0, anomalies: [], records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null });
  const config = (extra: Record<string, unknown>): ProcessorConfig => {
    const parsed = parseRegistry({ processors: { p: extra } });
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    return parsed.registry.processors[0]!;
  };
  const p = {
    name: 'p',
    days: [day('2025-11-24', 'failed'), day('2025-11-25', 'success'), day('2025-11-26', 'missing'), day('2025-11-27', 'failed'), day('2025-11-28', 'not_expected'), day('2025-11-29', 'hung'), day('2025-11-30', 'pending')],
    problem_since: '2025-11-26',
    last_success_date: '2025-11-25',
    blocked_by: [] as ProcessorReport['blocked_by'],
  } as ProcessorReport;

  it('fills the runbook with the latest problem date, and backfill commands for the first problem dates of the window, the streak or before it', () => {
    const actions = processorActions(p, config({ runbook_url: 'https://wiki.example.com/{processor}/{date}', backfill_command: 'rerun {processor} {date}' }), { asOfDate: '2025-11-30', lookbackDays: 7 });
    expect(actions).toEqual({
      since: '2025-11-26',
      problemDates: ['2025-11-26', '2025-11-27', '2025-11-29'],
      problemRanges: 'Nov 26–27, Nov 29 (3 dates)',
      streakBeforeWindow: false,
      runbookUrl: 'https://wiki.example.com/p/2025-11-29',
      // 11-24 failed before the success of 11-25: out of the streak, still to be re-run (as `pem gaps` lists it).
      backfillCommands: ['rerun p 2025-11-24', 'rerun p 2025-11-26', 'rerun p 2025-11-27'],
      moreBackfillDates: 1,
      checkCommand: 'pem check --date 2025-11-30 --processors p --dry-run',
      gapsCommand: 'pem gaps --format commands --date 2025-11-30 --processors p',
    });
  });

  it('comments out the command of a date an upstream explains and lists it after the dates that can run now, as pem gaps --format commands does', () => {
    const held = { ...p, blocked_by: [{ processor: 'up', dates: ['2025-11-26', '2025-11-29'] }] } as ProcessorReport;
    const actions = processorActions(held, config({ backfill_command: 'rerun {processor} {date}' }), { asOfDate: '2025-11-30', lookbackDays: 7 });
    expect(actions.backfillCommands).toEqual([
      'rerun p 2025-11-24',
      'rerun p 2025-11-27',
      "# waits on an upstream's date, run it after that one: rerun p 2025-11-26",
    ]);
    expect(actions.moreBackfillDates).toBe(1);
    // Every date waiting but the latest: the one that can run is shown, not left among the "more".
    const waiting = { ...p, blocked_by: [{ processor: 'up', dates: ['2025-11-24', '2025-11-26', '2025-11-27'] }] } as ProcessorReport;
    expect(processorActions(waiting, config({ backfill_command: 'rerun {processor} {date}' }), { asOfDate: '2025-11-30', lookbackDays: 7 }).backfillCommands[0]).toBe('rerun p 2025-11-29');
  });

  it('shows a backfill command whole or not at all: one cut short is no command', () => {
    // A real gcloud line of 380 characters: it was cut at 300 (`--service…`) in Slack and PagerDuty.
    const gcloud =
      'gcloud run jobs execute nba-gamebook-backfill --region=us-west2 --project=nba-props-platform-prod --args=--processor={processor},--date={date},--mode=backfill,' +
      '--source=gs://nba-scraped-data-prod/nba-com/gamebooks-data,--dest=nba_raw.nbac_gamebook_player_stats --wait --task-timeout=3600s ' +
      '--service-account=backfill@nba-props-platform-prod.iam.gserviceaccount.com --update-env-vars=DRY=0';
    const whole = processorActions(p, config({ backfill_command: gcloud }), { asOfDate: '2025-11-30', lookbackDays: 7 });
    expect(whole.backfillCommands).toEqual(['2025-11-24', '2025-11-26', '2025-11-27'].map((date) => gcloud.replace('{processor}', 'p').replace('{date}', date)));
    expect(whole.moreBackfillDates).toBe(1);
    // Past 1,000 characters none is shown: every date is one `pem gaps --format commands` away.
    const huge = processorActions(p, config({ backfill_command: `rerun {processor} {date} ${'--flag=value '.repeat(100)}` }), { asOfDate: '2025-11-30', lookbackDays: 7 });
    expect([huge.backfillCommands, huge.moreBackfillDates]).toEqual([[], 4]);
  });

  it('lists volume anomalies among the dates to re-run, not a slow date (the dates of pem gaps --format commands)', () => {
    const anomalous = (date: string, anomaly: DayReport['anomalies'][number]): DayReport => ({ ...day(date, 'success'), anomalies: [anomaly] });
    const q = { name: 'q', days: [anomalous('2025-11-28', 'slow'), anomalous('2025-11-29', 'low_volume'), day('2025-11-30', 'missing')], problem_since: '2025-11-28', last_success_date: '2025-11-29', blocked_by: [] as ProcessorReport['blocked_by'] } as ProcessorReport;
    const actions = processorActions(q, config({ backfill_command: 'rerun {processor} {date}' }), { asOfDate: '2025-11-30', lookbackDays: 3 });
    expect([actions.problemDates, actions.backfillCommands, actions.moreBackfillDates]).toEqual([
      ['2025-11-28', '2025-11-29', '2025-11-30'],
      ['rerun q 2025-11-29', 'rerun q 2025-11-30'],
      0,
    ]);
  });

  it('says when the streak began before the window: it reaches its first date, and a date after the last success was expected before it', () => {
    const failing = (last: string | null) =>
      ({ name: 'p', days: [day('2025-11-26', 'failed'), day('2025-11-27', 'missing'), day('2025-11-28', 'failed')], problem_since: '2025-11-26', last_success_date: last, blocked_by: [] as ProcessorReport['blocked_by'] }) as ProcessorReport;
    const context = { asOfDate: '2025-11-28', lookbackDays: 3 };
    expect(processorActions(failing('2025-11-09'), config({}), context)).toMatchObject({
      since: '2025-11-26',
      streakBeforeWindow: true,
      problemRanges: 'Nov 26–28 (3 dates in the window; it began before the window, after the last success on 2025-11-09)',
    });
    // The last success the day before the window: the streak began at its first date. Never a success: no claim.
    expect(processorActions(failing('2025-11-25'), config({}), context)).toMatchObject({ streakBeforeWindow: false, problemRanges: 'Nov 26–28 (3 dates)' });
    // Never a success: no claim of "before", but said.
    expect(processorActions(failing(null), config({}), context)).toMatchObject({ streakBeforeWindow: false, problemRanges: 'Nov 26–28 (3 dates in the window; no success on record)' });
    // Weekdays: the last success on Friday 11-21, the window from Monday 11-24: the weekend was not expected.
    const monday = { ...failing('2025-11-21'), days: [day('2025-11-24', 'failed'), day('2025-11-25', 'failed')], problem_since: '2025-11-24' } as ProcessorReport;
    expect(processorActions(monday, config({ expected_frequency: 'weekdays' }), { asOfDate: '2025-11-25', lookbackDays: 2 }).streakBeforeWindow).toBe(false);
    expect(processorActions(monday, config({}), { asOfDate: '2025-11-25', lookbackDays: 2 }).streakBeforeWindow).toBe(true);
    // A window that starts on days not expected (a weekend): the streak starts at its first expected date.
    const fromSaturday = { ...failing('2025-11-10'), days: [day('2025-11-22', 'not_expected'), day('2025-11-23', 'not_expected'), day('2025-11-24', 'failed'), day('2025-11-25', 'failed')], problem_since: '2025-11-24' } as ProcessorReport;
    expect(processorActions(fromSaturday, config({ expected_frequency: 'weekdays' }), { asOfDate: '2025-11-25', lookbackDays: 4 })).toMatchObject({
      streakBeforeWindow: true,
      problemRanges: 'Nov 24–25 (2 dates in the window; it began before the window, after the last success on 2025-11-10)',
    });
    // A calendar's dates are in a table: no claim of "before", but the last success is said.
    expect(processorActions(failing('2025-11-09'), config({ expected_frequency: 'calendar', calendar_table: 'ds.games', calendar_date_field: 'game_date' }), context)).toMatchObject({
      streakBeforeWindow: false,
      problemRanges: 'Nov 26–28 (3 dates in the window; the last success was on 2025-11-09)',
    });
  });

  it('finds the first expected date after another, by frequency', () => {
    expect(firstExpectedAfter({ expected_frequency: 'daily', expected_weekdays: ['MON'] }, '2025-11-21')).toBe('2025-11-22');
    expect(firstExpectedAfter({ expected_frequency: 'weekdays', expected_weekdays: ['MON'] }, '2025-11-21')).toBe('2025-11-24');
    expect(firstExpectedAfter({ expected_frequency: 'weekly', expected_weekdays: ['WED', 'SUN'] }, '2025-11-21')).toBe('2025-11-23');
    expect(firstExpectedAfter({ expected_frequency: 'weekly', expected_weekdays: ['FRI'] }, '2025-11-21')).toBe('2025-11-28');
    expect(firstExpectedAfter({ expected_frequency: 'none', expected_weekdays: ['MON'] }, '2025-11-21')).toBeNull();
  });

  it('has no commands and no runbook when the registry gives none', () => {
    const actions = processorActions(p, config({}), { asOfDate: '2025-11-30', lookbackDays: 7 });
    expect([actions.runbookUrl, actions.backfillCommands, actions.moreBackfillDates]).toEqual([null, [], 0]);
  });
});
