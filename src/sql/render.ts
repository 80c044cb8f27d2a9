/**
 * Renders the handlebars templates of `sql/` for one dialect. The templates are the one source
 * of the detection SQL; every dialect difference is a partial of the same name under
 * `sql/dialects/<dialect>/`. This module is pure: it knows no dialect and reads no file. It is
 * given the templates as a bundle: by `sql/load.ts` (the runner, from disk), or by
 * includes/pem_sql.js (Dataform, whose sandbox cannot read files; scripts/bundle-sql.mjs).
 */
import Handlebars from 'handlebars';

export const DIALECTS = ['duckdb', 'bigquery'] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface TemplateBundle {
  /** Top-level templates by name (`processor_health_daily` for `processor_health_daily.sql.hbs`). */
  templates: Record<string, string>;
  /** Partials shared by all dialects. */
  partials: Record<string, string>;
  /** Dialect partials, by dialect then name. */
  dialects: Record<string, Record<string, string>>;
}

/** The names of the runtime parameters the templates reference through `p.<name>`. */
export const PARAMETER_NAMES = ['end_date', 'lookback_days', 'now', 'processors', 'processor_config'] as const;

/**
 * The bundle of `sql/`'s `.hbs` files, given by path relative to `sql/`: `<name>[.sql].hbs` is a
 * template, `partials/<name>.hbs` a shared partial, `dialects/<dialect>/<name>.hbs` a dialect's
 * partial. A file anywhere else is an error, not silently left out.
 */
export function templateBundle(files: Record<string, string>): TemplateBundle {
  const bundle: TemplateBundle = { templates: {}, partials: {}, dialects: Object.fromEntries(DIALECTS.map((d) => [d, {}])) };
  for (const path of Object.keys(files).sort()) {
    const parts = path.split('/');
    const name = parts[parts.length - 1]!.replace(/\.hbs$/, '').replace(/\.sql$/, '');
    const dialect = parts.length === 3 && parts[0] === 'dialects' ? bundle.dialects[parts[1]!] : undefined;
    if (!path.endsWith('.hbs')) throw new Error(`sql/${path} is not a handlebars template (.hbs)`);
    else if (parts.length === 1) bundle.templates[name] = files[path]!;
    else if (parts.length === 2 && parts[0] === 'partials') bundle.partials[name] = files[path]!;
    else if (dialect) dialect[name] = files[path]!;
    else throw new Error(`sql/${path} is neither a template, a partial (sql/partials/) nor a dialect partial (sql/dialects/{${DIALECTS.join(',')}}/)`);
  }
  return bundle;
}

/** How every template and partial is compiled (scripts/precompile-sql.mjs precompiles with the same). */
export const COMPILE_OPTIONS = Object.freeze({ noEscape: true, strict: true } as const);

/** The one template a renderer compiles beside the bundle's: how a parameter is written. */
const PARAM_TEMPLATE = '{{> param name=name}}';

/**
 * Templates compiled ahead of time (`Handlebars.precompile`, at build time: dist/sql/), by the
 * exact text they were compiled from. A text not found here, because the file changed since the
 * build or no build ran (src/ through tsx), is compiled from its text on first use instead: a
 * stale precompiled template is never used.
 */
// Named through the import: handlebars declares TemplateSpecification as a global, which the
// emitted .d.ts would name without importing it (a TypeScript user's build then fails).
export type PrecompiledTemplates = ReadonlyMap<string, ReturnType<typeof Handlebars.precompile>>;

/** Every text a renderer of `templates` compiles (in any dialect): what to precompile. */
export function compiledSources(templates: TemplateBundle): string[] {
  const texts = [
    ...Object.values(templates.templates),
    ...[templates.partials, ...Object.values(templates.dialects)].flatMap((partials) => Object.values(partials).map(partialText)),
    PARAM_TEMPLATE,
  ];
  return [...new Set(texts)].sort();
}

/** Partials lose their final newline so they can be used inline (`WHERE {{> contains …}}`). */
function partialText(text: string): string {
  return text.replace(/\n$/, '');
}

export interface SqlRenderer {
  readonly dialect: Dialect;
  /** The templates it renders (the render context reads the column list of `config_columns`). */
  readonly templates: TemplateBundle;
  render(template: string, context: Record<string, unknown>): string;
}

/**
 * A renderer of `templates` for one dialect. Each template and partial is compiled on first use,
 * or taken from `precompiled` when it holds that very text (the same SQL either way: tested).
 */
export function createSqlRenderer(dialect: Dialect, templates: TemplateBundle, precompiled?: PrecompiledTemplates): SqlRenderer {
  const dialectPartials = templates.dialects[dialect];
  if (!dialectPartials) throw new Error(`no SQL dialect "${dialect}" (known: ${Object.keys(templates.dialects).join(', ')})`);
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const compile = (text: string): HandlebarsTemplateDelegate => {
    const spec = precompiled?.get(text);
    return spec ? hbs.template(spec) : hbs.compile(text, COMPILE_OPTIONS);
  };
  // Registered compiled (lazily: `hbs.compile` parses on first call), so a partial compiles with
  // COMPILE_OPTIONS whether or not the template calling it was precompiled.
  for (const [name, text] of Object.entries({ ...templates.partials, ...dialectPartials })) {
    hbs.registerPartial(name, compile(partialText(text)));
  }
  const compiled = new Map<string, HandlebarsTemplateDelegate>();

  // How each parameter is written in this dialect (`$end_date`, `@end_date`), from its `param` partial.
  const paramPartial = compile(PARAM_TEMPLATE);

  return {
    dialect,
    templates,
    render(template, context) {
      let fn = compiled.get(template);
      if (!fn) {
        const text = templates.templates[template];
        if (text === undefined) throw new Error(`no SQL template "${template}"`);
        fn = compile(text);
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
  // Days before W of a reach given from E (src/sql/health.ts, historyExtent): max(fixed, reach − L)
  // as SQL over the window-length parameter, or the plain number when nothing reaches from E.
  hbs.registerHelper('days_before_window', (fixed: number, reach: number, lookback: unknown) =>
    reach > 0 ? `GREATEST(${fixed}, ${reach} - ${String(lookback)})` : String(fixed),
  );
}
