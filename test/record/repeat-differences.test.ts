/** `repeatDifferences`: what a row skipped as a repeat of its (run_id, status) says otherwise than the stored one. */
import { describe, expect, it } from 'vitest';
import { repeatDifferences, type RunRow } from '../../src/warehouse/run-row.js';

const row: RunRow = {
  run_id: 'gamebook/2025-10-07/x', processor_name: 'gamebook', processing_date: '2025-10-07', status: 'success',
  started_at: null, completed_at: new Date('2025-10-08T06:00:00Z'), records_processed: 10, errors: null, trigger_source: 'scheduler', metadata: null,
};
const stored = { processor_name: 'gamebook', processing_date: '2025-10-07', records_processed: 10, errors: null };

describe('repeatDifferences', () => {
  it('finds none in a retry: the same values, whenever and by whom it was sent', () => {
    expect(repeatDifferences({ row: { ...row, completed_at: new Date('2025-10-08T07:00:00Z'), trigger_source: 'manual', metadata: { retry: 1 } }, stored })).toEqual([]);
    expect(repeatDifferences({ row: { ...row, errors: [] }, stored })).toEqual([]);
  });

  it('names each column a check reads that differs, stored value first', () => {
    expect(
      repeatDifferences({
        row: { ...row, processor_name: 'roster', processing_date: '2025-10-06', records_processed: null, errors: [{ error_type: 'Timeout', error_message: 'x'.repeat(200) }] },
        stored: { ...stored, errors: [{ error_type: 'Note', error_message: 'late' }] },
      }),
    ).toEqual([
      "processor_name 'gamebook', not 'roster'",
      "processing_date '2025-10-07', not '2025-10-06'",
      'records_processed 10, not none',
      `errors 'Note: late', not 'Timeout: ${'x'.repeat(70)}…'`,
    ]);
  });
});
