/**
 * Reads the registry file (a CommonJS `.js` module, as Dataform includes are, or `.json`) and
 * validates it. Every problem is reported at once; nothing runs on an invalid registry.
 */
import { closeSync, constants, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { extname, resolve } from 'node:path';
import { configError, describeError } from '../errors.js';
import { defaultProcessorFilter, filterShapeProblem, parseRegistry, type ParseResult, type Registry } from './registry.js';

export { DEFAULT_REGISTRY_PATH } from './names.js';

/**
 * Checks filter expressions, all in one pass: for each, why it is not an allowed expression over
 * the row (or does not parse), or null.
 */
export type FilterParser = (filters: readonly string[]) => Promise<(string | null)[]>;

export async function loadRegistry(path: string, parseFilter?: FilterParser, options: RegistryReadOptions = {}): Promise<Registry> {
  const { document, problems: readProblems } = await readRegistryDocument(path, options);
  const result = parseRegistry(document);
  // A key given twice is reported with the rest (the document keeps its last value), all at once.
  const problems = [...readProblems, ...(result.ok ? [] : result.problems)];
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
 * is skipped; a syntax error says its line and column; and a key given twice in one object is a
 * problem, where JSON.parse keeps the last silently (two merged registries lost a processor's route
 * or owners without a word), reported with the document's other problems.
 */
export async function parseRegistryJson(raw: string, path: string): Promise<RegistryDocument> {
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    const said = describeError(error);
    const place = (await syntaxErrorPlace(text)) || positionPlace(text, said);
    throw configError(`registry file ${path} is not valid JSON${place}: ${said.replace(/ at position \d+.*$/, '').replace(/^(Unexpected token '.+?'), (?:"|\.\.\.").*$/s, '$1')}`);
  }
  // Counting is cheap; finding where is not (at 10,000 processors): only a document with fewer
  // keys than its text spells has a key given twice.
  const duplicates = countKeys(value) === countKeyTokens(text) ? [] : duplicateKeys(text);
  return { document: value, problems: duplicates };
}

/**
 * ` at line L, column C` from JSON.parse's own `at position N`, for what momoa lets pass (a tab
 * inside a string, which strict JSON refuses); '' without one.
 */
function positionPlace(text: string, message: string): string {
  const position = / at position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

/**
 * Where invalid JSON goes wrong, as ` at line L, column C` (V8's own message gives an offset, or
 * nothing at all for an unexpected token). Read by momoa, loaded only once the document is known bad.
 */
async function syntaxErrorPlace(text: string): Promise<string> {
  const { parse } = await import('@humanwhocodes/momoa');
  try {
    parse(text, { mode: 'json' });
  } catch (error) {
    const at = error as { line?: unknown; column?: unknown };
    if (typeof at.line === 'number' && typeof at.column === 'number') return ` at line ${at.line}, column ${at.column}`;
  }
  return '';
}

/** The keys of every object in a parsed JSON value. Iterative: a registry may nest deeper than the call stack. */
function countKeys(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === null || typeof next !== 'object') continue;
    if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else {
      for (const key in next) {
        count++;
        pending.push((next as Record<string, unknown>)[key]);
      }
    }
  }
  return count;
}

/** The index of the `"` closing the JSON string whose opening `"` is at `open` (escapes skipped). */
function closingQuote(text: string, open: number): number {
  let i = open + 1;
  for (; text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
  return i;
}

/** The object keys spelled in valid JSON `text`: the strings before a `:`. */
function countKeyTokens(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 58) count++;
    else if (ch === 34) i = closingQuote(text, i);
  }
  return count;
}

/**
 * `processors.a: given 2 times (line 3, column 5; line 4, column 5); …` for each key repeated in
 * one object of `text`, valid JSON. One pass with an explicit stack: no recursion (a registry may
 * nest deeper than the call stack), and no syntax tree (a 10,000-processor registry is megabytes).
 */
