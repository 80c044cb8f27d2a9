/**
 * The environment, read once. This is the only module that reads `process.env` or names a
 * `PEM_*` or destination variable: it validates every one of them together and hands typed
 * settings down, so nothing below re-reads or re-decides the environment.
 *
 * One policy for a bad value: every problem is reported at once, as one usage error (exit 2)
 * naming each variable and a good value, never its value when it may be a secret. The one
 * exception is the heartbeat (PEM_HEARTBEAT_*): a heartbeat that cannot be sent is a warning
 * after a check that ran, never a failed check (see `record/heartbeat.ts`).
 */
import { PemError, usageError } from '../errors.js';
import { ENGINES, triggerSourceProblem, type Engine } from './names.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export type ColorMode = 'always' | 'never' | 'auto';

/** The environment variables whose values are secrets (SPEC §5): never logged. */
export const SECRET_ENV_VARS = ['SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY', 'PEM_HEARTBEAT_URL'] as const;

export const SLACK_ENV = 'SLACK_WEBHOOK_URL';
export const PAGERDUTY_ROUTING_KEY_ENV = 'PAGERDUTY_ROUTING_KEY';
export const PAGERDUTY_URL_ENV = 'PAGERDUTY_EVENTS_URL';
export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** The bound on each run-history write of `pem` itself (PEM_RECORD_TIMEOUT_MS). */
export const DEFAULT_RECORD_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5_000;
/** How long `pem` commands wait for a DuckDB file another process holds (PEM_DUCKDB_LOCK_TIMEOUT_MS). */
export const DEFAULT_DUCKDB_LOCK_TIMEOUT_MS = 30_000;
/**
 * DuckDB's memory_limit unless PEM_DUCKDB_MEMORY_LIMIT says otherwise. DuckDB's own default is 80 %
 * of the machine's (or container's) memory: 410 MiB in the Cloud Run job's 512 MiB, where Node,
 * the check's results and DuckDB's allocations outside its limit come on top. At 256 MB the
 * largest checks the CLI accepts run (1,000 × 366 and 10,000 × 90 days, bench/README.md): DuckDB
 * evicts the history it has cached instead of keeping all of it. A check over
 * LARGE_CHECK_PROCESSOR_DAYS runs its statements under the limit less what it holds so far, down to
 * 5/8 of it (LARGE_RESULT_MEMORY_SHARE).
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '256MB';

/** Alert retry knobs (documented in docs/alerts.md), each a whole number within bounds. */
const ALERT_RETRY_KNOBS = {
  PEM_ALERT_RETRIES: { key: 'retries', min: 0, max: 10, example: 3 },
  PEM_ALERT_BACKOFF_MS: { key: 'minDelayMs', min: 0, max: 600_000, example: 1000 },
  PEM_ALERT_TIMEOUT_MS: { key: 'timeoutMs', min: 1, max: 600_000, example: 10000 },
  PEM_ALERT_MAX_RETRY_AFTER_MS: { key: 'maxRetryAfterMs', min: 0, max: 3_600_000, example: 60000 },
} as const;

export type AlertRetryOverrides = Partial<Record<(typeof ALERT_RETRY_KNOBS)[keyof typeof ALERT_RETRY_KNOBS]['key'], number>>;

export interface BigQuerySettings {
  /** GOOGLE_CLOUD_PROJECT, else GCLOUD_PROJECT. */
  project: string | undefined;
  /** PEM_BIGQUERY_LOCATION. */
  location: string | undefined;
  /** PEM_BIGQUERY_API_ENDPOINT: an emulator or a test's loopback stand-in. */
  apiEndpoint: string | undefined;
  /** PEM_BIGQUERY_TIMEOUT_MS. */
  timeoutMs: number | undefined;
}

export interface DuckDbSettings {
  /** PEM_DUCKDB_LOCK_TIMEOUT_MS: how long a command waits while another process writes the file. */
  lockTimeoutMs: number;
  /** PEM_DUCKDB_MEMORY_LIMIT: DuckDB's memory_limit (e.g. `256MB`). https://duckdb.org/docs/stable/configuration/overview */
  memoryLimit: string;
}

