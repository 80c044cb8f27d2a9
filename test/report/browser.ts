/**
 * Headless Chromium for the report tests: Debian's `chromium` driven by playwright-core (never a
 * downloaded browser). In CI (`CI` set) a missing browser fails the tests with the install line:
 * `.ci/run` installs it, so there it is a broken environment. On a developer's machine without
 * it the browser tests are skipped with that same line, so `npm install && npm test` works anywhere.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PEM_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_MISSING = `headless Chromium not found at ${CHROMIUM_PATH}: the HTML report tests need Debian's chromium ` +
  `(apt-get install -y chromium; .ci/run installs it) or PEM_TEST_CHROMIUM=<path to a chromium binary>`;

/** Skip the browser tests only outside CI, and only when the browser is absent. */
export const SKIP_BROWSER_TESTS = !existsSync(CHROMIUM_PATH) && !process.env.CI;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh profile each time, removed on close. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(CHROMIUM_MISSING);
  }
  const profile = mkdtempSync(join(tmpdir(), 'pem-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 800 },
    });
    return {
      context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
