/**
 * What the runner needs of a warehouse: run one statement with typed, bound parameters and
 * get plain rows back. Every adapter decodes its engine's values into the same plain forms,
 * so nothing above this layer knows which engine answered.
 */
import type { RepeatedRunRow, RunRow } from './run-row.js';
import type { Dialect } from '../sql/render.js';

/** A bound parameter with its SQL type stated, never inferred (an empty array has no type). */
export type QueryParam =
  | { type: 'DATE'; value: string }
  | { type: 'INT64'; value: number }
  | { type: 'TIMESTAMP'; value: Date }
  | { type: 'STRING'; value: string | null }
  | { type: 'ARRAY<STRING>'; value: readonly string[] };

export type QueryParams = Record<string, QueryParam>;

/**
 * A decoded value: DATE → 'YYYY-MM-DD', TIMESTAMP → ISO-8601 UTC ('…Z'), integers → number,
 * BOOL → boolean, STRING → string, NULL → null, arrays and structs → arrays and objects of these.
 */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };
export type Row = Record<string, PlainValue>;

export interface TableColumn {
  name: string;
  type: string;
}

/** How `Warehouse.queryBatches` runs a statement. */
export interface QueryBatchesOptions {
  /**
   * About how many bytes the caller holds of what it read before (a large check keeps every
   * processor's days until its document is written): the warehouse keeps as much less memory for
   * itself while the statement runs. DuckDB runs it under a memory_limit lowered by as much (to no
   * less than LARGE_RESULT_MEMORY_SHARE of it), and again under the whole one should it need more
   * before its first rows; elsewhere nothing changes. Default 0.
   */
  leaveRoomForCaller?: number;
}

export interface Warehouse {
  readonly dialect: Dialect;
  /** A short description for messages (`DuckDB .pem/monitoring.duckdb`); never holds a secret. */
  readonly description: string;
  query(sql: string, params?: QueryParams): Promise<Row[]>;
  /**
   * The same rows in batches, as the engine produces them, so a caller that folds them as they
   * come never holds the whole result (a 90-day check of 10,000 processors; SPEC §14).
   */
  queryBatches(sql: string, params?: QueryParams, options?: QueryBatchesOptions): AsyncIterable<Row[]>;
  /**
   * The most processor-days (processors × window days) one check statement should report, or null
   * for no limit: `runCheck` runs a larger check as slices of processors (SPEC §14).
   */
  readonly checkProcessorDaysPerQuery: number | null;
  /**
   * The check statement reads the registry deployed beside the history (BigQuery: the table
   * function and processor_last_success Dataform keeps), not the one bound from the runner's file:
   * a detection setting edited in the file reaches checks only after the next deployment.
   */
  readonly detectsWithDeployedRegistry: boolean;
  /**
   * The most processors one check statement should report, or null for no limit: a DuckDB
   * statement's memory grows with its processors as well as with its days (SPEC §14).
   */
  readonly checkProcessorsPerQuery: number | null;
  /**
   * Whether other processes wait while this warehouse has its store open (DuckDB on a file: one
   * process at a time), so that long work (`pem backtest`) should pause for `betweenSlices` now and
   * then; false where nothing is held (BigQuery, DuckDB in memory).
   */
  readonly holdsFile: boolean;
  /** Runs a statement that returns no rows (DDL, inserts). */
  execute(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Appends run-history rows to `table` ('dataset.table'), each at most once per
   * (run_id, status), so a retried write adds nothing (BigQuery: insertIds; DuckDB: rows the table
   * already holds are skipped). Never updates. Returns the rows skipped as repeats, each with the
   * stored row it repeats, so a caller can tell a retry from a conflicting second write (DuckDB;
   * BigQuery drops a repeated insertId without saying, so it returns none).
   */
  insertRunRows(table: string, rows: readonly RunRow[]): Promise<RepeatedRunRow[]>;
  /**
   * The columns of `table` ('dataset.table') and their types, spelled as the dialect's DDL spells
   * them (`VARCHAR`, `STRUCT(a VARCHAR)[]`; `STRING`, `ARRAY<STRUCT<a STRING>>`); empty when the
   * table does not exist.
   */
  tableColumns(table: string): Promise<TableColumn[]>;
  /**
   * Lets go of whatever the warehouse holds between statements (a DuckDB file's single-writer
   * lock) until the next statement: called before slow work that needs no warehouse, such as
   * sending alerts. A no-op where nothing is held.
   */
  release(): Promise<void>;
  /**
   * Called by `runCheck` between the statements of a check it runs in slices: gives back what the
   * last statement freed (DuckDB: the pages its allocator keeps) and, once the file has been held
   * for a while, lets go of it as `release` does, so a recorder is not kept out for the whole of a
   * long check. A no-op where nothing is held.
   */
  betweenSlices(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A warehouse's own word that a table (or its dataset) does not exist: DuckDB's "Catalog Error:
 * Table with name X does not exist", BigQuery's "Not found: Table p:d.t" / "Not found: Dataset".
 * Only then is `pem schema apply` the fix to suggest; a permission or a held file is not.
 */
export const MISSING_TABLE = /Catalog Error: Table with name|Not found: (?:Table|Dataset)/;

/**
 * The table alone is missing, its dataset found: what a monitor never `pem schema apply`'d reads
 * as none (BigQuery's "Not found: Dataset … in location EU" is a wrong project or location instead).
 */
export const MISSING_TABLE_ONLY = /Catalog Error: Table with name|Not found: Table/;
