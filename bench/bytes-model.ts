/**
 * The BigQuery bytes-billed model of bench/README.md, evaluated (section 7 of `npm run bench`).
 * No machine here reaches BigQuery, so this is arithmetic, but over the SQL a deployment actually
 * runs: the check statement (`renderCheckSql`) and the table function's body as Dataform renders it
 * (`healthAtBody`) for the synthetic registry. From that text it takes which tables are read, and
 * for each run-history scan its `processing_date` range and the columns it reads (BigQuery bills the
 * columns a query reads over the partitions it reads: https://cloud.google.com/bigquery/docs/estimate-costs).
 * test/bigquery/partition-bounds.test.ts proves on ZetaSQL's resolved AST that those bounds are
 * constant (so BigQuery prunes); test/bench/bytes-model.test.ts that this reading finds every scan.
 * BigQuery bills at least 10 MB per table referenced (https://cloud.google.com/bigquery/pricing#on_demand_pricing).
 * Reported as a model, never as a measurement.
 */
import type { Registry } from '../src/config/registry.js';
import { dataformProject } from '../src/dataform/project.js';
import { daysBeforeWindow, runSources, type HistoryExtent } from '../src/sql/health.js';
import { loadTemplateBundle } from '../src/sql/load.js';
import { renderCheckSql } from '../src/sql/statements.js';
import { syntheticRegistry } from './dataset.js';

/** BigQuery's logical sizes (https://cloud.google.com/bigquery/docs/storage_overview#data_size_calculation). */
const STRING = (chars: number) => 2 + chars;
const DATE = 8;
const TIMESTAMP = 8;
const INT64 = 8;

/** The shared run history's realistic row (bench/README.md), by column: UUID run ids, 20-character names. */
export const HISTORY_COLUMN_BYTES: Record<string, number> = {
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
/** `processor_last_success`: a `processor_config` row (every §3 key with defaults, about 300 B) plus last success and built_through. */
const LAST_SUCCESS_ROW = 300 + DATE + DATE;

/** One run-history scan of the rendered check: its date range relative to W and the columns it reads. */
export interface HistoryScan {
  table: string;
  /** The scan reads [W start − fromDaysBeforeWindow, W start − toDaysBeforeWindow) or, when null, up to E. */
  /** As the SQL writes them (`days_before_window`): fixed, or max(fixed, reach − L) where a threshold reaches back from E. */
  fromDaysBeforeWindow: HistoryExtent;
  toDaysBeforeWindow: HistoryExtent | null;
  columns: string[];
}

export interface DeployedCheckReads {
  /** Every table the check statement and the table function read, by full name. */
  tables: string[];
  historyScans: HistoryScan[];
  /** How many times each non-history table is referenced. */
  references: Record<string, number>;
}

const PROJECT = 'bench-project';
const { healthAtBody } = dataformProject(loadTemplateBundle());

/** `FROM \`a.b.c\` AS x` and `JOIN \`a.b.c\` AS x`: each table reference of rendered BigQuery SQL. */
const TABLE_REFERENCE = /\b(?:FROM|JOIN)\s+`([^`]+)`(?:\s+AS\s+(\w+))?/g;
/** `DATE_ADD(pem_end_date, INTERVAL 1 - pem_lookback_days - 28 DAY)`: W's first day minus 28. */
const BEFORE_WINDOW = /INTERVAL 1 - pem_lookback_days - (?:(\d+)|GREATEST\((\d+), (\d+) - pem_lookback_days\)) DAY/;

function beforeWindow(line: string): HistoryExtent {
  const [, plain, fixed, reach] = BEFORE_WINDOW.exec(line)!;
  return plain === undefined ? { fixedDays: Number(fixed), reachDays: Number(reach) } : { fixedDays: Number(plain), reachDays: 0 };
}

/**
 * Reads the deployed check's table references and run-history scans from the SQL Dataform deploys
 * for `registry` (the run-history branches of `run_rows`: each `FROM <history> AS t` with its
 * select list before it and its date conditions after it).
 */
export function deployedCheckReads(registry: Registry): DeployedCheckReads {
  const resolve = (name: string) => `${PROJECT}.${name}`;
  const lastSuccess = resolve(`${registry.dataset}.processor_last_success`);
  const body = healthAtBody(registry, resolve, lastSuccess);
  // The runner's statement names tables by the registry's dataset; the deployment adds the project.
  const check = renderCheckSql('bigquery', registry).replace(/`(?=[\w-]+\.[\w-]+`)/g, `\`${PROJECT}.`);
  const historyTables = new Set(runSources(registry).map((s) => resolve(s.table)));
  const tables = new Set<string>();
  const references: Record<string, number> = {};
  const historyScans: HistoryScan[] = [];
  for (const sql of [body, check]) {
    for (const match of sql.matchAll(TABLE_REFERENCE)) {
      const [, table, alias] = match;
      // The table function itself is not a table: its body is read above.
      if (table!.endsWith('.processor_health_daily_at')) continue;
      tables.add(table!);
      if (!historyTables.has(table!)) {
        references[table!] = (references[table!] ?? 0) + 1;
        continue;
      }
      const selectStart = sql.lastIndexOf('SELECT', match.index);
      const whereEnd = sql.indexOf('\n', sql.indexOf('IN (SELECT processor_name FROM', match.index));
      const select = sql.slice(selectStart, match.index);
      const where = sql.slice(match.index, whereEnd);
      const columns = new Set<string>();
      for (const c of `${select}\n${where}`.matchAll(new RegExp(`\\b${alias}\\.\`?(\\w+)`, 'g'))) columns.add(c[1]!);
      const lower = where.split('\n').find((line) => line.includes('>=') && BEFORE_WINDOW.test(line));
      const upper = where.split('\n').find((line) => /\s<\s/.test(line) && BEFORE_WINDOW.test(line));
      if (!lower) throw new Error(`a scan of ${table} without a lower date bound: the model cannot price it`);
      historyScans.push({
        table: table!,
        fromDaysBeforeWindow: beforeWindow(lower),
        toDaysBeforeWindow: upper ? beforeWindow(upper) : null,
        columns: [...columns].sort(),
      });
    }
  }
  return { tables: [...tables].sort(), historyScans, references };
}

