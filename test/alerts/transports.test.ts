/**
 * The transports and the one retry loop, against HTTP servers on 127.0.0.1: the real
 * `@slack/webhook` client and the real PagerDuty client (fetch). Waits are injected: Retry-After
 * is recorded instead of slept, and backoff is a millisecond.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPagerDutyResolve } from '../../src/alerts/pagerduty-event.js';
import { createPagerDutyTransport } from '../../src/alerts/pagerduty.js';
import { DEFAULT_RETRY_POLICY, retryPolicyFromEnv, type RetryPolicy } from '../../src/alerts/retry.js';
import type { SlackMessage } from '../../src/alerts/slack-message.js';
import { createSlackTransport } from '../../src/alerts/slack.js';
import { parseRetryAfter, TransportError } from '../../src/alerts/transport.js';
import { PemError } from '../../src/errors.js';
import { pagerDutyOk, ROUTING_KEY, SLACK_PATH, slackOk, startFakeServer, type FakeServer, type Handler } from './support.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(path: string, handler: Handler): Promise<FakeServer> {
  const s = await startFakeServer(path, handler);
  servers.push(s);
  return s;
}

function fastPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy & { slept: number[] } {
  const slept: number[] = [];
  return {
    ...DEFAULT_RETRY_POLICY,
    retries: 3,
    minDelayMs: 1,
    maxDelayMs: 2,
    // Generous: a loaded machine must not time out an answer; tests of a server that never answers set their own.
    timeoutMs: 5_000,
    maxRetryAfterMs: 60_000,
    sleep: async (ms) => {
      slept.push(ms);
    },
    slept,
    ...overrides,
  };
}

const message: SlackMessage = { text: 'pem: test', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }], unfurl_links: false, unfurl_media: false };

/** Answers with `first` for the first `n` requests, then with `then`. */
const firstThen = (n: number, first: Handler, then: Handler): Handler => (req, i) => (i < n ? first(req, i) : then(req, i));

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError);
    return error as TransportError;
  }
  throw new Error('expected the send to fail');
}

