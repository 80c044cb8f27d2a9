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
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A recording stand-in: appends its name and argv (NUL-separated, one record per call) to
// $FAKE_LOG. Lookups (describe, show, GET) succeed only when FAKE_EXISTS=1.
const FAKE_TOOL = `#!${BASH}
tool=\${0##*/}
{ printf '%s\\0' "$tool" "$@"; printf '\\036'; } >>"$FAKE_LOG"
case "$tool $*" in
  "gcloud auth print-access-token"*) printf '%s\\n' '${FAKE_TOKEN}' ;;
  "gcloud projects describe"*) printf '%s\\n' 424242424242 ;;
  "gcloud config get-value project"*) printf '%s\\n' "$FAKE_PROJECT" ;;
  *" describe "* | "bq show "*) [[ \${FAKE_EXISTS:-0} == 1 ]] || exit 1 ;;
  "curl -sSf "*) [[ \${FAKE_EXISTS:-0} == 1 ]] || exit 22 ;;
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

/** The calls that change something (lookups and token requests left out). */
const mutations = (calls: string[][]) =>
  calls.filter((call) => !call.includes('describe') && !(call[0] === 'bq' && call[1] === 'show') && !call.includes('print-access-token') && !(call[0] === 'curl' && call[1] === '-sSf'));

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
      expect(line).toMatch(/^(# |gcloud |bq |node |if |PROJECT_NUMBER=)/);
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
    const schema = one(calls, 'node');
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

  it('lets the scheduler account only run this job, and Dataform only edit its datasets', () => {
    const { calls } = execute(dryRun().join('\n'), { exists: false });
    expect(grants(calls, SCHEDULER_SA)).toEqual(['roles/run.invoker on run jobs processor-execution-monitor']);
    expect(grants(calls, DATAFORM_SA)).toEqual(
      [
        `roles/bigquery.jobUser on projects ${PROJECT}`,
        `roles/bigquery.dataEditor on dataset ${PROJECT}:nba_reference`,
        `roles/bigquery.dataEditor on dataset ${PROJECT}:nba_reference_assertions`,
      ].sort(),
    );
    const tokenCreator = one(calls, 'gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding');
    expect(tokenCreator[4]).toBe(DATAFORM_SA);
    expect(flag(tokenCreator, '--member')).toBe('serviceAccount:service-424242424242@gcp-sa-dataform.iam.gserviceaccount.com');
    expect(flag(tokenCreator, '--role')).toBe('roles/iam.serviceAccountTokenCreator');
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
    expect(flag(build, '--tag')).toBe(`us-west2-docker.pkg.dev/${PROJECT}/pem/processor-execution-monitor:latest`);
    expect(one(calls, 'gcloud', 'artifacts', 'repositories', 'create')).toContain('--repository-format=docker');
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
    expect(find(calls, 'curl').filter((call) => call.includes('PATCH')).map((call) => call.at(-1)!.split('/').slice(-2).join('/'))).toEqual([
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
    [{ PROJECT_ID: PROJECT, SLACK_WEBHOOK_SECRET: 'https://hooks.slack.com/x' }, 'is not a Secret Manager secret id'],
  ])('refuses %j with one clear line and exit 2', (env, message) => {
    const run = deploy(['--dry-run'], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects an unknown argument', () => {
    const run = deploy(['--dryrun'], BASE_ENV);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown argument '--dryrun'");
  });
});

describe('shell scripts under deploy/', () => {
  it('are shellcheck clean', ({ skip }) => {
    const probe = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    skip(probe.error !== undefined || probe.status !== 0, 'shellcheck is not installed here (.ci/run installs it from Debian packages)');
    const scripts = readdirSync(join(REPO_ROOT, 'deploy'))
      .filter((name) => name.endsWith('.sh'))
      .map((name) => join(REPO_ROOT, 'deploy', name));
    expect(scripts).toContain(SCRIPT);
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
