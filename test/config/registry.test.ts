import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filterShapeProblem, parseRegistry, unreachableBaselineNotes } from '../../src/config/registry.js';
import { duplicateKeys } from '../../src/config/load.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pem-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeRegistry(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const problemsOf = (doc: unknown) => {
  const result = parseRegistry(doc);
  return result.ok ? [] : result.problems;
};

/** The problems are exactly a secret refused at each of `keys`, in order, none echoing what `hidden` matches. */
function expectSecretsRefused(problems: readonly string[], keys: readonly string[], hidden: RegExp): void {
  expect(problems.map((p) => p.slice(0, p.indexOf(':')))).toEqual(keys);
  for (const problem of problems) {
    expect(problem).toContain('looks like a secret (a URL or a key), which alerts would carry to everyone');
    expect(problem).not.toMatch(hidden);
  }
}

describe('registry defaults (SPEC §3)', () => {
  it('reads thresholds with M defaulting to N, and dependencies as keys or {processor, offset_days}', () => {
    const result = parseRegistry({
      processors: { up: {}, down: { alert_after_dates: 2, depends_on: [{ processor: 'up' }, { processor: 'up', offset_days: -1 }] } },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.registry.processors[0]).toMatchObject({
      name: 'down',
      alert_after_dates: 2,
      alert_within_dates: 2,
      depends_on: [
        { processor: 'up', offset_days: 0 },
        { processor: 'up', offset_days: -1 },
      ],
    });
  });

  it('reports every problem of a depends_on in one pass, also beside a malformed item', () => {
    expect(problemsOf({ processors: { a: {}, b: { depends_on: [{ processor: 'a', offset_days: 1 }, 'nope', 'a', 'a', { processor: 'a', offset_days: -1.5 }] } } })).toEqual([
      'processors.b.depends_on.4.offset_days: must be a whole number of days, for example "offset_days": -1',
      'processors.b.depends_on.0.offset_days: 1 is positive; a date can only need the same or an earlier upstream date, for example "offset_days": -1',
      'processors.b.depends_on.1: unknown processor "nope"',
      'processors.b.depends_on.3: "a" is listed twice',
    ]);
  });

  it('reports a dependency listed twice, a bad shape and alert_within_dates without alert_after_dates', () => {
    expect(problemsOf({ processors: { up: {}, down: { depends_on: ['up', { processor: 'up' }] } } })).toEqual(['processors.down.depends_on.1: "up" is listed twice']);
    expect(problemsOf({ processors: { down: { depends_on: [{ processor: 'up', offset: -1 }] } } })).toEqual(['processors.down.depends_on.0.offset: unknown key (did you mean "offset_days"?)']);
    // A processor whose own depends_on is faulty is still known to its dependents (it was called unknown).
    expect(problemsOf({ processors: { gamebook: { depends_on: [{ processor: 'other', offset: -1 }] }, k: { depends_on: ['gamebook'] }, other: {} } })).toEqual([
      'processors.gamebook.depends_on.0.offset: unknown key (did you mean "offset_days"?)',
    ]);
    // Every history scan reaches back by the largest offset: -100000 made a 3-minute check.
    expect(problemsOf({ processors: { up: {}, down: { depends_on: [{ processor: 'up', offset_days: -367 }] } } })).toEqual([
      'processors.down.depends_on.0.offset_days: must be -366 or more (a year back at most), for example "offset_days": -1',
    ]);
    expect(problemsOf({ processors: { up: {}, down: { depends_on: [{ processor: 'up', offset_days: -366 }] } } })).toEqual([]);
    expect(problemsOf({ processors: { down: { depends_on: [7] } } })[0]).toMatch(/^processors\.down\.depends_on\.0: each dependency is a processor key or/);
    expect(problemsOf({ processors: { p: { alert_within_dates: 3 } } })).toEqual([
      'processors.p.alert_within_dates: only applies with alert_after_dates, for example "alert_after_dates": 2, "alert_within_dates": 3',
    ]);
  });

  it('refuses calendar keys on a processor that is not "calendar", as it refuses expected_weekdays on one that is not "weekly"', () => {
    expect(problemsOf({ processors: { a: { calendar_table: 'ds.games', calendar_date_field: 'game_date' }, b: { expected_frequency: 'weekly', calendar_filter: "season = '1'" } } })).toEqual([
      'processors.a.calendar_table: only applies when expected_frequency is "calendar" (it is "daily")',
      'processors.a.calendar_date_field: only applies when expected_frequency is "calendar" (it is "daily")',
      'processors.b.calendar_filter: only applies when expected_frequency is "calendar" (it is "weekly")',
    ]);
  });

  it('refuses a secret pasted where alerts show text to people (slack_channel, owners), without echoing it', () => {
    const webhook = 'https://hooks.slack.com/services/T0000AAAA/B0000BBBB/OtherSecretToken999';
    const problems = problemsOf({
      processors: {
        a: { slack_channel: webhook },
        b: { owners: ['ok@example.com', webhook] },
        c: { owners: 'R0123456789ABCDEFGHIJ0123456789AB' },
        d: { slack_channel: 'https://example.com/channel' },
        e: { owners: ['https://user:pa55word@wiki.example.com/team'] },
        fine: { slack_channel: '#nba-data-alerts', owners: ['data-eng@example.com', 'https://wiki.example.com/teams/data', 'C0123ABCD'] },
        // Dashed names with years and service ids: names, not keys.
        named: { slack_channel: 'data-platform-alerts-2025', owners: ['data-platform-team-2024', 'PD service P1234567890ABCDEFGHIJ'] },
        slack_token: { owners: ['xoxb-1234-5678-abcdefgh'] },
      },
    });
    expectSecretsRefused(
      problems,
      ['processors.a.slack_channel', 'processors.b.owners.1', 'processors.c.owners', 'processors.d.slack_channel', 'processors.e.owners.0', 'processors.slack_token.owners.0'],
      /SecretToken|pa55word|R0123456789/,
    );
  });

  it('refuses a secret URL in the other text alerts and the report show (display_name, runbook_url, backfill_command, report_url), without echoing it', () => {
    const webhook = 'https://hooks.slack.com/services/T0000AAAA/B0000BBBB/OtherSecretToken999';
    const problems = problemsOf({
      report_url: 'https://user:hunter2@reports.example.com/r.html',
      processors: {
        a: { display_name: webhook },
        b: { runbook_url: 'https://admin:pa55word@wiki.example.com/{processor}' },
        c: { backfill_command: `curl -X POST ${webhook}` },
        d: { backfill_command: 'curl https://events.pagerduty.com/v2/enqueue -d @event.json' },
        // A long word with digits is a name or a commit here, not a key.
        fine: {
          display_name: 'NbaPlayerProps2025ProcessorV2',
          runbook_url: 'https://wiki.example.com/runbooks/{processor}?date={date}',
          backfill_command: 'git checkout 3f2a9c1b7e4d5a6b8c9d0e1f2a3b4c5d6e7f8a9b && ./rerun {processor} {date}',
        },
      },
    });
    expectSecretsRefused(
      problems,
      ['report_url', 'processors.a.display_name', 'processors.b.runbook_url', 'processors.c.backfill_command', 'processors.d.backfill_command'],
      /SecretToken|pa55word|hunter2/,
    );
  });

  it('fills every key a processor leaves out', () => {
    const result = parseRegistry({ processors: { rosters: {} } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.registry).toMatchObject({ dataset: 'monitoring', timezone: 'UTC', renotify_hours: 24 });
    expect(result.registry.processors[0]).toEqual({
      name: 'rosters',
      display_name: 'rosters',
      execution_table: 'monitoring.processor_run_history',
      processor_filter: "processor_name = 'rosters'",
      date_field: 'processing_date',
      status_field: 'status',
      run_id_field: 'run_id',
      started_at_field: 'started_at',
      completed_at_field: 'completed_at',
      success_statuses: ['success', 'skipped'],
      failure_statuses: ['failed'],
      running_statuses: ['running'],
      expected_frequency: 'daily',
      expected_weekdays: ['MON'],
      calendar_table: null,
      calendar_date_field: null,
      calendar_filter: null,
      staleness_threshold_days: 2,
      timezone: 'UTC',
      grace_hours: 0,
      max_runtime_minutes: 120,
      enabled: true,
      priority: 'medium',
      revenue_impact: false,
      alert_on_recovered_failures: false,
      slack_channel: null,
      owners: [],
      records_field: 'records_processed',
      baseline_days: 28,
      baseline_min_dates: 7,
      volume_min_ratio: 0.25,
      volume_max_ratio: null,
      runtime_max_ratio: 3,
      runtime_min_excess_minutes: 10,
      alert_after_dates: null,
      alert_within_dates: null,
      depends_on: [],
      route: 'default',
      runbook_url: null,
      backfill_command: null,
    });
  });

  it('takes the silent-failure keys of SPEC §10, null turning a rule off, and "auto" runtime', () => {
    const keys = {
      records_field: 'rows_written',
      baseline_days: 14,
      baseline_min_dates: 5,
      volume_min_ratio: null,
      volume_max_ratio: 3,
      runtime_max_ratio: null,
      runtime_min_excess_minutes: 0,
      max_runtime_minutes: 'auto',
    };
    const result = parseRegistry({ processors: { a: keys, b: { records_field: null } } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.registry.processors[0]).toMatchObject(keys);
    expect(result.registry.processors[1]!.records_field).toBeNull();
  });

  it('takes the dataset and time zone of the registry, and null fields as "no such column"', () => {
    const result = parseRegistry({
      dataset: 'nba_reference',
      timezone: 'America/New_York',
      processors: { a: { run_id_field: null, started_at_field: null, owners: 'data-eng' } },
    });
    expect(result.ok && result.registry.processors[0]).toMatchObject({
      execution_table: 'nba_reference.processor_run_history',
      timezone: 'America/New_York',
      run_id_field: null,
      started_at_field: null,
      owners: ['data-eng'],
    });
  });
});

describe('a baseline the expected dates can never fill (SPEC §10)', () => {
  const notesOf = (processors: Record<string, unknown>) => {
    const result = parseRegistry({ timezone: 'UTC', processors });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    return unreachableBaselineNotes(result.registry.processors);
  };

  it('notes a weekly processor with the defaults: at most 4 Mondays in the 28 days before a Monday, of the 7 needed; 49 days would hold 7', () => {
    expect(notesOf({ w: { expected_frequency: 'weekly' } })).toEqual([
      'processors.w.baseline_days: a weekly processor has at most 4 expected dates in the 28 days before each of them, fewer than baseline_min_dates (7), ' +
        'so unless it also succeeds on other dates it never has a baseline (SPEC §10): no low_volume, high_volume or slow; set "baseline_days": 49, or a lower "baseline_min_dates"',
    ]);
  });

  it('suggests the days that give every expected weekday its baseline: weekdays needing 25 dates take 35 days', () => {
    expect(notesOf({ d: { expected_frequency: 'weekdays', baseline_min_dates: 25 } })[0]).toMatch(/at most 20 expected dates in the 28 days .* set "baseline_days": 35,/);
  });

  it('says what "auto" runtime does without a baseline, and offers only a lower baseline_min_dates when no baseline_days can hold them', () => {
    expect(notesOf({ w: { expected_frequency: 'weekly', max_runtime_minutes: 'auto', baseline_days: 60, baseline_min_dates: 60 } })[0]).toMatch(
      /at most 8 expected dates .* and "auto" runtime stays at 120 minutes; set a lower "baseline_min_dates"$/,
    );
  });

  it('is advice of pem config validate (both formats), not a warning on every check', async () => {
    const path = writeRegistry('weekly-baseline.json', { dataset: 'monitoring', timezone: 'UTC', processors: { w: { expected_frequency: 'weekly' } } });
    const validated = await runCli(['config', 'validate', '--config', path]);
    expect(validated.code).toBe(0);
    expect(validated.stderr).toMatch(/^warning: processors\.w\.baseline_days: a weekly processor has at most 4 expected dates/);
    const asJson = await runCli(['config', 'validate', '--config', path, '--format', 'json']);
    expect(JSON.parse(asJson.stdout).notes).toEqual([expect.stringContaining('set "baseline_days": 49')]);
    const database = join(dir, 'weekly-baseline.duckdb');
    expect((await runCli(['schema', 'apply', '--config', path, '--database', database])).code).toBe(0);
    const checked = await runCli(['check', '--dry-run', '--config', path, '--database', database, '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
    expect(checked.code).toBe(0);
    expect(checked.stderr).not.toContain('baseline_days');
  });

  it('warns, still exit 0, of what in the environment would stop pem check, each variable once and no secret', async () => {
    const path = writeRegistry('env-notes.json', { dataset: 'monitoring', timezone: 'UTC', routes: { stats: { slack_webhook_env: 'SLACK_STATS' } }, processors: { a: {} } });
    const env = { SLACK_WEBHOOK_URL: 'hooks.example.com/T000/B000/secretpart', SLACK_STATS: 'nope', PEM_ENGINE: 'oracle' };
    const run = await runCli(['config', 'validate', '--config', path], { env });
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      "warning: this environment would stop pem check: PEM_ENGINE 'oracle' is not an engine: use duckdb or bigquery",
      'warning: this environment would stop pem check: SLACK_WEBHOOK_URL is not an http(s) URL: set it to the incoming webhook URL Slack gave you',
      'warning: this environment would stop pem check: SLACK_STATS (route stats) is not an http(s) URL: set it to the incoming webhook URL Slack gave you',
    ]);
    expect(run.stderr).not.toContain('secretpart');
    const json = await runCli(['config', 'validate', '--config', path, '--format', 'json'], { env });
    expect(JSON.parse(json.stdout).notes).toHaveLength(3);
    expect((await runCli(['config', 'validate', '--config', path])).stderr).toBe('');
    // Several routes paging through one bad events URL: said once; a report URI check would refuse too.
    const paging = writeRegistry('env-notes-pd.json', {
      dataset: 'monitoring', timezone: 'UTC', routes: { a: { pagerduty_routing_key_env: 'PD_A' } }, processors: { x: { route: 'a' } },
    });
    const key = 'a'.repeat(32);
    const pd = await runCli(['config', 'validate', '--config', paging], { env: { PAGERDUTY_ROUTING_KEY: key, PD_A: key, PAGERDUTY_EVENTS_URL: 'notaurl', PEM_REPORT_URI: 'ftp://bucket/x.html' } });
    const lines = pd.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('PAGERDUTY_EVENTS_URL'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('PEM_REPORT_URI'))).toBe(true);
  });

  it('says nothing when the dates can fill it, when no rule compares, or for a disabled processor', () => {
    expect(
      notesOf({
        twice: { expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'] },
        longer: { expected_frequency: 'weekly', baseline_days: 49 },
        off: { expected_frequency: 'weekly', volume_min_ratio: null, runtime_max_ratio: null },
        untimed: { expected_frequency: 'weekly', records_field: null, started_at_field: null },
        // "auto" reads a baseline only through runtime_max_ratio: without it, 120 minutes.
        autoWithoutRatio: { expected_frequency: 'weekly', max_runtime_minutes: 'auto', runtime_max_ratio: null, volume_min_ratio: null },
        retired: { expected_frequency: 'weekly', enabled: false },
        weekdays: { expected_frequency: 'weekdays' },
        daily: {},
      }),
    ).toEqual([]);
  });
});

describe('time zone spellings', () => {
  it('reads a listed zone written in other letter case as the database spells it, with a note (BigQuery reads no other spelling)', () => {
    const result = parseRegistry({ timezone: 'america/new_york', processors: { a: { timezone: 'utc' }, b: { timezone: 'etc/gmt+5' }, c: {} } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.registry.timezone).toBe('America/New_York');
    expect(result.registry.processors.map((p) => p.timezone)).toEqual(['UTC', 'Etc/GMT+5', 'America/New_York']);
    expect(result.notes).toEqual([
      'timezone: "america/new_york" is read as "America/New_York", the IANA database\'s spelling (BigQuery reads no other)',
      'processors.a.timezone: "utc" is read as "UTC", the IANA database\'s spelling (BigQuery reads no other)',
      'processors.b.timezone: "etc/gmt+5" is read as "Etc/GMT+5", the IANA database\'s spelling (BigQuery reads no other)',
    ]);
  });

  it.each(['UTC', 'Etc/UTC', 'America/New_York', 'America/Port-au-Prince', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'Europe/Kyiv', 'US/Eastern', 'Etc/GMT+5', 'GMT'])(
    'keeps %s as the IANA database spells it (aliases too)',
    (timezone) => {
      expect(problemsOf({ timezone, processors: { a: { timezone } } })).toEqual([]);
    },
  );
});

describe('registry problems', () => {
  it.each([
    [{ a: { priority: 'urgent' } }, 'processors.a.priority: "urgent" is not one of low, medium, high; for example "priority": "low"'],
    [{ a: { expected_frequency: 'hourly' } }, 'processors.a.expected_frequency: "hourly" is not one of daily, weekdays, weekly, calendar, none'],
    [{ a: { timezone: 'America/Gotham' } }, 'processors.a.timezone: "America/Gotham" is not an IANA time zone'],
    // DuckDB and Intl read any letter case, BigQuery only the database's: an alias written in
    // other case cannot be looked up, so it is refused with the zone's name (a listed zone is read
    // in its spelling instead: 'time zone spellings' below).
    [{ a: { timezone: 'us/eastern' } }, 'processors.a.timezone: "us/eastern" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "America/New_York"'],
    [{ a: { timezone: 'asia/kolkata' } }, 'processors.a.timezone: "asia/kolkata" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "Asia/Calcutta"'],
    // A legacy zone of one word is itself in capitals, not the zone ICU resolves it to ("est" is not Panama's).
    [{ a: { timezone: 'est' } }, 'processors.a.timezone: "est" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "EST"'],
    [{ a: { timezone: 'est5edt' } }, 'processors.a.timezone: "est5edt" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "EST5EDT"'],
    // Only those the database spells in capitals: a country's is not, and keeps ICU's zone.
    [{ a: { timezone: 'japan' } }, 'processors.a.timezone: "japan" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "Asia/Tokyo"'],
    [{ a: { staleness_threshold_days: -1 } }, 'processors.a.staleness_threshold_days: must be at least 0'],
    [{ a: { staleness_threshold_days: '2' } }, 'processors.a.staleness_threshold_days: must be a number'],
    [{ a: { enabled: 'yes' } }, 'processors.a.enabled: must be true or false'],
    [{ a: { max_runtime_minutes: 0 } }, 'processors.a.max_runtime_minutes: must be at least 1'],
    [{ a: { grace_hours: -2 } }, 'processors.a.grace_hours: must be zero or more'],
    [{ a: { max_runtime_minutes: 'fast' } }, 'processors.a.max_runtime_minutes: must be a number, or "auto"'],
    [{ a: { records_field: 'row count' } }, 'processors.a.records_field: must be a column name'],
    [{ a: { baseline_days: 0 } }, 'processors.a.baseline_days: must be at least 1'],
    [{ a: { baseline_days: 400 } }, 'processors.a.baseline_days: must be at most 366'],
    [{ a: { baseline_min_dates: 2.5 } }, 'processors.a.baseline_min_dates: must be a whole number'],
    [{ a: { baseline_days: 5 } }, 'processors.a.baseline_min_dates: 7 dates can never fit in baseline_days (5)'],
    [{ a: { volume_min_ratio: 0 } }, 'processors.a.volume_min_ratio: must be more than 0 (null turns the rule off)'],
    [{ a: { volume_max_ratio: '2x' } }, 'processors.a.volume_max_ratio: must be a number or null'],
    [{ a: { volume_min_ratio: 0.5, volume_max_ratio: 0.5 } }, 'processors.a.volume_max_ratio: must be more than volume_min_ratio (0.5)'],
    [{ a: { runtime_max_ratio: -3 } }, 'processors.a.runtime_max_ratio: must be more than 0'],
    [{ a: { runtime_min_excess_minutes: null } }, 'processors.a.runtime_min_excess_minutes: must be a number of minutes'],
    [{ a: { stalenes_threshold_days: 2 } }, 'processors.a.stalenes_threshold_days: unknown key (did you mean "staleness_threshold_days"?)'],
    [{ a: { execution_table: 'run history' } }, 'processors.a.execution_table: must be a table name'],
    [{ a: { date_field: 'processing date' } }, 'processors.a.date_field: must be a column name'],
    [{ a: { expected_frequency: 'weekly', expected_weekdays: ['MONDAY'] } }, 'processors.a.expected_weekdays.0: "MONDAY" is not one of MON'],
    [{ a: { expected_frequency: 'weekly', expected_weekdays: ['FUNDAY'] } }, 'for example "expected_weekdays": ["MON"]'],
    [{ a: { expected_frequency: 'calendar' } }, 'processors.a.calendar_table: is required when expected_frequency is "calendar"'],
    [{ a: { expected_weekdays: ['TUE'] } }, 'processors.a.expected_weekdays: only applies when expected_frequency is "weekly"'],
    [{ a: { failure_statuses: ['success'] } }, 'processors.a.failure_statuses: "success" is also listed in success_statuses'],
    [{ a: { processor_filter: "name = 'a'; DROP TABLE x" } }, 'processors.a.processor_filter: must be one boolean expression: ";" is not allowed'],
    [{ a: { processor_filter: "name = 'a' -- all" } }, 'processors.a.processor_filter: must not contain SQL comments'],
    [{ a: { processor_filter: "name = 'a') OR (1 = 1" } }, 'processors.a.processor_filter: has a ")" without its "("'],
    [{ a: 'daily' }, 'processors.a: must be an object of settings'],
    [{ 'bad name!': {} }, 'processors.bad name!: processor names use letters'],
    [{ '-rf': {} }, 'processors.-rf: processor names use letters, digits, "_", "-" and ".", and start with a letter, a digit or "_"'],
    [JSON.parse('{"__proto__": {}}'), 'processors.__proto__: processor names use letters'],
  ])('names the processor and the key: %j', (processors, message) => {
    const problems = problemsOf({ processors });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.filter((p) => p.includes(message))).toHaveLength(1);
    expect(problems.every((p) => p.startsWith(`processors.${Object.keys(processors)[0]}`))).toBe(true);
  });

  it('says an empty name is empty, once, not also that it has the wrong shape', () => {
    expect(problemsOf({ dataset: '', processors: { a: { execution_table: '', date_field: '' } } })).toEqual([
      'dataset: must not be empty, for example "nba_reference"',
      'processors.a.execution_table: must not be empty, for example "nba_reference.processor_run_history"',
      'processors.a.date_field: must not be empty, for example "processing_date"',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      datset: 'x',
      processors: { a: { priority: 'urgent', enabled: 1 }, b: { timezone: 'Mars/Olympus' } },
    });
    expect(problems).toEqual([
      'datset: unknown key (did you mean "dataset"?)',
      'processors.a.enabled: must be true or false, for example "enabled": true',
      'processors.a.priority: "urgent" is not one of low, medium, high; for example "priority": "low"',
      'processors.b.timezone: "Mars/Olympus" is not an IANA time zone; use a name such as "America/New_York" or "UTC"',
    ]);
  });

  it('reports every problem of the silent-failure keys at once, cross-key ones included', () => {
    expect(
      problemsOf({ processors: { a: { baseline_days: 3, volume_min_ratio: -1, max_runtime_minutes: 'soon', runtime_min_excess_minutes: -5 } } }),
    ).toEqual([
      'processors.a.max_runtime_minutes: must be a number, or "auto"; for example "max_runtime_minutes": 120 or "max_runtime_minutes": "auto"',
      'processors.a.volume_min_ratio: must be more than 0 (null turns the rule off), for example "volume_min_ratio": 0.25',
      'processors.a.runtime_min_excess_minutes: must be zero or more, for example "runtime_min_excess_minutes": 10',
      'processors.a.baseline_min_dates: 7 dates can never fit in baseline_days (3); use at most 3, for example "baseline_min_dates": 3',
    ]);
  });

  it('requires a processors object', () => {
    expect(problemsOf({ dataset: 'x' })).toEqual([
      'processors: is required: an object of processors keyed by name, for example {"gamebook_processor": {}}',
    ]);
  });

  it('accepts quotes, parentheses and semicolons inside string literals of a filter', () => {
    expect(filterShapeProblem("name = 'a;b' AND (x IN ('(', ')'))")).toBeNull();
  });
});

describe('pem config validate', () => {
  it('accepts the shipped registry', async () => {
    const run = await runCli(['config', 'validate']);
    expect(run).toEqual({
      code: 0,
      stdout: 'includes/processors.js: valid, 2 processors (2 enabled), dataset nba_reference, time zone America/New_York\n',
      stderr: '',
    });
  });

  it('prints every problem and exits 2', async () => {
    const path = writeRegistry('bad.json', { processors: { a: { priority: 'urgent' }, b: { enabled: 'no' } } });
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      `error: invalid registry ${path}: 2 problems`,
      '  - processors.a.priority: "urgent" is not one of low, medium, high; for example "priority": "low"',
      '  - processors.b.enabled: must be true or false, for example "enabled": true',
      '',
    ]);
  });

  it('shows a processor name holding an escape sequence or a line break without them, one line each', async () => {
    const path = writeRegistry('escapes.json', { processors: { '\u001b[31mred\u001b[0m': {}, 'two\nlines': {} } });
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toEqual([
      `error: invalid registry ${path}: 2 problems`,
      '  - processors.?[31mred?[0m: processor names use letters, digits, "_", "-" and ".", and start with a letter, a digit or "_" (a leading "-" would read as an option in a backfill command), and are not "__proto__"; for example "gamebook_processor"',
      '  - processors.two?lines: processor names use letters, digits, "_", "-" and ".", and start with a letter, a digit or "_" (a leading "-" would read as an option in a backfill command), and are not "__proto__"; for example "gamebook_processor"',
      '',
    ]);
  });

  it('prints a JSON verdict with --format json, every problem listed, and still exits 2 when invalid', async () => {
    const valid = await runCli(['config', 'validate', '--format', 'json']);
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({
      config: 'includes/processors.js',
      valid: true,
      problems: [],
      notes: [],
      dataset: 'nba_reference',
      timezone: 'America/New_York',
      processors: 2,
      enabled_processors: 2,
    });
    const path = writeRegistry('bad-json.json', { processors: { a: { priority: 'urgent' }, b: { enabled: 'no' } } });
    const invalid = await runCli(['config', 'validate', '--config', path, '--format', 'json']);
    expect(invalid.code).toBe(2);
    expect(JSON.parse(invalid.stdout)).toMatchObject({
      config: path,
      valid: false,
      problems: [
        'processors.a.priority: "urgent" is not one of low, medium, high; for example "priority": "low"',
        'processors.b.enabled: must be true or false, for example "enabled": true',
      ],
    });
    expect(invalid.stderr.split('\n')[0]).toBe(`error: invalid registry ${path}: 2 problems`);
  });

  it('rejects a filter that does not parse', async () => {
    const path = writeRegistry('unparsable.json', { processors: { a: { processor_filter: 'processor_name = = 1' } } });
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('processors.a.processor_filter: does not parse as a SQL expression');
  });

  it('loads a CommonJS .js registry', async () => {
    const path = writeRegistry('reg.js', "module.exports = { processors: { a: { priority: 'high' } } };");
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  it.each([
    ['a missing file', join(dir, 'nope.json'), 'does not exist (pass --config PATH to a .js or .json registry)'],
    ['a JSON array', writeRegistry('array.json', '[]'), 'array.json: must be an object such as {"dataset": "nba_reference", "processors": {…}}, not array'],
    ['JSON null', writeRegistry('null.json', 'null'), 'null.json: must be an object such as {"dataset": "nba_reference", "processors": {…}}, not null'],
    ['malformed JSON', writeRegistry('broken.json', '{"processors": {'), "broken.json is not valid JSON at line 1, column 16: Expected property name or '}' in JSON"],
    ['a comma too many, on line 3', writeRegistry('comma.json', '{\n  "processors": {\n    "a": {},,\n  }\n}'), 'comma.json is not valid JSON at line 3, column 13: Expected double-quoted property name in JSON'],
    // A tab typed inside a string: strict JSON refuses it, and the place comes from JSON.parse's own position.
    ['a tab inside a string, on line 2', writeRegistry('tab.json', '{\n  "processors": {"a": {"display_name": "x\ty"}}}'), 'tab.json is not valid JSON at line 2, column 42: Bad control character in string literal in JSON'],
    ['a .yaml file', writeRegistry('reg.yaml', 'processors: {}'), 'must be a .js or .cjs (CommonJS) or .json file'],
  ])('gives one line and exit 2 for %s', async (_name, path, message) => {
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });

  it.each([
    [
      'refuses a key given twice in one object, which JSON.parse would drop silently, naming where each is',
      'dup.json',
      '{\n  "processors": {\n    "a": {"priority": "high"},\n    "a": {"priority": "low", "owners": "x", "owners": "y"}\n  }\n}',
      [
        'processors.a: given 2 times (line 3, column 5; line 4, column 5); JSON keeps only the last, so give it once',
        'processors.a.owners: given 2 times (line 4, column 30; line 4, column 45); JSON keeps only the last, so give it once',
      ],
    ],
    [
      "reports a key given twice with the registry's other problems, all at once",
      'dup-and-more.json',
      '{"processors": {"a": {"priority": "high", "priority": "low", "enabled": "yes"}}}',
      [
        'processors.a.priority: given 2 times (line 1, column 23; line 1, column 43); JSON keeps only the last, so give it once',
        'processors.a.enabled: must be true or false, for example "enabled": true',
      ],
    ],
  ])('%s', async (_what, file, text, problems) => {
    const path = writeRegistry(file, text);
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: invalid registry ${path}: ${problems.length} problems\n${problems.map((problem) => `  - ${problem}\n`).join('')}`);
  });

  it('finds repeated keys in one pass: escaped spellings, inside lists, at any depth, in path order', () => {
    expect(duplicateKeys('{"a": 1, "\\u0061": 2, "b": [{"x": 1}, {"x": 2, "x": 3}], "c": {"a": {"a": 1}}}')).toEqual([
      'a: given 2 times (line 1, column 2; line 1, column 10); JSON keeps only the last, so give it once',
      'b.1.x: given 2 times (line 1, column 40; line 1, column 48); JSON keeps only the last, so give it once',
    ]);
    expect(duplicateKeys('{"s": "a \\" \\\\ \\"", "s2": "{\\"s\\": 1, \\"s\\": 2}"}')).toEqual([]);
    const deep = `{"owners": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(duplicateKeys(deep)).toEqual([]);
  });

  it('says where a JSON registry goes wrong for every kind of syntax error', async () => {
    const path = writeRegistry('token.json', '{\n  "processors": {\n    "a": {"grace_hours": x}\n  }\n}');
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: registry file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON at line 3, column 26: Unexpected token 'x'\n$`));
  });

  it('reads a JSON registry saved with a byte-order mark', async () => {
    const path = writeRegistry('bom.json', '\uFEFF{"dataset": "nba_reference", "processors": {"a": {}}}');
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('valid, 1 processor');
  });

  it('says on which line a .js registry stops parsing, as it does for JSON', async () => {
    const path = writeRegistry('broken.js', 'module.exports = {\n  dataset: "nba_reference",,\n  processors: {},\n};\n');
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: registry file ${path} cannot be read: Unexpected token ',' (at line 2)\n`);
  });

  it('names the cause when a .js registry is loaded as an ES module ("type": "module" above it)', async () => {
    const esm = join(dir, 'esm-project');
    mkdirSync(esm, { recursive: true });
    writeFileSync(join(esm, 'package.json'), '{"type": "module"}');
    writeFileSync(join(esm, 'processors.js'), 'module.exports = { dataset: "nba_reference", processors: { gamebook: {} } };');
    const run = await runCli(['config', 'validate', '--config', join(esm, 'processors.js')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      'cannot be read: it is loaded as an ES module (it uses import or export, or a package.json above it says "type": "module"), where module.exports is not its export: name it .cjs or put a package.json saying {"type": "commonjs"} beside it (and export with module.exports = {…}, not export), or use .json',
    );
  });

  it('names the cause when a .js registry uses export syntax with no package.json above it', async () => {
    const bare = join(dir, 'esm-syntax');
    mkdirSync(bare, { recursive: true });
    writeFileSync(join(bare, 'processors.js'), 'export default { dataset: "nba_reference", processors: { gamebook: {} } };');
    const run = await runCli(['config', 'validate', '--config', join(bare, 'processors.js')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('cannot be read: ');
    expect(run.stderr).not.toContain('stack');
  });

  it.each([['check'], ['gaps'], ['schema', 'apply'], ['silence', 'list'], ['report', '--html', 'r.html'], ['backtest', '--from', '2025-10-01', '--to', '2025-10-02']])(
    'refuses a BigQuery project in a registry table on DuckDB before opening the file: pem %s exits 2 with one line',
    async (...command) => {
      const path = writeRegistry('projects.json', {
        dataset: 'my-project.nba',
        processors: { gamebook: { execution_table: 'other-project.nba.runs' }, games: { expected_frequency: 'calendar', calendar_table: 'my-project.nba.games', calendar_date_field: 'd' } },
      });
      const database = join(dir, `projects-${command[0]}.duckdb`);
      const run = await runCli([...command, '--config', path, '--database', database], { now: new Date('2025-10-08T12:00:00Z') });
      expect(run).toMatchObject({ code: 2, stdout: '' });
      // schema apply and silence read no processor's table: only the dataset's own are theirs.
      const others = ['schema', 'silence'].includes(command[0]!) ? '' : ' (and 2 other keys: processors.gamebook.execution_table, processors.games.calendar_table)';
      expect(run.stderr).toBe(
        `error: registry dataset "my-project.nba" names a BigQuery project (my-project), which a DuckDB file does not have${others}: write "nba" for DuckDB, or pass --engine bigquery\n`,
      );
      expect(existsSync(database)).toBe(false);
    },
  );

  it('warns of a check that cannot read as wrong: no processor enabled, or a --date after today', async () => {
    const path = writeRegistry('quiet.json', { dataset: 'nba_reference', processors: { a: { enabled: false }, b: {} } });
    const database = join(dir, 'quiet.duckdb');
    expect((await runCli(['schema', 'apply', '--config', path, '--database', database])).code).toBe(0);
    const now = new Date('2026-12-04T12:00:00Z');
    const future = await runCli(['check', '--config', path, '--database', database, '--date', '2027-06-01', '--dry-run'], { now });
    expect(future.code).toBe(0);
    expect(future.stderr).toContain(
      'warning: --date 2027-06-01 is after today (2026-12-04 in UTC, at 2026-12-04T12:00:00.000Z): its dates are not due and read as pending, and staleness is counted up to it\n',
    );
    const today = await runCli(['check', '--config', path, '--database', database, '--date', '2026-12-04', '--dry-run'], { now });
    expect(today.stderr).not.toContain('is after today');
    const none = writeRegistry('none-enabled.json', { dataset: 'nba_reference', processors: { a: { enabled: false } } });
    const idle = await runCli(['gaps', '--config', none, '--database', database], { now });
    expect(idle.code).toBe(0);
    expect(idle.stderr).toContain('warning: no processor of');
    expect(idle.stderr).toContain('is enabled: nothing is checked, so nothing can read as wrong\n');
  });

  it('refuses only the tables a DuckDB command reads: a processor left out of --processors may keep its table in another project', async () => {
    const path = writeRegistry('other-project.json', { dataset: 'nba_reference', processors: { a: {}, b: { execution_table: 'other-project.ds.runs' } } });
    const database = join(dir, 'other-project.duckdb');
    expect((await runCli(['schema', 'apply', '--config', path, '--database', database])).code).toBe(0);
    const now = new Date('2025-10-08T12:00:00Z');
    const narrow = await runCli(['check', '--config', path, '--database', database, '--processors', 'a', '--date', '2025-10-07', '--json-output', '--dry-run'], { now });
    expect(narrow.stderr).not.toMatch(/^error:/m);
    expect(narrow.code).toBe(0);
    const all = await runCli(['check', '--config', path, '--database', database, '--date', '2025-10-07', '--dry-run'], { now });
    expect(all).toMatchObject({ code: 2, stdout: '' });
    expect(all.stderr).toContain('error: registry processors.b.execution_table "other-project.ds.runs" names a BigQuery project (other-project)');
  });

  it('refuses to check with an invalid registry', async () => {
    const path = writeRegistry('bad-check.json', { processors: { a: { priority: 'urgent' } } });
    const run = await runCli(['check', '--config', path, '--database', join(dir, 'none.duckdb')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid registry');
  });
});

describe('every problem at once, across keys', () => {
  it('still checks the filters and cross-key rules of a processor with a wrong key', () => {
    expect(problemsOf({ processors: { p9: { processor_filter: 'a = 1; drop table x', priority: 'urgent', expected_frequency: 'calendar' } } })).toEqual([
      'processors.p9.priority: "urgent" is not one of low, medium, high; for example "priority": "low"',
      'processors.p9.calendar_table: is required when expected_frequency is "calendar", for example "nba_reference.game_schedule"',
      'processors.p9.calendar_date_field: is required when expected_frequency is "calendar", for example "game_date"',
      'processors.p9.processor_filter: must be one boolean expression: ";" is not allowed',
    ]);
  });

  it('does not repeat a problem for the key that was wrong', () => {
    expect(problemsOf({ processors: { p: { expected_frequency: 'calendar', calendar_table: 'not a table' } } })).toEqual([
      'processors.p.calendar_table: must be a table name "dataset.table" or "project.dataset.table", for example "nba_reference.game_schedule"',
      'processors.p.calendar_date_field: is required when expected_frequency is "calendar", for example "game_date"',
    ]);
  });

  it('parses the filters of other processors when one processor is wrong', async () => {
    const path = writeRegistry('mixed.json', { processors: { p1: { priority: 'urgent' }, p2: { processor_filter: 'a = = 1' } } });
    const run = await runCli(['config', 'validate', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`invalid registry ${path}: 2 problems`);
    expect(run.stderr).toContain('processors.p2.processor_filter: does not parse as a SQL expression');
  });
});

describe('routes and action templates (SPEC §11)', () => {
  const WEBHOOK = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/xoxbS3cr3tT0k3nValue';
  const KEY = 'R0UT1NGK3Y0000000000000000SECRET';

  it('reads named routes, keeps the default route, and gives every processor one', () => {
    const result = parseRegistry({
      report_url: 'https://storage.cloud.google.com/pem/health.html',
      routes: { stats: { slack_webhook_env: 'SLACK_WEBHOOK_URL_STATS', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY_STATS' }, quiet: { slack_webhook_env: 'SLACK_QUIET' } },
      processors: { a: { route: 'stats', runbook_url: 'https://wiki.example.com/{processor}?d={date}', backfill_command: 'run {processor} {date}' }, b: {} },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.registry.routes).toEqual({
      default: { slack_webhook_env: 'SLACK_WEBHOOK_URL', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY' },
      stats: { slack_webhook_env: 'SLACK_WEBHOOK_URL_STATS', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY_STATS' },
      quiet: { slack_webhook_env: 'SLACK_QUIET', pagerduty_routing_key_env: null },
    });
    expect(result.registry.report_url).toBe('https://storage.cloud.google.com/pem/health.html');
    expect(result.registry.processors.map((p) => p.route)).toEqual(['stats', 'default']);
  });

  it('lets the registry redefine the default route, keeping the variable it leaves out', () => {
    const result = parseRegistry({ routes: { default: { slack_webhook_env: 'TEAM_SLACK' } }, processors: { a: {} } });
    expect(result.ok && result.registry.routes.default).toEqual({ slack_webhook_env: 'TEAM_SLACK', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY' });
  });

  it('keeps a tab in a backfill command (whitespace to a shell): a registry that has one still loads', () => {
    const result = parseRegistry({ processors: { a: { backfill_command: 'rerun\t{processor} {date}' } } });
    expect(result.ok && result.registry.processors[0]!.backfill_command).toBe('rerun\t{processor} {date}');
  });

  it.each([
    ['a webhook URL', { routes: { stats: { slack_webhook_env: WEBHOOK } }, processors: {} }, 'routes.stats.slack_webhook_env: looks like a secret (a URL or a key)', WEBHOOK],
    ['a routing key', { routes: { stats: { pagerduty_routing_key_env: KEY } }, processors: {} }, 'routes.stats.pagerduty_routing_key_env: looks like a secret (a URL or a key)', KEY],
    ['an unknown route', { routes: { stats: {} }, processors: { a: { route: 'stast' } } }, 'processors.a.route: unknown route "stast" (did you mean "stats"?); the registry defines default, stats', null],
    ['a route in another case', { routes: { stats: {} }, processors: { a: { route: 'Stats' } } }, 'processors.a.route: unknown route "Stats" (did you mean "stats"?); the registry defines default, stats', null],
    ['a route far from any', { routes: { stats: {} }, processors: { a: { route: 'props' } } }, 'processors.a.route: unknown route "props"; the registry defines default, stats', null],
    ['an unknown placeholder', { processors: { a: { backfill_command: 'run {proc} {date}' } } }, 'processors.a.backfill_command: unknown placeholder {proc}: use {processor} and {date}', null],
    ['every unknown placeholder at once', { processors: { a: { backfill_command: 'run {proc} {date} {DATE} {proc}' } } }, 'processors.a.backfill_command: unknown placeholders {proc}, {DATE}: use {processor} and {date}', null],
    ['a runbook that is not a URL', { processors: { a: { runbook_url: 'wiki/{processor}' } } }, 'processors.a.runbook_url: must be an http(s) URL', null],
    // pem gaps --format commands gives each date one line: a line break there broke the command.
    ['a backfill command of two lines', { processors: { a: { backfill_command: 'cd jobs\n./rerun {processor} {date}' } } }, 'processors.a.backfill_command: must be one line without control characters (join steps with &&)', null],
    ['a backfill command with a control character', { processors: { a: { backfill_command: 'rerun {processor} {date}\u001b[2J' } } }, 'processors.a.backfill_command: must be one line without control characters', null],
    ['a backfill command with a line separator', { processors: { a: { backfill_command: 'rerun {processor}\u2028{date}' } } }, 'processors.a.backfill_command: must be one line without control characters', null],
    ['a backfill command with a bidirectional control', { processors: { a: { backfill_command: 'rerun {processor} \u202e{date}' } } }, 'processors.a.backfill_command: must be one line without control characters', null],
    ['an unknown route key', { routes: { stats: { slack_webhok_env: 'X' } }, processors: {} }, 'routes.stats.slack_webhok_env: unknown key (did you mean "slack_webhook_env"?)', null],
    ['a route named __proto__', { routes: JSON.parse('{"__proto__": {"slack_webhook_env": "X_URL"}}'), processors: {} }, 'routes.__proto__: route names use letters, digits, "_", "-" and ".", and are not "__proto__"', null],
  ])('refuses %s in one line, exit 2, without echoing a secret', async (_name, registry, message, secret) => {
    const path = writeRegistry(`routes-${_name.replace(/\W+/g, '-')}.json`, registry);
    for (const args of [['config', 'validate', '--config', path], ['check', '--config', path, '--database', join(dir, 'none.duckdb')]]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(message);
      if (secret) expect(run.stderr).not.toContain(secret);
      if (secret) expect(run.stderr).not.toContain('xoxbS3cr3t');
    }
  });
});
