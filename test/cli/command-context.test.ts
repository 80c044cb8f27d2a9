/** The flags an alert's or a page's `pem check` / `pem gaps` line carries (SPEC §11: it reproduces the finding). */
import { describe, expect, it } from 'vitest';
import { checkCommandLine, gapsCommandLine } from '../../src/alerts/actions.js';
import { readSettings } from '../../src/config/env.js';
import { commandContext } from '../../src/cli/selection.js';

const WINDOW = { as_of_date: '2025-10-07', lookback_days: 7, now: '2025-10-08T12:00:00.000Z' };

describe('commandContext', () => {
  it("carries a BigQuery run's project and location from its environment, as the Cloud Run job has them", () => {
    const settings = readSettings({ PEM_ENGINE: 'bigquery', GOOGLE_CLOUD_PROJECT: 'nba-prod', PEM_BIGQUERY_LOCATION: 'EU' });
    const context = commandContext({ config: 'includes/processors.js' }, settings, WINDOW);
    expect(gapsCommandLine(context, 'gamebook_processor')).toBe(
      'pem gaps --format commands --date 2025-10-07 --processors gamebook_processor --now 2025-10-08T12:00:00.000Z --engine bigquery --project nba-prod --location EU',
    );
    // Flags win over the environment; US, the default location, is left out.
    expect(checkCommandLine(commandContext({ config: 'includes/processors.js', project: 'other', location: 'US' }, settings, WINDOW))).toBe(
      'pem check --date 2025-10-07 --now 2025-10-08T12:00:00.000Z --dry-run --engine bigquery --project other',
    );
  });

  it('says --engine duckdb where PEM_ENGINE would choose BigQuery, and nothing of the engine where it would not', () => {
    const flags = { config: 'reg.json', engine: 'duckdb', database: 'my db.duckdb' };
    expect(checkCommandLine(commandContext(flags, readSettings({ PEM_ENGINE: 'bigquery' }), WINDOW))).toBe(
      "pem check --date 2025-10-07 --now 2025-10-08T12:00:00.000Z --dry-run --config reg.json --engine duckdb --database 'my db.duckdb'",
    );
    expect(checkCommandLine(commandContext(flags, readSettings({}), WINDOW))).toBe(
      "pem check --date 2025-10-07 --now 2025-10-08T12:00:00.000Z --dry-run --config reg.json --database 'my db.duckdb'",
    );
    // The defaults are left out.
    expect(checkCommandLine(commandContext({ config: 'includes/processors.js', database: '.pem/monitoring.duckdb' }, readSettings({}), WINDOW))).toBe(
      'pem check --date 2025-10-07 --now 2025-10-08T12:00:00.000Z --dry-run',
    );
  });
});
