/**
 * "Did you mean": the candidate nearest a mistyped name, offered only when it is a typo away, or
 * when the name is a whole-word part of exactly one candidate (`staleness_threshold` for
 * `staleness_threshold_days`, `frequency` for `expected_frequency`: a key remembered short).
 * Registry keys and processor names, command-line options.
 */
import { closest, distance } from 'fastest-levenshtein';

/** The words of a name: `--lookback-days` → lookback, days. */
const wordsOf = (name: string): string[] => name.split(/[-_.]+/).filter(Boolean);

/** Whether `part`'s words run, in order and whole, inside `whole`'s. */
function wordRunOf(part: readonly string[], whole: readonly string[]): boolean {
  if (part.length === 0 || part.length >= whole.length) return false;
  for (let start = 0; start + part.length <= whole.length; start++) {
    if (part.every((word, i) => whole[start + i] === word)) return true;
  }
  return false;
}

/**
 * The candidate nearest `name`: the one spelled the same in another case, else one within
 * `maxEdits` edits (fewer for a short name, where two edits reach any other short name: `zz` is
 * not a typo of `b`), else the one candidate holding `name`'s words whole; null when none is that near.
 */
export function nearestWithin(name: string, candidates: readonly string[], maxEdits = 2): string | null {
  if (candidates.length === 0) return null;
  // The same letters in another case (caps lock, a name copied from a title) are many edits away.
  const folded = name.toLowerCase();
  const sameLetters = candidates.filter((candidate) => candidate.toLowerCase() === folded);
  if (sameLetters.length === 1) return sameLetters[0]!;
  const nearest = closest(name, [...candidates]);
  // Counted without an option's leading dashes: `--foo` is three letters, not a typo of `--now`.
  const allowed = Math.min(maxEdits, Math.ceil(name.replace(/^-+/, '').length / 3));
  if (distance(name, nearest) <= allowed) return nearest;
  const words = wordsOf(name.toLowerCase());
  const holding = candidates.filter((candidate) => wordRunOf(words, wordsOf(candidate.toLowerCase())));
  return holding.length === 1 ? holding[0]! : null;
}

/** How many of the registry's names an "unknown processor" line lists before it counts the rest. */
const LISTED_NAMES = 10;

/**
 * What follows "unknown processor 'x'": the name it is a typo of, when one is near, and the
 * registry's names (`subject` has them), the first LISTED_NAMES of them: a registry of thousands
 * made one line of pages.
 */
export function knownNamesHint(unknown: readonly string[], known: readonly string[], subject = 'the registry'): string {
  const nearest = unknown.map((name) => nearestWithin(name, known)).filter((name): name is string => name !== null);
  const meant = nearest.length > 0 ? `did you mean ${nearest.map((name) => `'${name}'`).join(', ')}? ` : '';
  if (known.length === 0) return `${meant}${subject} has no processors`;
  const rest = known.length > LISTED_NAMES ? `, and ${known.length - LISTED_NAMES} more` : '';
  return `${meant}${subject} has ${known.slice(0, LISTED_NAMES).join(', ')}${rest}`;
}