export interface DestinationSettings {
  slackWebhookUrl: string | null;
  pagerDutyRoutingKey: string | null;
  pagerDutyEventsUrl: string;
}

/** SPEC §11: publishing the HTML report to Cloud Storage. */
export interface ReportPublishSettings {
  /** PEM_REPORT_URI (`gs://BUCKET/PATH.html`), used when `--publish-report` is not given. */
  uri: string | null;
  /**
   * PEM_STORAGE_API_ENDPOINT, else STORAGE_EMULATOR_HOST: a Cloud Storage emulator or a test's
   * loopback stand-in (the client's `apiEndpoint`).
   */
  apiEndpoint: string | undefined;
}

export interface SelfRecordSettings {
  /** PEM_RECORD_SELF: off with 0, off, false or no; on when unset or 1, on, true, yes. */
  enabled: boolean;
  /** PEM_RECORD_TIMEOUT_MS. */
  timeoutMs: number;
  /** PEM_TRIGGER_SOURCE, else `scheduler` on Cloud Run, else `manual`. */
  triggerSource: string;
  /** CLOUD_RUN_EXECUTION, recorded in the run's metadata. */
  cloudRunExecution: string | null;
}

export interface Settings {
  /** PEM_ENGINE (null: unset; `--engine` and then duckdb decide). */
  engine: Engine | null;
  bigQuery: BigQuerySettings;
  duckDb: DuckDbSettings;
  alertRetry: AlertRetryOverrides;
  destinations: DestinationSettings;
  reportPublish: ReportPublishSettings;
  selfRecord: SelfRecordSettings;
  /** K_SERVICE or CLOUD_RUN_JOB set: logs are JSON lines for Cloud Logging. */
  cloudRun: boolean;
  /**
   * Colours on a terminal: `never` when NO_COLOR is set and not empty (https://no-color.org) or TERM is `dumb`,
   * `always`/`never` when FORCE_COLOR says so, else `auto` (only when the stream is a terminal).
   * FORCE_COLOR wins over NO_COLOR, as in Node itself
   * (https://nodejs.org/api/cli.html#force_color1-2-3): it is the more deliberate setting.
   */
  color: ColorMode;
  /** TERM=dumb: a terminal that cannot move its cursor, so progress is not drawn on it (it would print a line per step). */
  dumbTerminal: boolean;
  /** USER, else LOGNAME: who adds a silence when `--by` is not given (the CLI falls back to the OS user). */
  user: string | null;
  /** Values that must never reach output (`LoggerOptions.redact`). */
  secrets: string[];
  /** The environment the settings were read from, for the heartbeat (whose problems are warnings). */
  environment: Environment;
}

/** The process environment, unless one is given (tests, library callers). */
export function environmentOf(env?: Environment): Environment {
  return env ?? process.env;
}

const NO_BIGQUERY_SETTINGS: Settings['bigQuery'] = { project: undefined, location: undefined, apiEndpoint: undefined, timeoutMs: undefined };
const DEFAULT_DUCKDB_SETTINGS: Settings['duckDb'] = { lockTimeoutMs: DEFAULT_DUCKDB_LOCK_TIMEOUT_MS, memoryLimit: DEFAULT_DUCKDB_MEMORY_LIMIT };
const NO_DESTINATIONS: Settings['destinations'] = { slackWebhookUrl: null, pagerDutyRoutingKey: null, pagerDutyEventsUrl: DEFAULT_PAGERDUTY_EVENTS_URL };
const NO_REPORT_PUBLISH: Settings['reportPublish'] = { uri: null, apiEndpoint: undefined };

/**
 * Every setting, validated together. Throws one usage error (exit 2): its message is the only
 * problem, or a count with every problem in `details`. Without `eager` (every command but
 * `pem check`), the engines' settings and those of alert delivery and report
 * publishing are left to their first use (`lazily`).
 */
