/**
 * When a backtest checks (SPEC §13): every `--every` from D1 00:00 to the end of D2 in the registry
 * time zone. Steps are absolute time from local midnight, so a DST day has 23 or 25 hourly checks
 * and each one is an hour after the previous. Pure.
 */
import { DateTime } from 'luxon';
import { parseDurationMs } from '../check/inputs.js';
import { usageError } from '../errors.js';

const MINUTE_MS = 60_000;
const MIN_EVERY_MS = 5 * MINUTE_MS;
const MAX_EVERY_MS = 24 * 60 * MINUTE_MS;
const MAX_INSTANTS = 200_000;

/** `--every`: a duration as `pem silence add --until` takes one (`30m`, `1h`, `1h30m`), whole minutes from 5 minutes to a day. */
export function parseEvery(text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text, '--every');
  } catch {
    ms = NaN;
  }
  if (!(ms >= MIN_EVERY_MS && ms <= MAX_EVERY_MS && ms % MINUTE_MS === 0)) {
    throw usageError(`--every '${text}' must be whole minutes from 5m to 24h, for example 1h, 30m or 1h30m`);
  }
  return ms;
}

/** The check instants, ascending: [D1 00:00, D2 + 1 day 00:00) in `zone`, every `everyMs`. */
export function cadenceInstants(from: string, to: string, zone: string, everyMs: number): Date[] {
  const start = DateTime.fromISO(from, { zone }).startOf('day').toMillis();
  const end = DateTime.fromISO(to, { zone }).plus({ days: 1 }).startOf('day').toMillis();
  const checks = Math.ceil((end - start) / everyMs);
  if (checks > MAX_INSTANTS) throw usageError(tooManyChecks(from, to, everyMs, checks, end - start));
  const instants: Date[] = [];
  for (let t = start; t < end; t += everyMs) instants.push(new Date(t));
  return instants;
}

/** Why a period is refused, with what would fit: the least frequent `--every` that stays within MAX_INSTANTS, or a shorter period. */
function tooManyChecks(from: string, to: string, everyMs: number, checks: number, periodMs: number): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const minutes = Math.ceil(periodMs / MAX_INSTANTS / MINUTE_MS);
  const every = minutes <= 60 ? `${minutes}m` : `${Math.ceil(minutes / 60)}h`;
  const fix = minutes * MINUTE_MS <= MAX_EVERY_MS ? `check less often (--every ${every} or more) or replay a shorter period` : 'replay a shorter period';
  return `--from ${from} --to ${to} every ${everyMs / MINUTE_MS} minutes is ${count(checks)} checks, more than the ${count(MAX_INSTANTS)} a backtest replays: ${fix}`;
}

/** The ISO week (Monday first) an instant falls in, in `zone`: `2025-W41`. */
export function weekOf(instant: Date | number, zone: string): string {
  const d = DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone });
  return `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;
}
