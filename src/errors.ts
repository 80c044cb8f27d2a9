/**
 * The one error class of the monitor. Only the CLI entry turns `code` into an exit code:
 * `usage` and `config` exit 2 (bad input), `runtime` exits 1 (the monitor itself failed),
 * `threshold` exits 3 (the check ran and its level reached `pem check --fail-on`).
 */
import { printable } from './printable.js';

export type PemErrorCode = 'usage' | 'config' | 'runtime' | 'threshold';

export class PemError extends Error {
  readonly code: PemErrorCode;
  /** Further lines shown under the message (e.g. every registry problem). */
  readonly details: readonly string[];

  constructor(code: PemErrorCode, message: string, details: readonly string[] = []) {
    // Bad input is quoted back to whoever typed it: a line break in a value (--processor $'a\nb')
    // would cut the line before its reason, an escape sequence would recolour the terminal.
    const shown = code === 'usage' || code === 'config' ? (text: string) => shortened(printable(text)) : (text: string) => text;
    super(shown(message));
    this.name = 'PemError';
    this.code = code;
    this.details = details.map(shown);
  }

  /** Every problem it reports: its details when it lists them, else its message. */
  get problems(): readonly string[] {
    return this.details.length > 0 ? this.details : [this.message];
  }
}

/** The longest line of bad input quoted back: a 100,000-character --date was a 100 KB error line. */
const MAX_QUOTED_LINE = 2_000;

/** `text` within MAX_QUOTED_LINE, its start and its end kept (the end says what to do). */
export function shortened(text: string): string {
  if (text.length <= MAX_QUOTED_LINE) return text;
  // Never inside a surrogate pair: half an emoji is a character no terminal shows.
  const highSurrogate = (at: number) => /[\ud800-\udbff]/.test(text.charAt(at));
  const headEnd = highSurrogate(1_399) ? 1_399 : 1_400;
  const tailStart = highSurrogate(text.length - 501) ? text.length - 501 : text.length - 500;
  const head = text.slice(0, headEnd);
  const tail = text.slice(tailStart);
  return `${head} … (${text.length - head.length - tail.length} characters left out) … ${tail}`;
}

export const usageError = (message: string): PemError => new PemError('usage', message);
export const configError = (message: string, details: readonly string[] = []): PemError =>
  new PemError('config', message, details);
export const runtimeError = (message: string): PemError => new PemError('runtime', message);
export const thresholdError = (message: string): PemError => new PemError('threshold', message);

/** The exit codes of `pem` (SPEC §6, plus 3 for the opt-in `pem check --fail-on`). */
export const EXIT_CODES = { ran: 0, monitorFailed: 1, badInput: 2, levelReached: 3 } as const;

/** Exit code for any thrown value: PemError by code, anything else is the monitor failing (1). */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof PemError)) return EXIT_CODES.monitorFailed;
  if (error.code === 'runtime') return EXIT_CODES.monitorFailed;
  if (error.code === 'threshold') return EXIT_CODES.levelReached;
  return EXIT_CODES.badInput;
}

/** The first line of a text, trimmed: messages from libraries can run to many lines. */
export function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/** The first line of an error's message, without stack: what a person reads. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return firstLine(error.message) || error.name;
  return firstLine(String(error));
}

/**
 * An error with what the library's own message leaves out, in parentheses after its first line
 * (a warehouse names a table but not the registry key behind it, or a failed cast but not the
 * column); the original is kept as `cause`.
 */
export function annotated(error: unknown, note: string): PemError {
  const named = runtimeError(`${describeError(error)} (${note})`);
  named.cause = error;
  return named;
}

/** A message without the `source: ` it starts with (a warehouse's description), when a caller names the source itself. */
export function withoutSource(message: string, source: string): string {
  return message.startsWith(`${source}: `) ? message.slice(source.length + 2) : message;
}
