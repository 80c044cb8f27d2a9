/**
 * What the check could not use, one line per processor: rows whose status is in none of the
 * processor's lists (a `'SUCCESS'` or `' success'` that would otherwise read as "never succeeded"),
 * and running runs without a start instant (which can never be hung). The detection SQL counts
 * them (`unusable_rows`, `unstarted_runs` in processor_health_daily); this only words them.
 */
import type { CheckResult } from './report.js';

export function unusableRowNotes(result: CheckResult): string[] {
  const notes: string[] = [];
  for (const processor of result.report.processors) {
    const detail = result.details[processor.name]?.unusable;
    if (!detail) continue;
    const parts: string[] = [];
    const rows = detail.unrecognized_status_rows;
    if (rows > 0) {
      const example = detail.unrecognized_status_example === null ? '' : `, for example ${JSON.stringify(detail.unrecognized_status_example)}`;
      parts.push(
        `${rows} row${rows === 1 ? ' has a status' : 's have statuses'} in none of success_statuses, failure_statuses, running_statuses${example}: counted as no run`,
      );
    }
    // Without a started_at column (started_at_field null) no run has one: that is the registry's choice, not news.
    const unstarted = detail.running_runs_without_start;
    if (unstarted > 0 && detail.has_started_at) {
      parts.push(`${unstarted} running run${unstarted === 1 ? ' has' : 's have'} no started_at: shown as running, never as hung`);
    }
    if (parts.length > 0) notes.push(`${processor.name}: ${parts.join('; ')}`);
  }
  return notes;
}
