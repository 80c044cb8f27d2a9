/**
 * Diagnostics go to stderr (stdout belongs to the report or the JSON document). In Cloud Run
 * (K_SERVICE / CLOUD_RUN_JOB set) each line is a JSON object Cloud Logging understands
 * (`severity`, `message`, extra fields such as `processor`); in a terminal it is plain text.
 *
 * Cloud Logging turns a JSON line on stderr into a structured entry and reads its `severity`
 * and `message` keys: https://cloud.google.com/run/docs/logging#special-fields
 */
import { withLayoutOnly } from './printable.js';
import { secretMasker } from './secrets.js';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Writable {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  /** One JSON object per line (Cloud Run) instead of plain text. */
  json: boolean;
  /**
   * Values that must never reach a log line (webhook URLs, routing keys): every occurrence in
   * the message or the fields is replaced by `[redacted]`. Short values are ignored, so that
   * a one-character "secret" cannot blank out ordinary words. Secrets of a known shape (a Slack
   * webhook URL, a route's among them, which these values may not hold) are masked whatever is given.
   */
  redact?: readonly (string | undefined)[];
}


/** Alert levels (SPEC §4/§5) as Cloud Logging severities, so a CRITICAL issue logs as CRITICAL. */
export function severityForLevel(level: 'CRITICAL' | 'ERROR' | 'WARNING' | 'INFO' | 'OK'): Severity {
  return level === 'OK' ? 'INFO' : level;
}

export function createLogger(stream: Writable, options: LoggerOptions): Logger {
  const scrub = secretMasker(options.redact ?? [], { byShape: true });

  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) => {
    stream.write(scrub(options.json ? jsonLine(severity, message, fields) : textLines(severity, message, fields)));
  };
  return {
    log,
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARNING', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
  };
}

/** One line whatever the fields hold: `severity` and `message` cannot be overridden by a field. */
function jsonLine(severity: Severity, message: string, fields: Record<string, unknown>): string {
  const { severity: _severity, message: _message, ...rest } = fields;
  try {
    return `${JSON.stringify({ severity, message, ...rest }, jsonSafe)}\n`;
  } catch {
    // A circular structure in the fields must not lose the message itself.
    return `${JSON.stringify({ severity, message, fields_error: 'fields could not be serialised' })}\n`;
  }
}

/** DuckDB hands back BIGINT as bigint, which JSON.stringify rejects; errors serialise to `{}`. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * Plain text for a person: `warning: gamebook_processor: 3 missing dates`. A `details` list
 * (e.g. every registry problem) follows as indented lines, as `pem config validate` prints it.
 */
function textLines(severity: Severity, message: string, fields: Record<string, unknown>): string {
  const prefix = severity === 'CRITICAL' ? 'critical: ' : severity === 'ERROR' ? 'error: ' : severity === 'WARNING' ? 'warning: ' : '';
  const processor = typeof fields.processor === 'string' && fields.processor !== '' ? `${fields.processor}: ` : '';
  const details = Array.isArray(fields.details) ? fields.details.map((line) => `  - ${withLayoutOnly(String(line))}\n`).join('') : '';
  // What a server or a file said reaches the terminal without its escape sequences (a BigQuery
  // error body, a run's error message): they could recolour or rewrite what was printed before.
  return `${prefix}${withLayoutOnly(processor)}${withLayoutOnly(message)}\n${details}`;
}
