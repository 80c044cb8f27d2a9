/**
 * deploy/deploy.sh without Google Cloud. Two ways in:
 *
 * - `--dry-run` with a controlled environment and a PATH holding no tools at all (no gcloud, not
 *   even coreutils), asserting the printed commands;
 * - the printed lines, and the script in real mode, run against recording stand-ins for gcloud,
 *   bq, curl and node on PATH (each writes its argv to a log), once with nothing deployed yet
 *   and once with everything already there. That proves the printed lines are exactly what a
 *   real run executes, that their quoting survives a shell, and the create-or-update structure.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './dockerfile.js';

const SCRIPT = join(REPO_ROOT, 'deploy', 'deploy.sh');
const BASH = ['/bin/bash', '/usr/bin/bash'].find((path) => existsSync(path)) ?? 'bash';
const scratch = mkdtempSync(join(tmpdir(), 'pem-deploy-'));
const EMPTY_PATH = join(scratch, 'empty-bin');
const FAKE_PATH = join(scratch, 'fake-bin');
const FAKE_TOKEN = 'ya29.fake-access-token';
const PROJECT = 'nba-monitoring';
const JOB_SA = `pem-job@${PROJECT}.iam.gserviceaccount.com`;
const SCHEDULER_SA = `pem-scheduler@${PROJECT}.iam.gserviceaccount.com`;
const DATAFORM_SA = `pem-dataform@${PROJECT}.iam.gserviceaccount.com`;
const BUILD_SA = `pem-build@${PROJECT}.iam.gserviceaccount.com`;
const DEPLOYER = 'user:deployer@example.com';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Every run here is a spawnSync, which blocks this worker's event loop: after each test, let it
// read vitest's RPC replies (an I/O phase), or a long file starves them past vitest's 60 s limit
// ("Timeout calling onTaskUpdate") on a busy machine.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

// A recording stand-in: appends its name and argv (NUL-separated, one record per call) to
// $FAKE_LOG. Lookups (describe, show, GET) succeed only when FAKE_EXISTS=1, and otherwise fail the
// way the real tools report NOT_FOUND; FAKE_LOOKUP_ERROR makes every lookup fail with that text
// instead. FAKE_FAIL (a prefix of `tool args…`) fails matching calls with FAKE_FAIL_MESSAGE, the
// first FAKE_FAIL_TIMES times (every time when unset).
const FAKE_TOOL = `#!${BASH}
tool=\${0##*/}
{ printf '%s\\0' "$tool" "$@"; printf '\\036'; } >>"$FAKE_LOG"
line="$tool $*"
if [[ -n \${FAKE_FAIL:-} && $line == "$FAKE_FAIL"* ]]; then
  count=0
  [[ ! -f $FAKE_LOG.fails ]] || read -r count <"$FAKE_LOG.fails"
  count=$((count + 1))
  printf '%s\\n' "$count" >"$FAKE_LOG.fails"
  if [[ -z \${FAKE_FAIL_TIMES:-} || $count -le $FAKE_FAIL_TIMES ]]; then printf '%s\\n' "$FAKE_FAIL_MESSAGE" >&2; exit 1; fi
fi
lookup() {
  [[ \${FAKE_EXISTS:-0} == 1 && -z \${FAKE_LOOKUP_ERROR:-} ]] && return 0
  printf '%s\\n' "\${FAKE_LOOKUP_ERROR:-$1}" >&2
  exit "$2"
}
case "$line" in
  "gcloud auth print-access-token"*) printf '%s\\n' '${FAKE_TOKEN}' ;;
  "gcloud auth application-default print-access-token"*)
    [[ \${FAKE_NO_ADC:-0} == 0 ]] || { printf '%s\\n' 'ERROR: (gcloud.auth.application-default.print-access-token) Your default credentials were not found.' >&2; exit 1; }
    printf '%s\\n' 'ya29.fake-adc-token' ;;
  "gcloud projects describe"*) printf '%s\\n' 424242424242 ;;
  "gcloud config get-value project"*) printf '%s\\n' "$FAKE_PROJECT" ;;
  "gcloud config get-value account"*) printf '%s\\n' "\${FAKE_ACCOUNT-deployer@example.com}" ;;
  "gcloud services list"*) printf '%s\\n' \${FAKE_ENABLED_APIS:-} ;;
  "node "*source-datasets.mjs*) printf '%s\\n' \${FAKE_SOURCE_DATASETS:-} ;;
  "curl "*":testIamPermissions")
    while [[ $# -gt 0 && $1 != --data ]]; do shift; done
    body=$2
    for permission in \${FAKE_DENIED:-}; do body=\${body//\\"$permission\\"/}; done
    printf '%s\\n' "$body" ;;
  "gcloud secrets versions describe"*)
    for secret in \${FAKE_MISSING_SECRETS:-}; do
      [[ $line != *" --secret=$secret "* ]] || { printf 'ERROR: (gcloud.secrets.versions.describe) NOT_FOUND: Secret [projects/424242424242/secrets/%s] not found or has no versions.\\n' "$secret" >&2; exit 1; }
    done ;;
  "gcloud storage buckets describe"*) lookup "ERROR: (gcloud.storage.buckets.describe) gs://bucket not found: 404." 1 ;;
  *" describe "*) lookup "ERROR: (gcloud.\${2:-x}.describe) NOT_FOUND: Requested entity was not found." 1 ;;
  "bq show "*) lookup "BigQuery error in show operation: Not found: Dataset \${*: -1}" 1 ;;
  "curl -sSf "*) lookup "curl: (22) The requested URL returned error: 404" 22 ;;
esac
exit 0
`;

for (const dir of [EMPTY_PATH, FAKE_PATH]) mkdirSync(dir, { recursive: true });
for (const tool of ['gcloud', 'bq', 'curl', 'node']) {
  const path = join(FAKE_PATH, tool);
  writeFileSync(path, FAKE_TOOL);
  chmodSync(path, 0o755);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function deploy(args: string[], env: Record<string, string> = {}, path = EMPTY_PATH): Run {
  const run = spawnSync(BASH, [SCRIPT, ...args], { env: { PATH: path, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const BASE_ENV = { PROJECT_ID: PROJECT };

function dryRun(env: Record<string, string> = {}, args: string[] = []): string[] {
  const run = deploy(['--dry-run', ...args], { ...BASE_ENV, ...env });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** Runs shell text with the recording tools on PATH; returns every recorded argv. */
function execute(script: string, options: { exists: boolean; env?: Record<string, string> }): { calls: string[][]; run: Run } {
  const log = join(scratch, `calls-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const env = { PATH: FAKE_PATH, FAKE_LOG: log, FAKE_EXISTS: options.exists ? '1' : '0', FAKE_PROJECT: PROJECT, ...options.env };
  const run = spawnSync(BASH, ['-euo', 'pipefail', '-c', script], { env, encoding: 'utf8', timeout: 30_000 });
  return { calls: readCalls(log), run: { code: run.status, stdout: run.stdout, stderr: run.stderr } };
}

function readCalls(log: string): string[][] {
  return readFileSync(log, 'utf8')
    .split('\u001e')
    .filter(Boolean)
    .map((record) => record.split('\0').slice(0, -1));
}

