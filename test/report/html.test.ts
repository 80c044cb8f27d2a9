import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { byUrgency } from '../../src/check/report.js';
import { parseRegistry } from '../../src/config/registry.js';
import { esc, formatInstant, htmlReportBuffer, htmlReportPieces, jsonForScript, renderHtmlReport } from '../../src/report/html.js';
import { DISPLAY_STATUSES, STATUS_STYLES } from '../../src/report/statuses.js';
import { XSS, pageGoldenResult, syntheticResult } from './fixtures.js';
import type { ProcessorReport } from '../../src/check/report.js';

const OPTIONS = { timezone: 'America/New_York', generatedAt: new Date('2026-01-01T12:34:56Z') };

/** A small result whose every data string is hostile. */
function hostileResult() {
  const result = syntheticResult(3, 5);
  const target = result.report.processors[1]!;
  target.display_name = XSS.displayName;
  const detail = result.details[target.name]!;
  detail.owners = [XSS.owner];
  detail.slack_channel = XSS.slack;
  target.days[2] = { ...target.days[2]!, status: 'failed', runs: 1, failed_runs: 1 };
  detail.days[2] = { ...detail.days[2]!, last_error_type: XSS.errorType, last_error_message: XSS.errorMessage };
  detail.latest_failure = { date: detail.days[2]!.date, error_type: XSS.errorType, error_message: XSS.errorMessage };
  return result;
}

const sha256 = (text: string) => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