export function readSettings(env: Environment = environmentOf(), { eager = true }: { eager?: boolean } = {}): Settings {
  const problems: string[] = [];
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof PemError)) throw error;
      problems.push(...error.problems);
      return fallback;
    }
  };
  // Without `eager`, the fallback is a placeholder until `lazily` below puts the reader in place.
  const eagerly = <T>(read: () => T, fallback: T): T => (eager ? attempt(read, fallback) : fallback);
  const settings: Settings = {
    engine: attempt(() => engineFrom(env), null),
    bigQuery: eagerly(() => bigQueryFrom(env), NO_BIGQUERY_SETTINGS),
    duckDb: eagerly(() => duckDbFrom(env), DEFAULT_DUCKDB_SETTINGS),
    alertRetry: eagerly(() => alertRetryFrom(env), {}),
    destinations: eagerly(() => destinationsFrom(env), NO_DESTINATIONS),
    reportPublish: eagerly(() => reportPublishFrom(env), NO_REPORT_PUBLISH),
    selfRecord: attempt(() => selfRecordFrom(env, eager), { enabled: false, timeoutMs: DEFAULT_RECORD_TIMEOUT_MS, triggerSource: 'manual', cloudRunExecution: null }),
    cloudRun: isCloudRun(env),
    color: colorModeFrom(env),
    dumbTerminal: isDumbTerminal(env),
    user: env.USER || env.LOGNAME || null,
    secrets: secretValues(env),
    environment: env,
  };
  throwProblems(problems);
  if (!eager) {
    // Read when first used, so that a malformed one stops only what uses it: the engine's own
    // settings too (a bad PEM_BIGQUERY_API_ENDPOINT cost a DuckDB `pem record` its run row).
    lazily(settings, 'bigQuery', () => bigQueryFrom(env));
    lazily(settings, 'duckDb', () => duckDbFrom(env));
    lazily(settings, 'alertRetry', () => alertRetryFrom(env));
    lazily(settings, 'destinations', () => destinationsFrom(env));
    lazily(settings, 'reportPublish', () => reportPublishFrom(env));
  }
  return settings;
}

/**
 * `settings[key]` read from the environment on first use: a malformed value throws its usage error
 * there (exit 2). The alert destinations, retries and report location are `pem check`'s (which
 * reads every setting first, `readSettings` with `eager`): a typo in SLACK_WEBHOOK_URL must
 * not stop `pem record` in a processor's container (its run would go unrecorded), `pem gaps` or
 * `pem report`.
 */
function lazily<K extends 'bigQuery' | 'duckDb' | 'alertRetry' | 'destinations' | 'reportPublish'>(settings: Settings, key: K, read: () => Settings[K]): void {
  let value: Settings[K] | undefined;
  Object.defineProperty(settings, key, {
    enumerable: true,
    get: () => {
      if (value === undefined) {
        try {
          value = read();
        } catch (error) {
          if (error instanceof PemError) throwProblems(error.problems);
          throw error;
        }
      }
      return value;
    },
  });
}

/** The problems found, as one usage error (exit 2): the problem itself, or a count with every one in `details`. */
function throwProblems(problems: readonly string[]): void {
  if (problems.length === 1) throw usageError(problems[0]!);
  if (problems.length > 1) throw new PemError('usage', `${problems.length} environment variables are not valid`, problems);
}

/** FORCE_COLOR: 0 or false turn colours off; 1, 2, 3, true or empty turn them on. Else NO_COLOR, or TERM=dumb, turn them off. */
export function colorModeFrom(env: Environment): ColorMode {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return ['0', 'false'].includes(force.trim().toLowerCase()) ? 'never' : 'always';
  // A dumb terminal draws no colour (Node's own getColorDepth says so): escapes would show as text.
  return env.NO_COLOR || isDumbTerminal(env) ? 'never' : 'auto';
}

/** TERM=dumb: a terminal that cannot move its cursor or draw colours. */
const isDumbTerminal = (env: Environment): boolean => env.TERM === 'dumb';

export function isCloudRun(env: Environment): boolean {
  return Boolean(env.CLOUD_RUN_JOB || env.K_SERVICE);
}

