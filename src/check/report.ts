/**
 * The check's result: the JSON document of SPEC §7 (`CheckReport`) and, beside it, the
 * details that messages and reports show but the contract document does not carry.
 *
 * Pure: it groups the rows the detection query returned. Every status and verdict here was
 * computed by SQL; nothing is re-derived.
 */
import { CANONICAL_INSTANT, instantMs, instantText } from './instants.js';
import { holdReasons, type HoldReason } from './noise.js';
import { ALERT_ROUTING, type AlertLevel, type Destination } from '../config/names.js';
import { DEFAULT_ROUTE, type Priority, type ProcessorConfig, type Registry } from '../config/registry.js';
import type { PlainValue, Row } from '../warehouse/types.js';
import { secretMasker } from '../secrets.js';

export const DAY_STATUSES = ['success', 'failed', 'hung', 'running', 'missing', 'pending', 'not_expected'] as const;
export type DayStatus = (typeof DAY_STATUSES)[number];
export type ProcessorLevel = 'CRITICAL' | 'ERROR' | 'OK';
export type RunLevel = 'CRITICAL' | 'ERROR' | 'INFO';
export type { AlertLevel, Destination };

/** SPEC §10: what is wrong with a success, in this order; each is a column `is_<anomaly>` of the detection rows. */
export const ANOMALIES = ['low_volume', 'high_volume', 'slow'] as const;
export type Anomaly = (typeof ANOMALIES)[number];

export interface DayReport {
  date: string;
  status: DayStatus;
  runs: number;
  failed_runs: number;
  /** SPEC §10, on success dates (else empty / null): what is anomalous, the success run's records and duration, and their baselines. */
  anomalies: Anomaly[];
  records: number | null;
  duration_seconds: number | null;
  baseline_records: number | null;
  baseline_duration_seconds: number | null;
}

export interface ProcessorReport {
  name: string;
  display_name: string;
  level: ProcessorLevel;
  priority: Priority;
  revenue_impact: boolean;
  missing_dates: string[];
  failed_dates: string[];
  hung_dates: string[];
  recovered_failure_dates: string[];
  low_volume_dates: string[];
  high_volume_dates: string[];
  slow_dates: string[];
  last_success_date: string | null;
  days_since_success: number | null;
  is_stale: boolean;
  scheduler_issue: boolean;
  days: DayReport[];
  /** SPEC §11/§12: the first problem date of the current streak in the window; null without one. */
  problem_since: string | null;
  /** SPEC §12: each upstream that explains some of this processor's problem dates, with those dates. */
  blocked_by: BlockedBy[];
  /** SPEC §11: the route its alerts take. */
  route: string;
}

export interface BlockedBy {
  processor: string;
  /** This processor's dates in the window that the upstream explains. */
  dates: string[];
}

/** Why an alert was not sent (SPEC §7, §11); null when it was. */
export const ALERT_REASONS = ['dry_run', 'already_open', 'silenced', 'threshold', 'dependency', 'no_destination', 'failed'] as const;
export type AlertReason = (typeof ALERT_REASONS)[number];

export interface AlertReport {
  level: AlertLevel;
  processor: string | null;
  destinations: Destination[];
  /** SPEC §11: the processor's route; the WARNING summary's is `default`; null for the console. */
  route: string | null;
  sent: boolean;
  reason: AlertReason | null;
}

/** SPEC §7, field for field. */
export interface CheckReport {
  as_of_date: string;
  window_start: string;
  window_end: string;
  lookback_days: number;
  now: string;
  level: RunLevel;
  processors: ProcessorReport[];
  alerts: AlertReport[];
}

export interface DayDetail {
  date: string;
  is_expected: boolean;
  is_due: boolean;
  /** When the date became (or becomes) due: the next local midnight plus grace_hours, ISO UTC. */
  due_at: string | null;
  is_problem_date: boolean;
  first_started_at: string | null;
  last_completed_at: string | null;
  last_error_type: string | null;
  last_error_message: string | null;
}

