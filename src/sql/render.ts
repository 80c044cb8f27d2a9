/**
 * Renders the handlebars templates under `sql/` for one dialect. The templates are the one
 * source of the detection SQL; every dialect difference is a partial of the same name under
 * `sql/dialects/<dialect>/`. This module knows no dialect: it only loads files and renders.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

export const DIALECTS = ['duckdb', 'bigquery'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** `sql/` beside `src/` and `dist/` (both are two levels below the package root). */
export const SQL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

export interface TemplateBundle {
  /** Top-level templates by name (`processor_health_daily` for `processor_health_daily.sql.hbs`). */
  templates: Record<string, string>;
  /** Partials shared by all dialects. */
  partials: Record<string, string>;
  /** Dialect partials, by dialect then name. */
  dialects: Record<string, Record<string, string>>;
}

/** The names of the runtime parameters the templates reference through `p.<name>`. */
export const PARAMETER_NAMES = ['end_date', 'lookback_days', 'now', 'processors'] as const;

const hbsFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.hbs'))
      .sort()
      .map((file) => [basename(file, '.hbs').replace(/\.sql$/, ''), readFileSync(join(dir, file), 'utf8')]),
  );

let cachedBundle: TemplateBundle | undefined;

/** Reads `sql/` once per process. */
export function loadTemplateBundle(sqlDir: string = SQL_DIR): TemplateBundle {
  if (sqlDir === SQL_DIR && cachedBundle) return cachedBundle;
  const bundle: TemplateBundle = {
    templates: hbsFiles(sqlDir),
    partials: hbsFiles(join(sqlDir, 'partials')),
    dialects: Object.fromEntries(DIALECTS.map((d) => [d, hbsFiles(join(sqlDir, 'dialects', d))])),
  };
  if (sqlDir === SQL_DIR) cachedBundle = bundle;
  return bundle;
}

export interface SqlRenderer {
  readonly dialect: Dialect;
  render(template: string, context: Record<string, unknown>): string;
}

const sharedRenderers = new Map<Dialect, SqlRenderer>();

/** The renderer of `sql/` for a dialect, built once per process (templates compile on first use). */
export function sqlRenderer(dialect: Dialect): SqlRenderer {
  let renderer = sharedRenderers.get(dialect);
  if (!renderer) sharedRenderers.set(dialect, (renderer = createSqlRenderer(dialect)));
  return renderer;
}

/** A renderer given as itself, or by its dialect's name (the shared one). */
export function rendererFor(renderer: Dialect | SqlRenderer): SqlRenderer {
  return typeof renderer === 'object' ? renderer : sqlRenderer(renderer);
}

/**
 * A renderer for one dialect. Partials lose their final newline so they can be used inline
 * (`WHERE {{> contains …}}`).
 */
export function createSqlRenderer(dialect: Dialect, bundle: TemplateBundle = loadTemplateBundle()): SqlRenderer {
  const dialectPartials = bundle.dialects[dialect];
  if (!dialectPartials) throw new Error(`no SQL dialect "${dialect}" (known: ${Object.keys(bundle.dialects).join(', ')})`);
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  for (const [name, text] of Object.entries({ ...bundle.partials, ...dialectPartials })) {
    hbs.registerPartial(name, text.replace(/\n$/, ''));
  }
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  const compile = (name: string, text: string) => hbs.compile(text, { noEscape: true, strict: true });

  // How each parameter is written in this dialect (`$end_date`, `@end_date`), from its `param` partial.
  const paramPartial = compile('param', '{{> param name=name}}');

  return {
    dialect,
    render(template, context) {
      let fn = compiled.get(template);
      if (!fn) {
        const text = bundle.templates[template];
        if (text === undefined) throw new Error(`no SQL template "${template}"`);
        fn = compile(template, text);
        compiled.set(template, fn);
      }
      const paramPrefix = (context.param_prefix as string | null | undefined) ?? null;
      const p = Object.fromEntries(
        PARAMETER_NAMES.map((name) => [name, paramPartial({ name, param_prefix: paramPrefix })]),
      );
      return tidy(fn({ param_prefix: null, ...context, p }));
    },
  };
}

/** Collapses the blank lines that block helpers leave behind; SQL meaning is unchanged. */
function tidy(sql: string): string {
  return sql.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim() + '\n';
}

function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('replace', (value: unknown, from: string, to: string) => String(value).split(from).join(to));
  hbs.registerHelper('split', (value: unknown, separator: string) => String(value).split(separator));
  hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
  hbs.registerHelper('json', (value: unknown) => JSON.stringify(value));
  hbs.registerHelper('is_null', (value: unknown) => value === null || value === undefined);
  hbs.registerHelper('bool', (value: unknown) => (value ? 'TRUE' : 'FALSE'));
}
