/**
 * Turns the check's command-line values into validated inputs (SPEC §4, §6). Pure: the clock
 * reading `now` is passed in by the caller, never read here.
 */
import { DateTime } from 'luxon';
import { addDays } from '../calendar.js';
import parseDuration from 'parse-duration';
import { usageError } from '../errors.js';
import type { Registry } from '../config/registry.js';
import { processorConfigJson } from '../sql/health.js';
import { loadTemplateBundle } from '../sql/load.js';
import { knownNamesHint } from '../suggest.js';
import type { QueryParams } from '../warehouse/types.js';

export const DEFAULT_LOOKBACK_DAYS = 7;
export const MAX_LOOKBACK_DAYS = 366;

export interface CheckInputs {
  /** E, 'YYYY-MM-DD'. */
  endDate: string;
  /** First date of the window, E - L + 1. */
  windowStart: string;
  lookbackDays: number;
  now: Date;
  /** Registry keys to check, sorted. */
  processors: string[];
}

export interface RawCheckOptions {
  date?: string | undefined;
  lookbackDays?: string | number | undefined;
  now?: string | undefined;
  processors?: string | undefined;
}

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const MIN_YEAR = 1900;
/**
 * The last year a date or instant may fall in: a check reads the day after E (due instants) and
 * BigQuery's DATE ends at 9999-12-31 (`Adding 1 DAY to date 9999-12-31 causes overflow`), and a
 * duration from now must stay a date JavaScript can hold (`--until 99999999d` was NaN).
 */
const MAX_YEAR = 9998;
const MAX_OFFSET_MINUTES = 18 * 60;

/** Why `year` is outside MIN_YEAR..MAX_YEAR (`before 1900-01-01`, `after 9998-12-31`, with `time` an instant's), or null. */
function outsideYears(year: number, time = false): string | null {
  if (year < MIN_YEAR) return `before ${MIN_YEAR}-01-01${time ? 'T00:00:00Z' : ''}`;
  if (year > MAX_YEAR) return `after ${MAX_YEAR}-12-31${time ? 'T23:59:59Z' : ''}`;
  return null;
}

/** Whether a 'YYYY-MM-DD' date is within the years a command accepts (`parseDate` would take it). */
export function isAcceptedDate(date: string): boolean {
  return outsideYears(Number(date.slice(0, 4))) === null;
}

/** A calendar date, or a usage error naming the flag and the value. */
export function parseDate(value: string, flag: string): string {
  const parsed = DateTime.fromFormat(value, 'yyyy-MM-dd', { zone: 'UTC' });
  if (!DATE_SHAPE.test(value) || !parsed.isValid) {
    throw usageError(`${flag} '${value}' is not a valid date: use YYYY-MM-DD, for example 2025-10-07`);
  }
  // Both warehouses stop at 0001-01-01 and a window reaches a year back: keep to a sane range.
  const outside = outsideYears(parsed.year);
  if (outside) throw usageError(`${flag} '${value}' is ${outside}`);
  return value;
}

/** An instant in ISO-8601. Without an offset it is read as UTC, so a run never depends on the host's zone. */
export function parseInstant(value: string, flag: string): Date {
  const parsed = DateTime.fromISO(value, { zone: 'UTC', setZone: true });
  if (!parsed.isValid || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw usageError(`${flag} '${value}' is not an ISO-8601 instant, for example 2025-10-08T12:00:00Z`);
  }
  // Real UTC offsets stay within ±18:00 (ISO 8601 / java.time's bound); beyond it is a typo.
  if (Math.abs(parsed.offset) > MAX_OFFSET_MINUTES) {
    throw usageError(`${flag} '${value}' has a UTC offset outside -18:00..+18:00, for example 2025-10-08T12:00:00-04:00`);
  }
  const outside = outsideYears(parsed.toUTC().year, true);
  if (outside) throw usageError(`${flag} '${value}' is ${outside}`);
  return parsed.toJSDate();
}

export function parseLookbackDays(value: string | number): number {
  const text = String(value).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > MAX_LOOKBACK_DAYS) {
    throw usageError(`--lookback-days '${text}' must be a whole number from 1 to ${MAX_LOOKBACK_DAYS}, for example 7`);
  }
  return n;
}

/**
 * The processors to check: all enabled ones by default; named ones (disabled included) with
 * `--processors a,b`. An unknown name is a usage error that lists the known ones.
 */
