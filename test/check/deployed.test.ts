/** `deployedConfigDifferences`: the registry Dataform deployed (BigQuery's JSON of its config rows) against the runner's. */
import { describe, expect, it } from 'vitest';
import { parseRegistry, type Registry } from '../../src/config/registry.js';
import { deployedConfigDifferences, deployedConfigWarning } from '../../src/check/deployed.js';

function registry(processors: Record<string, object>): Registry {
  const parsed = parseRegistry({ dataset: 'nba_reference', processors });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.registry;
}

describe('deployedConfigDifferences', () => {
  const local = registry({ a: { expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'], grace_hours: 2, max_runtime_minutes: 'auto', alert_after_dates: 2, alert_within_dates: 5 } });
  // As TO_JSON_STRING gives it: whole floats as integers, runtime "auto" as null, an unknown column.
  const same = {
    processor_name: 'a', expected_frequency: 'weekly', expected_weekdays: ['MON', 'THU'], grace_hours: 2.0, max_runtime_minutes: null,
    alert_after_dates: 3, alert_within_dates: 5, owners: ['someone else'], future_column: 'x',
  };

  it('finds none where only the form, a runner key or a column this runner does not know differ', () => {
    expect(deployedConfigDifferences(local, new Map([['a', same]]))).toEqual([]);
  });

  it('names each detection key that differs, and a threshold deployed or not', () => {
    const other = { ...same, expected_weekdays: ['MON'], max_runtime_minutes: 90, alert_after_dates: null };
    expect(deployedConfigDifferences(local, new Map([['a', other]]))).toEqual([
      'processors.a.expected_weekdays (deployed ["MON"], here ["MON","THU"])',
      'processors.a.max_runtime_minutes (deployed 90, here none)',
      'processors.a.alert_after_dates (deployed none, here 2)',
    ]);
  });

  it('makes one warning of them, the first three named', () => {
    expect(deployedConfigWarning([], 'r.json')).toBeNull();
    expect(deployedConfigWarning(['d1', 'd2', 'd3', 'd4', 'd5'], 'r.json')).toBe(
      'BigQuery detects with the registry Dataform deployed, which differs from r.json: d1, d2, d3 and 2 more; this check used the deployed values for detection: ' +
        'run the Dataform workflow to deploy this registry (docs/deployment.md "Run the Dataform workflow by hand")',
    );
  });
});