/** The secret values present in an environment before the registry names its routes' variables, for `LoggerOptions.redact`. */
export function secretValues(env: Environment): string[] {
  return destinationSecrets(env, {});
}

/**
 * Every secret this environment gives pem's destinations (SPEC §5, §11): the values of
 * SECRET_ENV_VARS and of the variables each route names (trimmed), and each
 * webhook's path (its token part, which a message may quote on its own). Read without judging the
 * values, so that a command which sends nothing masks them too.
 */
export function destinationSecrets(env: Environment, routes: Readonly<Record<string, RouteVariables>>): string[] {
  const names = new Set<string>(SECRET_ENV_VARS);
  for (const variables of Object.values(routes)) {
    if (variables.slack_webhook_env) names.add(variables.slack_webhook_env);
    if (variables.pagerduty_routing_key_env) names.add(variables.pagerduty_routing_key_env);
  }
  // As used (trimmed): a value pasted with a line break around it holds the trimmed one, which is
  // masked there too, the line break kept.
  const values = [...names].map((name) => env[name]?.trim()).filter((value): value is string => Boolean(value));
  const paths = values.map((value) => httpUrl(value)?.pathname).filter((path): path is string => path !== undefined && path.length >= 8);
  return [...new Set([...values, ...paths])];
}

/** The URL when `raw` is an http(s) URL, else null. */
export function httpUrl(raw: string): URL | null {
  // URL() would percent-encode a space: one inside a pasted URL is a mistake, not part of it.
  if (/\s/.test(raw)) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

const trimmed = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/**
 * The longest wait Node's timers keep (2^31 − 1 ms, about 24.8 days): a longer one fires at once
 * (with a warning), so a PEM_RECORD_TIMEOUT_MS of 99999999999 timed out every write immediately.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A timeout in whole milliseconds, 1 to MAX_TIMER_MS; undefined when unset, null when not one. */
function wholePositive(raw: string | undefined): number | undefined | null {
  if (raw === undefined || raw.trim() === '') return undefined;
  return /^\d+$/.test(raw.trim()) && Number(raw) > 0 && Number(raw) <= MAX_TIMER_MS ? Number(raw) : null;
}

function engineFrom(env: Environment): Engine | null {
  // Empty is unset, as for every other variable (`PEM_ENGINE=` in a .env file).
  const value = trimmed(env.PEM_ENGINE);
  if (value === undefined) return null;
  if (!(ENGINES as readonly string[]).includes(value)) throw usageError(`PEM_ENGINE '${value}' is not an engine: use duckdb or bigquery`);
  return value as Engine;
}

function bigQueryFrom(env: Environment): BigQuerySettings {
  const problems: string[] = [];
  const apiEndpoint = trimmed(env.PEM_BIGQUERY_API_ENDPOINT);
  if (apiEndpoint && !httpUrl(apiEndpoint)) {
    problems.push(`PEM_BIGQUERY_API_ENDPOINT '${apiEndpoint}' is not an http(s) URL, for example https://bigquery.googleapis.com`);
  }
  const timeoutMs = wholePositive(env.PEM_BIGQUERY_TIMEOUT_MS);
  if (timeoutMs === null) {
    problems.push(`PEM_BIGQUERY_TIMEOUT_MS '${env.PEM_BIGQUERY_TIMEOUT_MS}' must be a whole number of milliseconds from 1 to 2147483647, for example 300000`);
  }
  const location = trimmed(env.PEM_BIGQUERY_LOCATION);
  const locationProblem = location === undefined ? null : bigQueryLocationProblem('PEM_BIGQUERY_LOCATION', location);
  if (locationProblem) problems.push(locationProblem);
  throwProblems(problems);
  return {
    project: trimmed(env.GOOGLE_CLOUD_PROJECT) ?? trimmed(env.GCLOUD_PROJECT),
    location,
    apiEndpoint: apiEndpoint || undefined,
    timeoutMs: timeoutMs ?? undefined,
  };
}

/**
 * What is wrong with a BigQuery location (PEM_BIGQUERY_LOCATION, --location), or null: a
 * multi-region or region name (US, EU, us-central1, asia-northeast1), letters, digits and dashes
 * (https://cloud.google.com/bigquery/docs/locations). Anything else reached BigQuery as is.
 */
export function bigQueryLocationProblem(label: string, location: string): string | null {
  return /^[A-Za-z][A-Za-z0-9-]{1,62}$/.test(location) ? null : `${label} '${location}' is not a BigQuery location: name one such as US, EU or us-central1`;
}

function duckDbFrom(env: Environment): DuckDbSettings {
  const problems: string[] = [];
  const lockTimeoutMs = wholePositive(env.PEM_DUCKDB_LOCK_TIMEOUT_MS);
  if (lockTimeoutMs === null) {
    problems.push(`PEM_DUCKDB_LOCK_TIMEOUT_MS '${env.PEM_DUCKDB_LOCK_TIMEOUT_MS!.trim()}' must be a whole number of milliseconds from 1 to 2147483647, for example 30000`);
  }
  const memoryLimit = env.PEM_DUCKDB_MEMORY_LIMIT?.trim() || DEFAULT_DUCKDB_MEMORY_LIMIT;
  if (duckDbMemoryBytes(memoryLimit) === null) {
    problems.push(`PEM_DUCKDB_MEMORY_LIMIT '${memoryLimit}' must be a size such as 256MB or 1GiB`);
  }
  throwProblems(problems);
  return { lockTimeoutMs: lockTimeoutMs ?? DEFAULT_DUCKDB_LOCK_TIMEOUT_MS, memoryLimit };
}

/** A size DuckDB's memory_limit accepts: a number and a unit (https://duckdb.org/docs/stable/configuration/overview). */
const DUCKDB_MEMORY_SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
/** Bytes per unit as DuckDB reads them: KB, MB, … in powers of 1,000, KiB, MiB, … in powers of 1,024. */
const DUCKDB_MEMORY_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A memory_limit size (`256MB`, `1GiB`) in bytes, or null when DuckDB would not take it. */
export function duckDbMemoryBytes(size: string): number | null {
  const match = DUCKDB_MEMORY_SIZE.exec(size.trim());
  if (!match) return null;
  return Math.floor(Number(match[1]) * DUCKDB_MEMORY_UNITS[match[2]!.toLowerCase()]!);
}

/** PEM_ALERT_*: the retry knobs that are set. */
export function alertRetryFrom(env: Environment): AlertRetryOverrides {
  const overrides: AlertRetryOverrides = {};
  const problems: string[] = [];
  for (const [name, knob] of Object.entries(ALERT_RETRY_KNOBS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || value < knob.min || value > knob.max) {
      problems.push(`${name} '${raw}' must be a whole number from ${knob.min} to ${knob.max}, for example ${name}=${knob.example}`);
      continue;
    }
    overrides[knob.key] = value;
  }
  throwProblems(problems);
  return overrides;
}

function destinationsFrom(env: Environment): DestinationSettings {
  const slackWebhookUrl = trimmed(env[SLACK_ENV]) ?? null;
  const pagerDutyRoutingKey = trimmed(env[PAGERDUTY_ROUTING_KEY_ENV]) ?? null;
  const pagerDutyEventsUrl = trimmed(env[PAGERDUTY_URL_ENV]) ?? DEFAULT_PAGERDUTY_EVENTS_URL;
  // Never print the values: a webhook URL is a secret, and an events URL may carry credentials.
  const problems: string[] = [];
  if (slackWebhookUrl && !httpUrl(slackWebhookUrl)) problems.push(`${SLACK_ENV} is not an http(s) URL: set it to the incoming webhook URL Slack gave you`);
  if (pagerDutyRoutingKey && !routingKeyShape(pagerDutyRoutingKey)) problems.push(routingKeyProblem(PAGERDUTY_ROUTING_KEY_ENV));
  if (pagerDutyRoutingKey && !httpUrl(pagerDutyEventsUrl)) problems.push(`${PAGERDUTY_URL_ENV} is not an http(s) URL, for example ${DEFAULT_PAGERDUTY_EVENTS_URL}`);
  // fetch refuses a URL with credentials in it: every page would fail as a "network error". Checked
  // whenever the URL is usable, as a route's routing key (not only the default one) pages through it.
  else if (httpUrl(pagerDutyEventsUrl) && hasCredentials(pagerDutyEventsUrl)) {
    problems.push(`${PAGERDUTY_URL_ENV} has a user name or password in it (user:password@), which requests cannot carry: PagerDuty authenticates by the routing key`);
  }
  throwProblems(problems);
  return { slackWebhookUrl, pagerDutyRoutingKey, pagerDutyEventsUrl };
}

function reportPublishFrom(env: Environment): ReportPublishSettings {
  const apiEndpoint = trimmed(env.PEM_STORAGE_API_ENDPOINT) ?? trimmed(env.STORAGE_EMULATOR_HOST);
  if (apiEndpoint && !httpUrl(apiEndpoint)) {
    const name = trimmed(env.PEM_STORAGE_API_ENDPOINT) ? 'PEM_STORAGE_API_ENDPOINT' : 'STORAGE_EMULATOR_HOST';
    throw usageError(`${name} '${apiEndpoint}' is not an http(s) URL, for example http://127.0.0.1:4443`);
  }
  return { uri: trimmed(env.PEM_REPORT_URI) ?? null, apiEndpoint };
}

const OFF_VALUES = new Set(['0', 'off', 'false', 'no']);
const ON_VALUES = new Set(['1', 'on', 'true', 'yes']);

/** PEM_RECORD_SELF: unset or empty is on; null for anything but a clear on or off value (refused). */
function selfRecordEnabled(raw: string | undefined): boolean | null {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || ON_VALUES.has(value)) return true;
  return OFF_VALUES.has(value) ? false : null;
}

