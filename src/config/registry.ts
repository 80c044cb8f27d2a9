/**
 * The processor registry (SPEC §3): its schema, its defaults, and the normalised form the
 * rest of the monitor reads. Pure: loading the file is `load.ts`'s job.
 *
 * Keys are snake_case because they are also the columns of the `processor_config` table
 * that Dataform deploys from the same file.
 */
import { nearestWithin } from '../suggest.js';
import { BIDI_CONTROLS } from '../printable.js';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { TABLES } from './names.js';

export const FREQUENCIES = ['daily', 'weekdays', 'weekly', 'calendar', 'none'] as const;
export const PRIORITIES = ['low', 'medium', 'high'] as const;
export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

export type Frequency = (typeof FREQUENCIES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type Weekday = (typeof WEEKDAYS)[number];

export const DEFAULT_DATASET = 'monitoring';
export const DEFAULT_TIMEZONE = 'UTC';
export const RUN_HISTORY_TABLE = TABLES.runHistory;

/** A processor after defaults: every key present, nothing optional. */
export interface ProcessorConfig {
  name: string;
  display_name: string;
  execution_table: string;
  processor_filter: string;
  date_field: string;
  status_field: string;
  run_id_field: string | null;
  started_at_field: string | null;
  completed_at_field: string | null;
  success_statuses: string[];
  failure_statuses: string[];
  running_statuses: string[];
  expected_frequency: Frequency;
  expected_weekdays: Weekday[];
  calendar_table: string | null;
  calendar_date_field: string | null;
  calendar_filter: string | null;
  staleness_threshold_days: number;
  timezone: string;
  grace_hours: number;
  /** Minutes, or "auto": from the runtime baseline of E (SPEC §10). */
  max_runtime_minutes: number | 'auto';
  enabled: boolean;
  priority: Priority;
  revenue_impact: boolean;
  alert_on_recovered_failures: boolean;
  slack_channel: string | null;
  owners: string[];
  // Silent failures (SPEC §10): the records column, the baseline, and the anomaly rules (null: off).
  records_field: string | null;
  baseline_days: number;
  baseline_min_dates: number;
  volume_min_ratio: number | null;
  volume_max_ratio: number | null;
  runtime_max_ratio: number | null;
  runtime_min_excess_minutes: number;
  /** SPEC §11: the route its alerts take (`default` unless named). */
  route: string;
  /** SPEC §11: link templates with `{processor}` and `{date}`; null when not set. */
  runbook_url: string | null;
  backfill_command: string | null;
  /** SPEC §12: N; null raises the ERROR alert on any problem date. */
  alert_after_dates: number | null;
  /** SPEC §12: M, the most recent expected, due dates N is counted in; null when N is. */
  alert_within_dates: number | null;
  /** SPEC §12: the downstream's date D needs each upstream's date D + offset_days (offset ≤ 0). */
  depends_on: Dependency[];
}

export interface Dependency {
  processor: string;
  offset_days: number;
}

/** SPEC §10's defaults. */
export const BASELINE_DEFAULTS = {
  records_field: 'records_processed',
  baseline_days: 28,
  baseline_min_dates: 7,
  volume_min_ratio: 0.25,
  volume_max_ratio: null,
  runtime_max_ratio: 3,
  runtime_min_excess_minutes: 10,
} as const;

/** `max_runtime_minutes: "auto"`: never below this many minutes, and this many without a baseline (SPEC §10). */
export const AUTO_RUNTIME_FLOOR_MINUTES = 30;
export const AUTO_RUNTIME_FALLBACK_MINUTES = 120;

/** SPEC §11: the environment variables a route's destinations are read from (names, never secrets). */
export interface RouteConfig {
  slack_webhook_env: string | null;
  pagerduty_routing_key_env: string | null;
}

export const DEFAULT_ROUTE = 'default';
/** The `default` route's variables unless the registry redefines it (SPEC §5, §11). */
export const DEFAULT_ROUTE_CONFIG: RouteConfig = { slack_webhook_env: 'SLACK_WEBHOOK_URL', pagerduty_routing_key_env: 'PAGERDUTY_ROUTING_KEY' };
/** The placeholders `runbook_url` and `backfill_command` may use. */
export const TEMPLATE_PLACEHOLDERS = ['processor', 'date'] as const;

/** A `runbook_url` or `backfill_command` with `{processor}` and `{date}` filled in. */
export function fillTemplate(template: string, values: { processor: string; date: string }): string {
  return template.replace(/\{(processor|date)\}/g, (_m, key: 'processor' | 'date') => values[key]);
}

export interface Registry {
  dataset: string;
  timezone: string;
  /** Hours before an open alert is sent again (SPEC §5). */
  renotify_hours: number;
  /** SPEC §11: every route by name, `default` always among them. */
  routes: Record<string, RouteConfig>;
  /** SPEC §11: where the published HTML report is read; null when not set. */
  report_url: string | null;
  /** Sorted by name. */
  processors: ProcessorConfig[];
}

/**
 * The registry keys that name a BigQuery project (`project.dataset`, `project.dataset.table`), each
 * with its value: a DuckDB file has no projects, so an engine that is not BigQuery refuses them.
 * Only the tables a command reads: the dataset's own, and those of `reads` (the processors it
 * checks and their upstreams; none for `pem schema apply` and `pem silence`), so a registry
 * deployed to BigQuery with one processor's table in another project still checks the others.
 */
export function projectQualifiedKeys(registry: Pick<Registry, 'dataset' | 'processors'>, reads: ReadonlySet<string> = new Set()): Array<{ key: string; name: string }> {
  const keys: Array<{ key: string; name: string }> = [];
  const datasetNamesProject = registry.dataset.includes('.');
  if (datasetNamesProject) keys.push({ key: 'dataset', name: registry.dataset });
  const defaultTable = `${registry.dataset}.${RUN_HISTORY_TABLE}`;
  for (const p of registry.processors) {
    if (!reads.has(p.name)) continue;
    // The default execution_table is named by `dataset` already, when that names the project.
    if (p.execution_table.split('.').length > 2 && !(datasetNamesProject && p.execution_table === defaultTable)) {
      keys.push({ key: `processors.${p.name}.execution_table`, name: p.execution_table });
    }
    if (p.expected_frequency === 'calendar' && p.calendar_table !== null && p.calendar_table.split('.').length > 2) {
      keys.push({ key: `processors.${p.name}.calendar_table`, name: p.calendar_table });
    }
  }
  return keys;
}

// ---------------------------------------------------------------------------------------
// Shapes. Messages say what is wrong and show a good value, because people fix registries
// by reading the error, not the docs.

/** Processor and route names; `__proto__` (which the pattern lets through) is refused on its own: as a key it is no key. */
const PROCESSOR_NAME = /^(?!__proto__$)[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `dataset.table` or `project.dataset.table`; project ids may hold dashes. */
export const TABLE_NAME = /^([A-Za-z0-9_-]+\.)?[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
const DATASET_NAME = /^([A-Za-z0-9_-]+\.)?[A-Za-z_][A-Za-z0-9_]*$/;

const nonEmpty = (example: string) =>
  z.string({ invalid_type_error: `must be a string, for example ${example}` }).min(1, `must not be empty, for example ${example}`);

/** A non-empty string of a shape; an empty one is told only that it is empty, not that too. */
const nonEmptyMatching = (example: string, shape: RegExp, message: string) => nonEmpty(example).refine((value) => value === '' || shape.test(value), message);

const tableName = (example: string) =>
  nonEmptyMatching(example, TABLE_NAME, `must be a table name "dataset.table" or "project.dataset.table", for example ${example}`);

const fieldName = (example: string) =>
  nonEmptyMatching(example, FIELD_NAME, `must be a column name (letters, digits, _), for example ${example}`);

/** Zone names already asked: luxon builds an Intl formatter per question, and 10,000 processors ask a few names (15 ms at 10,000). */
const knownZones = new Map<string, boolean>();
function isTimeZone(name: string): boolean {
  let valid = knownZones.get(name);
  if (valid === undefined) knownZones.set(name, (valid = IANAZone.isValidZone(name)));
  return valid;
}

/** The zone names ICU spells (its canonical ones), by lower case; empty where Intl cannot list them. */
let zoneSpellings: Map<string, string> | null = null;

/** The zone names ICU lists, by lower case (`'utc'` → `'UTC'`), built once. */
function listedZones(): Map<string, string> {
  if (zoneSpellings === null) {
    const listed = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    zoneSpellings = new Map([...listed, 'UTC'].map((zone) => [zone.toLowerCase(), zone]));
  }
  return zoneSpellings;
}

/** Intl's names of the zones asked, cached: an Intl formatter costs ~0.1 ms, and 10,000 processors share a few zones. */
const resolvedZones = new Map<string, string>();

/** The zone's name as Intl resolves it (an alias to ICU's canonical name); `name` must be a zone (`isTimeZone`). */
function resolvedZone(name: string): string {
  let resolved = resolvedZones.get(name);
  if (resolved === undefined) resolvedZones.set(name, (resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone));
  return resolved;
}

/**
 * A zone written in other letter case (`america/new_york`, `utc`, `etc/gmt+5`), as the IANA
 * database spells it, when that can be looked up (ICU lists it, or resolves it to itself); null
 * when `name` is spelled so or cannot be told. Intl and DuckDB read any case, BigQuery does not
 * ("Invalid time zone: america/new_york" on every check): the registry reads it as spelled there
 * (and says so in a note), so both engines get the same zone.
 */
function listedSpelling(name: string): string | null {
  if (!isTimeZone(name)) return null;
  const lower = name.toLowerCase();
  const listed = listedZones().get(lower) ?? (resolvedZone(name).toLowerCase() === lower ? resolvedZone(name) : undefined);
  return listed !== undefined && listed !== name ? listed : null;
}

/**
 * For an alias ICU does not list (`Asia/Kolkata`, `US/Eastern`), whose spelling cannot be looked
 * up: null when each part starts with a capital, as every IANA name does; else the zone it stands
 * for as ICU names it, to suggest (`asia/kolkata` → `Asia/Calcutta`, a name BigQuery reads too).
 */
function aliasMisspelling(name: string): string | null {
  const lower = name.toLowerCase();
  if (listedZones().has(lower) || resolvedZone(name).toLowerCase() === lower) return null;
  if (name.split('/').every((part) => /^[A-Z]/.test(part))) return null;
  // A legacy zone the database spells in capitals (EST, EST5EDT): that, not the zone ICU resolves
  // it to ("est" is not America/Panama to whoever typed it). Only those: "japan" is Japan, whose
  // capitals BigQuery would refuse, so it keeps ICU's Asia/Tokyo.
  if (CAPITALS_ZONES.has(name.toUpperCase())) return name.toUpperCase();
  return resolvedZone(name);
}

/** The IANA time zone database's names spelled in capitals alone (its `backward` and `northamerica` files). */
const CAPITALS_ZONES: ReadonlySet<string> = new Set([
  'CET', 'CST6CDT', 'EET', 'EST', 'EST5EDT', 'GB', 'GMT', 'GMT+0', 'GMT-0', 'GMT0', 'HST', 'MET', 'MST', 'MST7MDT',
  'NZ', 'NZ-CHAT', 'PRC', 'PST8PDT', 'ROC', 'ROK', 'UCT', 'UTC', 'W-SU', 'WET',
]);

const timezone = z
  .string({ invalid_type_error: 'must be an IANA time zone name, for example "America/New_York"' })
  .refine(isTimeZone, (tz) => ({
    message: `"${tz}" is not an IANA time zone; use a name such as "America/New_York" or "UTC"`,
  }))
  .superRefine((tz, context) => {
    // Only of a zone Intl knows (the refinement above has said what is wrong with another).
    const suggested = isTimeZone(tz) ? aliasMisspelling(tz) : null;
    if (suggested !== null) {
      context.addIssue({ code: z.ZodIssueCode.custom, message: `"${tz}" is not spelled as the IANA time zone database spells it, which BigQuery requires: write "${suggested}"` });
    }
  })
  .transform((tz) => listedSpelling(tz) ?? tz);

const statusList = (example: string, min: number) =>
  z
    .array(nonEmpty(example), { invalid_type_error: `must be a list of status values, for example [${example}]` })
    .min(min, `must list at least ${min} status value, for example [${example}]`);

const bool = (key: string) => z.boolean({ invalid_type_error: `must be true or false, for example "${key}": true` });

const wholeNumber = (key: string, example: number, min: number, max: number) =>
  z
    .number({ invalid_type_error: `must be a number, for example "${key}": ${example}` })
    .int(`must be a whole number, for example "${key}": ${example}`)
    .min(min, `must be at least ${min}, for example "${key}": ${example}`)
    .max(max, `must be at most ${max}, for example "${key}": ${example}`);

/** A positive multiple of the baseline (a volume or runtime ratio). */
const ratio = (key: string, example: number) =>
  z
    .number({ invalid_type_error: `must be a number or null, for example "${key}": ${example}` })
    .positive(`must be more than 0 (null turns the rule off), for example "${key}": ${example}`)
    .max(1_000_000, `must be at most 1000000, for example "${key}": ${example}`);

/** `inList`: the values are a list's elements, so the example shows a list (`"expected_weekdays": ["MON"]`). */
const enumOf = <T extends readonly [string, ...string[]]>(values: T, key: string, inList = false) => {
  const example = inList ? `"${key}": ["${values[0]}"]` : `"${key}": "${values[0]}"`;
  return z.enum(values, {
    errorMap: (issue) => ({
      message:
        issue.code === 'invalid_enum_value'
          ? `"${String(issue.received)}" is not one of ${values.join(', ')}; for example ${example}`
          : `must be one of ${values.join(', ')}; for example ${example}`,
    }),
  });
};

/** Thresholds count at most this many dates: a year of daily dates is already more than a window reads. */
export const MAX_THRESHOLD_DATES = 366;

/** How far back a dependency may reach (`offset_days`), in days. */
export const MAX_DEPENDENCY_OFFSET_DAYS = 366;

const dependencyShape = z.union(
  [
    nonEmpty('"gamebook_processor"'),
    z
      .object({
        processor: nonEmpty('"gamebook_processor"'),
        // Positive offsets (a date needing a later upstream date) are refused with their own line
        // in dependencyProblems, which names the processor and the offset.
        offset_days: z
          .number({ invalid_type_error: 'must be a number of days, for example "offset_days": -1' })
          .int('must be a whole number of days, for example "offset_days": -1')
          // Every history scan reaches back by the largest offset (SPEC §14): a year is already far.
          .min(-MAX_DEPENDENCY_OFFSET_DAYS, `must be -${MAX_DEPENDENCY_OFFSET_DAYS} or more (a year back at most), for example "offset_days": -1`)
          .optional(),
      })
      .strict(),
  ],
  {
    errorMap: () => ({
      message: 'each dependency is a processor key or {"processor": KEY, "offset_days": K}, for example "gamebook_processor" or {"processor": "gamebook_processor", "offset_days": -1}',
    }),
  },
);

/**
 * The registry names environment variables, never secrets (SPEC §11). A value that is not a
 * variable name is refused without being echoed: it may be the webhook URL or the routing key
 * itself, and the error line ends up in CI logs.
 */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envVariableName = (example: string) =>
  z
    .string({ invalid_type_error: `must be the name of an environment variable, for example "${example}"` })
    .superRefine((value, ctx) => {
      const why = envNameProblem(value);
      if (why) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${why}, for example "${example}"` });
    })
    .nullable();

/** Why a value cannot be an environment variable's name, without quoting it; null when it can. */
export function envNameProblem(value: string): string | null {
  if (/:\/\/|^hooks\.|\//.test(value) || looksLikeKey(value)) {
    return 'looks like a secret (a URL or a key): the registry names the environment variable that holds it, never the value';
  }
  if (!ENV_NAME.test(value)) return 'must be an environment variable name (letters, digits, _)';
  return null;
}

/**
 * PagerDuty integration keys are 32 letters and digits; Slack and other tokens are long runs of
 * them too. Variable names are words joined by "_", so a long run with no "_" mixing letters and
 * digits is taken for a key.
 */
function looksLikeKey(value: string): boolean {
  return value.length >= 20 && /^[A-Za-z0-9-]+$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

const ownerShape = z.lazy(() => shownText('"data-eng@example.com"', 'owners are names people read', { urls: true }));

/**
 * A word of shown text that is a token: a Slack token (`xoxb-…`), or 24 or more letters and digits
 * mixed with no separator (a PagerDuty routing key is 32). Not `looksLikeKey`, which allows dashes:
 * channel and team names are dashed words with years in them (`data-platform-alerts-2025`).
 */
function looksLikeToken(word: string): boolean {
  return /^xox[a-z]-/i.test(word) || (/^[A-Za-z0-9]{24,}$/.test(word) && /[0-9]/.test(word) && /[A-Za-z]/.test(word));
}

/** A Slack webhook, a PagerDuty events URL, or a URL with a password in it: secrets wherever they are pasted. */
const SECRET_URL = /hooks\.slack\.com|events\.pagerduty\.com|:\/\/[^/\s@]*:[^/\s@]*@/i;

/**
 * Text the registry shows people (a Slack channel, owners) that holds a secret instead: it would be
 * sent in every Slack message and PagerDuty event, and printed in the report. Refused, not echoed.
 */
const shownText = (example: string, what: string, { urls }: { urls: boolean }) =>
  nonEmpty(example).superRefine((value, ctx) => {
    if (SECRET_URL.test(value) || (!urls && value.includes('://')) || value.split(/\s+/).some(looksLikeToken)) secretIssue(ctx, what, example);
  });

function secretIssue(ctx: z.RefinementCtx, what: string, example: string): void {
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `looks like a secret (a URL or a key), which alerts would carry to everyone: ${what}, for example ${example}; a webhook URL or routing key belongs in an environment variable a route names (SPEC §11)`,
  });
}

/**
 * A name, link or command alerts and the report show (display_name, runbook_url, backfill_command, report_url): a
 * webhook, an events URL or a URL with a password in it would go out in every message. Only
 * SECRET_URL here: a command may well hold a long hex word (a commit, a digest), a name a long
 * word with digits (`NbaPlayerProps2025Processor`), that is no key.
 */
const withoutSecretUrl = <T extends z.ZodType<string>>(shape: T, what: string, example: string) =>
  shape.superRefine((value, ctx) => {
    if (SECRET_URL.test(value)) secretIssue(ctx, what, example);
  });

const routeShape = z
  .object({
    slack_webhook_env: envVariableName('SLACK_WEBHOOK_URL_STATS'),
    pagerduty_routing_key_env: envVariableName('PAGERDUTY_ROUTING_KEY_STATS'),
  })
  .partial()
  .strict();

/** `{processor}` and `{date}` only, so a typo is caught before an alert carries a broken link. */
const template = (example: string, { url }: { url: boolean }) =>
  nonEmpty(example).superRefine((value, ctx) => {
    const unknown = [...value.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!).filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      // Every one at once: fixing {proc} should not reveal {DATE} on the next run.
      const named = [...new Set(unknown)].map((name) => `{${name}}`);
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `unknown placeholder${named.length === 1 ? '' : 's'} ${named.join(', ')}: use {processor} and {date}, for example ${example}`,
      });
    }
    if (url && !/^https?:\/\/[^\s]+$/.test(value)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an http(s) URL, for example ${example}` });
    // A command is one line of `pem gaps --format commands` and of each alert: a line break (also
    // U+2028, U+2029), an escape or an invisible bidirectional control there broke it (shown as
    // `?`), where the registry could have said so. A tab is whitespace to a shell: kept (and shown).
    if (!url && COMMAND_BREAKER.test(value)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be one line without control characters (join steps with &&), for example ${example}` });
    }
  });

/** What breaks a one-line command: controls but the tab, line separators, and the invisible bidirectional controls. */
const COMMAND_BREAKER = new RegExp(`[\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\u2028\\u2029${BIDI_CONTROLS}]`);

const DISPLAY_NAME_EXAMPLE = '"Gamebook registry processor"';
const RUNBOOK_EXAMPLE = '"https://runbooks.example.com/{processor}?date={date}"';
const BACKFILL_EXAMPLE = '"gcloud run jobs execute {processor} --region=us-west2 --args=--date={date}"';
const REPORT_URL_EXAMPLE = '"https://storage.cloud.google.com/pem-reports/latest.html"';

const httpLink = (example: string) => nonEmptyMatching(example, /^https?:\/\/[^\s]+$/, `must be an http(s) URL, for example ${example}`);

const processorShape = z
  .object({
    display_name: withoutSecretUrl(nonEmpty(DISPLAY_NAME_EXAMPLE), 'display_name is the name people read', DISPLAY_NAME_EXAMPLE),
    execution_table: tableName('"nba_reference.processor_run_history"'),
    processor_filter: nonEmpty(`"processor_name = 'gamebook'"`),
    date_field: fieldName('"processing_date"'),
    status_field: fieldName('"status"'),
    run_id_field: fieldName('"run_id"').nullable(),
    started_at_field: fieldName('"started_at"').nullable(),
    completed_at_field: fieldName('"completed_at"').nullable(),
    success_statuses: statusList('"success", "skipped"', 1),
    failure_statuses: statusList('"failed"', 0),
    running_statuses: statusList('"running"', 0),
    expected_frequency: enumOf(FREQUENCIES, 'expected_frequency'),
    expected_weekdays: z
      .array(enumOf(WEEKDAYS, 'expected_weekdays', true), {
        invalid_type_error: 'must be a list of weekdays, for example ["MON", "THU"]',
      })
      .min(1, 'must list at least one weekday, for example ["MON"]'),
    calendar_table: tableName('"nba_reference.game_schedule"'),
    calendar_date_field: fieldName('"game_date"'),
    calendar_filter: nonEmpty(`"season = '2025-26'"`),
    staleness_threshold_days: wholeNumber('staleness_threshold_days', 2, 0, 3650),
    timezone,
    grace_hours: z
      .number({ invalid_type_error: 'must be a number of hours, for example "grace_hours": 6' })
      .min(0, 'must be zero or more, for example "grace_hours": 6')
      .max(24 * 30, 'must be at most 720 hours, for example "grace_hours": 6'),
    max_runtime_minutes: z.union([wholeNumber('max_runtime_minutes', 120, 1, 7 * 24 * 60), z.literal('auto')], {
      errorMap: (issue, ctx) => ({
        message:
          issue.code === 'invalid_union'
            ? (issue.unionErrors[0]?.issues[0]?.message ?? ctx.defaultError).replace(/, for example .*$/, '') +
              ', or "auto"; for example "max_runtime_minutes": 120 or "max_runtime_minutes": "auto"'
            : ctx.defaultError,
      }),
    }),
    enabled: bool('enabled'),
    priority: enumOf(PRIORITIES, 'priority'),
    revenue_impact: bool('revenue_impact'),
    alert_on_recovered_failures: bool('alert_on_recovered_failures'),
    slack_channel: shownText('"#nba-data-alerts"', 'slack_channel names the channel the alert is meant for', { urls: false }).nullable(),
    owners: z.union([z.string(), z.array(z.string())], {
      errorMap: () => ({ message: 'must be a name or a list of names, for example ["data-eng@example.com"]' }),
    }).pipe(z.union([ownerShape, z.array(ownerShape)])),
    records_field: fieldName('"records_processed"').nullable(),
    baseline_days: wholeNumber('baseline_days', 28, 1, 366),
    baseline_min_dates: wholeNumber('baseline_min_dates', 7, 1, 366),
    volume_min_ratio: ratio('volume_min_ratio', 0.25).nullable(),
    volume_max_ratio: ratio('volume_max_ratio', 4).nullable(),
    runtime_max_ratio: ratio('runtime_max_ratio', 3).nullable(),
    runtime_min_excess_minutes: z
      .number({ invalid_type_error: 'must be a number of minutes, for example "runtime_min_excess_minutes": 10' })
      .min(0, 'must be zero or more, for example "runtime_min_excess_minutes": 10')
      .max(7 * 24 * 60, 'must be at most 10080 minutes, for example "runtime_min_excess_minutes": 10'),
    alert_after_dates: wholeNumber('alert_after_dates', 2, 1, MAX_THRESHOLD_DATES),
    alert_within_dates: wholeNumber('alert_within_dates', 3, 1, MAX_THRESHOLD_DATES),
    depends_on: z.array(dependencyShape, {
      invalid_type_error: 'must be a list of processor keys or {"processor": KEY, "offset_days": K}, for example ["gamebook_processor"]',
    }),
    route: nonEmpty('"stats"'),
    runbook_url: withoutSecretUrl(template(RUNBOOK_EXAMPLE, { url: true }), 'runbook_url links to the runbook', RUNBOOK_EXAMPLE),
    backfill_command: withoutSecretUrl(template(BACKFILL_EXAMPLE, { url: false }), 'backfill_command is the command that re-runs a date', BACKFILL_EXAMPLE),
  })
  .partial()
  .strict();

const registryShape = z
  .object({
    dataset: nonEmptyMatching('"nba_reference"', DATASET_NAME, 'must be a dataset name, for example "nba_reference"').optional(),
    timezone: timezone.optional(),
    renotify_hours: z
      .number({ invalid_type_error: 'must be a number of hours, for example "renotify_hours": 24' })
      .positive('must be more than 0, for example "renotify_hours": 24')
      .optional(),
    routes: z
      .record(z.unknown(), { invalid_type_error: 'must be an object of routes keyed by name, for example {"stats": {"slack_webhook_env": "SLACK_WEBHOOK_URL_STATS"}}' })
      .optional(),
    report_url: withoutSecretUrl(httpLink(REPORT_URL_EXAMPLE), 'report_url links to the report', REPORT_URL_EXAMPLE).optional(),
    processors: z.record(z.unknown(), {
      required_error: 'is required: an object of processors keyed by name, for example {"gamebook_processor": {}}',
      invalid_type_error: 'must be an object of processors keyed by name, for example {"gamebook_processor": {}}',
    }),
  })
  .strict();

type ProcessorInput = z.infer<typeof processorShape>;

// ---------------------------------------------------------------------------------------

/** Problems found in a registry, each one line naming where (`processors.<name>.<key>`). */
export type RegistryProblems = string[];

/**
 * On success, `notes` say what the registry does that its author may not expect
 * (`ignoredDependencies`). On failure, `processors` still holds every processor that could be read
 * with its faulty keys left out, so the loader can check their filters too and report everything
 * in one pass.
 */
export type ParseResult = { ok: true; registry: Registry; notes: string[] } | { ok: false; problems: RegistryProblems; processors: ProcessorConfig[] };

/**
 * Validates a registry document and applies the defaults of SPEC §3. Collects every problem
 * instead of stopping at the first, so one edit fixes them all.
 */
export function parseRegistry(document: unknown): ParseResult {
  const problems: RegistryProblems = [];
  const top = registryShape.safeParse(document);
  if (!top.success) {
    for (const issue of top.error.issues) problems.push(...formatIssue([], issue));
    // Processors are still checked one by one below when the `processors` object itself is usable.
  }
  const raw = (document ?? {}) as Record<string, unknown>;
  const dataset = top.success ? (top.data.dataset ?? DEFAULT_DATASET) : DEFAULT_DATASET;
  const registryTimezone = top.success ? (top.data.timezone ?? DEFAULT_TIMEZONE) : DEFAULT_TIMEZONE;
  const processorsInput =
    raw.processors !== null && typeof raw.processors === 'object' && !Array.isArray(raw.processors)
      ? (raw.processors as Record<string, unknown>)
      : {};

  const routes = parseRoutes(raw.routes, problems);

  const processors: ProcessorConfig[] = [];
  // A depends_on with a malformed item is left out as a whole; its other items are still checked.
  const partlyFaultyDependencies: [string, (readonly [number, Dependency])[]][] = [];
  for (const name of Object.keys(processorsInput).sort()) {
    const where = ['processors', name];
    if (!PROCESSOR_NAME.test(name)) {
      problems.push(`${where.join('.')}: processor names use letters, digits, "_", "-" and ".", and start with a letter, a digit or "_" (a leading "-" would read as an option in a backfill command), and are not "__proto__"; for example "gamebook_processor"`);
      continue;
    }
    const input = processorsInput[name];
    let parsed = processorShape.safeParse(input);
    // Keys already reported: leave them out and read the rest, so their cross-key problems
    // (filters, calendars, status lists) show up in the same pass.
    const faultyKeys = new Set<string>();
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(...formatIssue(where, issue));
        // An unknown key inside a key's value (`depends_on.0.offset`) makes that key the faulty one.
        if (issue.path.length > 0) faultyKeys.add(String(issue.path[0]));
        else if (issue.code === 'unrecognized_keys') issue.keys.forEach((key) => faultyKeys.add(key));
      }
      const isObject = input !== null && typeof input === 'object' && !Array.isArray(input);
      if (!isObject || faultyKeys.size === 0) continue;
      parsed = processorShape.safeParse(Object.fromEntries(Object.entries(input).filter(([key]) => !faultyKeys.has(key))));
      if (!parsed.success) continue;
    }
    const processor = withDefaults(name, parsed.data, dataset, registryTimezone);
    if (!faultyKeys.has('route') && !Object.hasOwn(routes, processor.route)) {
      const hint = nearestWithin(processor.route, Object.keys(routes));
      problems.push(`${where.join('.')}.route: unknown route "${processor.route}"${hint ? ` (did you mean "${hint}"?)` : ''}; the registry defines ${Object.keys(routes).sort().join(', ')}`);
    }
    const crossProblems = crossFieldProblems(processor, parsed.data).filter((p) => !faultyKeys.has(p.slice(0, p.indexOf(':'))));
    problems.push(...crossProblems.map((p) => `${where.join('.')}.${p}`));
    if (faultyKeys.has('depends_on')) partlyFaultyDependencies.push([name, wellFormedDependencies((input as Record<string, unknown>).depends_on)]);
    processors.push(processor);
  }

  // Every processor the file names is known to its dependents, also one whose own keys are faulty.
  const names = Object.keys(processorsInput);
  // A cycle through a list with a faulty item is a cycle all the same: said now, with the item.
  const wellFormed = new Map(partlyFaultyDependencies);
  const graph = processors.map((p) => ({ name: p.name, depends_on: wellFormed.get(p.name)?.map(([, d]) => d) ?? p.depends_on }));
  problems.push(...dependencyProblems(processors, names, graph));
  const known = new Set(names);
  for (const [name, items] of partlyFaultyDependencies) problems.push(...dependencyItemProblems(name, items, known));
  if (problems.length > 0) return { ok: false, problems, processors };
  const { effective, notes } = ignoredDependencies(processors);
  notes.push(...zoneSpellingNotes(raw, processorsInput, registryTimezone, processors));
  return {
    ok: true,
    registry: {
      dataset,
      timezone: registryTimezone,
      renotify_hours: top.success ? (top.data.renotify_hours ?? 24) : 24,
      routes,
      report_url: top.success ? (top.data.report_url ?? null) : null,
      processors: effective,
    },
    notes,
  };
}

/**
 * For a processor of `expected_frequency` weekdays or weekly: how many of its expected dates lie in
 * the `days` days before each of its expected dates D (D excluded, as a baseline reads them), the
 * fewest and the most over D's weekday. Null for other frequencies.
 */
function expectedDatesBefore(p: Pick<ProcessorConfig, 'expected_frequency' | 'expected_weekdays'>, days: number): { fewest: number; most: number } | null {
  const listed = p.expected_frequency === 'weekdays' ? WEEKDAYS.slice(0, 5) : p.expected_frequency === 'weekly' ? p.expected_weekdays : null;
  if (listed === null) return null;
  const expected = new Set(listed.map((day) => WEEKDAYS.indexOf(day)));
  const counts = [...expected].map((weekday) => {
    let count = 0;
    for (let back = 1; back <= days; back++) if (expected.has((((weekday - back) % 7) + 7) % 7)) count++;
    return count;
  });
  return { fewest: Math.min(...counts), most: Math.max(...counts) };
}

/**
 * Advice for each processor whose expected dates can never make a baseline (SPEC §10): a weekly
 * processor has at most 4 dates in the default 28 baseline days, fewer than the default 7 it needs,
 * so its records and runtime were never compared, and nothing said so. Only when one of its rules
 * would use a baseline; it may still get one from runs on other dates, so advice, not an error.
 * `pem config validate` gives it, not every command: a team that accepts it for a weekly
 * processor would otherwise read it on every check.
 */
export function unreachableBaselineNotes(processors: readonly ProcessorConfig[]): string[] {
  return processors.flatMap(unreachableBaselineNote);
}

function unreachableBaselineNote(p: ProcessorConfig): string[] {
  const timed = p.started_at_field !== null && p.completed_at_field !== null;
  // "auto" runtime reads the baseline only through runtime_max_ratio (without it, 120 minutes).
  const compared = (p.records_field !== null && (p.volume_min_ratio !== null || p.volume_max_ratio !== null)) || (timed && p.runtime_max_ratio !== null);
  const most = expectedDatesBefore(p, p.baseline_days)?.most;
  if (!p.enabled || !compared || most === undefined || most >= p.baseline_min_dates) return [];
  // Enough for every expected date to have its baseline.
  let enough = p.baseline_days;
  while (enough <= 366 && expectedDatesBefore(p, enough)!.fewest < p.baseline_min_dates) enough++;
  const fix = enough <= 366 ? `set "baseline_days": ${enough}, or a lower "baseline_min_dates"` : `set a lower "baseline_min_dates"`;
  return [
    `processors.${p.name}.baseline_days: a ${p.expected_frequency} processor has at most ${most} expected dates in the ${p.baseline_days} days before each of them, fewer than baseline_min_dates (${p.baseline_min_dates}), ` +
      `so unless it also succeeds on other dates it never has a baseline (SPEC §10): no low_volume, high_volume or slow${p.max_runtime_minutes === 'auto' ? `, and "auto" runtime stays at ${AUTO_RUNTIME_FALLBACK_MINUTES} minutes` : ''}; ${fix}`,
  ];
}

/** A note for each time zone read in the database's spelling rather than as written (`listedSpelling`). */
function zoneSpellingNotes(raw: Record<string, unknown>, processorsInput: Record<string, unknown>, registryTimezone: string, processors: readonly ProcessorConfig[]): string[] {
  const note = (key: string, given: unknown, read: string) =>
    typeof given === 'string' && given !== read ? [`${key}: "${given}" is read as "${read}", the IANA database's spelling (BigQuery reads no other)`] : [];
  const notes = note('timezone', raw.timezone, registryTimezone);
  for (const p of processors) notes.push(...note(`processors.${p.name}.timezone`, (processorsInput[p.name] as { timezone?: unknown } | undefined)?.timezone, p.timezone));
  return notes;
}

/**
 * A dependency on a disabled processor is left out, with a note. A disabled processor is not
 * checked (SPEC §3), so it has no days to explain anything by; kept, its dates read as missing
 * and held every alert of its downstreams for good (reason `dependency`) with no root alert to
 * list them: retiring a processor by disabling it silenced the ones that still depended on it.
 */
function ignoredDependencies(processors: readonly ProcessorConfig[]): { effective: ProcessorConfig[]; notes: string[] } {
  const disabled = new Set(processors.filter((p) => !p.enabled).map((p) => p.name));
  const notes: string[] = [];
  const effective = processors.map((p) => {
    const ignored = p.depends_on.filter((d) => disabled.has(d.processor));
    if (ignored.length === 0) return p;
    for (const name of new Set(ignored.map((d) => d.processor))) {
      notes.push(`processors.${p.name}.depends_on: "${name}" is disabled, so it explains none of ${p.name}'s dates: the dependency is ignored until it is enabled`);
    }
    return { ...p, depends_on: p.depends_on.filter((d) => !disabled.has(d.processor)) };
  });
  return { effective, notes };
}

function withDefaults(name: string, input: ProcessorInput, dataset: string, registryTimezone: string): ProcessorConfig {
  const owners = input.owners === undefined ? [] : Array.isArray(input.owners) ? input.owners : [input.owners];
  return {
    name,
    display_name: input.display_name ?? name,
    execution_table: input.execution_table ?? `${dataset}.${RUN_HISTORY_TABLE}`,
    processor_filter: input.processor_filter ?? defaultProcessorFilter(name),
    date_field: input.date_field ?? 'processing_date',
    status_field: input.status_field ?? 'status',
    run_id_field: input.run_id_field === undefined ? 'run_id' : input.run_id_field,
    started_at_field: input.started_at_field === undefined ? 'started_at' : input.started_at_field,
    completed_at_field: input.completed_at_field === undefined ? 'completed_at' : input.completed_at_field,
    success_statuses: input.success_statuses ?? ['success', 'skipped'],
    failure_statuses: input.failure_statuses ?? ['failed'],
    running_statuses: input.running_statuses ?? ['running'],
    expected_frequency: input.expected_frequency ?? 'daily',
    expected_weekdays: input.expected_weekdays ?? ['MON'],
    calendar_table: input.calendar_table ?? null,
    calendar_date_field: input.calendar_date_field ?? null,
    calendar_filter: input.calendar_filter ?? null,
    staleness_threshold_days: input.staleness_threshold_days ?? 2,
    timezone: input.timezone ?? registryTimezone,
    grace_hours: input.grace_hours ?? 0,
    max_runtime_minutes: input.max_runtime_minutes ?? 120,
    enabled: input.enabled ?? true,
    priority: input.priority ?? 'medium',
    revenue_impact: input.revenue_impact ?? false,
    alert_on_recovered_failures: input.alert_on_recovered_failures ?? false,
    slack_channel: input.slack_channel ?? null,
    owners,
    records_field: input.records_field === undefined ? BASELINE_DEFAULTS.records_field : input.records_field,
    baseline_days: input.baseline_days ?? BASELINE_DEFAULTS.baseline_days,
    baseline_min_dates: input.baseline_min_dates ?? BASELINE_DEFAULTS.baseline_min_dates,
    volume_min_ratio: input.volume_min_ratio === undefined ? BASELINE_DEFAULTS.volume_min_ratio : input.volume_min_ratio,
    volume_max_ratio: input.volume_max_ratio === undefined ? BASELINE_DEFAULTS.volume_max_ratio : input.volume_max_ratio,
    runtime_max_ratio: input.runtime_max_ratio === undefined ? BASELINE_DEFAULTS.runtime_max_ratio : input.runtime_max_ratio,
    runtime_min_excess_minutes: input.runtime_min_excess_minutes ?? BASELINE_DEFAULTS.runtime_min_excess_minutes,
    alert_after_dates: input.alert_after_dates ?? null,
    alert_within_dates: input.alert_after_dates === undefined ? null : (input.alert_within_dates ?? input.alert_after_dates),
    depends_on: (input.depends_on ?? []).map(asDependency),
    route: input.route ?? DEFAULT_ROUTE,
    runbook_url: input.runbook_url ?? null,
    backfill_command: input.backfill_command ?? null,
  };
}

/**
 * SPEC §12: a dependency names a known processor, never itself twice over, with an offset of zero
 * or less (a date can wait for an upstream date, not for a later one), and the graph has no cycle
 * (explanation follows edges upstream, so a cycle would let two processors explain each other away).
 * One line per problem; each cycle once, named by its processors in order.
 */
export function dependencyProblems(
  processors: readonly ProcessorConfig[],
  names: readonly string[] = processors.map((p) => p.name),
  graph: readonly Pick<ProcessorConfig, 'name' | 'depends_on'>[] = processors,
): RegistryProblems {
  const problems: RegistryProblems = [];
  const known = new Set(names);
  for (const p of processors) problems.push(...dependencyItemProblems(p.name, p.depends_on.map((d, i) => [i, d]), known));
  for (const cycle of dependencyCycles(graph)) problems.push(`processors.${cycle[0]}.depends_on: dependency cycle ${[...cycle, cycle[0]].join(' -> ')}`);
  return problems;
}

/** The items of a `depends_on` value that are well-formed, by their index in it (none when it is no list). */
function wellFormedDependencies(value: unknown): (readonly [number, Dependency])[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, i) => {
    const parsed = dependencyShape.safeParse(item);
    return parsed.success ? [[i, asDependency(parsed.data)] as const] : [];
  });
}

/** A `depends_on` item as written (a name, or a processor with an offset) as a Dependency. */
function asDependency(d: z.infer<typeof dependencyShape>): Dependency {
  return typeof d === 'string' ? { processor: d, offset_days: 0 } : { processor: d.processor, offset_days: d.offset_days ?? 0 };
}

/**
 * The problems of a processor's dependencies, each with its index in `depends_on` (the items of a
 * list with a malformed item are checked too, by their own indexes, so all show up in one pass).
 */
function dependencyItemProblems(name: string, items: readonly (readonly [number, Dependency])[], known: ReadonlySet<string>): RegistryProblems {
  const problems: RegistryProblems = [];
  const seen = new Set<string>();
  for (const [i, d] of items) {
    const where = `processors.${name}.depends_on.${i}`;
    if (!known.has(d.processor)) {
      // Never the processor itself: a dependency on itself is an error of its own.
      const others = [...known].filter((other) => other !== name);
      const hint = nearestWithin(d.processor, others);
      const suggestion = hint ? ` (did you mean "${hint}"?)` : '';
      problems.push(`${where}: unknown processor "${d.processor}"${suggestion}`);
    } else if (d.processor === name) {
      problems.push(`${where}: a processor cannot depend on itself`);
    }
    if (d.offset_days > 0) {
      problems.push(`${where}.offset_days: ${d.offset_days} is positive; a date can only need the same or an earlier upstream date, for example "offset_days": -1`);
    }
    const key = `${d.processor}|${d.offset_days}`;
    if (seen.has(key)) problems.push(`${where}: "${d.processor}" is listed twice`);
    seen.add(key);
  }
  return problems;
}

/** Each cycle of the dependency graph once (self-loops excluded: reported on their own), starting at its smallest name. */
function dependencyCycles(processors: readonly Pick<ProcessorConfig, 'name' | 'depends_on'>[]): string[][] {
  const edges = new Map(processors.map((p) => [p.name, [...new Set(p.depends_on.map((d) => d.processor))].filter((u) => u !== p.name).sort()]));
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    path.push(name);
    for (const up of edges.get(name) ?? []) {
      if (!edges.has(up)) continue;
      if (state.get(up) === 'visiting') {
        const cycle = path.slice(path.indexOf(up));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join('>'), rotated);
      } else if (!state.has(up)) visit(up);
    }
    path.pop();
    state.set(name, 'done');
  };
  for (const name of [...edges.keys()].sort()) if (!state.has(name)) visit(name);
  return [...cycles.values()];
}

