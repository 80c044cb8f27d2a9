/**
 * Synthetic run history for the benchmark, generated inside DuckDB with
 * `INSERT … SELECT … FROM range()` statements (per-row appends are ~50× slower: https://duckdb.org/docs/data/insert).
 *
 * Shape, per processor and day over `days` days ending at `endDate`, decided by a hash of
 * (processor, day) so every run of the benchmark builds the same table:
 *   - 2 % gaps (no row at all), 0.5 % hung runs (a `running` row that never ends),
 *   - 2 % failures retried by hand the same morning (a recovered failure: 2 runs, 4 rows),
 *   - 1 % failures left alone, 1 % `skipped`, the rest one successful run (2 rows);
 *   - every 50th processor lost its scheduler 20 days ago (a scheduler issue), another has
 *     failed for the last 4 days (stale), so the result has every status and level in it.
 * Processors: 90 % daily, 7 % weekdays, 3 % weekly (MON, THU), in the registry's time zone.
 * Rows are inserted in date order, oldest first, as an append-only history is written, so
 * DuckDB's zone maps on processing_date can skip old row groups (as BigQuery prunes partitions).
 */
import { parseRegistry, type Registry } from '../src/config/registry.js';
import type { Warehouse } from '../src/warehouse/types.js';

export const BENCH_DATASET = 'bench';
export const BENCH_TABLE = `${BENCH_DATASET}.processor_run_history`;
export const BENCH_TIMEZONE = 'America/New_York';
/** E: the end date of every timed check; `now` is the next day at noon UTC (every date due). */
export const BENCH_END_DATE = '2025-10-07';
export const BENCH_NOW = new Date('2025-10-08T12:00:00Z');
export const HISTORY_DAYS = 730;
const CHUNK_DAYS = 30;

/** Registry key of the i-th synthetic processor (zero-padded, so names sort as numbers). */
export function processorName(index: number): string {
  return `proc_${String(index).padStart(5, '0')}`;
}

type Frequency = 'daily' | 'weekdays' | 'weekly';

/** The same rule the SQL below uses, so registry and history agree. */
export function frequencyOf(index: number): Frequency {
  const bucket = index % 100;
  if (bucket >= 97) return 'weekly';
  if (bucket >= 90) return 'weekdays';
  return 'daily';
}

/** A registry document (SPEC §3) for `count` processors, all reading the shared run-history table. */
export function syntheticRegistryDocument(count: number): Record<string, unknown> {
  const processors: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const frequency = frequencyOf(i);
    processors[processorName(i)] = {
      display_name: `Synthetic processor ${i}`,
      expected_frequency: frequency,
      ...(frequency === 'weekly' ? { expected_weekdays: ['MON', 'THU'] } : {}),
      staleness_threshold_days: frequency === 'weekly' ? 7 : 2,
      priority: (['low', 'medium', 'high'] as const)[i % 3],
      revenue_impact: i % 7 === 0,
    };
  }
  return { dataset: BENCH_DATASET, timezone: BENCH_TIMEZONE, processors };
}

/** `syntheticRegistryDocument(count)` with SPEC §3's defaults, as `pem` loads a registry. */
export function syntheticRegistry(count: number): Registry {
  const parsed = parseRegistry(syntheticRegistryDocument(count));
  if (!parsed.ok) throw new Error(`synthetic registry is invalid: ${parsed.problems.join('; ')}`);
  return parsed.registry;
}

export interface GeneratedHistory {
  rows: number;
  milliseconds: number;
}

/**
 * Fills `bench.processor_run_history` (already created by the schema DDL) with `days` days of
 * history for `processors` processors. The cell → rows expansion is a join on range(4):
 * row r of a cell exists when r < the cell's row count, and (kind, r) decides run and status.
 */
