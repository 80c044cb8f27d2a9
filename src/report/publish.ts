/**
 * Publishing the HTML report of a check to Cloud Storage (SPEC §11: `pem check --publish-report
 * gs://BUCKET/PATH.html` or PEM_REPORT_URI), with `@google-cloud/storage`.
 *
 * - The client is a large module: it is loaded only when a report is published.
 * - A report is a few hundred kilobytes, so it goes up in one multipart request; a report over
 *   RESUMABLE_THRESHOLD_BYTES uses a resumable upload, which Cloud Storage recommends for large
 *   objects (https://cloud.google.com/storage/docs/uploads-downloads#size).
 * - Writing the same object again with the report of the same run is harmless, so every attempt
 *   may be retried (`IdempotencyStrategy.RetryAlways`); 429, 5xx and connection errors are retried
 *   by the client (https://cloud.google.com/storage/docs/retry-strategy), 4xx are not.
 * - `Cache-Control: no-cache`: whoever opens the report link gets this run's report, not a cached one.
 */
import { usageError } from '../errors.js';

export const RESUMABLE_THRESHOLD_BYTES = 5 * 1024 * 1024;

export interface ReportLocation {
  bucket: string;
  object: string;
  uri: string;
}

/** Bucket names: 3–63 characters (up to 222 with dots), lowercase letters, digits, `-`, `_`, `.`. */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Parses `gs://BUCKET/PATH`; a usage error (exit 2) naming the flag or variable otherwise. */
export function parseReportUri(uri: string, source: string): ReportLocation {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri.trim());
  if (!match || !BUCKET.test(match[1]!) || match[2]!.endsWith('/')) {
    throw usageError(`${source} '${uri}' is not a Cloud Storage object: use gs://BUCKET/PATH.html, for example gs://my-pem-reports/health.html`);
  }
  return { bucket: match[1]!, object: match[2]!, uri: `gs://${match[1]}/${match[2]}` };
}

export interface PublishOptions {
  /** An emulator or a test's loopback stand-in (PEM_STORAGE_API_ENDPOINT / STORAGE_EMULATOR_HOST). */
  apiEndpoint?: string | undefined;
  projectId?: string | undefined;
  /** Retries after the first attempt (PEM_ALERT_RETRIES: the same budget as an alert's). */
  retries: number;
  /** Per request (PEM_ALERT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Reports at least this large use a resumable upload. */
  resumableThresholdBytes?: number;
}

/** Uploads `html` to `location`; throws with a short reason (never a stack, never a credential). */
export async function publishReport(html: string | Buffer, location: ReportLocation, options: PublishOptions): Promise<void> {
  const { Storage, IdempotencyStrategy } = await import('@google-cloud/storage');
  const storage = new Storage({
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint.replace(/\/+$/, '') } : {}),
    ...(options.projectId ? { projectId: options.projectId } : {}),
    timeout: options.timeoutMs,
    retryOptions: {
      autoRetry: options.retries > 0,
      maxRetries: options.retries,
      // The client waits 2^attempt seconds (and up to 1 s of jitter) between attempts.
      retryDelayMultiplier: 2,
      maxRetryDelay: 8,
      totalTimeout: Math.max(10, Math.ceil((options.timeoutMs * (options.retries + 1)) / 1000) + 16),
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  });
  const body = typeof html === 'string' ? Buffer.from(html, 'utf8') : html;
  await storage
    .bucket(location.bucket)
    .file(location.object)
    .save(body, {
      resumable: body.length >= (options.resumableThresholdBytes ?? RESUMABLE_THRESHOLD_BYTES),
      validation: 'crc32c',
      timeout: options.timeoutMs,
      metadata: { contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' },
    });
}

/**
 * The gist of a Cloud Storage failure, whichever protocol failed: the HTTP status and Cloud
 * Storage's own message (`{"error": {"message"}}` of the JSON API), or the connection's error code.
 */
export function describeStorageError(error: unknown): string {
  const e = error as {
    code?: unknown;
    status?: unknown;
    message?: unknown;
    response?: { status?: unknown; data?: { error?: { message?: unknown } } };
  };
  const status = [e.code, e.status, e.response?.status].find((v): v is number => typeof v === 'number');
  const apiMessage = e.response?.data?.error?.message;
  const message = typeof apiMessage === 'string' ? apiMessage : typeof e.message === 'string' ? e.message.split('\n')[0]! : null;
  const code = typeof e.code === 'string' && !(message ?? '').includes(e.code) ? e.code : null;
  return [status === undefined ? null : `HTTP ${status}`, code, message?.slice(0, 200)].filter(Boolean).join(': ') || 'unexpected error';
}