/** What alerts and reports show beyond the contract document. */
export interface ProcessorDetail {
  name: string;
  staleness_threshold_days: number;
  slack_channel: string | null;
  owners: string[];
  enabled: boolean;
  /** What the check could not use (see `check/notes.ts`); absent in results not built from detection rows. */
  unusable?: UnusableRows;
  /** The newest failure in the window (by date, then completion), for "what went wrong". */
  latest_failure: { date: string; error_type: string | null; error_message: string | null } | null;
  /** The newest hung date and when its first run started (ISO, null when the rows give no start); absent in results not built from detection rows. */
  latest_hung?: { date: string; started_at: string | null } | null;
  days: DayDetail[];
  /** SPEC §12, from the SQL: problem dates among the alert_within_dates most recent expected, due dates (null: no threshold). */
  threshold_problem_dates: number | null;
  alert_after_dates: number | null;
  /** SPEC §12, from the SQL: every problem date explained by an upstream (and, if stale, every date since the last success). */
  problems_explained: boolean;
  /** The registry's alert_on_recovered_failures: its recovered failures are its own news, never an upstream's. */
  alert_on_recovered_failures: boolean;
  /** Why its alert is held (SPEC §12), or null. */
  held: HoldReason | null;
  /** Downstream processors whose problems this one's alert carries ("also affected"), sorted. */
  also_affected: string[];
}

export interface UnusableRows {
  /** Rows in the window whose status is in none of the processor's lists (they form no run), and one such status. */
  unrecognized_status_rows: number;
  unrecognized_status_example: string | null;
  /** Runs in the window whose state is running and that have no started_at (they can never be hung). */
  running_runs_without_start: number;
  /** The processor's table has a started_at column (`started_at_field` is not null). */
  has_started_at: boolean;
}

export interface CheckResult {
  report: CheckReport;
  details: Record<string, ProcessorDetail>;
  /**
   * BigQuery: each processor's config row as the registry Dataform deployed it (JSON, as the check
   * statement returned it), which detection used (`check/deployed.ts` says where it differs from
   * the runner's); absent where the statement is rendered from the runner's registry.
   */
  deployed_configs?: ReadonlyMap<string, string>;
  /**
   * BigQuery, with `RunCheckOptions.allowUndeployed`: the processors asked that the deployment does
   * not know yet, left out of `report` (which holds the others), sorted.
   */
  undeployed?: readonly string[];
}

export interface CheckWindow {
  endDate: string;
  windowStart: string;
  lookbackDays: number;
  now: Date;
}

const processorIndexes = new WeakMap<CheckReport, Map<string, ProcessorReport>>();

/** A processor of the report by name, from an index built once per report (not a linear search per alert). */
export function processorNamed(report: CheckReport, name: string): ProcessorReport | undefined {
  let index = processorIndexes.get(report);
  if (!index) processorIndexes.set(report, (index = new Map(report.processors.map((p) => [p.name, p]))));
  return index.get(name);
}

const LEVEL_RANK: Record<ProcessorLevel, number> = { OK: 0, ERROR: 1, CRITICAL: 2 };
export const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 } as const;

/** What urgency reads of a processor: never its days (a packed report unpacks them on each read). */
export type UrgencyKey = Pick<ProcessorReport, 'level' | 'priority' | 'revenue_impact' | 'name'>;

/** Worst first, then high priority and revenue impact, then name: the order of every report and alert. */
export function byUrgency(a: UrgencyKey, b: UrgencyKey): number {
  return (
    LEVEL_RANK[b.level] - LEVEL_RANK[a.level] ||
    PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] ||
    Number(b.revenue_impact) - Number(a.revenue_impact) ||
    a.name.localeCompare(b.name)
  );
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/**
 * An instant as `toISOString` writes it. The statement already gives that form (check_columns), so
 * such a string is kept as it is: parsing and formatting each day's due_at again took ~1.8 µs a
 * day, 0.65 s of a 1,000 × 366-day report. Anything else takes the long way (CANONICAL_INSTANT).
 */
