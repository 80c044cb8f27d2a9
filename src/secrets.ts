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
 * Secrets known by their shape, whoever's they are and whatever the environment holds: a Slack
 * webhook or workflow URL, a Slack token, the password of a URL (`scheme://user:password@`, the
 * user kept). Not a PagerDuty routing key: 32 letters and digits are as often a hash or an id.
 */
const SECRET_SHAPES: readonly { shape: RegExp; replacement: string; needs: string }[] = [
  // Each starts where a word starts (a lookbehind, not \b: \b restarts inside a.b.c… at every dot,
  // quadratic over a long message), and stops at a backslash, so that a JSON line's escapes survive.
  { shape: /(?<![A-Za-z0-9+.-])https?:\/\/hooks\.slack\.com\/[^\s'"<>`\\]+/gi, replacement: REDACTED, needs: '://' },
  { shape: /(?<![A-Za-z0-9_-])xox[a-z]-[A-Za-z0-9-]+/g, replacement: REDACTED, needs: 'xox' },
  { shape: /(?<![A-Za-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^/\s:@'"<>`\\]*):[^/\s@'"<>`\\]+@/gi, replacement: `$1:${REDACTED}@`, needs: '://' },
];

/**
 * A function that replaces every occurrence of each secret in a text by REDACTED. The longest
 * secret is masked first, so that a webhook URL becomes one mask rather than its host and a mask
 * for its path. `byShape`: also every secret SECRET_SHAPES knows (for text from elsewhere: a run's
 * error message).
 */
export function secretMasker(secrets: readonly (string | null | undefined)[], options: { byShape?: boolean } = {}): (text: string) => string {
  const masked = [...new Set(secrets)]
    .filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  const byValue = (text: string) => masked.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join(REDACTED) : out), text);
  if (!options.byShape) return masked.length === 0 ? (text) => text : byValue;
  return (text) => SECRET_SHAPES.reduce((out, { shape, replacement, needs }) => (out.includes(needs) ? out.replace(shape, replacement) : out), byValue(text));
}
