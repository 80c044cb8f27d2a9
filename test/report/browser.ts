/**
 * Headless Chromium for the report tests: Debian's `chromium` driven by playwright-core (never a
 * downloaded browser). In CI (`CI` set) a missing browser fails the tests with the install line:
 * `.ci/run` installs it, so there it is a broken environment. On a developer's machine without
 * it the browser tests are skipped with that same line, so `npm install && npm test` works anywhere.
 */
import { existsSync } from 'node:fs';
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

/** A desktop screen, as the issue judges it, and a phone (touch, no hover). */
export const DESKTOP = { viewport: { width: 1440, height: 900 } } as const;
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 } as const;

export interface Browser {
  /** A desktop context (1440×900). */
  context: BrowserContext;
  /** A fresh phone-sized touch context; closed with the browser. */
  phone(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Fresh, throwaway profiles (playwright's own temporary ones), removed on close. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(CHROMIUM_MISSING);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
  try {
    const context = await browser.newContext(DESKTOP);
    return {
      context,
      phone: () => browser.newContext(PHONE),
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
