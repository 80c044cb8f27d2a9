/**
 * Shared inputs of the report and gaps tests: one scenario with every day status (and hostile
 * strings in every place data reaches the page), and a synthetic 200 × 90 check result.
 */
import type { CheckResult, DayDetail, DayReport, DayStatus, ProcessorDetail, ProcessorReport } from '../../src/check/report.js';
import { problemSince } from '../../src/check/report.js';
import type { RowSpec } from '../support/scenario.js';

/** E, L and now of the scenario: window 2025-10-01 .. 2025-10-07 (2025-10-06 is a Monday). */
export const WINDOW_ARGS = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z'];

export const XSS = {
  displayName: '<img src=x onerror="window.__pwned=1">Evil & "co"',
  owner: '</script><script>window.__pwned=2</script>',
  slack: '"><svg onload=window.__pwned=4>',
  errorType: 'Boom<b>',
  errorMessage: '<script>window.__pwned=3</script>, "quoted", line1\nline2',
};

export const STATUS_REGISTRY = {
  dataset: 'nba_reference',
  timezone: 'America/New_York',
  processors: {
    alpha_high: { display_name: 'Alpha (high)', priority: 'high', revenue_impact: true, owners: ['alpha-team@example.com'] },
    beta_medium: { display_name: 'Beta (medium)', priority: 'medium', max_runtime_minutes: 60, baseline_days: 4, baseline_min_dates: 4 },
    gamma_low: { display_name: 'Gamma (Mondays)', priority: 'low', expected_frequency: 'weekly', expected_weekdays: ['MON'] },
    delta_pending: { display_name: 'Delta (48 h grace)', priority: 'high', grace_hours: 48 },
    xss_processor: { display_name: XSS.displayName, priority: 'medium', owners: [XSS.owner], slack_channel: XSS.slack },
    off_processor: { display_name: 'Disabled', enabled: false, priority: 'high' },
  },
};

let sequence = 0;

/** One run of `processor` for `date`: its start row and, unless still running, its end row. */
function run(
  processor: string,
  date: string,
  outcome: 'success' | 'failed' | 'running',
  startedAt: string,
  error?: [string, string],
  minutes = 5,
): RowSpec[] {
  const runId = `${processor}-${date}-${++sequence}`;
  const start: RowSpec = { run_id: runId, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt };
  if (outcome === 'running') return [start];
  const completed = new Date(Date.parse(startedAt) + minutes * 60_000).toISOString();
  return [
    start,
    {
      ...start,
      status: outcome,
      completed_at: completed,
      errors: error ? [{ error_type: error[0], error_message: error[1] }] : null,
    },
  ];
}

const nextMorning = (date: string, hour = 6) => `${new Date(Date.parse(date) + 86_400_000).toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:00:00Z`;

/**
 * alpha_high:   S s F M S S R   (10-02 recovered, 10-03 failed, 10-04 missing, 10-07 running)
 * beta_medium:  S S S S A H M   (10-05 slow: 1 h against 5 min, SPEC §10; 10-06 hung past 60 min, 10-07 missing)
 * gamma_low:    . . . . . F .   (Mondays only; 10-06 failed)
 * delta_pending S S M S S P P   (48 h grace: 10-06 and 10-07 not yet due)
 * xss_processor S S S S F S S   (hostile error text on 10-05)
 */