export const isoInstant = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' && CANONICAL_INSTANT.test(v) ? v : new Date(String(v)).toISOString();
const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Most days have no anomaly: they share one empty list (never mutated) instead of one each. */
const NO_ANOMALIES: Anomaly[] = [];

function anomaliesOf(row: Row): Anomaly[] {
  if (row.is_low_volume !== true && row.is_high_volume !== true && row.is_slow !== true) return NO_ANOMALIES;
  return ANOMALIES.filter((anomaly) => row[`is_${anomaly}`] === true);
}

/**
 * Each combination of anomalies as one list, by its bits (1 << index in ANOMALIES). Frozen: every
 * packed day of every check in the process shares them, so a change to one would change all.
 */
const ANOMALY_LISTS: readonly Anomaly[][] = Array.from({ length: 1 << ANOMALIES.length }, (_, bits) =>
  bits === 0 ? NO_ANOMALIES : (Object.freeze(ANOMALIES.filter((_, i) => (bits & (1 << i)) !== 0)) as Anomaly[]),
);
/**
 * Gives back a list of dates equal to the one given, the same array as the last one when they are
 * equal: every processor of a check has the window's dates, and an array of them per processor (two,
 * with its day details) was 16 MB at 2,732 processors × 366 days.
 */
type DatesSharer = (dates: readonly string[]) => readonly string[];

/** A packed day's values, in this order: its code (status and anomalies), then its numbers. */
const PACKED_NUMBERS = ['runs', 'failed_runs', 'records', 'duration_seconds', 'baseline_records', 'baseline_duration_seconds'] as const;
const PACKED_WIDTH = 1 + PACKED_NUMBERS.length;

/**
 * A processor's days as the check holds them until they are written: seven numbers a day in one
 * array of doubles (V8 keeps them unboxed, on its heap): the day's status and anomalies as one code,
 * then its six numbers (NaN for null: JSON has no NaN, so no day has one), beside its date (one
 * string per distinct date, shared). An object per day took ~110 bytes of JavaScript heap, this
 * ~60; 10,000 processors × 90 days hold 900,000 days until the document is written (SPEC §14: the
 * largest check stays within the job's 512 MiB). `unpack` gives them back as DayReport objects, new
 * ones each time (nothing is kept): a reader that uses a processor's days several times reads
 * `ProcessorReport.days` once (the terminal); the HTML report and alerts still read it a few times.
 */
class PackedDays {
  private constructor(
    private readonly dates: readonly string[],
    private readonly values: readonly number[],
  ) {}

  /** Null when a day does not fit (a status outside DAY_STATUSES): those days are kept as they are. */
  static pack(days: readonly DayReport[], sameDates: DatesSharer): PackedDays | null {
    const codes = days.map((day) => DAY_STATUSES.indexOf(day.status));
    if (codes.some((code) => code < 0)) return null;
    // Filled with a double first, so V8 stores it as doubles from the start.
    const values: number[] = new Array<number>(days.length * PACKED_WIDTH).fill(NaN);
    for (let i = 0; i < days.length; i++) {
      const day = days[i]!;
      let bits = 0;
      for (const anomaly of day.anomalies) bits |= 1 << ANOMALIES.indexOf(anomaly);
      const at = i * PACKED_WIDTH;
      values[at] = codes[i]! | (bits << 3);
      for (let k = 0; k < PACKED_NUMBERS.length; k++) values[at + 1 + k] = day[PACKED_NUMBERS[k]!] ?? NaN;
    }
    return new PackedDays(sameDates(days.map((d) => d.date)), values);
  }

  unpack(): DayReport[] {
    const n = this.values;
    const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);
    const days: DayReport[] = new Array(this.dates.length);
    for (let i = 0; i < days.length; i++) {
      const at = i * PACKED_WIDTH;
      const code = n[at]!;
      days[i] = {
        date: this.dates[i]!,
        status: DAY_STATUSES[code & 7]!,
        runs: n[at + 1]!,
        failed_runs: n[at + 2]!,
        anomalies: ANOMALY_LISTS[code >> 3]!,
        records: orNull(n[at + 3]!),
        duration_seconds: orNull(n[at + 4]!),
        baseline_records: orNull(n[at + 5]!),
        baseline_duration_seconds: orNull(n[at + 6]!),
      };
    }
    return days;
  }
}

