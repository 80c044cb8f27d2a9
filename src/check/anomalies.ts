/**
 * SPEC §10 in words: what is anomalous about a success date, with its numbers, for alerts and
 * reports ("0 records; usual 12,400", "3 h 10 min; usual 35 min"). Pure: it formats the measures
 * and baselines the detection SQL computed; whether a date is anomalous is the SQL's verdict.
 */
import type { Anomaly, DayReport } from './report.js';

export const ANOMALY_LABEL: Record<Anomaly, string> = {
  low_volume: 'low volume',
  high_volume: 'high volume',
  slow: 'slow',
};

// Made on first use: creating a NumberFormat costs ~17 ms (ICU's number data), and most runs of
// `pem check` (--json-output among them) format no anomaly.
let recordsFormat: Intl.NumberFormat | undefined;

/** `12,400`; a median of an even count may end in `.5`. */
export function formatRecords(records: number): string {
  recordsFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  return recordsFormat.format(records);
}

/** `45 s`, `35 min`, `2 h`, `3 h 10 min` (to the nearest minute from one minute on). */
export function formatDuration(seconds: number): string {
  if (seconds < 59.5) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

const plural = (n: number, word: string) => `${formatRecords(n)} ${word}${n === 1 ? '' : 's'}`;

/** The numbers behind one anomaly of a day: `0 records; usual 12,400`. */
export function anomalyFact(day: DayReport, anomaly: Anomaly): string {
  if (anomaly === 'slow') {
    const took = day.duration_seconds === null ? 'unknown duration' : formatDuration(day.duration_seconds);
    const usual = day.baseline_duration_seconds === null ? '' : `; usual ${formatDuration(day.baseline_duration_seconds)}`;
    return `${took}${usual}`;
  }
  const wrote = day.records === null ? 'unknown records' : plural(day.records, 'record');
  const usual = day.baseline_records === null ? '' : `; usual ${formatRecords(day.baseline_records)}`;
  return `${wrote}${usual}`;
}

/** Every anomaly of a day with its numbers: `low volume: 0 records; usual 12,400`. Empty when none. */
export function describeAnomalies(day: DayReport): string[] {
  return day.anomalies.map((anomaly) => `${ANOMALY_LABEL[anomaly]}: ${anomalyFact(day, anomaly)}`);
}

/** A processor's days with the given anomaly, each as `2025-10-07 (0 records; usual 12,400)`. */
export function anomalyDates(days: readonly DayReport[], anomaly: Anomaly): string[] {
  return days.filter((d) => d.anomalies.includes(anomaly)).map((d) => `${d.date} (${anomalyFact(d, anomaly)})`);
}
