/**
 * RFC 4180 CSV (https://www.rfc-editor.org/rfc/rfc4180) with a header line and `\n` line ends,
 * for every `--format csv`. A field is quoted when it holds a comma, a quote or a line break
 * (quotes doubled); NULL is an empty field, booleans are `true`/`false`.
 *
 * Text that a spreadsheet would compute (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
 * return) gets a leading `'`, which shows it instead: error messages and silence reasons come from
 * outside pem, and these files are opened in spreadsheets (OWASP, CSV injection:
 * https://owasp.org/www-community/attacks/CSV_Injection). Numbers are never text here, and pem's
 * own text (keys, dates, statuses) never starts so; `--format json` keeps every value exact.
 */
export type CsvValue = string | number | boolean | null;

export function renderCsv<C extends string>(columns: readonly C[], rows: Iterable<Readonly<Record<C, CsvValue>>>): string {
  return [...csvLines(columns, rows)].join('');
}

/** The same text a line at a time (each with its `\n`), for a writer that never holds it whole. */
export function* csvLines<C extends string>(columns: readonly C[], rows: Iterable<Readonly<Record<C, CsvValue>>>): Generator<string> {
  yield `${columns.join(',')}\n`;
  for (const row of rows) yield `${columns.map((column) => csvField(row[column])).join(',')}\n`;
}

/** What a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvField(value: CsvValue): string {
  if (value === null) return '';
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
