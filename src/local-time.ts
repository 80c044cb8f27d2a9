/**
 * Instants as a person reads them (SPEC §11: in the registry time zone, with the offset): alerts,
 * the terminal report, silences and the backtest's notes.
 */
import { DateTime } from 'luxon';

/**
 * An instant in the registry's time zone with its offset: `2025-10-08 08:00 EDT (UTC-04:00)`;
 * `2025-10-08 12:00 UTC` in UTC, where the name is the offset. `seconds`: `08:00:42`, where the
 * instant is one to type again (`--now` from the terminal's title, a silence's end).
 */
export function localTime(iso: string, timezone: string, { seconds = false }: { seconds?: boolean } = {}): string {
  // Every PagerDuty event of a run shows the same instant, and luxon's zone name costs ~0.1 ms
  // (an Intl formatter's parts): thousands of events asked for it again and again (SPEC §14).
  if (lastLocalTime?.iso === iso && lastLocalTime.timezone === timezone && lastLocalTime.seconds === seconds) return lastLocalTime.text;
  const text = formatLocalTime(iso, timezone, seconds ? 'yyyy-MM-dd HH:mm:ss' : 'yyyy-MM-dd HH:mm');
  lastLocalTime = { iso, timezone, seconds, text };
  return text;
}

let lastLocalTime: { iso: string; timezone: string; seconds: boolean; text: string } | null = null;

function formatLocalTime(iso: string, timezone: string, format: string): string {
  const t = DateTime.fromISO(iso, { zone: 'UTC' }).setZone(timezone);
  if (!t.isValid) return iso;
  const name = t.toFormat('ZZZZ');
  return name === 'UTC' ? `${t.toFormat(format)} UTC` : `${t.toFormat(format)} ${name} (UTC${t.toFormat('ZZ')})`;
}
