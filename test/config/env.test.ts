/** Settings from the environment (README "Environment"): every bad value is named at once, in one error, exit 2. */
import { describe, expect, it } from 'vitest';
import { destinationSecrets, readSettings, secretValues } from '../../src/config/env.js';
import { PemError } from '../../src/errors.js';

function problemsOf(env: Record<string, string>): { message: string; details: readonly string[] } {
  try {
    readSettings(env);
  } catch (error) {
    if (error instanceof PemError && error.code === 'usage') return { message: error.message, details: error.details };
    throw error;
  }
  throw new Error('no problem found');
}

describe('readSettings', () => {
  it('names every bad value, also several of one group (alert retries, DuckDB, BigQuery), not only the first', () => {
    const found = problemsOf({
      PEM_ALERT_TIMEOUT_MS: 'abc',
      PEM_ALERT_RETRIES: '99',
      PEM_DUCKDB_LOCK_TIMEOUT_MS: 'x',
      PEM_DUCKDB_MEMORY_LIMIT: 'lots',
      PEM_BIGQUERY_API_ENDPOINT: 'nowhere',
      PEM_BIGQUERY_TIMEOUT_MS: 'soon',
      SLACK_WEBHOOK_URL: 'nope',
      PAGERDUTY_ROUTING_KEY: 'k',
      PAGERDUTY_EVENTS_URL: 'bad',
      PEM_RECORD_SELF: 'maybe',
      PEM_RECORD_TIMEOUT_MS: 'x',
    });
    expect(found.message).toBe('11 environment variables are not valid');
    expect(found.details.map((line) => line.split(' ')[0]).sort()).toEqual([
      'PAGERDUTY_EVENTS_URL',
      'PAGERDUTY_ROUTING_KEY',
      'PEM_ALERT_RETRIES',
      'PEM_ALERT_TIMEOUT_MS',
      'PEM_BIGQUERY_API_ENDPOINT',
      'PEM_BIGQUERY_TIMEOUT_MS',
      'PEM_DUCKDB_LOCK_TIMEOUT_MS',
      'PEM_DUCKDB_MEMORY_LIMIT',
      'PEM_RECORD_SELF',
      'PEM_RECORD_TIMEOUT_MS',
      'SLACK_WEBHOOK_URL',
    ]);
  });

  it('refuses a PagerDuty routing key that is not 32 letters and digits (a URL, a key cut short, a line break), never printing it', () => {
    for (const key of ['https://events.pagerduty.com/v2/enqueue', 'abc', 'R0UT1NGK3Y0000000000000000SECRE\n', 'R0UT1NGK3Y 000000000000000SECRET']) {
      const found = problemsOf({ PAGERDUTY_ROUTING_KEY: key });
      expect(found.message).toBe(
        "PAGERDUTY_ROUTING_KEY is not a PagerDuty routing key (32 letters and digits): set it to the Integration Key of the service's Events API v2 integration",
      );
    }
    expect(() => readSettings({ PAGERDUTY_ROUTING_KEY: ' R0UT1NGK3Y0000000000000000SECRET ' })).not.toThrow();
  });

  it('refuses a PagerDuty events URL with a user name or password in it (fetch refuses it: every page failed as a network error), never printing it', () => {
    const found = problemsOf({ PAGERDUTY_ROUTING_KEY: 'R0UT1NGK3Y0000000000000000SECRET', PAGERDUTY_EVENTS_URL: 'https://ops:hunter2@events.example.com/v2/enqueue' });
    expect(found.message).toBe(
      'PAGERDUTY_EVENTS_URL has a user name or password in it (user:password@), which requests cannot carry: PagerDuty authenticates by the routing key',
    );
    expect(JSON.stringify(found)).not.toContain('hunter2');
    // Without the default routing key too: a route's key pages through the same URL.
    expect(problemsOf({ PAGERDUTY_EVENTS_URL: 'https://ops:hunter2@events.example.com/v2/enqueue' }).message).toBe(found.message);
  });

  it('reads an empty PEM_ENGINE, GOOGLE_CLOUD_PROJECT or PEM_BIGQUERY_LOCATION as unset, as every other variable, and trims them', () => {
    expect(readSettings({ PEM_ENGINE: '' }).engine).toBeNull();
    expect(readSettings({ PEM_ENGINE: ' bigquery ' }).engine).toBe('bigquery');
    expect(readSettings({ GOOGLE_CLOUD_PROJECT: '', GCLOUD_PROJECT: 'myproj' }).bigQuery.project).toBe('myproj');
    expect(readSettings({ GOOGLE_CLOUD_PROJECT: ' p1 ' }).bigQuery.project).toBe('p1');
    expect(readSettings({ PEM_BIGQUERY_LOCATION: '' }).bigQuery.location).toBeUndefined();
    expect(readSettings({ PEM_BIGQUERY_LOCATION: ' EU ' }).bigQuery.location).toBe('EU');
  });

  it('not eager, leaves the alert and engine settings to their first use: a bad one fails only what reads it', () => {
    const settings = readSettings({ SLACK_WEBHOOK_URL: 'nope', PEM_ALERT_RETRIES: '99', PEM_DUCKDB_MEMORY_LIMIT: '300MB' }, { eager: false });
    expect(settings.duckDb.memoryLimit).toBe('300MB');
    expect(() => settings.destinations).toThrow(/^SLACK_WEBHOOK_URL is not an http\(s\) URL/);
    expect(() => settings.alertRetry).toThrow(/^PEM_ALERT_RETRIES/);
    expect(settings.reportPublish).toEqual({ uri: null, apiEndpoint: undefined });
    // A DuckDB command is not stopped by a BigQuery setting, nor a BigQuery one by DuckDB's.
    const engines = readSettings({ PEM_BIGQUERY_API_ENDPOINT: 'ftp://x', PEM_DUCKDB_LOCK_TIMEOUT_MS: 'soon' }, { eager: false });
    expect(() => engines.bigQuery).toThrow(/^PEM_BIGQUERY_API_ENDPOINT/);
    expect(() => engines.duckDb).toThrow(/^PEM_DUCKDB_LOCK_TIMEOUT_MS/);
    expect(engines.engine).toBeNull();
    // Eager (pem check), every one is read at once.
    expect(() => readSettings({ PEM_BIGQUERY_API_ENDPOINT: 'ftp://x' })).toThrow(/^PEM_BIGQUERY_API_ENDPOINT/);
    // The engine is still read at once.
    expect(() => readSettings({ PEM_ENGINE: 'oracle', SLACK_WEBHOOK_URL: 'nope' }, { eager: false })).toThrow(/^PEM_ENGINE 'oracle'/);
  });

  it('refuses a URL with a space in it (a paste that took the next word along), without printing it', () => {
    const secret = 'https://hooks.slack.com/services/T0/B0/SECRETXYZ extra';
    expect(() => readSettings({ SLACK_WEBHOOK_URL: secret })).toThrow(/^SLACK_WEBHOOK_URL is not an http\(s\) URL/);
    try {
      readSettings({ SLACK_WEBHOOK_URL: secret });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('SECRETXYZ');
    }
  });

  it("leaves PEM_TRIGGER_SOURCE to pem check (eager): it is the check's own run's, and stops no other command", () => {
    expect(readSettings({ PEM_TRIGGER_SOURCE: 'x'.repeat(300) }, { eager: false }).selfRecord.timeoutMs).toBeGreaterThan(0);
  });

  it('trims PEM_BIGQUERY_API_ENDPOINT as the other URLs: a pasted line break is no error', () => {
    expect(readSettings({ PEM_BIGQUERY_API_ENDPOINT: 'http://127.0.0.1:9050\n' }).bigQuery.apiEndpoint).toBe('http://127.0.0.1:9050');
  });

  it('redacts a secret as used (trimmed: the value as set holds it), and a webhook path on its own', () => {
    expect(secretValues({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X\r\n' })).toEqual([
      'https://hooks.slack.com/services/T0/B0/X',
      '/services/T0/B0/X',
    ]);
  });

  it("counts the variables every route names among the secrets, whatever their values look like", () => {
    const routes = {
      default: { slack_webhook_env: 'SLACK_WEBHOOK_URL', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY' },
      stats: { slack_webhook_env: 'SLACK_WEBHOOK_URL_STATS', pagerduty_routing_key_env: null },
      props: { slack_webhook_env: null, pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY_PROPS' },
    };
    const env = {
      SLACK_WEBHOOK_URL_STATS: 'https://hooks.slack.com/services/T1/B1/statsToken',
      PAGERDUTY_ROUTING_KEY_PROPS: ' not-a-key-shape ',
      PEM_HEARTBEAT_URL: 'https://hc-ping.com/0000-uuid',
      OTHER: 'not-a-secret',
    };
    expect(destinationSecrets(env, routes).sort()).toEqual(
      [
        'https://hooks.slack.com/services/T1/B1/statsToken',
        '/services/T1/B1/statsToken',
        'not-a-key-shape',
        'https://hc-ping.com/0000-uuid',
        '/0000-uuid',
      ].sort(),
    );
  });

  it('checks PEM_TRIGGER_SOURCE as pem record checks --trigger: no control character, at most 256 characters', () => {
    expect(readSettings({ PEM_TRIGGER_SOURCE: ' backfill ' }).selfRecord.triggerSource).toBe('backfill');
    expect(() => readSettings({ PEM_TRIGGER_SOURCE: 'x\ny' })).toThrow(/^PEM_TRIGGER_SOURCE 'x\?y' holds a control character/);
    expect(() => readSettings({ PEM_TRIGGER_SOURCE: 'x'.repeat(257) })).toThrow('PEM_TRIGGER_SOURCE is longer than 256 characters: name the source, for example PEM_TRIGGER_SOURCE=scheduler');
  });

  it('takes a BigQuery location that names one, and refuses any other text before it reaches BigQuery', () => {
    for (const location of ['US', 'EU', 'us-central1', 'asia-northeast1']) expect(readSettings({ PEM_BIGQUERY_LOCATION: location }).bigQuery.location).toBe(location);
    expect(() => readSettings({ PEM_BIGQUERY_LOCATION: 'US EAST; x' })).toThrow("PEM_BIGQUERY_LOCATION 'US EAST; x' is not a BigQuery location: name one such as US, EU or us-central1");
  });

  it('gives one bad value as the message itself', () => {
    expect(problemsOf({ PEM_ALERT_RETRIES: '99' })).toEqual({
      message: "PEM_ALERT_RETRIES '99' must be a whole number from 0 to 10, for example PEM_ALERT_RETRIES=3",
      details: [],
    });
  });
});
