/** `pem sql render`: prints the rendered SQL for review. */
import { Option, type Command } from 'commander';
import { renderCheckSql, renderHealthSql, renderSchemaSql } from '../sql/statements.js';
import { DIALECTS, type Dialect } from '../sql/render.js';
import { addExamples, configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';

const WHAT = ['health', 'check', 'schema'] as const;

export function registerSqlCommand(program: Command, context: CliContext): void {
  const sql = program.command('sql').description('inspect the SQL the monitor runs');
  addExamples(sql, [['pem sql render --dialect bigquery', 'the detection query as BigQuery runs it']]);
  const render = sql
    .command('render')
    .description('print rendered SQL: the detection query (health), the statement check sends (check), or the DDL (schema)')
    .addOption(new Option('--dialect <dialect>', 'SQL dialect').choices([...DIALECTS]).default('duckdb'))
    .addOption(new Option('--what <what>', 'which SQL').choices([...WHAT]).default('health'))
    .addOption(configOption());
  addExamples(render, [
    ['pem sql render', 'the detection query, DuckDB dialect'],
    ['pem sql render --dialect bigquery --what check', 'the statement pem check sends to BigQuery'],
    ['pem sql render --what schema > schema.sql', 'the DDL of the monitor\'s tables'],
  ]);
  render.action(async (flags: { dialect: Dialect; what: (typeof WHAT)[number]; config: string }) => {
      const registry = await loadCheckedRegistry(flags.config);
      const text =
        flags.what === 'health'
          ? renderHealthSql(flags.dialect, registry)
          : flags.what === 'check'
            ? renderCheckSql(flags.dialect, registry)
            : renderSchemaSql(flags.dialect, registry).join(';\n\n') + ';\n';
      context.stdout.write(text);
    });
}