/** The calls that only read (lookups, lists, token and account requests, permission tests). */
const readOnly = (call: string[]) =>
  call.includes('describe') ||
  (call[0] === 'bq' && call[1] === 'show') ||
  call.includes('print-access-token') ||
  (call[0] === 'gcloud' && call[1] === 'config' && call[2] === 'get-value') ||
  (call[0] === 'gcloud' && call[1] === 'services' && call[2] === 'list') ||
  (call[0] === 'curl' && call[1] === '-sSf') ||
  (call[0] === 'curl' && call.at(-1)!.endsWith(':testIamPermissions')) ||
  (call[0] === 'node' && call[1]!.endsWith('source-datasets.mjs'));
/** The calls that change something. */
const mutations = (calls: string[][]) => calls.filter((call) => !readOnly(call));

const flag = (call: string[], name: string) => call.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
const find = (calls: string[][], ...prefix: string[]) => calls.filter((call) => prefix.every((word, index) => call[index] === word));
const one = (calls: string[][], ...prefix: string[]) => {
  const found = find(calls, ...prefix);
  expect(found, prefix.join(' ')).toHaveLength(1);
  return found[0]!;
};

/** Every role granted to a member, with the resource it is granted on. */
function grants(calls: string[][], member: string): string[] {
  return calls
    .filter((call) => call.some((arg) => arg.includes('add-iam-policy-binding')) && flag(call, '--member') === `serviceAccount:${member}`)
    .map((call) => {
      const role = flag(call, '--role');
      if (call[0] === 'bq') return `${role} on ${call.includes('--table') ? 'table' : 'dataset'} ${call.at(-1)}`;
      const verb = call.indexOf('add-iam-policy-binding');
      return `${role} on ${call.slice(1, verb).join(' ')} ${call[verb + 1]}`;
    })
    .sort();
}

