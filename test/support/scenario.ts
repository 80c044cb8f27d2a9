/**
 * Scenario fixtures: a temporary folder with a registry file and a DuckDB database built the
 * way a user builds one (`pem schema apply`), then filled with contract rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { RunRow } from '../../src/warehouse/run-row.js';
import { openDuckDb } from '../../src/warehouse/duckdb.js';
import { runCli, type CliRunOptions } from './cli.js';

export interface Scenario {
  dir: string;
  registryPath: string;
  databasePath: string;
  /** `pem check` against this scenario, JSON parsed when --json-output is among the args. */
  check(args?: string[], options?: CliRunOptions): Promise<{ code: number; stdout: string; stderr: string; json: any }>;
  /** Runs SQL against the scenario's database (e.g. to create a foreign table). */
  sql(statement: string): Promise<void>;
  cleanup(): void;
}

/** A short way to write a run row: strings for timestamps, defaults for the rest. */
export interface RowSpec {
  run_id: string;
  processor_name: string;
  processing_date: string;
  status: string;
  started_at?: string | null;
  completed_at?: string | null;
  records_processed?: number | null;
  /** NULL inside an error too: a foreign writer's row may hold one (SPEC §2's columns are nullable), though `pem record` never writes it. */
  errors?: { error_type: string | null; error_message: string | null }[] | null;
  trigger_source?: string | null;
}

export function toRunRow(spec: RowSpec): RunRow {
  return {
    run_id: spec.run_id,
    processor_name: spec.processor_name,
    processing_date: spec.processing_date,
    status: spec.status,
    started_at: spec.started_at ? new Date(spec.started_at) : null,
    completed_at: spec.completed_at ? new Date(spec.completed_at) : null,
    records_processed: spec.records_processed ?? null,
    errors: (spec.errors ?? null) as RunRow['errors'],
    trigger_source: spec.trigger_source ?? 'scheduler',
    metadata: null,
  };
}

export async function createScenario(registry: unknown, rows: RowSpec[] = [], setupSql: string[] = []): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), 'pem-scenario-'));
  const registryPath = join(dir, 'processors.json');
  const databasePath = join(dir, 'monitoring.duckdb');
  writeFileSync(registryPath, JSON.stringify(registry, null, 2));
  const applied = await runCli(['schema', 'apply', '--config', registryPath, '--database', databasePath]);
  if (applied.code !== 0) throw new Error(`schema apply failed: ${applied.stderr}`);
  const dataset = (registry as { dataset?: string }).dataset ?? 'monitoring';
  const warehouse = await openDuckDb({ path: databasePath, create: false });
  try {
    for (const statement of setupSql) await warehouse.execute(statement);
    if (rows.length > 0) await warehouse.insertRunRows(`${dataset}.processor_run_history`, rows.map(toRunRow));
  } finally {
    await warehouse.close();
  }
  return {
    dir,
    registryPath,
    databasePath,
    async check(args = [], options = {}) {
      const run = await runCli(['check', '--config', registryPath, '--database', databasePath, ...args], options);
      let json: unknown = null;
      if (args.includes('--json-output') && run.code === 0) json = JSON.parse(run.stdout);
      return { ...run, json };
    },
    async sql(statement) {
      const wh = await openDuckDb({ path: databasePath, create: false });
      try {
        await wh.execute(statement);
      } finally {
        await wh.close();
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ScenarioChecks {
  /**
   * A fresh scenario (the previous one of the test file is removed first) and `pem check
   * --json-output` on it with the default arguments, then `args`; expects the check to run and
   * returns its JSON document.
   */
  check(registry: unknown, rows: RowSpec[], args?: string[], setupSql?: string[]): Promise<any>;
  /** A fresh scenario without running the check (the previous one is removed first). */
  create(registry: unknown, rows?: RowSpec[], setupSql?: string[]): Promise<Scenario>;
}

/** Scenarios for a file of rule-by-rule check tests: one at a time, removed after each test. */
export function scenarioChecks(defaultArgs: string[]): ScenarioChecks {
  let current: Scenario | undefined;
  const cleanup = () => {
    current?.cleanup();
    current = undefined;
  };
  afterEach(cleanup);
  const create = async (registry: unknown, rows: RowSpec[] = [], setupSql: string[] = []) => {
    cleanup();
    current = await createScenario(registry, rows, setupSql);
    return current;
  };
  return {
    create,
    async check(registry, rows, args = [], setupSql = []) {
      const scenario = await create(registry, rows, setupSql);
      const result = await scenario.check(['--json-output', ...defaultArgs, ...args]);
      expect(result.stderr).not.toMatch(/^error/m);
      expect(result.code).toBe(0);
      return result.json;
    },
  };
}