/** `checkTrigger`: PEM_TRIGGER_SOURCE is pem check's own (its run row): only an eager read checks it. */
function selfRecordFrom(env: Environment, checkTrigger: boolean): SelfRecordSettings {
  const problems: string[] = [];
  const timeoutMs = wholePositive(env.PEM_RECORD_TIMEOUT_MS);
  if (timeoutMs === null) {
    problems.push(`PEM_RECORD_TIMEOUT_MS '${env.PEM_RECORD_TIMEOUT_MS!.trim()}' must be a whole number of milliseconds from 1 to 2147483647, for example 10000`);
  }
  const enabled = selfRecordEnabled(env.PEM_RECORD_SELF);
  if (enabled === null) {
    problems.push(`PEM_RECORD_SELF '${env.PEM_RECORD_SELF!.trim()}' must be on or off (1, on, true, yes / 0, off, false, no), for example PEM_RECORD_SELF=off`);
  }
  const trigger = trimmed(env.PEM_TRIGGER_SOURCE);
  const triggerProblem = trigger === undefined || !checkTrigger ? null : triggerSourceProblem('PEM_TRIGGER_SOURCE', trigger, 'PEM_TRIGGER_SOURCE=scheduler');
  if (triggerProblem) problems.push(triggerProblem);
  throwProblems(problems);
  return {
    enabled: enabled ?? true,
    timeoutMs: timeoutMs ?? DEFAULT_RECORD_TIMEOUT_MS,
    triggerSource: trigger ?? (isCloudRun(env) ? 'scheduler' : 'manual'),
    cloudRunExecution: env.CLOUD_RUN_EXECUTION || null,
  };
}

