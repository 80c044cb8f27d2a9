/**
 * Text shown to people, made safe to show.
 *
 * `printable`: text from the warehouse (error messages of the run history, silence reasons and authors) as a
 * terminal may show it: control characters (line breaks that break a table's layout, escape
 * sequences that clear the screen or rewrite what was printed before) and the invisible bidirectional
 * controls (U+202E shows `reversed` as `desrever`, and can make a line read as another: "Trojan
 * Source", CVE-2021-42574) become `?`. Tables and reports for people use it; JSON and CSV keep the
 * text as it is, escaped by their own rules.
 */
// eslint-disable-next-line no-control-regex
export const printable = (text: string): string => withoutBidiControls(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

/**
 * Control characters and the invisible bidirectional controls as `?`, line breaks and tabs kept
 * (a CRLF read as one line break): for text with a layout of its own, such as a Slack message.
 */
// eslint-disable-next-line no-control-regex
export const withLayoutOnly = (text: string): string => withoutBidiControls(text.replace(/\r\n/g, '\n')).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');

/** The invisible bidirectional controls, as a character class's contents: one list for every check of them. */
export const BIDI_CONTROLS = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const BIDI_CONTROL = new RegExp(`[${BIDI_CONTROLS}]`, 'g');

/** The invisible bidirectional controls as `?`: what the HTML report shows, where line breaks and tabs are its own to lay out. */
export const withoutBidiControls = (text: string): string => text.replace(BIDI_CONTROL, '?');

/** `n` and the noun, plural unless one: `1 processor`, `3 processors` (every noun pem counts takes an s). */
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * `text` cut to at most `max` UTF-16 units, ending in `…` when cut. Never inside a surrogate pair:
 * half an emoji is a lone surrogate, which Slack and PagerDuty receive as invalid JSON text
 * (`jq`: "Invalid \\uXXXX\\uXXXX surrogate pair escape") and a terminal shows as garbage.
 */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Shell-safe as one argument: plain words stay bare, anything else is single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
