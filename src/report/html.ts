/**
 * The HTML health report (`pem report --html`): one self-contained page for the person on call —
 * a strip of what needs action first, then a table of processors (worst first, sortable) with
 * "problem since", the latest error and a heatmap of day statuses, newest date first. Pure:
 * gives the document as a string, or in pieces (`htmlReportPieces`) for a writer that never holds
 * it whole.
 *
 * Newest first, rather than oldest first scrolled to the end: the dates that matter sit beside
 * the processor names in the markup itself, so they are in view on load at any width, with or
 * without script, in print, and first in reading (and keyboard) order.
 *
 * Sized for 200 processors × 90 days: one `<td>` per cell carrying only its status
 * (`data-status`, the SPEC §4 value) and a letter; everything a cell's details show lives once
 * in a JSON data block and is read by a small inline script (src/report/page.ts).
 *
 * Every string that comes from data (registry, run history) is escaped for HTML, or for the
 * JSON block (`<`, `>`, `&` as \u escapes), and the script writes it with `textContent` only. A
 * Content-Security-Policy allows exactly this page's own style and script (by hash) and no
 * network at all, so even a missed escape could neither run code nor call out.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { dayStartMs, instantMs } from '../check/instants.js';
import { processorActions, type CheckCommandContext, type ProcessorActions } from '../alerts/actions.js';
import { byUrgency, PRIORITY_ORDER, type CheckResult, type ProcessorDetail, type ProcessorReport, type UrgencyKey } from '../check/report.js';
import type { ProcessorConfig } from '../config/registry.js';
import { ellipsize, plural, withLayoutOnly, withoutBidiControls } from '../printable.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './page.js';
import { DISPLAY_STATUSES, STATUS_STYLES, dayNotes, displayStatus, streakProblemDates, type DisplayStatus } from './statuses.js';

export interface HtmlReportOptions {
  /** The registry time zone: every time on the page is shown in it, with its UTC offset. */
  timezone: string;
  /** When the report was rendered (the CLI's clock). */
  generatedAt: Date;
  /**
   * The registry's processors, for what to do (SPEC §11): each troubled processor's runbook link
   * and backfill commands, as its alerts show them. Without it the page has none.
   */
  configs?: ReadonlyMap<string, ProcessorConfig>;
  /**
   * The run's flags for the `pem gaps` line a processor's details give (its `--now`, `--config`,
   * `--engine`, `--database`, `--project`: `commandContext`); without them, the window's alone.
   */
  command?: CheckCommandContext;
}

/** Columns before the first date cell (level, processor, since, error, success, days, priority, revenue). */
const LEADING_COLUMNS = 8;
/** Error text beyond this is cut: a stack trace per cell would bloat a 90-day page. */
const MAX_ERROR_CHARS = 500;
/** How many processors the "needs action first" strip names before "and N more". */
const SUMMARY_ITEMS = 5;
/**
 * A display name longer than this wraps in the summary strip (at 22em or more); shorter ones stay
 * on one line. Unwrapped, a sentence-long name pushed "What is wrong" off the page's right edge.
 */
const LONG_SUMMARY_NAME = 40;

/** One processor as the page shows it: the check's facts plus what presentation derives. */
interface ProcessorRow {
  p: ProcessorReport;
  /** How many of its days show each status (the legend's counts). */
  statusCounts: Record<DisplayStatus, number>;
  detail: ProcessorDetail | undefined;
  since: string | null;
  streak: string[];
  error: { date: string; text: string } | null;
  reasons: string[];
  /** What to do (SPEC §11): runbook and backfill commands; null for a healthy one, or without the registry. */
  actions: ProcessorActions | null;
}

export function renderHtmlReport(result: CheckResult, options: HtmlReportOptions): string {
  return [...htmlReportPieces(result, options)].join('');
}

/**
 * The page as UTF-8 bytes (an upload's body: the client needs it whole, to retry), made piece by
 * piece: never also one string. For a moment it is held twice (the pieces' bytes and their join).
 */
export function htmlReportBuffer(result: CheckResult, options: HtmlReportOptions): Buffer {
  const chunks: Buffer[] = [];
  for (const piece of htmlReportPieces(result, options)) chunks.push(Buffer.from(piece, 'utf8'));
  return Buffer.concat(chunks);
}

