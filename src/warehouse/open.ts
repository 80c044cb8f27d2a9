/**
 * Chooses the warehouse adapter from the command line and the settings (SPEC §6): `--engine`,
 * else PEM_ENGINE, else duckdb. The one place that decides the engine.
 */
import { bigQueryLocationProblem, DEFAULT_DUCKDB_LOCK_TIMEOUT_MS, DEFAULT_DUCKDB_MEMORY_LIMIT, type Settings } from '../config/env.js';
import { ENGINES, type Engine } from '../config/names.js';
import { configError, usageError } from '../errors.js';
import { DEFAULT_DUCKDB_PATH, openDuckDb } from './duckdb.js';
import { spoolDirOf, type DamagedSpoolFile } from './duckdb-spool.js';
import type { Warehouse } from './types.js';

export { ENGINES, type Engine };

export interface WarehouseOptions {
  engine?: string | undefined;
  database?: string | undefined;
  project?: string | undefined;
  location?: string | undefined;
  /** The registry the command read (`--config`): a missing DuckDB file's hint names it. */
  config?: string | undefined;
}

/** The settings the opener reads; `readSettings()` gives all of them. */
export type WarehouseSettings = Pick<Settings, 'engine' | 'bigQuery'> & Partial<Pick<Settings, 'duckDb'>>;

export function resolveEngine(flag: string | undefined, settings: Pick<Settings, 'engine'>): Engine {
  if (flag === undefined) return settings.engine ?? 'duckdb';
  if (!(ENGINES as readonly string[]).includes(flag)) throw usageError(`--engine '${flag}' is not an engine: use duckdb or bigquery`);
  return flag as Engine;
}

/** Spool files as a warning names them: the first three, each with why, and how many more. */
function spoolFilesShown(files: readonly DamagedSpoolFile[]): string[] {
  const shown = files.slice(0, 3).map(({ file, reason }) => `${file} (${reason})`);
  if (files.length > 3) shown.push(`and ${files.length - 3} more`);
  return shown;
}

/** How each engine is opened; the BigQuery client is a large module, loaded only for BigQuery. */
const OPENERS: Record<Engine, (options: WarehouseOptions, settings: WarehouseSettings, mode: OpenMode) => Promise<Warehouse>> = {
  // Waits while another process (a `pem record`, another check) holds the file.
  duckdb: (options, settings, mode) => {
    const [named, ...more] = mode.projectKeys ?? [];
    if (named) {
      const others = more.length === 0 ? '' : ` (and ${more.length} other key${more.length === 1 ? '' : 's'}: ${more.slice(0, 3).map((k) => k.key).join(', ')}${more.length > 3 ? ', …' : ''})`;
      throw configError(
        `registry ${named.key} "${named.name}" names a BigQuery project (${named.name.split('.')[0]}), which a DuckDB file does not have${others}: ` +
          `write "${named.name.split('.').slice(1).join('.')}" for DuckDB, or pass --engine bigquery`,
      );
    }
    const path = options.database ?? DEFAULT_DUCKDB_PATH;
    return openDuckDb({
      path,
      create: mode.create,
      registryPath: options.config,
      lockWaitMs: settings.duckDb?.lockTimeoutMs ?? DEFAULT_DUCKDB_LOCK_TIMEOUT_MS,
      memoryLimit: settings.duckDb?.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT,
      onSpoolKept: (table, rows, reason) => {
        const one = rows === 1;
        mode.warn?.(
          `${rows} run row${one ? '' : 's'} kept in ${spoolDirOf(path)} cannot be added to ${table} yet: ${reason.replace(/[.!]+$/, '')}; ` +
            `${one ? 'it stays' : 'they stay'} there, and ${one ? 'is' : 'are'} added once the table accepts ${one ? 'it' : 'them'}`,
        );
      },
      readsOnly: mode.readsOnly ?? false,
      onSpoolNotRead: (rows) => {
        const one = rows === 1;
        mode.warn?.(
          `${rows} run row${one ? '' : 's'} kept in ${spoolDirOf(path)} ${one ? 'is' : 'are'} not in what this reads: ${path} is opened read-only (this user may not write it); ` +
            `the next pem check or pem record that can write it adds ${one ? 'it' : 'them'}`,
        );
      },
      onSpoolNotRemoved: (table, rows, reason) => {
        const one = rows === 1;
        mode.warn?.(
          `${rows} run row${one ? '' : 's'} kept in ${spoolDirOf(path)} ${one ? 'is' : 'are'} now in ${table}, but ${one ? 'its file' : 'their files'} cannot be removed (${reason}): ` +
            `remove ${one ? 'it' : 'them'} by hand (a later drain finds ${one ? 'it' : 'them'} stored and adds nothing)`,
        );
      },
      onSpoolUnreadable: (files) => {
        const one = files.length === 1;
        const shown = spoolFilesShown(files);
        mode.warn?.(
          `${files.length} file${one ? '' : 's'} in ${spoolDirOf(path)} cannot be read, so the run row${one ? '' : 's'} in ${one ? 'it' : 'them'} ${one ? 'waits' : 'wait'}: ` +
            `${shown.join(', ')}; where another user wrote ${one ? 'it' : 'them'} (EACCES: a pem record run as another user than the check), run pem as that user or make ${one ? 'it' : 'them'} readable`,
        );
      },
      onSpoolDamaged: (files) => {
        const one = files.length === 1;
        const shown = spoolFilesShown(files);
        mode.warn?.(
          `${files.length} file${one ? '' : 's'} in ${spoolDirOf(path)} ${one ? 'was' : 'were'} set aside, not added to the run history: ` +
            `${shown.join(', ')}; see what ${one ? 'it holds' : 'they hold'} and, if ${one ? 'it matters' : 'they matter'}, record ${one ? 'it' : 'them'} with pem record (as a new run where the reason says so), then delete ${one ? 'it' : 'them'}`,
        );
      },
    });
  },
  bigquery: async (options, settings, mode) => {
    const { openBigQuery } = await import('./bigquery.js');
    const warehouse = await openBigQuery(bigQueryOptionsFrom(options, settings));
    mode.atStop?.(() => warehouse.cancelWaitingJobs(), () => warehouse.waitingJobsToCancel());
    return warehouse;
  },
};

