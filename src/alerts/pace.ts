/**
 * Pacing of a destination's sends: at most `limit` in any `windowMs`. PagerDuty's Events API v2
 * takes about 120 events a minute per routing key and answers 429 beyond it
 * (https://developer.pagerduty.com/docs/events-api-v2/overview/#rate-limits); a run that pages for
 * a large outage waits its turn instead of losing every page past the limit to retries that come
 * too soon.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const abortableSleep: Sleep = (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {});

export class SendPacer {
  /** When the sends of the current window went, oldest first. */
  private readonly sent: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = abortableSleep,
  ) {}

  /** Waits until one more send fits in the window, and counts it; rejects when `signal` aborts meanwhile. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - this.windowMs) this.sent.shift();
      if (this.sent.length < this.limit) {
        this.sent.push(now);
        return;
      }
      await this.sleep(this.sent[0]! + this.windowMs - now, signal);
    }
  }
}

/** PagerDuty's Events API v2 limit per routing key. */
export const PAGERDUTY_EVENTS_PER_MINUTE = 120;

const pagerDutyPacers = new Map<string, SendPacer>();

/** The one pacer of a routing key in this process: routes that share a key share its minute. */
export function pagerDutyPacer(routingKey: string): SendPacer {
  let pacer = pagerDutyPacers.get(routingKey);
  if (!pacer) pagerDutyPacers.set(routingKey, (pacer = new SendPacer(PAGERDUTY_EVENTS_PER_MINUTE, 60_000)));
  return pacer;
}
