/**
 * `pem silence list` on BigQuery (the loopback REST stand-in): a silences table never made lists
 * none, as a dry run reads it; a dataset or location that is wrong is the monitor's failure, said.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { guardNetwork, type NetworkGuard } from './support/loopback-guard.js';
import { BigQueryRestError, startBigQueryStandIn } from './support/rest-standin.js';

let guard: NetworkGuard;
let dir: string;
let registryPath: string;
beforeAll(() => {
  guard = guardNetwork();
  dir = mkdtempSync(join(tmpdir(), 'pem-bq-silence-'));
  registryPath = join(dir, 'processors.json');
  writeFileSync(registryPath, JSON.stringify({ dataset: 'nba_reference', processors: { gamebook_processor: {} } }));
});
afterAll(() => {
  guard.restore();
  rmSync(dir, { recursive: true, force: true });
});

async function listWith(error: BigQueryRestError) {
  const standIn = await startBigQueryStandIn({
    answer: () => {
      throw error;
    },
  });
  try {
    return await runCli(['silence', 'list', '--config', registryPath, '--engine', 'bigquery', '--project', 'pem-test'], {
      env: { PEM_BIGQUERY_API_ENDPOINT: standIn.url },
    });
  } finally {
    await standIn.close();
  }
}

describe('pem silence list on BigQuery', () => {
  it('lists none, with a note, when the silences table was never made', async () => {
    const listed = await listWith(new BigQueryRestError('Not found: Table pem-test:nba_reference.pem_alert_silences was not found in location US', 404, 'notFound'));
    expect(listed).toMatchObject({ code: 0, stdout: 'No active silences.\n' });
    expect(listed.stderr).toContain('nba_reference.pem_alert_silences does not exist yet');
  });

  it('fails, saying why, when the dataset is not where it looked (a wrong project or location is no empty list)', async () => {
    const listed = await listWith(new BigQueryRestError('Not found: Dataset pem-test:nba_reference was not found in location EU', 404, 'notFound'));
    expect(listed.code).toBe(1);
    expect(listed.stdout).toBe('');
    expect(listed.stderr).toContain('was not found in location EU');
  });
});