/** `create`: make a DuckDB file that does not exist. `warn`: where to say what the open found wrong but went on (run rows a spool still keeps, a damaged spool file). */
export interface OpenMode {
  create: boolean;
  /**
   * The command writes nothing to the warehouse (`pem check --dry-run`, gaps, report, silence list,
   * backtest): a DuckDB file this user may not write is then read read-only instead of refused.
   */
  readsOnly?: boolean;
  warn?: (message: string) => void;
  /**
   * Where to leave what must be done if the process is stopped (SIGTERM) while it waits for the
   * warehouse: BigQuery cancels the jobs it would leave running (`StopControl.atStop`).
   */
  atStop?: (cleanup: () => Promise<string>, unfinished: () => string) => void;
  /**
   * The registry keys whose value names a BigQuery project (`projectQualifiedKeys`): DuckDB refuses
   * them as configuration (exit 2) before opening, instead of failing on its first statement with
   * `Catalog "p" does not exist` (exit 1).
   */
  projectKeys?: ReadonlyArray<{ key: string; name: string }>;
}

export async function openWarehouse(options: WarehouseOptions, settings: WarehouseSettings, mode: OpenMode): Promise<Warehouse> {
  return OPENERS[resolveEngine(options.engine, settings)](options, settings, mode);
}

/** --location as given, or a usage error (exit 2) for one that names no BigQuery location. */
function checkedLocation(location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  const problem = bigQueryLocationProblem('--location', location);
  if (problem) throw usageError(problem);
  return location;
}

/** The BigQuery project, location, endpoint and timeout from flags and settings (also used by the run recorder). */
export function bigQueryOptionsFrom(
  options: WarehouseOptions,
  settings: Pick<Settings, 'bigQuery'>,
): { projectId: string | undefined; location: string; apiEndpoint: string | undefined; timeoutMs: number | undefined } {
  return {
    projectId: options.project ?? settings.bigQuery.project,
    location: checkedLocation(options.location) ?? settings.bigQuery.location ?? 'US',
    apiEndpoint: settings.bigQuery.apiEndpoint,
    timeoutMs: settings.bigQuery.timeoutMs,
  };
}