/**
 * Checks of a window longer than this keep their processors' days packed (PackedDays), where the
 * days are most of what a check holds. Measured by pem check, interleaved, packed against objects
 * (bench/README.md), peak RSS medians: 7 days +6 MiB at 1,000 processors and +13 at 10,000 (so short
 * windows keep objects); 14 days −4 within the noise; 30 days −6; 90 days −7; 366 days −15; 10,000 ×
 * 90 days −26 (UUID run ids).
 */
export const PACKED_WINDOW_DAYS = 29;

/**
 * `value` with its days packed (`packed`, or as it is when they do not pack) and `days` a getter in
 * their place among its keys: the document's order, taken from the object itself.
 */
function withPackedDays<T extends { days: unknown }>(value: T, packed: { unpack(): T['days'] } | null): T {
  if (!packed) return value;
  const keys = Object.keys(value);
  const at = keys.indexOf('days');
  const pick = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, value[name as keyof T]]));
  return daysBetween(pick(keys.slice(0, at)), packed, pick(keys.slice(at + 1))) as T;
}

/**
 * The object of `withPackedDays`, in a function of its own: the getter keeps only `packed` alive,
 * where one defined beside `value` would keep that scope, and the days as objects with it. Spread
 * after the getter too: with plain properties after it, V8 put the getter last.
 */
function daysBetween(before: object, packed: { unpack(): unknown }, after: object): object {
  return {
    ...before,
    get days(): unknown {
      return packed.unpack();
    },
    ...after,
  };
}

/** A packed day detail's instants, each as epoch milliseconds (NaN for null), after its flags. */
const DETAIL_INSTANTS = ['due_at', 'first_started_at', 'last_completed_at'] as const;
const DETAIL_WIDTH = 1 + DETAIL_INSTANTS.length;

/**
 * A processor's day details (run times and errors per date, for the HTML report and `pem gaps`) as a
 * large check holds them: four numbers a day in one array of doubles (its three flags as bits, then
 * due_at, first_started_at and last_completed_at as epoch milliseconds, NaN for null), its errors
 * apart (most days have none), beside the shared dates. An object a day with its three instants as
 * strings took ~200 bytes: at 10,000 processors × 90 days, `pem report` held 900,000 of them and
 * peaked at 813 MiB, over the job's 512 (bench/README.md). `unpack` gives the same DayDetail objects
 * back, new ones each time.
 */
class PackedDayDetails {
  private constructor(
    private readonly dates: readonly string[],
    private readonly values: readonly number[],
    private readonly errors: ReadonlyMap<number, readonly [string | null, string | null]>,
  ) {}

  /** Null when an instant is not in `toISOString`'s form (it would not come back the same): those days stay objects. */
  static pack(days: readonly DayDetail[], sameDates: DatesSharer): PackedDayDetails | null {
    const values: number[] = new Array<number>(days.length * DETAIL_WIDTH).fill(NaN);
    const errors = new Map<number, readonly [string | null, string | null]>();
    for (let i = 0; i < days.length; i++) {
      const day = days[i]!;
      const at = i * DETAIL_WIDTH;
      values[at] = (day.is_expected ? 1 : 0) | (day.is_due ? 2 : 0) | (day.is_problem_date ? 4 : 0);
      for (let k = 0; k < DETAIL_INSTANTS.length; k++) {
        const text = day[DETAIL_INSTANTS[k]!];
        if (text === null) continue;
        const ms = instantMs(text);
        if (ms === null) return null;
        values[at + 1 + k] = ms;
      }
      if (day.last_error_type !== null || day.last_error_message !== null) errors.set(i, [day.last_error_type, day.last_error_message]);
    }
    return new PackedDayDetails(sameDates(days.map((d) => d.date)), values, errors);
  }