describe('deploy.sh --dry-run', () => {
  it('needs no gcloud nor any other tool on PATH', () => {
    const run = deploy(['--dry-run'], BASE_ENV, EMPTY_PATH);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('prints one runnable shell line per command, and nothing else', () => {
    const run = deploy(['--dry-run'], BASE_ENV);
    const syntax = spawnSync(BASH, ['-n'], { input: run.stdout, encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      expect(line).toMatch(/^(# |absent\(\) \{ |gcloud |bq |node |if |for dataset in |PROJECT_NUMBER=|DEPLOYER=|SOURCE_DATASETS=)/);
    }
  });

  it('uses the documented defaults: us-west2, processor-execution-monitor, nba_reference', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    const job = one(calls, 'gcloud', 'run', 'jobs', 'deploy');
    expect(job[4]).toBe('processor-execution-monitor');
    expect(flag(job, '--region')).toBe('us-west2');
    expect(flag(job, '--project')).toBe(PROJECT);
    expect(flag(job, '--image')).toBe(`us-west2-docker.pkg.dev/${PROJECT}/pem/processor-execution-monitor:latest`);
    expect(flag(job, '--service-account')).toBe(JOB_SA);
    expect(flag(job, '--set-env-vars')).toBe(`PEM_ENGINE=bigquery,GOOGLE_CLOUD_PROJECT=${PROJECT},PEM_BIGQUERY_LOCATION=US`);
    expect(flag(job, '--args')).toBe('');
    const schema = one(calls, 'node', join(REPO_ROOT, 'bin', 'pem.js'));
    expect(schema.slice(1, 5)).toEqual([join(REPO_ROOT, 'bin', 'pem.js'), 'schema', 'apply', '--engine=bigquery']);
  });

  it('takes every setting from the environment', () => {
    const env = {
      GOOGLE_CLOUD_PROJECT: 'other-project',
      PROJECT_ID: '',
      REGION: 'europe-west1',
      JOB_NAME: 'pem-nightly',
      DATASET: 'ops_monitoring',
      BQ_LOCATION: 'EU',
      IMAGE: 'europe-docker.pkg.dev/x/y/pem:1.2.3',
      SCHEDULE: '*/30 * * * *',
      TIME_ZONE: 'Europe/Paris',
      MAX_RETRIES: '0',
      TASK_TIMEOUT: '900s',
      MEMORY: '1Gi',
      WRITABLE_TABLES: 'pem_alert_state',
      DATAFORM: 'false',
    };
    const { calls } = execute(dryRun(env).join('\n'), { exists: false });
    const job = one(calls, 'gcloud', 'run', 'jobs', 'deploy');
    expect([job[4], flag(job, '--region'), flag(job, '--project'), flag(job, '--image')]).toEqual(['pem-nightly', 'europe-west1', 'other-project', 'europe-docker.pkg.dev/x/y/pem:1.2.3']);
    expect([flag(job, '--max-retries'), flag(job, '--task-timeout'), flag(job, '--memory')]).toEqual(['0', '900s', '1Gi']);
    expect(flag(job, '--set-env-vars')).toContain('PEM_BIGQUERY_LOCATION=EU');
    const scheduler = one(calls, 'gcloud', 'scheduler', 'jobs', 'create', 'http');
    expect([scheduler[5], flag(scheduler, '--schedule'), flag(scheduler, '--time-zone'), flag(scheduler, '--location')]).toEqual([
      'pem-nightly-trigger',
      '*/30 * * * *',
      'Europe/Paris',
      'europe-west1',
    ]);
    expect(grants(calls, 'pem-job@other-project.iam.gserviceaccount.com')).toContain('roles/bigquery.dataViewer on dataset other-project:ops_monitoring');
    expect(find(calls, 'curl')).toEqual([]);
  });

  it('grants the job exactly: Job User on the project, Data Viewer on the dataset, Data Editor on its own tables, Secret Accessor on its secrets', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    expect(grants(calls, JOB_SA)).toEqual(
      [
        `roles/bigquery.jobUser on projects ${PROJECT}`,
        `roles/bigquery.dataViewer on dataset ${PROJECT}:nba_reference`,
        `roles/bigquery.dataEditor on table ${PROJECT}:nba_reference.pem_alert_state`,
        `roles/bigquery.dataEditor on table ${PROJECT}:nba_reference.processor_run_history`,
        'roles/secretmanager.secretAccessor on secrets pem-slack-webhook-url',
        'roles/secretmanager.secretAccessor on secrets pem-pagerduty-routing-key',
      ].sort(),
    );
  });

  it('lets the scheduler account only run this job, and Dataform read the dataset, create and replace its objects, and edit its assertions', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    expect(grants(calls, SCHEDULER_SA)).toEqual(['roles/run.invoker on run jobs processor-execution-monitor']);
    expect(grants(calls, DATAFORM_SA)).toEqual(
      [
        `roles/bigquery.jobUser on projects ${PROJECT}`,
        `roles/bigquery.dataViewer on dataset ${PROJECT}:nba_reference`,
        `projects/${PROJECT}/roles/pemDataformPublisher on dataset ${PROJECT}:nba_reference`,
        `roles/bigquery.dataEditor on dataset ${PROJECT}:nba_reference_assertions`,
      ].sort(),
    );
    const tokenCreator = find(calls, 'gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding').filter((call) => flag(call, '--role') === 'roles/iam.serviceAccountTokenCreator');
    expect(tokenCreator).toHaveLength(1);
    expect(tokenCreator[0]![4]).toBe(DATAFORM_SA);
    expect(flag(tokenCreator[0]!, '--member')).toBe('serviceAccount:service-424242424242@gcp-sa-dataform.iam.gserviceaccount.com');
  });

  it('gives Dataform no way to drop a table: its role on the run-history dataset holds no delete permission', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    const permissions = flag(one(calls, 'gcloud', 'iam', 'roles', 'create'), '--permissions')!.split(',');
    expect(permissions).toEqual(['bigquery.tables.create', 'bigquery.tables.update', 'bigquery.tables.updateData', 'bigquery.routines.create', 'bigquery.routines.update']);
    expect(permissions.filter((permission) => /delete|setIamPolicy|datasets\./.test(permission))).toEqual([]);
    expect(grants(calls, DATAFORM_SA).filter((grant) => grant.includes('nba_reference ') || grant.endsWith(':nba_reference'))).not.toContain(
      `roles/bigquery.dataEditor on dataset ${PROJECT}:nba_reference`,
    );
    const existing = execute(dryRun().join('\n'), { exists: true }).calls;
    expect(flag(one(existing, 'gcloud', 'iam', 'roles', 'update'), '--permissions')).toBe(permissions.join(','));
  });

  it("grants the job and Dataform Data Viewer on the registry's source datasets outside its own", () => {
    const lines = dryRun();
    const lookup = lines.find((line) => line.startsWith('SOURCE_DATASETS='))!;
    expect(lookup).toContain(join(REPO_ROOT, 'deploy', 'source-datasets.mjs'));
    const { calls } = execute(lines.join('\n'), { exists: false, env: { FAKE_SOURCE_DATASETS: 'raw-project:raw_events nba-monitoring:calendars' } });
    const sourceCall = one(calls, 'node', join(REPO_ROOT, 'deploy', 'source-datasets.mjs'));
    expect([flag(sourceCall, '--config'), flag(sourceCall, '--project'), flag(sourceCall, '--dataset')]).toEqual([join(REPO_ROOT, 'includes', 'processors.js'), PROJECT, 'nba_reference']);
    for (const account of [JOB_SA, DATAFORM_SA]) {
      expect(grants(calls, account)).toEqual(
        expect.arrayContaining(['roles/bigquery.dataViewer on dataset raw-project:raw_events', `roles/bigquery.dataViewer on dataset ${PROJECT}:calendars`]),
      );
    }
  });

  it("refuses a DATASET other than the registry's before anything changes (the tables would go to the registry's)", () => {
    const lines = dryRun({ DATASET: 'other_ds' });
    const lookup = lines.findIndex((line) => line.startsWith('SOURCE_DATASETS='));
    const firstChange = lines.findIndex((line) => /^(gcloud|bq) /.test(line) && !/ (describe|show|print-access-token|get-value)\b/.test(line));
    expect(lookup).toBeGreaterThan(-1);
    expect(lookup).toBeLessThan(firstChange);
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'deploy', 'source-datasets.mjs'), `--config=${join(REPO_ROOT, 'includes', 'processors.js')}`, `--project=${PROJECT}`, '--dataset=other_ds'], {
      encoding: 'utf8',
    });
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toBe(
      `deploy/source-datasets.mjs: DATASET 'other_ds' is not the registry's dataset 'nba_reference' (${join(REPO_ROOT, 'includes', 'processors.js')}): pem schema apply and the job use the registry's, so deploy with DATASET=nba_reference, or change the registry\n`,
    );
  });

  it("refuses that DATASET in a dry run too, before printing any of the plan, when node is there to ask", () => {
    const run = deploy(['--dry-run'], { ...BASE_ENV, DATASET: 'other_ds' }, dirname(process.execPath));
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `deploy/source-datasets.mjs: DATASET 'other_ds' is not the registry's dataset 'nba_reference' (${join(REPO_ROOT, 'includes', 'processors.js')}): pem schema apply and the job use the registry's, so deploy with DATASET=nba_reference, or change the registry\n`,
    });
    expect(deploy(['--dry-run'], BASE_ENV, dirname(process.execPath)).code).toBe(0);
  });

  it('grants no broad role on the project to anyone', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    const projectRoles = find(calls, 'gcloud', 'projects', 'add-iam-policy-binding').map((call) => flag(call, '--role'));
    expect(new Set(projectRoles)).toEqual(new Set(['roles/bigquery.jobUser']));
  });

  it('mounts the Slack and PagerDuty secrets by name and never prints a secret value', () => {
    const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B2/SHOULDNOTLEAK', PAGERDUTY_ROUTING_KEY: 'ROUTINGKEYSHOULDNOTLEAK' };
    const lines = dryRun(env);
    expect(lines.join('\n')).not.toContain('SHOULDNOTLEAK');
    const { calls } = execute(lines.join('\n'), { exists: false });
    const job = one(calls, 'gcloud', 'run', 'jobs', 'deploy');
    expect(flag(job, '--set-secrets')).toBe('SLACK_WEBHOOK_URL=pem-slack-webhook-url:latest,PAGERDUTY_ROUTING_KEY=pem-pagerduty-routing-key:latest');
  });

  it('mounts only the secrets that are configured, and clears them when none is', () => {
    const heartbeat = execute(dryRun({ SLACK_WEBHOOK_SECRET: '', HEARTBEAT_URL_SECRET: 'pem-heartbeat-url', SECRET_VERSION: '3' }).join('\n'), { exists: false }).calls;
    expect(flag(one(heartbeat, 'gcloud', 'run', 'jobs', 'deploy'), '--set-secrets')).toBe('PAGERDUTY_ROUTING_KEY=pem-pagerduty-routing-key:3,PEM_HEARTBEAT_URL=pem-heartbeat-url:3');
    expect(grants(heartbeat, JOB_SA).filter((grant) => grant.includes('secretAccessor'))).toEqual([
      'roles/secretmanager.secretAccessor on secrets pem-heartbeat-url',
      'roles/secretmanager.secretAccessor on secrets pem-pagerduty-routing-key',
    ]);
    const none = execute(dryRun({ SLACK_WEBHOOK_SECRET: '', PAGERDUTY_ROUTING_KEY_SECRET: '' }).join('\n'), { exists: false }).calls;
    expect(one(none, 'gcloud', 'run', 'jobs', 'deploy')).toContain('--clear-secrets');
    expect(find(none, 'gcloud', 'secrets')).toEqual([]);
  });

  it('mounts per-route secrets (SPEC §11) under the variables the registry names, and lets the job read only those', () => {
    const { calls } = execute(dryRun({ ROUTE_SECRETS: 'SLACK_WEBHOOK_URL_STATS=pem-slack-stats PAGERDUTY_ROUTING_KEY_STATS=pem-pd-stats' }).join('\n'), { exists: false });
    expect(flag(one(calls, 'gcloud', 'run', 'jobs', 'deploy'), '--set-secrets')).toBe(
      'SLACK_WEBHOOK_URL=pem-slack-webhook-url:latest,PAGERDUTY_ROUTING_KEY=pem-pagerduty-routing-key:latest,' +
        'SLACK_WEBHOOK_URL_STATS=pem-slack-stats:latest,PAGERDUTY_ROUTING_KEY_STATS=pem-pd-stats:latest',
    );
    expect(grants(calls, JOB_SA).filter((grant) => grant.includes('secretAccessor'))).toEqual([
      'roles/secretmanager.secretAccessor on secrets pem-pagerduty-routing-key',
      'roles/secretmanager.secretAccessor on secrets pem-pd-stats',
      'roles/secretmanager.secretAccessor on secrets pem-slack-stats',
      'roles/secretmanager.secretAccessor on secrets pem-slack-webhook-url',
    ]);
  });

  it('refuses a ROUTE_SECRETS entry that is not VARIABLE=secret-id in one line, without printing its value', () => {
    const run = deploy(['--dry-run'], { ...BASE_ENV, ROUTE_SECRETS: 'SLACK_WEBHOOK_URL_STATS=https://hooks.slack.com/services/T1/B2/SHOULDNOTLEAK' });
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain("ROUTE_SECRETS: 'SLACK_WEBHOOK_URL_STATS=…' is not VARIABLE=secret-id");
    expect(run.stderr).not.toContain('SHOULDNOTLEAK');
  });

  it('creates the report bucket, lets the job write objects in that bucket only, and points PEM_REPORT_URI at it', () => {
    const { calls } = execute(dryRun({ REPORT_BUCKET: 'my-project-pem-reports', REPORT_OBJECT: 'daily/health.html' }).join('\n'), { exists: false });
    expect(one(calls, 'gcloud', 'storage', 'buckets', 'create')).toEqual(expect.arrayContaining(['gs://my-project-pem-reports', '--uniform-bucket-level-access', '--public-access-prevention']));
    expect(grants(calls, JOB_SA).filter((grant) => grant.startsWith('roles/storage'))).toEqual(['roles/storage.objectUser on storage buckets gs://my-project-pem-reports']);
    expect(flag(one(calls, 'gcloud', 'run', 'jobs', 'deploy'), '--set-env-vars')).toContain('PEM_REPORT_URI=gs://my-project-pem-reports/daily/health.html');
    const without = execute(dryRun().join('\n'), { exists: false }).calls;
    expect(find(without, 'gcloud', 'storage', 'buckets', 'create')).toEqual([]);
    expect(flag(one(without, 'gcloud', 'run', 'jobs', 'deploy'), '--set-env-vars')).not.toContain('PEM_REPORT_URI');
  });

  it.each([
    ['--lookback-days=14', ['--lookback-days=14'], '--lookback-days=14'],
    ['--lookback-days=14 --dry-run', ['--lookback-days=14', '--dry-run'], '--lookback-days=14,--dry-run'],
    ['--processors=gamebook_processor,roster_processor', ['--processors=gamebook_processor,roster_processor'], '^@^--processors=gamebook_processor,roster_processor'],
    ['', [], ''],
  ])('passes PEM_ARGS=%j through to pem check as the job args', (pemArgs, expectedArgs, expectedFlag) => {
    const { calls } = execute(dryRun({ PEM_ARGS: pemArgs }).join('\n'), { exists: false });
    const value = flag(one(calls, 'gcloud', 'run', 'jobs', 'deploy'), '--args')!;
    expect(value).toBe(expectedFlag);
    // gcloud's list syntax: `^D^` switches the delimiter to D (gcloud topic escaping).
    const delimiter = value.startsWith('^') ? value[1]! : ',';
    const body = value.startsWith('^') ? value.slice(3) : value;
    expect(body === '' ? [] : body.split(delimiter)).toEqual(expectedArgs);
  });

  it('triggers the job from Cloud Scheduler through the Cloud Run Admin API, with OAuth as the scheduler account', () => {
    const { calls } = execute(dryRun({ SCHEDULE: '15 7 * * 1-5' }).join('\n'), { exists: false });
    const create = one(calls, 'gcloud', 'scheduler', 'jobs', 'create', 'http');
    expect(create[5]).toBe('processor-execution-monitor-trigger');
    expect(flag(create, '--uri')).toBe(`https://us-west2-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/processor-execution-monitor:run`);
    expect(flag(create, '--http-method')).toBe('POST');
    expect(flag(create, '--schedule')).toBe('15 7 * * 1-5');
    expect(flag(create, '--time-zone')).toBe('America/New_York');
    expect(flag(create, '--oauth-service-account-email')).toBe(SCHEDULER_SA);
    expect(flag(create, '--oauth-token-scope')).toBe('https://www.googleapis.com/auth/cloud-platform');
  });

  it('configures the Dataform release and workflow through the REST API, the workflow running as the Dataform account', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    const posts = find(calls, 'curl').filter((call) => call.includes('POST'));
    expect(posts.map((call) => call.at(-1))).toEqual([
      `https://dataform.googleapis.com/v1/projects/${PROJECT}/locations/us-west2/repositories/processor-execution-monitor/releaseConfigs?releaseConfigId=production`,
      `https://dataform.googleapis.com/v1/projects/${PROJECT}/locations/us-west2/repositories/processor-execution-monitor/workflowConfigs?workflowConfigId=production`,
    ]);
    const body = (call: string[]) => JSON.parse(call[call.indexOf('--data') + 1]!);
    expect(body(posts[0]!)).toEqual({
      gitCommitish: 'main',
      codeCompilationConfig: { defaultDatabase: PROJECT, defaultSchema: 'nba_reference', defaultLocation: 'US', assertionSchema: 'nba_reference_assertions' },
      cronSchedule: '0 5 * * *',
      timeZone: 'America/New_York',
    });
    expect(body(posts[1]!)).toEqual({
      releaseConfig: `projects/${PROJECT}/locations/us-west2/repositories/processor-execution-monitor/releaseConfigs/production`,
      invocationConfig: { serviceAccount: DATAFORM_SA },
      cronSchedule: '0 6 * * *',
      timeZone: 'America/New_York',
    });
    for (const call of find(calls, 'curl')) expect(call).toContain(`Authorization: Bearer ${FAKE_TOKEN}`);
  });

  it('uses PROJECT_NUMBER when given instead of looking it up', () => {
    const lines = dryRun({ PROJECT_NUMBER: '111111111111' });
    expect(lines.some((line) => line.startsWith('PROJECT_NUMBER='))).toBe(false);
    expect(lines.join('\n')).toContain('serviceAccount:service-111111111111@gcp-sa-dataform.iam.gserviceaccount.com');
  });

  it('builds the image with Cloud Build only when asked', () => {
    expect(find(execute(dryRun().join('\n'), { exists: false }).calls, 'gcloud', 'builds')).toEqual([]);
    const { calls } = execute(dryRun({}, ['--build']).join('\n'), { exists: false });
    const build = one(calls, 'gcloud', 'builds', 'submit');
    expect(build[3]).toBe(REPO_ROOT);
    expect(flag(build, '--substitutions')).toBe(`_IMAGE=us-west2-docker.pkg.dev/${PROJECT}/pem/processor-execution-monitor:latest`);
    expect(flag(build, '--config')).toBe(join(REPO_ROOT, 'deploy', 'cloudbuild.yaml'));
    expect(one(calls, 'gcloud', 'artifacts', 'repositories', 'create')).toContain('--repository-format=docker');
  });

  it('builds as its own least-privilege account: write logs, read the uploaded source, push to the one repository', () => {
    const { calls } = execute(dryRun({}, ['--build']).join('\n'), { exists: false });
    const build = one(calls, 'gcloud', 'builds', 'submit');
    expect(flag(build, '--service-account')).toBe(`projects/${PROJECT}/serviceAccounts/${BUILD_SA}`);
    expect(flag(build, '--gcs-source-staging-dir')).toBe(`gs://${PROJECT}_cloudbuild/source`);
    expect(grants(calls, BUILD_SA)).toEqual(
      [
        `roles/logging.logWriter on projects ${PROJECT}`,
        `roles/storage.objectViewer on storage buckets gs://${PROJECT}_cloudbuild`,
        'roles/artifactregistry.writer on artifacts repositories pem',
      ].sort(),
    );
    // Cloud Build runs a user-specified account only with logs outside its default bucket.
    expect(readFileSync(join(REPO_ROOT, 'deploy', 'cloudbuild.yaml'), 'utf8')).toMatch(/^options:\n\s+logging: CLOUD_LOGGING_ONLY$/m);
  });
});

