/**
 * The HTML report's own style and script, inlined into the page and admitted by its
 * Content-Security-Policy by hash (src/report/html.ts). Plain ES5-level script: no build step,
 * no library, nothing fetched. Everything it writes from data goes through `textContent`.
 */
import { DISPLAY_STATUSES, STATUS_STYLES } from './statuses.js';

const statusRules = DISPLAY_STATUSES.map((status) => {
  const s = STATUS_STYLES[status];
  const selector = status === 'recovered' ? '[data-recovered]' : status === 'anomalous' ? '[data-anomalies]' : `[data-status=${status}]`;
  return `#heatmap td${selector},.st-${status}{background:${s.background};color:${s.color}}`;
}).join('\n');

export const PAGE_STYLE = `
:root{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
body{margin:0;padding:10px 16px;box-sizing:border-box;height:100vh;display:flex;flex-direction:column;overflow:auto}
body>*{flex:none}
h1{font-size:18px;margin:0 0 4px}
h2{font-size:14px;margin:0 0 4px}
dl{display:flex;flex-wrap:wrap;gap:2px 20px;margin:0 0 8px}
dl div{display:flex;gap:6px}dt{color:#555}dd{margin:0;font-weight:600}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-weight:700;font-size:11px;line-height:16px}
.lv-CRITICAL{background:#D55E00;color:#000}.lv-ERROR{background:#E69F00;color:#000}.lv-OK,.lv-INFO{background:#009E73;color:#000}
#summary{border:1px solid #ccc;border-left:5px solid #D55E00;padding:6px 10px;margin:0 0 8px}
#summary.ok{border-left-color:#009E73}
.sum{border-collapse:collapse;width:100%}
.sum th{font-weight:600;color:#555;text-align:left;padding:0 12px 2px 0;font-size:12px}
.sum td{padding:1px 12px 1px 0;vertical-align:top;white-space:normal;overflow-wrap:break-word}
.sum td.what{white-space:normal;min-width:260px}
.sum td.long{white-space:normal;min-width:22em;overflow-wrap:anywhere}
.sum td.err{width:30%;max-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;color:#8A2A00}
.sum small{color:#555}
.sum code.key{display:block;color:#666;font-size:11px;overflow-wrap:anywhere}
.sum .lbl{display:none}
#summary .more{margin:2px 0 0;color:#555}
.calm{margin:0;color:#14532D;font-weight:600}
.jump,.nm{font:inherit;background:none;border:0;padding:0;margin:0;color:inherit;cursor:pointer;text-align:left}
.jump{font-weight:700;color:#0050A0;text-decoration:underline}
.legend{display:flex;flex-wrap:wrap;gap:2px 16px;list-style:none;margin:0 0 8px;padding:0}
.legend small{color:#555}
.sw{display:inline-block;width:16px;height:16px;text-align:center;font:700 11px/16px ui-monospace,Menlo,Consolas,monospace;border:1px solid #bbb;vertical-align:middle}
.tools{display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center;margin:0 0 6px}
#filter{font:inherit;padding:3px 6px;min-width:220px}
#shown{color:#555}
.hint{margin:0 0 4px;color:#555}
.empty{padding:10px 12px;color:#1a1a1a;font-weight:600}
p.empty{margin:0 0 6px;background:#FFF7D6;border:1px solid #C9A800}
.scroll{flex:1 1 320px;min-height:320px;overflow:auto;border:1px solid #ccc}
table{border-collapse:separate;border-spacing:0}
caption{text-align:left;color:#555;padding:2px 4px}
th,td{white-space:nowrap}
thead th{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #999;font-weight:600;padding:2px 4px;text-align:left;vertical-align:bottom}
thead th button{font:inherit;font-weight:600;background:none;border:0;padding:2px 0;margin:0;color:inherit;cursor:pointer;text-align:left}
thead th[aria-sort=ascending] button::after{content:" \\25B2";font-size:9px}
thead th[aria-sort=descending] button::after{content:" \\25BC";font-size:9px}
thead th.d{padding:0;width:15px;min-width:15px;text-align:center;font:10px/12px ui-monospace,Menlo,Consolas,monospace;color:#333}
thead th.d b{display:block;font-weight:700}
thead th.we{color:#666}
thead th.we b{color:#333}
tbody th{font-weight:400;text-align:left}
.c-lv{position:sticky;left:0;z-index:1;background:#fff;width:72px;min-width:72px;max-width:72px;padding:0 4px;box-sizing:border-box}
.c-nm{position:sticky;left:72px;z-index:1;background:#fff;width:clamp(240px,20vw,400px);min-width:clamp(240px,20vw,400px);max-width:clamp(240px,20vw,400px);padding:0 6px;box-sizing:border-box;border-right:1px solid #999}
thead .c-lv,thead .c-nm{z-index:3}
.nm{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;width:100%;overflow:hidden;white-space:normal;overflow-wrap:anywhere;text-align:left}
.nm code{color:#666;font-size:11px}
td.c-ps,td.c-er,td.c-ls,td.c-dy,td.c-pr,td.c-rv,td.c-ow{padding:0 6px;color:#333}
.c-ps{min-width:92px}
.c-ps small{display:inline-block;min-width:14px;padding:0 3px;border-radius:7px;background:#eee;text-align:center;font-size:10px}
td.c-er{width:clamp(160px,14vw,300px);min-width:clamp(160px,14vw,300px);max-width:clamp(160px,14vw,300px);overflow:hidden;text-overflow:ellipsis;color:#8A2A00;cursor:pointer}
.c-er small,.err small{color:#555}
td.c-rv{border-right:1px solid #999}
td.c-dy.over{color:#B13F00;font-weight:700}
.tag{font-style:normal;font-size:10px;border:1px solid currentColor;border-radius:3px;padding:0 3px;margin-left:4px}
.nm .tag{margin:0 4px 0 0}
tbody tr:hover th,tbody tr:hover td:not([data-status]){background:#EEF3FF}
#heatmap td[data-status]{width:15px;min-width:15px;height:16px;padding:0;text-align:center;font:700 10px/16px ui-monospace,Menlo,Consolas,monospace;border-right:1px solid #fff;border-bottom:1px solid #fff;cursor:pointer}
${statusRules}
#heatmap td[data-status=not_expected],.st-not_expected{font-weight:400}
#heatmap td[data-blocked],.legend .sw[data-blocked]{background-image:repeating-linear-gradient(135deg,transparent 0 3px,rgba(255,255,255,.6) 3px 5px)}
.legend .sw[data-blocked]{background-color:${STATUS_STYLES.missing.background};color:${STATUS_STYLES.missing.color}}
#heatmap td[data-status]:focus{outline:2px solid #000;outline-offset:-2px}
button:focus-visible,input:focus-visible{outline:2px solid #0050A0;outline-offset:1px}
#tip{position:fixed;z-index:10;max-width:420px;padding:6px 8px;background:#1a1a1a;color:#fff;border-radius:4px;font-size:12px;white-space:pre-line;overflow-wrap:anywhere;pointer-events:none}
#details{position:fixed;right:12px;bottom:12px;z-index:20;box-sizing:border-box;width:440px;max-width:calc(100vw - 24px);max-height:60vh;overflow:auto;background:#fff;border:1px solid #333;border-radius:6px;box-shadow:0 4px 16px rgba(0,0,0,.25);padding:10px 12px}
#details h2{margin:0 30px 6px 0;overflow-wrap:anywhere}
#details-body{white-space:pre-line;overflow-wrap:anywhere}
#details-close{position:absolute;top:4px;right:4px;width:32px;height:32px;font-size:20px;line-height:1;background:none;border:0;cursor:pointer}
@media (min-width:1181px){
.sum td{white-space:nowrap}
.sum td.what,.sum td.long{white-space:normal}
}
@media (max-width:1180px){
.c-er,.c-pr,.c-rv{display:none}
}
@media (max-width:900px){
.c-ls,.c-dy{display:none}
.sum td.what{min-width:160px}
.sum td.long{min-width:10em}
}
@media (max-width:700px){
body{padding:8px;height:auto;display:block}
dl{gap:0 12px}
.sum thead{display:none}
.sum,.sum tbody,.sum tr{display:block}
.sum tr{padding:4px 0;border-top:1px solid #ddd}
.sum td{display:inline;padding:0 6px 0 0;white-space:normal;overflow-wrap:anywhere}
.sum td.err{display:block;width:auto;max-width:none;white-space:nowrap}
.sum td.since{display:block}
.sum .lbl{display:inline}
.legend small{display:none}
#filter{min-width:0;flex:1 1 160px}
.scroll{max-height:75vh;min-height:0}
.c-lv,.c-er,.c-ls,.c-dy,.c-pr,.c-rv,.c-ow{display:none}
.c-nm{left:0;width:150px;min-width:150px;max-width:150px;padding-left:10px}
.nm{-webkit-line-clamp:3}
tr[data-level=CRITICAL] th.c-nm{box-shadow:inset 5px 0 #D55E00}
tr[data-level=ERROR] th.c-nm{box-shadow:inset 5px 0 #E69F00}
tr[data-level=OK] th.c-nm{box-shadow:inset 5px 0 #009E73}
tr[data-level=CRITICAL] .nm::before,tr[data-level=ERROR] .nm::before{display:inline-block;margin-right:4px;padding:0 3px;border-radius:3px;font:700 10px/14px system-ui,sans-serif;color:#000}
tr[data-level=CRITICAL] .nm::before{content:"CRIT";background:#D55E00}
tr[data-level=ERROR] .nm::before{content:"ERR";background:#E69F00}
td.c-ps{padding:0 4px}
.nm code{display:none}
#heatmap td[data-status]{width:26px;min-width:26px;height:30px;font-size:12px;line-height:30px}
thead th.d{width:26px;min-width:26px}
#details{left:0;right:0;bottom:0;width:auto;max-width:none;max-height:55vh;border-radius:10px 10px 0 0}
}
@media print{
@page{size:landscape;margin:10mm}
.tools,.hint,#tip,#details{display:none}
body{display:block;height:auto;padding:0}
.scroll{max-height:none;min-height:0;overflow:visible;border:0}
.c-er,.c-ls,.c-pr,.c-rv,.c-ow{display:none}
.c-lv,.c-nm,thead th{position:static}
.nm{display:block;-webkit-line-clamp:none}
}
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('pem-data').textContent);
  var table = document.getElementById('heatmap');
  var body = table.tBodies[0];
  var scroller = table.parentNode;
  var tip = document.getElementById('tip');
  var panel = document.getElementById('details');
  var panelTitle = document.getElementById('details-title');
  var panelBody = document.getElementById('details-body');
  var filter = document.getElementById('filter');
  var issuesOnly = document.getElementById('issues-only');
  var shownNote = document.getElementById('shown');
  var noMatch = document.getElementById('no-match');

  /* Rows in data order (worst first); a row keeps its data index however the table is sorted. */
  var rows = [];
  var indexOf = new WeakMap();
  for (var r = 0; r < data.p.length; r++) { rows.push(body.rows[r]); indexOf.set(body.rows[r], r); }
  function dataOf(tr) { return data.p[indexOf.get(tr)]; }

  /* Times in the registry time zone with their UTC offset, e.g. 2025-10-04 02:00:00 -04:00. */
  var stamp = new Intl.DateTimeFormat('sv-SE', { timeZone: data.tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  var zone = null;
  try { zone = new Intl.DateTimeFormat('en-US', { timeZone: data.tz, timeZoneName: 'longOffset' }); } catch (e) { zone = null; }
  function offset(date) {
    var parts = zone ? zone.formatToParts(date) : [];
    for (var k = 0; k < parts.length; k++) {
      if (parts[k].type === 'timeZoneName') return parts[k].value.replace('GMT', '').replace('\\u2212', '-') || '+00:00';
    }
    return data.tz;
  }
  /* A cell's times are seconds after its processing date's 00:00 UTC (see buildData). */
  function time(i, seconds) { var d = new Date(Date.parse(data.dates[i].slice(0, 10) + 'T00:00:00Z') + seconds * 1000); return stamp.format(d) + ' ' + offset(d); }

  function isCell(el) { return el && el.tagName === 'TD' && el.hasAttribute('data-status'); }
  function dayIndex(td) { return td.cellIndex - data.first; }

  function cellLines(td) {
    var p = dataOf(td.parentNode);
    var i = dayIndex(td);
    var c = p.c[i] || [0, 0];
    var status = td.hasAttribute('data-anomalies') ? 'anomalous' : td.hasAttribute('data-recovered') ? 'recovered' : td.getAttribute('data-status');
    var lines = [p.d + ' (' + p.n + ')', data.dates[i] + ': ' + data.labels[status], 'runs: ' + c[0] + ', failed runs: ' + c[1]];
    if (c[2] != null) lines.push('first started: ' + time(i, c[2]));
    if (c[3] != null) lines.push('last completed: ' + time(i, c[3]));
    if (c[4] != null) lines.push('last error: ' + data.s[c[4]]);
    if (c[5] != null) lines.push(data.s[c[5]]);
    return lines;
  }

  function processorLines(tr) {
    var p = dataOf(tr);
    var lines = [p.d, 'key: ' + p.n, 'level: ' + p.l + ' (' + p.w + ')',
      'problem since: ' + (p.ps ? p.ps + ' (' + p.pc + ' problem date' + (p.pc === 1 ? '' : 's') + ' since)' : 'no problem date in the window')];
    if (p.e != null) lines.push('latest error (' + p.ed + '): ' + data.s[p.e]);
    lines.push('last success: ' + (p.ls || 'never') + (p.ds == null ? '' : ' (' + p.ds + ' day' + (p.ds === 1 ? '' : 's') + ' before the window end'
      + (p.th == null ? '' : '; stale after ' + p.th) + ')'));
    lines.push('priority: ' + p.pr + (p.rv ? ', revenue impact' : ''));
    if (p.o) lines.push('owners: ' + p.o);
    if (p.sl) lines.push('slack: ' + p.sl);
    if (p.rb) lines.push('runbook: ' + p.rb);
    if (p.bf) lines.push('backfill' + (p.bm ? ' (first ' + p.bf.length + '; ' + p.bm + ' more with ' + (p.bg || 'pem gaps --format commands') + ')' : '') + ':\\n  ' + p.bf.join('\\n  '));
    return lines;
  }

  /* The floating tip: for the mouse (near the pointer) and for keyboard focus (beside the element). */
  function showTip(text, x, y, avoid) {
    tip.textContent = text;
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = Math.max(4, (avoid ? avoid.left : x) - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, (avoid ? avoid.top : y) - h - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function tipBeside(el, text) {
    var box = el.getBoundingClientRect();
    showTip(text, box.right + 6, box.bottom + 4, box);
  }

  /* Details in a panel, for a tap, a click, Enter or Space: nothing is hover-only. */
  var opener = null;
  var panelFor = null;
  function openDetails(lines, from, what) {
    panelTitle.textContent = lines[0];
    panelBody.textContent = lines.slice(1).join('\\n');
    panel.hidden = false;
    opener = from;
    panelFor = what;
    hideTip();
  }
  function closeDetails() {
    panel.hidden = true;
    panelFor = null;
    if (opener && opener.focus && document.contains(opener)) opener.focus();
  }
  document.getElementById('details-close').addEventListener('click', closeDetails);

  /* One cell of the grid is in the tab order; the arrow keys move it (ARIA roving tabindex). */
  var active = null;
  function activate(td, focus) {
    if (active && active !== td) active.removeAttribute('tabindex');
    td.tabIndex = 0;
    /* Its accessible name: a screen reader would otherwise read the status letter alone ("F"). */
    var lines = cellLines(td);
    /* A blocked date says by whom: its stripes alone are lost on a screen reader and on paper. */
    var c = dataOf(td.parentNode).c[dayIndex(td)] || [];
    var note = td.hasAttribute('data-blocked') && c[5] != null ? '; ' + data.s[c[5]].split('\\n').join('; ') : '';
    td.setAttribute('aria-label', lines[1] + note + ', ' + lines[0]);
    active = td;
    if (focus) td.focus();
  }
  function firstCell(tr) { return tr.cells[data.first]; }
  function visibleRow(tr, step) {
    for (var next = step > 0 ? tr.nextElementSibling : tr.previousElementSibling; next; next = step > 0 ? next.nextElementSibling : next.previousElementSibling) {
      if (!next.hidden) return next;
    }
    return null;
  }
  function resetActive() {
    for (var k = 0; k < body.rows.length; k++) {
      if (!body.rows[k].hidden && indexOf.has(body.rows[k])) { activate(firstCell(body.rows[k]), false); return; }
    }
  }

  var pointing = false;
  document.addEventListener('pointerdown', function () { pointing = true; }, true);
  document.addEventListener('keydown', function (event) {
    pointing = false;
    if (event.key === 'Escape' && !panel.hidden) { closeDetails(); event.preventDefault(); }
  }, true);

  body.addEventListener('pointerover', function (event) {
    if (event.pointerType !== 'mouse' || !panel.hidden) return;
    var td = event.target.closest('td[data-status]');
    if (!isCell(td) || !indexOf.has(td.parentNode)) { hideTip(); return; }
    showTip(cellLines(td).join('\\n'), event.clientX + 14, event.clientY + 14, { left: event.clientX, top: event.clientY });
  });
  body.addEventListener('pointermove', function (event) {
    if (event.pointerType === 'mouse' && !tip.hidden && isCell(event.target)) {
      showTip(tip.textContent, event.clientX + 14, event.clientY + 14, { left: event.clientX, top: event.clientY });
    }
  });
  table.addEventListener('pointerleave', hideTip);
  scroller.addEventListener('scroll', hideTip, { passive: true });

  body.addEventListener('focusin', function (event) {
    var el = event.target;
    var tr = el.closest('tr');
    if (!tr || !indexOf.has(tr)) return;
    if (isCell(el)) {
      activate(el, false);
      if (panelFor === 'cell') openDetails(cellLines(el), el, 'cell');
      else if (!pointing && panel.hidden) tipBeside(el, cellLines(el).join('\\n'));
    } else if (el.classList.contains('nm') && !pointing && panel.hidden) {
      var p = dataOf(tr);
      tipBeside(el, p.d + ' (' + p.n + ')\\n' + p.l + ': ' + p.w);
    }
  });
  body.addEventListener('focusout', hideTip);

  body.addEventListener('click', function (event) {
    var el = event.target;
    var tr = el.closest('tr');
    if (!tr || !indexOf.has(tr)) return;
    var td = el.closest('td[data-status]');
    if (isCell(td)) { activate(td, true); openDetails(cellLines(td), td, 'cell'); return; }
    var name = el.closest('.nm');
    if (name || el.closest('td.c-er') || el.closest('td.c-ps')) {
      openDetails(processorLines(tr), tr.querySelector('.nm'), 'processor');
    }
  });

  body.addEventListener('keydown', function (event) {
    var el = event.target;
    var tr = el.closest('tr');
    if (!tr || !indexOf.has(tr)) return;
    var target = null;
    if (isCell(el)) {
      var i = el.cellIndex, last = tr.cells.length - 2;
      if (event.key === 'ArrowRight') target = i < last ? tr.cells[i + 1] : null;
      else if (event.key === 'ArrowLeft') target = i > data.first ? tr.cells[i - 1] : tr.querySelector('.nm');
      else if (event.key === 'Home') target = firstCell(tr);
      else if (event.key === 'End') target = tr.cells[last];
      else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        var row = visibleRow(tr, event.key === 'ArrowDown' ? 1 : -1);
        target = row ? row.cells[i] : null;
      } else if (event.key === 'Enter' || event.key === ' ') {
        openDetails(cellLines(el), el, 'cell');
        event.preventDefault();
        return;
      } else return;
    } else if (el.classList.contains('nm')) {
      if (event.key === 'ArrowRight') target = firstCell(tr);
      else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        var next = visibleRow(tr, event.key === 'ArrowDown' ? 1 : -1);
        target = next ? next.querySelector('.nm') : null;
      } else return;
    } else return;
    event.preventDefault();
    if (!target) return;
    if (isCell(target)) activate(target, true);
    else target.focus();
  });

  /* Sorting: a button in each sortable header; aria-sort says which column and which way. */
  var PRIORITY = { high: 0, medium: 1, low: 2 };
  var SORTS = {
    level: { label: 'urgency', dir: 1, key: function (i) { return i; } },
    name: { label: 'processor key', dir: 1, key: function (i) { return data.p[i].n; } },
    since: { label: 'problem since', dir: 1, key: function (i) { return data.p[i].ps; } },
    error: { label: 'latest error date', dir: -1, key: function (i) { return data.p[i].ed; } },
    success: { label: 'last success', dir: 1, key: function (i) { return data.p[i].ls === null ? '' : data.p[i].ls; } },
    days: { label: 'days since success', dir: -1, key: function (i) { return data.p[i].ds === null ? Infinity : data.p[i].ds; } },
    priority: { label: 'priority', dir: 1, key: function (i) { return PRIORITY[data.p[i].pr]; } }
  };
  var sorted = { by: 'level', dir: 1 };
  var headers = table.tHead.querySelectorAll('button[data-sort]');
  function sortBy(by, dir) {
    var key = SORTS[by].key;
    var order = rows.map(function (tr, i) { return i; });
    order.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === y) return a - b;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    var rest = document.createDocumentFragment();
    for (var k = 0; k < order.length; k++) rest.appendChild(rows[order[k]]);
    body.appendChild(rest);
    sorted = { by: by, dir: dir };
    for (var h = 0; h < headers.length; h++) {
      var th = headers[h].parentNode;
      if (headers[h].getAttribute('data-sort') === by) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    resetActive();
    count();
  }
  table.tHead.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-sort]');
    if (!button) return;
    var by = button.getAttribute('data-sort');
    sortBy(by, by === sorted.by ? -sorted.dir : SORTS[by].dir);
  });

  /* Filters, and what to say when they leave nothing. */
  function count() {
    var shown = 0;
    for (var k = 0; k < rows.length; k++) if (!rows[k].hidden) shown++;
    var by = SORTS[sorted.by].label + (sorted.dir === SORTS[sorted.by].dir ? '' : ', reversed');
    shownNote.textContent = (shown === rows.length ? rows.length : shown + ' of ' + rows.length) + ' processor' + (rows.length === 1 ? '' : 's') + ', sorted by ' + by;
    return shown;
  }
  function apply() {
    var q = filter.value.trim().toLowerCase();
    for (var k = 0; k < rows.length; k++) {
      var p = data.p[k];
      var match = !q || p.n.toLowerCase().indexOf(q) >= 0 || p.d.toLowerCase().indexOf(q) >= 0;
      rows[k].hidden = !match || (issuesOnly.checked && p.l === 'OK');
    }
    hideTip();
    var shown = count();
    noMatch.hidden = shown > 0 || rows.length === 0;
    if (!noMatch.hidden) {
      noMatch.textContent = q
        ? 'No processor matches \\u201c' + filter.value.trim() + '\\u201d' + (issuesOnly.checked ? ' among those with issues' : '') + '. Clear the filter to see all ' + rows.length + '.'
        : 'No processor has issues: all ' + rows.length + ' are healthy. Untick \\u201conly processors with issues\\u201d to see them.';
    }
    if (!active || active.parentNode.hidden) resetActive();
    if (!panel.hidden && opener && opener.closest('tr').hidden) { opener = null; closeDetails(); }
  }
  filter.addEventListener('input', apply);
  issuesOnly.addEventListener('change', apply);

  /* The summary's names jump to their row and open its details. */
  var summary = document.getElementById('summary');
  summary.addEventListener('click', function (event) {
    var button = event.target.closest('button.jump');
    if (!button) return;
    var name = button.getAttribute('data-processor');
    for (var k = 0; k < rows.length; k++) {
      if (data.p[k].n !== name) continue;
      if (rows[k].hidden) { filter.value = ''; issuesOnly.checked = false; apply(); }
      var nm = rows[k].querySelector('.nm');
      rows[k].scrollIntoView({ block: 'center' });
      nm.focus({ preventScroll: true });
      openDetails(processorLines(rows[k]), nm, 'processor');
      return;
    }
  });

  apply();
})();
`;
