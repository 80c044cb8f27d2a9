/**
 * Masking secrets (SPEC §5: webhook URLs, routing keys and credentials never appear in output or
 * logs) in text pem did not write itself: a delivery error's body, or a run's error message, which
 * may quote the very webhook a failing processor posted to.
 */

/** What stands in for a secret in a log line, the terminal, a report or an alert. */
export const REDACTED = '[redacted]';

/** Shorter values are not masked: a one-character "secret" would blank out ordinary words. */
const MIN_SECRET_LENGTH = 6;

/**
 * A function that replaces every occurrence of each secret in a text by `mask`. The longest secret
 * is masked first, so that a webhook URL becomes one mask rather than its host and a mask for its
 * path.
 */
export function secretMasker(secrets: readonly (string | null | undefined)[], mask: string = REDACTED): (text: string) => string {
  const masked = [...new Set(secrets)]
    .filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (masked.length === 0) return (text) => text;
  return (text) => masked.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join(mask) : out), text);
}
