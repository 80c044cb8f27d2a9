import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedRegistry } from '../../src/cli/registry.js';
import { renderGapsTable, type Gap } from '../../src/report/gaps.js';
import { renderBackfillQueueSql } from '../../src/report/queue.js';
import { sqlRenderer } from '../../src/sql/load.js';
import { renderHealthSql } from '../../src/sql/statements.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { startZetaSql, zetaCatalog } from '../support/zetasql.js';
import { STATUS_REGISTRY, STATUS_ROWS, WINDOW_ARGS, XSS } from './fixtures.js';

const PRIORITY_RANK = { high: 0, medium: 1, low: 2 } as const;

/** What `pem gaps` must list, derived from `pem check --json-output` alone (volume anomalies are re-runs too, SPEC §10). */
function gapsFromCheck(check: any): Pick<Gap, 'processor_name' | 'processing_date' | 'status' | 'priority' | 'runs' | 'failed_runs'>[] {
  const reason = (d: any) => ['low_volume', 'high_volume'].find((a) => d.anomalies.includes(a)) ?? d.status;
  const rows = check.processors.flatMap((p: any) =>
    p.days
      .filter((d: any) => ['missing', 'failed', 'hung', 'low_volume', 'high_volume'].includes(reason(d)))
      .map((d: any) => ({ processor_name: p.name, processing_date: d.date, status: reason(d), priority: p.priority, runs: d.runs, failed_runs: d.failed_runs })),
  );
  const blocked = new Set(check.processors.flatMap((p: any) => p.blocked_by.flatMap((b: any) => b.dates.map((d: string) => `${p.name}|${d}`))));
  const isBlocked = (r: any) => Number(blocked.has(`${r.processor_name}|${r.processing_date}`));
  // Cross-check against the date lists of the contract document too.
  const listed = check.processors.flatMap((p: any) =>
    [...p.missing_dates, ...p.failed_dates, ...p.hung_dates, ...p.low_volume_dates, ...p.high_volume_dates].map((d: string) => `${p.name}|${d}`),
  );
  expect(rows.map((r: any) => `${r.processor_name}|${r.processing_date}`).sort()).toEqual(listed.sort());
  return rows.sort(
    (a: any, b: any) =>
      isBlocked(a) - isBlocked(b) ||
      PRIORITY_RANK[a.priority as keyof typeof PRIORITY_RANK] - PRIORITY_RANK[b.priority as keyof typeof PRIORITY_RANK] ||
      (a.processing_date < b.processing_date ? -1 : a.processing_date > b.processing_date ? 1 : 0) ||
      (a.processor_name < b.processor_name ? -1 : a.processor_name > b.processor_name ? 1 : 0),
  );
}