export const STATUS_ROWS: RowSpec[] = [
  ...run('alpha_high', '2025-10-01', 'success', nextMorning('2025-10-01')),
  ...run('alpha_high', '2025-10-02', 'failed', nextMorning('2025-10-02'), ['Timeout', 'first try timed out']),
  ...run('alpha_high', '2025-10-02', 'success', nextMorning('2025-10-02', 7)),
  ...run('alpha_high', '2025-10-03', 'failed', nextMorning('2025-10-03'), ['ValueError', 'bad "row", at line 2']),
  ...run('alpha_high', '2025-10-05', 'success', nextMorning('2025-10-05')),
  ...run('alpha_high', '2025-10-06', 'success', nextMorning('2025-10-06')),
  ...run('alpha_high', '2025-10-07', 'running', '2025-10-08T11:30:00Z'),
  ...['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04'].flatMap((d) => run('beta_medium', d, 'success', nextMorning(d))),
  ...run('beta_medium', '2025-10-05', 'success', nextMorning('2025-10-05'), undefined, 60),
  ...run('beta_medium', '2025-10-06', 'running', '2025-10-07T10:00:00Z'),
  ...run('gamma_low', '2025-09-29', 'success', nextMorning('2025-09-29')),
  ...run('gamma_low', '2025-10-06', 'failed', nextMorning('2025-10-06'), ['Timeout', 'took too long']),
  ...['2025-10-01', '2025-10-02', '2025-10-04', '2025-10-05'].flatMap((d) => run('delta_pending', d, 'success', nextMorning(d))),
  ...['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-06', '2025-10-07'].flatMap((d) =>
    run('xss_processor', d, 'success', nextMorning(d)),
  ),
  ...run('xss_processor', '2025-10-05', 'failed', nextMorning('2025-10-05'), [XSS.errorType, XSS.errorMessage]),
];

// ---------------------------------------------------------------------------------------
// A synthetic check result of any size, for size and load bounds (no warehouse needed).

/** SPEC §10's day fields with nothing measured: the synthetic report exercises layout, not anomalies. */
const NO_MEASURES = { anomalies: [], records: null, duration_seconds: null, baseline_records: null, baseline_duration_seconds: null } satisfies Partial<DayReport>;

const SYNTHETIC_STATUSES: DayStatus[] = ['success', 'success', 'success', 'success', 'success', 'success', 'failed', 'missing', 'not_expected', 'hung', 'running', 'pending'];

const HEALTHY_STATUSES: DayStatus[] = ['success', 'success', 'success', 'success', 'not_expected'];

