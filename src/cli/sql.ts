/** `pem sql render`: prints the rendered SQL for review. */
import { Option, type Command } from 'commander';
import { renderCheckSql, renderHealthSql, renderSchemaSql } from '../sql/statements.js';
import { DIALECTS, type Dialect } from '../sql/render.js';
import { configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';

const WHAT = ['health', 'check', 'schema'] as const;

export function registerSqlCommand(program: Command, context: CliContext): void {
  const sql = program.command('sql').description('inspect the SQL the monitor runs');
  sql
    .command('render')
    .description('print rendered SQL: the detection query (health), the statement check sends (check), or the DDL (schema)')
    .addOption(new Option('--dialect <dialect>', 'SQL dialect').choices([...DIALECTS]).default('duckdb'))
    .addOption(new Option('--what <what>', 'which SQL').choices([...WHAT]).default('health'))
    .addOption(configOption())
    .action(async (flags: { dialect: Dialect; what: (typeof WHAT)[number]; config: string }) => {
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
