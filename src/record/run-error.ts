/**
 * Turns what a processor threw into the `{error_type, error_message}` entries of a run row, and
 * keeps them small: a run row is written by a streaming insert (BigQuery caps a row at 10 MB and
 * a request at 10 MB) and its message ends up in a Slack section (3,000 characters at most).
 */
import type { RunError } from '../warehouse/run-row.js';

/** Longest `error_message` stored; longer ones are cut with a note of the original length. */
export const MAX_ERROR_MESSAGE_CHARS = 4_000;
/** Longest `error_type` stored. */
export const MAX_ERROR_TYPE_CHARS = 200;
/** Most entries in one row's `errors`; the last entry kept says how many were dropped. */
export const MAX_ERRORS_PER_ROW = 20;
/** How deep `cause` chains are followed into the message. */
const MAX_CAUSE_DEPTH = 3;

/**
 * The run error for a thrown value. `error_type` is the error's `name`, or its class when the name
 * is the inherited 'Error' (`class FetchFailed extends Error {}` gives 'FetchFailed'); values that
 * are not errors get their type (`string`, `object`, …). Causes are appended to the message.
 */
export function runErrorFrom(thrown: unknown): RunError {
  // A thrown value can throw in turn when read (a getter, a Proxy's traps): the run is still failed.
  const read = (part: () => string, fallback: string, detail: boolean): string => {
    try {
      return part();
    } catch (error) {
      return detail ? `${fallback} (${safeText(error)})` : fallback;
    }
  };
  return boundRunError({
    error_type: read(() => errorType(thrown), 'Unreadable', false),
    error_message: read(() => errorMessage(thrown, 0), 'the thrown value could not be read', true),
  });
}

/** What a value says of itself, whatever it does when read. */
function safeText(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return 'a value that cannot be read';
  }
}

/** Cuts an error's type and message to the stored bounds. */
export function boundRunError(error: RunError): RunError {
  return {
    error_type: truncate(String(error.error_type ?? ''), MAX_ERROR_TYPE_CHARS),
    error_message: truncate(String(error.error_message ?? ''), MAX_ERROR_MESSAGE_CHARS),
  };
}

/** Bounds every entry and the number of entries. */
export function boundRunErrors(errors: readonly RunError[]): RunError[] {
  const bounded = errors.slice(0, MAX_ERRORS_PER_ROW).map(boundRunError);
  if (errors.length > MAX_ERRORS_PER_ROW) {
    bounded[MAX_ERRORS_PER_ROW - 1] = {
      error_type: 'TooManyErrors',
      error_message: `${errors.length - MAX_ERRORS_PER_ROW + 1} more errors were not recorded`,
    };
  }
  return bounded;
}

/** Cuts `text` to at most `max` characters, never inside a surrogate pair, saying what was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = ` … [truncated from ${text.length} characters]`;
  let end = Math.max(0, max - note.length);
  // Do not split a UTF-16 surrogate pair (an emoji in a message would become invalid UTF-8).
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end -= 1;
  return `${text.slice(0, end)}${note}`;
}

function errorType(thrown: unknown): string {
  if (thrown instanceof Error) {
    const constructorName = thrown.constructor?.name;
    if (thrown.name && thrown.name !== 'Error') return thrown.name;
    return constructorName || 'Error';
  }
  if (thrown === null) return 'null';
  if (typeof thrown === 'object') return (thrown as object).constructor?.name || 'object';
  return typeof thrown;
}

function errorMessage(thrown: unknown, depth: number): string {
  if (!(thrown instanceof Error)) return describeValue(thrown);
  let message = thrown.message || thrown.name || 'Error';
  const cause = (thrown as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    message += ` (caused by ${errorType(cause)}: ${errorMessage(cause, depth + 1)})`;
  }
  return message;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Circular or BigInt: fall back to String().
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