describe('pem gaps', () => {
  let scenario: Scenario;
  let empty: Scenario;
  const gaps = (s: Scenario, args: string[]) => runCli(['gaps', '--config', s.registryPath, '--database', s.databasePath, ...args]);

  beforeAll(async () => {
    scenario = await createScenario(STATUS_REGISTRY, STATUS_ROWS);
    empty = await createScenario({ dataset: 'nba_reference', processors: { a: { priority: 'low' }, b: { priority: 'high' } } });
  });
  afterAll(() => {
    scenario?.cleanup();
    empty?.cleanup();
  });

  it('prints the backfill queue as exact CSV, high priority first, then by date and processor', async () => {
    const { code, stdout, stderr } = await gaps(scenario, [...WINDOW_ARGS, '--format', 'csv']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'processor_name,processing_date,status,priority,revenue_impact,runs,failed_runs,last_error_type,last_error_message,blocked_by',
        'alpha_high,2025-10-03,failed,high,true,1,1,ValueError,"bad ""row"", at line 2",',
        'delta_pending,2025-10-03,missing,high,false,0,0,,,',
        'alpha_high,2025-10-04,missing,high,true,0,0,,,',
        `xss_processor,2025-10-05,failed,medium,false,1,1,${XSS.errorType},"<script>window.__pwned=3</script>, ""quoted"", line1\nline2",`,
        'beta_medium,2025-10-06,hung,medium,false,1,0,,,',
        'beta_medium,2025-10-07,missing,medium,false,0,0,,,',
        'gamma_low,2025-10-06,failed,low,false,1,1,Timeout,took too long,',
        '',
      ].join('\n'),
    );
  });

  it('lists the root upstream\'s dates before the downstream dates they explain, whatever the priorities', async () => {
    const deps = await createScenario(
      {
        dataset: 'nba_reference',
        timezone: 'UTC',
        processors: { up: { priority: 'low', backfill_command: 'run {processor} {date}' }, down: { priority: 'high', depends_on: ['up'], backfill_command: 'run {processor} {date}' }, other: { priority: 'medium' } },
      },
      [],
    );
    try {
      const { stdout } = await gaps(deps, ['--date', '2025-10-07', '--lookback-days', '1', '--now', '2025-10-08T12:00:00Z', '--format', 'csv']);
      expect(stdout.split('\n').slice(1, 4).map((line) => line.split(',').slice(0, 4).join(','))).toEqual([
        'other,2025-10-07,missing,medium',
        'up,2025-10-07,missing,low',
        'down,2025-10-07,missing,high',
      ]);
      // The table marks the date that waits and says why it comes last, high priority though it is.
      const table = await gaps(deps, ['--date', '2025-10-07', '--lookback-days', '1', '--now', '2025-10-08T12:00:00Z']);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines.slice(1, 4).map((line) => line.split(/\s{2,}/).slice(0, 4).join(' | '))).toEqual([
        'medium | 2025-10-07 | other | missing',
        'low | 2025-10-07 | up | missing',
        'high | 2025-10-07 | down | missing ^',
      ]);
      expect(lines.at(-1)).toBe("^ This date waits on an upstream's dates (blocked_by in --format csv or json): listed last, to re-run once the upstream's are.");
      // A script reading the queue sees which upstream a date waits on, as the BigQuery view says it.
      const json = await gaps(deps, ['--date', '2025-10-07', '--lookback-days', '1', '--now', '2025-10-08T12:00:00Z', '--format', 'json']);
      expect(JSON.parse(json.stdout).map((g: Gap) => [g.processor_name, g.blocked_by])).toEqual([['other', null], ['up', null], ['down', 'up']]);
      const registry = await loadCheckedRegistry(deps.registryPath);
      const warehouse = await openDuckDb({ path: deps.databasePath, create: false });
      try {
        const view = await warehouse.query(renderBackfillQueueSql(sqlRenderer('duckdb'), registry), {
          end_date: { type: 'DATE', value: '2025-10-07' },
          lookback_days: { type: 'INT64', value: 1 },
          now: { type: 'TIMESTAMP', value: new Date('2025-10-08T12:00:00Z') },
          processors: { type: 'ARRAY<STRING>', value: registry.processors.map((p) => p.name) },
        });
        expect(view).toEqual(JSON.parse(json.stdout));
      } finally {
        await warehouse.close();
      }
      // Piped into a shell, the waiting date is not re-run before its upstream's: it is a comment.
      const runnable = await gaps(deps, ['--date', '2025-10-07', '--lookback-days', '1', '--now', '2025-10-08T12:00:00Z', '--format', 'commands']);
      expect(runnable.stdout.split('\n')).toEqual([
        '# other 2025-10-07 (missing): no backfill_command in the registry',
        'run up 2025-10-07',
        "# waits on an upstream's date, run it after that one: run down 2025-10-07",
        '',
      ]);
    } finally {
      deps.cleanup();
    }
  });

  it('prints JSON with every field present', async () => {
    const { code, stdout } = await gaps(scenario, [...WINDOW_ARGS, '--format', 'json', '--processors', 'beta_medium,gamma_low']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      { processor_name: 'beta_medium', processing_date: '2025-10-06', status: 'hung', priority: 'medium', revenue_impact: false, runs: 1, failed_runs: 0, last_error_type: null, last_error_message: null, blocked_by: null },
      { processor_name: 'beta_medium', processing_date: '2025-10-07', status: 'missing', priority: 'medium', revenue_impact: false, runs: 0, failed_runs: 0, last_error_type: null, last_error_message: null, blocked_by: null },
      { processor_name: 'gamma_low', processing_date: '2025-10-06', status: 'failed', priority: 'low', revenue_impact: false, runs: 1, failed_runs: 1, last_error_type: 'Timeout', last_error_message: 'took too long', blocked_by: null },
    ]);
  });

  it.each([
    ['the default window', [] as string[]],
    ['a shorter window', ['--lookback-days', '3']],
    ['a longer window', ['--lookback-days', '14']],
    ['named processors, a disabled one included', ['--processors', 'gamma_low,off_processor,alpha_high']],
    ['an earlier evaluation instant', ['--now', '2025-10-07T09:00:00Z']],
  ])('lists exactly the missing, failed and hung dates of pem check for %s', async (_label, extra) => {
    const args = [...WINDOW_ARGS, ...extra];
    const check = await scenario.check([...args, '--json-output', '--dry-run']);
    expect(check.code).toBe(0);
    const expected = gapsFromCheck(check.json);
    expect(expected.length).toBeGreaterThan(0);

    const json = await gaps(scenario, [...args, '--format', 'json']);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as Gap[];
    expect(listed.map(({ processor_name, processing_date, status, priority, runs, failed_runs }) => ({ processor_name, processing_date, status, priority, runs, failed_runs }))).toEqual(expected);

    const csv = await gaps(scenario, [...args, '--format', 'csv']);
    const keys = csv.stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .filter((line) => /^[a-z_]+,\d{4}-/.test(line))
      .map((line) => line.split(',').slice(0, 4).join(','));
    expect(keys).toEqual(expected.map((g) => `${g.processor_name},${g.processing_date},${g.status},${g.priority}`));
  });

  it('lists successes with low or high volume as re-runs due, not slow ones, and the DuckDB view agrees (SPEC §10)', async () => {
    const success = (p: string, date: string, records: number, minutes = 10) => {
      const started = `${new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)}T10:00:00Z`;
      const completed = new Date(Date.parse(started) + minutes * 60_000).toISOString();
      return [
        { run_id: `${p}${date}`, processor_name: p, processing_date: date, status: 'running', started_at: started },
        { run_id: `${p}${date}`, processor_name: p, processing_date: date, status: 'success', started_at: started, completed_at: completed, records_processed: records },
      ];
    };
    const history = ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04'];
    const volume = await createScenario(
      { dataset: 'nba_reference', processors: { v: { priority: 'high', baseline_days: 4, baseline_min_dates: 4, volume_max_ratio: 3 } } },
      [
        ...history.flatMap((d) => success('v', d, 1000)),
        ...success('v', '2025-10-05', 0),
        ...success('v', '2025-10-06', 5000),
        ...success('v', '2025-10-07', 1000, 120),
      ],
    );
    try {
      const args = [...WINDOW_ARGS, '--lookback-days', '3'];
      const check = await volume.check([...args, '--json-output', '--dry-run']);
      expect(check.json.processors[0].slow_dates).toEqual(['2025-10-07']);
      const listed = JSON.parse((await gaps(volume, [...args, '--format', 'json'])).stdout) as Gap[];
      expect(listed.map((g) => `${g.processing_date} ${g.status} ${g.runs}`)).toEqual(['2025-10-05 low_volume 1', '2025-10-06 high_volume 1']);
      expect(listed.map((g) => ({ ...g }))).toMatchObject(gapsFromCheck(check.json));
      const registry = await loadCheckedRegistry(volume.registryPath);
      const warehouse = await openDuckDb({ path: volume.databasePath, create: false });
      try {
        const rows = await warehouse.query(renderBackfillQueueSql(sqlRenderer('duckdb'), registry), {
          end_date: { type: 'DATE', value: '2025-10-07' },
          lookback_days: { type: 'INT64', value: 3 },
          now: { type: 'TIMESTAMP', value: new Date('2025-10-08T12:00:00Z') },
          processors: { type: 'ARRAY<STRING>', value: ['v'] },
        });
        expect(rows).toEqual(listed);
      } finally {
        await warehouse.close();
      }
    } finally {
      volume.cleanup();
    }
  });

  it('lists every due date of a processor that never ran, matching pem check', async () => {
    const args = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--lookback-days', '3'];
    const check = await empty.check([...args, '--json-output', '--dry-run']);
    const listed = JSON.parse((await gaps(empty, [...args, '--format', 'json'])).stdout) as Gap[];
    expect(listed.map((g) => `${g.priority} ${g.processing_date} ${g.processor_name} ${g.status}`)).toEqual([
      'high 2025-10-05 b missing',
      'high 2025-10-06 b missing',
      'high 2025-10-07 b missing',
      'low 2025-10-05 a missing',
      'low 2025-10-06 a missing',
      'low 2025-10-07 a missing',
    ]);
    expect(listed.map((g) => ({ ...g }))).toMatchObject(gapsFromCheck(check.json));
  });

  it('prints an empty CSV (header only) and an empty JSON array when nothing needs a backfill', async () => {
    const args = ['--date', '2025-10-02', '--lookback-days', '2', '--now', '2025-10-08T12:00:00Z', '--processors', 'beta_medium'];
    expect((await gaps(scenario, [...args, '--format', 'csv'])).stdout).toBe(
      'processor_name,processing_date,status,priority,revenue_impact,runs,failed_runs,last_error_type,last_error_message,blocked_by\n',
    );
    expect((await gaps(scenario, [...args, '--format', 'json'])).stdout).toBe('[]\n');
    expect((await gaps(scenario, args)).stdout).toBe('No gaps: nothing to backfill in 2025-10-01 .. 2025-10-02.\n');
  });

  it('prints a readable table by default, with a summary line', async () => {
    const { code, stdout } = await gaps(scenario, WINDOW_ARGS);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PRIORITY\s+DATE\s+PROCESSOR\s+STATUS\s+RUNS\s+FAILED\s+LAST ERROR$/);
    expect(lines[1]).toMatch(/^high \$\s+2025-10-03\s+alpha_high\s+failed\s+1\s+1\s+ValueError: bad "row", at line 2$/);
    expect(lines.at(-1)).toBe(
      '7 dates to backfill across 5 processors in 2025-10-01 .. 2025-10-07 ($ = revenue impact). Machine-readable: --format csv or --format json; runnable: --format commands.',
    );
    // The hostile error's line break does not break the table.
    expect(lines.filter((l) => l.startsWith('medium'))).toHaveLength(3);
  });

  it('rejects an unknown format with exit 2 and one line naming the flag and the choices', async () => {
    const { code, stdout, stderr } = await gaps(scenario, [...WINDOW_ARGS, '--format', 'xml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("error: --format 'xml' is not a format: use table, csv, json, commands, for example --format csv\n");
  });

  it('fails with exit 2 on an unknown processor, like pem check', async () => {
    const { code, stderr } = await gaps(scenario, [...WINDOW_ARGS, '--processors', 'nope']);
    expect(code).toBe(2);
    expect(stderr).toContain("--processors: unknown processor 'nope'");
  });

  it('the DuckDB rendering of the processor_backfill_queue view returns the same rows in the same order', async () => {
    const registry = await loadCheckedRegistry(scenario.registryPath);
    for (const [date, lookback] of [['2025-10-07', 7], ['2025-10-06', 30]] as const) {
      // Closed before the CLI opens the file: one process opens a DuckDB file once at a time.
      const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
      let rows;
      try {
        rows = await warehouse.query(renderBackfillQueueSql(sqlRenderer('duckdb'), registry), {
          end_date: { type: 'DATE', value: date },
          lookback_days: { type: 'INT64', value: lookback },
          now: { type: 'TIMESTAMP', value: new Date('2025-10-08T12:00:00Z') },
          processors: { type: 'ARRAY<STRING>', value: registry.processors.filter((p) => p.enabled).map((p) => p.name) },
        });
      } finally {
        await warehouse.close();
      }
      const cli = await gaps(scenario, ['--date', date, '--lookback-days', String(lookback), '--now', '2025-10-08T12:00:00Z', '--format', 'json']);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(JSON.parse(cli.stdout));
    }
  });

  it('renders the BigQuery view over the deployed table function, for today in the registry time zone', async () => {
    const registry = await loadCheckedRegistry(scenario.registryPath);
    const sql = renderBackfillQueueSql(sqlRenderer('bigquery'), registry);
    expect(sql).toContain('FROM `nba_reference.processor_health_daily`(CURRENT_DATE("America/New_York"), 30) AS h');
    expect(renderBackfillQueueSql(sqlRenderer('bigquery'), registry, 14)).toContain('(CURRENT_DATE("America/New_York"), 14) AS h');
    expect(sql).toContain("WHERE h.day_status IN ('missing', 'failed', 'hung')");
    // A view has no parameters, and the registry is not spliced in (the table function has it).
    expect(sql).not.toMatch(/[@$](end_date|lookback_days|now|processors)\b/);
    expect(sql).not.toContain('alpha_high');
  });
});

