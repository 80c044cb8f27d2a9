/** Loads the registry the way every command does: shape, defaults, and filters that are expressions over the row. */
import { loadRegistry, type RegistryReadOptions } from '../config/load.js';
import type { Registry } from '../config/registry.js';
import { duckDbFilterParser } from '../warehouse/duckdb-filter.js';

export async function loadCheckedRegistry(path: string, options: RegistryReadOptions = {}): Promise<Registry> {
  const parser = await duckDbFilterParser();
  try {
    return await loadRegistry(path, parser.check, options);
  } finally {
    parser.close();
  }
}
