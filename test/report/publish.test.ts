/**
 * `pem check --publish-report gs://…` (SPEC §11): the real `@google-cloud/storage` client against
 * a loopback Cloud Storage stand-in, both upload protocols, and every fault: the upload comes after
 * the alerts, a failed one exits 1 naming it and never holds back an alert.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeStorageError, parseReportUri, publishReport } from '../../src/report/publish.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { alertEnv, badMorning, CHECK_ARGS, NOW, SLACK_PATH, slackOk, startFakeServer, type FakeServer } from '../alerts/support.js';
import { startStorageStandIn, type StorageStandIn } from './storage-stand-in.js';

const URI = 'gs://pem-reports/daily/health.html';

let scenario: Scenario;
let slack: FakeServer;
let gcs: StorageStandIn;

beforeEach(async () => {
  const { registry, rows } = badMorning();
  scenario = await createScenario(registry, rows);
  slack = await startFakeServer(SLACK_PATH, slackOk);
  gcs = await startStorageStandIn();
});

afterEach(async () => {
  await Promise.all([slack.close(), gcs.close()]);
  scenario.cleanup();
});

async function check(args: string[] = ['--publish-report', URI], extra: Record<string, string> = {}) {
  const result = await runCli(['check', '--config', scenario.registryPath, '--database', scenario.databasePath, ...CHECK_ARGS, ...args], {
    env: alertEnv(slack, null, { PEM_STORAGE_API_ENDPOINT: gcs.url, GOOGLE_CLOUD_PROJECT: 'pem-test', ...extra }),
    now: new Date(NOW),
  });
  let json: any = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    // Not every failure prints the document.
  }
  return { ...result, json };
}

const uploaded = () => gcs.objects.get('pem-reports/daily/health.html');

describe('pem check --publish-report', () => {
  it('uploads the HTML report of the run in one multipart request, after the alerts went out', async () => {
    let slackAt = 0;
    slack.answer(() => ((slackAt = Date.now()), { status: 200, body: 'ok' }));
    const result = await check();
    expect(result.code).toBe(0);
    const object = uploaded()!;
    expect(object).toMatchObject({ protocol: 'multipart', contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' });
    const html = object.body.toString('utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('gamebook_processor');
    expect(slack.requests).toHaveLength(1);
    expect(slackAt).toBeGreaterThan(0);
    expect(gcs.requests[0]!.at).toBeGreaterThanOrEqual(slackAt);
    expect(result.stderr).toContain(`report: published ${URI} (https://storage.cloud.google.com/pem-reports/health.html)`);
    expect(result.json.alerts.every((a: any) => a.sent)).toBe(true);
  });

  it('publishes to PEM_REPORT_URI when the flag is not given', async () => {
    const result = await check([], { PEM_REPORT_URI: 'gs://pem-reports/from-env.html' });
    expect(result.code).toBe(0);
    expect(gcs.objects.has('pem-reports/from-env.html')).toBe(true);
  });

  it('retries a 503 and then uploads', async () => {
    gcs.fault((_r, i) => (i === 0 ? { status: 503, message: 'backendError' } : null));
    const result = await check();
    expect(result.code).toBe(0);
    expect(gcs.requests).toHaveLength(2);
    expect(uploaded()).toBeDefined();
  }, 20_000);

  it.each([
    ['refused with 403', () => ({ status: 403, message: 'pem-job@p.iam.gserviceaccount.com does not have storage.objects.create access' }), 'HTTP 403: pem-job@p.iam.gserviceaccount.com does not have storage.objects.create access'],
    ['failing with 500 every time', () => ({ status: 500, message: 'internal' }), 'HTTP 500'],
    ['never answering', () => 'hang' as const, 'report upload to gs://pem-reports/daily/health.html failed:'],
  ])('exits 1 naming the upload when Cloud Storage is %s, after the alerts and the report went out', async (_name, fault, message) => {
    gcs.fault(fault);
    const result = await check(['--publish-report', URI], { PEM_ALERT_RETRIES: '1', PEM_ALERT_TIMEOUT_MS: '300' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: report upload to ${URI} failed: `);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    // The alerts were not held back: sent, and the JSON document printed with them marked so.
    expect(slack.requests).toHaveLength(1);
    expect(result.json.alerts.every((a: any) => a.sent)).toBe(true);
    expect(uploaded()).toBeUndefined();
  }, 30_000);

  it('exits 1 naming the upload when nothing listens at the endpoint', async () => {
    await gcs.close();
    const result = await check(['--publish-report', URI], { PEM_ALERT_RETRIES: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: report upload to gs:\/\/pem-reports\/daily\/health\.html failed: .*ECONNREFUSED/);
    expect(slack.requests).toHaveLength(1);
    gcs = await startStorageStandIn();
  }, 20_000);

  it('names both failures in one line when Slack and the upload both fail', async () => {
    slack.answer(() => ({ status: 404, body: 'no_service' }));
    gcs.fault(() => ({ status: 403, message: 'forbidden' }));
    const result = await check(['--publish-report', URI], { PEM_ALERT_RETRIES: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: alert delivery failed: slack (HTTP 404 (no_service)); report upload to ${URI} failed: HTTP 403: forbidden`);
  });

  it('uploads nothing in a dry run, and says so', async () => {
    const result = await check(['--publish-report', URI, '--dry-run']);
    expect(result.code).toBe(0);
    expect(gcs.requests).toHaveLength(0);
    expect(result.stderr).toContain(`dry run: would publish the HTML report to ${URI}; nothing uploaded`);
  });

  it.each([['s3://bucket/x.html'], ['gs://bucket'], ['gs://Bad_Bucket/x.html'], ['gs://bucket/folder/']])(
    'refuses %s in one line, exit 2, before anything is sent',
    async (uri) => {
      const result = await check(['--publish-report', uri]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([`error: --publish-report '${uri}' is not a Cloud Storage object: use gs://BUCKET/PATH.html, for example gs://my-pem-reports/health.html`]);
      expect(slack.requests).toHaveLength(0);
    },
  );
});

describe('publishReport, the resumable protocol', () => {
  const options = (extra: Partial<Parameters<typeof publishReport>[2]> = {}) => ({
    apiEndpoint: gcs.url,
    projectId: 'pem-test',
    retries: 1,
    timeoutMs: 2000,
    resumableThresholdBytes: 0,
    ...extra,
  });

  it('opens a session and sends the report to it', async () => {
    await publishReport('<!doctype html><p>big report</p>', parseReportUri('gs://pem-reports/r.html', 'test'), options());
    expect(gcs.requests.map((r) => `${r.method} ${r.uploadType}`)).toEqual(['POST resumable', 'PUT resumable']);
    expect(gcs.objects.get('pem-reports/r.html')).toMatchObject({ protocol: 'resumable', contentType: 'text/html; charset=utf-8' });
    expect(gcs.objects.get('pem-reports/r.html')!.body.toString()).toBe('<!doctype html><p>big report</p>');
  });

  it('fails with the status when the session cannot be opened', async () => {
    gcs.fault((r) => (r.method === 'POST' ? { status: 403, message: 'forbidden' } : null));
    const error = await publishReport('<p>x</p>', parseReportUri('gs://pem-reports/r.html', 'test'), options({ retries: 0 })).catch((e: unknown) => e);
    expect(describeStorageError(error)).toBe('HTTP 403: forbidden');
    expect(gcs.objects.size).toBe(0);
  });

  it('retries a failed transfer', async () => {
    gcs.fault((r, i) => (r.method === 'PUT' && i === 1 ? { status: 503 } : null));
    await publishReport('<p>retried</p>', parseReportUri('gs://pem-reports/r.html', 'test'), options());
    expect(gcs.objects.get('pem-reports/r.html')!.body.toString()).toBe('<p>retried</p>');
  }, 20_000);
});

describe('the Cloud Storage client', () => {
  it('is loaded only when a report is published (no static import anywhere in src/)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const importers = files('src').filter((f) => /^import [^;]*'@google-cloud\/storage'/m.test(readFileSync(f, 'utf8')));
    expect(importers).toEqual([]);
  });
});
