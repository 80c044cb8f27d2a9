/**
 * Small hand-built fixtures that together exercise every day status and every rule of SPEC §4,
 * for the differential tests (BigQuery rendering on ZetaSQL's evaluator vs DuckDB rendering on
 * DuckDB). Each check carries the facts a person computed by hand, so a scenario that stopped
 * exercising its rule fails even while both engines agree.
 */
import type { RowSpec } from '../../support/scenario.js';
import type { Fixture } from './fixtures.js';

export interface Check {
  /** E, L, now (ISO, UTC), and the processors `pem check` would select (default: every enabled one). */
  date: string;
  lookback: number;
  now: string;
  processors?: string[];
  /** Hand-computed facts about the detection rows: [processor, date|null, column, value]. */
  expect: [string, string | null, string, unknown][];
}

export interface NamedScenario {
  name: string;
  fixture: Fixture;
  checks: Check[];
}

type Err = [string, string];

/** A run's two rows: `running` at start, then its final row. */
function run(id: string, processor: string, date: string, status: string, start: string, end: string, error?: Err): RowSpec[] {
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: start, completed_at: null },
    {
      run_id: id,
      processor_name: processor,
      processing_date: date,
      status,
      started_at: start,
      completed_at: end,
      records_processed: status === 'failed' ? null : 42,
      errors: error ? [{ error_type: error[0], error_message: error[1] }] : null,
    },
  ];
}

/** A successful run with its records and duration (SPEC §10): started at 06:00Z the next day unless `start` is given. */
function measured(id: string, processor: string, date: string, records: number | null, minutes: number, start?: string): RowSpec[] {
  const startedAt = start ?? `${new Date(Date.parse(`${date}T06:00:00Z`) + 86_400_000).toISOString().slice(0, 10)}T06:00:00Z`;
  const completedAt = new Date(Date.parse(startedAt) + minutes * 60_000).toISOString();
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt, completed_at: null },
    { run_id: id, processor_name: processor, processing_date: date, status: 'success', started_at: startedAt, completed_at: completedAt, records_processed: records },
  ];
}

/** A run that has only started. */
function started(id: string, processor: string, date: string, start: string): RowSpec {
  return { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: start, completed_at: null };
}

const ts = (date: string, time: string) => `${date}T${time}Z`;

