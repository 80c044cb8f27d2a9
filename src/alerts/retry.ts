/**
 * Retries live here and nowhere else. Every transport throws `TransportError`; this loop retries
 * what is worth retrying (timeouts, connection failures, 429, 5xx) a bounded number of times with
 * exponential backoff, waits what a 429's Retry-After asks, and stops at once on a permanent error.
 *
 * Why these rules: PagerDuty's Events API v2 says to retry 429, 5xx and network errors and not 400
 * (https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic);
 * Slack's incoming webhooks answer 400/403/404/410 for payloads and channels that will not get
 * better by waiting (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
 */
import pRetry, { AbortError } from 'p-retry';
import { usageError } from '../errors.js';
import { TransportError } from './transport.js';

export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts at most). */
  retries: number;
  /** First backoff; doubles each retry up to `maxDelayMs`. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /**
   * The longest Retry-After this run waits. A destination asking for longer is treated as a
   * failure now (the next run tries again) rather than holding the job for minutes.
   */
  maxRetryAfterMs: number;
  /** How Retry-After waits happen; tests inject a recorder instead of sleeping. */
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 3,
  minDelayMs: 1_000,
  maxDelayMs: 30_000,
  timeoutMs: 10_000,
  maxRetryAfterMs: 60_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Environment overrides (documented in docs/alerts.md), each a whole number. */
const ENV_KNOBS = {
  PEM_ALERT_RETRIES: { key: 'retries', min: 0, max: 10, example: 3 },
  PEM_ALERT_BACKOFF_MS: { key: 'minDelayMs', min: 0, max: 600_000, example: 1000 },
  PEM_ALERT_TIMEOUT_MS: { key: 'timeoutMs', min: 1, max: 600_000, example: 10000 },
  PEM_ALERT_MAX_RETRY_AFTER_MS: { key: 'maxRetryAfterMs', min: 0, max: 3_600_000, example: 60000 },
} as const;

export function retryPolicyFromEnv(env: Record<string, string | undefined>, base: RetryPolicy = DEFAULT_RETRY_POLICY): RetryPolicy {
  const policy: RetryPolicy = { ...base };
  for (const [name, knob] of Object.entries(ENV_KNOBS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || value < knob.min || value > knob.max) {
      throw usageError(`${name} '${raw}' must be a whole number from ${knob.min} to ${knob.max}, for example ${name}=${knob.example}`);
    }
    policy[knob.key] = value;
  }
  policy.maxDelayMs = Math.max(policy.maxDelayMs, policy.minDelayMs);
  return policy;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the retries are spent. Rejects with
 * the last `TransportError`, its `attempts` set.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts++;
        try {
          return await attempt();
        } catch (error) {
          const failure = asTransportError(error);
          if (failure.permanent) throw new AbortError(failure);
          if (failure.retryAfterMs !== null && failure.retryAfterMs > policy.maxRetryAfterMs) {
            throw new AbortError(
              new TransportError(
                `${failure.message}, asked to wait ${Math.ceil(failure.retryAfterMs / 1000)} s (more than the ${Math.ceil(policy.maxRetryAfterMs / 1000)} s a run waits)`,
                { permanent: false, status: failure.status, retryAfterMs: failure.retryAfterMs },
              ),
            );
          }
          throw failure;
        }
      },
      {
        retries: policy.retries,
        factor: 2,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        randomize: true,
        onFailedAttempt: async (error) => {
          // Honour Retry-After on top of the backoff, unless no attempt is left to use it.
          const retryAfter = (error as unknown as TransportError).retryAfterMs;
          if (error.retriesLeft > 0 && typeof retryAfter === 'number' && retryAfter > 0) await policy.sleep(retryAfter);
        },
      },
    );
  } catch (error) {
    const failure = asTransportError(error);
    failure.attempts = attempts;
    throw failure;
  }
}

function asTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  // Never echo a foreign error's message: HTTP clients put the request URL in it.
  const name = error instanceof Error ? error.name : typeof error;
  return new TransportError(`unexpected ${name}`, { permanent: true });
}
