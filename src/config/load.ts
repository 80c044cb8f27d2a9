/**
 * Reads the registry file (a CommonJS `.js` module, as Dataform includes are, or `.json`) and
 * validates it. Every problem is reported at once; nothing runs on an invalid registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { extname, resolve } from 'node:path';
import { parse as parseJson, type ValueNode } from '@humanwhocodes/momoa';
import { configError, describeError } from '../errors.js';
import { defaultProcessorFilter, filterShapeProblem, parseRegistry, type ParseResult, type Registry } from './registry.js';

export const DEFAULT_REGISTRY_PATH = 'includes/processors.js';

/**
 * Checks filter expressions, all in one pass: for each, why it is not an allowed expression over
 * the row (or does not parse), or null.
 */
export type FilterParser = (filters: readonly string[]) => Promise<(string | null)[]>;

export async function loadRegistry(path: string, parseFilter?: FilterParser, options: RegistryReadOptions = {}): Promise<Registry> {
  const document = await readRegistryDocument(path, options);
  const result = parseRegistry(document);
  const problems = result.ok ? [] : [...result.problems];
  if (parseFilter) {
    // Checked even when other keys are wrong, so `pem config validate` reports everything at once.
    // A default filter is generated from a validated name: only the registry's own are parsed.
    const checked: { where: string; filter: string }[] = [];
    for (const p of result.ok ? result.registry.processors : result.processors) {
      for (const key of ['processor_filter', 'calendar_filter'] as const) {
        const filter = p[key];
        if (filter === null || filterShapeProblem(filter) !== null) continue;
        if (key === 'processor_filter' && filter === defaultProcessorFilter(p.name)) continue;
        checked.push({ where: `processors.${p.name}.${key}`, filter });
      }
    }
    const reasons = await parseFilter(checked.map((c) => c.filter));
    checked.forEach(({ where }, i) => {
      if (reasons[i]) problems.push(`${where}: ${reasons[i]}`);
    });
  }
  // One problem is one line (the house rule for bad input); several are a count and a list.
  if (problems.length === 1) throw configError(`invalid registry ${path}: ${problems[0]}`);
  if (problems.length > 1) throw configError(`invalid registry ${path}: ${problems.length} problems`, problems);
  const valid = result as Extract<ParseResult, { ok: true }>;
  for (const note of valid.notes) options.onNote?.(note);
  return valid.registry;
}

/**
 * A JSON registry's document. Beyond `JSON.parse`: a byte-order mark (editors on Windows write one)
 * is skipped; a syntax error says its line and column; and a key given twice in one object is an
 * error, where JSON.parse keeps the last silently (two merged registries lost a processor's route
 * or owners without a word).
 */
export function parseRegistryJson(raw: string, path: string): unknown {
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    // V8 says where as an offset ("… in JSON at position 32"): a person counts lines.
    const message = describeError(error).replace(/ at position (\d+)/, (_all, offset: string) => {
      const before = text.slice(0, Number(offset)).split('\n');
      return ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    });
    throw configError(`registry file ${path} is not valid JSON: ${message}`);
  }
  const duplicates = duplicateKeys(parseJson(text, { mode: 'json' }).body, []);
  if (duplicates.length === 1) throw configError(`invalid registry ${path}: ${duplicates[0]}`);
  if (duplicates.length > 1) throw configError(`invalid registry ${path}: ${duplicates.length} problems`, duplicates);
  return value;
}

/** `processors.a: given 2 times (line 3, column 5; line 9, column 5); …` for each key repeated in an object. */
function duplicateKeys(node: ValueNode, path: string[]): string[] {
  if (node.type === 'Array') return node.elements.flatMap((element, i) => duplicateKeys(element.value, [...path, String(i)]));
  if (node.type !== 'Object') return [];
  const problems: string[] = [];
  const places = new Map<string, string[]>();
  for (const member of node.members) {
    const key = member.name.type === 'String' ? member.name.value : member.name.name;
    const { line, column } = member.name.loc.start;
    places.set(key, [...(places.get(key) ?? []), `line ${line}, column ${column}`]);
  }
  for (const [key, at] of places) {
    if (at.length > 1) problems.push(`${[...path, key].join('.')}: given ${at.length} times (${at.join('; ')}); JSON keeps only the last, so give it once`);
  }
  for (const member of node.members) {
    const key = member.name.type === 'String' ? member.name.value : member.name.name;
    problems.push(...duplicateKeys(member.value, [...path, key]));
  }
  return problems;
}

