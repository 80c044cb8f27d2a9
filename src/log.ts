/**
 * Diagnostics go to stderr (stdout belongs to the report or the JSON document). In Cloud Run
 * (K_SERVICE / CLOUD_RUN_JOB set) each line is a JSON object Cloud Logging understands
 * (`severity`, `message`, extra fields); in a terminal it is plain text.
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR';

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Writable {
  write(chunk: string): unknown;
}

export function isCloudRun(env: Record<string, string | undefined>): boolean {
  return Boolean(env.CLOUD_RUN_JOB || env.K_SERVICE);
}

export function createLogger(stream: Writable, options: { json: boolean }): Logger {
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) => {
    if (options.json) {
      stream.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
      return;
    }
    const prefix = severity === 'ERROR' ? 'error: ' : severity === 'WARNING' ? 'warning: ' : '';
    stream.write(`${prefix}${message}\n`);
  };
  return {
    log,
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARNING', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
  };
}
