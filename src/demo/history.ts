/**
 * A season of realistic run history for `pem demo`, relative to the end date so the demo always
 * shows a live picture: each processor has a story (a failure streak, a retried failure, gaps,
 * a hung run, a dead scheduler, weekday and game-day calendars, a success that wrote nothing and
 * a run that took hours: SPEC §10). Pure and deterministic.
 */
import { DateTime } from 'luxon';
import type { RunRow } from '../warehouse/run-row.js';

export const DEMO_SEASON_DAYS = 150;
export const DEMO_TIMEZONE = 'America/New_York';
export const DEMO_SEASON = '2026-27';

export interface DemoHistory {
  runs: RunRow[];
  /** Game dates for the calendar processor (`nba_reference.game_schedule`). */
  gameDates: string[];
}

/** mulberry32: a tiny seeded generator, so every demo database is the same for the same dates. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'success' | 'failed' | 'skipped';

export function buildDemoHistory(endDate: string, now: Date): DemoHistory {
  const random = seeded(20261128);
  const end = DateTime.fromISO(endDate, { zone: DEMO_TIMEZONE });
  const runs: RunRow[] = [];
  let sequence = 0;

  const dateAt = (daysBack: number) => end.minus({ days: daysBack });
  const isGameDay = (d: DateTime) => {
    // Roughly 3-4 games a week, on a fixed weekly pattern with a twist every other week.
    const week = Math.floor(d.toSeconds() / (7 * 86_400));
    return [2, 3, 5, 7].includes(d.weekday) || (week % 2 === 0 && d.weekday === 6);
  };

  /**
   * A run for `date` starting the next morning (local) at `hour`, as a start row and an end row;
   * `unusual` overrides its records or minutes (the random draws still happen, so the other runs stay the same).
   */
  const run = (
    processor: string,
    date: DateTime,
    outcome: Outcome | 'running',
    hour: number,
    error?: [string, string],
    unusual: { records?: number; minutes?: number } = {},
  ) => {
    const startedLocal = date.plus({ days: 1 }).set({ hour, minute: Math.floor(random() * 50), second: Math.floor(random() * 60) });
    const started = startedLocal.toUTC().toJSDate();
    if (started.getTime() > now.getTime()) return; // the run has not happened yet
    const runId = `${processor}-${date.toISODate()}-${(++sequence).toString(16).padStart(5, '0')}`;
    const base = {
      run_id: runId,
      processor_name: processor,
      processing_date: date.toISODate()!,
      started_at: started,
      trigger_source: hour === 6 ? 'scheduler' : 'manual',
      metadata: { region: 'us-west2', attempt: hour === 6 ? 1 : 2 },
    };
    runs.push({ ...base, status: 'running', completed_at: null, records_processed: null, errors: null });
    if (outcome === 'running') return;
    const minutes = 3 + Math.floor(random() * 17);
    const completed = new Date(started.getTime() + (unusual.minutes ?? minutes) * 60_000);
    if (completed.getTime() > now.getTime()) return;
    const records = outcome === 'failed' ? 0 : outcome === 'skipped' ? 0 : 500 + Math.floor(random() * 2000);
    runs.push({
      ...base,
      status: outcome,
      completed_at: completed,
      records_processed: unusual.records ?? records,
      errors: error ? [{ error_type: error[0], error_message: error[1] }] : [],
    });
  };

  const weekday = (d: DateTime) => d.weekday <= 5;
  const lastWeekdayBack = [1, 2, 3].find((i) => weekday(dateAt(i))) ?? 1;
  const slowWeekdayBack = [1, 2, 3, 4, 5, 6].map((i) => lastWeekdayBack + i).find((i) => weekday(dateAt(i))) ?? 4;
  const recoveredGameBack = [2, 3, 4, 5, 6, 7].find((i) => isGameDay(dateAt(i))) ?? 2;
  const gameDates: string[] = [];

  for (let back = DEMO_SEASON_DAYS; back >= 1; back--) {
    const date = dateAt(back);
    const flaky = random() < 0.03;

    // Gamebook: reliable all season, then three failed mornings in a row: stale, pages someone.
    if (back <= 3) run('gamebook_processor', date, 'failed', 6, ['UpstreamTimeout', `Gamebook PDF for ${date.toISODate()} timed out after 300 s`]);
    else run('gamebook_processor', date, 'success', 6);

    // Roster: a failure two days ago was retried by hand and succeeded (a recovered failure).
    if (back === 2 || flaky) {
      run('roster_processor', date, 'failed', 6, ['BigQueryError', 'Quota exceeded: too many table update operations']);
      run('roster_processor', date, 'success', 8);
    } else run('roster_processor', date, 'success', 6);

    // Box scores: two dates in the window never ran, and one "succeeded" on an empty feed: 0 records.
    if (back !== 2 && back !== 5) run('boxscore_processor', date, back % 9 === 0 ? 'skipped' : 'success', 6, undefined, back === 3 ? { records: 0 } : {});

    // Injury reports: weekdays only; the latest weekday's run started and never finished, and the
    // weekday before it crawled for 3 h 10 min where 3 to 19 minutes is usual.
    if (weekday(date)) {
      const slow = back === slowWeekdayBack ? { minutes: 190 } : {};
      run('injury_report_processor', date, back === lastWeekdayBack ? 'running' : 'success', back === lastWeekdayBack ? 1 : 6, undefined, slow);
    }

    // Player props: game days only; one failure in the window, recovered by a retry.
    if (isGameDay(date)) {
      gameDates.push(date.toISODate()!);
      if (back === recoveredGameBack) {
        run('player_props_processor', date, 'failed', 6, ['SchemaMismatch', 'column prop_line: expected FLOAT64, got STRING']);
        run('player_props_processor', date, 'success', 9);
      } else run('player_props_processor', date, 'success', 6);
    }

    // Standings: Mondays and Thursdays.
    if (date.weekday === 1 || date.weekday === 4) run('standings_processor', date, 'success', 6);

    // Advanced stats: its Cloud Scheduler trigger was deleted twelve days ago.
    if (back > 12) run('advanced_stats_processor', date, 'success', 6);

    // Odds archive: retired (disabled) a month ago; not checked.
    if (back > 30) run('odds_archive_processor', date, 'success', 6);
  }
  // Games ahead in the season are on the schedule too.
  for (let ahead = 0; ahead <= 14; ahead++) {
    const date = end.plus({ days: ahead });
    if (isGameDay(date)) gameDates.push(date.toISODate()!);
  }
  return { runs, gameDates };
}
