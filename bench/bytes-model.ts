/**
 * The BigQuery bytes-billed model of bench/README.md, evaluated (section 6 of `npm run bench`).
 * No machine here reaches BigQuery, so this is arithmetic over the scans of the rendered check
 * (their `processing_date` bounds are proven constant by test/bigquery/partition-bounds.test.ts),
 * BigQuery's logical byte sizes, and its minimum of 10 MB billed per table referenced
 * (https://cloud.google.com/bigquery/pricing#on_demand_pricing). It is reported as a model, never
 * as a measurement.
 */

/** BigQuery's logical sizes (https://cloud.google.com/bigquery/docs/storage_overview#data_size_calculation). */
const STRING = (chars: number) => 2 + chars;
const DATE = 8;
const TIMESTAMP = 8;
const INT64 = 8;

/** The shared run history's realistic row (bench/README.md): UUID run ids, 20-character names. */
export const HISTORY_ROW = {
  run_id: STRING(36),
  processor_name: STRING(20),
  processing_date: DATE,
  status: STRING(7),
  started_at: TIMESTAMP,
  /** Set on the final row only: half the rows. */
  completed_at: TIMESTAMP / 2,
  /** The first error, on failed rows only (~1 B on average). */
  errors: 1,
  records_processed: INT64 / 2,
};
/** Rows per processor per day: a `running` row and a final row. */
export const ROWS_PER_DAY = 2;
/** BigQuery bills at least 10 MB per table referenced by a query. */
export const MIN_BILLED_PER_TABLE = 10 * 1024 * 1024;
/** `processor_last_success`: name, date, built_through (one row per processor). */
const LAST_SUCCESS_ROW = STRING(20) + DATE + DATE;
/** `processor_config`: every §3 key of a processor with defaults (about 300 B a row). */
const CONFIG_ROW = 300;

export interface BytesModelRow {
  processors: number;
  historyYears: number;
  lookbackDays: number;
  baselineDays: number;
  /** Bytes the run-history scans read: W extended back by the baseline, the columns the check reads. */
  historyScanBytes: number;
  /** processor_config and processor_last_success, each at least 10 MB. */
  otherTablesBytes: number;
  billedBytes: number;
  /** The same check before issue 13 (every partition of the history, bench/README.md). */
  previousBytes: number;
}

export function modelCheck(processors: number, historyDays: number, lookbackDays: number, baselineDays: number): BytesModelRow {
  const rowBytes = Object.values(HISTORY_ROW).reduce((a, b) => a + b, 0);
  const daily = processors * ROWS_PER_DAY * rowBytes;
  // One scan of [E - L + 1 - baseline, E]: partitions outside it are pruned by the constant bounds.
  const historyScanBytes = Math.max(MIN_BILLED_PER_TABLE, daily * (lookbackDays + baselineDays));
  const otherTablesBytes =
    Math.max(MIN_BILLED_PER_TABLE, processors * LAST_SUCCESS_ROW) + Math.max(MIN_BILLED_PER_TABLE, processors * CONFIG_ROW);
  // Before: the window (≤ 3 references), the 90-day tier and every older partition, 5 columns (~81 B).
  const previousBytes = processors * ROWS_PER_DAY * (lookbackDays * 90 * 3 + (historyDays - lookbackDays) * 81);
  return {
    processors,
    historyYears: Math.round(historyDays / 365),
    lookbackDays,
    baselineDays,
    historyScanBytes,
    otherTablesBytes,
    billedBytes: historyScanBytes + otherTablesBytes,
    previousBytes,
  };
}

/** SPEC §10's default `baseline_days`: the scan reaches this far before W. */
export const DEFAULT_BASELINE_DAYS = 28;

/** 1k / 10k processors × 2 / 5 years, the default 7-day window and 28 baseline days. */
export function bytesModel(): BytesModelRow[] {
  const rows: BytesModelRow[] = [];
  for (const processors of [1000, 10000]) for (const years of [2, 5]) rows.push(modelCheck(processors, years * 365, 7, DEFAULT_BASELINE_DAYS));
  return rows;
}
