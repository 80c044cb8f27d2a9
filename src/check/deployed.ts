/**
 * On BigQuery a check detects with the registry Dataform deployed (the table function reads its
 * config from `processor_last_success`), while the runner routes, words and holds back alerts with
 * its own. Where the two differ (a filter or a threshold changed and not yet deployed), one check
 * mixes both in silence; this says where. Pure: it compares the deployed config rows the check
 * statement returns (`deployed_config`) with the runner's registry.
 */
import type { ProcessorConfig, Registry } from '../config/registry.js';
import type { CheckResult } from './report.js';
import { configRuntime } from '../sql/health.js';

/**
 * Keys of a processor that the check statement does not read: the runner applies them (SPEC §12's
 * alert_after_dates, routing) or only shows them. Every other key shapes detection.
 */
export const RUNNER_KEYS: ReadonlySet<string> = new Set([
  'name',
  'display_name',
  'priority',
  'revenue_impact',
  'slack_channel',
  'owners',
  'route',
  'runbook_url',
  'backfill_command',
  'alert_after_dates',
  // Which processors a check or a replay evaluates is the runner's choice, not the function's.
  'enabled',
]);

/** A config value in one comparable form: BigQuery's JSON gives weekdays as strings, floats as `2.0`, arrays for lists. */
function comparable(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, item]) => [key, comparable(item)]));
  }
  return value;
}

/** A value as the difference shows it: short, quoted when text. */
function shown(value: unknown): string {
  const text = value === null ? 'none' : typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** The registry's value of a `processor_config` column, as the config row holds it (undefined: not a key of this registry). */
function localValue(p: ProcessorConfig, column: string): unknown {
  if (column === 'max_runtime_minutes') return configRuntime(p);
  return (p as unknown as Record<string, unknown>)[column];
}

/**
 * Where the deployed config rows differ from `registry` in what detection reads, one phrase each:
 * `processors.gamebook.processor_filter (deployed 'a', here 'b')`. A threshold deployed or not
 * counts too (alert_after_dates is the runner's, but only a deployed one has its dates counted).
 * Only the columns both sides have are compared: a deployment of another version (older: a column
 * this runner added is absent from the row; newer: one it does not know) is not a difference, and
 * the row's own `last_success_date` and `built_through` are not registry keys.
 */
export function deployedConfigDifferences(registry: Pick<Registry, 'processors'>, deployed: ReadonlyMap<string, Record<string, unknown>>): string[] {
  const differences: string[] = [];
  for (const p of registry.processors) {
    const row = deployed.get(p.name);
    if (!row) continue;
    for (const [column, value] of Object.entries(row)) {
      if (column === 'processor_name') continue;
      const here = localValue(p, column);
      if (here === undefined) continue;
      const differs =
        column === 'alert_after_dates' ? (value === null) !== (here === null)
        : RUNNER_KEYS.has(column) ? false
        : JSON.stringify(comparable(value)) !== JSON.stringify(comparable(here));
      if (differs) differences.push(`processors.${p.name}.${column} (deployed ${shown(comparable(value))}, here ${shown(comparable(here))})`);
    }
  }
  return differences;
}

/** The one warning a check gives where the deployed registry it detected with differs from `registry` (none: null). */
export function deployedConfigDrift(registry: Pick<Registry, 'processors'>, result: Pick<CheckResult, 'deployed_configs'>, registryPath: string): string | null {
  if (!result.deployed_configs) return null;
  const deployed = new Map([...result.deployed_configs].map(([name, json]) => [name, JSON.parse(json) as Record<string, unknown>]));
  return deployedConfigWarning(deployedConfigDifferences(registry, deployed), registryPath);
}

/** The one warning a check gives for `differences` (none: null). */
export function deployedConfigWarning(differences: readonly string[], registryPath: string): string | null {
  if (differences.length === 0) return null;
  const listed = differences.slice(0, 3).join(', ') + (differences.length > 3 ? ` and ${differences.length - 3} more` : '');
  return (
    `BigQuery detects with the registry Dataform deployed, which differs from ${registryPath}: ${listed}; ` +
    'this check used the deployed values for detection: run the Dataform workflow to deploy this registry (docs/deployment.md "Run the Dataform workflow by hand")'
  );
}
