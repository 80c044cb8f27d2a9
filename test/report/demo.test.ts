import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('pem demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pem-demo-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the HTML report beside its database and prints its path', async () => {
    const database = join(dir, 'text', 'demo.duckdb');
    const { code, stdout } = await runCli(['demo', '--database', database]);
    expect(code).toBe(0);
    const reportPath = join(dir, 'text', 'demo-report.html');
    expect(stdout).toContain(`HTML report: ${reportPath}`);
    const html = readFileSync(reportPath, 'utf8');
    const rows = html.match(/<tr data-processor="/g)?.length ?? 0;
    expect(rows).toBeGreaterThan(0);
    expect(html.match(/<td data-status="/g)).toHaveLength(rows * 7);
    // It ends with what the demo registry would have sent over the week before today (SPEC §13).
    expect(stdout).toMatch(/\nBacktest \d{4}-\d{2}-\d{2} \.\. \d{4}-\d{2}-\d{2}, hourly: \d+\.\d PagerDuty pages and \d+\.\d Slack messages per week, \d+ problem dates never alerted\n/);
    expect(stdout).toContain('pem backtest --config');
    expect(stdout).toContain('(not sent: dry run)');
    expect(stdout).not.toContain('not sent: unknown');
    // Builds a season, checks it and replays a week hourly (a few seconds alone; more on a busy machine).
  }, 90_000);

  it('keeps stdout to the JSON document with --json-output, and names the report on stderr', async () => {
    const database = join(dir, 'json', 'demo.duckdb');
    const { code, stdout, stderr } = await runCli(['demo', '--database', database, '--json-output']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.processors.length).toBeGreaterThan(0);
    // SPEC §10: one success that wrote nothing, and one run that took hours.
    const box = json.processors.find((p: any) => p.name === 'boxscore_processor');
    expect(box.low_volume_dates).toHaveLength(1);
    expect(box.days.find((d: any) => d.date === box.low_volume_dates[0])).toMatchObject({ status: 'success', records: 0, anomalies: ['low_volume'] });
    const injury = json.processors.find((p: any) => p.name === 'injury_report_processor');
    expect(injury.slow_dates).toHaveLength(1);
    expect(injury.days.find((d: any) => d.date === injury.slow_dates[0])).toMatchObject({ duration_seconds: 190 * 60, anomalies: ['slow'] });
    // The demo sends nothing, and every alert says why (SPEC §11).
    expect(json.alerts.length).toBeGreaterThan(0);
    for (const alert of json.alerts) expect(alert).toMatchObject({ sent: false, reason: 'dry_run' });
    expect(stderr).toContain(`wrote the HTML report: ${join(dir, 'json', 'demo-report.html')}`);
    expect(existsSync(join(dir, 'json', 'demo-report.html'))).toBe(true);
  });
});