/**
 * The page as `renderHtmlReport` writes it, in pieces whose concatenation is that string: one per
 * processor's row and one per processor in the data block, so that a writer never holds the whole
 * page (10,000 processors × 90 days is a 55 MB page, and `pem report` has the job's 512 MiB).
 */
export function* htmlReportPieces(result: CheckResult, options: HtmlReportOptions): Generator<string> {
  const { report, details } = result;
  const command = options.command ?? { asOfDate: report.as_of_date, lookbackDays: report.lookback_days };
  const actionsOf = (p: ProcessorReport) => (options.configs && p.level !== 'OK' ? processorActions(p, options.configs.get(p.name), command) : null);
  const rows = [...report.processors].sort(byUrgency).map((p) => toRow(p, details[p.name], actionsOf(p)));
  const ascending = rows[0]?.p.days.map((d) => d.date) ?? datesOf(report.window_start, report.window_end);
  const dates = [...ascending].reverse();

  const counts = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, 0])) as Record<DisplayStatus, number>;
  for (const { statusCounts } of rows) for (const s of DISPLAY_STATUSES) counts[s] += statusCounts[s];
  const levelCounts = { CRITICAL: 0, ERROR: 0, OK: 0 };
  for (const { p } of rows) levelCounts[p.level]++;

  const csp = [
    "default-src 'none'",
    `style-src '${sha256(PAGE_STYLE)}'`,
    `script-src '${sha256(PAGE_SCRIPT)}'`,
    "img-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  const title = `Processor health: ${report.level}, ${report.window_start} .. ${report.window_end}`;
  const instant = (iso: string, id: string) => `<time id="${id}" datetime="${esc(iso)}">${esc(formatInstant(iso, options.timezone))}</time>`;

  yield [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>Processor health <span class="badge lv-${esc(report.level)}" id="run-level">${esc(report.level)}</span></h1>`,
    '<dl>',
    `<div><dt>Window</dt><dd id="window">${esc(report.window_start)} .. ${esc(report.window_end)} (${plural(report.lookback_days, 'day')})</dd></div>`,
    `<div><dt>Time zone</dt><dd id="timezone">${esc(options.timezone)}</dd></div>`,
    `<div><dt>Evaluated at</dt><dd>${instant(report.now, 'evaluated-at')}</dd></div>`,
    `<div><dt>Generated at</dt><dd>${instant(options.generatedAt.toISOString(), 'generated-at')}</dd></div>`,
    `<div><dt>Processors</dt><dd id="level-counts">${rows.length}: ${levelCounts.CRITICAL} critical, ${levelCounts.ERROR} error, ${levelCounts.OK} ok</dd></div>`,
    '</dl>',
    '</header>',
    renderSummary(rows, report.window_start, report.window_end),
    renderLegend(counts, rows.reduce((n, r) => n + blockedDates(r.p).size, 0)),
    '<div class="tools"><input type="search" id="filter" placeholder="Filter processors" aria-label="Filter processors by key or name">',
    '<label><input type="checkbox" id="issues-only"> only processors with issues</label>',
    `<span id="shown" role="status">${plural(rows.length, 'processor')}</span>`,
    '<noscript> Sorting, filters and cell details need JavaScript; each cell still shows its status letter.</noscript></div>',
    '<p id="no-match" class="empty" hidden></p>',
    '<p class="hint">Select a cell (or use the arrow keys) for its runs, times and error; select a name for the processor.</p>',
    '<div class="scroll">',
    '<table id="heatmap"><caption>Day status by processor and date, <b>newest date first</b></caption>',
    renderHead(dates),
    '<tbody>',
  ].join('\n');
  for (const row of rows) yield `\n${renderRow(row)}`;
  yield `\n${[
    rows.length === 0 ? `<tr><td class="empty" colspan="${LEADING_COLUMNS + dates.length + 1}">No processors to report (none enabled in the registry).</td></tr>` : '',
    '</tbody></table>',
    '</div>',
    '<div id="tip" role="tooltip" hidden></div>',
    '<aside id="details" hidden aria-labelledby="details-title"><button type="button" id="details-close" aria-label="Close details">×</button>' +
      '<h2 id="details-title"></h2><div id="details-body" aria-live="polite"></div></aside>',
  ].join('\n')}`;
  yield '\n<script type="application/json" id="pem-data">';
  yield* dataPieces(rows, dates, options.timezone);
  yield `</script>\n${[`<script>${PAGE_SCRIPT}</script>`, '</body>', '</html>', ''].join('\n')}`;
}

/*
 * A processor's days are read from `p.days` once per pass (here, renderRow, dataPieces' two) and not kept
 * in its row: in a long window each read unpacks them afresh (PackedDays in check/report.ts), and
 * rows holding every processor's unpacked days at once would undo what packing saves (1,000 × 366
 * days: 396 → 445 MiB peak RSS).
 */
function toRow(p: ProcessorReport, detail: ProcessorDetail | undefined, actions: ProcessorActions | null): ProcessorRow {
  const { days } = p;
  const statusCounts = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, 0])) as Record<DisplayStatus, number>;
  for (const d of days) statusCounts[displayStatus(d)]++;
  const since = p.problem_since;
  const failure = detail?.latest_failure ?? null;
  const errorText = failure ? [failure.error_type, failure.error_message].filter((e): e is string => Boolean(e)).join(': ') || 'failed, no error recorded' : null;
  const reasons = [
    p.is_stale ? (p.last_success_date === null ? 'stale: never succeeded' : `stale: last success ${p.last_success_date}`) : null,
    p.scheduler_issue ? 'scheduler issue: no run rows in the window' : null,
    p.missing_dates.length ? `${p.missing_dates.length} missing` : null,
    p.failed_dates.length ? `${p.failed_dates.length} failed` : null,
    p.hung_dates.length ? `${p.hung_dates.length} hung` : null,
    p.low_volume_dates.length ? `${p.low_volume_dates.length} low volume` : null,
    p.high_volume_dates.length ? `${p.high_volume_dates.length} high volume` : null,
    p.slow_dates.length ? `${p.slow_dates.length} slow` : null,
    p.recovered_failure_dates.length ? plural(p.recovered_failure_dates.length, 'recovered failure') : null,
  ].filter((r): r is string => r !== null);
  return {
    p,
    statusCounts,
    detail,
    since,
    streak: streakProblemDates({ days }, since),
    error: failure && errorText ? { date: failure.date, text: clip(errorText) } : null,
    reasons,
    actions,
  };
}

// ---------------------------------------------------------------------------------------
// Markup

/** What needs action first: the worst processors, each with what, since when and the latest error. */
function renderSummary(rows: readonly ProcessorRow[], start: string, end: string): string {
  const open = (calm: boolean) => `<section id="summary"${calm ? ' class="ok"' : ''} aria-labelledby="summary-title"><h2 id="summary-title">Needs action first</h2>`;
  if (rows.length === 0) return `${open(true)}<p class="calm">No processors to report (none enabled in the registry).</p></section>`;
  const issues = rows.filter((r) => r.p.level !== 'OK');
  if (issues.length === 0) {
    const recovered = rows.reduce((n, r) => n + r.p.recovered_failure_dates.length, 0);
    return (
      `${open(true)}<p class="calm" id="all-healthy">Nothing needs action: all ${plural(rows.length, 'processor')} healthy in ${esc(start)} .. ${esc(end)} ` +
      `(no stale processor, no missing, failed or hung date${recovered ? `; ${plural(recovered, 'failure')} recovered by a re-run` : ''}).</p></section>`
    );
  }
  // A processor held by its dependency waits on an upstream (SPEC §12): the upstream is what to fix,
  // and its row says how many wait on it. Held ones fill the strip only when no root is checked.
  // Only behind a root the strip can show: an upstream that is OK (its date running or pending
  // explains a missing one) or not in this check leaves its downstream the thing to look at.
  const waitingOnShown = new Set(issues.filter((r) => r.detail?.held !== 'dependency').flatMap((r) => r.detail?.also_affected ?? []));
  const roots = issues.filter((r) => r.detail?.held !== 'dependency' || !waitingOnShown.has(r.p.name));
  const waiting = issues.length - roots.length;
  const shown = roots.length > 0 ? [...roots].sort(byUrgencyWithWaiting(rows)) : issues;
  const items = shown.slice(0, SUMMARY_ITEMS).map((r) => {
    const { p } = r;
    const affected = r.detail?.also_affected ?? [];
    const alsoAffected = affected.length > 0 ? `; <span title="${esc(affected.join(', '))}">${plural(affected.length, 'processor')} waiting on it</span>` : '';
    const since = r.since ? `<span class="lbl">problem since </span><b>${esc(r.since)}</b> <small>(${plural(r.streak.length, 'problem date')})</small>` : '';
    const error = r.error ? `<td class="err" title="${esc(r.error.text)}"><small>${esc(r.error.date)}</small> ${esc(r.error.text)}</td>` : '<td class="err"></td>';
    return (
      `<tr><td><span class="badge lv-${esc(p.level)}">${esc(p.level)}</span></td>` +
      `<td${p.display_name.length > LONG_SUMMARY_NAME ? ' class="long"' : ''}><button type="button" class="jump" data-processor="${esc(p.name)}"><bdi>${esc(p.display_name)}</bdi></button>` +
      `${p.display_name === p.name ? '' : ` <code class="key">${esc(p.name)}</code>`}</td>` +
      `<td class="what">${esc(r.reasons.join(', '))}${alsoAffected}${runbookLink(r.actions)}</td><td class="since">${since}</td>${error}` +
      `<td>${esc(p.priority)}<span class="lbl"> priority</span>${p.revenue_impact ? ', revenue' : ''}</td></tr>`
    );
  });
  const rest = shown.length - Math.min(shown.length, SUMMARY_ITEMS);
  const notes = [
    rest > 0 ? `${rest} more with issues` : null,
    roots.length > 0 && waiting > 0 ? `${plural(waiting, 'processor')} waiting on an upstream (held by its dependency: fix the upstream first)` : null,
  ].filter(Boolean);
  const more = notes.length > 0 ? `<p class="more">…and ${notes.join('; ')}: the table below lists them worst first.</p>` : '';
  return (
    `${open(false)}<table class="sum"><thead><tr><th scope="col">Level</th><th scope="col">Processor</th><th scope="col">What is wrong</th>` +
    `<th scope="col">Problem since</th><th scope="col">Latest error</th><th scope="col">Priority</th></tr></thead>` +
    `<tbody>${items.join('')}</tbody></table>${more}</section>`
  );
}

/** The runbook of a strip row, filled for its latest problem date; registry URLs are http(s) only. */
function runbookLink(actions: ProcessorActions | null): string {
  return actions?.runbookUrl ? ` <a class="rb" href="${esc(actions.runbookUrl)}" rel="noopener noreferrer" target="_blank">Runbook</a>` : '';
}

/**
 * Worst first, as the table, but a root upstream ranks with the processors waiting on it: a
 * low-priority ingest that holds six high-priority, revenue processors is fixed before a
 * medium-priority one that holds none.
 */
function byUrgencyWithWaiting(rows: readonly ProcessorRow[]): (a: ProcessorRow, b: ProcessorRow) => number {
  const byName = new Map(rows.map((r) => [r.p.name, r.p]));
  // What byUrgency reads, once per row (not per comparison, and never the days: a packed
  // report unpacks them on each read).
  const rank = new Map<ProcessorRow, UrgencyKey>();
  const ranked = (r: ProcessorRow): UrgencyKey => {
    let known = rank.get(r);
    if (known === undefined) {
      const waiting = (r.detail?.also_affected ?? []).flatMap((name) => byName.get(name) ?? []);
      const priority = [r.p, ...waiting].map((p) => p.priority).sort((x, y) => PRIORITY_ORDER[x] - PRIORITY_ORDER[y])[0]!;
      const revenue = r.p.revenue_impact || waiting.some((p) => p.revenue_impact);
      known = { name: r.p.name, level: r.p.level, priority, revenue_impact: revenue };
      rank.set(r, known);
    }
    return known;
  };
  return (a, b) => byUrgency(ranked(a), ranked(b));
}

/** Each blocked date of a processor, with the upstreams that explain it (SPEC §12 blocked_by). */
function blockedDates(p: ProcessorReport): Map<string, string[]> {
  const byDate = new Map<string, string[]>();
  for (const b of p.blocked_by) for (const date of b.dates) byDate.set(date, [...(byDate.get(date) ?? []), b.processor]);
  return byDate;
}

function renderLegend(counts: Record<DisplayStatus, number>, blocked: number): string {
  const items = DISPLAY_STATUSES.map((status) => {
    const s = STATUS_STYLES[status];
    return `<li><span class="sw st-${status}">${esc(s.letter)}</span> ${esc(s.label)} <small>${esc(s.meaning)} (${counts[status]})</small></li>`;
  });
  items.push(`<li><span class="sw" data-blocked>${esc(STATUS_STYLES.missing.letter)}</span> blocked <small>striped: an upstream it depends on explains the date (${blocked})</small></li>`);
  return `<ul class="legend" aria-label="Legend">${items.join('')}</ul>`;
}

/** A header cell whose button sorts the table by `key` (the script keeps `aria-sort` true). */
function sortable(key: string, label: string, className: string, title: string, sorted = false): string {
  return `<th class="${className}" scope="col"${sorted ? ' aria-sort="ascending"' : ''} title="${esc(title)}"><button type="button" data-sort="${key}">${label}</button></th>`;
}

/** Columns between a month's name and its repeat on a Monday, in a window longer than a month. */
const MONTH_REPEAT_GAP = 4;

function renderHead(dates: readonly string[]): string {
  // Each month is named over its newest date; in a long window, also over each Monday at least a
  // few columns on, so a header scrolled into the middle of a month still says which it is.
  const long = dates.length > 31;
  let named = -Infinity;
  const cells = dates.map((date, i) => {
    const day = DateTime.fromISO(date, { zone: 'UTC' });
    const begins = i === 0 || date.slice(0, 7) !== dates[i - 1]!.slice(0, 7);
    const repeats = long && day.weekday === 1 && i - named >= MONTH_REPEAT_GAP && (dates[i + 1] === undefined || dates[i + 1]!.slice(0, 7) === date.slice(0, 7));
    if (begins || repeats) named = i;
    const month = begins || repeats ? `<b>${day.toFormat('LLL')}</b>` : '';
    const weekend = day.weekday >= 6 ? ' we' : '';
    return `<th class="d${weekend}" scope="col" data-date="${esc(date)}" title="${esc(date)} ${day.toFormat('ccc')}">${month}${day.toFormat('dd')}</th>`;
  });
  return (
    '<thead><tr>' +
    sortable('level', 'Level', 'c-lv', 'Sort by urgency: level, priority, revenue impact, name', true) +
    sortable('name', 'Processor', 'c-nm', 'Sort by processor key') +
    sortable('since', 'Problem since', 'c-ps', 'First problem date of the current streak (no success since it)') +
    sortable('error', 'Latest error', 'c-er', 'The newest failure in the window; sort by its date') +
    sortable('success', 'Last success', 'c-ls', 'The latest processing date that succeeded') +
    sortable('days', 'Since / limit', 'c-dy', 'Days since the last success / staleness threshold (days)') +
    sortable('priority', 'Priority', 'c-pr', 'Sort by priority') +
    '<th class="c-rv" scope="col" title="Revenue impact">Rev.</th>' +
    cells.join('') +
    '<th class="c-ow" scope="col">Owners</th></tr></thead>'
  );
}

function renderRow({ p, detail, since, streak, error, reasons }: ProcessorRow): string {
  const { days } = p;
  const threshold = detail?.staleness_threshold_days ?? null;
  const owners = detail?.owners ?? [];
  const nameTitle = [
    `${p.display_name} (${p.name})`,
    // Named in --processors though the registry disables it, as the terminal report says.
    detail?.enabled === false ? 'disabled in the registry: shown because named' : null,
    owners.length ? `owners: ${owners.join(', ')}` : null,
    detail?.slack_channel ? `slack: ${detail.slack_channel}` : null,
  ]
    .filter(Boolean)
    .join('\n');
  const daysSince = p.days_since_success === null ? 'never' : String(p.days_since_success);
  // Over the limit only where the check says so (stale): a processor that expects no date
  // (`expected_frequency: none`, a new calendar), or none due since its last success, is OK however
  // many days have passed, and its `never` or `10 / 2` is not a warning.
  const over = p.is_stale && (p.days_since_success === null || threshold === null || p.days_since_success > threshold);
  const tags = [p.is_stale ? '<i class="tag">stale</i>' : '', p.scheduler_issue ? '<i class="tag">no runs</i>' : ''].join('');
  const blocked = blockedDates(p);
  const cells = [...days].reverse().map((d) => {
    const status = displayStatus(d);
    const marker = status === 'recovered' ? ' data-recovered' : status === 'anomalous' ? ` data-anomalies="${esc(d.anomalies.join(' '))}"` : '';
    // SPEC §12: a date an upstream explains is shown as blocked (striped), not as this processor's own fault.
    const blockedBy = blocked.has(d.date) ? ' data-blocked' : '';
    return `<td data-status="${esc(d.status)}"${marker}${blockedBy}>${esc(STATUS_STYLES[status].letter)}</td>`;
  });
  return (
    `<tr data-processor="${esc(p.name)}" data-level="${esc(p.level)}">` +
    `<th class="c-lv" scope="row"><span class="badge lv-${esc(p.level)}" title="${esc(reasons.join('; ') || 'healthy')}">${esc(p.level)}</span></th>` +
    `<th class="c-nm" scope="row" title="${esc(nameTitle)}"><button type="button" class="nm">${detail?.enabled === false ? '<i class="tag">disabled</i>' : ''}<bdi>${esc(p.display_name)}</bdi> <code>${esc(p.name)}</code></button></th>` +
    `<td class="c-ps"${since !== null && since === days[0]?.date ? ' title="The first date of the window: the streak may have begun earlier"' : ''}>` +
    `${since ? `${esc(since)} <small>${streak.length}</small>` : ''}</td>` +
    (error ? `<td class="c-er" title="${esc(error.text)}"><small>${esc(error.date)}</small> ${esc(error.text)}</td>` : '<td class="c-er"></td>') +
    `<td class="c-ls">${esc(p.last_success_date ?? 'never')}</td>` +
    `<td class="c-dy${over ? ' over' : ''}">${daysSince} / ${threshold ?? '?'}${tags}</td>` +
    `<td class="c-pr">${esc(p.priority)}</td>` +
    `<td class="c-rv">${p.revenue_impact ? 'yes' : 'no'}</td>` +
    cells.join('') +
    `<td class="c-ow">${esc(owners.join(', '))}</td>` +
    '</tr>'
  );
}

// ---------------------------------------------------------------------------------------
// Data for the script: per processor its facts (details, sort keys) and per date, newest
// first like the columns, `0` (no run) or [runs, failed_runs, first started, last completed,
// error, notes] with times in seconds after the date's 00:00 UTC and error and notes indexes into `s`.

interface ReportData {
  tz: string;
  first: number;
  dates: string[];
  labels: Record<DisplayStatus, string>;
  s: string[];
  p: {
    n: string;
    d: string;
    l: string;
    w: string;
    ps: string | null;
    pc: number;
    ed: string | null;
    e: number | null;
    ls: string | null;
    ds: number | null;
    th: number | null;
    pr: string;
    rv: boolean;
    o: string;
    sl: string | null;
    /** Runbook URL, backfill commands, how many dates more, and the `pem gaps` line that lists them all; absent without them. */
    rb?: string;
    bf?: string[];
    bm?: number;
    bg?: string;
    c: (0 | (number | null)[])[];
  }[];
}

/**
 * The data block's JSON (`ReportData`, escaped as jsonForScript does), one processor's entry at a
 * time: byte for byte `jsonForScript(data)`. Its string table `s` comes before the entries that
 * index into it, so the entries are built twice: once to fill the table (and dropped), then again,
 * each written as it is made (interning the same texts in the same order gives the same indexes).
 */
function* dataPieces(rows: readonly ProcessorRow[], dates: readonly string[], timezone: string): Generator<string> {
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
  /** Seconds from the processing date's 00:00 UTC: about half the digits of epoch seconds, on every cell. */
  const secondsAfter = (date: string, iso: string | null): number | null => (iso === null ? null : Math.round(((instantMs(iso) ?? Date.parse(iso)) - dayStartMs(date)) / 1000));

  const entry = ({ p, detail, since, streak, error, reasons, actions }: ProcessorRow): ReportData['p'][number] => {
    const { days } = p;
    const blocked = blockedDates(p);
    const dayDetails = new Map((detail?.days ?? []).map((d) => [d.date, d]));
    return {
      n: p.name,
      d: p.display_name,
      l: p.level,
      w: reasons.join(', ') || 'healthy',
      ps: since,
      pc: streak.length,
      ed: error?.date ?? null,
      e: error ? intern(error.text) : null,
      ls: p.last_success_date,
      ds: p.days_since_success,
      th: detail?.staleness_threshold_days ?? null,
      pr: p.priority,
      rv: p.revenue_impact,
      o: (detail?.owners ?? []).join(', '),
      sl: detail?.slack_channel ?? null,
      ...(actions?.runbookUrl ? { rb: actions.runbookUrl } : {}),
      ...(actions && actions.backfillCommands.length > 0
        ? { bf: actions.backfillCommands, bm: actions.moreBackfillDates, ...(actions.moreBackfillDates > 0 ? { bg: actions.gapsCommand } : {}) }
        : {}),
      // Commands too long for an alert are shown nowhere cut (`processorActions`): say where they are.
      ...(actions && actions.backfillCommands.length === 0 && actions.moreBackfillDates > 0 ? { bf: [`${actions.gapsCommand}   # each command is too long to show here`] } : {}),
      c: [...days].reverse().map((day) => {
        const dayDetail = dayDetails.get(day.date);
        const dayError = [dayDetail?.last_error_type, dayDetail?.last_error_message].filter((e): e is string => Boolean(e)).join(': ');
        const upstreams = blocked.get(day.date);
        const notes = [...dayNotes(day), ...(upstreams ? [`blocked by ${upstreams.join(', ')}`] : [])];
        const cell: (number | null)[] = [
          day.runs,
          day.failed_runs,
          secondsAfter(day.date, dayDetail?.first_started_at ?? null),
          secondsAfter(day.date, dayDetail?.last_completed_at ?? null),
          dayError ? intern(clip(dayError)) : null,
          notes.length ? intern(notes.join('\n')) : null,
        ];
        while (cell.length > 2 && cell[cell.length - 1] === null) cell.pop();
        return cell.length === 2 && cell[0] === 0 && cell[1] === 0 ? 0 : cell;
      }),
    };
  };

  for (const row of rows) entry(row);
  const shell: Omit<ReportData, 'p'> = {
    tz: timezone,
    first: LEADING_COLUMNS,
    dates: dates.map((d) => `${d} ${DateTime.fromISO(d, { zone: 'UTC' }).toFormat('ccc')}`),
    labels: Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, STATUS_STYLES[s].label])) as Record<DisplayStatus, string>,
    s: strings,
  };
  // `{…,"s":[…]}` opened again for `"p":[…]}`: the keys in ReportData's order.
  yield `${jsonForScript(shell).slice(0, -1)},"p":[`;
  for (let i = 0; i < rows.length; i++) yield `${i > 0 ? ',' : ''}${jsonForScript(entry(rows[i]!))}`;
  yield ']}';
}

