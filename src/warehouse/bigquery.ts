/**
 * The production engine: BigQuery through `@google-cloud/bigquery`, with Application Default
 * Credentials. Parameters are sent with explicit types (a DATE sent untyped arrives as a
 * STRING, an empty array without a type is rejected), results decoded to the plain forms of
 * `types.ts`, the same as DuckDB's.
 */
import {
  BigQuery,
  BigQueryDate,
  BigQueryDatetime,
  BigQueryInt,
  BigQueryTime,
  BigQueryTimestamp,
  Geography,
  type Job,
} from '@google-cloud/bigquery';
import { firstLine, runtimeError, usageError } from '../errors.js';
import { DATAFORM_OBJECTS } from '../config/names.js';
import { bigQueryTable, createBigQueryClient, retryTransient, streamRunRows, withJobsWatched } from './bigquery-client.js';
import { withBoundedRequests } from './bounded-requests.js';
import type { RepeatedRunRow, RunRow } from './run-row.js';
import type { PlainValue, QueryParam, QueryParams, Row, TableColumn, Warehouse } from './types.js';

export interface BigQueryOptions {
  projectId: string | undefined;
  location: string;
  /** A REST endpoint other than Google's (PEM_BIGQUERY_API_ENDPOINT: an emulator, a tests' stand-in). */
  apiEndpoint?: string | undefined;
  /** Retries of a transient failure, and the first delay (doubling, jittered). */
  retry?: RetryPolicy | undefined;
  /** The most one statement may take, retries and result pages included (PEM_BIGQUERY_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
}

/** A statement's bound by default: the detection query takes seconds; five minutes is a stuck call. */
export const DEFAULT_BIGQUERY_TIMEOUT_MS = 300_000;
/**
 * Idle bound of one HTTP request: jobs.query and getQueryResults answer within about 10 s even
 * for a long query (they long-poll, then say "not complete yet"), so two minutes of silence is a
 * dead connection.
 */
const REQUEST_IDLE_TIMEOUT_MS = 120_000;

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
}

/** Retries of a transient failure (the rule is `isTransient` in `bigquery-client.ts`), and the first delay (doubling, jittered). */
export const DEFAULT_RETRY: RetryPolicy = { retries: 3, minTimeoutMs: 1_000 };

/** A project ID, or a legacy domain-scoped one (`example.com:my-project`). */
const PROJECT_ID = /^(?:[a-z0-9][a-z0-9.-]*:)?[a-z0-9][a-z0-9-]*$/i;

export async function openBigQuery(options: BigQueryOptions): Promise<BigQueryWarehouse> {
  if (!options.projectId) {
    throw usageError('BigQuery needs a project: pass --project ID or set GOOGLE_CLOUD_PROJECT');
  }
  // It becomes a path segment of every request: `../x` or `a/b` would address another resource.
  if (!PROJECT_ID.test(options.projectId)) {
    throw usageError(`BigQuery project '${options.projectId}' is not a project ID (letters, digits and hyphens, for example my-project-123)`);
  }
  const client = createBigQueryClient({ projectId: options.projectId, location: options.location, apiEndpoint: options.apiEndpoint });
  return new BigQueryWarehouse(client, options.projectId, options.location, options.retry ?? DEFAULT_RETRY, options.timeoutMs ?? DEFAULT_BIGQUERY_TIMEOUT_MS);
}

type ParamType = string | string[];

/**
 * A bound parameter as the client takes it: a value and its type, stated even for empty arrays.
 * DATE and TIMESTAMP values must be the client's wrapper objects: given a type, the client reads
 * `value.value` of them, so a plain string is sent as no value at all, that is NULL.
 * INT64 goes as a decimal string, as the REST API's QueryParameterValue.value is a string.
 */
export function toClientParam(param: QueryParam): { value: unknown; type: ParamType } {
  switch (param.type) {
    case 'DATE':
      return { value: BigQuery.date(param.value), type: 'DATE' };
    case 'TIMESTAMP':
      return { value: BigQuery.timestamp(param.value), type: 'TIMESTAMP' };
    case 'INT64':
      return { value: String(param.value), type: 'INT64' };
    case 'STRING':
      return { value: param.value, type: 'STRING' };
    case 'ARRAY<STRING>':
      return { value: [...param.value], type: ['STRING'] };
  }
}

