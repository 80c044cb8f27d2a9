/**
 * Sends paced to a destination's rate limit (src/alerts/pace.ts): PagerDuty takes about 120 events
 * a minute per routing key; a run with more to send waits its turn rather than losing the rest to
 * 429s. A fake clock, so nothing here waits.
 */
import { describe, expect, it } from 'vitest';
import { SendPacer, pagerDutyPacer, PAGERDUTY_EVENTS_PER_MINUTE } from '../../src/alerts/pace.js';
import { createPagerDutyTransport } from '../../src/alerts/pagerduty.js';
import { buildPagerDutyResolve } from '../../src/alerts/pagerduty-event.js';
import { DEFAULT_RETRY_POLICY } from '../../src/alerts/retry.js';
import { createServer } from 'node:http';

function fakeTime() {
  let now = 0;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    advance: (ms: number) => void (now += ms),
    waits,
  };
}

describe('SendPacer', () => {
  it('lets `limit` sends through a window, then waits until the oldest leaves it', async () => {
    const time = fakeTime();
    const pacer = new SendPacer(3, 60_000, time.now, time.sleep);
    for (let i = 0; i < 3; i++) await pacer.take();
    expect(time.waits).toEqual([]);
    time.advance(10_000);
    await pacer.take();
    // The first send went at 0: the fourth may go at 60,000, 50,000 from now.
    expect(time.waits).toEqual([50_000]);
    // The window has moved past the first three: two more go at once.
    await pacer.take();
    await pacer.take();
    expect(time.waits).toEqual([50_000]);
    expect(time.now()).toBe(60_000);
    // The window holds three sends at 60,000 now: the next waits a whole window.
    await pacer.take();
    expect(time.waits).toEqual([50_000, 60_000]);
  });

  it('paces 320 pages at 120 a minute: the last goes out after two minutes, none is refused', async () => {
    const time = fakeTime();
    const pacer = new SendPacer(PAGERDUTY_EVENTS_PER_MINUTE, 60_000, time.now, time.sleep);
    const sentAt: number[] = [];
    for (let i = 0; i < 320; i++) {
      await pacer.take();
      sentAt.push(time.now());
    }
    expect(sentAt[119]).toBe(0);
    expect(sentAt[120]).toBe(60_000);
    expect(sentAt[319]).toBe(120_000);
    // No 60 s window holds more than 120 sends.
    for (let i = 120; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 120]!).toBeGreaterThanOrEqual(60_000);
  });

  it('stops waiting when the run is asked to stop', async () => {
    const pacer = new SendPacer(1, 60_000);
    await pacer.take();
    const stop = new AbortController();
    const waiting = pacer.take(stop.signal);
    stop.abort(new Error('stopped by SIGTERM'));
    await expect(waiting).rejects.toThrow();
  });

  it('is one per routing key in a process, shared by the routes that use the key', () => {
    expect(pagerDutyPacer('key-a')).toBe(pagerDutyPacer('key-a'));
    expect(pagerDutyPacer('key-a')).not.toBe(pagerDutyPacer('key-b'));
  });
});

describe('the PagerDuty transport', () => {
  it('takes its turn from the pacer before every request', async () => {
    let received = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        received++;
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end('{"status":"success","message":"Event processed","dedup_key":"k"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const time = fakeTime();
      const transport = createPagerDutyTransport({ url: `http://127.0.0.1:${port}/v2/enqueue`, routingKey: 'r'.repeat(32) }, DEFAULT_RETRY_POLICY, new SendPacer(2, 60_000, time.now, time.sleep));
      for (let i = 0; i < 5; i++) await transport.send(buildPagerDutyResolve(`pem/d/p${i}/stale`));
      expect(received).toBe(5);
      // Two at 0, two at 60,000, the fifth at 120,000.
      expect(time.waits).toEqual([60_000, 60_000]);
      expect(time.now()).toBe(120_000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