// ---------------------------------------------------------------------------------------
// Text

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for an HTML element or a quoted attribute value; control characters (an ESC of a
 * coloured log line showed as a box) and bidirectional controls are shown as `?` (`printable`), line
 * breaks and tabs kept.
 */
export function esc(text: string): string {
  return withLayoutOnly(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that is safe inside `<script type="application/json">`: no `<` (so no `</script>` or
 * `<!--`), `>` or `&`, and no U+2028/U+2029; JSON.parse reads the escapes back unchanged.
 */
export function jsonForScript(value: unknown): string {
  // Its strings become the tips' and details' text: bidirectional controls as `?`, as in the markup.
  return withoutBidiControls(JSON.stringify(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An instant in the registry time zone with its UTC offset, e.g. `2025-10-08 08:00:00 -04:00` (SPEC §11). */
export function formatInstant(iso: string, timezone: string): string {
  return DateTime.fromISO(iso, { zone: timezone }).toFormat('yyyy-LL-dd HH:mm:ss ZZ');
}

const clip = (text: string): string => ellipsize(text, MAX_ERROR_CHARS);


const sha256 = (text: string): string => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

function datesOf(start: string, end: string): string[] {
  const dates: string[] = [];
  for (let d = DateTime.fromISO(start, { zone: 'UTC' }); d.toISODate()! <= end; d = d.plus({ days: 1 })) dates.push(d.toISODate()!);
  return dates;
}
