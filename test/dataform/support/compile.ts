/**
 * Compiles the repository's Dataform project offline (`dataform compile --json`: no credentials,
 * no network) and replays its actions through ZetaSQL in dependency order, the way Dataform would
 * run them in BigQuery: each object an action creates is added to the catalog for the next ones.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogSpec, Columns, TableFunctionSpec, ZetaSql } from '../../support/zetasql.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATAFORM_CLI = createRequire(import.meta.url).resolve('@dataform/cli/bundle.js');

export interface Target {
  database?: string;
  schema: string;
  name: string;
}

interface Action {
  target: Target;
  dependencyTargets?: Target[];
  fileName?: string;
}

export interface CompiledTable extends Action {
  type: 'table' | 'view' | 'incremental';
  query: string;
  /** An incremental table's query on its later runs (it may read the table itself). */
  incrementalQuery?: string;
  postOps?: string[];
  bigquery?: { partitionBy?: string; clusterBy?: string[] };
  actionDescriptor?: { description?: string; columns?: { path: string[]; description: string }[] };
}

export interface CompiledOperation extends Action {
  queries: string[];
  hasOutput?: boolean;
}

export interface CompiledAssertion extends Action {
  query: string;
}

export interface CompiledGraph {
  tables?: CompiledTable[];
  operations?: CompiledOperation[];
  assertions?: CompiledAssertion[];
  declarations?: Action[];
  projectConfig: { defaultDatabase?: string; defaultSchema?: string; assertionSchema?: string; vars?: Record<string, string> };
  graphErrors?: { compilationErrors?: { fileName?: string; message: string }[] };
}

export interface CompileRun {
  code: number;
  graph: CompiledGraph | null;
  stderr: string;
}

/** `dataform compile --json [...args]` in the repository (or in another copy of the project). */
export function compileDataform(args: string[] = [], projectDir = REPO_ROOT): Promise<CompileRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [DATAFORM_CLI, 'compile', '--json', ...args],
      { cwd: projectDir, maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        let graph: CompiledGraph | null = null;
        try {
          graph = JSON.parse(stdout) as CompiledGraph;
        } catch {
          graph = null;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, graph, stderr });
      },
    );
  });
}

export const fullName = (t: Target): string => [t.database, t.schema, t.name].filter(Boolean).join('.');

export interface ReplayedStatement {
  action: string;
  kind: string;
  sql: string;
  ok: boolean;
  error?: string;
}

/**
 * Analyzes every action of the graph in dependency order. Tables and views are analyzed as the
 * `CREATE OR REPLACE TABLE|VIEW … AS <query>` Dataform runs; operations statement by statement;
 * assertions as their query. What each creates (its columns, or a table function's body) joins
 * the catalog, so later actions resolve against the real outputs of earlier ones.
 */
export async function replayGraph(zeta: ZetaSql, graph: CompiledGraph, base: CatalogSpec): Promise<{ statements: ReplayedStatement[]; catalog: CatalogSpec }> {
  const tables: Record<string, Columns> = { ...base.tables };
  const tableFunctions: TableFunctionSpec[] = [...(base.tableFunctions ?? [])];
  const catalog = (): CatalogSpec => ({ tables, tableFunctions });

  type Item = { key: string; deps: string[]; run: () => Promise<void> };
  const statements: ReplayedStatement[] = [];
  const items: Item[] = [];

  const record = async (action: string, sql: string) => {
    const result = await zeta.analyze(sql, { catalog: catalog() });
    statements.push(result.ok ? { action, kind: result.kind, sql, ok: true } : { action, kind: 'error', sql, ok: false, error: result.error });
    if (!result.ok) return;
    if (result.kind === 'create_table_function_stmt') {
      const fn = tableFunctionFromDdl(sql);
      if (fn) tableFunctions.push(fn);
    } else if (result.columns.length > 0 && result.kind !== 'query_stmt') {
      tables[createdName(sql) ?? action] = Object.fromEntries(result.columns.map((c) => [c.name, c.type]));
    }
  };

  for (const t of graph.tables ?? []) {
    const name = fullName(t.target);
    const ddl = `CREATE OR REPLACE ${t.type === 'view' ? 'VIEW' : 'TABLE'} \`${name}\` AS\n${t.query}`;
    // Then what later runs send: an incremental table's query over itself, and the post-operations.
    const after = [...(t.type === 'incremental' && t.incrementalQuery ? [t.incrementalQuery] : []), ...(t.postOps ?? [])];
    items.push({
      key: name,
      deps: (t.dependencyTargets ?? []).map(fullName),
      run: async () => {
        await record(name, ddl);
        for (const sql of after) await record(name, sql);
      },
    });
  }
  for (const o of graph.operations ?? []) {
    const name = fullName(o.target);
    items.push({
      key: name,
      deps: (o.dependencyTargets ?? []).map(fullName),
      run: async () => {
        for (const sql of o.queries) await record(name, sql);
      },
    });
  }
  for (const a of graph.assertions ?? []) {
    const name = fullName(a.target);
    items.push({ key: name, deps: (a.dependencyTargets ?? []).map(fullName), run: () => record(name, a.query) });
  }

  const done = new Set<string>(Object.keys(base.tables));
  const pending = [...items];
  while (pending.length > 0) {
    const index = pending.findIndex((item) => item.deps.every((d) => done.has(d) || !pending.some((p) => p.key === d)));
    if (index < 0) throw new Error(`dependency cycle among ${pending.map((p) => p.key).join(', ')}`);
    const [item] = pending.splice(index, 1);
    await item!.run();
    done.add(item!.key);
  }
  return { statements, catalog: catalog() };
}

/** The object a CREATE statement names (`` CREATE … TABLE `p.d.t` ``), unquoted. */
function createdName(sql: string): string | null {
  const match = /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?`([^`]+)`/i.exec(sql);
  return match ? match[1]! : null;
}

/**
 * `CREATE … TABLE FUNCTION `name`(a T, …) [OPTIONS (…)] AS <body>` → a templated SQL table
 * function for the catalog, so statements that call it are resolved (and evaluated) through its body.
 */
export function tableFunctionFromDdl(sql: string): TableFunctionSpec | null {
  const head = /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+FUNCTION\s+`([^`]+)`\s*\(([^)]*)\)/i.exec(sql);
  if (!head) return null;
  const rest = sql.slice(head[0].length);
  const as = /\n\s*AS\s*\n/i.exec(rest);
  if (!as) return null;
  const args = head[2]!
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => {
      const [name, ...type] = a.split(/\s+/);
      return { name: name!, type: type.join(' ') };
    });
  return { name: head[1]!, args, body: rest.slice(as.index + as[0].length) };
}
