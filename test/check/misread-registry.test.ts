/**
 * A registry whose processor_filter or *_field names a column its table does not have: the check
 * names the processor and the key (the warehouse names only the column, `"t"` for the table), all
 * of them at once, and exits 2 (bad config), not 1 (the monitor failing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createScenario, type Scenario } from '../support/scenario.js';
import { runsOn } from '../support/runs.js';

let scenario: Scenario | undefined;
afterEach(() => scenario?.cleanup());

const ARGS = ['--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z', '--dry-run', '--json-output'];

describe('a registry that reads its tables wrongly', () => {
  it('names every processor and key at fault, exit 2', async () => {
    scenario = await createScenario(
      {
        dataset: 'monitoring',
        processors: {
          fine: { expected_frequency: 'daily' },
          typo_filter: { processor_filter: "procesor_name = 'typo_filter'" },
          typo_status: { status_field: 'stat' },
          not_a_condition: { processor_filter: 'processor_name' },
        },
      },
      runsOn('fine', ['2025-10-06', '2025-10-07']),
    );
    const run = await scenario.check(ARGS);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      'error: the registry describes tables the warehouse reads otherwise: ' +
        'processor not_a_condition (processor_filter): Conversion Error: Could not convert string \'fine\' to BOOL when casting from source column processor_name; ' +
        'processor typo_filter (processor_filter): Binder Error: Referenced column "procesor_name" not found in FROM clause!; ' +
        'processor typo_status (status_field): Binder Error: Table "t" does not have a column named "stat"; ' +
        "correct the registry (pem config validate cannot see a table's columns)",
    ]);
    // The processors read their default way are not at fault, and a check of them alone runs.
    const alone = await scenario.check([...ARGS, '--processors', 'fine']);
    expect(alone.code, alone.stderr).toBe(0);
  });

  it('names the keys a processor sets its own way when the warehouse names no column (a type mismatch)', async () => {
    scenario = await createScenario(
      {
        dataset: 'monitoring',
        processors: {
          fine: {},
          status_as_date: { date_field: 'status' },
          two_own: { date_field: 'status', records_field: 'records_processed', started_at_field: 'completed_at' },
          // The filter is its own too: named beside the other key, not left out.
          own_filter: { processor_filter: "processor_name = 'own_filter' AND status > CAST('2025-10-07' AS DATE)", started_at_field: 'completed_at' },
        },
      },
      runsOn('fine', ['2025-10-06', '2025-10-07']),
    );
    const run = await scenario.check(ARGS);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'error: the registry describes tables the warehouse reads otherwise: ' +
        "processor own_filter (one of processor_filter, started_at_field): Binder Error: Cannot compare values of type VARCHAR and type DATE - an explicit cast is required; " +
        'processor status_as_date (date_field): Binder Error: Cannot compare values of type VARCHAR and type DATE - an explicit cast is required; ' +
        'processor two_own (one of date_field, started_at_field): Binder Error: Cannot compare values of type VARCHAR and type DATE - an explicit cast is required; ' +
        "correct the registry (pem config validate cannot see a table's columns)",
    ]);
  });
});