describe('deploy.sh is idempotent', () => {
  it('creates what is missing on a first deployment', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    const changes = mutations(calls).map((call) => call.slice(0, 5).join(' '));
    expect(changes.filter((change) => change.startsWith('gcloud iam service-accounts create'))).toHaveLength(3);
    expect(changes.filter((change) => change.startsWith('bq --location=US mk'))).toHaveLength(2);
    expect(changes).toContain('gcloud scheduler jobs create http');
    expect(changes).not.toContain('gcloud scheduler jobs update http');
    expect(find(calls, 'curl').filter((call) => call.includes('PATCH'))).toEqual([]);
  });

  it('updates in place, and creates nothing, when everything exists', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: true });
    const changes = mutations(calls).map((call) => call.slice(0, 5).join(' '));
    expect(changes.some((change) => / create|\bmk\b/.test(change))).toBe(false);
    expect(changes).toContain('gcloud scheduler jobs update http');
    expect(changes).toContain('gcloud run jobs deploy processor-execution-monitor');
    expect(find(calls, 'curl').filter((call) => call.includes('PATCH')).map((call) => new URL(call.at(-1)!).pathname.split('/').slice(-2).join('/'))).toEqual([
      'releaseConfigs/production',
      'workflowConfigs/production',
    ]);
  });

  it.each([false, true])('runs exactly the printed commands in a real run (resources exist: %s)', (exists) => {
    const env = { ...BASE_ENV, PEM_ARGS: '--lookback-days=14 --processors=a,b', PEM_BIN: '/opt/pem/bin/pem.js' };
    const printed = execute(dryRun(env).join('\n'), { exists }).calls;
    const log = join(scratch, `real-${exists}.log`);
    writeFileSync(log, '');
    const real = deploy([], { ...env, FAKE_LOG: log, FAKE_EXISTS: exists ? '1' : '0' }, FAKE_PATH);
    expect(real.code, real.stderr).toBe(0);
    expect(readCalls(log)).toEqual(printed);
    // It shows each line before running it, and an access token never reaches the output.
    expect(real.stderr).toContain('+ gcloud run jobs deploy processor-execution-monitor');
    expect(real.stdout + real.stderr).not.toContain(FAKE_TOKEN);
  });

  it('finds the project from gcloud in a real run when PROJECT_ID is unset', () => {
    const log = join(scratch, 'real-config.log');
    writeFileSync(log, '');
    const real = deploy([], { FAKE_LOG: log, FAKE_PROJECT: 'from-gcloud-config', PEM_BIN: '/opt/pem/bin/pem.js', DATAFORM: 'false' }, FAKE_PATH);
    expect(real.code, real.stderr).toBe(0);
    expect(flag(one(readCalls(log), 'gcloud', 'run', 'jobs', 'deploy'), '--project')).toBe('from-gcloud-config');
  });
});

