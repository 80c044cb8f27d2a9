import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byUrgency } from '../../src/check/terminal.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { STATUS_STYLES, type DisplayStatus } from '../../src/report/statuses.js';
import { runCli } from '../support/cli.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { CHROMIUM_MISSING, SKIP_BROWSER_TESTS, launchChromium, type Browser } from './browser.js';
import { STATUS_REGISTRY, STATUS_ROWS, WINDOW_ARGS, XSS, syntheticResult } from './fixtures.js';

/** Screenshots for people to look at (gitignored; CI may keep them as artefacts). */
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

interface OpenedPage {
  page: Page;
  requests: string[];
  problems: string[];
}

interface GridRow {
  processor: string;
  cells: { status: string; recovered: boolean; letter: string }[];
}

/** Opens a report file, recording every request the page makes and every console error. */
async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  // Belt and braces: anything but the file itself would be answered with a failure.
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requests, problems };
}

async function readGrid(page: Page): Promise<{ dates: string[]; rows: GridRow[] }> {
  const dates = await page.$$eval('#heatmap thead th[data-date]', (ths: any[]) => ths.map((th) => th.getAttribute('data-date') as string));
  const rows = await page.$$eval('#heatmap tbody tr[data-processor]', (trs: any[]) =>
    trs.map((tr) => ({
      processor: tr.getAttribute('data-processor') as string,
      cells: Array.from(tr.querySelectorAll('td[data-status]') as ArrayLike<any>).map((td) => ({
        status: td.getAttribute('data-status') as string,
        recovered: td.hasAttribute('data-recovered') as boolean,
        letter: td.textContent as string,
      })),
    })),
  );
  return { dates, rows };
}

async function tooltipFor(page: Page, processor: string, dayIndex: number): Promise<string> {
  await page.locator(`#heatmap tr[data-processor="${processor}"] td[data-status]`).nth(dayIndex).hover();
  await expect.poll(() => page.locator('#tip').isVisible()).toBe(true);
  return (await page.locator('#tip').textContent()) ?? '';
}

if (SKIP_BROWSER_TESTS) process.stderr.write(`skipping the HTML report browser tests: ${CHROMIUM_MISSING}\n`);