export class BigQueryWarehouse implements Warehouse {
  readonly dialect = 'bigquery' as const;
  /**
   * No slices: the deployed table function evaluates every processor in each statement (only its
   * output is filtered), so each slice would be billed for the same scans again (SPEC §14).
   */
  readonly checkProcessorDaysPerQuery = null;
  readonly detectsWithDeployedRegistry = true;
  readonly checkProcessorsPerQuery = null;
  readonly holdsFile = false;
  readonly description: string;

  constructor(
    private readonly client: BigQuery,
    projectId: string,
    private readonly location: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly timeoutMs: number = DEFAULT_BIGQUERY_TIMEOUT_MS,
  ) {
    this.description = `BigQuery project ${projectId} (${location})`;
  }

  /**
   * Runs one API call, retrying transient failures; the last attempt's error is thrown. The whole
   * call, retries included, ends after `timeoutMs`: a hung connection must not hang the job.
   */
  private async withRetries<T>(call: () => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    // Jobs BigQuery answered "not complete yet" for: a retried call makes a new one, and a failed
    // or abandoned call leaves its own running; pem cancels every one it no longer waits for (and,
    // while it waits, a stop does: `cancelWaitingJobs`).
    const unfinished: Job[] = [];
    this.waiting.add(unfinished);
    // How many of them the attempts before the current one made.
    let beforeThisAttempt = 0;
    const attempt = () => {
      beforeThisAttempt = unfinished.length;
      return call();
    };
    try {
      let result: T;
      try {
        result = await withBoundedRequests({ timeoutMs: Math.min(REQUEST_IDLE_TIMEOUT_MS, this.timeoutMs), signal }, () =>
          withJobsWatched(unfinished, () =>
            retryTransient(attempt, { retries: this.retry.retries, minTimeoutMs: this.retry.minTimeoutMs, maxTimeoutMs: 8 * this.retry.minTimeoutMs, signal }),
          ),
        );
      } catch (error) {
        const cancelled = await cancelJobs(unfinished);
        if (signal.aborted) throw new Error(`no answer within ${this.timeoutMs} ms (PEM_BIGQUERY_TIMEOUT_MS)${cancelled}`);
        throw cancelled === '' ? error : Object.assign(new Error(`${describe(error)}${cancelled}`), { cause: error });
      }
      // The last attempt answered; the jobs of the attempts before it may still run.
      if (beforeThisAttempt > 0) await cancelJobs(unfinished.slice(0, beforeThisAttempt));
      return result;
    } finally {
      this.waiting.delete(unfinished);
    }
  }

  /** The unfinished jobs of each call still waiting (`cancelWaitingJobs`). */
  private readonly waiting = new Set<Job[]>();

  private waitingJobs(): Job[] {
    return [...this.waiting].flat();
  }

  /**
   * Cancels the jobs of every statement still waiting for BigQuery, for a process about to end
   * (SIGTERM: `StopControl.atStop`), which would otherwise leave them running and holding slots;
   * says what became of them (`; asked BigQuery to cancel its job …`), or '' when none ran.
   */
  async cancelWaitingJobs(): Promise<string> {
    return cancelJobs(this.waitingJobs());
  }

  /** What to cancel by hand when `cancelWaitingJobs` cannot be waited for: the jobs still waited for, or ''. */
  waitingJobsToCancel(): string {
    const jobs = this.waitingJobs();
    if (jobs.length === 0) return '';
    const one = jobs.length === 1;
    return `; its ${one ? 'job' : 'jobs'} ${jobs.map((job) => job.id).join(', ')} may still run: cancel ${one ? 'it' : 'them'} with bq cancel or in the console`;
  }

