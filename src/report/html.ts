/**
 * The HTML health report (`pem report --html`): one self-contained page — a heatmap of day
 * statuses (processors × dates, worst processor first) with the per-processor facts beside it.
 * Pure: returns the document as a string.
 *
 * Sized for 200 processors × 90 days: one `<td>` per cell carrying only its status
 * (`data-status`, the SPEC §4 value) and a letter; everything a tooltip shows lives once in a
 * JSON data block and is read by a small inline script into one shared floating element.
 *
 * Every string that comes from data (registry, run history) is escaped for HTML, or for the
 * JSON block (`<`, `>`, `&` as \u escapes), and the script writes it with `textContent` only. A
 * Content-Security-Policy allows exactly this page's own style and script (by hash) and no
 * network at all, so even a missed escape could neither run code nor call out.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { CheckResult, DayReport, ProcessorDetail, ProcessorReport } from '../check/report.js';
import { DAY_SYMBOL, byUrgency } from '../check/terminal.js';

/** What a cell shows: the day status, with recovered failures apart from clean successes. */
export const DISPLAY_STATUSES = ['success', 'recovered', 'failed', 'hung', 'running', 'missing', 'pending', 'not_expected'] as const;
export type DisplayStatus = (typeof DISPLAY_STATUSES)[number];

interface StatusStyle {
  letter: string;
  label: string;
  meaning: string;
  background: string;
  color: string;
}

/**
 * Okabe–Ito colours (https://jfly.uni-koeln.de/color/), distinguishable with the common colour
 * vision deficiencies; the letter (the same as `pem check`'s grid) carries the status on its own.
 * Text colours are the ones with the higher contrast against each fill.
 */
export const STATUS_STYLES: Record<DisplayStatus, StatusStyle> = {
  success: { letter: DAY_SYMBOL.success, label: 'success', meaning: 'a run succeeded', background: '#009E73', color: '#000' },
  recovered: { letter: 's', label: 'recovered', meaning: 'succeeded after a failed run', background: '#56B4E9', color: '#000' },
  failed: { letter: DAY_SYMBOL.failed, label: 'failed', meaning: 'runs failed, none succeeded', background: '#D55E00', color: '#000' },
  hung: { letter: DAY_SYMBOL.hung, label: 'hung', meaning: 'running past its max runtime', background: '#CC79A7', color: '#000' },
  running: { letter: DAY_SYMBOL.running, label: 'running', meaning: 'running, within its max runtime', background: '#0072B2', color: '#fff' },
  missing: { letter: DAY_SYMBOL.missing, label: 'missing', meaning: 'expected, due, no run at all', background: '#F0E442', color: '#000' },
  pending: { letter: DAY_SYMBOL.pending, label: 'pending', meaning: 'expected, not yet due', background: '#D9D9D9', color: '#000' },
  not_expected: { letter: '·', label: 'not expected', meaning: 'not a processing day', background: '#F4F4F4', color: '#777' },
};

export interface HtmlReportOptions {
  /** The registry time zone: tooltip times are shown in it. */
  timezone: string;
  /** When the report was rendered (the CLI's clock). */
  generatedAt: Date;
}

/** Columns before the first date cell; the script maps a cell's index to its date with it. */
const LEADING_COLUMNS = 6;
/** Error text beyond this is cut: a stack trace per cell would bloat a 90-day page. */
const MAX_ERROR_CHARS = 500;

export function displayStatus(day: DayReport): DisplayStatus {
  return day.status === 'success' && day.failed_runs > 0 ? 'recovered' : day.status;
}