export interface BytesModelRow {
  processors: number;
  historyYears: number;
  lookbackDays: number;
  /** Tables the check reads (each billed at least 10 MB). */
  tables: number;
  /** Bytes the run-history scans read: their date ranges, the columns they read. */
  historyScanBytes: number;
  /** Every other table (processor_last_success), each at least 10 MB. */
  otherTablesBytes: number;
  billedBytes: number;
  /** The same check before issue 13 (every partition of the history, bench/README.md). */
  previousBytes: number;
}

/** The model of one check of `processors` synthetic processors (`bytesModel` prices the same reads for each history length). */
export function modelCheck(processors: number, historyDays: number, lookbackDays: number): BytesModelRow {
  return priceReads(deployedCheckReads(syntheticRegistry(processors)), processors, historyDays, lookbackDays);
}

function priceReads(reads: DeployedCheckReads, processors: number, historyDays: number, lookbackDays: number): BytesModelRow {
  const scanned = new Map<string, number>();
  for (const scan of reads.historyScans) {
    const from = daysBeforeWindow(scan.fromDaysBeforeWindow, lookbackDays);
    const days = scan.toDaysBeforeWindow === null ? lookbackDays + from : from - daysBeforeWindow(scan.toDaysBeforeWindow, lookbackDays);
    const rowBytes = scan.columns.reduce((sum, c) => sum + (HISTORY_COLUMN_BYTES[c] ?? 0), 0);
    scanned.set(scan.table, (scanned.get(scan.table) ?? 0) + processors * ROWS_PER_DAY * rowBytes * days);
  }
  const historyScanBytes = [...scanned.values()].reduce((sum, bytes) => sum + Math.max(MIN_BILLED_PER_TABLE, bytes), 0);
  // Conservatively the whole row at every reference (the guard reads only names, the function config and dates).
  const otherTablesBytes = Object.entries(reads.references).reduce((sum, [table, count]) => {
    if (!table.endsWith('.processor_last_success')) throw new Error(`the model has no row size for ${table}`);
    return sum + Math.max(MIN_BILLED_PER_TABLE, count * processors * LAST_SUCCESS_ROW);
  }, 0);
  // Before: the window (≤ 3 references), the 90-day tier and every older partition, 5 columns (~81 B).
  const previousBytes = processors * ROWS_PER_DAY * (lookbackDays * 90 * 3 + (historyDays - lookbackDays) * 81);
  return {
    processors,
    historyYears: Math.round(historyDays / 365),
    lookbackDays,
    tables: reads.tables.length,
    historyScanBytes,
    otherTablesBytes,
    billedBytes: historyScanBytes + otherTablesBytes,
    previousBytes,
  };
}

/** 1k / 10k processors × 2 / 5 years, the default 7-day window and the registry's baseline days. */
export function bytesModel(): BytesModelRow[] {
  const rows: BytesModelRow[] = [];
  for (const processors of [1000, 10000]) {
    // What a check reads does not depend on the history's age: read once, priced for each.
    const reads = deployedCheckReads(syntheticRegistry(processors));
    for (const years of [2, 5]) rows.push(priceReads(reads, processors, years * 365, 7));
  }
  return rows;
}