  unpack(): DayDetail[] {
    const n = this.values;
    const instant = (ms: number): string | null => (Number.isNaN(ms) ? null : instantText(ms));
    const days: DayDetail[] = new Array(this.dates.length);
    for (let i = 0; i < days.length; i++) {
      const at = i * DETAIL_WIDTH;
      const flags = n[at]!;
      const [errorType, errorMessage] = this.errors.get(i) ?? [null, null];
      days[i] = {
        date: this.dates[i]!,
        is_expected: (flags & 1) !== 0,
        is_due: (flags & 2) !== 0,
        due_at: instant(n[at + 1]!),
        is_problem_date: (flags & 4) !== 0,
        first_started_at: instant(n[at + 2]!),
        last_completed_at: instant(n[at + 3]!),
        last_error_type: errorType,
        last_error_message: errorMessage,
      };
    }
    return days;
  }
}

/** Options of building the check result. */
export interface BuildOptions {
  /**
   * Keep each processor's per-day details (`ProcessorDetail.days`: run times and errors per date),
   * which only the HTML report and `pem gaps` show. `pem check` leaves them out: at 10,000
   * processors × 90 days they would be most of its memory (SPEC §14).
   */
  dayDetails: boolean;
  /**
   * Hold the day details packed (PackedDayDetails) rather than as an object each: `runCheck` asks it
   * of a large check (over LARGE_CHECK_PROCESSOR_DAYS), where they would be most of its memory.
   */
  packDayDetails?: boolean;
  /**
   * Secrets to mask in the run history's free text (error types and messages, an unrecognised
   * status), which every output of the result shows: a failing processor's error may quote the
   * webhook it posted to (SPEC §5). `destinationSecrets` of the environment.
   */
  redact?: readonly string[];
}

/**
 * A day of the check statement (`check_columns`: its JSON has short keys, each beside its column) as
 * the processor_health_daily row's day columns, named in full. One object literal: every day gets
 * the same shape.
 */
export function checkDayRow(day: Row): Row {
  const value = (key: string): PlainValue => day[key] ?? null;
  return {
    processing_date: value('d'),
    day_status: value('s'),
    runs: value('r'),
    failed_runs: value('f'),
    is_recovered_failure: value('rf'),
    is_expected: value('e'),
    is_due: value('du'),
    first_started_at: value('fs'),
    last_completed_at: value('lc'),
    last_error_type: value('et'),
    last_error_message: value('em'),
    records: value('n'),
    duration_seconds: value('t'),
    baseline_records: value('bn'),
    baseline_duration_seconds: value('bt'),
    is_low_volume: value('lv'),
    is_high_volume: value('hv'),
    is_slow: value('sl'),
    due_at: value('da'),
    is_problem_date: value('p'),
    blocked_by: value('b'),
  };
}

/**
 * Builds the check result one processor at a time, from the rows of the check statement
 * (`check_columns`: per row the processor, its verdict as JSON on its first date, the day as
 * JSON; ordered by processor and date) as they stream in, or from rows of processor_health_daily
 * (one per processor and date, every column) grouped by `buildCheckResult`.
 */
export class CheckResultBuilder {
  private readonly processors: ProcessorReport[] = [];
  private readonly details: Record<string, ProcessorDetail> = {};
  private readonly configByName: Map<string, ProcessorConfig>;
  private pending: { name: string; verdict: Row; days: Row[] } | null = null;
  /** One string per distinct date and status, shared by every processor's days (memory, SPEC §14). */
  private readonly strings = new Map<string, string>();

  /** The dates of the last processor packed (DatesSharer): the next one's are most likely the same. */
  private lastDates: readonly string[] = [];
  private readonly sameDates: DatesSharer = (dates) => {
    const last = this.lastDates;
    if (last.length === dates.length && last.every((date, i) => date === dates[i])) return last;
    return (this.lastDates = dates);
  };

  private shared(value: unknown): string {
    const text = String(value);
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }

