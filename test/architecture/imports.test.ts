/**
 * The shape of `src/`, checked on every run: imports flow one way (config → sql → warehouse →
 * check / record → alerts / report → cli), no module imports itself back through others, and the
 * things that must have one home have one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const files = sourceFiles(SRC);
const name = (file: string) => relative(SRC, file).split('\\').join('/');
const text = new Map(files.map((file) => [name(file), readFileSync(file, 'utf8')]));

/** Relative imports of each module, type-only and dynamic ones included: `src/a/b.ts` → ['c/d.ts', …]. */
const graph = new Map(
  files.map((file) => {
    const specifiers = [...text.get(name(file))!.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
    return [name(file), specifiers.map((s) => name(normalize(join(dirname(file), s.replace(/\.js$/, '.ts')))))];
  }),
);

/** Every cycle's members, by Tarjan's strongly connected components. */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The layer of each part of `src/`: a module may import its own layer's or lower ones only. */
const LAYER: Record<string, number> = {
  'errors.ts': 0,
  'log.ts': 0,
  'printable.ts': 0,
  'secrets.ts': 0,
  'suggest.ts': 0,
  'calendar.ts': 0,
  'local-time.ts': 0,
  config: 1,
  sql: 2,
  warehouse: 3,
  check: 4,
  record: 4,
  alerts: 5,
  report: 5,
  demo: 5,
  backtest: 5,
  cli: 6,
  dataform: 6,
  'index.ts': 7,
};
const layerOf = (module: string) => LAYER[module.split('/')[0]!];

describe('imports in src/', () => {
  it('resolve to modules that exist', () => {
    const missing = [...graph].flatMap(([from, to]) => to.filter((t) => !text.has(t)).map((t) => `${from} → ${t}`));
    expect(missing).toEqual([]);
  });

  it('form no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('flow one way: config → sql → warehouse → check / record → alerts / report → cli', () => {
    expect(files.map(name).filter((m) => layerOf(m) === undefined)).toEqual([]);
    const upward = [...graph].flatMap(([from, to]) => to.filter((t) => layerOf(t)! > layerOf(from)!).map((t) => `${from} → ${t}`));
    expect(upward).toEqual([]);
  });
});

describe('one home', () => {
  const holding = (pattern: RegExp) => [...text].filter(([, source]) => pattern.test(source)).map(([module]) => module);

  it('constructs a BigQuery client in one module only', () => {
    expect(holding(/new BigQuery\s*\(/)).toEqual(['warehouse/bigquery-client.ts']);
  });

  it('reads the environment in one module only', () => {
    expect(holding(/process\.env/)).toEqual(['config/env.ts']);
    expect(holding(/\benv(?:\.[A-Z][A-Z0-9_]*\b|\[)/)).toEqual(['config/env.ts']);
  });

  it('keeps file reads out of the Dataform project: its templates arrive explicitly (includes/pem_sql.js)', () => {
    const reached = new Set<string>();
    const visit = (module: string) => {
      if (reached.has(module)) return;
      reached.add(module);
      for (const next of graph.get(module) ?? []) visit(next);
    };
    visit('dataform/project.ts');
    expect(reached.has('sql/render.ts')).toBe(true);
    const readingFiles = [...reached].filter((m) => /from ['"](?:node:)?(?:fs|fs\/promises|url)['"]|\bimport\.meta\b/.test(text.get(m)!));
    expect(readingFiles).toEqual([]);
  });

  it('compares engines and dialects only where the warehouse is opened and in the CLI', () => {
    const comparing = holding(/\b(?:dialect|engine)\s*[!=]==|[!=]==\s*['"](?:duckdb|bigquery)['"]/);
    expect(comparing.filter((m) => m !== 'warehouse/open.ts' && !m.startsWith('cli/'))).toEqual([]);
  });
});
