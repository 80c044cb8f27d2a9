/** `pem config validate`: every registry problem at once, exit 2 when there is any. */
import type { Command } from 'commander';
import { configOption, type CliContext } from './context.js';
import { loadCheckedRegistry } from './registry.js';

export function registerConfigCommand(program: Command, context: CliContext): void {
  const config = program.command('config').description('work with the processor registry');
  config
    .command('validate')
    .description('validate the registry: every problem is printed, exit 2 if any')
    .addOption(configOption())
    .action(async (flags: { config: string }) => {
      const registry = await loadCheckedRegistry(flags.config);
      const enabled = registry.processors.filter((p) => p.enabled).length;
      context.stdout.write(
        `${flags.config}: valid, ${registry.processors.length} processor${registry.processors.length === 1 ? '' : 's'} ` +
          `(${enabled} enabled), dataset ${registry.dataset}, time zone ${registry.timezone}\n`,
      );
    });
}