/** A real run (not a dry run) against the recording tools; returns its calls and output. */
function realRun(env: Record<string, string>, args: string[] = []): { calls: string[][]; run: Run } {
  const log = join(scratch, `real-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const run = deploy(args, { ...BASE_ENV, PEM_BIN: '/opt/pem/bin/pem.js', FAKE_LOG: log, FAKE_PROJECT: PROJECT, ...env }, FAKE_PATH);
  return { calls: readCalls(log), run };
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)!;

describe('deploy.sh act-as: the deployer may deploy with the accounts it creates', () => {
  it('grants the deployer (gcloud\'s account) Service Account User on every account it creates, before anything uses them', () => {
    const lines = dryRun({}, ['--build']);
    const { calls } = execute(lines.join('\n'), { exists: false });
    const actAs = find(calls, 'gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding').filter((call) => flag(call, '--role') === 'roles/iam.serviceAccountUser');
    expect(actAs.map((call) => [call[4], flag(call, '--member')])).toEqual([JOB_SA, SCHEDULER_SA, DATAFORM_SA, BUILD_SA].map((account) => [account, DEPLOYER]));
    const created = find(calls, 'gcloud', 'iam', 'service-accounts', 'create').map((call) => `${call[4]}@${PROJECT}.iam.gserviceaccount.com`);
    expect(created.sort()).toEqual([JOB_SA, SCHEDULER_SA, DATAFORM_SA, BUILD_SA].sort());
    const lastGrant = Math.max(...actAs.map((call) => calls.indexOf(call)));
    for (const user of [one(calls, 'gcloud', 'builds', 'submit'), one(calls, 'gcloud', 'run', 'jobs', 'deploy'), one(calls, 'gcloud', 'scheduler', 'jobs', 'create'), ...find(calls, 'curl').filter((call) => call.includes('POST'))]) {
      expect(calls.indexOf(user)).toBeGreaterThan(lastGrant);
    }
  });

  it('prints the grants for review with the deployer looked up when they run', () => {
    const lines = dryRun();
    expect(lines).toContain('DEPLOYER="$(gcloud config get-value account 2>/dev/null)"');
    expect(lines.filter((line) => line.includes('--role=roles/iam.serviceAccountUser'))).toEqual(
      [JOB_SA, SCHEDULER_SA, DATAFORM_SA].map((account) => `gcloud iam service-accounts add-iam-policy-binding ${account} "--member=\${DEPLOYER}" --role=roles/iam.serviceAccountUser --project=${PROJECT} --format=none`),
    );
  });

  it.each([
    ['ci-deployer@ops.iam.gserviceaccount.com', 'serviceAccount:ci-deployer@ops.iam.gserviceaccount.com'],
    ['alice@example.com', 'user:alice@example.com'],
  ])('names the deployer %s as %s', (account, member) => {
    const { calls } = execute(dryRun({ DATAFORM: 'false' }).join('\n'), { exists: true, env: { FAKE_ACCOUNT: account } });
    const actAs = find(calls, 'gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding');
    expect(new Set(actAs.map((call) => flag(call, '--member')))).toEqual(new Set([member]));
  });

  it('takes DEPLOYER as given (a group, say) without looking anything up', () => {
    const lines = dryRun({ DEPLOYER: 'group:deployers@example.com' });
    expect(lines.some((line) => line.startsWith('DEPLOYER='))).toBe(false);
    const { calls } = execute(lines.join('\n'), { exists: true });
    expect(find(calls, 'gcloud', 'config')).toEqual([]);
    expect(new Set(find(calls, 'gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding').filter((call) => flag(call, '--role') === 'roles/iam.serviceAccountUser').map((call) => flag(call, '--member')))).toEqual(
      new Set(['group:deployers@example.com']),
    );
  });

  it('stops with one line when there is no gcloud account to grant', () => {
    const { calls, run } = realRun({ FAKE_ACCOUNT: '' });
    expect(run.code).toBe(2);
    expect(lastLine(run.stderr)).toBe('deploy.sh: no gcloud account: run gcloud auth login, or set DEPLOYER=user:you@example.com');
    expect(mutations(calls)).toEqual([]);
  });
});

describe('deploy.sh Application Default Credentials', () => {
  const ADC_LINE = "gcloud auth application-default print-access-token >/dev/null 2>&1 || { printf '%s\\n' ";

  it('checks for them in a printed line before anything changes', () => {
    const lines = dryRun();
    const check = lines.findIndex((line) => line.startsWith(ADC_LINE));
    expect(check).toBeGreaterThan(-1);
    expect(lines[check]).toContain('gcloud auth application-default login');
    expect(check).toBeLessThan(lines.findIndex((line) => line.startsWith('gcloud services enable')));
  });

  it('stops with one clear line, exit 2 and nothing changed, when they are missing', () => {
    const { calls, run } = realRun({ FAKE_NO_ADC: '1' });
    expect(run.code).toBe(2);
    expect(lastLine(run.stderr)).toBe(
      "deploy.sh: no Application Default Credentials, which pem schema apply uses: run gcloud auth application-default login on a workstation; in Cloud Build or CI the build's own service account provides them",
    );
    expect(mutations(calls)).toEqual([]);
  });

  it('is not needed when the script does not run pem schema apply', () => {
    expect(dryRun({ APPLY_SCHEMA: 'false' }).some((line) => line.includes('application-default'))).toBe(false);
  });
});

describe('deploy.sh tells absence from failure', () => {
  it.each([
    ["ERROR: (gcloud.iam.service-accounts.describe) PERMISSION_DENIED: Permission 'iam.serviceAccounts.get' denied on resource (or it may not exist)."],
    ['ERROR: gcloud failed to load: Could not resolve host: iam.googleapis.com'],
  ])('stops instead of creating when a describe fails with anything but NOT_FOUND: %s', (error) => {
    const { calls, run } = realRun({ FAKE_LOOKUP_ERROR: error, RETRY_BASE_SECONDS: '0' });
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe(
      `deploy.sh: stopped: cannot tell whether it exists (only NOT_FOUND means absent): gcloud iam service-accounts describe ${JOB_SA}: ${error}`,
    );
    expect(run.stderr.match(/^deploy\.sh: stopped/gm)).toHaveLength(1);
    expect(find(calls, 'gcloud', 'iam', 'service-accounts', 'create')).toEqual([]);
    expect(find(calls, 'gcloud', 'iam', 'service-accounts', 'describe').length).toBeGreaterThan(0);
  });

  it('takes NOT_FOUND from each tool as absent: gcloud, bq, curl (HTTP 404)', () => {
    const { calls } = realRun({});
    expect(find(calls, 'gcloud', 'iam', 'service-accounts', 'create')).toHaveLength(3);
    expect(find(calls, 'bq', '--location=US', 'mk')).toHaveLength(2);
    expect(find(calls, 'gcloud', 'scheduler', 'jobs', 'create')).toHaveLength(1);
    expect(find(calls, 'curl').filter((call) => call.includes('POST'))).toHaveLength(2);
  });
});

describe('deploy.sh retries only transient failures', () => {
  it.each([
    ['a missing secret', 'ERROR: (gcloud.run.jobs.deploy) NOT_FOUND: Secret projects/424242424242/secrets/pem-slack-webhook-url/versions/latest was not found'],
    ['a denied permission', "ERROR: (gcloud.run.jobs.deploy) PERMISSION_DENIED: Permission 'run.jobs.create' denied on resource"],
    ['an invalid argument', 'ERROR: (gcloud.run.jobs.deploy) INVALID_ARGUMENT: spec.template.spec.task_count: must be greater than 0'],
  ])('does not retry %s: one attempt, then one line and exit 1', (_name, error) => {
    const { calls, run } = realRun({ FAKE_FAIL: 'gcloud run jobs deploy', FAKE_FAIL_MESSAGE: error, RETRY_BASE_SECONDS: '0' });
    expect(run.code).toBe(1);
    expect(find(calls, 'gcloud', 'run', 'jobs', 'deploy')).toHaveLength(1);
    expect(run.stderr).toContain(error);
    expect(lastLine(run.stderr)).toMatch(/^deploy\.sh: stopped: a permanent error, not retried \(fix its cause and re-run\): gcloud run jobs deploy /);
    expect(find(calls, 'gcloud', 'scheduler')).toEqual([]);
  });

  it.each([
    ['a service outage', 'ERROR: (gcloud.run.jobs.deploy) UNAVAILABLE: The service is currently unavailable.'],
    ['an account created moments ago', 'ERROR: Policy modification failed. INVALID_ARGUMENT: Service account pem-job@nba-monitoring.iam.gserviceaccount.com does not exist.'],
    ['act-as granted moments ago', "ERROR: (gcloud.run.jobs.deploy) PERMISSION_DENIED: Permission 'iam.serviceaccounts.actAs' denied on service account pem-job@nba-monitoring.iam.gserviceaccount.com"],
  ])('retries %s until it passes', (_name, error) => {
    const { calls, run } = realRun({ FAKE_FAIL: 'gcloud run jobs deploy', FAKE_FAIL_MESSAGE: error, FAKE_FAIL_TIMES: '2', RETRY_BASE_SECONDS: '0' });
    expect(run.code, run.stderr).toBe(0);
    expect(find(calls, 'gcloud', 'run', 'jobs', 'deploy')).toHaveLength(3);
    expect(run.stderr.match(/transient failure \(attempt \d of 5\)/g)).toHaveLength(2);
  });

  it('gives up on a transient failure after five attempts', () => {
    const { calls, run } = realRun({ FAKE_FAIL: 'gcloud run jobs deploy', FAKE_FAIL_MESSAGE: 'ERROR: (gcloud.run.jobs.deploy) UNAVAILABLE', RETRY_BASE_SECONDS: '0' });
    expect(run.code).toBe(1);
    expect(find(calls, 'gcloud', 'run', 'jobs', 'deploy')).toHaveLength(5);
    expect(lastLine(run.stderr)).toMatch(/^deploy\.sh: giving up after 5 attempts on: gcloud run jobs deploy /);
  });
});

describe('deploy.sh updates Dataform configurations with an updateMask', () => {
  /** The fields a JSON body sets, as field-mask paths (`a.b`). */
  const leafPaths = (value: unknown, prefix = ''): string[] =>
    value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, inner]) => leafPaths(inner, prefix ? `${prefix}.${key}` : key))
      : [prefix];

  it('PATCHes exactly the fields it sends, so the rest of each configuration (its compilation result) stays', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: true });
    const patches = find(calls, 'curl').filter((call) => call.includes('PATCH'));
    expect(patches).toHaveLength(2);
    for (const patch of patches) {
      const url = new URL(patch.at(-1)!);
      const mask = url.searchParams.get('updateMask');
      expect(mask, url.pathname).not.toBeNull();
      expect(mask!.split(',').sort()).toEqual(leafPaths(JSON.parse(patch[patch.indexOf('--data') + 1]!)).sort());
    }
    expect(new URL(patches[0]!.at(-1)!).searchParams.get('updateMask')).toBe(
      'gitCommitish,codeCompilationConfig.defaultDatabase,codeCompilationConfig.defaultSchema,codeCompilationConfig.defaultLocation,codeCompilationConfig.assertionSchema,cronSchedule,timeZone',
    );
    expect(new URL(patches[1]!.at(-1)!).searchParams.get('updateMask')).toBe('releaseConfig,invocationConfig.serviceAccount,cronSchedule,timeZone');
  });
});

describe('deploy.sh --check', () => {
  const ALL_APIS = 'run.googleapis.com cloudscheduler.googleapis.com bigquery.googleapis.com secretmanager.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com dataform.googleapis.com';

  it('changes nothing and passes when every prerequisite is in place', () => {
    const { calls, run } = realRun({ FAKE_EXISTS: '1', FAKE_ENABLED_APIS: ALL_APIS }, ['--check']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('deploy.sh --check: every prerequisite it can verify is in place\n');
    expect(run.code).toBe(0);
    expect(calls.length).toBeGreaterThan(5);
    expect(mutations(calls)).toEqual([]);
  });

  it('prints each missing prerequisite on its own line, changes nothing, and exits 1', () => {
    const { calls, run } = realRun(
      {
        ENABLE_APIS: 'false',
        FAKE_ENABLED_APIS: 'run.googleapis.com cloudscheduler.googleapis.com bigquery.googleapis.com secretmanager.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com',
        FAKE_MISSING_SECRETS: 'pem-pagerduty-routing-key',
        FAKE_DENIED: 'iam.serviceAccounts.setIamPolicy run.jobs.create',
        FAKE_NO_ADC: '1',
        FAKE_EXISTS: '0',
      },
      ['--check'],
    );
    expect(run.code).toBe(1);
    expect(mutations(calls)).toEqual([]);
    expect(run.stdout.trim().split('\n')).toEqual([
      "missing: Application Default Credentials (pem schema apply uses them): run gcloud auth application-default login on a workstation; in Cloud Build or CI the build's own service account provides them",
      `missing: API dataform.googleapis.com is not enabled (gcloud services enable dataform.googleapis.com --project=${PROJECT}, or ENABLE_APIS=true)`,
      'missing: secret pem-pagerduty-routing-key (version latest): ERROR: (gcloud.secrets.versions.describe) NOT_FOUND: Secret [projects/424242424242/secrets/pem-pagerduty-routing-key] not found or has no versions.',
      `missing: permission iam.serviceAccounts.setIamPolicy on project ${PROJECT} (in roles/iam.serviceAccountAdmin)`,
      `missing: permission run.jobs.create on project ${PROJECT} (in roles/run.admin)`,
      'missing: Dataform repository processor-execution-monitor in us-west2, connected to this Git repository: curl: (22) The requested URL returned error: 404',
    ]);
    expect(run.stderr).toBe('deploy.sh --check: 6 prerequisite(s) missing\n');
  });

  it('asks testIamPermissions for every permission it lists in docs/deployment.md', () => {
    const { calls } = realRun({ FAKE_EXISTS: '1', FAKE_ENABLED_APIS: ALL_APIS }, ['--check', '--build']);
    const test = find(calls, 'curl').find((call) => call.at(-1)!.endsWith(':testIamPermissions'))!;
    expect(test.at(-1)).toBe(`https://cloudresourcemanager.googleapis.com/v1/projects/${PROJECT}:testIamPermissions`);
    const asked = (JSON.parse(test[test.indexOf('--data') + 1]!) as { permissions: string[] }).permissions;
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'deployment.md'), 'utf8');
    for (const permission of asked) expect(docs, permission).toContain(`\`${permission}\``);
    expect(asked).toEqual(expect.arrayContaining(['iam.serviceAccounts.setIamPolicy', 'dataform.releaseConfigs.update', 'cloudbuild.builds.create']));
  });

  it('reads the registry against DATASET, as a real run does before anything changes', () => {
    // Node is a stand-in here, failing as source-datasets.mjs does (its own words are tested above, with Node).
    // After a line the registry printed as it loaded (a .js registry runs in the same process).
    const said = "loading processors\ndeploy/source-datasets.mjs: DATASET 'other_ds' is not the registry's dataset 'nba_reference' (includes/processors.js): deploy with DATASET=nba_reference";
    const source = join(REPO_ROOT, 'deploy', 'source-datasets.mjs');
    const { calls, run } = realRun({ FAKE_EXISTS: '1', FAKE_ENABLED_APIS: ALL_APIS, DATASET: 'other_ds', FAKE_FAIL: `node ${source}`, FAKE_FAIL_MESSAGE: said }, ['--check']);
    expect(run.code).toBe(1);
    expect(mutations(calls)).toEqual([]);
    expect(one(calls, 'node', source)).toContain('--dataset=other_ds');
    expect(run.stdout.trim().split('\n')).toEqual([
      "missing: a registry deploy.sh can deploy: DATASET 'other_ds' is not the registry's dataset 'nba_reference' (includes/processors.js): deploy with DATASET=nba_reference",
    ]);
  });

  it('notes APIs it would enable itself instead of calling them missing', () => {
    const { run } = realRun({ FAKE_EXISTS: '1', FAKE_ENABLED_APIS: 'run.googleapis.com' }, ['--check']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('note: API dataform.googleapis.com is not enabled yet; deploy.sh enables it (ENABLE_APIS=true)');
  });
});