/**
 * The routes of SPEC §11 with `default` always present: a route redefining `default` keeps the
 * default variable of a destination it leaves out. Problems are added to `problems`; a faulty
 * route is still known by name, so processors naming it are not reported twice.
 */
function parseRoutes(input: unknown, problems: RegistryProblems): Record<string, RouteConfig> {
  const routes: Record<string, RouteConfig> = { [DEFAULT_ROUTE]: { ...DEFAULT_ROUTE_CONFIG } };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return routes;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    const where = ['routes', name];
    const base = name === DEFAULT_ROUTE ? DEFAULT_ROUTE_CONFIG : { slack_webhook_env: null, pagerduty_routing_key_env: null };
    routes[name] = { ...base };
    if (!PROCESSOR_NAME.test(name)) {
      problems.push(`${where.join('.')}: route names use letters, digits, "_", "-" and ".", and are not "__proto__"; for example "stats"`);
      continue;
    }
    const parsed = routeShape.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(...formatIssue(where, issue));
      continue;
    }
    routes[name] = {
      slack_webhook_env: parsed.data.slack_webhook_env === undefined ? base.slack_webhook_env : parsed.data.slack_webhook_env,
      pagerduty_routing_key_env: parsed.data.pagerduty_routing_key_env === undefined ? base.pagerduty_routing_key_env : parsed.data.pagerduty_routing_key_env,
    };
  }
  return routes;
}

