/**
 * Chooses the warehouse adapter from the command line and environment (SPEC §6):
 * `--engine`, else PEM_ENGINE, else duckdb.
 */
import { usageError } from '../errors.js';
import { DEFAULT_DUCKDB_PATH, openDuckDb } from './duckdb.js';
import type { Warehouse } from './types.js';

export const ENGINES = ['duckdb', 'bigquery'] as const;
export type Engine = (typeof ENGINES)[number];

export interface WarehouseOptions {
  engine?: string | undefined;
  database?: string | undefined;
  project?: string | undefined;
  location?: string | undefined;
}

export function resolveEngine(flag: string | undefined, env: Record<string, string | undefined>): Engine {
  const value = flag ?? env.PEM_ENGINE ?? 'duckdb';
  if (!(ENGINES as readonly string[]).includes(value)) {
    const source = flag !== undefined ? '--engine' : 'PEM_ENGINE';
    throw usageError(`${source} '${value}' is not an engine: use duckdb or bigquery`);
  }
  return value as Engine;
}

export async function openWarehouse(
  options: WarehouseOptions,
  env: Record<string, string | undefined>,
  mode: { create: boolean },
): Promise<Warehouse> {
  const engine = resolveEngine(options.engine, env);
  if (engine === 'duckdb') return openDuckDb({ path: options.database ?? DEFAULT_DUCKDB_PATH, create: mode.create });
  const { openBigQuery } = await import('./bigquery.js');
  return openBigQuery(bigQueryOptionsFrom(options, env));
}

/** The BigQuery project, location and endpoint from flags and environment (also used by the run recorder). */
export function bigQueryOptionsFrom(
  options: WarehouseOptions,
  env: Record<string, string | undefined>,
): { projectId: string | undefined; location: string; apiEndpoint: string | undefined; timeoutMs: number | undefined } {
  return {
    projectId: options.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT,
    location: options.location ?? env.PEM_BIGQUERY_LOCATION ?? 'US',
    apiEndpoint: env.PEM_BIGQUERY_API_ENDPOINT,
    timeoutMs: timeoutFromEnv(env.PEM_BIGQUERY_TIMEOUT_MS),
  };
}

/** PEM_BIGQUERY_TIMEOUT_MS: a positive whole number of milliseconds, or unset for the default. */
function timeoutFromEnv(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) <= 0) {
    throw usageError(`PEM_BIGQUERY_TIMEOUT_MS '${raw}' must be a whole number of milliseconds, for example 300000`);
  }
  return Number(raw);
}