export function renderHtmlReport(result: CheckResult, options: HtmlReportOptions): string {
  const { report, details } = result;
  const processors = [...report.processors].sort(byUrgency);
  const dates = processors[0]?.days.map((d) => d.date) ?? datesOf(report.window_start, report.window_end);

  const counts = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, 0])) as Record<DisplayStatus, number>;
  for (const p of processors) for (const d of p.days) counts[displayStatus(d)]++;

  const data = buildData(processors, details, dates, options.timezone);
  const csp = [
    "default-src 'none'",
    `style-src '${sha256(STYLE)}'`,
    `script-src '${sha256(SCRIPT)}'`,
    "img-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');

  const levelCounts = { CRITICAL: 0, ERROR: 0, OK: 0 };
  for (const p of processors) levelCounts[p.level]++;
  const title = `Processor health: ${report.level}, ${report.window_start} .. ${report.window_end}`;

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>Processor health <span class="badge lv-${esc(report.level)}" id="run-level">${esc(report.level)}</span></h1>`,
    '<dl>',
    `<div><dt>Window</dt><dd id="window">${esc(report.window_start)} .. ${esc(report.window_end)} (${report.lookback_days} day${report.lookback_days === 1 ? '' : 's'})</dd></div>`,
    `<div><dt>Time zone</dt><dd id="timezone">${esc(options.timezone)}</dd></div>`,
    `<div><dt>Evaluated at</dt><dd>${esc(report.now)}</dd></div>`,
    `<div><dt>Generated at</dt><dd id="generated-at">${esc(options.generatedAt.toISOString())}</dd></div>`,
    `<div><dt>Processors</dt><dd>${processors.length}: ${levelCounts.CRITICAL} critical, ${levelCounts.ERROR} error, ${levelCounts.OK} ok</dd></div>`,
    '</dl>',
    '</header>',
    renderLegend(counts),
    '<div class="tools"><input type="search" id="filter" placeholder="Filter processors" aria-label="Filter processors">',
    '<label><input type="checkbox" id="issues-only"> only processors with issues</label>',
    '<noscript> Tooltips and filters need JavaScript; each cell still shows its status letter.</noscript></div>',
    '<div class="scroll">',
    `<table id="heatmap"><caption>Day status by processor and processing date, worst processor first</caption>`,
    renderHead(dates),
    '<tbody>',
    ...processors.map((p) => renderRow(p, details[p.name])),
    processors.length === 0 ? `<tr><td class="empty" colspan="${LEADING_COLUMNS + dates.length + 1}">No processors to report (none enabled in the registry).</td></tr>` : '',
    '</tbody></table>',
    '</div>',
    '<div id="tip" role="tooltip" hidden></div>',
    `<script type="application/json" id="pem-data">${jsonForScript(data)}</script>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// Markup

function renderLegend(counts: Record<DisplayStatus, number>): string {
  const items = DISPLAY_STATUSES.map((status) => {
    const s = STATUS_STYLES[status];
    return `<li><span class="sw st-${status}">${esc(s.letter)}</span> ${esc(s.label)} <small>${esc(s.meaning)} (${counts[status]})</small></li>`;
  });
  return `<ul class="legend" aria-label="Legend">${items.join('')}</ul>`;
}

function renderHead(dates: readonly string[]): string {
  const cells = dates.map((date, i) => {
    const day = DateTime.fromISO(date, { zone: 'UTC' });
    const month = i === 0 || date.endsWith('-01') ? `<b>${day.toFormat('LLL')}</b>` : '';
    const weekend = day.weekday >= 6 ? ' we' : '';
    return `<th class="d${weekend}" data-date="${esc(date)}" title="${esc(date)} ${day.toFormat('ccc')}">${month}${day.toFormat('dd')}</th>`;
  });
  return (
    '<thead><tr>' +
    '<th class="c-lv">Level</th><th class="c-nm">Processor</th><th>Priority</th><th title="Revenue impact">Rev.</th>' +
    '<th>Last success</th><th title="Days since the last success / staleness threshold (days)">Since / limit</th>' +
    cells.join('') +
    '<th class="c-ow">Owners</th></tr></thead>'
  );
}

function renderRow(p: ProcessorReport, detail: ProcessorDetail | undefined): string {
  const threshold = detail?.staleness_threshold_days ?? null;
  const owners = detail?.owners ?? [];
  const reasons = [
    p.is_stale ? 'stale' : null,
    p.scheduler_issue ? 'scheduler issue: no run rows in the window though dates were due' : null,
    p.missing_dates.length ? `${p.missing_dates.length} missing` : null,
    p.failed_dates.length ? `${p.failed_dates.length} failed` : null,
    p.hung_dates.length ? `${p.hung_dates.length} hung` : null,
    p.recovered_failure_dates.length ? `${p.recovered_failure_dates.length} recovered` : null,
  ].filter((r): r is string => r !== null);
  const nameTitle = [
    `${p.display_name} (${p.name})`,
    owners.length ? `owners: ${owners.join(', ')}` : null,
    detail?.slack_channel ? `slack: ${detail.slack_channel}` : null,
  ]
    .filter(Boolean)
    .join('\n');
  const since = p.days_since_success === null ? 'never' : String(p.days_since_success);
  const over = p.days_since_success === null || (threshold !== null && p.days_since_success > threshold);
  const tags = [p.is_stale ? '<i class="tag">stale</i>' : '', p.scheduler_issue ? '<i class="tag">no runs</i>' : ''].join('');

  const cells = p.days.map((d) => {
    const status = displayStatus(d);
    const recovered = status === 'recovered' ? ' data-recovered' : '';
    return `<td data-status="${esc(d.status)}"${recovered}>${esc(STATUS_STYLES[status].letter)}</td>`;
  });
  return (
    `<tr data-processor="${esc(p.name)}" data-level="${esc(p.level)}">` +
    `<th class="c-lv" scope="row"><span class="badge lv-${esc(p.level)}" title="${esc(reasons.join('; ') || 'healthy')}">${esc(p.level)}</span></th>` +
    `<th class="c-nm" scope="row" title="${esc(nameTitle)}">${esc(p.display_name)} <code>${esc(p.name)}</code></th>` +
    `<td class="c-i">${esc(p.priority)}</td>` +
    `<td class="c-i">${p.revenue_impact ? 'yes' : 'no'}</td>` +
    `<td class="c-i">${esc(p.last_success_date ?? 'never')}</td>` +
    `<td class="c-i${over ? ' over' : ''}">${since} / ${threshold ?? '?'}${tags}</td>` +
    cells.join('') +
    `<td class="c-ow">${esc(owners.join(', '))}</td>` +
    '</tr>'
  );
}

// ---------------------------------------------------------------------------------------
// Tooltip data: per processor, per date `0` (no run) or [runs, failed_runs, first started,
// last completed, error] with times in epoch seconds and the error an index into `s`.

interface ReportData {
  tz: string;
  first: number;
  dates: string[];
  labels: Record<DisplayStatus, string>;
  s: string[];
  p: { n: string; d: string; l: string; c: (0 | (number | null)[])[] }[];
}

function buildData(processors: readonly ProcessorReport[], details: Record<string, ProcessorDetail>, dates: readonly string[], timezone: string): ReportData {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (text: string): number => {
    let i = stringIndex.get(text);
    if (i === undefined) {
      i = strings.push(text) - 1;
      stringIndex.set(text, i);
    }
    return i;
  };
  const seconds = (iso: string | null): number | null => (iso === null ? null : Math.round(Date.parse(iso) / 1000));

  return {
    tz: timezone,
    first: LEADING_COLUMNS,
    dates: dates.map((d) => `${d} ${DateTime.fromISO(d, { zone: 'UTC' }).toFormat('ccc')}`),
    labels: Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, STATUS_STYLES[s].label])) as Record<DisplayStatus, string>,
    s: strings,
    p: processors.map((p) => {
      const dayDetails = new Map((details[p.name]?.days ?? []).map((d) => [d.date, d]));
      return {
        n: p.name,
        d: p.display_name,
        l: p.level,
        c: p.days.map((day) => {
          const detail = dayDetails.get(day.date);
          const error = [detail?.last_error_type, detail?.last_error_message].filter((e): e is string => Boolean(e)).join(': ');
          const cell: (number | null)[] = [
            day.runs,
            day.failed_runs,
            seconds(detail?.first_started_at ?? null),
            seconds(detail?.last_completed_at ?? null),
            error ? intern(error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 1)}…` : error) : null,
          ];
          while (cell.length > 2 && cell[cell.length - 1] === null) cell.pop();
          return cell.length === 2 && cell[0] === 0 && cell[1] === 0 ? 0 : cell;
        }),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------
// Escaping

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element or a quoted attribute value. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that is safe inside `<script type="application/json">`: no `<` (so no `</script>` or
 * `<!--`), `>` or `&`, and no U+2028/U+2029; JSON.parse reads the escapes back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const sha256 = (text: string): string => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

function datesOf(start: string, end: string): string[] {
  const dates: string[] = [];
  for (let d = DateTime.fromISO(start, { zone: 'UTC' }); d.toISODate()! <= end; d = d.plus({ days: 1 })) dates.push(d.toISODate()!);
  return dates;
}

// ---------------------------------------------------------------------------------------
// The page's own style and script (hashed into the Content-Security-Policy).

const statusRules = DISPLAY_STATUSES.map((status) => {
  const s = STATUS_STYLES[status];
  const selector = status === 'recovered' ? '[data-recovered]' : `[data-status=${status}]`;
  return `#heatmap td${selector},.st-${status}{background:${s.background};color:${s.color}}`;
}).join('\n');

const STYLE = `
:root{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
body{margin:0;padding:12px 16px}
h1{font-size:18px;margin:0 0 6px}
dl{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 8px}
dl div{display:flex;gap:6px}dt{color:#555}dd{margin:0;font-weight:600}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-weight:700;font-size:11px;line-height:16px}
.lv-CRITICAL{background:#D55E00;color:#000}.lv-ERROR{background:#E69F00;color:#000}.lv-OK,.lv-INFO{background:#009E73;color:#000}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:0 0 8px;padding:0}
.legend small{color:#555}
.sw{display:inline-block;width:16px;height:16px;text-align:center;font:700 11px/16px ui-monospace,Menlo,Consolas,monospace;border:1px solid #bbb;vertical-align:middle}
.tools{display:flex;gap:16px;align-items:center;margin:0 0 6px}
.scroll{overflow:auto;max-height:calc(100vh - 150px);border:1px solid #ccc}
table{border-collapse:separate;border-spacing:0}
caption{text-align:left;color:#555;padding:2px 4px}
th,td{white-space:nowrap}
thead th{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #999;font-weight:600;padding:2px 4px;text-align:left;vertical-align:bottom}
thead th.d{padding:0;width:15px;min-width:15px;text-align:center;font:10px/12px ui-monospace,Menlo,Consolas,monospace;color:#333}
thead th.d b{display:block;font-weight:700}
thead th.we{color:#888}
tbody th{font-weight:400;text-align:left}
.c-lv{position:sticky;left:0;z-index:1;background:#fff;width:72px;min-width:72px;max-width:72px;padding:0 4px;box-sizing:border-box}
.c-nm{position:sticky;left:72px;z-index:1;background:#fff;width:260px;min-width:260px;max-width:260px;padding:0 6px;box-sizing:border-box;overflow:hidden;text-overflow:ellipsis;border-right:1px solid #999}
thead .c-lv,thead .c-nm{z-index:3}
.c-nm code{color:#666;font-size:11px}
.c-i{padding:0 6px;color:#333}
.c-i.over{color:#B13F00;font-weight:700}
.tag{font-style:normal;font-size:10px;border:1px solid currentColor;border-radius:3px;padding:0 3px;margin-left:4px}
.c-ow{padding:0 6px;color:#333}
tbody tr:hover th,tbody tr:hover .c-i{background:#f0f4ff}
#heatmap td[data-status]{width:15px;min-width:15px;height:16px;padding:0;text-align:center;font:700 10px/16px ui-monospace,Menlo,Consolas,monospace;border-right:1px solid #fff;border-bottom:1px solid #fff;cursor:default}
${statusRules}
#heatmap td[data-status=not_expected],.st-not_expected{font-weight:400}
td.empty{padding:12px;color:#555}
#tip{position:fixed;z-index:10;max-width:420px;padding:6px 8px;background:#1a1a1a;color:#fff;border-radius:4px;font-size:12px;white-space:pre-line;overflow-wrap:anywhere;pointer-events:none}
@media print{.tools,#tip{display:none}.scroll{max-height:none;overflow:visible}}
`;

const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('pem-data').textContent);
  var table = document.getElementById('heatmap');
  var body = table.tBodies[0];
  var tip = document.getElementById('tip');
  var stamp = new Intl.DateTimeFormat('sv-SE', { timeZone: data.tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  function time(seconds) { return seconds == null ? null : stamp.format(new Date(seconds * 1000)); }

  function describe(td) {
    var p = data.p[td.parentNode.sectionRowIndex];
    var i = td.cellIndex - data.first;
    if (!p || i < 0 || i >= data.dates.length) return null;
    var c = p.c[i] || [0, 0];
    var status = td.hasAttribute('data-recovered') ? 'recovered' : td.getAttribute('data-status');
    var lines = [p.d + ' (' + p.n + ')', data.dates[i] + ': ' + data.labels[status],
      'runs: ' + c[0] + ', failed runs: ' + c[1]];
    if (c[2] != null) lines.push('first started: ' + time(c[2]) + ' ' + data.tz);
    if (c[3] != null) lines.push('last completed: ' + time(c[3]) + ' ' + data.tz);
    if (c[4] != null) lines.push('last error: ' + data.s[c[4]]);
    return lines.join('\\n');
  }

  function place(event) {
    var x = event.clientX + 14, y = event.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = Math.max(4, event.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, event.clientY - h - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }

  body.addEventListener('mouseover', function (event) {
    var td = event.target.closest ? event.target.closest('td[data-status]') : null;
    var text = td && describe(td);
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    place(event);
  });
  body.addEventListener('mousemove', function (event) { if (!tip.hidden) place(event); });
  table.addEventListener('mouseleave', function () { tip.hidden = true; });

  var filter = document.getElementById('filter');
  var issuesOnly = document.getElementById('issues-only');
  function apply() {
    var q = filter.value.trim().toLowerCase();
    for (var r = 0; r < body.rows.length; r++) {
      var p = data.p[r];
      if (!p) continue;
      var match = !q || p.n.toLowerCase().indexOf(q) >= 0 || p.d.toLowerCase().indexOf(q) >= 0;
      body.rows[r].hidden = !match || (issuesOnly.checked && p.l === 'OK');
    }
  }
  filter.addEventListener('input', apply);
  issuesOnly.addEventListener('change', apply);
})();
`;
