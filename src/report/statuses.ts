/**
 * What the HTML report shows for a day and a processor, read from what the check computed
 * (SPEC §4 day statuses, §10 anomalies when present). Pure. Nothing here re-derives a status:
 * it only chooses how to show one, and finds where the current problem streak began.
 */
import { describeAnomalies } from '../check/anomalies.js';
import { isProblemDay as isProblemDate, problemSince as problemSinceOf, streakProblemDates as streakOf, type DayReport, type ProcessorReport } from '../check/report.js';
import { ANOMALOUS_SYMBOL, DAY_SYMBOL } from '../check/terminal.js';

/**
 * What a cell shows: the day status, with recovered failures and anomalous successes (SPEC §10:
 * low or high volume, slow) apart from clean successes.
 */
export const DISPLAY_STATUSES = ['success', 'recovered', 'anomalous', 'failed', 'hung', 'running', 'missing', 'pending', 'not_expected'] as const;
export type DisplayStatus = (typeof DISPLAY_STATUSES)[number];

export interface StatusStyle {
  letter: string;
  label: string;
  meaning: string;
  background: string;
  color: string;
}

/**
 * Okabe–Ito colours (https://jfly.uni-koeln.de/color/), distinguishable with the common colour
 * vision deficiencies; the letter (the same as `pem check`'s grid) carries the status on its own.
 * Text colours are the ones with the higher contrast against each fill.
 */
export const STATUS_STYLES: Record<DisplayStatus, StatusStyle> = {
  success: { letter: DAY_SYMBOL.success, label: 'success', meaning: 'a run succeeded', background: '#009E73', color: '#000' },
  recovered: { letter: 's', label: 'recovered', meaning: 'succeeded after a failed run', background: '#56B4E9', color: '#000' },
  anomalous: {
    letter: ANOMALOUS_SYMBOL,
    label: 'anomalous success',
    meaning: 'succeeded with unusual records or runtime',
    background: '#E69F00',
    color: '#000',
  },
  failed: { letter: DAY_SYMBOL.failed, label: 'failed', meaning: 'runs failed, none succeeded', background: '#D55E00', color: '#000' },
  hung: { letter: DAY_SYMBOL.hung, label: 'hung', meaning: 'running past its max runtime', background: '#CC79A7', color: '#000' },
  running: { letter: DAY_SYMBOL.running, label: 'running', meaning: 'running, within its max runtime', background: '#0072B2', color: '#fff' },
  missing: { letter: DAY_SYMBOL.missing, label: 'missing', meaning: 'expected, due, no run at all', background: '#F0E442', color: '#000' },
  pending: { letter: DAY_SYMBOL.pending, label: 'pending', meaning: 'expected, not yet due', background: '#D9D9D9', color: '#000' },
  not_expected: { letter: '·', label: 'not expected', meaning: 'not a processing day', background: '#F4F4F4', color: '#777' },
};

export function displayStatus(day: DayReport): DisplayStatus {
  if (day.anomalies.length > 0) return 'anomalous';
  return day.status === 'success' && day.failed_runs > 0 ? 'recovered' : day.status;
}

/** A problem date (SPEC §11 "since when"): one that needs a re-run or a look, anomalous successes included (SPEC §12). */
export const isProblemDay = isProblemDate;

/** Extra lines a cell's details show beyond runs, times and error: each anomaly with its numbers (SPEC §10). */
export function dayNotes(day: DayReport): string[] {
  return describeAnomalies(day);
}

/** SPEC §11 `problem_since` read from a processor's days (`check/report.ts`); the check's own field comes from SQL. */
export function problemSince(processor: Pick<ProcessorReport, 'days'>): string | null {
  return problemSinceOf(processor.days);
}

/** The problem dates of the current streak (from `problemSince` to the latest problem date). */
export function streakProblemDates(processor: Pick<ProcessorReport, 'days'>, since: string | null): string[] {
  return streakOf(processor.days, since);
}
