/**
 * `pem check --engine bigquery` end to end: the CLI, the real BigQuery client and a loopback
 * stand-in of the REST API that answers like BigQuery would — it analyzes each statement with
 * ZetaSQL (the parameter types as sent) and evaluates it on ZetaSQL's reference evaluator over
 * the fixture, through the table function and config table that Dataform deploys. The JSON must
 * be the one `pem check` prints on DuckDB for the same rows.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../src/config/registry.js';
import { renderCheckSql, renderSchemaSql } from '../../src/sql/statements.js';
import { runCli } from '../support/cli.js';
import type { Scenario } from '../support/scenario.js';
import { startZetaSql, type ZetaSql } from '../support/zetasql.js';
import { duckDbScenario, registryOf } from './support/fixtures.js';
import { guardLoopback, type LoopbackGuard } from './support/loopback-guard.js';
import { BigQueryRestError, startBigQueryStandIn, unreachableUrl, type StandIn } from './support/rest-standin.js';
import { SCENARIOS } from './support/scenarios.js';
import { zetaBackedStandIn } from './support/zeta-standin.js';

let zeta: ZetaSql;
let guard: LoopbackGuard;
beforeAll(async () => {
  guard = guardLoopback();
  zeta = await startZetaSql();
});
afterAll(() => {
  zeta?.close();
  guard?.restore();
});

const CASES = SCENARIOS.flatMap((s) => s.checks.slice(0, 1).map((check) => ({ name: s.name, fixture: s.fixture, check })));
// The disabled processor, named explicitly.
CASES.push({ name: 'a disabled processor named with --processors', fixture: SCENARIOS[0]!.fixture, check: SCENARIOS[0]!.checks[2]! });

describe.each(CASES)('pem check --engine bigquery: $name', ({ fixture, check }) => {
  let scenario: Scenario;
  let registry: Registry;
  let standIn: StandIn;
  let analyzed: { sql: string; kind: string }[];
  beforeAll(async () => {
    scenario = await duckDbScenario(fixture);
    registry = registryOf(fixture);
    ({ standIn, analyzed } = await zetaBackedStandIn(zeta, fixture, registry));
  });
  afterAll(async () => {
    await standIn?.close();
    scenario?.cleanup();
  });

  it('prints the same JSON as on DuckDB, from one typed query through the table function', async () => {
    const args = ['--json-output', '--dry-run', '--date', check.date, '--lookback-days', String(check.lookback), '--now', check.now];
    if (check.processors) args.push('--processors', check.processors.join(','));
    const duck = await scenario.check(args);
    expect(duck.code, duck.stderr).toBe(0);

    const bigquery = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', ...args], {
      env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url },
    });
    expect(bigquery.stderr).not.toMatch(/^error:/m);
    // The deployed registry is this one: its config rows, read back as BigQuery's JSON, differ in nothing.
    expect(bigquery.stderr).not.toContain('Dataform deployed');
    expect(bigquery.code).toBe(0);
    expect(JSON.parse(bigquery.stdout)).toEqual(duck.json);

    // The detection, one query; and, as a dry run with no destination, the active silences (it says
    // which alerts a silence holds), read after it.
    expect(standIn.queries).toHaveLength(2);
    const [query, silences] = standIn.queries;
    expect(query!.sql).toBe(renderCheckSql('bigquery', registry));
    expect(silences!.sql).toContain('pem_alert_silences');
    expect(query!.params.map((p) => [p.name, p.type])).toEqual([
      ['end_date', 'DATE'],
      ['lookback_days', 'INT64'],
      ['now', 'TIMESTAMP'],
      ['processors', 'ARRAY<STRING>'],
    ]);
    expect(query!.params.find((p) => p.name === 'end_date')!.value).toBe(check.date);
    expect(analyzed.map((a) => a.kind)).toEqual(['query_stmt', 'query_stmt']);
  });
});

describe('pem check --engine bigquery, alerting for real', () => {
  it.each([
    ['', 'upgraded'],
    [' on a state table deployed before lookback_days (it warns, and writes what the table has)', 'older'],
    [' when its role cannot read the state table\'s schema (it warns, and writes without the window)', 'schema refused'],
  ] as const)('sends only valid BigQuery: the detection, alert-state reads, claims and appends%s', async (_label, table) => {
    const upgraded = table === 'upgraded';
    const fixture = SCENARIOS[0]!.fixture;
    const registry = registryOf(fixture);
    const scenario = await duckDbScenario(fixture);
    const { standIn, analyzed, catalog, refusedTables, content } = await zetaBackedStandIn(zeta, fixture, registry);
    // tables.get answers from the catalog: without the column, as BigQuery would for an older table.
    if (table === 'older') {
      delete catalog.tables[`${registry.dataset}.pem_alert_state`]!.lookback_days;
      delete catalog.tables[`${registry.dataset}.pem_alert_state`]!.raised_lookback_days;
    }
    if (table === 'schema refused') {
      refusedTables.set(`${registry.dataset}.pem_alert_state`, new BigQueryRestError('Access Denied: Table pem-test:nba_reference.pem_alert_state: Permission bigquery.tables.get denied', 403, 'accessDenied'));
    }
    const delivered: string[] = [];
    const receiver = createServer((request, response) => {
      delivered.push(request.url ?? '');
      request.resume();
      request.on('end', () => {
        if (request.url === '/slack') response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        else response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed","dedup_key":"k"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    try {
      const env = {
        PEM_BIGQUERY_API_ENDPOINT: standIn.url,
        SLACK_WEBHOOK_URL: `${base}/slack`,
        PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY0000000000000000000000',
        PAGERDUTY_EVENTS_URL: `${base}/pagerduty`,
      };
      const args = ['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-10-07', '--now', '2025-10-07T12:00:00Z'];
      const run = await runCli(args, { env });
      expect(run.stderr).not.toMatch(/^error:/m);
      expect(run.code).toBe(0);
      expect(delivered).toContain('/slack');
      expect(delivered).toContain('/pagerduty');
      const kinds = analyzed.map((a) => a.kind);
      expect(kinds[0]).toBe('query_stmt');
      expect(kinds).toContain('insert_stmt');
      // Every statement was analyzed before it was answered; a rejected one would have failed the run.
      expect(analyzed).toHaveLength(standIn.queries.length);
      const inserts = standIn.queries.filter((q) => q.sql.startsWith('INSERT')).map((q) => q.sql);
      expect(inserts.length).toBeGreaterThan(0);
      expect(inserts.every((sql) => sql.includes('lookback_days'))).toBe(upgraded);
      // What BigQuery stored: the check's window length (7), the one each issue was raised with (7: all new).
      const notified = content[`${registry.dataset}.pem_alert_state`]!.filter((row) => row.event === 'notified');
      expect(notified.length).toBeGreaterThan(0);
      const lengths = new Set(notified.map((row) => `${row.lookback_days ?? 'NULL'}/${row.raised_lookback_days ?? 'NULL'}`));
      expect([...lengths]).toEqual([upgraded ? '7/7' : 'NULL/NULL']);
      expect(run.stderr.includes('lacks the window length columns lookback_days, raised_lookback_days (made by an older pem)')).toBe(table === 'older');
      expect(run.stderr.includes('Permission bigquery.tables.get denied; writing nba_reference.pem_alert_state without the window length columns')).toBe(table === 'schema refused');

      // The state written through BigQuery is read back: a second run re-sends nothing.
      const sent = delivered.length;
      const again = await runCli(args, { env });
      expect(again.code).toBe(0);
      expect(delivered).toHaveLength(sent);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await standIn.close();
      scenario.cleanup();
    }
  });
});

describe('pem check --engine bigquery with a registry ahead of the deployment', () => {
  it('checks the processors Dataform deployed, alerts on them, then fails in one line naming the others: an added processor does not stop every alert', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const deployed = registryOf(fixture);
    const { standIn } = await zetaBackedStandIn(zeta, fixture, deployed);
    const ahead = { ...fixture, registry: { ...fixture.registry, processors: { ...(fixture.registry.processors as object), zz_new: {}, aa_new: {} } } };
    const scenario = await duckDbScenario(ahead);
    try {
      const args = ['--date', '2025-06-03', '--dry-run', '--json-output'];
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', ...args], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^error: BigQuery project pem-test \(US\): not deployed to BigQuery \(run the Dataform project\): aa_new, zz_new; \d+ other processors checked$/);
      // The deployed processors' document, as a check of the deployed registry alone gives it.
      const document = JSON.parse(run.stdout);
      const alone = await runCli(['check', '--config', writeRegistry(scenario, fixture.registry), '--engine', 'bigquery', '--project', 'pem-test', ...args], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(alone.code, alone.stderr).toBe(0);
      expect(document.processors).toEqual(JSON.parse(alone.stdout).processors);
      expect(document.processors.map((p: any) => p.name)).not.toContain('aa_new');
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });

  it('fails in one line when the deployment knows none of the processors asked', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const { standIn } = await zetaBackedStandIn(zeta, fixture, registryOf(fixture));
    const ahead = { ...fixture, registry: { ...fixture.registry, processors: { ...(fixture.registry.processors as object), zz_new: {}, aa_new: {} } } };
    const scenario = await duckDbScenario(ahead);
    try {
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03', '--dry-run', '--processors', 'aa_new,zz_new'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: BigQuery project pem-test \(US\): .*not deployed to BigQuery \(run the Dataform project\): aa_new, zz_new$/);
      expect(standIn.queries).toHaveLength(1);
      // pem gaps, which has no alerts to send, fails on any processor not deployed.
      const gaps = await runCli(['gaps', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url },
      });
      expect([gaps.code, gaps.stderr.trim()]).toEqual([1, 'error: BigQuery project pem-test (US): not deployed to BigQuery (run the Dataform project): aa_new, zz_new']);
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });
});

/** A registry document written beside the scenario's, for a second check. */
function writeRegistry(scenario: Scenario, registry: unknown): string {
  const path = `${scenario.dir}/deployed-registry.json`;
  writeFileSync(path, JSON.stringify(registry));
  return path;
}

