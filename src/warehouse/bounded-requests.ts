/**
 * Bounds the HTTP requests a piece of work makes: an idle timeout per request, and destruction of
 * every request still open when the work's signal aborts, so no socket outlives its bound.
 *
 * Why not the BigQuery client's `timeout` option: @google-cloud/common passes it to
 * teeny-request, which hands it to node-fetch 3, which dropped `timeout` for AbortSignal;
 * teeny-request passes no signal. So a BigQuery request has no timeout at all, and one that is
 * never answered keeps the process waiting for as long as the connection stays open. Node
 * publishes each outgoing request on the `http.client.request.start` diagnostics channel, in the
 * async context that made it, so the requests of one piece of work (and only them) can be bounded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export interface RequestBound {
  /** Idle time after which one request is given up. */
  timeoutMs: number;
  /** Ends every request still open when it aborts. */
  signal: AbortSignal;
}

const bounds = new AsyncLocalStorage<RequestBound>();
let subscribed = false;

function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.client.request.start', (message) => {
    const bound = bounds.getStore();
    if (!bound) return;
    const { request } = message as { request: ClientRequest };
    const end = (reason: unknown) => request.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    if (bound.signal.aborted) return end(bound.signal.reason);
    const onAbort = () => end(bound.signal.reason);
    bound.signal.addEventListener('abort', onAbort, { once: true });
    // ETIMEDOUT: a network failure a retry may cure (`isTransient` in bigquery-client.ts).
    request.setTimeout(bound.timeoutMs, () => end(Object.assign(new Error(`no answer within ${bound.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.once('close', () => bound.signal.removeEventListener('abort', onAbort));
  });
}

/** Runs `work` with every HTTP request it makes bounded by `bound`. */
export function withBoundedRequests<T>(bound: RequestBound, work: () => Promise<T>): Promise<T> {
  subscribeOnce();
  return bounds.run(bound, work);
}