  async query(sql: string, params: QueryParams = {}): Promise<Row[]> {
    const values: Record<string, unknown> = {};
    const types: Record<string, ParamType> = {};
    for (const [name, param] of Object.entries(params)) {
      // Only what the statement names: callers pass one parameter set to several statements.
      if (!new RegExp(`@${name}\\b`).test(sql)) continue;
      const { value, type } = toClientParam(param);
      values[name] = value;
      types[name] = type;
    }
    try {
      const [rows] = await this.withRetries(() =>
        this.client.query({
          query: sql,
          ...(Object.keys(values).length > 0 ? { params: values, types } : {}),
          location: this.location,
          useLegacySql: false,
        }),
      );
      return (rows as Record<string, unknown>[]).map((row) => decodeRow(row));
    } catch (error) {
      throw runtimeError(`${this.description}: ${withDataformHint(describe(error))}`);
    }
  }

  async *queryBatches(sql: string, params: QueryParams = {}): AsyncIterable<Row[]> {
    // The client pages the result itself (getQueryResults) and hands it over whole.
    yield await this.query(sql, params);
  }

  async execute(sql: string, params: QueryParams = {}): Promise<void> {
    await this.query(sql, params);
  }

  async insertRunRows(table: string, rows: readonly RunRow[]): Promise<RepeatedRunRow[]> {
    // Deterministic insertIds per (run_id, status), rejected rows named: see bigquery-client.ts.
    try {
      await this.withRetries(() => streamRunRows(bigQueryTable(this.client, table), rows));
    } catch (error) {
      throw runtimeError(`${this.description}: cannot insert into ${table}: ${describe(error)}`);
    }
    // BigQuery drops a repeated insertId without saying so: no repeat can be named here.
    return [];
  }

  /** From the table's schema (tables.get), spelled as BigQuery DDL spells types. */
  async tableColumns(table: string): Promise<TableColumn[]> {
    try {
      const [metadata] = await this.withRetries(() => bigQueryTable(this.client, table).getMetadata());
      return ((metadata as { schema?: { fields?: SchemaField[] } }).schema?.fields ?? []).map((field) => ({ name: field.name, type: ddlType(field) }));
    } catch (error) {
      if ((error as { code?: number }).code === 404) return [];
      throw runtimeError(`${this.description}: cannot read the schema of ${table}: ${describe(error)}`);
    }
  }

  async release(): Promise<void> {
    // BigQuery holds no lock between statements.
  }

  async betweenSlices(): Promise<void> {
    // Nothing is held between statements (and a BigQuery check is never sliced).
  }

  async close(): Promise<void> {
    // The client holds no connection to close.
  }
}

interface SchemaField {
  name: string;
  type: string;
  mode?: string;
  fields?: SchemaField[];
}

/** REST schema type names (legacy spellings included) → the DDL's. */
const DDL_TYPE_NAMES: Record<string, string> = { INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', RECORD: 'STRUCT' };

/** A REST schema field's type as DDL writes it: `ARRAY<STRUCT<error_type STRING, …>>`. */
function ddlType(field: SchemaField): string {
  const name = DDL_TYPE_NAMES[field.type] ?? field.type;
  const base = name === 'STRUCT' ? `STRUCT<${(field.fields ?? []).map((f) => `${f.name} ${ddlType(f)}`).join(', ')}>` : name;
  return field.mode === 'REPEATED' ? `ARRAY<${base}>` : base;
}

/** How long pem waits for BigQuery to take a cancellation, after it stopped waiting for the job. */
const CANCEL_TIMEOUT_MS = 10_000;

/**
 * Asks BigQuery to cancel jobs pem stopped waiting for, so they neither run on nor hold slots; says
 * what became of them, as the end of the statement's error line. (A job's creator may cancel it with
 * the `bigquery.jobs.create` it ran it with; a cancelled job may still be billed for what it read:
 * https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/cancel.)
 */
async function cancelJobs(jobs: readonly Job[]): Promise<string> {
  if (jobs.length === 0) return '';
  const outcomes = await Promise.allSettled(
    jobs.map((job) => withBoundedRequests({ timeoutMs: CANCEL_TIMEOUT_MS, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) }, () => job.cancel())),
  );
  const failed = outcomes.flatMap((outcome, i) => (outcome.status === 'rejected' ? [`${jobs[i]!.id}: ${describe(outcome.reason)}`] : []));
  const job = (count: number) => (count === 1 ? 'job' : 'jobs');
  if (failed.length === 0) return `; asked BigQuery to cancel its ${job(jobs.length)} ${jobs.map((j) => j.id).join(', ')}`;
  return `; cancelling its ${job(failed.length)} failed (${failed.join('; ')}): cancel ${failed.length === 1 ? 'it' : 'them'} with bq cancel or in the console`;
}

