/** Short ways to write run-history rows for scenario tests (SPEC §2: a start row and an end row per run). */
import type { RowSpec } from './scenario.js';

export const DAY_MS = 86_400_000;

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A complete run: its running row at `startedAt`, its final row `minutes` later. */
export function runRows(id: string, processor: string, date: string, status: string, startedAt: string, minutes = 10): RowSpec[] {
  const completed = new Date(Date.parse(startedAt) + minutes * 60_000).toISOString();
  return [
    { run_id: id, processor_name: processor, processing_date: date, status: 'running', started_at: startedAt },
    { run_id: id, processor_name: processor, processing_date: date, status, started_at: startedAt, completed_at: completed },
  ];
}

/** A run of `status` for each date, started at 10:00 UTC the next day. */
export function runsOn(processor: string, dates: readonly string[], status = 'success'): RowSpec[] {
  return dates.flatMap((d) => runRows(`${processor}-${d}-${status}`, processor, d, status, `${addDays(d, 1)}T10:00:00Z`));
}
