/**
 * Dates read by a person: consecutive dates as one run. The alerts' `Nov 25–27, Nov 29` and the
 * terminal report's `2026-11-25 .. 2026-11-27, 2026-11-29` are both made from these runs.
 */
import { DAY_MS } from '../calendar.js';

/** Distinct `YYYY-MM-DD` dates, ascending, as `[first, last]` runs of consecutive days. */
export function dateRuns(dates: readonly string[]): [string, string][] {
  const runs: [string, string][] = [];
  let lastDay = Number.NaN;
  for (const date of [...new Set(dates)].sort()) {
    const day = Date.parse(`${date}T00:00:00Z`) / DAY_MS;
    const last = runs[runs.length - 1];
    if (last && day - lastDay === 1) last[1] = date;
    else runs.push([date, date]);
    lastDay = day;
  }
  return runs;
}

/**
 * `2026-11-21 .. 2026-12-02, 2026-12-04 (13 dates)`: the runs of `dates` in ISO form, with their
 * count; past `maxRuns` runs, `…` stands for the rest.
 */
export function isoDateRanges(dates: readonly string[], maxRuns = Number.POSITIVE_INFINITY): string {
  const count = new Set(dates).size;
  const runs = dateRuns(dates);
  const text = runs
    .slice(0, maxRuns)
    .map(([from, to]) => (from === to ? from : `${from} .. ${to}`))
    .join(', ');
  return `${text}${runs.length > maxRuns ? ', …' : ''} (${count} date${count === 1 ? '' : 's'})`;
}