describe('the BigQuery view processor_backfill_queue', () => {
  let scenario: Scenario | undefined;
  afterAll(() => scenario?.cleanup());

  /** The columns of processor_health_daily that the view reads, as BigQuery types. */
  const HEALTH_COLUMNS = {
    processor_name: 'STRING',
    processing_date: 'DATE',
    day_status: 'STRING',
    priority: 'STRING',
    revenue_impact: 'BOOL',
    runs: 'INT64',
    failed_runs: 'INT64',
    last_error_type: 'STRING',
    last_error_message: 'STRING',
    is_low_volume: 'BOOL',
    is_high_volume: 'BOOL',
    blocked_by: 'STRING',
  };

  it('returns, on BigQuery\'s reference evaluator (ZetaSQL), the rows and order of pem gaps for the same health rows', async () => {
    scenario = await createScenario(STATUS_REGISTRY, STATUS_ROWS);
    const registry = await loadCheckedRegistry(scenario.registryPath);
    const enabled = registry.processors.filter((p) => p.enabled).map((p) => p.name);
    // The health rows the deployed table function would return for this window (enabled processors).
    const warehouse = await openDuckDb({ path: scenario.databasePath, create: false });
    let health;
    try {
      health = await warehouse.query(renderHealthSql('duckdb', registry), {
        end_date: { type: 'DATE', value: '2025-10-07' },
        lookback_days: { type: 'INT64', value: 30 },
        now: { type: 'TIMESTAMP', value: new Date('2025-10-08T12:00:00Z') },
        processors: { type: 'ARRAY<STRING>', value: enabled },
      });
    } finally {
      await warehouse.close();
    }
    const rows = health.map((r) => Object.fromEntries(Object.keys(HEALTH_COLUMNS).map((c) => [c, r[c]])));

    const zeta = await startZetaSql();
    try {
      // The deployed function's call, replaced by a table of the rows it returns for this window
      // (a stand-in: the evaluator's "today" is not the scenario's).
      const call = '`nba_reference.processor_health_daily`(CURRENT_DATE("America/New_York"), 30)';
      const view = renderBackfillQueueSql(sqlRenderer('bigquery'), registry);
      expect(view.split(call)).toHaveLength(2);
      const sql = view.replace(call, '`nba_reference.health_rows`');
      const catalog = zetaCatalog({ 'nba_reference.health_rows': HEALTH_COLUMNS });
      expect(await zeta.analyze('SELECT CURRENT_DATE("America/New_York") AS today', { catalog })).toMatchObject({ ok: true });
      const result = await zeta.evaluate(sql, { catalog, content: { 'nba_reference.health_rows': rows } });
      const cli = await runCli([
        'gaps', '--config', scenario.registryPath, '--database', scenario.databasePath,
        '--date', '2025-10-07', '--lookback-days', '30', '--now', '2025-10-08T12:00:00Z', '--format', 'json',
      ]);
      expect(result.columns.map((c) => `${c.name} ${c.type}`)).toEqual(
        ['processor_name STRING', 'processing_date DATE', 'status STRING', 'priority STRING', 'revenue_impact BOOL', 'runs INT64', 'failed_runs INT64', 'last_error_type STRING', 'last_error_message STRING', 'blocked_by STRING'],
      );
      expect(result.rows.length).toBeGreaterThan(0);
      expect(result.rows).toEqual(JSON.parse(cli.stdout));
    } finally {
      zeta.close();
    }
  }, 60_000);
});

