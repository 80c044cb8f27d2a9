/**
 * PagerDuty destination: Events API v2 (`POST /v2/enqueue`) through Node's fetch.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 *
 * The events themselves are built by `pagerduty-event.ts` (pure); this file only delivers one.
 */
import { ellipsize } from '../printable.js';
import { pagerDutyPacer, type SendPacer } from './pace.js';
import { withRetries, type RetryPolicy } from './retry.js';
import type { PagerDutyEvent } from './pagerduty-event.js';
import { connectionError, httpError, parseRetryAfter, redact, type Transport } from './transport.js';


export interface PagerDutyTarget {
  routingKey: string;
  url: string;
}

/**
 * Sends events without the routing key; the transport adds it, so builders never hold it. Events
 * are paced to PagerDuty's limit per routing key (`pace.ts`): each waits its turn, retries included.
 */
export function createPagerDutyTransport(target: PagerDutyTarget, policy: RetryPolicy, pacer: SendPacer = pagerDutyPacer(target.routingKey)): Transport<PagerDutyEvent> {
  return {
    destination: 'pagerduty',
    async send(event, signal) {
      const body = JSON.stringify({ routing_key: target.routingKey, ...event });
      await withRetries(
        async () => {
          await pacer.take(signal);
          return post(target, body, policy.timeoutMs, signal);
        },
        policy,
        signal,
      );
    },
  };
}

async function post(target: PagerDutyTarget, body: string, timeoutMs: number, stop: AbortSignal | undefined): Promise<void> {
  // One controller ended by our own timer or by `stop`, both held here until the answer is read.
  // Not AbortSignal.any([AbortSignal.timeout(…), stop]): on Node 20 the timeout signal inside it can
  // be garbage-collected before it fires (nodejs/node#57736), and a PagerDuty that never answered
  // then held the check for ever (seen: killed after 100–343 s).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const onStop = () => controller.abort(stop?.reason);
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  let response: Response;
  let text = '';
  try {
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        // Never followed: a 302 would drop the body (the event lost, yet answered 2xx by the new
        // address), a 307 would send the routing key to another host. PagerDuty never redirects.
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (error) {
      const e = error as { name?: string; cause?: { code?: string } };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      throw connectionError(e.cause?.code, timeoutMs, timedOut);
    }
    try {
      text = await response.text();
    } catch {
      // The status decides; an unreadable body adds nothing.
    }
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
  if (response.ok) return;
  if (response.status >= 300 && response.status < 400) {
    throw httpError(response.status, 'a redirect, not followed: set PAGERDUTY_EVENTS_URL to the address itself', null);
  }
  throw httpError(response.status, describeBody(text, target.routingKey), parseRetryAfter(response.headers.get('retry-after')));
}

/** PagerDuty answers `{status, message, errors: [...]}`; keep the gist, short and key-free. */
function describeBody(text: string, routingKey: string): string | null {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const parts = [parsed.message, Array.isArray(parsed.errors) ? parsed.errors[0] : undefined]
      .filter((part): part is string => typeof part === 'string' && part.length > 0);
    if (parts.length === 0) return null;
    const detail = parts.join(': ');
    // Masked before it is cut: a key cut in half would no longer be found, its first part shown.
    return ellipsize(redact(detail, [routingKey]), 200);
  } catch {
    return null;
  }
}
