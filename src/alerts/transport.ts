/**
 * The one contract every alert destination keeps (healthchecks' transport pattern): `send` either
 * resolves (delivered) or throws `TransportError`. `permanent` says that trying again cannot help
 * (a 4xx such as a revoked webhook or a malformed event), so the retry loop stops at once; anything
 * else (timeouts, 429, 5xx, connection resets) is retried in one place, `retry.ts`.
 *
 * Messages are written by the transports themselves from status codes and error codes, never
 * copied from the HTTP client's errors: those carry the request URL, and a Slack webhook URL is a
 * secret.
 */
import { secretMasker } from '../secrets.js';

export type AlertDestination = 'slack' | 'pagerduty' | 'console';

export interface Transport<M> {
  readonly destination: AlertDestination;
  /** `signal`: the run is stopping; no further attempt is made, and a request that can be ended is. */
  send(message: M, signal?: AbortSignal): Promise<void>;
}

export interface TransportErrorOptions {
  permanent: boolean;
  /** HTTP status when the destination answered. */
  status?: number | null;
  /** The destination asked us to wait this long before the next attempt (429 Retry-After). */
  retryAfterMs?: number | null;
}

export class TransportError extends Error {
  readonly permanent: boolean;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  /** Attempts made before giving up; set by the retry loop. */
  attempts = 1;

  constructor(message: string, options: TransportErrorOptions) {
    super(message);
    this.name = 'TransportError';
    this.permanent = options.permanent;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** Replaces every secret with `[redacted]`: the last guard before any text reaches a log or stdout. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return secretMasker(secrets)(text);
}

/**
 * Parses a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns milliseconds from `now`, or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Connection-level failures (no HTTP answer), described by code only. */
export function connectionError(code: string | undefined, timeoutMs: number, timedOut: boolean): TransportError {
  if (timedOut) return new TransportError(`timed out after ${timeoutMs} ms`, { permanent: false });
  return new TransportError(`connection failed (${code ?? 'network error'})`, { permanent: false });
}

/** An HTTP answer other than success: 429 and 5xx are worth retrying, other 4xx are not. */
export function httpError(status: number, detail: string | null, retryAfterMs: number | null): TransportError {
  const retryable = status === 429 || status >= 500;
  const suffix = detail ? ` (${detail})` : '';
  return new TransportError(`HTTP ${status}${suffix}`, { permanent: !retryable, status, retryAfterMs });
}
