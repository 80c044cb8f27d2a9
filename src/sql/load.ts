/**
 * The runner's templates: `sql/` read from disk once per process, and the shared renderer of each
 * dialect over them. Dataform cannot read files; it gets the same templates from
 * includes/pem_sql.js instead (scripts/bundle-sql.mjs), through the pure `render.ts`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqlRenderer, templateBundle, type Dialect, type SqlRenderer, type TemplateBundle } from './render.js';

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

const sharedRenderers = new Map<Dialect, SqlRenderer>();

/** The renderer of `sql/` for a dialect, built once per process (templates compile on first use). */
export function sqlRenderer(dialect: Dialect): SqlRenderer {
  let renderer = sharedRenderers.get(dialect);
  if (!renderer) sharedRenderers.set(dialect, (renderer = createSqlRenderer(dialect, loadTemplateBundle())));
  return renderer;
}

/** A renderer given as itself, or by its dialect's name (the shared one). */
export function rendererFor(renderer: Dialect | SqlRenderer): SqlRenderer {
  return typeof renderer === 'object' ? renderer : sqlRenderer(renderer);
}