/** The filter a processor gets when it names none: its own rows of the standard table. */
export function defaultProcessorFilter(name: string): string {
  return `processor_name = '${name}'`;
}

function crossFieldProblems(p: ProcessorConfig, input: ProcessorInput): string[] {
  const problems: string[] = [];
  if (p.expected_frequency === 'calendar') {
    if (!p.calendar_table) problems.push('calendar_table: is required when expected_frequency is "calendar", for example "nba_reference.game_schedule"');
    if (!p.calendar_date_field) problems.push('calendar_date_field: is required when expected_frequency is "calendar", for example "game_date"');
  }
  if (input.expected_weekdays !== undefined && p.expected_frequency !== 'weekly') {
    problems.push(`expected_weekdays: only applies when expected_frequency is "weekly" (it is "${p.expected_frequency}")`);
  }
  // As expected_weekdays: a calendar left on a processor that is no longer "calendar" is read by nothing.
  for (const key of ['calendar_table', 'calendar_date_field', 'calendar_filter'] as const) {
    if (input[key] !== undefined && input[key] !== null && p.expected_frequency !== 'calendar') {
      problems.push(`${key}: only applies when expected_frequency is "calendar" (it is "${p.expected_frequency}")`);
    }
  }
  if (p.baseline_min_dates > p.baseline_days) {
    problems.push(
      `baseline_min_dates: ${p.baseline_min_dates} dates can never fit in baseline_days (${p.baseline_days}); use at most ${p.baseline_days}, for example "baseline_min_dates": ${Math.min(7, p.baseline_days)}`,
    );
  }
  if (p.volume_min_ratio !== null && p.volume_max_ratio !== null && p.volume_max_ratio <= p.volume_min_ratio) {
    problems.push(`volume_max_ratio: must be more than volume_min_ratio (${p.volume_min_ratio}), for example "volume_max_ratio": 4`);
  }
  const seen = new Map<string, string>();
  for (const key of ['success_statuses', 'failure_statuses', 'running_statuses'] as const) {
    for (const status of p[key]) {
      const other = seen.get(status);
      if (other && other !== key) problems.push(`${key}: "${status}" is also listed in ${other}; a status value belongs to one list`);
      seen.set(status, key);
    }
  }
  if (input.alert_within_dates !== undefined && p.alert_after_dates === null) {
    problems.push('alert_within_dates: only applies with alert_after_dates, for example "alert_after_dates": 2, "alert_within_dates": 3');
  } else if (p.alert_after_dates !== null && p.alert_within_dates !== null && p.alert_within_dates < p.alert_after_dates) {
    problems.push(`alert_within_dates: must be at least alert_after_dates (${p.alert_after_dates}): N problem dates cannot fit in fewer than N dates`);
  }
  for (const key of ['processor_filter', 'calendar_filter'] as const) {
    const filter = p[key];
    if (filter === null) continue;
    const why = filterShapeProblem(filter);
    if (why) problems.push(`${key}: ${why}`);
  }
  return problems;
}

