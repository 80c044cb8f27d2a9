/**
 * Reads the registry file (a CommonJS `.js` module, as Dataform includes are, or `.json`) and
 * validates it. Every problem is reported at once; nothing runs on an invalid registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { configError, describeError } from '../errors.js';
import { filterShapeProblem, parseRegistry, type Registry } from './registry.js';

export const DEFAULT_REGISTRY_PATH = 'includes/processors.js';

/** Checks that a filter expression parses; returns the parser's complaint or null. */
export type FilterParser = (filter: string) => Promise<string | null>;

export async function loadRegistry(path: string, parseFilter?: FilterParser): Promise<Registry> {
  const document = readRegistryDocument(path);
  const result = parseRegistry(document);
  const problems = result.ok ? [] : [...result.problems];
  if (parseFilter) {
    // Parsed even when other keys are wrong, so `pem config validate` reports everything at once.
    for (const p of result.ok ? result.registry.processors : result.processors) {
      for (const key of ['processor_filter', 'calendar_filter'] as const) {
        const filter = p[key];
        if (filter === null || filterShapeProblem(filter) !== null) continue;
        const complaint = await parseFilter(filter);
        if (complaint) problems.push(`processors.${p.name}.${key}: does not parse as a SQL expression (${complaint})`);
      }
    }
  }
  if (problems.length > 0) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    throw configError(`invalid registry ${path}: ${problems.length} ${noun}`, problems);
  }
  return (result as { ok: true; registry: Registry }).registry;
}

export function readRegistryDocument(path: string): unknown {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw configError(`registry file ${path} does not exist (pass --config PATH to a .js or .json registry)`);
  const extension = extname(absolute);
  try {
    if (extension === '.json') return JSON.parse(readFileSync(absolute, 'utf8')) as unknown;
    if (extension === '.js' || extension === '.cjs') {
      const require = createRequire(import.meta.url);
      delete require.cache[absolute];
      return require(absolute) as unknown;
    }
  } catch (error) {
    throw configError(`registry file ${path} cannot be read: ${describeError(error)}`);
  }
  throw configError(`registry file ${path} must be a .js (CommonJS) or .json file`);
}
