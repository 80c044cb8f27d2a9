/** One row of the run history, as SPEC §2 defines it. */
import type { RunStatus } from '../config/names.js';

export type { RunStatus };

export interface RunError {
  error_type: string;
  error_message: string;
}

export interface RunRow {
  run_id: string;
  processor_name: string;
  /** 'YYYY-MM-DD' */
  processing_date: string;
  status: RunStatus | string;
  started_at: Date | null;
  completed_at: Date | null;
  records_processed: number | null;
  errors: RunError[] | null;
  trigger_source: string | null;
  /** Free-form JSON value. */
  metadata: unknown;
}
