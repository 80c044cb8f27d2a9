/**
 * Reads the repository's Dockerfile and .dockerignore the way Docker does, far enough to test
 * them without a Docker engine: stages, instructions (with `\` continuations and ARG
 * defaults resolved in FROM), and the .dockerignore allow/deny rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface Instruction {
  keyword: string;
  /** The arguments as written (continuations joined). */
  args: string;
}

export interface Stage {
  base: string;
  name: string | null;
  instructions: Instruction[];
}

export function readDockerfile(path = join(REPO_ROOT, 'Dockerfile')): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comments inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const text of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(text);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2] ?? '';
    if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const base = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs.get((a ?? b)!) ?? '');
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? (name ?? null) : null, instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (!current) {
      if (keyword === 'ARG') {
        const [key, value = ''] = args.split('=');
        globalArgs.set(key!.trim(), value.trim());
      }
      continue;
    }
    current.instructions.push({ keyword, args });
  }
  return stages;
}

export function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

/** The exec-form JSON array of ENTRYPOINT/CMD, or null for the shell form. */
export function execForm(args: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? (parsed as string[]) : null;
  } catch {
    return null;
  }
}

export interface Copy {
  from: string | null;
  sources: string[];
  destination: string;
}

export function parseCopy(args: string): Copy {
  const words = args.split(/\s+/).filter(Boolean);
  let from: string | null = null;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const destination = words.pop() ?? '';
  return { from, sources: words, destination };
}

/**
 * Whether a path of the build context reaches the builder, by Docker's rules: patterns are
 * matched in order against the path and each of its parent directories, the last match wins,
 * `!` re-includes. https://docs.docker.com/build/concepts/context/#dockerignore-files
 */
export function dockerignoreAllows(path: string, patterns: string[]): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let included = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = globToRegExp(pattern);
    if (candidates.some((candidate) => regex.test(candidate))) included = negated;
  }
  return included;
}

export function readDockerignore(path = join(REPO_ROOT, '.dockerignore')): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (char === '*' && pattern[index + 1] === '*') {
      out += '.*';
      index++;
      if (pattern[index + 1] === '/') index++;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