describe('pem check --engine bigquery before the Dataform workflow has run', () => {
  it('says in its one line to run the Dataform workflow, which makes what the check reads (pem schema apply does not)', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const scenario = await duckDbScenario(fixture);
    // What BigQuery answers when only `pem schema apply` made the dataset's tables.
    const standIn = await startBigQueryStandIn({
      answer: () => {
        throw new BigQueryRestError('Not found: Table pem-test:nba_reference.processor_last_success was not found in location US', 404, 'notFound');
      },
    });
    try {
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03', '--dry-run'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr).toBe(
        'error: BigQuery project pem-test (US): Not found: Table pem-test:nba_reference.processor_last_success was not found in location US ' +
          '(the Dataform project makes it, and pem reads it on BigQuery: run its workflow, docs/deployment.md "Run the Dataform workflow by hand")\n',
      );
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });
});

describe('pem check --engine bigquery with a registry whose settings differ from the deployed one', () => {
  it('warns naming each difference, and sends an alert its local threshold would hold but the deployment never counted', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const deployed = registryOf(fixture);
    const { standIn } = await zetaBackedStandIn(zeta, fixture, deployed);
    const processors = fixture.registry.processors as Record<string, object>;
    const changed = {
      ...fixture,
      registry: {
        ...fixture.registry,
        processors: { ...processors, careful: { ...processors.careful, alert_after_dates: 2, alert_within_dates: 3 }, relaxed: { ...processors.relaxed, staleness_threshold_days: 9, owners: ['@data-platform'] } },
      },
    };
    const scenario = await duckDbScenario(changed);
    try {
      const run = await runCli(
        ['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03', '--now', '2025-06-04T12:00:00Z', '--dry-run', '--json-output'],
        { env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' } },
      );
      expect(run.code).toBe(0);
      const warnings = run.stderr.split('\n').filter((line) => line.includes('Dataform deployed'));
      // Owners are the runner's own: no difference to detection.
      expect(warnings).toEqual([
        `warning: BigQuery detects with the registry Dataform deployed, which differs from ${scenario.registryPath}: ` +
          'processors.careful.alert_after_dates (deployed none, here 2), processors.careful.alert_within_dates (deployed none, here 3), ' +
          'processors.relaxed.staleness_threshold_days (deployed 2, here 9); this check used the deployed values for detection: ' +
          'run the Dataform workflow to deploy this registry (docs/deployment.md "Run the Dataform workflow by hand")',
      ]);
      const careful = JSON.parse(run.stdout).alerts.find((alert: { processor: string }) => alert.processor === 'careful');
      expect(careful).toMatchObject({ level: 'ERROR', reason: 'dry_run' });
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });

  it('says nothing when the registry is the deployed one', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const { standIn } = await zetaBackedStandIn(zeta, fixture, registryOf(fixture));
    const scenario = await duckDbScenario(fixture);
    try {
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03', '--now', '2025-06-04T12:00:00Z', '--dry-run', '--json-output'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(run.code).toBe(0);
      expect(run.stderr).not.toContain('Dataform deployed');
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });
});

describe('pem check --engine bigquery against an endpoint that answers with no rows', () => {
  it('fails in one line instead of reporting every processor healthy (an emulator or a proxy answering something else)', async () => {
    const fixture = SCENARIOS[1]!.fixture;
    const scenario = await duckDbScenario(fixture);
    const standIn = await startBigQueryStandIn({ answer: () => ({ columns: [{ name: 'processor_name', type: 'STRING' }], rows: [] }) });
    try {
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-06-03', '--dry-run'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url, PEM_RECORD_SELF: 'off' },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: BigQuery project pem-test \(US\) answered the check with no rows for \d+ of the \d+ processors asked \(.+\): not the answer of pem's statement\n$/);
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });
});

describe('pem schema apply --engine bigquery', () => {
  it('sends the dataset and the partitioned, clustered run-history DDL, both valid BigQuery', async () => {
    const fixture = SCENARIOS[0]!.fixture;
    const registry = registryOf(fixture);
    const scenario = await duckDbScenario(fixture);
    const { standIn, analyzed } = await zetaBackedStandIn(zeta, fixture, registry);
    try {
      const run = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url },
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const statements = renderSchemaSql('bigquery', registry);
      expect(standIn.queries.map((q) => q.sql)).toEqual(statements);
      // Every statement was accepted by ZetaSQL before the stand-in answered.
      expect(analyzed.map((a) => a.kind)).toEqual(['create_schema_stmt', ...statements.slice(1).map((s) => (s.startsWith('ALTER') ? 'alter_table_stmt' : 'create_table_stmt'))]);
      expect(standIn.queries[1]!.sql).toMatch(/PARTITION BY processing_date\s+CLUSTER BY processor_name, status/);
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });

  it('exits 2 naming the columns when the run-history table already exists with other types', async () => {
    const fixture = SCENARIOS[0]!.fixture;
    const registry = registryOf(fixture);
    const scenario = await duckDbScenario(fixture);
    const { standIn, catalog } = await zetaBackedStandIn(zeta, fixture, registry);
    const runHistory = catalog.tables[`${registry.dataset}.processor_run_history`]!;
    runHistory.status = 'INT64';
    runHistory.started_at = 'STRING';
    try {
      const run = await runCli(['schema', 'apply', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url },
      });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `error: ${registry.dataset}.processor_run_history in BigQuery project pem-test (US) already exists with other columns than the run history's (SPEC §2): ` +
          'status is INT64, not STRING; started_at is STRING, not TIMESTAMP: rename or drop it, or use another dataset\n',
      );
      // Refused before any DDL ran: only the column reads reached BigQuery.
      expect(standIn.queries.every((q) => !/^\s*(CREATE|ALTER)\b/i.test(q.sql))).toBe(true);
    } finally {
      await standIn.close();
      scenario.cleanup();
    }
  });
});