  constructor(
    registry: Registry,
    private readonly window: CheckWindow,
    private readonly options: BuildOptions = { dayDetails: true },
  ) {
    this.configByName = new Map(registry.processors.map((p) => [p.name, p]));
    const mask = secretMasker(options.redact ?? [], { byShape: true });
    this.text = (value) => (value === null || value === undefined ? null : mask(String(value)));
  }

  /** A free-text value of the run history as shown (`str`, its secrets masked). */
  private readonly text: (value: unknown) => string | null;

  /** One row of the check statement. A processor's rows come together, its first date first. */
  addCheckRow(row: Row): void {
    const name = String(row.processor_name);
    if (this.pending?.name !== name) {
      this.flush();
      if (row.verdict === null || row.verdict === undefined) throw new Error(`check rows of ${name} do not start with its verdict`);
      this.pending = { name, verdict: JSON.parse(String(row.verdict)) as Row, days: [] };
    }
    this.pending.days.push(checkDayRow(JSON.parse(String(row.day)) as Row));
  }

  private flush(): void {
    if (this.pending) this.addProcessor(this.pending.name, this.pending.verdict, this.pending.days);
    this.pending = null;
  }

  /** One processor: `verdict` holds its columns, `dayRows` its window's days in date order. */
  addProcessor(name: string, verdict: Row, dayRows: readonly Row[]): void {
    const days: DayReport[] = dayRows.map((r) => ({
      date: this.shared(r.processing_date),
      status: this.shared(r.day_status) as DayStatus,
      runs: num(r.runs),
      failed_runs: num(r.failed_runs),
      anomalies: anomaliesOf(r),
      records: numOrNull(r.records ?? null),
      duration_seconds: numOrNull(r.duration_seconds ?? null),
      baseline_records: numOrNull(r.baseline_records ?? null),
      baseline_duration_seconds: numOrNull(r.baseline_duration_seconds ?? null),
    }));
    const datesWith = (status: DayStatus) => days.filter((d) => d.status === status).map((d) => d.date);
    const datesWithAnomaly = (anomaly: Anomaly) => days.filter((d) => d.anomalies.includes(anomaly)).map((d) => d.date);
    const blockedBy = new Map<string, string[]>();
    // The SQL explains every expected, due date not done, which the stale rule needs (SPEC §12);
    // what the processor is blocked on is its problem dates, and a stale one's dates since its last
    // success: a date still running, explained by an upstream's, is no date it waits on.
    const isStale = verdict.is_stale === true;
    const lastSuccess = str(verdict.last_success_date);
    for (const r of dayRows) {
      const sinceLastSuccess = isStale && (lastSuccess === null || String(r.processing_date) > lastSuccess);
      if (r.is_problem_date !== true && !sinceLastSuccess) continue;
      for (const upstream of r.blocked_by === null || r.blocked_by === undefined ? [] : String(r.blocked_by).split(',')) {
        let dates = blockedBy.get(upstream);
        if (!dates) blockedBy.set(upstream, (dates = []));
        dates.push(String(r.processing_date));
      }
    }
    const report: ProcessorReport = {
      name,
      display_name: String(verdict.display_name),
      level: String(verdict.processor_level) as ProcessorLevel,
      priority: String(verdict.priority) as Priority,
      revenue_impact: Boolean(verdict.revenue_impact),
      missing_dates: datesWith('missing'),
      failed_dates: datesWith('failed'),
      hung_dates: datesWith('hung'),
      recovered_failure_dates: dayRows.filter((r) => r.is_recovered_failure === true).map((r) => String(r.processing_date)),
      low_volume_dates: datesWithAnomaly('low_volume'),
      high_volume_dates: datesWithAnomaly('high_volume'),
      slow_dates: datesWithAnomaly('slow'),
      last_success_date: str(verdict.last_success_date),
      days_since_success: verdict.days_since_success === null ? null : num(verdict.days_since_success),
      is_stale: verdict.is_stale === true,
      scheduler_issue: verdict.scheduler_issue === true,
      days,
      problem_since: str(verdict.problem_since ?? null),
      blocked_by: [...blockedBy.keys()].sort().map((processor) => ({ processor, dates: blockedBy.get(processor)! })),
      route: this.configByName.get(name)?.route ?? DEFAULT_ROUTE,
    };
    this.processors.push(this.window.lookbackDays > PACKED_WINDOW_DAYS ? withPackedDays(report, PackedDays.pack(report.days, this.sameDates)) : report);

    const config = this.configByName.get(name);
    let newestFailure: Row | undefined;
    let newestHung: Row | undefined;
    for (const r of dayRows) {
      if (r.last_error_type !== null || r.last_error_message !== null || String(r.day_status) === 'failed') newestFailure = r;
      if (String(r.day_status) === 'hung') newestHung = r;
    }
    this.details[name] = {
      name,
      staleness_threshold_days: num(verdict.staleness_threshold_days),
      slack_channel: config?.slack_channel ?? null,
      owners: config?.owners ?? [],
      enabled: config?.enabled ?? true,
      unusable: {
        unrecognized_status_rows: num(verdict.unrecognized_status_rows),
        unrecognized_status_example: this.text(verdict.unrecognized_status_example),
        running_runs_without_start: num(verdict.running_runs_without_start),
        has_started_at: (config?.started_at_field ?? null) !== null,
      },
      latest_failure: newestFailure
        ? {
            date: String(newestFailure.processing_date),
            error_type: this.text(newestFailure.last_error_type),
            error_message: this.text(newestFailure.last_error_message),
          }
        : null,
      latest_hung: newestHung ? { date: String(newestHung.processing_date), started_at: isoInstant(newestHung.first_started_at) } : null,
      days: this.options.dayDetails
        ? dayRows.map((r) => ({
            date: this.shared(r.processing_date),
            is_expected: r.is_expected === true,
            is_due: r.is_due === true,
            due_at: isoInstant(r.due_at),
            is_problem_date: r.is_problem_date === true,
            first_started_at: str(r.first_started_at ?? null),
            last_completed_at: str(r.last_completed_at ?? null),
            last_error_type: this.text(r.last_error_type),
            last_error_message: this.text(r.last_error_message),
          }))
        : [],
      threshold_problem_dates: verdict.threshold_problem_dates === null || verdict.threshold_problem_dates === undefined ? null : num(verdict.threshold_problem_dates),
      alert_after_dates: config?.alert_after_dates ?? null,
      problems_explained: verdict.problems_explained === true,
      alert_on_recovered_failures: config?.alert_on_recovered_failures ?? false,
      held: null,
      also_affected: [],
    };
    if (this.options.packDayDetails) {
      const detail = this.details[name]!;
      this.details[name] = withPackedDays(detail, PackedDayDetails.pack(detail.days, this.sameDates));
    }
  }

