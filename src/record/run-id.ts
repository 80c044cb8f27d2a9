/**
 * Run ids that carry their run: `<processor>/<YYYY-MM-DD>/<started_at>-<random>`, for example
 * `gamebook/2025-10-07/20251008T060000123Z-3f2c9a1b04de`.
 *
 * Why encode instead of looking the start row up: `pem record complete` runs in another process
 * (a shell or Python script), and the final row must repeat the start row's processor_name,
 * processing_date and started_at (SPEC §2). Reading them back would cost a BigQuery query per
 * completion (a full scan: run_id is not the partition key), would race the streaming buffer, and
 * would fail exactly when recording the start failed, which the recorder swallows by design.
 * A self-describing id needs no read and still completes a run whose start row was lost.
 */
import { randomBytes } from 'node:crypto';

export interface RunIdParts {
  processor: string;
  /** 'YYYY-MM-DD' */
  processingDate: string;
  startedAt: Date;
}

// The processor part is greedy and the two last parts have fixed shapes, so a processor name
// holding '/' still parses back to itself.
const RUN_ID = /^(.+)\/(\d{4}-\d{2}-\d{2})\/(\d{8}T\d{9}Z)-([0-9a-f]{12})$/s;
const COMPACT_INSTANT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/;

/** A new run id for `processor` and `processingDate`, started at `startedAt`. */
export function newRunId(processor: string, processingDate: string, startedAt: Date, random: string = randomBytes(6).toString('hex')): string {
  return `${processor}/${processingDate}/${compactInstant(startedAt)}-${random}`;
}

/** The processor, date and start instant a run id made by `newRunId` carries; null for any other id. */
export function parseRunId(runId: string): RunIdParts | null {
  const match = RUN_ID.exec(runId);
  if (!match) return null;
  const instant = COMPACT_INSTANT.exec(match[3]!);
  if (!instant) return null;
  const [, y, mo, d, h, mi, s, ms] = instant;
  const startedAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  // An instant that is none (February 30, 25:00) would roll over to another: not an id newRunId made.
  if (Number.isNaN(startedAt.getTime()) || compactInstant(startedAt) !== match[3]) return null;
  return { processor: match[1]!, processingDate: match[2]!, startedAt };
}

/** '2025-10-08T06:00:00.123Z' → '20251008T060000123Z': sortable, and free of ':' and '.'. */
function compactInstant(instant: Date): string {
  return instant.toISOString().replace(/[-:.]/g, '');
}