describe('the Slack transport', () => {
  it('counts a message Slack answered 200 as delivered, though the connection broke before the body ended (a retry would post it twice)', async () => {
    const slack = await server(SLACK_PATH, () => 'accept-then-drop');
    await createSlackTransport(slack.url, fastPolicy()).send(message);
    expect(slack.requests).toHaveLength(1);
  });

  it('says a redirect is one, as for PagerDuty, and follows none', async () => {
    const elsewhere = await server(SLACK_PATH, slackOk);
    const slack = await server(SLACK_PATH, () => ({ status: 302, headers: { location: elsewhere.url } }));
    const error = await failure(createSlackTransport(slack.url, fastPolicy()).send(message));
    expect(elsewhere.requests).toHaveLength(0);
    expect(error.message).toBe('HTTP 302 (a redirect, not followed: set the webhook variable to the address Slack gave)');
  });

  it('posts the message as JSON with nothing added by the client', async () => {
    const slack = await server(SLACK_PATH, slackOk);
    await createSlackTransport(slack.url, fastPolicy()).send(message);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.path).toBe(SLACK_PATH);
    expect(slack.requests[0]!.headers['content-type']).toMatch(/application\/json/);
    // The client merges its defaults into the payload; the timeout must not ride along.
    expect(slack.requests[0]!.body).toEqual(message);
  });

  it('waits what a 429 Retry-After asks, then delivers', async () => {
    const slack = await server(SLACK_PATH, firstThen(1, () => ({ status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } }), slackOk));
    const policy = fastPolicy();
    await createSlackTransport(slack.url, policy).send(message);
    expect(slack.requests).toHaveLength(2);
    expect(policy.slept).toEqual([7000]);
  });

  it('retries a 5xx with backoff until it succeeds', async () => {
    const slack = await server(SLACK_PATH, firstThen(2, () => ({ status: 500, body: 'rollup_error' }), slackOk));
    await createSlackTransport(slack.url, fastPolicy()).send(message);
    expect(slack.requests).toHaveLength(3);
  });

  it('gives up after the bounded retries and says how many attempts it made', async () => {
    const slack = await server(SLACK_PATH, () => ({ status: 503 }));
    const error = await failure(createSlackTransport(slack.url, fastPolicy({ retries: 2 })).send(message));
    expect(slack.requests).toHaveLength(3);
    expect(error.attempts).toBe(3);
    expect(error.message).toBe('HTTP 503');
    expect(error.permanent).toBe(false);
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
  ])('stops at once on a permanent %i (%s)', async (status, body) => {
    const slack = await server(SLACK_PATH, () => ({ status, body }));
    const error = await failure(createSlackTransport(slack.url, fastPolicy()).send(message));
    expect(slack.requests).toHaveLength(1);
    expect(error.permanent).toBe(true);
    expect(error.message).toBe(`HTTP ${status} (${body})`);
  });

  it('times out a server that never answers, retries, and fails naming the timeout', async () => {
    const slack = await server(SLACK_PATH, () => 'hang');
    const error = await failure(createSlackTransport(slack.url, fastPolicy({ retries: 1, timeoutMs: 150 })).send(message));
    expect(slack.requests).toHaveLength(2);
    expect(error.message).toBe('timed out after 150 ms');
  });

  it('reports a refused connection by its code, never by its URL', async () => {
    const slack = await server(SLACK_PATH, slackOk);
    const url = slack.url;
    await slack.close();
    servers.splice(servers.indexOf(slack), 1);
    const error = await failure(createSlackTransport(url, fastPolicy({ retries: 1 })).send(message));
    expect(error.message).toBe('connection failed (ECONNREFUSED)');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('does not wait a Retry-After longer than a run allows, and fails now instead', async () => {
    const slack = await server(SLACK_PATH, () => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const policy = fastPolicy({ maxRetryAfterMs: 60_000 });
    const error = await failure(createSlackTransport(slack.url, policy).send(message));
    expect(slack.requests).toHaveLength(1);
    expect(policy.slept).toEqual([]);
    expect(error.message).toContain('asked to wait 3600 s');
  });
});

describe('the PagerDuty transport', () => {
  const target = (url: string) => ({ routingKey: ROUTING_KEY, url });

  it('posts the event with the routing key added', async () => {
    const pd = await server('/v2/enqueue', pagerDutyOk);
    await createPagerDutyTransport(target(pd.url), fastPolicy()).send(buildPagerDutyResolve('pem/ds/p/stale'));
    expect(pd.requests[0]!.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'pem/ds/p/stale' });
    expect(pd.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('honours Retry-After on 429 (seconds or an HTTP date)', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const pd = await server(
      '/v2/enqueue',
      firstThen(2, (_r, i) => ({ status: 429, headers: { 'retry-after': i === 0 ? '2' : at } }), pagerDutyOk),
    );
    const policy = fastPolicy();
    await createPagerDutyTransport(target(pd.url), policy).send(buildPagerDutyResolve('k'));
    expect(pd.requests).toHaveLength(3);
    expect(policy.slept[0]).toBe(2000);
    expect(policy.slept[1]).toBeGreaterThan(25_000);
    expect(policy.slept[1]).toBeLessThanOrEqual(30_000);
  });

  it('retries 5xx and a 429 without Retry-After on backoff alone', async () => {
    const pd = await server('/v2/enqueue', firstThen(2, (_r, i) => ({ status: i === 0 ? 502 : 429 }), pagerDutyOk));
    const policy = fastPolicy();
    await createPagerDutyTransport(target(pd.url), policy).send(buildPagerDutyResolve('k'));
    expect(pd.requests).toHaveLength(3);
    expect(policy.slept).toEqual([]);
  });

  it('stops at once on 400 and keeps the gist of the answer without the routing key', async () => {
    const pd = await server('/v2/enqueue', () => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [`routing_key ${ROUTING_KEY} is not valid`] }),
    }));
    const error = await failure(createPagerDutyTransport(target(pd.url), fastPolicy()).send(buildPagerDutyResolve('k')));
    expect(pd.requests).toHaveLength(1);
    expect(error.status).toBe(400);
    expect(error.message).toBe('HTTP 400 (Event object is invalid: routing_key [redacted] is not valid)');
    expect(error.message).not.toContain(ROUTING_KEY);
  });

  it.each([302, 307])('follows no redirect (HTTP %i): the event is neither dropped nor sent with its key to another host', async (status) => {
    const elsewhere = await server('/v2/enqueue', pagerDutyOk);
    const pd = await server('/v2/enqueue', () => ({ status, headers: { location: elsewhere.url } }));
    const error = await failure(createPagerDutyTransport(target(pd.url), fastPolicy()).send(buildPagerDutyResolve('k')));
    expect(pd.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
    expect(error.status).toBe(status);
    expect(error.message).toBe(`HTTP ${status} (a redirect, not followed: set PAGERDUTY_EVENTS_URL to the address itself)`);
  });

  it('times out a server that never answers', async () => {
    const pd = await server('/v2/enqueue', () => 'hang');
    const error = await failure(createPagerDutyTransport(target(pd.url), fastPolicy({ retries: 1, timeoutMs: 150 })).send(buildPagerDutyResolve('k')));
    expect(pd.requests).toHaveLength(2);
    expect(error.message).toBe('timed out after 150 ms');
    expect(error.attempts).toBe(2);
  });
});