/** BigQuery client values (BigQueryDate, BigQueryTimestamp, Big numbers, …) → plain forms. */
export function decodeValue(value: unknown): PlainValue {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(decodeValue);
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof BigQueryDate) return String(value.value);
  // '2025-10-08T12:00:00.123456Z' → milliseconds, as DuckDB's adapter gives them.
  if (value instanceof BigQueryTimestamp) return new Date(value.value).toISOString();
  if (value instanceof BigQueryDatetime || value instanceof BigQueryTime) return String(value.value);
  if (value instanceof BigQueryInt) return Number(value.value);
  if (value instanceof Geography) return String(value.value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object') {
    // NUMERIC / BIGNUMERIC arrive as Big.js numbers.
    if ((value as { constructor?: { name?: string } }).constructor?.name === 'Big') return Number(String(value));
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, decodeValue(v)]));
  }
  return String(value);
}

function decodeRow(row: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, decodeValue(v)]));
}

/**
 * BigQuery's "Not found" for an object only the Dataform workflow makes (`processor_last_success`,
 * the table function): after a first deploy, or after `pem schema apply` alone, the next step is
 * to run that workflow, which the message does not say.
 */
const DATAFORM_OBJECT_MISSING = new RegExp(`(Not found: (Table|Function)|Table-valued function not found:?) \\S*\\b(${DATAFORM_OBJECTS.join('|')})\\b`);

function withDataformHint(said: string): string {
  return DATAFORM_OBJECT_MISSING.test(said) ? `${said} (the Dataform project makes it, and pem reads it on BigQuery: run its workflow, docs/deployment.md "Run the Dataform workflow by hand")` : said;
}

/**
 * One line for a person: BigQuery's own message when it sent one (`Syntax error: …`, a row's
 * insert error), else the transport's (`connect ECONNREFUSED …`). Never a stack.
 */
export function describe(error: unknown): string {
  const e = error as {
    message?: string;
    errors?: { message?: string; errors?: { message?: string; reason?: string }[] }[];
    code?: string | number;
  };
  // PartialFailureError (insertAll): errors[] per row, each with errors[] of {reason, message}.
  const rowError = e.errors?.find((r) => r.errors?.length)?.errors?.[0];
  const detail = rowError?.message ?? e.errors?.[0]?.message ?? e.message ?? String(error);
  // An answer that is not BigQuery's JSON (a proxy's 500 page, say): the client lists what it got
  // under "Multiple errors occurred during the request", numbered, after a line that says nothing.
  // An HTML page's text says nothing a person can use in one line: left out.
  const listed = /^Multiple errors occurred/.test(detail) ? [...detail.matchAll(/^\s*\d+\.\s+(.+)$/gm)].map((m) => m[1]!.trim()) : [];
  if (listed.length > 0) {
    // The client lists an error without a message as `undefined`, and a body it could not read as `[object Object]`.
    const said = listed.filter((part) => !part.startsWith('<') && part !== 'undefined' && part !== '[object Object]');
    const nothingSaid = listed.some((part) => part.startsWith('<')) ? 'an HTML page' : 'an answer without a message';
    return `${typeof e.code === 'number' ? `HTTP ${e.code}: ` : ''}${said.length > 0 ? said.join('; ') : nothingSaid}`;
  }
  return withCredentialsHint(firstLine(detail));
}

/**
 * OpenSSL's word for a key it cannot read (`error:1E08010C:DECODER routines::unsupported`) names
 * neither the file nor the credentials: the private key of the service-account file
 * GOOGLE_APPLICATION_CREDENTIALS names (or of Application Default Credentials) is what failed.
 */
const UNREADABLE_KEY = /\b(DECODER|PEM|ASN1|RSA) routines\b|\bprivate key\b/i;

function withCredentialsHint(said: string): string {
  return UNREADABLE_KEY.test(said)
    ? `${said} (the credentials' private key cannot be read: check the key file GOOGLE_APPLICATION_CREDENTIALS names, or \`gcloud auth application-default login\`)`
    : said;
}