export async function generateHistory(
  warehouse: Warehouse,
  options: { processors: number; days?: number; endDate?: string },
): Promise<GeneratedHistory> {
  const days = options.days ?? HISTORY_DAYS;
  const endDate = options.endDate ?? BENCH_END_DATE;
  const started = performance.now();
  // Oldest days first, a month per statement: each insert is date-ordered and sorts little.
  for (let high = days; high > 0; high -= CHUNK_DAYS) {
    const low = Math.max(0, high - CHUNK_DAYS);
    await warehouse.execute(`
INSERT INTO ${BENCH_TABLE}
WITH cells AS (
  SELECT
    p.i AS proc,
    d.b AS days_back,
    CAST($end_date AS DATE) - CAST(d.b AS INTEGER) AS processing_date,
    (hash(p.i, d.b) % 10000) / 10000.0 AS u,
    hash(d.b, p.i) % 3000 AS jitter_s,
    CASE WHEN p.i % 100 >= 97 THEN 'weekly' WHEN p.i % 100 >= 90 THEN 'weekdays' ELSE 'daily' END AS frequency
  FROM range(${low}, ${high}) AS d(b)
  CROSS JOIN range(${options.processors}) AS p(i)
),
kinds AS (
  SELECT
    proc, processing_date, jitter_s,
    CASE
      WHEN proc % 50 = 7 AND days_back < 20 THEN NULL
      WHEN proc % 50 = 13 AND days_back < 4 THEN 'failed'
      WHEN u < 0.020 THEN NULL
      WHEN u < 0.025 THEN 'hung'
      WHEN u < 0.045 THEN 'retried'
      WHEN u < 0.055 THEN 'failed'
      WHEN u < 0.065 THEN 'skipped'
      ELSE 'success'
    END AS kind
  FROM cells
  WHERE frequency = 'daily'
     OR (frequency = 'weekdays' AND isodow(processing_date) <= 5)
     OR (frequency = 'weekly' AND isodow(processing_date) IN (1, 4))
),
expanded AS (
  SELECT
    k.proc, k.processing_date, k.jitter_s, k.kind, r.n AS step,
    CASE WHEN k.kind = 'retried' AND r.n >= 2 THEN 2 ELSE 1 END AS attempt
  FROM kinds AS k
  JOIN range(4) AS r(n)
    ON r.n < CASE k.kind WHEN 'hung' THEN 1 WHEN 'retried' THEN 4 ELSE 2 END
  WHERE k.kind IS NOT NULL
)
SELECT
  'p' || CAST(proc AS VARCHAR) || '-' || CAST(processing_date AS VARCHAR) || '-' || CAST(attempt AS VARCHAR) AS run_id,
  'proc_' || lpad(CAST(proc AS VARCHAR), 5, '0') AS processor_name,
  processing_date,
  CASE
    WHEN step % 2 = 0 THEN 'running'
    WHEN kind = 'retried' AND step = 1 THEN 'failed'
    WHEN kind = 'retried' THEN 'success'
    ELSE kind
  END AS status,
  CAST(processing_date AS TIMESTAMP) + INTERVAL 30 HOUR + to_seconds(CAST(jitter_s AS BIGINT))
    + CASE WHEN attempt = 2 THEN INTERVAL 2 HOUR ELSE INTERVAL 0 HOUR END AS started_at,
  CASE WHEN step % 2 = 1 THEN
    CAST(processing_date AS TIMESTAMP) + INTERVAL 30 HOUR + to_seconds(CAST(jitter_s AS BIGINT) + 600)
      + CASE WHEN attempt = 2 THEN INTERVAL 2 HOUR ELSE INTERVAL 0 HOUR END
  END AS completed_at,
  -- Steady volumes (10,000 to 12,999) and 10-minute runs: no SPEC §10 anomaly, so the per-processor
  -- comparison (which implements SPEC §4 only) gives the same answers; the baselines are still computed.
  CASE WHEN step % 2 = 1 THEN CAST(10000 + jitter_s AS BIGINT) END AS records_processed,
  CASE
    WHEN step % 2 = 0 THEN NULL
    WHEN (kind = 'retried' AND step = 1) OR kind = 'failed'
      THEN [{'error_type': 'UpstreamTimeout', 'error_message': 'source feed timed out after 300 s'}]
    ELSE []
  END AS errors,
  CASE WHEN attempt = 2 THEN 'manual' ELSE 'scheduler' END AS trigger_source,
  NULL AS metadata
FROM expanded
ORDER BY processing_date, processor_name, step
`, { end_date: { type: 'DATE', value: endDate } });
  }
  const [count] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${BENCH_TABLE}`);
  return { rows: Number(count?.n ?? 0), milliseconds: performance.now() - started };
}
