/**
 * Registry filters (`processor_filter`, `calendar_filter`) are spliced into the detection SQL as
 * `WHERE (<filter>)`, so they must be expressions over the row and nothing more. DuckDB's own
 * parser reads them (`json_serialize_sql` gives the syntax tree, without binding: the tables may
 * live elsewhere) and the tree is walked against an allow-list:
 *
 *   column references, literals, comparisons, AND / OR / NOT, IN lists, LIKE, BETWEEN,
 *   IS [NOT] NULL, CAST to a basic type, and the functions of FILTER_FUNCTIONS.
 *
 * Anything else — a subquery, a table function such as read_csv or read_text, any other function —
 * is refused, naming only what was used (never what it would have read). The rule is the same
 * whatever the engine: the BigQuery rendering splices the same text, and these constructs mean the
 * same in both dialects.
 *
 * All filters are parsed in one call, one statement each, so validating 10,000 processors costs
 * one parse; only when that fails are they parsed one by one, to say which filter is wrong.
 * https://duckdb.org/docs/stable/data/json/sql_to_and_from_json
 */
import { DuckDBInstance, VARCHAR } from './duckdb-api.js';
import { firstLine } from '../errors.js';

/** Scalar functions a filter may call (LIKE parses as the operator `~~`; ILIKE, `~~*`, is refused by the registry's rules). */
export const FILTER_FUNCTIONS = ['lower', 'upper', 'trim', 'ltrim', 'rtrim', 'coalesce', 'substr', 'substring', 'starts_with', 'length'] as const;
/**
 * Types a filter may CAST to, as DuckDB's parser names them: the registry's own rule
 * (`filterShapeProblem`) has already kept the written names to those both engines know (STRING,
 * INT64, BIGINT, BOOL, BOOLEAN, DATE, TIMESTAMP), which DuckDB reads as these.
 */
const FILTER_CAST_TYPES = ['VARCHAR', 'BIGINT', 'BOOLEAN', 'DATE', 'TIMESTAMP'] as const;

const LIKE_OPERATORS = new Set(['~~', '!~~', '~~*', '!~~*']);
const FUNCTIONS = new Set<string>([...FILTER_FUNCTIONS, ...LIKE_OPERATORS]);
const CAST_TYPES = new Set<string>(FILTER_CAST_TYPES);
const COMPARISONS = new Set([
  'COMPARE_EQUAL',
  'COMPARE_NOTEQUAL',
  'COMPARE_LESSTHAN',
  'COMPARE_GREATERTHAN',
  'COMPARE_LESSTHANOREQUALTO',
  'COMPARE_GREATERTHANOREQUALTO',
  'COMPARE_DISTINCT_FROM',
  'COMPARE_NOT_DISTINCT_FROM',
]);
const OPERATORS = new Set(['OPERATOR_NOT', 'OPERATOR_IS_NULL', 'OPERATOR_IS_NOT_NULL', 'COMPARE_IN', 'COMPARE_NOT_IN', 'OPERATOR_COALESCE']);

const ALLOWED =
  'column references, literals, comparisons, AND/OR/NOT, IN (…), LIKE, BETWEEN, IS NULL, CAST to STRING/INT64/BIGINT/BOOL/BOOLEAN/DATE/TIMESTAMP ' +
  `and ${FILTER_FUNCTIONS.filter((f) => f !== 'substring').map((f) => f.toUpperCase()).join(', ')}`;

/** The statement each filter is parsed in; its tree minus the WHERE clause must be this one's. */
const WRAPPED_BEFORE = 'SELECT 1 FROM t WHERE (';
const wrap = (filter: string) => `${WRAPPED_BEFORE}${filter})`;

interface Expression {
  class?: string;
  type?: string;
  [key: string]: unknown;
}

interface Parsed {
  error?: boolean;
  error_message?: string;
  /** Where the parser stopped, in characters from the start of the statement. */
  position?: string;
  statements?: { node?: { type?: string; where_clause?: Expression | null } & Record<string, unknown> }[];
}

/**
 * A constant where a condition belongs (`1 AND x = 1`, `NOT 'a'`): DuckDB casts it to a boolean,
 * BigQuery refuses it. (TRUE and FALSE parse as casts, not constants.)
 */
function conditionsProblem(operands: unknown): string | null {
  const constant = (Array.isArray(operands) ? operands : []).find((operand: Expression) => operand?.class === 'CONSTANT');
  return constant ? 'a constant where a condition belongs' : null;
}

/**
 * SQL's clock and session keywords, which DuckDB's parser reads as column references (binding
 * makes them calls): a filter over `CURRENT_DATE` selects other rows as the real clock moves, so a
 * check `--now` in the past (SPEC §13: as-of reads, backtests) would not see what it saw then.
 */