describe('renderHtmlReport', () => {
  it('makes, byte for byte, the page the code before pieces made (recorded at 4b5bb2d), however days are held', () => {
    // Recorded by rendering pageGoldenResult() with 4b5bb2d's renderHtmlReport (and the summary strip's
    // .sum td.long rule, then the rules for widths between phone and desktop, for print, and the
    // phone's level labels, all in the style and its CSP hash; the page before them was 388797ae…;
    // and the sort line's "reversed" said only against a column's own first order, then the active
    // cell's aria-label, in the script and its hash; then the name cell's tag rule, in the style and
    // its hash; then names wrapped to two lines (three on a phone) in a column that widens with the window, isolated
    // with <bdi>, and the strip's keys, waiting processors and root-first order; then a blocked cell's
    // upstream in its aria-label and the legend's count of blocked dates; then the runbook and
    // backfill lines of a processor's details, in the script; then darker weekend headers and
    // "N recovered failures"; then a 40-day header's month repeated over Mondays; then the latest
    // error column narrowed to 14vw between 160 and 300 px, so that 14 days fit at 1366 px; then the
    // run's own pem gaps line for the backfill commands not shown, in the script; then the phone's
    // strip giving "problem since" a line of its own, in the style and its hash): run times not in
    // toISOString's form, error text escaped in the data block, a blocked date, anomalies.
    const RECORDED = '6fdf75168dfd63637393434cc2ff401bda35c164c00733ddeec265169b441c45';
    const digest = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
    expect(digest(renderHtmlReport(pageGoldenResult(), OPTIONS))).toBe(RECORDED);
    expect(digest(htmlReportBuffer(pageGoldenResult(), OPTIONS))).toBe(RECORDED);
    // As a packed check holds them: days and day details given afresh on each read.
    const fresh = pageGoldenResult();
    for (const p of fresh.report.processors) {
      const { days } = p;
      Object.defineProperty(p, 'days', { enumerable: true, get: () => days.map((d) => ({ ...d })) });
    }
    for (const detail of Object.values(fresh.details)) {
      const { days } = detail;
      Object.defineProperty(detail, 'days', { enumerable: true, get: () => days.map((d) => ({ ...d })) });
    }
    expect(digest([...htmlReportPieces(fresh, OPTIONS)].join(''))).toBe(RECORDED);
  });

  it('reads each processor\'s days once per pass, and the same page whether they are read once or each time', () => {
    // A long window's days are unpacked afresh on every read of `days` (PackedDays): the page reads
    // them in four passes (rows, markup, and the cell data twice: its string table comes first),
    // plus the first processor's for the dates.
    const plain = syntheticResult(4, 40);
    const counted = syntheticResult(4, 40);
    const reads = new Map<string, number>();
    counted.report.processors = counted.report.processors.map((p) => {
      const { days, ...rest } = p;
      return Object.defineProperty({ ...rest }, 'days', {
        enumerable: true,
        get: () => {
          reads.set(p.name, (reads.get(p.name) ?? 0) + 1);
          return days.map((d) => ({ ...d }));
        },
      }) as typeof p;
    });
    expect(renderHtmlReport(counted, OPTIONS)).toBe(renderHtmlReport(plain, OPTIONS));
    const first = [...counted.report.processors].sort(byUrgency)[0]!.name;
    for (const [name, n] of reads) expect(n, name).toBe(name === first ? 5 : 4);
    expect(reads.size).toBe(4);
  });

  it('shows bidirectional controls as ?, in the markup and in the data the tips read (a name cannot read reversed)', () => {
    const result = syntheticResult(1, 3);
    const p = result.report.processors[0]!;
    p.display_name = 'Box \u202Eerocs\u202C processor \u2067x\u2069';
    const page = renderHtmlReport(result, OPTIONS);
    expect(page).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(page).toContain('Box ?erocs? processor ?x?');
  });

  it('marks "never" as over the limit only when the check found the processor stale (one that expects no date yet is OK)', () => {
    const result = syntheticResult(2, 3);
    const [quiet, stale] = result.report.processors as [ProcessorReport, ProcessorReport];
    Object.assign(quiet, { last_success_date: null, days_since_success: null, is_stale: false });
    Object.assign(stale, { last_success_date: null, days_since_success: null, is_stale: true });
    const page = renderHtmlReport(result, OPTIONS);
    const cellOf = (name: string) => new RegExp(`data-processor="${name}"[\\s\\S]*?<td class="(c-dy[^"]*)">never / `).exec(page)?.[1];
    expect([cellOf(quiet.name), cellOf(stale.name)]).toEqual(['c-dy', 'c-dy over']);
  });

  it('marks days past the threshold as over the limit only when the check found the processor stale', () => {
    // Ten days since its last success against a threshold of 2, yet OK: it expects no date
    // (`expected_frequency: none`), or none is due since that success. Red said it was late.
    const result = syntheticResult(2, 3);
    const [quiet, stale] = result.report.processors as [ProcessorReport, ProcessorReport];
    Object.assign(quiet, { last_success_date: '2025-09-27', days_since_success: 10, is_stale: false, level: 'OK' });
    Object.assign(stale, { last_success_date: '2025-09-27', days_since_success: 10, is_stale: true });
    for (const p of [quiet, stale]) result.details[p.name]!.staleness_threshold_days = 2;
    const page = renderHtmlReport(result, OPTIONS);
    const cellOf = (name: string) => new RegExp(`data-processor="${name}"[\\s\\S]*?<td class="(c-dy[^"]*)">10 / 2`).exec(page)?.[1];
    expect([cellOf(quiet.name), cellOf(stale.name)]).toEqual(['c-dy', 'c-dy over']);
  });

  it('labels a processor the registry disables, shown because it was named (as the terminal report does)', () => {
    const result = syntheticResult(2, 3);
    const [off, on] = result.report.processors as [ProcessorReport, ProcessorReport];
    result.details[off.name]!.enabled = false;
    const html = renderHtmlReport(result, OPTIONS);
    const rowOf = (name: string) => {
      const row = html.slice(html.indexOf(`<tr data-processor="${name}"`));
      return row.slice(0, row.indexOf('</tr>'));
    };
    // Before the name, which the column may cut short.
    expect(rowOf(off.name)).toContain('<button type="button" class="nm"><i class="tag">disabled</i>');
    expect(rowOf(off.name)).toContain('disabled in the registry: shown because named');
    expect(rowOf(on.name)).not.toContain('disabled');
  });

  it('shows a date an upstream explains as blocked, striped, with the upstream in its details', () => {
    const result = syntheticResult(2, 3);
    const [up, down] = result.report.processors;
    down!.days[1] = { ...down!.days[1]!, status: 'missing', runs: 0, failed_runs: 0 };
    down!.blocked_by = [{ processor: up!.name, dates: [down!.days[1]!.date] }];
    const html = renderHtmlReport(result, OPTIONS);
    const row = html.slice(html.indexOf(`<tr data-processor="${down!.name}"`));
    const cells = row.slice(0, row.indexOf('</tr>')).match(/<td data-status[^>]*>/g)!;
    // Newest date first: the window's middle date is the middle cell.
    expect(cells[1]).toBe('<td data-status="missing" data-blocked>');
    expect(cells.filter((cell) => cell.includes('data-blocked'))).toHaveLength(1);
    expect(html).toContain(`blocked by ${up!.name}`);
  });

  it('puts the upstream to fix in "Needs action first", not the processors held waiting on it, and ranks it with them', () => {
    const result = syntheticResult(8, 3);
    const processors = result.report.processors;
    for (const p of processors) Object.assign(p, { level: 'CRITICAL', priority: 'high', revenue_impact: true, is_stale: true });
    // A low-priority root holds five high-priority processors; two other roots hold none.
    const [root, ...rest] = processors;
    Object.assign(root!, { priority: 'low', revenue_impact: false, display_name: 'Schedule ingest' });
    const held = rest.slice(0, 5);
    result.details[root!.name]!.also_affected = held.map((p) => p.name);
    for (const p of held) result.details[p.name]!.held = 'dependency';
    const html = renderHtmlReport(result, OPTIONS);
    const strip = html.slice(html.indexOf('<section id="summary"'), html.indexOf('</section>'));
    const named = [...strip.matchAll(/data-processor="([^"]+)"/g)].map((m) => m[1]);
    expect(named[0]).toBe(root!.name);
    expect(named).not.toEqual(expect.arrayContaining([held[0]!.name]));
    expect(named).toHaveLength(3);
    expect(strip).toContain('5 processors waiting on it');
    expect(strip).toContain(`<code class="key">${root!.name}</code>`);
    expect(strip).toContain('…and 5 processors waiting on an upstream (held by its dependency: fix the upstream first)');

    // Held behind an upstream the strip cannot show (OK: its date only running; or not checked):
    // the held processor stays in the strip, the thing to look at.
    Object.assign(root!, { level: 'OK' });
    const behindOk = renderHtmlReport(result, OPTIONS);
    const shownNow = behindOk.slice(behindOk.indexOf('<section id="summary"'), behindOk.indexOf('</section>'));
    expect([...shownNow.matchAll(/data-processor="([^"]+)"/g)].map((m) => m[1])).toEqual(expect.arrayContaining([held[0]!.name]));
    expect(shownNow).not.toContain('waiting on an upstream');
  });

  it("links a troubled processor's runbook and carries its backfill commands into its details, from the registry (SPEC §11)", () => {
    const result = syntheticResult(3, 21);
    const [troubled, healthy] = [...result.report.processors].sort(byUrgency);
    const parsed = parseRegistry({
      timezone: 'UTC',
      processors: Object.fromEntries(
        result.report.processors.map((p) => [p.name, { runbook_url: 'https://runbooks.example.com/{processor}?date={date}', backfill_command: 'pem-backfill {processor} {date}' }]),
      ),
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    Object.assign(healthy!, { level: 'OK' });
    const configs = new Map(parsed.registry.processors.map((p) => [p.name, p]));
    const html = renderHtmlReport(result, { ...OPTIONS, configs });
    const strip = html.slice(html.indexOf('<section id="summary"'), html.indexOf('</section>'));
    expect(strip).toContain(`<a class="rb" href="https://runbooks.example.com/${troubled!.name}?date=`);
    const data = JSON.parse(html.slice(html.indexOf('<script type="application/json"'), html.indexOf('</script>')).replace(/^[^>]*>/, ''));
    const entry = (name: string) => data.p.find((p: any) => p.n === name);
    expect(entry(troubled!.name).rb).toMatch(/^https:\/\/runbooks\.example\.com\//);
    expect(entry(troubled!.name).bf[0]).toMatch(new RegExp(`^pem-backfill ${troubled!.name} \\d{4}-\\d{2}-\\d{2}$`));
    // The dates beyond those shown: the pem gaps line of this processor and window, not a bare one.
    expect(entry(troubled!.name).bm).toBeGreaterThan(0);
    expect(entry(troubled!.name).bg).toBe(`pem gaps --format commands --date ${result.report.as_of_date} --lookback-days 21 --processors ${troubled!.name}`);
    expect(entry(healthy!.name)).not.toHaveProperty('rb');
    // Commands too long for an alert (over 1,000 characters) are not shown cut: the details say where they are.
    const long = parseRegistry({ timezone: 'UTC', processors: Object.fromEntries(result.report.processors.map((p) => [p.name, { backfill_command: `pem-backfill {processor} {date} ${'--flag '.repeat(150)}` }])) });
    if (!long.ok) throw new Error(long.problems.join('; '));
    const longHtml = renderHtmlReport(result, { ...OPTIONS, configs: new Map(long.registry.processors.map((p) => [p.name, p])) });
    const longData = JSON.parse(longHtml.slice(longHtml.indexOf('<script type="application/json"'), longHtml.indexOf('</script>')).replace(/^[^>]*>/, ''));
    expect(longData.p.find((p: any) => p.n === troubled!.name).bf).toEqual([
      `pem gaps --format commands --date ${result.report.as_of_date} --lookback-days 21 --processors ${troubled!.name}   # each command is too long to show here`,
    ]);
    // Without the registry, the page is as before: no link, no commands.
    expect(renderHtmlReport(result, OPTIONS)).not.toContain('class="rb"');
  });

  it('stays under 1.2 MB with one element per cell at 200 processors x 90 days', () => {
    const html = renderHtmlReport(syntheticResult(200, 90), OPTIONS);
    const bytes = Buffer.byteLength(html, 'utf8');
    expect(bytes).toBeLessThan(1_200_000);
    expect(html.match(/<td data-status="/g)).toHaveLength(200 * 90);
    // No per-cell tooltip markup: the tooltip text lives once, in the data block.
    expect(html.match(/<td data-status="[a-z_]+"( data-recovered)?>[^<]<\/td>/g)).toHaveLength(200 * 90);
  });

  it('lists processors worst first: level, then priority, revenue impact and name', () => {
    const result = syntheticResult(30, 3);
    const html = renderHtmlReport(result, OPTIONS);
    const order = [...html.matchAll(/<tr data-processor="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([...result.report.processors].sort(byUrgency).map((p) => p.name));
    expect(new Set(order.slice(0, 5).map((name) => result.report.processors.find((p) => p.name === name)!.level))).toEqual(new Set(['CRITICAL']));
  });

  it('shows the run level, window, time zone and generation time in the header', () => {
    const html = renderHtmlReport(syntheticResult(2, 7), OPTIONS);
    expect(html).toContain('<span class="badge lv-CRITICAL" id="run-level">CRITICAL</span>');
    expect(html).toContain('<dd id="window">2025-12-25 .. 2025-12-31 (7 days)</dd>');
    expect(html).toContain('<dd id="timezone">America/New_York</dd>');
    expect(html).toContain('<dd><time id="generated-at" datetime="2026-01-01T12:34:56.000Z">2026-01-01 07:34:56 -05:00</time></dd>');
    expect(html).toContain('<dd><time id="evaluated-at" datetime="2026-01-01T12:00:00.000Z">2026-01-01 07:00:00 -05:00</time></dd>');
  });

  it('shows times in the registry time zone with the offset of their own date (summer and winter)', () => {
    expect(formatInstant('2025-07-01T12:00:00Z', 'America/New_York')).toBe('2025-07-01 08:00:00 -04:00');
    expect(formatInstant('2025-12-01T12:00:00Z', 'America/New_York')).toBe('2025-12-01 07:00:00 -05:00');
    expect(formatInstant('2025-12-01T12:00:00Z', 'UTC')).toBe('2025-12-01 12:00:00 +00:00');
  });

  it('puts the newest date first, in the headers, the cells and the data the script reads', () => {
    const result = syntheticResult(2, 5);
    const html = renderHtmlReport(result, OPTIONS);
    const headers = [...html.matchAll(/<th class="d[^"]*" scope="col" data-date="([^"]+)"/g)].map((m) => m[1]);
    expect(headers).toEqual(['2025-12-31', '2025-12-30', '2025-12-29', '2025-12-28', '2025-12-27']);
    const data = JSON.parse(html.match(/<script type="application\/json" id="pem-data">(.*?)<\/script>/s)![1]!);
    expect(data.dates.map((d: string) => d.slice(0, 10))).toEqual(headers);
    const first = [...result.report.processors].sort(byUrgency)[0]!;
    const row = html.match(new RegExp(`<tr data-processor="${first.name}".*?</tr>`, 's'))![0];
    expect([...row.matchAll(/<td data-status="([a-z_]+)"/g)].map((m) => m[1])).toEqual([...first.days].reverse().map((d) => d.status));
  });

  it('names the processors that need action first, worst first, at most five, and how many more', () => {
    const result = syntheticResult(30, 7);
    const html = renderHtmlReport(result, OPTIONS);
    const needing = [...result.report.processors].sort(byUrgency).filter((p) => p.level !== 'OK');
    const named = [...html.matchAll(/<button type="button" class="jump" data-processor="([^"]+)">/g)].map((m) => m[1]);
    expect(named).toEqual(needing.slice(0, 5).map((p) => p.name));
    expect(html).toContain(`…and ${needing.length - 5} more with issues`);
  });

  it('says nothing needs action when every processor is healthy', () => {
    const html = renderHtmlReport(syntheticResult(4, 7, { healthy: true }), OPTIONS);
    expect(html).toMatch(/<p class="calm" id="all-healthy">Nothing needs action: all 4 processors healthy in 2025-12-25 \.\. 2025-12-31 \(no stale processor, no missing, failed or hung date/);
    expect(html).not.toContain('class="jump"');
  });

  it('shows each processor\'s latest failure in its row, in full behind the ellipsis', () => {
    const result = hostileResult();
    const html = renderHtmlReport(result, OPTIONS);
    const target = result.report.processors[1]!;
    const failure = result.details[target.name]!.latest_failure!;
    const text = `${failure.error_type}: ${failure.error_message}`;
    const row = html.match(new RegExp(`<tr data-processor="${target.name}".*?</tr>`, 's'))![0];
    expect(row).toContain(`<td class="c-er" title="${esc(text)}"><small>${failure.date}</small> ${esc(text)}</td>`);
  });

  it('has a legend entry, a colour and a letter for every status, recovered and not expected included', () => {
    const html = renderHtmlReport(syntheticResult(2, 7), OPTIONS);
    for (const status of DISPLAY_STATUSES) {
      expect(html).toContain(`<span class="sw st-${status}">${STATUS_STYLES[status].letter}</span> ${STATUS_STYLES[status].label}`);
    }
    const colours = DISPLAY_STATUSES.map((s) => STATUS_STYLES[s].background);
    const letters = DISPLAY_STATUSES.map((s) => STATUS_STYLES[s].letter);
    expect(new Set(colours).size).toBe(DISPLAY_STATUSES.length);
    expect(new Set(letters).size).toBe(DISPLAY_STATUSES.length);
  });

  it('escapes every string from data, in text, attributes and the data block', () => {
    const html = renderHtmlReport(hostileResult(), OPTIONS);
    expect(html).not.toContain(XSS.displayName);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<script>window');
    expect(html).not.toContain(XSS.errorType);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;Evil &amp; &quot;co&quot;');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;window.__pwned=2&lt;/script&gt;');
    // The data block round-trips the raw strings.
    const block = html.match(/<script type="application\/json" id="pem-data">(.*?)<\/script>/s)![1]!;
    const data = JSON.parse(block);
    expect(data.p.map((p: { d: string }) => p.d)).toContain(XSS.displayName);
    expect(data.s).toContain(`${XSS.errorType}: ${XSS.errorMessage}`);
  });

  it('writes JSON for a script element without <, >, & or line separators', () => {
    const text = jsonForScript({ a: '</script><!-- & \u2028\u2029' });
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual({ a: '</script><!-- & \u2028\u2029' });
  });

  it('allows only its own style and script, by hash, and no network, in its Content-Security-Policy', () => {
    const html = renderHtmlReport(syntheticResult(2, 3), OPTIONS);
    const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)![1]!;
    const style = html.match(/<style>(.*?)<\/style>/s)![1]!;
    const script = html.match(/<script>(.*?)<\/script>/s)![1]!;
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      `style-src '${sha256(style)}'`,
      `script-src '${sha256(script)}'`,
      "img-src 'none'",
      "form-action 'none'",
      "base-uri 'none'",
    ]);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('says so when there are no processors', () => {
    const result = syntheticResult(0, 7);
    result.report.window_start = '2025-10-01';
    result.report.window_end = '2025-10-07';
    const html = renderHtmlReport(result, OPTIONS);
    expect(html).toContain('No processors to report (none enabled in the registry).');
    expect(html.match(/<th class="d/g)).toHaveLength(7);
  });
});

describe('esc', () => {
  it('shows control characters as ? (an ESC showed as a box), keeps line breaks and tabs, and escapes markup', () => {
    expect(esc('\u001b[31mred\u001b[0m <b> & "q"\nnext\tcol\r\n\u202e')).toBe('?[31mred?[0m &lt;b&gt; &amp; &quot;q&quot;\nnext\tcol\n?');
  });
});
