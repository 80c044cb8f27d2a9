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

/** What a run's stored row said, in the columns a check reads from a final row (SPEC §2, §10). */
export type StoredRunValues = Pick<RunRow, 'processor_name' | 'processing_date' | 'records_processed' | 'errors'>;

/** A row not stored because the table already held a row of its (run_id, status): the first one stays. */
export interface RepeatedRunRow {
  row: RunRow;
  stored: StoredRunValues;
}

/**
 * How a repeated row differs from the stored one, as `column stored, not given` phrases; empty for
 * a retry (the same values). `completed_at` and `trigger_source` are left out: a retry made later,
 * or by another hand, says the same run ended the same way.
 */
export function repeatDifferences({ row, stored }: RepeatedRunRow): string[] {
  const differences: string[] = [];
  // An error message can be pages long: the line names the difference, not the whole text.
  const shown = (value: unknown) =>
    value === null || value === undefined ? 'none'
    : typeof value === 'string' ? `'${value.length > 80 ? `${value.slice(0, 79)}…` : value}'`
    : String(value);
  const errorsText = (errors: RunError[] | null) =>
    errors === null || errors.length === 0 ? null : errors.map((e) => `${e.error_type}: ${e.error_message}`).join('; ');
  for (const column of ['processor_name', 'processing_date', 'records_processed'] as const) {
    if (row[column] !== stored[column]) differences.push(`${column} ${shown(stored[column])}, not ${shown(row[column])}`);
  }
  const storedErrors = errorsText(stored.errors);
  const givenErrors = errorsText(row.errors);
  if (storedErrors !== givenErrors) differences.push(`errors ${shown(storedErrors)}, not ${shown(givenErrors)}`);
  return differences;
}
