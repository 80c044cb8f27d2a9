import { describe, expect, it } from 'vitest';
import { isCloudRun, secretValues } from '../../src/config/env.js';
import { createLogger, severityForLevel } from '../../src/log.js';
import { runCli } from '../support/cli.js';

function capture(options: Parameters<typeof createLogger>[1]) {
  let text = '';
  const log = createLogger({ write: (chunk: string) => (text += chunk) }, options);
  return { log, text: () => text, lines: () => text.split('\n').filter(Boolean) };
}

describe('the logger in Cloud Run (JSON lines)', () => {
  it('writes one JSON object per entry with severity, message and the processor fields', () => {
    const out = capture({ json: true });
    out.log.warn('3 missing dates', { processor: 'gamebook_processor', missing_dates: ['2025-10-01'] });
    out.log.error('monitor failed');
    expect(out.lines().map((line) => JSON.parse(line))).toEqual([
      { severity: 'WARNING', message: '3 missing dates', processor: 'gamebook_processor', missing_dates: ['2025-10-01'] },
      { severity: 'ERROR', message: 'monitor failed' },
    ]);
  });

  it('keeps a multi-line message and its details in a single entry', () => {
    const out = capture({ json: true });
    out.log.error('invalid registry: 2 problems', { details: ['a: priority must be low, medium or high', 'b: bad time zone'] });
    expect(out.lines()).toHaveLength(1);
    expect(JSON.parse(out.lines()[0]!).details).toHaveLength(2);
  });

  it('does not let a field override severity or message', () => {
    const out = capture({ json: true });
    out.log.info('real message', { severity: 'DEBUG', message: 'spoofed' });
    expect(JSON.parse(out.text())).toEqual({ severity: 'INFO', message: 'real message' });
  });

  it('serialises bigint (DuckDB BIGINT) and Error fields instead of throwing', () => {
    const out = capture({ json: true });
    out.log.info('counted', { records: 12n, cause: new Error('socket hang up') });
    expect(JSON.parse(out.text())).toEqual({ severity: 'INFO', message: 'counted', records: '12', cause: { name: 'Error', message: 'socket hang up' } });
  });

  it('still writes the message when the fields cannot be serialised', () => {
    const out = capture({ json: true });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    out.log.error('still here', { loop });
    expect(JSON.parse(out.text())).toMatchObject({ severity: 'ERROR', message: 'still here' });
  });

  it('maps alert levels to Cloud Logging severities', () => {
    expect(['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'OK'].map((level) => severityForLevel(level as 'OK'))).toEqual(['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'INFO']);
    const out = capture({ json: true });
    out.log.log(severityForLevel('CRITICAL'), 'stale', { processor: 'roster_processor' });
    expect(JSON.parse(out.text()).severity).toBe('CRITICAL');
  });
});

describe('the logger in a terminal (plain text)', () => {
  it('prefixes warnings and errors, names the processor and lists details', () => {
    const out = capture({ json: false });
    out.log.info('built the demo database');
    out.log.warn('3 missing dates', { processor: 'gamebook_processor' });
    out.log.error('invalid registry', { details: ['a: bad', 'b: worse'] });
    out.log.log('CRITICAL', 'stale for 5 days', { processor: 'roster_processor' });
    expect(out.text()).toBe(
      'built the demo database\nwarning: gamebook_processor: 3 missing dates\nerror: invalid registry\n  - a: bad\n  - b: worse\ncritical: roster_processor: stale for 5 days\n',
    );
  });

  it("shows what a server or a file said without its escape sequences, which would recolour or rewrite the terminal", () => {
    const out = capture({ json: false });
    out.log.error('HTTP 403: Access Denied: \u001b[31mred\u001b[2J', { details: ['x \u001b]0;title\u0007'] });
    expect(out.text()).toBe('error: HTTP 403: Access Denied: ?[31mred?[2J\n  - x ?]0;title?\n');
  });
});

describe('secrets in log lines', () => {
  const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX', PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789', PEM_HEARTBEAT_URL: '' };

  it('are redacted from messages and fields, in both formats', () => {
    for (const json of [true, false]) {
      const out = capture({ json, redact: secretValues(env) });
      out.log.error(`POST ${env.SLACK_WEBHOOK_URL} failed`, { processor: 'x', key: env.PAGERDUTY_ROUTING_KEY });
      expect(out.text()).not.toContain('XXXXXXXXXXXX');
      expect(out.text()).not.toContain(env.PAGERDUTY_ROUTING_KEY);
      expect(out.text()).toContain('[redacted]');
    }
  });

  it("masks a Slack webhook URL it was not given (a route's): known by its shape", () => {
    const out = capture({ json: false, redact: [] });
    out.log.warn('slack: POST https://hooks.slack.com/services/T1/B1/routeToken failed');
    expect(out.text()).toBe('warning: slack: POST [redacted] failed\n');
  });

  it('ignores unset and very short values, so ordinary words survive', () => {
    const out = capture({ json: false, redact: ['a', '', undefined] });
    out.log.info('a banana');
    expect(out.text()).toBe('a banana\n');
    expect(secretValues(env)).toEqual([env.SLACK_WEBHOOK_URL, env.PAGERDUTY_ROUTING_KEY, '/services/T000/B000/XXXXXXXXXXXX']);
  });
});

describe('pem in Cloud Run', () => {
  it.each([
    [{ CLOUD_RUN_JOB: 'processor-execution-monitor' }, true],
    [{ K_SERVICE: 'pem' }, true],
    [{}, false],
  ])('detects Cloud Run from %j: %s', (env, expected) => {
    expect(isCloudRun(env)).toBe(expected);
  });

  it('reports commander usage errors as JSON log entries', async () => {
    const run = await runCli(['check', '--lookback-dayz=14'], { env: { CLOUD_RUN_JOB: 'processor-execution-monitor' } });
    expect(run.code).toBe(2);
    const entries = run.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(entries[0]).toMatchObject({ severity: 'ERROR' });
    expect(entries[0].message).toContain('--lookback-dayz');
  });

  it('keeps the terminal output of a usage error unchanged', async () => {
    const run = await runCli(['check', '--lookback-dayz=14']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: unknown option '--lookback-dayz=14'/);
  });

  it('never logs the Slack webhook URL, even when a message would carry it', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/SECRETSECRET';
    const run = await runCli(['check', '--config', url], { env: { CLOUD_RUN_JOB: 'job', SLACK_WEBHOOK_URL: url } });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('SECRETSECRET');
    expect(JSON.parse(run.stderr.split('\n')[0]!).message).toContain('[redacted]');
  });
});