describe('the gaps table', () => {
  it('shows control characters from run history as ?, never as terminal escapes', () => {
    const text = renderGapsTable(
      [
        {
          processor_name: 'a',
          processing_date: '2025-10-01',
          status: 'failed',
          priority: 'low',
          revenue_impact: false,
          runs: 1,
          failed_runs: 1,
          last_error_type: 'E',
          last_error_message: 'red \u001b[31malert\u0007',
          blocked_by: null,
        },
      ],
      { start: '2025-10-01', end: '2025-10-01' },
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('E: red ?[31malert?');
  });

  it('shows bidirectional controls as ?, so a message cannot read reversed or as another line (Trojan Source)', () => {
    const gap = { processor_name: 'a', processing_date: '2025-10-01', status: 'failed', priority: 'low', revenue_impact: false, runs: 1, failed_runs: 1, last_error_type: 'E', blocked_by: null } as const;
    const text = renderGapsTable([{ ...gap, last_error_message: 'x \u202Edesrever\u202C, \u2066isolated\u2069, \u200Fmark' }], { start: '2025-10-01', end: '2025-10-01' });
    expect(text).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('E: x ?desrever?, ?isolated?, ?mark');
  });

  it('keeps its columns at 40 characters of processor: a longer key is whole on a line of its own, its row under the header', () => {
    const gap = { processing_date: '2025-10-01', status: 'failed', priority: 'low', revenue_impact: false, runs: 1, failed_runs: 1, last_error_type: 'E', last_error_message: 'boom', blocked_by: null } as const;
    const long = `${'very_long_processor_name_'.repeat(4)}x`;
    const text = renderGapsTable([{ ...gap, processor_name: 'short' }, { ...gap, processor_name: long }], { start: '2025-10-01', end: '2025-10-01' });
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      `PRIORITY  DATE        ${'PROCESSOR'.padEnd(40)}  STATUS  RUNS  FAILED  LAST ERROR`,
      `low       2025-10-01  ${'short'.padEnd(40)}  failed  1     1       E: boom`,
      `low       2025-10-01  ${long}`,
      `${' '.repeat(64)}failed  1     1       E: boom`,
    ]);
    // Short keys only: the column is as wide as they need.
    expect(renderGapsTable([{ ...gap, processor_name: 'short' }], { start: '2025-10-01', end: '2025-10-01' }).split('\n')[0]).toBe('PRIORITY  DATE        PROCESSOR  STATUS  RUNS  FAILED  LAST ERROR');
  });
});

