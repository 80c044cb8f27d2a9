/**
 * ZetaSQL — BigQuery's own SQL front end and its reference evaluator — as a local server, for
 * tests that prove the BigQuery side without BigQuery (see docs/bigquery.md, "How this is proven without BigQuery").
 *
 *   const zeta = await startZetaSql();
 *   try {
 *     const catalog = zetaCatalog({ 'nba_reference.processor_run_history': RUN_HISTORY_COLUMNS });
 *     await zeta.analyze(sql, { catalog, params: { end_date: 'DATE' } });          // resolves, or returns the error
 *     await zeta.evaluate(sql, { catalog, content, params: { end_date: ['DATE', '2025-10-07'] } });
 *   } finally {
 *     zeta.close();
 *   }
 *
 * Process hygiene: the server binds with SO_REUSEPORT (two servers on one port silently split
 * traffic), so each one gets a port the OS just handed out; it outlives a killed Node parent,
 * so it is killed by PID on close(), on process exit and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ZETASQL_MAIN = require.resolve('@fivetrandevelopers/zetasql');
const ZETASQL_DIR = join(dirname(ZETASQL_MAIN), 'zetasql');
// The gRPC libraries are the zetasql package's own dependencies: load them from there.
const zetaRequire = createRequire(ZETASQL_MAIN);
const grpc = zetaRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
const protoLoader = zetaRequire('@grpc/proto-loader') as typeof import('@grpc/proto-loader');

const START_TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------
// Types: BigQuery type syntax ⇄ ZetaSQL TypeProto.

export interface TypeProto {
  type_kind: string;
  array_type?: { element_type: TypeProto };
  struct_type?: { field: { field_name: string; field_type: TypeProto }[] };
}

const SCALARS: Record<string, string> = {
  STRING: 'TYPE_STRING',
  INT64: 'TYPE_INT64',
  FLOAT64: 'TYPE_DOUBLE',
  BOOL: 'TYPE_BOOL',
  DATE: 'TYPE_DATE',
  TIMESTAMP: 'TYPE_TIMESTAMP',
  JSON: 'TYPE_JSON',
  BYTES: 'TYPE_BYTES',
};

/** 'ARRAY<STRUCT<error_type STRING, error_message STRING>>' → TypeProto. */
export function bqType(text: string): TypeProto {
  const source = text.trim();
  let at = 0;
  const skip = () => {
    while (/\s/.test(source[at] ?? '')) at++;
  };
  const word = (): string => {
    skip();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at));
    if (!match) throw new Error(`bad type "${text}" at ${at}`);
    at += match[0].length;
    return match[0];
  };
  const expect = (ch: string) => {
    skip();
    if (source[at] !== ch) throw new Error(`bad type "${text}": expected "${ch}" at ${at}`);
    at++;
  };
  const parse = (): TypeProto => {
    const name = word().toUpperCase();
    if (name === 'ARRAY') {
      expect('<');
      const element = parse();
      expect('>');
      return { type_kind: 'TYPE_ARRAY', array_type: { element_type: element } };
    }
    if (name === 'STRUCT') {
      expect('<');
      const field: { field_name: string; field_type: TypeProto }[] = [];
      for (;;) {
        const fieldName = word();
        field.push({ field_name: fieldName, field_type: parse() });
        skip();
        if (source[at] === ',') {
          at++;
          continue;
        }
        break;
      }
      expect('>');
      return { type_kind: 'TYPE_STRUCT', struct_type: { field } };
    }
    const kind = SCALARS[name === 'INTEGER' ? 'INT64' : name === 'BOOLEAN' ? 'BOOL' : name];
    if (!kind) throw new Error(`unsupported type ${name} in "${text}"`);
    return { type_kind: kind };
  };
  const type = parse();
  skip();
  if (at !== source.length) throw new Error(`bad type "${text}": trailing text at ${at}`);
  return type;
}