describe('PagerDuty timeouts under garbage collection', () => {
  it('times out a server that never answers though the heap is collected while it waits, when a stop signal is passed too', async () => {
    // Node 20: the timeout signal inside AbortSignal.any([timeout, stop]) could be collected before
    // it fired (nodejs/node#57736), and the request then waited for ever (a check held 100–343 s).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pd = await server('/v2/enqueue', () => 'hang');
    const stop = new AbortController();
    const sending = failure(createPagerDutyTransport({ routingKey: ROUTING_KEY, url: pd.url }, fastPolicy({ retries: 0, timeoutMs: 300 })).send(buildPagerDutyResolve('k'), stop.signal));
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
    }
    const error = await Promise.race([sending, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 5 s')), 5_000))]);
    expect(error.message).toBe('timed out after 300 ms');
  });
});

describe('retry settings', () => {
  it('reads the PEM_ALERT_* overrides', () => {
    const policy = retryPolicyFromEnv({ PEM_ALERT_RETRIES: '5', PEM_ALERT_BACKOFF_MS: '250', PEM_ALERT_TIMEOUT_MS: '2000', PEM_ALERT_MAX_RETRY_AFTER_MS: '0' });
    expect(policy).toMatchObject({ retries: 5, minDelayMs: 250, timeoutMs: 2000, maxRetryAfterMs: 0 });
  });

  it.each([['PEM_ALERT_RETRIES', 'many'], ['PEM_ALERT_TIMEOUT_MS', '0'], ['PEM_ALERT_RETRIES', '11']])('rejects %s=%s naming the variable and a good value', (name, value) => {
    expect(() => retryPolicyFromEnv({ [name]: value })).toThrow(PemError);
    expect(() => retryPolicyFromEnv({ [name]: value })).toThrow(new RegExp(`${name} '${value}' must be a whole number.*for example ${name}=`));
  });

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['soon', null],
    [undefined, null],
  ])('parses Retry-After %s', (value, expected) => {
    expect(parseRetryAfter(value)).toBe(expected);
  });
});

describe('a stop signal (SIGTERM during delivery)', () => {
  // A destination failing in a way worth retrying, with back-off long enough to abort inside.
  const retrying = () => fastPolicy({ retries: 3, minDelayMs: 300, maxDelayMs: 300 });

  it('makes no further Slack attempt once aborted', async () => {
    const slack = await server(SLACK_PATH, () => ({ status: 503 }));
    const stop = new AbortController();
    const sending = failure(createSlackTransport(slack.url, retrying()).send(message, stop.signal));
    while (slack.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort(new Error('stopped'));
    await sending;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(slack.requests).toHaveLength(1);
  });

  it('ends the PagerDuty request in flight and makes no further attempt', async () => {
    const pagerduty = await server('/v2/enqueue', () => 'hang');
    const stop = new AbortController();
    const t0 = performance.now();
    const sending = failure(
      createPagerDutyTransport({ url: pagerduty.url, routingKey: ROUTING_KEY }, fastPolicy({ retries: 3, minDelayMs: 300, maxDelayMs: 300, timeoutMs: 30_000 })).send(buildPagerDutyResolve('pem/d/p/stale'), stop.signal),
    );
    while (pagerduty.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort(new Error('stopped'));
    await sending;
    expect(performance.now() - t0).toBeLessThan(5_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(pagerduty.requests).toHaveLength(1);
  });
});

describe('a stop signal aborted before the send', () => {
  it('makes no attempt at all, on Slack or PagerDuty', async () => {
    const slack = await server(SLACK_PATH, slackOk);
    const pagerduty = await server('/v2/enqueue', pagerDutyOk);
    const stopped = AbortSignal.abort(new Error('stopped'));
    await failure(createSlackTransport(slack.url, fastPolicy()).send(message, stopped));
    await failure(createPagerDutyTransport({ url: pagerduty.url, routingKey: ROUTING_KEY }, fastPolicy()).send(buildPagerDutyResolve('pem/d/p/stale'), stopped));
    expect(slack.requests).toHaveLength(0);
    expect(pagerduty.requests).toHaveLength(0);
  });
});
