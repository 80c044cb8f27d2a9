/**
 * The monitor's dead-man switch: after each completed check, a request to PEM_HEARTBEAT_URL
 * (healthchecks.io, Cronitor, Better Stack, a Cloud Monitoring uptime check…). When the monitor
 * stops running, the pings stop and that service alerts: something outside the monitor notices.
 *
 * The URL usually embeds a token, so it is never printed: failures name the HTTP status or the
 * network error code only. A failed ping is a warning, never a failed check.
 */
import type { Logger } from '../log.js';

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5_000;

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
  env: Record<string, string | undefined>,
  log: Logger,
  details: HeartbeatDetails,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const raw = env.PEM_HEARTBEAT_URL?.trim();
  if (!raw) return false;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    log.warn('heartbeat skipped: PEM_HEARTBEAT_URL is not an http(s) URL');
    return false;
  }
  const method = (env.PEM_HEARTBEAT_METHOD ?? 'GET').trim().toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    log.warn(`heartbeat skipped: PEM_HEARTBEAT_METHOD '${method}' must be GET or POST`);
    return false;
  }
  const timeoutMs = parseTimeout(env.PEM_HEARTBEAT_TIMEOUT_MS);
  if (timeoutMs === null) {
    log.warn('heartbeat skipped: PEM_HEARTBEAT_TIMEOUT_MS must be a whole number of milliseconds, for example 5000');
    return false;
  }
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

function parseTimeout(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return DEFAULT_HEARTBEAT_TIMEOUT_MS;
  const n = Number(value.trim());
  return /^\d+$/.test(value.trim()) && n > 0 ? n : null;
}

/** A reason that cannot hold the URL: the abort kind or the system error code, never a message. */
function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: unknown; name?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.cause?.name === 'string' ? e.cause.name : e?.name;
  return `network error${code ? ` (${code})` : ''}`;
}