/** SPEC §11: the variables a route names (`RouteConfig` in the registry). */
export interface RouteVariables {
  slack_webhook_env: string | null;
  pagerduty_routing_key_env: string | null;
}

/** One route's destinations, read from the variables the registry names for it. */
export interface RouteDestinationSettings {
  route: string;
  slackVariable: string | null;
  slackWebhookUrl: string | null;
  pagerDutyVariable: string | null;
  pagerDutyRoutingKey: string | null;
}

/** A URL with a user name or password in it, which fetch refuses to request. */
function hasCredentials(value: string): boolean {
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

/**
 * A PagerDuty Events API v2 routing key is the 32-character integration key of a service or
 * ruleset (https://developer.pagerduty.com/docs/events-API-v2/trigger-events). A pasted URL, a key
 * cut short or one with a line break in it was sent as it was, and every run failed with HTTP 400.
 */
function routingKeyShape(value: string): boolean {
  return /^[A-Za-z0-9]{32}$/.test(value);
}

function routingKeyProblem(variable: string): string {
  return `${variable} is not a PagerDuty routing key (32 letters and digits): set it to the Integration Key of the service's Events API v2 integration`;
}

/**
 * Each route's webhook URL and routing key, read from the environment variables the registry
 * names (SPEC §11). An unset variable leaves that destination of the route off (skipped with a
 * note by the caller); a webhook that is not an http(s) URL is a usage error naming the variable,
 * never its value.
 */
export function routeDestinationsFrom(env: Environment, routes: Readonly<Record<string, RouteVariables>>): RouteDestinationSettings[] {
  const problems: string[] = [];
  const out = Object.entries(routes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, variables]) => {
      const slackWebhookUrl = variables.slack_webhook_env ? (trimmed(env[variables.slack_webhook_env]) ?? null) : null;
      const pagerDutyRoutingKey = variables.pagerduty_routing_key_env ? (trimmed(env[variables.pagerduty_routing_key_env]) ?? null) : null;
      if (slackWebhookUrl && !httpUrl(slackWebhookUrl)) {
        problems.push(`${variables.slack_webhook_env} (route ${route}) is not an http(s) URL: set it to the incoming webhook URL Slack gave you`);
      }
      if (pagerDutyRoutingKey && !routingKeyShape(pagerDutyRoutingKey)) problems.push(routingKeyProblem(`${variables.pagerduty_routing_key_env} (route ${route})`));
      return { route, slackVariable: variables.slack_webhook_env, slackWebhookUrl, pagerDutyVariable: variables.pagerduty_routing_key_env, pagerDutyRoutingKey };
    });
  // A route's pages go through the same events URL as the default key's: checked here too, or a
  // route alone (no PAGERDUTY_ROUTING_KEY) would lose every page at send time, run after run.
  const paging = out.filter((r) => r.pagerDutyRoutingKey).map((r) => r.route);
  if (paging.length > 0 && !httpUrl(trimmed(env[PAGERDUTY_URL_ENV]) ?? DEFAULT_PAGERDUTY_EVENTS_URL)) {
    problems.push(`${PAGERDUTY_URL_ENV} is not an http(s) URL (${paging.length === 1 ? `route ${paging[0]} pages` : `routes ${paging.join(', ')} page`} through it), for example ${DEFAULT_PAGERDUTY_EVENTS_URL}`);
  }
  throwProblems(problems);
  return out;
}