/** TypeProto → BigQuery type syntax (for messages and for registering analyzed outputs). */
export function typeName(type: TypeProto): string {
  switch (type.type_kind) {
    case 'TYPE_ARRAY':
      return `ARRAY<${typeName(type.array_type!.element_type)}>`;
    case 'TYPE_STRUCT':
      return `STRUCT<${type.struct_type!.field.map((f) => `${f.field_name} ${typeName(f.field_type)}`).join(', ')}>`;
    default: {
      const entry = Object.entries(SCALARS).find(([, kind]) => kind === type.type_kind);
      return entry ? entry[0] : type.type_kind;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Catalogs.

/** Column name → BigQuery type, in table order. */
export type Columns = Record<string, string>;

export interface TableFunctionSpec {
  /** Full dotted name as written in SQL (`nba_reference.processor_health_daily_at`). */
  name: string;
  args: { name: string; type: string }[];
  /** The body (a query over the arguments), inlined at the call site. */
  body: string;
}

export interface CatalogSpec {
  tables: Record<string, Columns>;
  tableFunctions?: TableFunctionSpec[];
}

export function zetaCatalog(tables: Record<string, Columns>, tableFunctions: TableFunctionSpec[] = []): CatalogSpec {
  return { tables, tableFunctions };
}

interface SimpleCatalogProto {
  name: string;
  table: { name: string; column: { name: string; type: TypeProto }[] }[];
  catalog: SimpleCatalogProto[];
  custom_tvf?: unknown[];
  builtin_function_options?: unknown;
}

/**
 * Every table is registered under its full dotted name (a backticked `` `proj.ds.t` `` is one
 * identifier) and in nested catalogs (`proj` → `ds` → `t`, for unquoted or per-part quoting).
 */
function catalogProto(spec: CatalogSpec, languageOptions: unknown): SimpleCatalogProto {
  const simpleTable = (name: string, columns: Columns) => ({
    name,
    column: Object.entries(columns).map(([column, type]) => ({ name: column, type: bqType(type) })),
  });
  const root: SimpleCatalogProto = {
    name: 'root',
    table: [],
    catalog: [],
    builtin_function_options: { language_options: languageOptions },
  };
  for (const [fullName, columns] of Object.entries(spec.tables)) {
    root.table.push(simpleTable(fullName, columns));
    const parts = fullName.split('.');
    if (parts.length < 2) continue;
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let child = node.catalog.find((c) => c.name === part);
      if (!child) node.catalog.push((child = { name: part, table: [], catalog: [] }));
      node = child;
    }
    node.table.push(simpleTable(parts[parts.length - 1]!, columns));
  }
  root.custom_tvf = (spec.tableFunctions ?? []).map((tvf) => ({
    name_path: [tvf.name],
    type: 'TEMPLATED_SQL_TVF',
    argument_name: tvf.args.map((a) => a.name),
    parse_resume_location: { input: tvf.body, byte_position: 0 },
    signature: {
      argument: tvf.args.map((a) => ({
        kind: 'ARG_TYPE_FIXED',
        type: bqType(a.type),
        num_occurrences: 1,
        options: { cardinality: 'REQUIRED', argument_name: a.name },
      })),
      return_type: { kind: 'ARG_TYPE_RELATION', num_occurrences: 1, options: { cardinality: 'REQUIRED' } },
      context_id: 0,
    },
  }));
  return root;
}

// ---------------------------------------------------------------------------------------
// Values: plain JS ⇄ ValueProto, directed by the type. NULL is a ValueProto with no field set.

/** A plain value as the warehouse adapters return it (see src/warehouse/types.ts). */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

export function encodeValue(type: TypeProto, value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  switch (type.type_kind) {
    case 'TYPE_STRING':
      return { string_value: String(value) };
    case 'TYPE_INT64':
      return { int64_value: String(value) };
    case 'TYPE_DOUBLE':
      return { double_value: Number(value) };
    case 'TYPE_BOOL':
      return { bool_value: Boolean(value) };
    case 'TYPE_JSON':
      return { json_value: typeof value === 'string' ? value : JSON.stringify(value) };
    case 'TYPE_DATE':
      return { date_value: Date.parse(`${String(value)}T00:00:00Z`) / DAY_MS };
    case 'TYPE_TIMESTAMP': {
      const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
      if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${String(value)}`);
      const seconds = Math.floor(ms / 1000);
      return { timestamp_value: { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 } };
    }
    case 'TYPE_ARRAY':
      return { array_value: { element: (value as unknown[]).map((v) => encodeValue(type.array_type!.element_type, v)) } };
    case 'TYPE_STRUCT': {
      const record = value as Record<string, unknown>;
      return { struct_value: { field: type.struct_type!.field.map((f) => encodeValue(f.field_type, record[f.field_name])) } };
    }
    default:
      throw new Error(`cannot encode ${type.type_kind}`);
  }
}

interface ValueProto {
  value?: string;
  [field: string]: unknown;
}

export function decodeValue(type: TypeProto, proto: ValueProto | undefined): Plain {
  if (!proto?.value) return null;
  switch (type.type_kind) {
    case 'TYPE_INT64':
      return Number(proto.int64_value);
    case 'TYPE_DOUBLE':
      return Number(proto.double_value);
    case 'TYPE_BOOL':
      return Boolean(proto.bool_value);
    case 'TYPE_STRING':
      return String(proto.string_value);
    case 'TYPE_JSON':
      return String(proto.json_value);
    case 'TYPE_DATE':
      return new Date(Number(proto.date_value) * DAY_MS).toISOString().slice(0, 10);
    case 'TYPE_TIMESTAMP': {
      const ts = proto.timestamp_value as { seconds?: string; nanos?: number };
      return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
    }
    case 'TYPE_ARRAY': {
      const elements = ((proto.array_value as { element?: ValueProto[] }).element ?? []) as ValueProto[];
      return elements.map((e) => decodeValue(type.array_type!.element_type, e));
    }
    case 'TYPE_STRUCT': {
      const fields = ((proto.struct_value as { field?: ValueProto[] }).field ?? []) as ValueProto[];
      return Object.fromEntries(type.struct_type!.field.map((f, i) => [f.field_name, decodeValue(f.field_type, fields[i])]));
    }
    default:
      throw new Error(`cannot decode ${type.type_kind}`);
  }
}

// ---------------------------------------------------------------------------------------
// The server.

export interface AnalyzeOptions {
  catalog: CatalogSpec;
  /** Declared query parameters: name → BigQuery type. */
  params?: Record<string, string>;
}

export interface OutputColumn {
  name: string;
  type: string;
}

export type AnalyzeResult =
  | { ok: true; kind: string; columns: OutputColumn[] }
  | { ok: false; error: string };

export interface EvaluateOptions {
  catalog: CatalogSpec;
  /** Rows per table (full dotted name), each row an object keyed by column name. */
  content: Record<string, Record<string, unknown>[]>;
  /** Parameters: name → [BigQuery type, value]. */
  params?: Record<string, [string, unknown]>;
}

export interface ZetaSql {
  readonly pid: number;
  readonly port: number;
  analyze(sql: string, options: AnalyzeOptions): Promise<AnalyzeResult>;
  /** The resolved AST of one statement (ZetaSQL's AnyResolvedStatementProto as JSON). Throws on errors. */
  resolve(sql: string, options: AnalyzeOptions): Promise<Record<string, unknown>>;
  /** Runs a query on the reference evaluator; rows decoded to plain values. Throws on errors. */
  evaluate(sql: string, options: EvaluateOptions): Promise<{ columns: OutputColumn[]; rows: Record<string, Plain>[] }>;
  /**
   * Runs an INSERT (or UPDATE/DELETE) on the reference evaluator over `content`; returns the rows
   * it inserted (the service reports the touched rows, not the table after the statement).
   */
  modify(sql: string, options: EvaluateOptions): Promise<{ table: string; inserted: Record<string, Plain>[]; touched: number }>;
  /** The server's recent stderr (for failure messages: the server logs why it dropped a call). */
  log(): string;
  close(): void;
}

const live = new Set<number>();
let hooksInstalled = false;

function killPid(pid: number): void {
  live.delete(pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills every server this process started when the process ends, however it ends. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const pid of [...live]) killPid(pid);
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      // Re-raise so the default (or any other) handler still ends the process.
      process.kill(process.pid, signal);
    });
  }
}

/** A port the OS just handed out, so no other server (ours or not) holds it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

let packageDefinition: ReturnType<typeof protoLoader.loadSync> | undefined;

export async function startZetaSql(): Promise<ZetaSql> {
  installExitHooks();
  const port = await freePort();
  const child: ChildProcess = spawn(join(ZETASQL_DIR, 'remote_server.so'), ['127.0.0.1', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('cannot start the ZetaSQL server');
  live.add(pid);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ZetaSQL server did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`ZetaSQL server exited (${code ?? signal}) before listening: ${stderr}`));
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        if (/Server listening/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    killPid(pid);
    throw error;
  }
  child.stdout!.resume();

  packageDefinition ??= protoLoader.loadSync('local_service.proto', {
    includeDirs: [join(ZETASQL_DIR, 'protos')],
    keepCase: true,
    longs: String,
    enums: String,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(packageDefinition) as any;
  const client = new pkg.zetasql.local_service.ZetaSqlLocalService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  const rpc = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) =>
      client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))),
    );

  let languageOptions: Record<string, unknown>;
  try {
    languageOptions = {
      ...(await rpc<Record<string, unknown>>('GetLanguageOptions', { maximum_features: true })),
      product_mode: 'PRODUCT_EXTERNAL',
      // Empty = every statement kind (the default allows SELECT only).
      supported_statement_kinds: [],
      reserved_keywords: ['QUALIFY'],
    };
  } catch (error) {
    client.close();
    killPid(pid);
    throw error;
  }

  const analyzerOptions = (params: Record<string, TypeProto>) => ({
    language_options: languageOptions,
    error_message_mode: 'ERROR_MESSAGE_MULTI_LINE_WITH_CARET',
    // The server defaults to America/Los_Angeles; BigQuery's default time zone is UTC.
    default_timezone: 'UTC',
    query_parameters: Object.entries(params).map(([name, type]) => ({ name, type })),
    // Not REWRITE_INLINE_SQL_TVFS: this build's inliner rejects argument references inside a
    // body's WITH clause (which the resolver, like BigQuery, accepts). evaluate() inlines instead.
    enabled_rewrites: ['REWRITE_FLATTEN'],
  });

  return {
    pid,
    port,
    async analyze(sql, options) {
      const params = Object.fromEntries(Object.entries(options.params ?? {}).map(([n, t]) => [n, bqType(t)]));
      try {
        const response = await rpc<{ resolved_statement: Record<string, unknown> }>('Analyze', {
          sql_statement: sql,
          simple_catalog: catalogProto(options.catalog, languageOptions),
          options: analyzerOptions(params),
        });
        return { ok: true, kind: statementKind(response.resolved_statement), columns: outputColumns(response.resolved_statement) };
      } catch (error) {
        const e = error as { details?: string; message?: string };
        return { ok: false, error: e.details ?? e.message ?? String(error) };
      }
    },
    async resolve(sql, options) {
      const params = Object.fromEntries(Object.entries(options.params ?? {}).map(([n, t]) => [n, bqType(t)]));
      const response = await rpc<{ resolved_statement: Record<string, unknown> }>('Analyze', {
        sql_statement: sql,
        simple_catalog: catalogProto(options.catalog, languageOptions),
        options: analyzerOptions(params),
      });
      return response.resolved_statement;
    },
    async evaluate(sql, options) {
      const catalog = catalogProto(options.catalog, languageOptions);
      const params = options.params ?? {};
      const tableContent = tableContentProto(options);
      const inlined = inlineTableFunctions(sql, options.catalog.tableFunctions ?? []);
      let response: { content?: { table_data?: { row?: { cell: ValueProto[] }[] } }; prepared: { columns: { name: string; type: TypeProto }[] } };
      try {
        response = await rpc('EvaluateQuery', {
          sql: inlined,
          options: analyzerOptions(Object.fromEntries(Object.entries(params).map(([n, [t]]) => [n, bqType(t)]))),
          simple_catalog: catalog,
          table_content: tableContent,
          params: Object.entries(params).map(([name, [type, value]]) => ({ name, value: encodeValue(bqType(type), value) })),
        });
      } catch (error) {
        const e = error as { details?: string; message?: string };
        throw new Error(`ZetaSQL evaluation failed: ${e.details ?? e.message}`);
      }
      const columns = response.prepared.columns;
      const rows = (response.content?.table_data?.row ?? []).map((row) =>
        Object.fromEntries(columns.map((c, i) => [c.name, decodeValue(c.type, row.cell[i])])),
      );
      return { columns: columns.map((c) => ({ name: c.name, type: typeName(c.type) })), rows };
    },
    async modify(sql, options) {
      const params = options.params ?? {};
      let response: { table_name?: string; content?: { operation: string; cell: ValueProto[] }[] };
      try {
        response = await rpc('EvaluateModify', {
          sql,
          options: analyzerOptions(Object.fromEntries(Object.entries(params).map(([n, [t]]) => [n, bqType(t)]))),
          simple_catalog: catalogProto(options.catalog, languageOptions),
          table_content: tableContentProto(options),
          params: Object.entries(params).map(([name, [type, value]]) => ({ name, value: encodeValue(bqType(type), value) })),
        });
      } catch (error) {
        const e = error as { details?: string; message?: string };
        throw new Error(`ZetaSQL evaluation failed: ${e.details ?? e.message}`);
      }
      const table = response.table_name ?? '';
      const columns = Object.entries(options.catalog.tables[table] ?? {}).map(([name, type]) => [name, bqType(type)] as const);
      const touched = response.content ?? [];
      const inserted = touched
        .filter((row) => row.operation === 'INSERT')
        .map((row) => Object.fromEntries(columns.map(([name, type], i) => [name, decodeValue(type, row.cell[i])])));
      return { table, inserted, touched: touched.length };
    },
    log: () => stderr,
    close() {
      client.close();
      killPid(pid);
    },
  };
}

/** Table contents as the service takes them; every row checked against its table's columns first. */
function tableContentProto(options: EvaluateOptions): Record<string, unknown> {
  const tableContent: Record<string, unknown> = {};
  for (const [table, rows] of Object.entries(options.content)) {
    const columns = options.catalog.tables[table];
    if (!columns) throw new Error(`content for ${table}, which the catalog does not declare`);
    const types = Object.entries(columns).map(([name, type]) => [name, bqType(type)] as const);
    for (const row of rows) {
      // A row of the wrong width crashes the server: check every key first.
      const unknown = Object.keys(row).filter((k) => !(k in columns));
      if (unknown.length > 0) throw new Error(`${table}: unknown column(s) ${unknown.join(', ')}`);
    }
    tableContent[table] = {
      table_data: { row: rows.map((row) => ({ cell: types.map(([name, type]) => encodeValue(type, row[name])) })) },
    };
  }
  return tableContent;
}

/**
 * Replaces each call `` `name`(a, b) `` of a catalog table function by its body in parentheses,
 * with the arguments substituted (the reference evaluator cannot run a table-function scan).
 * Arguments are matched as bare identifiers, so bodies must not use them as column names: ours
 * prefix them (`pem_end_date`) for exactly that reason.
 */
export function inlineTableFunctions(sql: string, functions: readonly TableFunctionSpec[]): string {
  let text = sql;
  for (let pass = 0; pass < 10; pass++) {
    let changed = false;
    for (const fn of functions) {
      const call = `\`${fn.name}\`(`;
      let at = text.indexOf(call);
      while (at >= 0) {
        const open = at + call.length - 1;
        const args: string[] = [];
        let depth = 0;
        let quote: string | null = null;
        let start = open + 1;
        let end = -1;
        for (let i = open; i < text.length; i++) {
          const ch = text[i]!;
          if (quote) {
            if (ch === '\\') i++;
            else if (ch === quote) quote = null;
          } else if (ch === "'" || ch === '"') quote = ch;
          else if (ch === '(') depth++;
          else if (ch === ')' && --depth === 0) {
            args.push(text.slice(start, i).trim());
            end = i;
            break;
          } else if (ch === ',' && depth === 1) {
            args.push(text.slice(start, i).trim());
            start = i + 1;
          }
        }
        if (end < 0) throw new Error(`unbalanced call of ${fn.name}`);
        if (args.length !== fn.args.length) throw new Error(`${fn.name} takes ${fn.args.length} arguments, got ${args.length}`);
        let body = fn.body.trim();
        fn.args.forEach((arg, i) => {
          body = body.replace(new RegExp(`(?<![.\\w@\`])${arg.name}\\b`, 'g'), `CAST(${args[i]} AS ${arg.type})`);
        });
        text = `${text.slice(0, at)}(\n${body}\n)${text.slice(end + 1)}`;
        changed = true;
        at = text.indexOf(call, at + 1);
      }
    }
    if (!changed) return text;
  }
  throw new Error('table functions nest more than 10 deep');
}

/** `resolved_query_stmt_node`, `resolved_create_view_stmt_node`, … : the innermost node name. */
function statementKind(node: Record<string, unknown>): string {
  let current: unknown = node;
  let kind = 'unknown';
  while (current && typeof current === 'object') {
    const entries = Object.entries(current as Record<string, unknown>).filter(([k]) => k.startsWith('resolved_') && k.endsWith('_node'));
    if (entries.length !== 1) break;
    kind = entries[0]![0].replace(/^resolved_/, '').replace(/_node$/, '');
    current = entries[0]![1];
  }
  return kind;
}

/** The statement's output columns (query, view, table function, CREATE TABLE AS), if any. */
function outputColumns(node: unknown): OutputColumn[] {
  const found = findKey(node, 'output_column_list') as { name: string; column: { type: TypeProto } }[] | undefined;
  if (found) return found.map((c) => ({ name: c.name, type: typeName(c.column.type) }));
  const definitions = findKey(node, 'column_definition_list') as { name: string; type: TypeProto }[] | undefined;
  return (definitions ?? []).map((c) => ({ name: c.name, type: typeName(c.type) }));
}

function findKey(node: unknown, key: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findKey(item, key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const record = node as Record<string, unknown>;
  if (Array.isArray(record[key]) && (record[key] as unknown[]).length > 0) return record[key];
  for (const value of Object.values(record)) {
    const found = findKey(value, key);
    if (found !== undefined) return found;
  }
  return undefined;
}