  /** The result: processors sorted by name, noise control and alerts over all of them. */
  finish(): CheckResult {
    this.flush();
    const processors = this.processors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return assembleCheckResult(processors, this.details, this.window);
  }
}

/** Groups rows of processor_health_daily (one per processor and date, every column) into the check result. */
export function buildCheckResult(rows: readonly Row[], registry: Registry, window: CheckWindow, options?: BuildOptions): CheckResult {
  const byProcessor = new Map<string, Row[]>();
  for (const row of rows) {
    const name = String(row.processor_name);
    let list = byProcessor.get(name);
    if (!list) byProcessor.set(name, (list = []));
    list.push(row);
  }
  const builder = new CheckResultBuilder(registry, window, options);
  for (const name of [...byProcessor.keys()].sort()) {
    const dayRows = byProcessor.get(name)!.slice().sort((a, b) => String(a.processing_date).localeCompare(String(b.processing_date)));
    builder.addProcessor(name, dayRows[0]!, dayRows);
  }
  return builder.finish();
}

/**
 * The check result from its processors (sorted by name) and their details: noise control's holds
 * and folding over all of them (SPEC §12), the run level and the alerts. Also how a backtest puts
 * together processors evaluated at different instants.
 */
export function assembleCheckResult(processors: ProcessorReport[], details: Record<string, ProcessorDetail>, window: CheckWindow): CheckResult {
  const noise = holdReasons(processors, details);
  for (const p of processors) {
    const detail = details[p.name];
    if (!detail) continue;
    detail.held = noise.held.get(p.name) ?? null;
    detail.also_affected = noise.alsoAffected.get(p.name) ?? [];
  }

  const worst = processors.reduce<ProcessorLevel>((acc, p) => (LEVEL_RANK[p.level] > LEVEL_RANK[acc] ? p.level : acc), 'OK');
  const report: CheckReport = {
    as_of_date: window.endDate,
    window_start: window.windowStart,
    window_end: window.endDate,
    lookback_days: window.lookbackDays,
    now: window.now.toISOString(),
    level: worst === 'OK' ? 'INFO' : worst,
    processors,
    alerts: planAlerts(processors, noise.held),
  };
  return { report, details };
}