export const SCENARIOS: NamedScenario[] = [
  {
    name: 'every day status, run states and the stale rule (UTC)',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: {
          alpha: { staleness_threshold_days: 2, max_runtime_minutes: 120, priority: 'high', revenue_impact: true, failure_statuses: ['failed', 'error'] },
          beta: { expected_frequency: 'none' },
          dormant: { enabled: false },
        },
      },
      runs: [
        ...run('a1', 'alpha', '2025-10-01', 'success', ts('2025-10-02', '06:00:00'), ts('2025-10-02', '06:10:00')),
        // A run that started, then failed: its state is its final row.
        ...run('a2', 'alpha', '2025-10-02', 'failed', ts('2025-10-03', '06:00:00'), ts('2025-10-03', '06:05:00'), ['Timeout', 'upstream API timed out']),
        // A later run with two failed final rows (a foreign writer's retry under one run id), its newest
        // error with a type and no message: the date's error is that row's alone, not its type
        // beside the run's earlier message, nor beside the earlier run's.
        { run_id: 'a2b', processor_name: 'alpha', processing_date: '2025-10-02', status: 'failed', started_at: ts('2025-10-03', '07:00:00'), completed_at: ts('2025-10-03', '07:01:00'), errors: [{ error_type: 'Deadlock', error_message: 'lock wait timeout' }] },
        { run_id: 'a2b', processor_name: 'alpha', processing_date: '2025-10-02', status: 'error', started_at: ts('2025-10-03', '07:00:00'), completed_at: ts('2025-10-03', '07:02:00'), errors: [{ error_type: 'Killed', error_message: null }] },
        // A failure and a successful retry: success with one recovered failure.
        ...run('a3a', 'alpha', '2025-10-03', 'failed', ts('2025-10-04', '06:00:00'), ts('2025-10-04', '06:02:00'), ['KeyError', 'player_id']),
        ...run('a3b', 'alpha', '2025-10-03', 'success', ts('2025-10-04', '07:00:00'), ts('2025-10-04', '07:20:00')),
        // Two final rows for one run: the latest completed_at decides (failed).
        ...run('a4', 'alpha', '2025-10-04', 'success', ts('2025-10-05', '06:00:00'), ts('2025-10-05', '06:30:00')),
        { run_id: 'a4', processor_name: 'alpha', processing_date: '2025-10-04', status: 'failed', started_at: ts('2025-10-05', '06:00:00'), completed_at: ts('2025-10-05', '06:40:00'), errors: [{ error_type: 'Late', error_message: 'rollback' }] },
        // Only running, started 4 h before now (max 120 min): hung.
        started('a5', 'alpha', '2025-10-05', ts('2025-10-07', '08:00:00')),
        // Only running, started 1 h before now: running.
        started('a6', 'alpha', '2025-10-06', ts('2025-10-07', '11:00:00')),
        // beta expects nothing, but ran once: success on a not-expected date.
        ...run('b1', 'beta', '2025-10-03', 'skipped', ts('2025-10-04', '01:00:00'), ts('2025-10-04', '01:00:05')),
      ],
    },
    checks: [
      {
        date: '2025-10-07',
        lookback: 7,
        now: '2025-10-07T12:00:00Z',
        expect: [
          ['alpha', '2025-10-01', 'day_status', 'success'],
          ['alpha', '2025-10-02', 'day_status', 'failed'],
          ['alpha', '2025-10-02', 'last_error_type', 'Killed'],
          ['alpha', '2025-10-02', 'last_error_message', null],
          ['alpha', '2025-10-02', 'failed_runs', 2],
          ['alpha', '2025-10-03', 'day_status', 'success'],
          ['alpha', '2025-10-03', 'failed_runs', 1],
          ['alpha', '2025-10-03', 'runs', 2],
          ['alpha', '2025-10-03', 'is_recovered_failure', true],
          ['alpha', '2025-10-04', 'day_status', 'failed'],
          ['alpha', '2025-10-05', 'day_status', 'hung'],
          ['alpha', '2025-10-06', 'day_status', 'running'],
          ['alpha', '2025-10-07', 'day_status', 'pending'],
          ['alpha', null, 'last_success_date', '2025-10-03'],
          ['alpha', null, 'days_since_success', 4],
          ['alpha', null, 'is_stale', true],
          ['alpha', null, 'processor_level', 'CRITICAL'],
          ['beta', '2025-10-03', 'day_status', 'success'],
          ['beta', '2025-10-04', 'day_status', 'not_expected'],
          ['beta', null, 'is_stale', false],
          ['beta', null, 'scheduler_issue', false],
          ['beta', null, 'processor_level', 'OK'],
        ],
      },
      {
        // A day later: 2025-10-07 is now due and has no run.
        date: '2025-10-07',
        lookback: 3,
        now: '2025-10-08T00:00:00Z',
        expect: [
          ['alpha', '2025-10-07', 'day_status', 'missing'],
          ['alpha', '2025-10-05', 'day_status', 'hung'],
        ],
      },
      {
        // A disabled processor is checked when named, and only the named ones are returned.
        date: '2025-10-07',
        lookback: 2,
        now: '2025-10-08T12:00:00Z',
        processors: ['dormant'],
        expect: [
          ['dormant', '2025-10-06', 'day_status', 'missing'],
          ['dormant', null, 'scheduler_issue', true],
          ['dormant', null, 'is_stale', true],
          ['dormant', null, 'last_success_date', null],
          ['dormant', null, 'days_since_success', null],
        ],
      },
    ],
  },
  {
    name: 'recovered failures, the whole history, the scheduler rule',
    fixture: {
      registry: {
        dataset: 'ops',
        processors: {
          careful: { alert_on_recovered_failures: true },
          relaxed: {},
          ancient: { staleness_threshold_days: 5 },
          silent: {},
        },
      },
      runs: [
        ...run('c1', 'careful', '2025-06-01', 'success', ts('2025-06-02', '06:00:00'), ts('2025-06-02', '06:30:00')),
        ...run('c2a', 'careful', '2025-06-02', 'failed', ts('2025-06-03', '06:00:00'), ts('2025-06-03', '06:01:00'), ['IOError', 'disk full']),
        ...run('c2b', 'careful', '2025-06-02', 'success', ts('2025-06-03', '08:00:00'), ts('2025-06-03', '08:30:00')),
        ...run('c3', 'careful', '2025-06-03', 'success', ts('2025-06-04', '06:00:00'), ts('2025-06-04', '06:30:00')),
        ...run('r1', 'relaxed', '2025-06-01', 'success', ts('2025-06-02', '06:00:00'), ts('2025-06-02', '06:30:00')),
        ...run('r2a', 'relaxed', '2025-06-02', 'failed', ts('2025-06-03', '06:00:00'), ts('2025-06-03', '06:01:00'), ['IOError', 'disk full']),
        ...run('r2b', 'relaxed', '2025-06-02', 'success', ts('2025-06-03', '08:00:00'), ts('2025-06-03', '08:30:00')),
        ...run('r3', 'relaxed', '2025-06-03', 'success', ts('2025-06-04', '06:00:00'), ts('2025-06-04', '06:30:00')),
        // Succeeded long before the window; since then only rows of an unknown status.
        ...run('x1', 'ancient', '2025-05-10', 'success', ts('2025-05-11', '06:00:00'), ts('2025-05-11', '06:30:00')),
        { run_id: 'x2', processor_name: 'ancient', processing_date: '2025-06-02', status: 'queued', started_at: null, completed_at: null },
        // A row dated after E is ignored.
        ...run('x3', 'ancient', '2025-06-09', 'success', ts('2025-06-10', '06:00:00'), ts('2025-06-10', '06:30:00')),
      ],
    },
    checks: [
      {
        date: '2025-06-03',
        lookback: 3,
        now: '2025-06-04T12:00:00Z',
        expect: [
          ['careful', null, 'processor_level', 'ERROR'],
          ['careful', '2025-06-02', 'is_recovered_failure', true],
          ['relaxed', null, 'processor_level', 'OK'],
          ['relaxed', '2025-06-02', 'failed_runs', 1],
          ['ancient', null, 'last_success_date', '2025-05-10'],
          ['ancient', null, 'days_since_success', 24],
          ['ancient', null, 'is_stale', true],
          ['ancient', null, 'scheduler_issue', false],
          ['ancient', '2025-06-02', 'runs', 0],
          ['ancient', '2025-06-02', 'day_status', 'missing'],
          ['silent', null, 'scheduler_issue', true],
          ['silent', null, 'processor_level', 'CRITICAL'],
        ],
      },
    ],
  },
  {
    name: 'time zones: America/New_York across both DST changes, grace hours, Asia/Kolkata',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'America/New_York',
        processors: {
          eastern: {},
          eastern_grace: { grace_hours: 6.5 },
          kolkata: { timezone: 'Asia/Kolkata' },
        },
      },
      runs: [],
    },
    checks: [
      {
        // Fall back (2025-11-02 02:00 EDT → 01:00 EST): 11-01 is due at 04:00Z on 11-02,
        // 11-02 at 05:00Z on 11-03 (a fixed -4 h offset would call it due at 04:00Z).
        date: '2025-11-02',
        lookback: 2,
        now: '2025-11-03T04:30:00Z',
        expect: [
          ['eastern', '2025-11-01', 'day_status', 'missing'],
          ['eastern', '2025-11-02', 'day_status', 'pending'],
          ['eastern_grace', '2025-11-01', 'day_status', 'missing'],
          ['eastern_grace', '2025-11-02', 'day_status', 'pending'],
          ['kolkata', '2025-11-02', 'day_status', 'missing'],
        ],
      },
      {
        // The instant 11-02 becomes due in New York; the grace processor waits 6.5 h more.
        date: '2025-11-02',
        lookback: 1,
        now: '2025-11-03T05:00:00Z',
        expect: [
          ['eastern', '2025-11-02', 'day_status', 'missing'],
          ['eastern_grace', '2025-11-02', 'day_status', 'pending'],
        ],
      },
      {
        date: '2025-11-02',
        lookback: 1,
        now: '2025-11-03T11:30:00Z',
        expect: [['eastern_grace', '2025-11-02', 'day_status', 'missing']],
      },
      {
        // Spring forward (2025-03-09 02:00 EST → 03:00 EDT): 03-09 is due at 04:00Z on 03-10.
        date: '2025-03-09',
        lookback: 2,
        now: '2025-03-10T03:59:59Z',
        expect: [
          ['eastern', '2025-03-08', 'day_status', 'missing'],
          ['eastern', '2025-03-09', 'day_status', 'pending'],
          // Kolkata (UTC+05:30): 03-09 was due at 18:30Z on 03-09.
          ['kolkata', '2025-03-09', 'day_status', 'missing'],
        ],
      },
      {
        date: '2025-03-09',
        lookback: 1,
        now: '2025-03-10T04:00:00Z',
        expect: [['eastern', '2025-03-09', 'day_status', 'missing']],
      },
    ],
  },
  {
    name: 'frequencies: weekdays, weekly, calendar, none',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: {
          office: { expected_frequency: 'weekdays', staleness_threshold_days: 2 },
          standings: { expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'], staleness_threshold_days: 3 },
          props: {
            expected_frequency: 'calendar',
            calendar_table: 'nba_reference.game_schedule',
            calendar_date_field: 'game_date',
            calendar_filter: "season = '2025-26'",
            staleness_threshold_days: 1,
          },
          adhoc: { expected_frequency: 'none' },
        },
      },
      runs: [
        // Monday 09-29 .. Friday 10-03 all succeed; the weekend is not expected.
        ...['2025-09-29', '2025-09-30', '2025-10-01', '2025-10-02', '2025-10-03'].flatMap((d, i) =>
          run(`o${i}`, 'office', d, 'success', `${d}T20:00:00Z`, `${d}T20:30:00Z`),
        ),
        ...run('s1', 'standings', '2025-09-29', 'success', ts('2025-09-30', '06:00:00'), ts('2025-09-30', '06:05:00')),
        ...run('p1', 'props', '2025-09-30', 'success', ts('2025-10-01', '06:00:00'), ts('2025-10-01', '06:05:00')),
        ...run('h1', 'adhoc', '2025-10-01', 'failed', ts('2025-10-02', '06:00:00'), ts('2025-10-02', '06:05:00'), ['Manual', 'bad input']),
      ],
      tables: {
        'nba_reference.game_schedule': {
          columns: { game_date: 'DATE', season: 'STRING', home_team: 'STRING' },
          rows: [
            { game_date: '2025-09-30', season: '2025-26', home_team: 'BOS' },
            { game_date: '2025-10-02', season: '2025-26', home_team: 'NYK' },
            { game_date: '2025-10-02', season: '2025-26', home_team: 'LAL' },
            // Another season's game: filtered out.
            { game_date: '2025-10-04', season: '2024-25', home_team: 'MIA' },
            { game_date: '2025-10-06', season: '2025-26', home_team: 'CHI' },
          ],
        },
      },
    },
    checks: [
      {
        // Monday 10-06, noon: last success Friday; Monday is not yet due, so not stale.
        date: '2025-10-06',
        lookback: 8,
        now: '2025-10-06T12:00:00Z',
        expect: [
          ['office', '2025-10-04', 'day_status', 'not_expected'],
          ['office', '2025-10-05', 'day_status', 'not_expected'],
          ['office', '2025-10-06', 'day_status', 'pending'],
          ['office', null, 'days_since_success', 3],
          ['office', null, 'is_stale', false],
          ['standings', '2025-10-02', 'day_status', 'missing'],
          ['standings', '2025-10-01', 'day_status', 'not_expected'],
          ['props', '2025-10-02', 'day_status', 'missing'],
          ['props', '2025-10-04', 'day_status', 'not_expected'],
          ['props', null, 'is_stale', true],
          ['adhoc', '2025-10-01', 'day_status', 'failed'],
          ['adhoc', '2025-10-02', 'day_status', 'not_expected'],
          ['adhoc', null, 'processor_level', 'ERROR'],
        ],
      },
      {
        // Tuesday 01:00: Monday is due and missing, so the weekday processor is stale now.
        date: '2025-10-06',
        lookback: 2,
        now: '2025-10-07T01:00:00Z',
        expect: [
          ['office', '2025-10-06', 'day_status', 'missing'],
          ['office', null, 'is_stale', true],
          ['props', '2025-10-06', 'day_status', 'missing'],
        ],
      },
    ],
  },
  {
    name: 'foreign execution tables: filters, field names, status lists, no run id, no start time',
    fixture: {
      registry: {
        dataset: 'ops',
        timezone: 'UTC',
        processors: {
          std: {},
          jx: {
            execution_table: 'raw.job_log',
            processor_filter: "job = 'x'",
            date_field: 'ds',
            status_field: 'state',
            run_id_field: 'attempt_id',
            started_at_field: 'begun_at',
            completed_at_field: 'done_at',
            success_statuses: ['OK', 'NOOP'],
            failure_statuses: ['ERR'],
            running_statuses: ['RUN'],
            max_runtime_minutes: 60,
            records_field: 'rows_out',
          },
          jy: {
            execution_table: 'raw.job_log',
            processor_filter: "job = 'y' AND attempt_id IS NOT NULL",
            date_field: 'ds',
            status_field: 'state',
            run_id_field: null,
            started_at_field: null,
            completed_at_field: 'done_at',
            success_statuses: ['OK'],
            failure_statuses: ['ERR'],
            running_statuses: ['RUN'],
            max_runtime_minutes: 60,
            records_field: null,
          },
          jz: {
            execution_table: 'raw.job_log',
            processor_filter: "job = 'z'",
            date_field: 'ds',
            status_field: 'state',
            success_statuses: ['OK'],
            failure_statuses: [],
            running_statuses: [],
            run_id_field: 'attempt_id',
            started_at_field: 'begun_at',
            completed_at_field: 'done_at',
            records_field: null,
          },
        },
      },
      runs: [...run('s1', 'std', '2025-08-10', 'success', ts('2025-08-11', '02:00:00'), ts('2025-08-11', '02:10:00'))],
      tables: {
        'raw.job_log': {
          columns: { job: 'STRING', ds: 'DATE', state: 'STRING', attempt_id: 'STRING', begun_at: 'TIMESTAMP', done_at: 'TIMESTAMP', note: 'STRING', rows_out: 'INT64' },
          rows: [
            { job: 'x', ds: '2025-08-09', state: 'OK', attempt_id: 'x9', begun_at: ts('2025-08-10', '01:00:00'), done_at: ts('2025-08-10', '01:30:00'), note: null, rows_out: 900 },
            { job: 'x', ds: '2025-08-10', state: 'RUN', attempt_id: 'x10', begun_at: ts('2025-08-11', '01:00:00'), done_at: null, note: null },
            { job: 'x', ds: '2025-08-10', state: 'ERR', attempt_id: 'x10', begun_at: ts('2025-08-11', '01:00:00'), done_at: ts('2025-08-11', '01:05:00'), note: 'oom' },
            { job: 'x', ds: '2025-08-10', state: 'NOOP', attempt_id: 'x10b', begun_at: ts('2025-08-11', '03:00:00'), done_at: ts('2025-08-11', '03:01:00'), note: null, rows_out: 0 },
            { job: 'x', ds: '2025-08-11', state: 'RUN', attempt_id: 'x11', begun_at: ts('2025-08-11', '09:00:00'), done_at: null, note: null },
            // No run id: every row is its own run; no start time: never hung.
            { job: 'y', ds: '2025-08-09', state: 'ERR', attempt_id: 'n/a', begun_at: null, done_at: ts('2025-08-10', '01:00:00'), note: null },
            { job: 'y', ds: '2025-08-09', state: 'ERR', attempt_id: 'n/a', begun_at: null, done_at: ts('2025-08-10', '02:00:00'), note: null },
            { job: 'y', ds: '2025-08-11', state: 'RUN', attempt_id: 'n/a', begun_at: ts('2025-08-11', '00:00:00'), done_at: null, note: null },
            // Filtered out by jy's filter (attempt_id IS NULL).
            { job: 'y', ds: '2025-08-10', state: 'OK', attempt_id: null, begun_at: null, done_at: ts('2025-08-11', '01:00:00'), note: null },
            // Statuses in none of jz's lists: rows, but no runs.
            { job: 'z', ds: '2025-08-10', state: 'WAIT', attempt_id: 'z10', begun_at: ts('2025-08-11', '01:00:00'), done_at: null, note: null },
          ],
        },
      },
    },
    checks: [
      {
        date: '2025-08-11',
        lookback: 3,
        now: '2025-08-11T12:00:00Z',
        expect: [
          ['jx', '2025-08-09', 'day_status', 'success'],
          ['jx', '2025-08-10', 'day_status', 'success'],
          ['jx', '2025-08-10', 'failed_runs', 1],
          ['jx', '2025-08-11', 'day_status', 'hung'],
          ['jy', '2025-08-09', 'day_status', 'failed'],
          ['jy', '2025-08-09', 'runs', 2],
          ['jy', '2025-08-10', 'day_status', 'missing'],
          ['jy', '2025-08-11', 'day_status', 'running'],
          ['jz', '2025-08-10', 'day_status', 'missing'],
          ['jz', null, 'scheduler_issue', false],
          ['std', '2025-08-10', 'day_status', 'success'],
          ['std', '2025-08-09', 'day_status', 'missing'],
        ],
      },
    ],
  },
  {
    name: 'silent failures: records and runtime baselines, anomalies, "auto" runtime (SPEC §10)',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: {
          vol: { baseline_days: 5, baseline_min_dates: 3, volume_max_ratio: 2 },
          nulls: { baseline_days: 4, baseline_min_dates: 3 },
          auto_rt: { max_runtime_minutes: 'auto', baseline_days: 3, baseline_min_dates: 2 },
          auto_floor: { max_runtime_minutes: 'auto', baseline_days: 3, baseline_min_dates: 2 },
          auto_none: { max_runtime_minutes: 'auto' },
          wk: { expected_frequency: 'weekdays', baseline_days: 7, baseline_min_dates: 5 },
          off: { baseline_days: 3, baseline_min_dates: 3, volume_min_ratio: null, runtime_max_ratio: null },
        },
      },
      runs: [
        ...measured('v1', 'vol', '2025-10-01', 10, 10),
        ...measured('v2', 'vol', '2025-10-02', 50, 50),
        ...measured('v3', 'vol', '2025-10-03', 20, 20),
        ...measured('v4', 'vol', '2025-10-04', 41, 40),
        ...measured('v5', 'vol', '2025-10-05', 30, 30),
        ...measured('v6', 'vol', '2025-10-06', 200, 10),
        // Retried: a failed run that wrote 0, then a success with 5 records in 100 minutes.
        ...run('v7a', 'vol', '2025-10-07', 'failed', ts('2025-10-08', '05:00:00'), ts('2025-10-08', '05:05:00'), ['Timeout', 'slow upstream']),
        ...measured('v7b', 'vol', '2025-10-07', 5, 100),
        ...measured('n3', 'nulls', '2025-10-03', null, 10),
        ...measured('n4', 'nulls', '2025-10-04', 100, 20),
        // No start time: no duration.
        { run_id: 'n5', processor_name: 'nulls', processing_date: '2025-10-05', status: 'success', started_at: null, completed_at: ts('2025-10-06', '06:30:00'), records_processed: 200 },
        // Two successes: the one completed last (300 records, 40 minutes) is the success run.
        ...measured('n6a', 'nulls', '2025-10-06', 999, 10, ts('2025-10-07', '06:00:00')),
        ...measured('n6b', 'nulls', '2025-10-06', 300, 40, ts('2025-10-07', '08:00:00')),
        ...measured('n7', 'nulls', '2025-10-07', 0, 10),
        ...['2025-10-04', '2025-10-05', '2025-10-06'].flatMap((d, i) => measured(`r${i}`, 'auto_rt', d, 1, 20)),
        started('r7', 'auto_rt', '2025-10-07', ts('2025-10-08', '10:59:00')),
        ...['2025-10-05', '2025-10-06'].flatMap((d, i) => measured(`f${i}`, 'auto_floor', d, 1, 5)),
        started('f7', 'auto_floor', '2025-10-07', ts('2025-10-08', '11:40:00')),
        ...measured('z6', 'auto_none', '2025-10-06', 1, 5),
        started('z7', 'auto_none', '2025-10-07', ts('2025-10-08', '10:20:00')),
        ...['2025-09-29', '2025-09-30', '2025-10-01', '2025-10-02', '2025-10-03'].flatMap((d, i) => measured(`w${i}`, 'wk', d, 500, 10)),
        ...measured('w6', 'wk', '2025-10-06', 5, 10),
        ...['2025-10-02', '2025-10-03', '2025-10-04'].flatMap((d, i) => measured(`o${i}`, 'off', d, 100, 10)),
        ...measured('o5', 'off', '2025-10-05', 0, 100),
        ...['2025-10-06', '2025-10-07'].flatMap((d, i) => measured(`o${i + 6}`, 'off', d, 100, 10)),
      ],
    },
    checks: [
      {
        date: '2025-10-07',
        lookback: 3,
        now: '2025-10-08T12:00:00Z',
        expect: [
          // Even count (10-01..10-04): 10, 20, 41, 50 → 30.5; durations 10, 20, 40, 50 min → 30 min.
          ['vol', '2025-10-05', 'records', 30],
          ['vol', '2025-10-05', 'duration_seconds', 1800],
          ['vol', '2025-10-05', 'baseline_records', 30.5],
          ['vol', '2025-10-05', 'baseline_duration_seconds', 1800],
          ['vol', '2025-10-05', 'is_low_volume', false],
          // Odd count (10-01..10-05): 10, 20, 30, 41, 50 → 30; 200 > 2 × 30.
          ['vol', '2025-10-06', 'baseline_records', 30],
          ['vol', '2025-10-06', 'is_high_volume', true],
          ['vol', '2025-10-06', 'is_slow', false],
          // 10-02..10-06: 20, 30, 41, 50, 200 → 41; 5 < 0.25 × 41. 100 min > 3 × 30 and 70 > 10.
          ['vol', '2025-10-07', 'records', 5],
          ['vol', '2025-10-07', 'failed_runs', 1],
          ['vol', '2025-10-07', 'baseline_records', 41],
          ['vol', '2025-10-07', 'is_low_volume', true],
          ['vol', '2025-10-07', 'is_high_volume', false],
          ['vol', '2025-10-07', 'duration_seconds', 6000],
          ['vol', '2025-10-07', 'is_slow', true],
          ['vol', null, 'processor_level', 'ERROR'],
          ['nulls', '2025-10-05', 'records', 200],
          ['nulls', '2025-10-05', 'duration_seconds', null],
          ['nulls', '2025-10-06', 'records', 300],
          ['nulls', '2025-10-06', 'duration_seconds', 2400],
          ['nulls', '2025-10-06', 'runs', 2],
          // Two record values and two durations in 10-02..10-05: fewer than 3.
          ['nulls', '2025-10-06', 'baseline_records', null],
          ['nulls', '2025-10-06', 'baseline_duration_seconds', null],
          // 10-03..10-06: records 100, 200, 300 (one null) → 200; durations 10, 20, 40 (one null) → 20 min.
          ['nulls', '2025-10-07', 'baseline_records', 200],
          ['nulls', '2025-10-07', 'baseline_duration_seconds', 1200],
          ['nulls', '2025-10-07', 'is_low_volume', true],
          // auto: 3 × 20 min = 60 min; the run of E started 61 min ago. The 20 min baseline sets the
          // limit but is not shown on E: a baseline belongs to a success date.
          ['auto_rt', '2025-10-07', 'day_status', 'hung'],
          ['auto_rt', '2025-10-07', 'baseline_duration_seconds', null],
          ['auto_rt', null, 'processor_level', 'ERROR'],
          // auto: 3 × 5 min = 15 min, but never below 30: 20 minutes is still running.
          ['auto_floor', '2025-10-07', 'day_status', 'running'],
          ['auto_floor', null, 'processor_level', 'OK'],
          // auto without a baseline: 120 min; 100 minutes is still running.
          ['auto_none', '2025-10-07', 'day_status', 'running'],
          ['auto_none', '2025-10-07', 'baseline_duration_seconds', null],
          // Weekdays: 5 success dates in the 7 days before Monday 10-06.
          ['wk', '2025-10-05', 'day_status', 'not_expected'],
          ['wk', '2025-10-06', 'baseline_records', 500],
          ['wk', '2025-10-06', 'is_low_volume', true],
          ['wk', '2025-10-07', 'day_status', 'missing'],
          ['wk', '2025-10-07', 'records', null],
          // Rules off: 0 records in 100 minutes against 100 in 10 is no anomaly.
          ['off', '2025-10-05', 'baseline_records', 100],
          ['off', '2025-10-05', 'baseline_duration_seconds', 600],
          ['off', '2025-10-05', 'is_low_volume', false],
          ['off', '2025-10-05', 'is_slow', false],
          ['off', null, 'processor_level', 'OK'],
        ],
      },
      {
        // One day earlier: the baselines move with D, and E's "auto" limit with E.
        date: '2025-10-06',
        lookback: 2,
        now: '2025-10-07T12:00:00Z',
        expect: [
          ['vol', '2025-10-06', 'is_high_volume', true],
          ['vol', '2025-10-05', 'baseline_records', 30.5],
          ['nulls', '2025-10-06', 'records', 300],
          ['auto_rt', '2025-10-06', 'records', 1],
        ],
      },
    ],
  },
  {
    name: 'silent failures, reviewed edges: strict comparisons, window boundaries, which success run, "auto" of E (SPEC §10)',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: {
          equal: { baseline_days: 5, baseline_min_dates: 3 },
          low: { baseline_days: 5, baseline_min_dates: 3 },
          inside: {},
          outside: {},
          picks: { baseline_min_dates: 3 },
          zero_base: { baseline_min_dates: 3, volume_max_ratio: 2 },
          start_row: { baseline_min_dates: 1 },
          slow_edge: { baseline_min_dates: 3 },
          slow_past: { baseline_min_dates: 3 },
          auto_e: { max_runtime_minutes: 'auto' },
          decimal_low: { baseline_min_dates: 3, volume_min_ratio: 0.55 },
          decimal_high: { baseline_min_dates: 3, volume_max_ratio: 1.15 },
          decimal_slow: { baseline_min_dates: 3, runtime_max_ratio: 2.3 },
        },
      },
      runs: [
        // Baseline of E (baseline_days 5: 10-02..10-06): records 10, 20, 40 (10-04 null) → 20; durations 10, 20, 30 min (10-03 none) → 20 min.
        ...(['equal', 'low'] as const).flatMap((p) => [
          ...measured(`${p}1`, p, '2025-10-01', 1_000_000, 600),
          ...measured(`${p}2`, p, '2025-10-02', 10, 10),
          { run_id: `${p}3`, processor_name: p, processing_date: '2025-10-03', status: 'success', started_at: ts('2025-10-04', '06:00:00'), completed_at: null, records_processed: 20 },
          ...measured(`${p}4`, p, '2025-10-04', null, 20),
          ...measured(`${p}5`, p, '2025-10-05', 40, 30),
        ]),
        ...measured('equal7', 'equal', '2025-10-07', 5, 60),
        ...measured('low7', 'low', '2025-10-07', 4, 60.5),
        // Six successes right before E plus one 28 (inside) or 29 (outside) days before: seven dates, or six.
        ...(['inside', 'outside'] as const).flatMap((p) => [
          ...['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06'].flatMap((d) => measured(`${p}-${d}`, p, d, 100, 10)),
          ...measured(`${p}-old`, p, p === 'inside' ? '2025-09-09' : '2025-09-08', 100, 10),
          ...measured(`${p}7`, p, '2025-10-07', 0, 10),
        ]),
        // Failed 10-01 (1000) is out; 10-02 retried → 100 (30 min); 10-03: the run completed last (200, 60 min) though it started first; 10-04 skipped (300, 10 min).
        { run_id: 'pk1', processor_name: 'picks', processing_date: '2025-10-01', status: 'failed', started_at: ts('2025-10-02', '06:00:00'), completed_at: ts('2025-10-02', '06:06:00'), records_processed: 1000 },
        { run_id: 'pk2a', processor_name: 'picks', processing_date: '2025-10-02', status: 'failed', started_at: ts('2025-10-03', '05:00:00'), completed_at: ts('2025-10-03', '05:05:00'), records_processed: 500 },
        ...measured('pk2b', 'picks', '2025-10-02', 100, 30),
        ...measured('pk3b', 'picks', '2025-10-03', 200, 60, ts('2025-10-04', '06:00:00')),
        ...measured('pk3a', 'picks', '2025-10-03', 1, 5, ts('2025-10-04', '06:30:00')),
        { run_id: 'pk4', processor_name: 'picks', processing_date: '2025-10-04', status: 'skipped', started_at: ts('2025-10-05', '06:00:00'), completed_at: ts('2025-10-05', '06:10:00'), records_processed: 300 },
        ...measured('pk7', 'picks', '2025-10-07', 49, 10),
        // A baseline of 0: 5 records are above 2 × 0.
        ...['2025-10-04', '2025-10-05', '2025-10-06'].flatMap((d) => measured(`zb-${d}`, 'zero_base', d, 0, 10)),
        ...measured('zb7', 'zero_base', '2025-10-07', 5, 10),
        // The final row has no started_at; the run's start row does: the duration is 20 minutes.
        { run_id: 'sr6', processor_name: 'start_row', processing_date: '2025-10-06', status: 'running', started_at: ts('2025-10-07', '06:00:00'), completed_at: null },
        { run_id: 'sr6', processor_name: 'start_row', processing_date: '2025-10-06', status: 'success', started_at: null, completed_at: ts('2025-10-07', '06:20:00'), records_processed: 100 },
        ...measured('sr7', 'start_row', '2025-10-07', 50, 10),
        // Baseline 4 min: 14 min is 3.5× but exactly 10 minutes more (not slow); 14.5 min is slow.
        ...(['slow_edge', 'slow_past'] as const).flatMap((p) => ['2025-10-04', '2025-10-05', '2025-10-06'].flatMap((d) => measured(`${p}-${d}`, p, d, 10, 4))),
        ...measured('se7', 'slow_edge', '2025-10-07', 10, 14),
        ...measured('sp7', 'slow_past', '2025-10-07', 10, 14.5),
        // auto: 10-06's own window (09-08..10-05) holds seven 20-minute successes, E's (09-09..10-06) six: no baseline of E → 120 min.
        ...['2025-09-08', '2025-09-30', '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05'].flatMap((d) => measured(`ae-${d}`, 'auto_e', d, 10, 20)),
        started('ae6', 'auto_e', '2025-10-06', ts('2025-10-08', '10:30:00')),
        // Decimal ratios: 0.55 × 100 = 55, 1.15 × 100 = 115, 2.3 × 11 min = 25.3 min, exactly (not 55.00000000000001, …).
        ...(['decimal_low', 'decimal_high', 'decimal_slow'] as const).flatMap((p) =>
          ['2025-10-04', '2025-10-05', '2025-10-06'].flatMap((d) => measured(`${p}-${d}`, p, d, 100, 11)),
        ),
        ...measured('dl7', 'decimal_low', '2025-10-07', 55, 11),
        ...measured('dh7', 'decimal_high', '2025-10-07', 115, 11),
        ...measured('ds7', 'decimal_slow', '2025-10-07', 100, 25.3),
      ],
    },
    checks: [
      {
        date: '2025-10-07',
        lookback: 1,
        now: '2025-10-08T12:00:00Z',
        expect: [
          ['equal', '2025-10-07', 'baseline_records', 20],
          ['equal', '2025-10-07', 'baseline_duration_seconds', 1200],
          ['equal', '2025-10-07', 'is_low_volume', false],
          ['equal', '2025-10-07', 'is_slow', false],
          ['low', '2025-10-07', 'duration_seconds', 3630],
          ['low', '2025-10-07', 'is_low_volume', true],
          ['low', '2025-10-07', 'is_slow', true],
          ['inside', '2025-10-07', 'baseline_records', 100],
          ['inside', '2025-10-07', 'is_low_volume', true],
          ['outside', '2025-10-07', 'baseline_records', null],
          ['outside', '2025-10-07', 'is_low_volume', false],
          ['picks', '2025-10-07', 'baseline_records', 200],
          ['picks', '2025-10-07', 'baseline_duration_seconds', 1800],
          ['picks', '2025-10-07', 'is_low_volume', true],
          ['zero_base', '2025-10-07', 'baseline_records', 0],
          ['zero_base', '2025-10-07', 'is_high_volume', true],
          ['start_row', '2025-10-07', 'baseline_duration_seconds', 1200],
          ['slow_edge', '2025-10-07', 'is_slow', false],
          ['slow_past', '2025-10-07', 'is_slow', true],
          ['decimal_low', '2025-10-07', 'is_low_volume', false],
          ['decimal_high', '2025-10-07', 'is_high_volume', false],
          ['decimal_slow', '2025-10-07', 'duration_seconds', 1518],
          ['decimal_slow', '2025-10-07', 'is_slow', false],
        ],
      },
      {
        date: '2025-10-07',
        lookback: 2,
        now: '2025-10-08T12:00:00Z',
        processors: ['auto_e'],
        expect: [['auto_e', '2025-10-06', 'day_status', 'running']],
      },
    ],
  },
  {
    name: 'noise control and as-of reads: thresholds, dependencies with offsets, rows after now (UTC)',
    fixture: {
      registry: {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: {
          up: { alert_after_dates: 2, alert_within_dates: 3 },
          down: { depends_on: ['up'] },
          late: { depends_on: [{ processor: 'up', offset_days: -1 }], staleness_threshold_days: 2 },
        },
      },
      runs: [
        ...run('u1', 'up', '2025-10-01', 'success', ts('2025-10-02', '06:00:00'), ts('2025-10-02', '06:10:00')),
        ...run('u2', 'up', '2025-10-02', 'failed', ts('2025-10-03', '06:00:00'), ts('2025-10-03', '06:10:00'), ['Timeout', 'feed']),
        ...run('u3', 'up', '2025-10-03', 'success', ts('2025-10-04', '06:00:00'), ts('2025-10-04', '06:10:00')),
        // Completed after the second check's now: at 2025-10-05T06:05Z the run is still running.
        ...run('u4', 'up', '2025-10-04', 'success', ts('2025-10-05', '06:00:00'), ts('2025-10-05', '06:10:00')),
        ...run('d1', 'down', '2025-10-01', 'success', ts('2025-10-02', '07:00:00'), ts('2025-10-02', '07:10:00')),
        ...run('d3', 'down', '2025-10-03', 'success', ts('2025-10-04', '07:00:00'), ts('2025-10-04', '07:10:00')),
        ...run('l0', 'late', '2025-09-30', 'success', ts('2025-10-01', '08:00:00'), ts('2025-10-01', '08:10:00')),
        ...run('l1', 'late', '2025-10-01', 'success', ts('2025-10-02', '08:00:00'), ts('2025-10-02', '08:10:00')),
      ],
    },
    checks: [
      {
        date: '2025-10-04',
        lookback: 3,
        now: '2025-10-05T12:00:00Z',
        expect: [
          ['up', '2025-10-02', 'day_status', 'failed'],
          ['up', '2025-10-02', 'is_problem_date', true],
          ['up', null, 'threshold_problem_dates', 1],
          ['up', null, 'problem_since', '2025-10-02'],
          ['up', '2025-10-04', 'due_at', '2025-10-05T00:00:00.000Z'],
          // down's 10-02 needs up's 10-02 (failed); its 10-04 needs up's 10-04 (success): unexplained.
          ['down', '2025-10-02', 'blocked_by', 'up'],
          ['down', '2025-10-04', 'blocked_by', null],
          ['down', null, 'problems_explained', false],
          ['down', null, 'threshold_problem_dates', null],
          // late's 10-03 needs up's 10-02 (failed); late is stale since 10-01, and its 10-02 needs up's 10-01 (success).
          ['late', '2025-10-03', 'blocked_by', 'up'],
          ['late', '2025-10-02', 'blocked_by', null],
          ['late', null, 'is_stale', true],
          ['late', null, 'problems_explained', false],
        ],
      },
      {
        date: '2025-10-04',
        lookback: 2,
        now: '2025-10-05T06:05:00Z',
        expect: [
          ['up', '2025-10-04', 'day_status', 'running'],
          ['down', '2025-10-04', 'blocked_by', 'up'],
          ['down', '2025-10-03', 'day_status', 'success'],
          ['down', null, 'problems_explained', true],
          ['down', null, 'problem_since', '2025-10-04'],
        ],
      },
    ],
  },
];
