/**
 * Slack destination: one incoming-webhook message per run, sent with `@slack/webhook`.
 * The message itself is built by `slack-message.ts` (pure); this file only delivers it.
 */
import { IncomingWebhook, type IncomingWebhookDefaultArguments } from '@slack/webhook';
import { withRetries, type RetryPolicy } from './retry.js';
import type { SlackMessage } from './slack-message.js';
import { connectionError, httpError, parseRetryAfter, TransportError, type Transport } from './transport.js';


export function createSlackTransport(webhookUrl: string, policy: RetryPolicy): Transport<SlackMessage> {
  const defaults: IncomingWebhookDefaultArguments = {
    timeout: policy.timeoutMs,
    // Retries happen in retry.ts only (the client's own p-retry would multiply attempts).
    retryConfig: { retries: 0 },
  };
  const webhook = new IncomingWebhook(webhookUrl, defaults);
  // Vendor quirk: @slack/webhook 7.2.0 keeps this very object and merges it into every posted
  // payload; it strips `agent` and `retryConfig` but not `timeout`, which would be posted to
  // Slack as a message field. The axios instance already holds the timeout.
  delete defaults.timeout;
  return {
    destination: 'slack',
    async send(message, signal) {
      // @slack/webhook takes no signal: an attempt in flight runs its course, but none follows.
      await withRetries(async () => {
        try {
          await webhook.send(message);
        } catch (error) {
          // Slack answered 2xx, then the connection broke before its body ended: the message is
          // Slack's (a retry, or the next run, would post it twice).
          if (acceptedBeforeFailure(error)) return;
          throw slackError(error, policy.timeoutMs);
        }
      }, policy, signal);
    },
  };
}

interface SlackClientError {
  code?: string;
  original?: {
    code?: string;
    response?: { status: number; headers?: Record<string, unknown>; data?: unknown };
  };
}

/** Whether the client failed after Slack had answered with a 2xx status. */
function acceptedBeforeFailure(error: unknown): boolean {
  const status = (error as SlackClientError).original?.response?.status;
  return typeof status === 'number' && status >= 200 && status < 300;
}

/**
 * Maps the client's errors (`slack_webhook_http_error` with the axios response, or
 * `slack_webhook_request_error` when nothing answered) to a TransportError. Slack answers with a
 * short reason in the body (`invalid_payload`, `channel_not_found`, `no_service`…), kept when short.
 */
function slackError(error: unknown, timeoutMs: number): TransportError {
  const e = error as SlackClientError;
  const response = e.original?.response;
  if (e.code === 'slack_webhook_http_error' && response) {
    const header = response.headers?.['retry-after'];
    const body = typeof response.data === 'string' && /^[a-z_]{1,60}$/.test(response.data.trim()) ? response.data.trim() : null;
    // As PagerDuty's: a redirect says what it is (Slack's webhooks never redirect; a proxy or a URL
    // copied from a page that moves would).
    const redirect = response.status >= 300 && response.status < 400 ? 'a redirect, not followed: set the webhook variable to the address Slack gave' : null;
    return httpError(response.status, redirect ?? body, parseRetryAfter(header === undefined ? null : String(header)));
  }
  if (e.code === 'slack_webhook_request_error') {
    const code = e.original?.code;
    return connectionError(code, timeoutMs, code === 'ECONNABORTED' || code === 'ETIMEDOUT');
  }
  return new TransportError('unexpected error from the Slack client', { permanent: true });
}