/** Day statuses that make a problem date (SPEC §11 "since when"): a date to re-run or look at. */
export const PROBLEM_STATUSES: ReadonlySet<DayStatus> = new Set(['missing', 'failed', 'hung']);

/** A problem date (SPEC §11, §12): missing, failed or hung, or a success with an anomaly (SPEC §10). */
export function isProblemDay(day: DayReport): boolean {
  return PROBLEM_STATUSES.has(day.status) || day.anomalies.length > 0;
}

/**
 * SPEC §11 `problem_since`: the earliest problem date with no `success` date between it and the
 * latest problem date; null without a problem date in the window. The check takes its
 * `problem_since` from the detection SQL; this reading of day statuses (ascending) serves report
 * fixtures that have no SQL behind them (the same rule as the SQL's).
 */
export function problemSince(days: readonly DayReport[]): string | null {
  let since: string | null = null;
  for (let i = days.length - 1; i >= 0; i--) {
    const day = days[i]!;
    if (isProblemDay(day)) since = day.date;
    else if (since !== null && day.status === 'success') break;
  }
  return since;
}

/** The problem dates of the current streak (from `problem_since` to the latest problem date). */
export function streakProblemDates(days: readonly DayReport[], since: string | null): string[] {
  return since === null ? [] : days.filter((d) => d.date >= since && isProblemDay(d)).map((d) => d.date);
}

/**
 * Routing of SPEC §5: one alert per processor at its level, a WARNING summary when two or more
 * processors have issues, and an INFO note to the console when all are healthy. Nothing is
 * sent here (`sent: false`); delivery marks what it delivered.
 */
export function planAlerts(processors: readonly ProcessorReport[], held: ReadonlyMap<string, HoldReason> = new Map()): AlertReport[] {
  const critical = processors.filter((p) => p.level === 'CRITICAL');
  const error = processors.filter((p) => p.level === 'ERROR');
  const reason = (name: string) => held.get(name) ?? null;
  const alerts: AlertReport[] = [
    ...critical.map((p) => alert('CRITICAL', p.name, p.route, reason(p.name))),
    ...error.map((p) => alert('ERROR', p.name, p.route, reason(p.name))),
  ];
  // A held alert (SPEC §12) does not count towards the summary; the INFO note still means "all OK".
  const alerting = critical.length + error.length - [...critical, ...error].filter((p) => held.has(p.name)).length;
  // SPEC §11: the WARNING summary goes to the default route.
  if (alerting >= 2) alerts.push(alert('WARNING', null, DEFAULT_ROUTE));
  if (critical.length + error.length === 0) alerts.push(alert('INFO', null, null));
  return alerts;
}

/** One alert, routed by SPEC §5's table (`ALERT_ROUTING`); delivery sets `sent` and `reason` (a hold's reason is set here). */
function alert(level: AlertLevel, processor: string | null, route: string | null, reason: AlertReason | null = null): AlertReport {
  return { level, processor, destinations: [...ALERT_ROUTING[level]], route, sent: false, reason };
}