/**
 * A filter is spliced into SQL as `WHERE (<filter>)`, so it must be one expression: no
 * statement separator, no comment that could swallow the rest of the query, parentheses
 * balanced outside string literals, and quoting that reads the same in both dialects (no
 * backslash, no dollar quotes), so that the text cannot end anywhere but where it seems to.
 * Whether it is an allowed expression over the row is checked by the parser
 * (`warehouse/duckdb-filter.ts`, through `load.ts`).
 */
export function filterShapeProblem(filter: string): string | null {
  let depth = 0;
  let quote: string | null = null;
  // The filter outside its quoted strings, where keywords and type names are read.
  let bare = '';
  // The same with each quoted string as one operand (`S`), where what it starts or ends with is read.
  let skeleton = '';
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i]!;
    const next = filter[i + 1];
    // A backslash escapes a quote in BigQuery strings but not in DuckDB's: the same text would
    // end its string in one dialect and not the other, so a filter may not hold one at all.
    if (ch === '\\') return 'must not contain a backslash (\\)';
    if (quote) {
      if (ch === quote) {
        // DuckDB reads 'it''s' as one string, BigQuery as two (a syntax error).
        if (ch === "'" && next === "'") return "must not write a quote twice inside a string ('it''s'): BigQuery reads it otherwise; a filter's strings cannot hold a quote";
        quote = null;
        bare += ' ';
        skeleton += ' S ';
      }
      continue;
    }
    // "x" is a column to DuckDB and a string to BigQuery: the same filter would select other rows.
    if (ch === '"') return "must not use double quotes: DuckDB reads \"x\" as a column, BigQuery as a string; write strings in 'single quotes' and columns bare";
    if (ch === "'" || ch === '`') quote = ch;
    // DuckDB's $$dollar-quoted$$ strings would hide a ")" or a "'" from this reading.
    else if (ch === '$') return 'must not contain "$" outside a quoted string';
    else if (ch === ';') return 'must be one boolean expression: ";" is not allowed';
    else if ((ch === '-' && next === '-') || (ch === '/' && next === '*') || ch === '#') return 'must not contain SQL comments (--, /* */, #)';
    else if (ch === ':' && next === ':') return 'must write a cast as CAST(x AS type): "::" is DuckDB\'s alone';
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return 'has a ")" without its "("';
    if (!quote) {
      bare += ch;
      skeleton += ch;
    }
  }
  if (quote) return `has an unterminated ${quote} quote`;
  if (depth !== 0) return 'has a "(" without its ")"';
  // Cut short or begun halfway (`processor_name = `): DuckDB's parse says so, but a Dataform
  // compile has no DuckDB, and would deploy a function that fails at its first run.
  // An operator needs no space before it to end the filter, a keyword does (`flag_is` is a column).
  const dangling = /(<>|!=|<=|>=|\|\||[=<>!+\-*\/%,(]|(?:^|\s)(?:AND|OR|NOT|LIKE|IN|BETWEEN|IS))\s*$/i.exec(skeleton);
  if (dangling) return `is cut short: it ends with "${dangling[1]!.trim()}", with nothing after it`;
  const leading = /^\s*(=|<>|!=|<=|>=|<|>|\|\||\*|\/|%|,|\)|AND|OR|IS|LIKE|IN|BETWEEN)(?=\s|\(|$)/i.exec(skeleton);
  if (leading) return `begins halfway: it starts with "${leading[1]}"`;
  // The same text runs on both engines (the BigQuery rendering splices it as it is): only what both read alike.
  if (/\bILIKE\b/i.test(bare)) return "must not use ILIKE, which BigQuery does not have: write LOWER(column) LIKE 'pattern'";
  for (const [, type] of bare.matchAll(/\bAS\s+([A-Za-z_][A-Za-z0-9_]*)/gi)) {
    if (!(FILTER_CAST_NAMES as readonly string[]).includes(type!.toUpperCase())) {
      return `must CAST to ${FILTER_CAST_NAMES.join(', ')} (the names DuckDB and BigQuery both know), not ${type}`;
    }
  }
  return null;
}

