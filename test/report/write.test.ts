/**
 * `writeHtmlReport` (src/cli/report.ts) writes the page in pieces to a partial file renamed over
 * its target, so a run that fails half-way leaves the last page whole; and it writes what cannot
 * be replaced (a link, a FIFO) the way a plain write would have.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/cli/report.js';
import type { Registry } from '../../src/config/registry.js';
import { PemError } from '../../src/errors.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { syntheticResult } from './fixtures.js';

const registry = { timezone: 'America/New_York', processors: [] } as unknown as Registry;
const generatedAt = new Date('2026-01-01T12:00:00Z');
const page = (result = syntheticResult(3, 5)) => renderHtmlReport(result, { timezone: registry.timezone, generatedAt });

describe('writeHtmlReport', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pem-write-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const partials = () => readdirSync(dir).filter((name) => name.endsWith('.partial'));

  it('replaces a file with the whole page, keeping its permissions', () => {
    const target = join(dir, 'report.html');
    writeFileSync(target, 'previous');
    chmodSync(target, 0o640);
    writeHtmlReport(target, syntheticResult(3, 5), registry, generatedAt);
    expect(readFileSync(target, 'utf8')).toBe(page());
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(partials()).toEqual([]);
  });

  it('leaves the previous page whole, and no partial file, when making the page fails half-way', () => {
    const target = join(dir, 'report.html');
    writeFileSync(target, 'previous');
    const result = syntheticResult(4, 5);
    let reads = 0;
    const last = result.report.processors[3]!;
    Object.defineProperty(last, 'days', {
      get: () => {
        // The rows and the markup read it first; the failure comes once the page is being written.
        if (++reads > 2) throw new Error('the disk of the day details is gone');
        return [];
      },
    });
    let thrown: unknown;
    try {
      writeHtmlReport(target, result, registry, generatedAt);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PemError);
    expect((thrown as PemError).message).toBe(`cannot write the HTML report to ${target}: the disk of the day details is gone`);
    expect(reads).toBe(3);
    expect(readFileSync(target, 'utf8')).toBe('previous');
    expect(partials()).toEqual([]);
  });

  it('writes through a symbolic link to the file it names, and keeps the link', () => {
    const real = join(dir, 'pages', 'real.html');
    mkdirSync(join(dir, 'pages'));
    writeFileSync(real, 'previous');
    const link = join(dir, 'latest.html');
    symlinkSync(real, link);
    writeHtmlReport(link, syntheticResult(3, 5), registry, generatedAt);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe(page());
    expect(readdirSync(join(dir, 'pages'))).toEqual(['real.html']);
  });

  it('writes into a FIFO as it is, without replacing it', async () => {
    const fifo = join(dir, 'report.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let received = '';
    reader.stdout.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const closed = new Promise((done) => reader.on('close', done));
    writeHtmlReport(fifo, syntheticResult(3, 5), registry, generatedAt);
    await closed;
    expect(received).toBe(page());
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a folder before making the page, in one line', () => {
    const target = join(dir, 'a-folder');
    mkdirSync(target);
    expect(() => writeHtmlReport(target, syntheticResult(3, 5), registry, generatedAt)).toThrow(
      `cannot write the HTML report to ${target}: it is a folder; name a file, for example report.html`,
    );
    expect(readdirSync(target)).toEqual([]);
    expect(partials()).toEqual([]);
    expect(existsSync(join(dir, 'a-folder.html'))).toBe(false);
  });
});
