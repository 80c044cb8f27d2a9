/**
 * The BigQuery bytes model (bench/bytes-model.ts) reads what it prices off the SQL a deployment
 * runs: these tests change the registry and expect the scans the rendered SQL then has.
 * test/bigquery/partition-bounds.test.ts checks the same reading against ZetaSQL's resolved AST.
 */
import { describe, expect, it } from 'vitest';
import { deployedCheckReads, MIN_BILLED_PER_TABLE, modelCheck } from '../../bench/bytes-model.js';
import { syntheticRegistryDocument } from '../../bench/dataset.js';
import { parseRegistry, type Registry } from '../../src/config/registry.js';

function registryOf(document: Record<string, unknown>): Registry {
  const result = parseRegistry(document);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.registry;
}

describe('the BigQuery bytes model', () => {
  it('reads one scan of W and the 28 baseline days, with every run-history column the check uses', () => {
    const reads = deployedCheckReads(registryOf(syntheticRegistryDocument(3)));
    expect(reads.historyScans).toEqual([
      {
        table: 'bench-project.bench.processor_run_history',
        fromDaysBeforeWindow: 28,
        toDaysBeforeWindow: null,
        columns: ['completed_at', 'errors', 'processing_date', 'processor_name', 'records_processed', 'run_id', 'started_at', 'status'],
      },
    ]);
  });

  it('follows a threshold that reaches further back: a second scan of the older days and their baseline days (SPEC §12, §10)', () => {
    const document = syntheticRegistryDocument(3) as { processors: Record<string, Record<string, unknown>> };
    const [first] = Object.keys(document.processors);
    document.processors[first!] = { ...document.processors[first!], alert_after_dates: 2, alert_within_dates: 10 };
    const scans = deployedCheckReads(registryOf(document)).historyScans.map((s) => [s.fromDaysBeforeWindow, s.toDaysBeforeWindow]);
    // 7 × 10 days of threshold dates, and the 28 baseline days before the oldest of them.
    expect(scans).toEqual([
      [28, null],
      [98, 28],
    ]);
  });

  it('bills two tables at 1,000 processors: the run history and processor_last_success, each at the 10 MB minimum', () => {
    const row = modelCheck(1000, 730, 7);
    expect(row.tables).toBe(2);
    expect(row.billedBytes).toBe(2 * MIN_BILLED_PER_TABLE);
  });
});