/**
 * The types a filter may CAST to, by the names both engines read the same way: DuckDB takes STRING
 * and INT64 as aliases, BigQuery BIGINT (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#integer_types;
 * not INTEGER, 32 bits in DuckDB).
 */
export const FILTER_CAST_NAMES = ['STRING', 'INT64', 'BIGINT', 'BOOL', 'BOOLEAN', 'DATE', 'TIMESTAMP'] as const;

function formatIssue(where: string[], issue: z.ZodIssue): string[] {
  const path = [...where, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    const known =
      where.length === 0 ? Object.keys(registryShape.shape)
      : where[0] === 'routes' ? Object.keys(routeShape.shape)
      : issue.path[0] === 'depends_on' ? ['processor', 'offset_days']
      : Object.keys(processorShape.shape);
    return issue.keys.map((key) => {
      const hint = nearestWithin(key, known);
      const suggestion = hint ? ` (did you mean "${hint}"?)` : '';
      return `${[...path, key].join('.')}: unknown key${suggestion}`;
    });
  }
  if (issue.code === 'invalid_type' && issue.received !== 'undefined' && path.length === where.length && where.length > 0) {
    const example = where[0] === 'routes' ? '{"slack_webhook_env": "SLACK_WEBHOOK_URL_STATS"}' : '{"expected_frequency": "daily"}';
    return [`${path.join('.')}: must be an object of settings, for example ${example}`];
  }
  // The document itself (an array, a string, null): no key to name.
  if (path.length === 0) {
    return [issue.code === 'invalid_type' ? `must be an object such as {"dataset": "nba_reference", "processors": {…}}, not ${issue.received}` : issue.message];
  }
  return [`${path.join('.')}: ${issue.message}`];
}
