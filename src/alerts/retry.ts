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
import { alertRetryFrom, type AlertRetryOverrides, type Environment } from '../config/env.js';
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

/** The policy with the PEM_ALERT_* overrides of the settings (`config/env.ts` reads and validates them). */
export function retryPolicyWith(overrides: AlertRetryOverrides, base: RetryPolicy = DEFAULT_RETRY_POLICY): RetryPolicy {
  const policy: RetryPolicy = { ...base, ...overrides };
  policy.maxDelayMs = Math.max(policy.maxDelayMs, policy.minDelayMs);
  return policy;
}

/** The policy from an environment's PEM_ALERT_* variables; throws a usage error naming a bad one. */
export function retryPolicyFromEnv(env: Environment, base: RetryPolicy = DEFAULT_RETRY_POLICY): RetryPolicy {
  return retryPolicyWith(alertRetryFrom(env), base);
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the retries are spent. Rejects with
 * the last `TransportError`, its `attempts` set.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  let attempts = 0;
  try {
    // p-retry (6.2.1) heeds only a signal that aborts while it runs: one aborted already is ours to check.
    signal?.throwIfAborted();
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
        // Aborted: no further attempt (p-retry rejects with the signal's reason).
        ...(signal ? { signal } : {}),
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
