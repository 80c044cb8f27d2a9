/** The templates under sql/ are the one source of the SQL; dialects differ only in same-named partials. */
import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/registry.js';
import { renderHealthSql } from '../../src/sql/statements.js';
import { loadTemplateBundle } from '../../src/sql/load.js';
import { DIALECTS } from '../../src/sql/render.js';

const bundle = loadTemplateBundle();
const referencedPartials = (text: string) => [...text.matchAll(/\{\{#?>\s*([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

function registry(doc: unknown) {
  const result = parseRegistry(doc);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.registry;
}

describe('dialect partials', () => {
  it('exist under the same names in every dialect', () => {
    const [first, ...rest] = DIALECTS.map((d) => Object.keys(bundle.dialects[d]!).sort());
    for (const names of rest) expect(names).toEqual(first);
  });

  it('never shadow a shared partial', () => {
    for (const dialect of DIALECTS) {
      for (const name of Object.keys(bundle.dialects[dialect]!)) expect(bundle.partials).not.toHaveProperty(name);
    }
  });

  it('are all that templates call: every partial referenced exists', () => {
    const known = new Set([...Object.keys(bundle.partials), ...Object.keys(bundle.dialects.duckdb!)]);
    const texts = [...Object.values(bundle.templates), ...Object.values(bundle.partials), ...DIALECTS.flatMap((d) => Object.values(bundle.dialects[d]!))];
    const missing = texts.flatMap(referencedPartials).filter((name) => !known.has(name));
    expect(missing).toEqual([]);
  });
});

describe('the detection query', () => {
  const reg = registry({ dataset: 'nba_reference', processors: { a: {}, b: { processor_filter: "processor_name = 'bee'" } } });

  it.each(DIALECTS)('binds every runtime value as a parameter (%s)', (dialect) => {
    const sql = renderHealthSql(dialect, reg);
    const marker = dialect === 'duckdb' ? '$' : '@';
    for (const name of ['end_date', 'lookback_days', 'now', 'processors']) expect(sql).toContain(`${marker}${name}`);
    expect(sql).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
  });

  it('reads the standard table in the same branches however many processors have the default filter', () => {
    const scans = (count: number) =>
      renderHealthSql('duckdb', registry({ processors: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, {}])) })).match(
        /FROM "monitoring"\."processor_run_history"/g,
      )?.length;
    // One scan per part of the check (the window, and the last-success tiers before it), not per processor.
    expect(scans(50)).toBe(scans(1));
    expect(scans(50)).toBe(3);
  });

  it('quotes registry strings as literals in each dialect', () => {
    const quoted = registry({ processors: { a: { display_name: "O'Neal's \"stats\"\n" } } });
    // DuckDB inlines the registry as one JSON string literal (bench/README.md: planning cost).
    expect(renderHealthSql('duckdb', quoted)).toContain(String.raw`"display_name":"O''Neal''s \"stats\"\n"`);
    expect(renderHealthSql('bigquery', quoted)).toContain(`"O'Neal's \\"stats\\"\\n"`);
  });

  it('renders for a registry without processors', () => {
    for (const dialect of DIALECTS) expect(renderHealthSql(dialect, registry({ processors: {} }))).toContain('processor_config');
  });
});
