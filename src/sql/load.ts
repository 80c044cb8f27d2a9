/**
 * The runner's templates: `sql/` read from disk once per process, and the shared renderer of each
 * dialect over them, using the templates the build precompiled (dist/sql/precompiled-templates.cjs,
 * scripts/precompile-sql.mjs) where their text is still the file's. Dataform cannot read files; it
 * gets the same templates from includes/pem_sql.js instead (scripts/bundle-sql.mjs), through the
 * pure `render.ts`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  COMPILE_OPTIONS,
  createSqlRenderer,
  templateBundle,
  type Dialect,
  type PrecompiledTemplates,
  type SqlRenderer,
  type TemplateBundle,
} from './render.js';

/** `sql/` beside `src/` and `dist/` (both are two levels below the package root). */
export const SQL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

/** Every `.hbs` file under `sqlDir`, by its path relative to it (`partials/spine.hbs`). */
function readTemplateFiles(sqlDir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(sqlDir, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.hbs'))
      .map((path) => [path.split(sep).join('/'), readFileSync(join(sqlDir, path), 'utf8')]),
  );
}

let cachedBundle: TemplateBundle | undefined;

/** The templates of `sqlDir` (default: the package's `sql/`, read once per process). */
export function loadTemplateBundle(sqlDir: string = SQL_DIR): TemplateBundle {
  if (sqlDir === SQL_DIR && cachedBundle) return cachedBundle;
  const bundle = templateBundle(readTemplateFiles(sqlDir));
  if (sqlDir === SQL_DIR) cachedBundle = bundle;
  return bundle;
}

/** Where the build writes the precompiled templates: beside this module in dist/sql/ (none in src/sql/). */
export const PRECOMPILED_FILE = join(dirname(fileURLToPath(import.meta.url)), 'precompiled-templates.cjs');

/** What scripts/precompile-sql.mjs writes: `[text, spec]` pairs and how they were compiled. */
interface PrecompiledModule {
  options: unknown;
  templates: [string, TemplateSpecification][];
}

/**
 * The precompiled templates in `file`, or none when there is no such file (src/ through tsx).
 * Compiled with other options than the renderer's, they would render other SQL: that fails
 * loudly. So does a spec of another Handlebars revision (`Handlebars.template` checks it).
 */
export function readPrecompiledTemplates(file: string = PRECOMPILED_FILE): PrecompiledTemplates | undefined {
  if (!existsSync(file)) return undefined;
  const loaded = createRequire(import.meta.url)(file) as PrecompiledModule;
  if (JSON.stringify(loaded.options) !== JSON.stringify(COMPILE_OPTIONS)) {
    throw new Error(`${file} was compiled with options ${JSON.stringify(loaded.options)}, not ${JSON.stringify(COMPILE_OPTIONS)}: run \`npm run build\``);
  }
  return new Map(loaded.templates);
}

const sharedRenderers = new Map<Dialect, SqlRenderer>();
let sharedPrecompiled: PrecompiledTemplates | undefined | null = null;

/**
 * The renderer of `sql/` for a dialect, built once per process: templates the build precompiled
 * are used as they are, any other compiles on first use.
 */
export function sqlRenderer(dialect: Dialect): SqlRenderer {
  let renderer = sharedRenderers.get(dialect);
  if (!renderer) {
    if (sharedPrecompiled === null) sharedPrecompiled = readPrecompiledTemplates();
    sharedRenderers.set(dialect, (renderer = createSqlRenderer(dialect, loadTemplateBundle(), sharedPrecompiled)));
  }
  return renderer;
}

/** A renderer given as itself, or by its dialect's name (the shared one). */
export function rendererFor(renderer: Dialect | SqlRenderer): SqlRenderer {
  return typeof renderer === 'object' ? renderer : sqlRenderer(renderer);
}
