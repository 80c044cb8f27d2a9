/**
 * The production engine: BigQuery through `@google-cloud/bigquery`, with Application Default
 * Credentials. Parameters are sent with explicit types (a DATE sent untyped arrives as a
 * STRING, an empty array without a type is rejected), results decoded to the plain forms.
 */
import { BigQuery } from '@google-cloud/bigquery';
import { runtimeError, usageError } from '../errors.js';
import type { RunRow } from '../record/row.js';
import type { PlainValue, QueryParams, Row, Warehouse } from './types.js';

export interface BigQueryOptions {
  projectId: string | undefined;
  location: string;
  /** A REST endpoint other than Google's (tests' loopback stand-in). */
  apiEndpoint?: string | undefined;
}

export async function openBigQuery(options: BigQueryOptions): Promise<Warehouse> {
  if (!options.projectId) {
    throw usageError('BigQuery needs a project: pass --project ID or set GOOGLE_CLOUD_PROJECT');
  }
  const client = new BigQuery({
    projectId: options.projectId,
    location: options.location,
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
  });
  return new BigQueryWarehouse(client, options.projectId, options.location);
}

type ParamType = string | string[];

export class BigQueryWarehouse implements Warehouse {
  readonly dialect = 'bigquery' as const;
  readonly description: string;

  constructor(
    private readonly client: BigQuery,
    projectId: string,
    private readonly location: string,
  ) {
    this.description = `BigQuery project ${projectId} (${location})`;
  }

  async query(sql: string, params: QueryParams = {}): Promise<Row[]> {
    const values: Record<string, unknown> = {};
    const types: Record<string, ParamType> = {};
    for (const [name, param] of Object.entries(params)) {
      if (!new RegExp(`@${name}\\b`).test(sql)) continue;
      switch (param.type) {
        case 'DATE':
          values[name] = param.value;
          types[name] = 'DATE';
          break;
        case 'TIMESTAMP':
          values[name] = param.value.toISOString();
          types[name] = 'TIMESTAMP';
          break;
        case 'INT64':
          values[name] = param.value;
          types[name] = 'INT64';
          break;
        case 'STRING':
          values[name] = param.value;
          types[name] = 'STRING';
          break;
        case 'ARRAY<STRING>':
          values[name] = [...param.value];
          types[name] = ['STRING'];
          break;
      }
    }
    try {
      const [rows] = await this.client.query({
        query: sql,
        params: values,
        types,
        location: this.location,
        useLegacySql: false,
      });
      return (rows as Record<string, unknown>[]).map((row) => decodeRow(row));
    } catch (error) {
      throw runtimeError(`${this.description}: ${describe(error)}`);
    }
  }

  async execute(sql: string, params: QueryParams = {}): Promise<void> {
    await this.query(sql, params);
  }

  async insertRunRows(table: string, rows: readonly RunRow[]): Promise<void> {
    const [datasetId, tableId] = table.split('.').slice(-2) as [string, string];
    try {
      await this.client
        .dataset(datasetId)
        .table(tableId)
        .insert(
          rows.map((row) => ({
            // A retried insert with the same insertId is dropped by BigQuery's best-effort dedup.
            insertId: `${row.run_id}:${row.status}`,
            json: {
              ...row,
              started_at: row.started_at?.toISOString() ?? null,
              completed_at: row.completed_at?.toISOString() ?? null,
              metadata: row.metadata === null || row.metadata === undefined ? null : JSON.stringify(row.metadata),
            },
          })),
          { raw: true },
        );
    } catch (error) {
      throw runtimeError(`${this.description}: cannot insert into ${table}: ${describe(error)}`);
    }
  }

  async close(): Promise<void> {
    // The client holds no connection to close.
  }
}

/** BigQuery client values (BigQueryDate, BigQueryTimestamp, Big numbers, …) → plain forms. */
export function decodeValue(value: unknown): PlainValue {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(decodeValue);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    const inner = (value as { value?: unknown }).value;
    if (ctor === 'BigQueryDate') return String(inner);
    if (ctor === 'BigQueryTimestamp') return new Date(String(inner)).toISOString();
    if (ctor === 'BigQueryDatetime' || ctor === 'BigQueryTime') return String(inner);
    if (ctor === 'BigQueryInt' || ctor === 'Big') return Number(String(inner ?? value));
    if (Buffer.isBuffer(value)) return value.toString('base64');
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, decodeValue(v)]));
  }
  return String(value);
}

function decodeRow(row: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, decodeValue(v)]));
}

function describe(error: unknown): string {
  const e = error as { message?: string; errors?: { message?: string }[]; code?: string };
  const detail = e.errors?.[0]?.message ?? e.message ?? String(error);
  return detail.split('\n')[0]!.trim();
}
