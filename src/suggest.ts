/**
 * "Did you mean": the candidate nearest a mistyped name by edit distance, offered only when it is a
 * typo away (registry keys and processor names, command-line options).
 */
import { closest, distance } from 'fastest-levenshtein';

/** The candidate nearest `name`, when within `maxEdits` edits of it; null when none is that near. */
export function nearestWithin(name: string, candidates: readonly string[], maxEdits = 2): string | null {
  if (candidates.length === 0) return null;
  const nearest = closest(name, [...candidates]);
  return distance(name, nearest) <= maxEdits ? nearest : null;
}
