/**
 * When a backtest checks (SPEC §13): every `--every` from D1 00:00 to the end of D2 in the registry
 * time zone. Steps are absolute time from local midnight, so a DST day has 23 or 25 hourly checks
 * and each one is an hour after the previous. Pure.
 */
import { DateTime } from 'luxon';
import { usageError } from '../errors.js';

const UNIT_MS = { m: 60_000, h: 3_600_000 } as const;
const MIN_EVERY_MS = 5 * 60_000;
const MAX_INSTANTS = 200_000;

/** `--every`: minutes or hours (`30m`, `1h`, `6h`), at least 5 minutes and at most a day. */
export function parseEvery(text: string): number {
  const match = /^(\d+)(m|h)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!match || !(ms >= MIN_EVERY_MS && ms <= 24 * UNIT_MS.h)) {
    throw usageError(`--every '${text}' must be minutes or hours from 5m to 24h, for example 1h or 30m`);
  }
  return ms;
}

/** The check instants, ascending: [D1 00:00, D2 + 1 day 00:00) in `zone`, every `everyMs`. */
export function cadenceInstants(from: string, to: string, zone: string, everyMs: number): Date[] {
  const start = DateTime.fromISO(from, { zone }).startOf('day').toMillis();
  const end = DateTime.fromISO(to, { zone }).plus({ days: 1 }).startOf('day').toMillis();
  if ((end - start) / everyMs > MAX_INSTANTS) throw usageError(`--from ${from} --to ${to} every ${everyMs / 60_000} minutes is more than ${MAX_INSTANTS} checks`);
  const instants: Date[] = [];
  for (let t = start; t < end; t += everyMs) instants.push(new Date(t));
  return instants;
}

/** The ISO week (Monday first) an instant falls in, in `zone`: `2025-W41`. */
export function weekOf(instant: Date | number, zone: string): string {
  const d = DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone });
  return `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;
}