/** How long a `.js` registry may take to load before it is given up on. */
export const REGISTRY_LOAD_TIMEOUT_MS = 10_000;

export interface RegistryReadOptions {
  /** Bound on loading a `.js` registry (default REGISTRY_LOAD_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Where a `.js` registry's own output goes (default stderr: stdout is the command's). */
  output?: Writable;
  /** The flag that named the file, for the hint when it does not exist (default `--config`). */
  flag?: string;
  /** What else the command can do without the file, added to that hint (`pem record`: `--table`). */
  otherwise?: string;
  /** Told each note of a valid registry (what it does that its author may not expect); default: dropped. */
  onNote?: (note: string) => void;
}

export async function readRegistryDocument(path: string, options: RegistryReadOptions = {}): Promise<unknown> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    const otherwise = options.otherwise ? `, or ${options.otherwise}` : '';
    throw configError(`registry file ${path} does not exist (pass ${options.flag ?? '--config'} PATH to a .js or .json registry${otherwise})`);
  }
  const extension = extname(absolute);
  if (extension === '.json') {
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      throw configError(`registry file ${path} cannot be read: ${describeError(error)}`);
    }
    return parseRegistryJson(text, path);
  }
  if (extension === '.js' || extension === '.cjs') return loadModuleIsolated(path, absolute, options);
  throw configError(`registry file ${path} must be a .js or .cjs (CommonJS) or .json file`);
}

/**
 * A `.js` registry is code, and runs in a worker thread so that nothing it does can break the
 * command: its console output goes to stderr (stdout may be the JSON document), `process.exit`
 * ends only the worker, a loop that never ends is stopped at the bound, and what it exports comes
 * back structured-cloned as plain data (a getter that throws, or a function, is a config error).
 * https://nodejs.org/docs/latest-v20.x/api/worker_threads.html#new-workerfilename-options
 */
function loadModuleIsolated(path: string, absolute: string, options: RegistryReadOptions): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? REGISTRY_LOAD_TIMEOUT_MS;
  const output = options.output ?? process.stderr;
  const fail = (why: string) => configError(`registry file ${path} cannot be read: ${why}`);
  return new Promise((done, reject) => {
    const worker = new Worker(REGISTRY_WORKER, {
      eval: true,
      workerData: { path: absolute },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    worker.stdout.on('data', (chunk: Buffer) => output.write(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => output.write(chunk.toString()));
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => settle(() => reject(fail(`it did not finish loading within ${timeoutMs} ms`))), timeoutMs);
    worker.on('message', (message: { document?: unknown; error?: string }) =>
      settle(() => ('error' in message ? reject(fail(message.error ?? 'unknown error')) : done(message.document))),
    );
    worker.on('error', (error) => settle(() => reject(fail(describeError(error)))));
    worker.on('exit', (code) => settle(() => reject(fail(`it ended the process (exit code ${code}) before exporting a registry`))));
  });
}

/** The worker: requires the registry and posts back its export, or why it could not. */
const REGISTRY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const firstLine = (error) => String(error && error.message !== undefined ? error.message : error).split('\\n')[0].trim() || 'unknown error';
(() => {
  // A package.json above the file saying "type": "module" makes it an ES module: module.exports is
  // then not its export. Node versions say so differently (require() refused, module undefined in
  // ES module scope, or its namespace given back, which cannot be posted): one message for all.
  const ES_MODULE = 'it is loaded as an ES module (a package.json above it says "type": "module"), where module.exports is not its export: name it .cjs, put a package.json saying {"type": "commonjs"} beside it, or use .json';
  let exported;
  try {
    exported = createRequire(workerData.path)(workerData.path);
  } catch (error) {
    const esm = error && (error.code === 'ERR_REQUIRE_ESM' || /in ES module scope/.test(String(error.message)));
    parentPort.postMessage({ error: esm ? ES_MODULE : firstLine(error) });
    return;
  }
  if (Object.prototype.toString.call(exported) === '[object Module]') {
    parentPort.postMessage({ error: ES_MODULE });
    return;
  }
  try {
    parentPort.postMessage({ document: exported });
  } catch (error) {
    parentPort.postMessage({ error: 'its export is not plain data (' + firstLine(error) + ')' });
  }
})();
`;