/** `healthy`: only successes (some recovered) and off-days, every processor OK, run level INFO. */
export function syntheticResult(processorCount: number, dayCount: number, { healthy = false } = {}): CheckResult {
  const statuses = healthy ? HEALTHY_STATUSES : SYNTHETIC_STATUSES;
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const end = Date.parse('2025-12-31T00:00:00Z');
  const dates = Array.from({ length: dayCount }, (_, i) => new Date(end - (dayCount - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const processors: ProcessorReport[] = [];
  const details: Record<string, ProcessorDetail> = {};
  for (let i = 0; i < processorCount; i++) {
    const name = `processor_${String(i).padStart(3, '0')}_${['gamebook', 'roster', 'boxscore', 'injury', 'props'][i % 5]}`;
    const days: DayReport[] = [];
    const dayDetails: DayDetail[] = [];
    for (const date of dates) {
      const status = statuses[Math.floor(random() * statuses.length)]!;
      const ran = status === 'success' || status === 'failed' || status === 'hung' || status === 'running';
      const failedRuns = status === 'failed' ? 1 + Math.floor(random() * 2) : status === 'success' && random() < 0.05 ? 1 : 0;
      const started = Date.parse(`${date}T00:00:00Z`) + 86_400_000 + Math.floor(random() * 7200) * 1000;
      days.push({ date, status, runs: ran ? failedRuns + 1 : 0, failed_runs: failedRuns, ...NO_MEASURES });
      dayDetails.push({
        date,
        is_expected: status !== 'not_expected',
        is_due: status !== 'pending',
        due_at: new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString(),
        is_problem_date: status === 'missing' || status === 'failed' || status === 'hung',
        first_started_at: ran ? new Date(started).toISOString() : null,
        last_completed_at: ran && status !== 'running' && status !== 'hung' ? new Date(started + 300_000).toISOString() : null,
        last_error_type: failedRuns > 0 ? 'UpstreamTimeout' : null,
        last_error_message: failedRuns > 0 ? `Upstream feed for ${date} timed out after 300 s (attempt ${failedRuns})` : null,
      });
    }
    const datesWith = (s: DayStatus) => days.filter((d) => d.status === s).map((d) => d.date);
    const problems = datesWith('missing').length + datesWith('failed').length + datesWith('hung').length;
    processors.push({
      name,
      display_name: `Synthetic processor ${i}`,
      level: !healthy && i % 7 === 0 ? 'CRITICAL' : problems > 0 ? 'ERROR' : 'OK',
      priority: (['high', 'medium', 'low'] as const)[i % 3]!,
      revenue_impact: i % 4 === 0,
      missing_dates: datesWith('missing'),
      failed_dates: datesWith('failed'),
      hung_dates: datesWith('hung'),
      recovered_failure_dates: days.filter((d) => d.status === 'success' && d.failed_runs > 0).map((d) => d.date),
      low_volume_dates: [],
      high_volume_dates: [],
      slow_dates: [],
      last_success_date: datesWith('success').at(-1) ?? null,
      days_since_success: 1,
      is_stale: !healthy && i % 7 === 0,
      scheduler_issue: false,
      days,
      problem_since: problemSince(days),
      blocked_by: [],
      route: 'default',
    });
    details[name] = {
      name,
      staleness_threshold_days: 2,
      slack_channel: '#data-alerts',
      owners: [`team-${i % 10}@example.com`],
      enabled: true,
      latest_failure: ((newest) => (newest ? { date: newest.date, error_type: newest.last_error_type, error_message: newest.last_error_message } : null))(
        dayDetails.filter((d) => d.last_error_type !== null).at(-1),
      ),
      days: dayDetails,
      threshold_problem_dates: null,
      alert_after_dates: null,
      problems_explained: false,
      alert_on_recovered_failures: false,
      held: null,
      also_affected: [],
    };
  }
  return {
    report: {
      as_of_date: dates.at(-1)!,
      window_start: dates[0]!,
      window_end: dates.at(-1)!,
      lookback_days: dayCount,
      now: '2026-01-01T12:00:00.000Z',
      level: healthy ? 'INFO' : 'CRITICAL',
      processors,
      alerts: [],
    },
    details,
  };
}

/**
 * A result for comparing pages across changes of the page's code: the synthetic 12 × 40 result with
 * what the page treats specially on a few processors: run times not in `toISOString`'s form, error
 * text that must be escaped in the data block, a date explained by an upstream, and anomalous
 * successes with their measures.
 */
export function pageGoldenResult(): CheckResult {
  const result = syntheticResult(12, 40);
  const [upstream, odd, blocked, anomalous] = result.report.processors;
  const oddDetail = result.details[odd!.name]!;
  oddDetail.days[3] = { ...oddDetail.days[3]!, first_started_at: `${oddDetail.days[3]!.date}T06:00:00Z`, last_completed_at: `${oddDetail.days[3]!.date}T06:05:00.5+00:00` };
  oddDetail.days[5] = {
    ...oddDetail.days[5]!,
    last_error_type: 'Parse<Error>',
    last_error_message: 'row 12 & 13: unexpected "</script>" \u2028 then \u2029, and <!-- a comment',
  };
  blocked!.days[10] = { ...blocked!.days[10]!, status: 'missing', runs: 0, failed_runs: 0 };
  blocked!.blocked_by = [{ processor: upstream!.name, dates: [blocked!.days[10]!.date] }];
  anomalous!.days[20] = { ...anomalous!.days[20]!, status: 'success', runs: 1, failed_runs: 0, anomalies: ['low_volume', 'slow'], records: 12, duration_seconds: 5400, baseline_records: 1000, baseline_duration_seconds: 600 };
  anomalous!.low_volume_dates = [anomalous!.days[20]!.date];
  anomalous!.slow_dates = [anomalous!.days[20]!.date];
  return result;
}
