/**
 * A BigQuery REST stand-in whose answers are ZetaSQL's: each statement is analyzed first (as
 * BigQuery would reject it), then evaluated on ZetaSQL's reference evaluator over the fixture,
 * through the table function and config table that Dataform deploys. INSERTs are applied, so
 * later reads see them. Used by `pem check --engine bigquery` tests in and out of a container.
 */
import type { Registry } from '../../../src/config/registry.js';
import { dataformProject, HEALTH_AT_ARGUMENTS } from '../../../src/dataform/project.js';
import { loadTemplateBundle } from '../../../src/sql/load.js';
import { renderSchemaSql } from '../../../src/sql/statements.js';
import type { CatalogSpec, ZetaSql } from '../../support/zetasql.js';
import { deployedFixture } from './deployed.js';
import type { Fixture } from './fixtures.js';
import { BigQueryRestError, startBigQueryStandIn, type QueryAnswer, type ReceivedQuery, type StandIn } from './rest-standin.js';

/** The Dataform project's SQL, over the templates on disk (includes/pem_sql.js bundles the same). */
const dataform = dataformProject(loadTemplateBundle());

export async function zetaBackedStandIn(
  zeta: ZetaSql,
  fixture: Fixture,
  registry: Registry,
): Promise<{
  standIn: StandIn;
  analyzed: { sql: string; kind: string }[];
  catalog: CatalogSpec;
  refusedTables: Map<string, BigQueryRestError>;
  /** The tables' rows, INSERTs applied (the monitor's alert state among them). */
  content: Record<string, Record<string, unknown>[]>;
}> {
  // processor_config and processor_last_success as Dataform deploys them (the function reads the latter).
  const { catalog, content, lastSuccessName } = await deployedFixture(zeta, fixture, registry);
  const withFunction: CatalogSpec = {
    ...catalog,
    tableFunctions: [
      {
        name: `${registry.dataset}.processor_health_daily_at`,
        args: HEALTH_AT_ARGUMENTS.map((a) => ({ name: a.name, type: a.type })),
        body: dataform.healthAtBody(registry, (name) => name, lastSuccessName),
      },
    ],
  };
  // The monitor's own tables (alert state, silences), as `pem schema apply` creates them.
  for (const ddl of renderSchemaSql('bigquery', registry).slice(2).filter((s) => !s.startsWith('ALTER'))) {
    const created = await zeta.analyze(ddl, { catalog: withFunction });
    const name = /TABLE IF NOT EXISTS `([^`]+)`/.exec(ddl)?.[1];
    if (!created.ok || !name) throw new Error(`cannot create ${name}: ${created.ok ? 'no name' : created.error}`);
    withFunction.tables[name] = Object.fromEntries(created.columns.map((c) => [c.name, c.type]));
    content[name] = [];
  }
  const analyzed: { sql: string; kind: string }[] = [];
  // tables.get answers for these with the error (a test's refusal), queries on them still run.
  const refusedTables = new Map<string, BigQueryRestError>();
  const answer = async (query: ReceivedQuery): Promise<QueryAnswer> => {
    const declared = Object.fromEntries(query.params.map((p) => [p.name, p.type]));
    const analysis = await zeta.analyze(query.sql, { catalog: withFunction, params: declared });
    if (!analysis.ok) throw new BigQueryRestError(analysis.error.split('\n')[0]!);
    analyzed.push({ sql: query.sql, kind: analysis.kind });
    const params = Object.fromEntries(
      query.params.map((p) => [p.name, [p.type, p.type === 'INT64' ? Number(p.value) : p.value] as [string, unknown]]),
    );
    if (analysis.kind === 'insert_stmt') {
      // Append-only tables: apply the INSERT, so later reads see it (as BigQuery's would).
      const { table, inserted } = await zeta.modify(query.sql, { catalog: withFunction, content, params });
      content[table] = [...(content[table] ?? []), ...inserted];
      return { columns: [], rows: [] };
    }
    if (analysis.kind !== 'query_stmt') return { columns: [], rows: [] };
    try {
      const result = await zeta.evaluate(query.sql, { catalog: withFunction, content, params });
      return { columns: result.columns, rows: result.rows };
    } catch (error) {
      // A query that fails while running (ERROR(), a bad cast) is BigQuery's HTTP 400 invalidQuery.
      throw new BigQueryRestError(String((error as Error).message).replace(/^ZetaSQL evaluation failed: /, ''));
    }
  };
  // tables.get answers with the catalog's columns, as BigQuery answers with the table's schema.
  const tables = (dataset: string, table: string) => {
    const refusal = refusedTables.get(`${dataset}.${table}`);
    if (refusal) throw refusal;
    const columns = withFunction.tables[`${dataset}.${table}`];
    return columns ? Object.entries(columns).map(([name, type]) => ({ name, type: String(type) })) : null;
  };
  return { standIn: await startBigQueryStandIn({ answer, tables }), analyzed, catalog: withFunction, refusedTables, content };
}