describe('pem check --engine bigquery when BigQuery cannot be reached', () => {
  it('exits 1 with one line naming the endpoint failure, no stack trace', async () => {
    const url = await unreachableUrl();
    const scenario = await duckDbScenario(SCENARIOS[0]!.fixture);
    try {
      const started = Date.now();
      // Without the monitor's own run record, which reports its failure to write on a line of its own.
      const run = await runCli(['check', '--config', scenario.registryPath, '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-10-07'], {
        env: { PEM_BIGQUERY_API_ENDPOINT: url, PEM_RECORD_SELF: 'off' },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/BigQuery project pem-test \(US\): .*ECONNREFUSED/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      // Refused connections are not retried: nothing listens there. Three retries would wait
      // 1 + 2 + 4 s (DEFAULT_RETRY) before the last attempt; the process's own start, under load,
      // gets the rest (test/bigquery/adapter.test.ts proves "no retry at all" without a clock race).
      expect(Date.now() - started).toBeLessThan(7_000);
    } finally {
      scenario.cleanup();
    }
  });
});

describe('network', () => {
  it('never left loopback: no Google API, OAuth token or metadata server was contacted', () => {
    expect(guard.hosts().length).toBeGreaterThan(0);
    expect(guard.outside()).toEqual([]);
  });
});