export function selectProcessors(registry: Registry, list: string | undefined): string[] {
  if (list === undefined) return registry.processors.filter((p) => p.enabled).map((p) => p.name);
  const names = [...new Set(list.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw usageError('--processors is empty: name one or more registry keys, for example gamebook_processor,roster_processor');
  const known = new Set(registry.processors.map((p) => p.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    const plural = unknown.length > 1 ? 's' : '';
    throw usageError(
      `--processors: unknown processor${plural} ${unknown.map((n) => `'${n}'`).join(', ')}; ${knownNamesHint(unknown, [...known])}`,
    );
  }
  return names.sort();
}

/** Today in the registry's time zone: the default end date. */
export function todayIn(timezone: string, now: Date): string {
  return DateTime.fromJSDate(now, { zone: timezone }).toISODate()!;
}

export function resolveCheckInputs(raw: RawCheckOptions, registry: Registry, clockNow: Date): CheckInputs {
  const now = raw.now === undefined ? clockNow : parseInstant(raw.now, '--now');
  const endDate = raw.date === undefined ? todayIn(registry.timezone, now) : parseDate(raw.date, '--date');
  // The same range as --date, for the date --now falls on in the registry's zone (1900-01-01T00:00Z is 1899-12-31 in New York).
  const outside = raw.date === undefined ? outsideYears(Number(endDate.slice(0, 4))) : null;
  if (outside) throw usageError(`--now '${raw.now}' is ${endDate} in ${registry.timezone}, ${outside}`);
  const lookbackDays = raw.lookbackDays === undefined ? DEFAULT_LOOKBACK_DAYS : parseLookbackDays(raw.lookbackDays);
  return {
    endDate,
    windowStart: addDays(endDate, 1 - lookbackDays),
    lookbackDays,
    now,
    processors: selectProcessors(registry, raw.processors),
  };
}

/** The detection query's bound parameters. */
export function healthParams(inputs: CheckInputs): QueryParams {
  return {
    end_date: { type: 'DATE', value: inputs.endDate },
    lookback_days: { type: 'INT64', value: inputs.lookbackDays },
    now: { type: 'TIMESTAMP', value: inputs.now },
    processors: { type: 'ARRAY<STRING>', value: inputs.processors },
  };
}

/**
 * A duration as people write one: numbers each followed by a unit of seconds to weeks (`90m`,
 * `2h`, `1h30m`, `2 days`, `1.5h`). parse-duration alone reads more than it should: it skips what
 * it does not know, so `2h ago` was two hours ahead, `10d-9d` nineteen days, `1h1` an hour and a
 * millisecond and an ISO week date `2026-W50-1` two seconds.
 */
const DURATION = /^(\d+(\.\d+)?\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s*)+$/i;

/**
 * A length of time such as `2h`, `3d`, `90m`, `1h30m` or `2 days`, in milliseconds (DURATION),
 * added up by parse-duration (https://github.com/jkroso/parse-duration). A unit is required, so a
 * bare `2` is not silently read as two milliseconds.
 */
export function parseDurationMs(value: string, flag: string): number {
  const text = value.trim();
  const ms = DURATION.test(text) ? parseDuration(text) : null;
  if (ms === null || !Number.isFinite(ms) || ms <= 0) {
    throw usageError(`${flag} '${value}' is not a duration: use numbers with units of s, m, h, d or w, for example 90m, 2h, 3d or 1h30m`);
  }
  return ms;
}

/** An instant given as ISO-8601, or as a duration from `now` (`2h` = two hours from now). */
export function parseInstantOrDuration(value: string, flag: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return parseInstant(value.trim(), flag);
  let at: Date;
  try {
    at = new Date(now.getTime() + parseDurationMs(value, flag));
  } catch {
    throw usageError(`${flag} '${value}' is not an ISO-8601 instant nor a duration: use for example 2h, 3d, 90m or 2099-10-09T18:00:00Z`);
  }
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() > MAX_YEAR) throw usageError(`${flag} '${value}' ends after ${MAX_YEAR}-12-31T23:59:59Z`);
  return at;
}

/**
 * The processors a check of `processors` evaluates: those and their upstreams (SPEC §12: a
 * downstream's dates are explained by its upstreams' days, so the statement evaluates them beside
 * it). Their configs are bound, and only their run histories and calendars are read.
 */
export function withUpstreams(registry: Registry, processors: readonly string[]): Set<string> {
  const asked = new Set(processors);
  const wanted = new Set(asked);
  for (const p of registry.processors) if (asked.has(p.name)) for (const d of p.depends_on) wanted.add(d.processor);
  return wanted;
}

/**
 * The check statement's parameters: `healthParams` and the registry as one bound JSON string
 * (`processor_config`, read by DuckDB's config_relation; BigQuery's statement reads the deployed
 * table and does not name it). Only the checked processors' configs and those of their upstreams
 * (SPEC §12: the statement evaluates a downstream's upstreams beside it to explain its dates, and
 * reports only the processors asked for), so `--processors a,b` binds two rows (plus their
 * upstreams), not the whole registry.
 */
export function checkParams(inputs: CheckInputs, registry: Registry): QueryParams {
  const wanted = withUpstreams(registry, inputs.processors);
  return {
    ...healthParams(inputs),
    processor_config: { type: 'STRING', value: processorConfigJson(registry.processors.filter((p) => wanted.has(p.name)), loadTemplateBundle()) },
  };
}
