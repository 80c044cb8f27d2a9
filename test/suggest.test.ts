import { describe, expect, it } from 'vitest';
import { knownNamesHint, nearestWithin } from '../src/suggest.js';

const KEYS = ['staleness_threshold_days', 'expected_frequency', 'expected_weekdays', 'max_runtime_minutes', 'processor_filter', 'calendar_filter', 'grace_hours', 'runbook_url'];

describe('nearestWithin ("did you mean")', () => {
  it('offers the candidate a typo away', () => {
    expect(nearestWithin('procesor', ['processor', 'owners'])).toBe('processor');
    expect(nearestWithin('--dryrun', ['--dry-run', '--date'])).toBe('--dry-run');
  });

  it('offers the one candidate that holds a key remembered short, whole words only', () => {
    expect(nearestWithin('staleness_threshold', KEYS)).toBe('staleness_threshold_days');
    expect(nearestWithin('frequency', KEYS)).toBe('expected_frequency');
    expect(nearestWithin('max_runtime', KEYS)).toBe('max_runtime_minutes');
    expect(nearestWithin('grace', KEYS)).toBe('grace_hours');
    // Two candidates hold it: no guess.
    expect(nearestWithin('filter', KEYS)).toBeNull();
    // A part of a word is not a word.
    expect(nearestWithin('run', KEYS)).toBeNull();
  });

  it('offers the candidate a name is in another case (caps lock, a name copied from a title)', () => {
    expect(nearestWithin('GAMEBOOK_PROCESSOR', ['boxscore_processor', 'gamebook_processor'])).toBe('gamebook_processor');
    expect(nearestWithin('Roster', ['roster', 'odds'])).toBe('roster');
    // Two candidates differ only in case: which one was meant is not for pem to say.
    expect(nearestWithin('ROSTER', ['Roster', 'roster'])).toBeNull();
  });

  it('does not call any short name a typo of another', () => {
    expect(nearestWithin('zz', ['a', 'b', 'gamebook'])).toBeNull();
    expect(nearestWithin('tz', KEYS)).toBeNull();
    expect(nearestWithin('ab', ['a', 'gamebook'])).toBe('a');
    // Four letters may be two edits away: a short key mistyped is still a typo.
    expect(nearestWithin('ownr', ['owners', 'route'])).toBe('owners');
    // An option's dashes are not letters.
    expect(nearestWithin('--foo', ['--now', '--date'])).toBeNull();
    expect(nearestWithin('--lookback', ['--lookback-days', '--now'])).toBe('--lookback-days');
  });
});

describe('knownNamesHint', () => {
  it('offers the name a typo is of, and lists ten of a large registry, counting the rest', () => {
    const known = Array.from({ length: 308 }, (_, i) => `boxscore_processor_${String(i).padStart(3, '0')}`);
    const hint = knownNamesHint(['boxscore_processor_02'], known);
    expect(hint).toBe(`did you mean 'boxscore_processor_002'? the registry has ${known.slice(0, 10).join(', ')}, and 298 more`);
    expect(knownNamesHint(['zzz'], ['gamebook_processor', 'roster_processor'], 'it')).toBe('it has gamebook_processor, roster_processor');
    expect(knownNamesHint(['x'], [])).toBe('the registry has no processors');
  });
});
