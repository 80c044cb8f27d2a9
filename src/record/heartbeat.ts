/**
 * The monitor's dead-man switch: after each completed check, a request to PEM_HEARTBEAT_URL
 * (healthchecks.io, Cronitor, Better Stack, a Cloud Monitoring uptime check…). When the monitor
 * stops running, the pings stop and that service alerts: something outside the monitor notices.
 *
 * The URL usually embeds a token, so it is never printed: failures name the HTTP status or the
 * network error code only. A failed ping is a warning, never a failed check.
 */
import { heartbeatFrom, type Environment } from '../config/env.js';
import type { Logger } from '../log.js';

/** Sent as the body of a POST ping (never secret). */
export interface HeartbeatDetails {
  runId: string | null;
  processor: string;
  processingDate: string | null;
}

/**
 * Pings the heartbeat URL if PEM_HEARTBEAT_URL is set: GET, or POST with a small JSON body when
 * PEM_HEARTBEAT_METHOD=POST, bounded by PEM_HEARTBEAT_TIMEOUT_MS (default 5,000). Returns
 * whether the ping was answered with a 2xx; never throws.
 */
export async function pingHeartbeat(
  env: Environment,
  log: Logger,
  details: HeartbeatDetails,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const heartbeat = heartbeatFrom(env);
  if (heartbeat.kind === 'off') return false;
  if (heartbeat.kind === 'skipped') {
    log.warn(`heartbeat skipped: ${heartbeat.reason}`);
    return false;
  }
  const { url, method, timeoutMs } = heartbeat;
  try {
    // AbortSignal.timeout's timer is unref'd: a hanging heartbeat never holds the process.
    const response = await fetchImpl(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(method === 'POST'
        ? {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ processor: details.processor, processing_date: details.processingDate, run_id: details.runId, status: 'success' }),
          }
        : {}),
    });
    // Free the connection: the body is not needed.
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return true;
    log.warn(`heartbeat ping failed: HTTP ${response.status}`);
    return false;
  } catch (error) {
    log.warn(`heartbeat ping failed: ${networkReason(error, timeoutMs)}`);
    return false;
  }
}

/** A reason that cannot hold the URL: the abort kind or the system error code, never a message. */
function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: unknown; name?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // fetch refuses some ports outright (https://fetch.spec.whatwg.org/#port-blocking): its cause says
  // only "bad port", under a bare Error.
  if ((e?.cause as { message?: unknown } | undefined)?.message === 'bad port') return "the URL's port is one fetch never connects to (a blocked port: https://fetch.spec.whatwg.org/#port-blocking)";
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.cause?.name === 'string' ? e.cause.name : e?.name;
  return `network error${code ? ` (${code})` : ''}`;
}