describe('pem gaps --format commands (SPEC §11)', () => {
  let commands: Scenario;
  beforeAll(async () => {
    const registry = structuredClone(STATUS_REGISTRY) as { processors: Record<string, Record<string, unknown>> };
    registry.processors.alpha_high!.backfill_command = 'gcloud run jobs execute alpha --region=us-west2 --args=--date={date}';
    // A tab between words (the registry keeps it: whitespace to a shell) stays a tab, not a `?` that a shell would glob.
    registry.processors.beta_medium!.backfill_command = "pem-rerun\t{processor} --date '{date}'";
    commands = await createScenario(registry, STATUS_ROWS);
  });
  afterAll(() => commands.cleanup());

  it('prints one runnable line per gap in queue order, and a # line where the processor has no backfill_command', async () => {
    const { code, stdout, stderr } = await runCli(['gaps', '--config', commands.registryPath, '--database', commands.databasePath, ...WINDOW_ARGS, '--format', 'commands']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'gcloud run jobs execute alpha --region=us-west2 --args=--date=2025-10-03',
      '# delta_pending 2025-10-03 (missing): no backfill_command in the registry',
      'gcloud run jobs execute alpha --region=us-west2 --args=--date=2025-10-04',
      '# xss_processor 2025-10-05 (failed): no backfill_command in the registry',
      "pem-rerun\tbeta_medium --date '2025-10-06'",
      "pem-rerun\tbeta_medium --date '2025-10-07'",
      '# gamma_low 2025-10-06 (failed): no backfill_command in the registry',
      '',
    ]);
  });
});