export type HeartbeatSettings =
  | { kind: 'off' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'ping'; url: URL; method: 'GET' | 'POST'; timeoutMs: number };

/** PEM_HEARTBEAT_URL, _METHOD and _TIMEOUT_MS: a bad value skips the ping with a reason (a warning, not a failed check). */
export function heartbeatFrom(env: Environment): HeartbeatSettings {
  const raw = env.PEM_HEARTBEAT_URL?.trim();
  if (!raw) return { kind: 'off' };
  const url = httpUrl(raw);
  if (!url) return { kind: 'skipped', reason: 'PEM_HEARTBEAT_URL is not an http(s) URL' };
  const method = (env.PEM_HEARTBEAT_METHOD ?? 'GET').trim().toUpperCase();
  if (method !== 'GET' && method !== 'POST') return { kind: 'skipped', reason: `PEM_HEARTBEAT_METHOD '${method}' must be GET or POST` };
  const timeoutMs = wholePositive(env.PEM_HEARTBEAT_TIMEOUT_MS);
  if (timeoutMs === null) return { kind: 'skipped', reason: 'PEM_HEARTBEAT_TIMEOUT_MS must be a whole number of milliseconds from 1 to 2147483647, for example 5000' };
  return { kind: 'ping', url, method, timeoutMs: timeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS };
}