describe('deploy.sh input checks', () => {
  it('prints its usage with --help, naming every setting it reads', () => {
    const run = deploy(['--help']);
    expect(run.code).toBe(0);
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'deployment.md'), 'utf8');
    for (const name of settingsReadByScript()) {
      expect(run.stdout, name).toContain(name);
      expect(docs, name).toContain(`\`${name}\``);
    }
  });

  it.each([
    [{}, 'PROJECT_ID is not set'],
    [{ PROJECT_ID: PROJECT, REGION: 'us west2' }, "REGION='us west2' is not valid"],
    [{ PROJECT_ID: PROJECT, BUILD_IMAGE: 'yes' }, "BUILD_IMAGE='yes' is not valid (example: BUILD_IMAGE=true)"],
    [{ PROJECT_ID: PROJECT, WRITABLE_TABLES: 'pem_alert_state *' }, "WRITABLE_TABLES: '*' is not a table name"],
    [{ PROJECT_ID: PROJECT, SCHEDULE: 'not a cron' }, "SCHEDULE='not a cron' is not valid (example: SCHEDULE='0 8 * * *')"],
    [{ PROJECT_ID: PROJECT, BQ_LOCATION: 'mars' }, "BQ_LOCATION='mars' is not valid (example: BQ_LOCATION=US)"],
    [{ PROJECT_ID: PROJECT, TIME_ZONE: 'Mars Base' }, "TIME_ZONE='Mars Base' is not valid"],
    [{ PROJECT_ID: PROJECT, SLACK_WEBHOOK_SECRET: 'https://hooks.slack.com/x' }, 'SLACK_WEBHOOK_SECRET is not a Secret Manager secret id (its value is not shown'],
    [{ PROJECT_ID: PROJECT, PAGERDUTY_ROUTING_KEY_SECRET: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' }, 'PAGERDUTY_ROUTING_KEY_SECRET looks like a key itself (32 letters and digits)'],
    [{ PROJECT_ID: PROJECT, PAGERDUTY_ROUTING_KEY_SECRET: 'A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6' }, 'PAGERDUTY_ROUTING_KEY_SECRET looks like a key itself (32 letters and digits)'],
    [{ PROJECT_ID: PROJECT, ROUTE_SECRETS: 'PAGERDUTY_ROUTING_KEY_STATS=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' }, 'ROUTE_SECRETS: the id given for PAGERDUTY_ROUTING_KEY_STATS looks like a key itself'],
    // Read by pem check itself (the dist/ that npm ci builds): each would fail every scheduled run.
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--lookback-day=14' }, "PEM_ARGS '--lookback-day=14' would fail every scheduled run: unknown option '--lookback-day=14' (did you mean --lookback-days?)"],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--lookback-days=14 --processors=nope' }, "would fail every scheduled run: --processors: unknown processor 'nope'"],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--engine=duckdb' }, 'PEM_ARGS: --engine=duckdb is the job\'s to decide (it checks BigQuery, PEM_ENGINE=bigquery): leave it out'],
    // Given by the job's environment and image: in PEM_ARGS they would win in the job, unread here.
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--lookback-days=14 --config=/nonexistent.js' }, 'PEM_ARGS: --config=/nonexistent.js: the job reads the registry in its image'],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--project other-project' }, `PEM_ARGS: --project: the job checks PROJECT_ID (${PROJECT}`],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--location=EU' }, 'PEM_ARGS: --location=EU: the job\'s BigQuery location is BQ_LOCATION (US)'],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--publish-report=gs://elsewhere/r.html' }, 'PEM_ARGS: --publish-report=gs://elsewhere/r.html: the job publishes to REPORT_BUCKET/REPORT_OBJECT'],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--now=2026-01-01T00:00:00Z' }, 'PEM_ARGS: --now would pin every scheduled run to one moment'],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--lookback-days=14 --fail-on=critical' }, 'PEM_ARGS: --fail-on would mark every execution that finds a problem failed'],
    [{ PROJECT_ID: PROJECT, PEM_ARGS: '--fail-on error' }, 'PEM_ARGS: --fail-on would mark every execution that finds a problem failed'],
  ])('refuses %j with one clear line and exit 2', (env, message) => {
    // Node on PATH (nothing else from it is used here): PEM_ARGS are read by pem check itself.
    const run = deploy(['--dry-run'], env, `${dirname(process.execPath)}:${EMPTY_PATH}`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    // A secret pasted where its id belongs is never echoed (SPEC §5).
    for (const [name, value] of Object.entries(env)) if (/_SECRETS?$/.test(name)) expect(run.stderr).not.toContain(value.slice(-24));
  });

  it('refuses a registry whose dataset names a project, with the deployment that works instead', () => {
    const registry = join(scratch, 'dataset-in-project.json');
    writeFileSync(registry, JSON.stringify({ dataset: 'other-proj.nba_reference', processors: { a: {} } }));
    const run = deploy(['--dry-run'], { PROJECT_ID: PROJECT, PEM_CONFIG: registry }, `${dirname(process.execPath)}:${EMPTY_PATH}`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `deploy/source-datasets.mjs: the registry's dataset 'other-proj.nba_reference' (${registry}) names a project, and the Dataform project and the job deploy into PROJECT_ID: ` +
        "give 'nba_reference' as the registry's dataset and deploy with PROJECT_ID=other-proj DATASET=nba_reference\n",
    );
  });

  it('lets PEM_ARGS through with a registry whose tables lie in other projects (read as the job reads them, on BigQuery)', () => {
    const registry = join(scratch, 'other-project.json');
    writeFileSync(registry, JSON.stringify({ dataset: 'nba_reference', processors: { a: {}, b: { execution_table: 'other-project.ds.runs' } } }));
    const run = deploy(['--dry-run'], { PROJECT_ID: PROJECT, PEM_CONFIG: registry, PEM_ARGS: '--lookback-days=14 --processors=a,b' }, `${dirname(process.execPath)}:${EMPTY_PATH}`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('accepts the time zones, locations and schedules people use', () => {
    for (const env of [
      { TIME_ZONE: 'EST5EDT', BQ_LOCATION: 'aws-us-east-1', SCHEDULE: '0 8 * * MON-FRI' },
      { TIME_ZONE: 'Etc/GMT+5', BQ_LOCATION: 'europe-west12', SCHEDULE: '*/15 6-22 * * 1-5' },
      { TIME_ZONE: 'America/Argentina/Buenos_Aires', BQ_LOCATION: 'eu', SCHEDULE: '0 8 * * *' },
    ]) {
      const run = deploy(['--dry-run'], { ...BASE_ENV, ...env });
      expect([run.code, run.stderr], JSON.stringify(env)).toEqual([0, '']);
    }
    expect(deploy(['--dry-run'], { ...BASE_ENV, TIME_ZONE: 'posix/America/New_York' }).stderr).toContain("TIME_ZONE='posix/America/New_York' is not a time zone");
  });

  it('refuses --dry-run with --check', () => {
    const run = deploy(['--dry-run', '--check'], BASE_ENV);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('deploy.sh: --dry-run and --check do not go together (see --help)\n');
  });

  it('rejects an unknown argument', () => {
    const run = deploy(['--dryrun'], BASE_ENV);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown argument '--dryrun'");
  });
});

describe('shell scripts under deploy/ and scripts/', () => {
  it('are shellcheck clean', ({ skip }) => {
    const probe = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    skip(probe.error !== undefined || probe.status !== 0, 'shellcheck is not installed here (.ci/run installs it from Debian packages)');
    const scripts = ['deploy', 'scripts'].flatMap((folder) =>
      readdirSync(join(REPO_ROOT, folder))
        .filter((name) => name.endsWith('.sh'))
        .map((name) => join(REPO_ROOT, folder, name)),
    );
    expect(scripts).toContain(SCRIPT);
    expect(scripts).toContain(join(REPO_ROOT, 'scripts', 'docker-engine.sh'));
    const run = spawnSync('shellcheck', ['--severity=style', ...scripts], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});

/** Every `${NAME:-…}` / `${NAME-…}` default the script reads from the environment. */
function settingsReadByScript(): string[] {
  const text = readFileSync(SCRIPT, 'utf8');
  const names = new Set([...text.matchAll(/^([A-Z][A-Z0-9_]+)="\$\{\1:?-/gm)].map((match) => match[1]!));
  expect(names.size).toBeGreaterThan(20);
  return [...names];
}