describe.skipIf(SKIP_BROWSER_TESTS)('pem report --html in headless Chromium', () => {
  let browser: Browser | undefined;
  let scenario: Scenario | undefined;
  let dir: string;
  let reportPath: string;
  let check: any;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pem-report-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    scenario = await createScenario(STATUS_REGISTRY, STATUS_ROWS);
    const checked = await scenario.check([...WINDOW_ARGS, '--json-output', '--dry-run']);
    if (checked.code !== 0) throw new Error(`pem check failed: ${checked.stderr}`);
    check = checked.json;
    reportPath = join(dir, 'nested', 'report.html');
    const written = await runCli(['report', '--html', reportPath, '--config', scenario.registryPath, '--database', scenario.databasePath, ...WINDOW_ARGS]);
    if (written.code !== 0) throw new Error(`pem report failed: ${written.stderr}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    scenario?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints where it wrote the report', async () => {
    const again = join(dir, 'again.html');
    const { code, stdout, stderr } = await runCli(['report', '--html', again, '--config', scenario!.registryPath, '--database', scenario!.databasePath, ...WINDOW_ARGS]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote ${again}: 5 processors x 7 days (2025-10-01 .. 2025-10-07), level ${check.level}\n`);
  });

  it('shows every cell with the status pem check reports for the same inputs, worst processor first', async () => {
    const { page } = await openReport(browser!, reportPath);
    const { dates, rows } = await readGrid(page);
    expect(dates).toEqual(check.processors[0].days.map((d: any) => d.date));
    expect(rows.map((r) => r.processor)).toEqual([...check.processors].sort(byUrgency).map((p: any) => p.name));
    for (const row of rows) {
      const expected = check.processors.find((p: any) => p.name === row.processor);
      const want = expected.days.map((d: any) => {
        const display: DisplayStatus = d.status === 'success' && d.failed_runs > 0 ? 'recovered' : d.status;
        return { status: d.status, recovered: display === 'recovered', letter: STATUS_STYLES[display].letter };
      });
      expect(row.cells, row.processor).toEqual(want);
    }
    // The scenario reaches every status, so every colour of the legend is exercised.
    const shown = new Set(rows.flatMap((r) => r.cells.map((c) => (c.recovered ? 'recovered' : c.status))));
    expect([...shown].sort()).toEqual(Object.keys(STATUS_STYLES).sort());
    await page.close();
  });

  it('paints each status in its own legend colour (its style passed the Content-Security-Policy)', async () => {
    const { page, problems } = await openReport(browser!, reportPath);
    for (const [status, style] of Object.entries(STATUS_STYLES)) {
      const selector = status === 'recovered' ? '#heatmap td[data-recovered]' : `#heatmap td[data-status="${status}"]:not([data-recovered])`;
      expect(await page.locator(selector).count(), status).toBeGreaterThan(0);
      const [cell, swatch] = await Promise.all([
        page.locator(selector).first().evaluate((el: any) => (globalThis as any).getComputedStyle(el).backgroundColor as string),
        page.locator(`.legend .st-${status}`).evaluate((el: any) => (globalThis as any).getComputedStyle(el).backgroundColor as string),
      ]);
      const hex = style.background.slice(1).match(/../g)!.map((h) => parseInt(h, 16));
      expect(cell, status).toBe(`rgb(${hex.join(', ')})`);
      expect(swatch, status).toBe(cell);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('makes no network request: only the report file itself is loaded', async () => {
    const { page, requests, problems } = await openReport(browser!, reportPath);
    await tooltipFor(page, 'alpha_high', 2);
    await page.locator('#filter').fill('beta');
    expect(requests).toEqual([pathToFileURL(reportPath).href]);
    expect(problems).toEqual([]);
    expect(await page.locator('[src], [href], link, iframe, object, embed, img, svg').count()).toBe(0);
    await page.close();
  });

  it('shows runs, failed runs, times in the registry time zone and the last error in a cell tooltip', async () => {
    const { page } = await openReport(browser!, reportPath);
    const text = await tooltipFor(page, 'alpha_high', 2);
    expect(text.split('\n')).toEqual([
      'Alpha (high) (alpha_high)',
      '2025-10-03 Fri: failed',
      'runs: 1, failed runs: 1',
      'first started: 2025-10-04 02:00:00 America/New_York',
      'last completed: 2025-10-04 02:05:00 America/New_York',
      'last error: ValueError: bad "row", at line 2',
    ]);
    expect(await tooltipFor(page, 'alpha_high', 1)).toContain('2025-10-02 Thu: recovered\nruns: 2, failed runs: 1');
    expect(await tooltipFor(page, 'beta_medium', 6)).toBe('Beta (medium) (beta_medium)\n2025-10-07 Tue: missing\nruns: 0, failed runs: 0');
    await page.screenshot({ path: join(ARTIFACTS, 'report-heatmap.png'), fullPage: true });
    await page.close();
  });

  it('shows hostile registry and run-history strings as text and runs none of them', async () => {
    const { page, problems } = await openReport(browser!, reportPath);
    const row = page.locator('#heatmap tr[data-processor="xss_processor"]');
    expect(await row.locator('th.c-nm').textContent()).toBe(`${XSS.displayName} xss_processor`);
    expect(await row.locator('td.c-ow').textContent()).toBe(XSS.owner);
    expect(await row.locator('th.c-nm').getAttribute('title')).toContain(`slack: ${XSS.slack}`);
    const failedDay = check.processors.find((p: any) => p.name === 'xss_processor').days.findIndex((d: any) => d.status === 'failed');
    expect(await tooltipFor(page, 'xss_processor', failedDay)).toContain(`last error: ${XSS.errorType}: ${XSS.errorMessage}`);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('#heatmap img, #heatmap svg, body > script').count()).toBe(2);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the run level, window, time zone and generation time, and filters rows by name', async () => {
    const { page } = await openReport(browser!, reportPath);
    expect(await page.locator('#run-level').textContent()).toBe(check.level);
    expect(await page.locator('#window').textContent()).toBe('2025-10-01 .. 2025-10-07 (7 days)');
    expect(await page.locator('#timezone').textContent()).toBe('America/New_York');
    expect(await page.locator('#generated-at').textContent()).toBe('2025-10-08T12:00:00.000Z');
    await page.locator('#filter').fill('beta');
    expect(await page.locator('#heatmap tbody tr:visible').count()).toBe(1);
    await page.locator('#filter').fill('');
    expect(await page.locator('#heatmap tbody tr:visible').count()).toBe(5);
    await page.close();
  });

  it('loads 200 processors x 90 days with one element per cell and a working tooltip on the last cell', async () => {
    const result = syntheticResult(200, 90);
    const file = join(dir, 'large.html');
    writeFileSync(file, renderHtmlReport(result, { timezone: 'UTC', generatedAt: new Date('2026-01-01T12:00:00Z') }));
    const started = Date.now();
    const { page, requests, problems } = await openReport(browser!, file);
    const loadMs = Date.now() - started;
    expect(await page.locator('#heatmap td[data-status]').count()).toBe(200 * 90);
    expect(await page.evaluate('document.getElementsByTagName("*").length')).toBeLessThan(200 * 90 + 200 * 10 + 2_000);
    expect(loadMs).toBeLessThan(10_000);
    const last = [...result.report.processors].sort(byUrgency).at(-1)!;
    const text = await tooltipFor(page, last.name, 89);
    expect(text.split('\n')[1]).toMatch(/^2025-12-31 Wed: /);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-200x90.png') });
    await page.close();
  });
});