const CLOCK_KEYWORDS = new Set(['current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'current_user', 'session_user', 'current_role', 'current_catalog', 'current_schema']);

/** Why `expression` is not an expression over the row, or null. */
export function filterExpressionProblem(expression: Expression): string | null {
  const children = (...values: unknown[]): string | null => {
    for (const value of values.flat()) {
      const why = filterExpressionProblem(value as Expression);
      if (why) return why;
    }
    return null;
  };
  switch (expression.class) {
    case 'COLUMN_REF': {
      const names = Array.isArray(expression.column_names) ? (expression.column_names as unknown[]) : [];
      const name = names.length === 1 ? String(names[0]).toLowerCase() : '';
      return CLOCK_KEYWORDS.has(name) ? `${name.toUpperCase()} (the real clock or session, not the check's --now)` : null;
    }
    case 'CONSTANT':
      return null;
    case 'COMPARISON':
      return COMPARISONS.has(String(expression.type)) ? children(expression.left, expression.right) : `the comparison ${String(expression.type)}`;
    case 'CONJUNCTION':
      return conditionsProblem(expression.children) ?? children(expression.children);
    case 'OPERATOR':
      if (!OPERATORS.has(String(expression.type))) return `the operator ${String(expression.type)}`;
      return (expression.type === 'OPERATOR_NOT' ? conditionsProblem(expression.children) : null) ?? children(expression.children);
    case 'BETWEEN':
      return children(expression.input, expression.lower, expression.upper);
    case 'CAST': {
      const type = expression.cast_type as { id?: string; type_info?: unknown } | undefined;
      if (!type?.id || !CAST_TYPES.has(type.id) || type.type_info) return `a CAST to ${String(type?.id ?? 'an unknown type')}`;
      return children(expression.child);
    }
    case 'FUNCTION': {
      const name = String(expression.function_name ?? '').toLowerCase();
      const plain =
        // TRIM is grammar rather than a call, and parses as `main.trim`.
        (expression.schema === '' || expression.schema === 'main') &&
        (expression.catalog ?? '') === '' &&
        expression.filter === null &&
        expression.distinct === false &&
        !expression.export_state &&
        ((expression.order_bys as { orders?: unknown[] } | undefined)?.orders ?? []).length === 0;
      if (!FUNCTIONS.has(name) || !plain) return `the function ${name.toUpperCase() || '(unnamed)'}`;
      return children(expression.children);
    }
    case 'SUBQUERY':
      return 'a subquery';
    default:
      return `${String(expression.class ?? 'an unknown construct').toLowerCase().replace(/_/g, ' ')}`;
  }
}

/** The tree of a statement without its WHERE clause and source positions, for comparison. */
function skeleton(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => (key === 'query_location' || key === 'where_clause' ? undefined : value));
}

/**
 * DuckDB's parse error of one wrapped filter, in the filter's own terms: the parser reports the
 * wrapper's closing ")" when the filter stops short ("processor_name = "), which is not in the
 * text the user wrote; and a position within the filter is counted from its own start.
 */
function syntaxErrorIn(filter: string, parsed: Parsed): string {
  const message = firstLine(parsed.error_message ?? 'syntax error');
  const at = Number(parsed.position) - WRAPPED_BEFORE.length;
  if (parsed.position === undefined || !Number.isInteger(at) || at < 0) return message;
  if (at >= filter.trimEnd().length) return 'it ends where more was expected';
  return `${message}, at character ${at + 1}`;
}

/**
 * A parser that checks many filters in one parse: `check(filters)` gives, for each filter, why it
 * is not an allowed expression over the row (or does not parse), or null.
 */
export async function duckDbFilterParser(): Promise<{ check: (filters: readonly string[]) => Promise<(string | null)[]>; close: () => void }> {
  // Opened on first use: most registries have no filter of their own, and every command loads one.
  let opened: Promise<{ instance: DuckDBInstance; parse: (sql: string) => Promise<Parsed>; expected: string }> | null = null;
  const open = () =>
    (opened ??= (async () => {
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      const parse = async (sql: string): Promise<Parsed> => {
        const reader = await connection.runAndReadAll('SELECT json_serialize_sql(CAST($sql AS VARCHAR)) AS tree', { sql }, { sql: VARCHAR });
        return JSON.parse(String(reader.getRows()[0]![0])) as Parsed;
      };
      return { instance, parse, expected: skeleton((await parse(wrap('TRUE'))).statements?.[0]?.node) };
    })());
  return {
    async check(filters) {
      if (filters.length === 0) return [];
      const { parse, expected } = await open();
      const judge = (statement: NonNullable<Parsed['statements']>[number] | undefined): string | null => {
        const node = statement?.node;
        if (!node || node.type !== 'SELECT_NODE' || !node.where_clause || skeleton(node) !== expected) return 'must be one boolean expression';
        // `WHERE (1)` selects every row on DuckDB and is an error on BigQuery: a filter is a condition.
        if (node.where_clause.class === 'CONSTANT') return 'must be a condition over the row (a comparison, LIKE, IN, IS NULL, …), not a constant';
        const why = filterExpressionProblem(node.where_clause);
        return why ? `may only use ${ALLOWED}; not ${why}` : null;
      };
      // The shape rules (no ";", comments or unbalanced quotes) keep each filter inside its own
      // statement. When the whole batch does not parse, halves are parsed until each wrong filter
      // is found: a few parses per wrong filter, not one per filter.
      const checkRange = async (from: number, to: number): Promise<(string | null)[]> => {
        const part = filters.slice(from, to);
        const together = await parse(part.map(wrap).join(';\n'));
        if (!together.error && together.statements?.length === part.length) return together.statements.map(judge);
        if (part.length === 1) {
          return [together.error ? `does not parse as a SQL expression (${syntaxErrorIn(part[0]!, together)})` : 'must be one boolean expression'];
        }
        const middle = from + Math.ceil(part.length / 2);
        return [...(await checkRange(from, middle)), ...(await checkRange(middle, to))];
      };
      return checkRange(0, filters.length);
    },
    close() {
      // Closing the instance closes its connections.
      if (opened) void opened.then(({ instance }) => instance.closeSync()).catch(() => undefined);
    },
  };
}