export function duplicateKeys(text: string): string[] {
  interface Container {
    /** For an object: the offset of each key's first spelling; for an array: null. */
    keys: Map<string, number> | null;
    /** Keys seen again, with every offset; null until there is one (most objects never need it). */
    repeated: Map<string, number[]> | null;
    /** The key or index the current value sits at. */
    at: string;
    expectKey: boolean;
    index: number;
  }
  const stack: Container[] = [];
  const problems: { path: string[]; text: string }[] = [];
  const place = (offset: number) => {
    const before = text.slice(0, offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    return `line ${before.split('\n').length}, column ${offset - lineStart + 1}`;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (ch === 123 || ch === 91) {
      // { or [: a new container, at the key or index of its parent.
      if (top && top.keys === null) top.at = String(top.index);
      stack.push({ keys: ch === 123 ? new Map() : null, repeated: null, at: '', expectKey: ch === 123, index: 0 });
    } else if (ch === 125 || ch === 93) {
      // } or ]: the container ends (its parent's path is still on the stack while it is reported).
      for (const [key, offsets] of top?.repeated ?? []) {
        const path = [...stack.slice(0, -1).map((c) => c.at), key];
        problems.push({ path, text: `${path.join('.')}: given ${offsets.length} times (${offsets.map(place).join('; ')}); JSON keeps only the last, so give it once` });
      }
      stack.pop();
    } else if (ch === 44 && top) {
      if (top.keys !== null) top.expectKey = true;
      else top.index++;
    } else if (ch === 34) {
      const start = i;
      i = closingQuote(text, start);
      if (top && top.keys !== null && top.expectKey) {
        const spelled = text.slice(start + 1, i);
        const key = spelled.includes('\\') ? (JSON.parse(`"${spelled}"`) as string) : spelled;
        const first = top.keys.get(key);
        if (first === undefined) top.keys.set(key, start);
        else {
          top.repeated ??= new Map();
          top.repeated.set(key, [...(top.repeated.get(key) ?? [first]), start]);
        }
        top.at = key;
        top.expectKey = false;
      }
    }
  }
  // Inner objects end first: in path order, an object's own repeats come before those within it.
  return problems.sort((a, b) => a.path.join('\u0000').localeCompare(b.path.join('\u0000'))).map((p) => p.text);
}

/** How long a `.js` registry may take to load before it is given up on. */
export const REGISTRY_LOAD_TIMEOUT_MS = 10_000;

export interface RegistryReadOptions {
  /** Bound on loading a `.js` registry, or on reading one from a named pipe (default REGISTRY_LOAD_TIMEOUT_MS). */
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

/** A registry file's document, and what is wrong with its text that the document no longer shows (a JSON key given twice). */
export interface RegistryDocument {
  document: unknown;
  problems: string[];
}

export async function readRegistryDocument(path: string, options: RegistryReadOptions = {}): Promise<RegistryDocument> {
  // An empty variable expanded (--config "$REGISTRY"): it would read as the current folder.
  if (path.trim() === '') throw configError(`${options.flag ?? '--config'} is empty: pass the registry file, for example ${options.flag ?? '--config'} includes/processors.js`);
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    const otherwise = options.otherwise ? `, or ${options.otherwise}` : '';
    throw configError(`registry file ${path} does not exist (pass ${options.flag ?? '--config'} PATH to a .js or .json registry${otherwise})`);
  }
  const extension = extname(absolute);
  if (extension === '.json') {
    let text: string;
    try {
      text = statSync(absolute).isFIFO() ? await readNamedPipe(absolute, options.timeoutMs ?? REGISTRY_LOAD_TIMEOUT_MS) : readFileSync(absolute, 'utf8');
    } catch (error) {
      throw configError(`registry file ${path} cannot be read: ${describeError(error)}`);
    }
    return parseRegistryJson(text, path);
  }
  if (extension === '.js' || extension === '.cjs') return { document: await loadModuleIsolated(path, absolute, options), problems: [] };
  throw configError(`registry file ${path} must be a .js or .cjs (CommonJS) or .json file`);
}

/**
 * A named pipe's text (a registry piped in: `mkfifo r.json`), read without ever blocking: a pipe no
 * one writes blocked the main thread in `open` or `read`, where SIGTERM and Ctrl-C were never
 * handled, and a read in libuv's pool blocked the exit instead (it waits for the pool). Opened
 * non-blocking, it reads end of file until a writer comes, and then until the writer closes it.
 */
async function readNamedPipe(absolute: string, timeoutMs: number): Promise<string> {
  const fd = openSync(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const buffer = Buffer.alloc(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let read = -1;
      try {
        read = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        // Nothing to read yet from a writer that has it open.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      if (read === 0 && chunks.length > 0) return Buffer.concat(chunks).toString('utf8');
      if (read > 0) {
        chunks.push(Buffer.from(buffer.subarray(0, read)));
        bytes += read;
        // A writer that never stops (`cat /dev/zero > r.json`) would fill the memory first.
        if (bytes > MAX_PIPED_REGISTRY_BYTES) throw new Error(`more than ${MAX_PIPED_REGISTRY_BYTES / 1024 / 1024} MiB came through the named pipe, more than any registry`);
      }
      // Bounded whether or not anything comes: a writer that trickles forever is stopped too.
      if (Date.now() > deadline) {
        throw new Error(
          chunks.length === 0
            ? `nothing came through the named pipe within ${timeoutMs} ms`
            : `the named pipe's writer did not finish within ${timeoutMs} ms (it sent part of the registry and kept the pipe open)`,
        );
      }
      if (read <= 0) await sleep(20);
    }
  } finally {
    closeSync(fd);
  }
}

/** The most a registry read from a named pipe may hold: 10,000 processors with every key set are about 15 MiB. */
const MAX_PIPED_REGISTRY_BYTES = 64 * 1024 * 1024;

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
    // Ended at its answer, whatever it left running: a timer, or a call blocked in the system
    // (which no wait could bound). Its output has come through first (REGISTRY_WORKER's `answer`).
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
// The answer ends the worker at once (loadModuleIsolated): what the registry printed is passed on
// to pem first, or its later lines were lost (4 runs in 10). An export that is not plain data
// cannot be posted, and is answered as such.
const answer = (message) => {
  let pending = 2;
  const post = () => {
    if (--pending > 0) return;
    try {
      parentPort.postMessage(message);
    } catch (error) {
      parentPort.postMessage({ error: 'its export is not plain data (' + firstLine(error) + ')' });
    }
  };
  process.stdout.write('', post);
  process.stderr.write('', post);
};
(() => {
  // A package.json above the file saying "type": "module" (or, in Node 20.19 and later, import or
  // export in its text) makes it an ES module: module.exports is
  // then not its export. Node versions say so differently (require() refused, module undefined in
  // ES module scope, or its namespace given back, which cannot be posted): one message for all.
  const ES_MODULE = 'it is loaded as an ES module (it uses import or export, or a package.json above it says "type": "module"), where module.exports is not its export: name it .cjs or put a package.json saying {"type": "commonjs"} beside it (and export with module.exports = {…}, not export), or use .json';
  let exported;
  try {
    exported = createRequire(workerData.path)(workerData.path);
  } catch (error) {
    const esm = error && (error.code === 'ERR_REQUIRE_ESM' || /in ES module scope/.test(String(error.message)));
    // A syntax error's message has no position; its stack starts with "<file>:<line>" (JSON says where, so should this).
    const at = error instanceof SyntaxError && typeof error.stack === 'string' && error.stack.startsWith(workerData.path + ':')
      ? /^:(\\d+)/.exec(error.stack.slice(workerData.path.length)) : null;
    answer({ error: esm ? ES_MODULE : firstLine(error) + (at ? ' (at line ' + at[1] + ')' : '') });
    return;
  }
  if (Object.prototype.toString.call(exported) === '[object Module]') {
    answer({ error: ES_MODULE });
    return;
  }
  answer({ document: exported });
})();
`;
