/**
 * The Slack message of a run: one Block Kit message per run per webhook, grouping everything,
 * worst and highest-impact first, written to be read on a phone. Pure: returns the payload.
 *
 * Limits designed for (SPEC §5):
 *   - at most 50 blocks per message (https://api.slack.com/reference/block-kit/blocks);
 *   - a section's text at most 3,000 characters, a header's 150, a context's 10 elements;
 *   - Slack has rejected block messages near 13,000 characters in total with
 *     `msg_blocks_too_long` although each block was within its limit
 *     (https://github.com/slackapi/bolt-js/issues/2509), so the text of all blocks together stays
 *     within MESSAGE_TEXT_BUDGET, well under that. What does not fit becomes "…and N more".
 */
import { anomalyDates } from '../check/anomalies.js';
import type { HoldReason } from '../check/noise.js';
import type { CheckReport, CheckResult, ProcessorDetail, ProcessorReport } from '../check/report.js';
import { REASON_WORDS } from '../check/terminal.js';
import { byUrgency } from '../check/report.js';
import { ellipsize, plural, withLayoutOnly } from '../printable.js';
import { compactRanges, dateRangeLabel, type ProcessorActions } from './actions.js';
import { localTime } from '../local-time.js';
import { issueKinds, KIND_LABEL, PAGING_KINDS, RUNBOOK_HINT, type IssueKind } from './issues.js';
import type { ActiveSilence, DueReason } from './plan.js';

export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_HEADER_TEXT = 150;
export const MAX_CONTEXT_ELEMENTS = 10;
export const MESSAGE_TEXT_BUDGET = 8_000;
/** The notification/fallback text; Slack shows it in push notifications. */
const MAX_FALLBACK_TEXT = 300;
const MAX_ERROR_TEXT = 280;
const MAX_DATES_SHOWN = 6;
const MAX_NAME_TEXT = 80;
const MAX_SILENCE_REASON_TEXT = 80;
const OVERFLOW_TEXT = 900;
const RECOVERED_TEXT = 1500;

interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}
export type SlackBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  unfurl_links: boolean;
  unfurl_media: boolean;
}

export interface SlackTrigger {
  processor: string;
  kinds: { kind: IssueKind; reason: DueReason }[];
}

export interface SlackRecovery {
  processor: string;
  kinds: IssueKind[];
}

export interface SlackMessageInput {
  result: CheckResult;
  dataset: string;
  triggers: readonly SlackTrigger[];
  recoveries: readonly SlackRecovery[];
  /** Processors with open issues already notified and not due for a reminder. */
  alsoOpen: readonly string[];
  silenced: readonly ActiveSilence[];
  renotifyHours: number;
  /** SPEC §11: the route this message goes to; its processors are the ones counted. Default: all. */
  route?: string;
  /** Processors of this route (null or absent: every processor of the check). */
  scope?: ReadonlySet<string> | null;
  /** What a person can do per processor (since when, runbook, backfill, `pem check`). */
  actions?: ReadonlyMap<string, ProcessorActions>;
  /** The registry's time zone: every time shown is in it, with its offset. Default UTC. */
  timezone?: string;
  /** The registry's `report_url`. */
  reportUrl?: string | null;
  /**
   * The WARNING summary (SPEC §5, on the default route): processors with issues per route across
   * the whole run. Absent when there is no WARNING.
   */
  warning?: { processors: number; byRoute: Record<string, number> } | null;
  /** `pem check …` for the whole run (the footer's "full report" line). */
  checkCommand?: string;
  /**
   * The route's processors whose alert noise control held (SPEC §12), named in the footer: the
   * header counts them by level, and a reader should see why they have no section.
   */
  held?: readonly { processor: string; reason: HoldReason }[];
}

export interface BuiltSlackMessage {
  message: SlackMessage;
  /** Processors with a section of their own. */
  detailed: string[];
  /** Processors named only in the "…and N more" line. */
  summarized: string[];
}

const LEVEL_EMOJI: Record<string, string> = { CRITICAL: ':red_circle:', ERROR: ':large_orange_circle:', OK: ':large_green_circle:' };

/**
 * Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping),
 * and what text from processors must not carry into a channel: control characters and the invisible
 * bidirectional controls become `?` as on the terminal (`printable`: "Trojan Source"; line breaks
 * and tabs stay, a message's own layout), and a ``` becomes ''' so that it cannot open a code block
 * that a later one (a backfill command) would close, turning the rest of the message inside out.
 */
export function escapeMrkdwn(text: string): string {
  return withLayoutOnly(text)
    .replace(/```/g, "'''")
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * A name or a one-line text (display name, owner, error type) on one line: a line break in it made
 * a line of its own in the section, which could read as another processor's (`…\n:large_green_circle:
 * *OK · …*` inside a CRITICAL section), or end an inline code early.
 */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Inline code that cannot be broken by the text it holds. A command keeps its spacing (a path with two spaces is another path): names are made one line where they are shown. */
function code(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

/**
 * How long the newest hung date's run has been going, as the check saw it: ` (2025-10-07 running
 * for 11 h 20 min)`; a hung run whose rows give no start says nothing more.
 */
function hungFor(hung: { date: string; started_at: string | null } | null, now: string | undefined): string {
  if (!hung?.started_at || now === undefined) return '';
  const minutes = Math.floor((Date.parse(now) - Date.parse(hung.started_at)) / 60_000);
  if (!Number.isFinite(minutes) || minutes < 0) return '';
  const [days, hours, mins] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  const text = days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${mins} min` : `${mins} min`;
  return ` (${hung.date} running for ${text})`;
}

function dateList(dates: readonly string[]): string {
  const shown = dates.slice(0, MAX_DATES_SHOWN).join(', ');
  return dates.length > MAX_DATES_SHOWN ? `${shown} (+${dates.length - MAX_DATES_SHOWN} more)` : shown;
}

function formatInstant(iso: string, timezone = 'UTC'): string {
  return localTime(iso, timezone);
}

/** A link Slack renders (`<url|text>`), its URL escaped like any text (https://api.slack.com/reference/surfaces/formatting#linking-urls). */
function link(url: string, text: string): string {
  return `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(text)}>`;
}

/** A code block that the text it holds cannot close early. */
function codeBlock(lines: readonly string[]): string {
  return `\`\`\`${escapeMrkdwn(lines.join('\n'))}\`\`\``;
}

function levelCounts(processors: readonly ProcessorReport[]): { critical: number; error: number; ok: number } {
  return {
    critical: processors.filter((p) => p.level === 'CRITICAL').length,
    error: processors.filter((p) => p.level === 'ERROR').length,
    ok: processors.filter((p) => p.level === 'OK').length,
  };
}

function textLength(block: SlackBlock): number {
  switch (block.type) {
    case 'header':
    case 'section':
      return block.text.text.length;
    case 'context':
      return block.elements.reduce((n, e) => n + e.text.length, 0);
    case 'divider':
      return 0;
  }
}

export function messageTextLength(message: SlackMessage): number {
  return message.blocks.reduce((n, b) => n + textLength(b), 0);
}

function tag(trigger: SlackTrigger): string {
  const fresh = trigger.kinds.filter((k) => k.reason === 'new').map((k) => KIND_LABEL[k.kind]);
  if (fresh.length === 0) return '_reminder: still open_';
  if (fresh.length === trigger.kinds.length) return '_new_';
  return `_new: ${fresh.join(', ')}_`;
}

/** One processor's section: what is wrong, which dates, last success, latest error, what to do, who owns it. */
export function processorSection(
  p: ProcessorReport,
  detail: ProcessorDetail | undefined,
  trigger: SlackTrigger,
  asOf: string,
  actions?: ProcessorActions,
  reportUrl?: string | null,
  now?: string,
): string {
  const lines: string[] = [];
  const name = escapeMrkdwn(ellipsize(oneLine(p.display_name), MAX_NAME_TEXT));
  lines.push(`${LEVEL_EMOJI[p.level] ?? ''} *${p.level} · ${name}*`);
  const tags = [code(ellipsize(p.name, MAX_NAME_TEXT)), `${p.priority} priority`, p.revenue_impact ? ':moneybag: revenue impact' : null, tag(trigger)];
  lines.push(tags.filter(Boolean).join(' · '));
  const threshold = detail ? ` (threshold ${plural(detail.staleness_threshold_days, 'day')})` : '';
  if (p.is_stale) {
    lines.push(
      p.last_success_date === null
        ? `• *Stale:* never succeeded`
        : `• *Stale:* last success ${p.last_success_date}, ${plural(p.days_since_success ?? 0, 'day')} before ${asOf}${threshold}`,
    );
  } else {
    lines.push(`• *Last success:* ${p.last_success_date ?? 'never'}`);
  }
  if (p.scheduler_issue) lines.push('• *Scheduler issue:* no run rows at all in the window, though dates were due');
  if (p.failed_dates.length > 0) lines.push(`• *Failed:* ${dateList(p.failed_dates)}`);
  if (p.hung_dates.length > 0) lines.push(`• *Hung:* ${dateList(p.hung_dates)}${hungFor(detail?.latest_hung ?? null, now)}`);
  if (p.missing_dates.length > 0) lines.push(`• *Missing:* ${dateList(p.missing_dates)}`);
  // Read once, and only when shown: in a long window each read of `days` unpacks them (PackedDays).
  const days = p.low_volume_dates.length + p.high_volume_dates.length + p.slow_dates.length > 0 ? p.days : [];
  if (p.low_volume_dates.length > 0) lines.push(`• *Low volume:* ${dateList(anomalyDates(days, 'low_volume'))}`);
  if (p.high_volume_dates.length > 0) lines.push(`• *High volume:* ${dateList(anomalyDates(days, 'high_volume'))}`);
  if (p.slow_dates.length > 0) lines.push(`• *Slow:* ${dateList(anomalyDates(days, 'slow'))}`);
  if (p.recovered_failure_dates.length > 0) lines.push(`• *Recovered failures:* ${dateList(p.recovered_failure_dates)}`);
  if (actions?.since && actions.problemRanges) {
    lines.push(`• *Since* ${actions.streakBeforeWindow ? 'before ' : ''}${actions.since}: ${escapeMrkdwn(actions.problemRanges)}`);
  }
  const failure = detail?.latest_failure;
  if (failure && (failure.error_type || failure.error_message)) {
    const type = failure.error_type ? `${code(ellipsize(oneLine(failure.error_type), MAX_NAME_TEXT))} ` : '';
    const message = failure.error_message ? escapeMrkdwn(ellipsize(oneLine(failure.error_message), MAX_ERROR_TEXT)) : '';
    lines.push(`• *Latest error* (${failure.date}): ${type}${message}`.trimEnd());
  }
  if (p.blocked_by.length > 0) {
    lines.push(`• *Blocked by:* ${firstOf(p.blocked_by, MAX_LISTED, (b) => `${code(ellipsize(b.processor, MAX_NAME_TEXT))} (${dateList(b.dates)})`)}`);
  }
  // SPEC §12: the downstream processors held because this one's dates explain theirs.
  const affected = detail?.also_affected ?? [];
  if (affected.length > 0) lines.push(`• *Also affected:* ${firstOf(affected, MAX_LISTED, (name) => code(ellipsize(name, MAX_NAME_TEXT)))}`);
  // The hint for the worst of what the section shows, not of what is due: a stale processor whose
  // failed dates are new this run is still to be fixed as stale (backfill since the last success).
  const worst = issueKinds(p)[0] ?? trigger.kinds.map((k) => k.kind).sort((a, b) => KIND_ORDER[a] - KIND_ORDER[b])[0];
  if (worst) lines.push(`:wrench: ${escapeMrkdwn(RUNBOOK_HINT[worst])}`);
  const links = [actions?.runbookUrl ? link(actions.runbookUrl, 'Runbook') : null, reportUrl ? link(reportUrl, 'Report') : null].filter(Boolean);
  if (links.length > 0) lines.push(`:book: ${links.join(' · ')}`);
  if (actions && actions.backfillCommands.length > 0) {
    const more = actions.moreBackfillDates > 0 ? ` (first ${actions.backfillCommands.length}; ${actions.moreBackfillDates} more with ${code(actions.gapsCommand)})` : '';
    lines.push(`*Backfill*${more}:\n${codeBlock(actions.backfillCommands)}`);
  } else if (actions && actions.moreBackfillDates > 0) {
    lines.push(backfillElsewhere(actions.gapsCommand));
  }
  if (actions) lines.push(`*Reproduce:* ${code(actions.checkCommand)}`);
  const owners = [...(detail?.owners ?? []), ...(detail?.slack_channel ? [detail.slack_channel] : [])];
  if (owners.length > 0) lines.push(`:busts_in_silhouette: ${ownersWithin(owners, MAX_OWNERS_TEXT)}`);
  return fitSection(lines, MAX_SECTION_TEXT, backfillElsewhere(actions?.gapsCommand ?? 'pem gaps --format commands'));
}

/** Where the backfill commands are when they are too long to show whole: the run's own `pem gaps` line. */
function backfillElsewhere(gapsCommand: string): string {
  return `*Backfill:* ${code(gapsCommand)} (too long for this message)`;
}

/** Names listed in a section line: more than this many end in `+N more`. */
const MAX_LISTED = 10;
/** The owners line's length before `+N more`. */
const MAX_OWNERS_TEXT = 300;

/** The first `max` items shown, then `+N more` (`+N` with `more` empty, as in the footer). */
function firstOf<T>(items: readonly T[], max: number, show: (item: T) => string, more = ' more'): string {
  return `${items.slice(0, max).map(show).join(', ')}${items.length > max ? ` +${items.length - max}${more}` : ''}`;
}

/**
 * Slack's mention of a user, a user group or a channel (https://api.slack.com/reference/surfaces/formatting#mentioning-users),
 * optionally with a label after `|`. Written so in `owners` or `slack_channel`, it is sent as is,
 * and notifies them: a plain `@alice` or `#channel` in a webhook's message notifies no one.
 */
const SLACK_MENTION = /^<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|!subteam\^S[A-Z0-9]+)(?:\|[^<>&|]*)?>$/;

/** An owner as the section shows it: a Slack mention whole, anything else as text. */
function ownerText(name: string, max: number): string {
  return SLACK_MENTION.test(name) ? name : escapeMrkdwn(ellipsize(oneLine(name), max));
}

/** Owners joined by ` · ` while they fit in `max` characters (the first one cut to fit), then `+N more`. */
function ownersWithin(names: readonly string[], max: number): string {
  let text = ownerText(names[0]!, max);
  let shown = 1;
  for (; shown < names.length; shown++) {
    const next = `${text} · ${ownerText(names[shown]!, max)}`;
    if (next.length > max) break;
    text = next;
  }
  return shown < names.length ? `${text} +${names.length - shown} more` : text;
}

/**
 * A section's lines within Slack's limit, its last lines (what to do: the hint, links, backfill,
 * reproduce, owners) kept: the longest line gives way first, cut to fit. A line a cut would break
 * is left out instead, with a word saying so: a link, and the backfill commands' code block.
 */
function fitSection(lines: string[], max: number, backfill: string): string {
  const fitted = [...lines];
  for (let excess = fitted.join('\n').length - max; excess > 0; excess = fitted.join('\n').length - max) {
    const longest = fitted.reduce((at, line, i) => (line.length > fitted[at]!.length ? i : at), 0);
    const line = fitted[longest]!;
    fitted[longest] = /<[a-z][a-z0-9+.-]*:[^|>]*\|/i.test(line)
      ? ':book: (a link too long for Slack: see the registry)'
      : line.includes('```')
        ? backfill
        : ellipsize(line, Math.max(40, line.length - excess));
    if (fitted[longest] === line) return ellipsize(fitted.join('\n'), max);
  }
  return fitted.join('\n');
}

const KIND_ORDER: Record<IssueKind, number> = {
  scheduler_issue: 0,
  stale: 1,
  failed: 2,
  hung: 3,
  missing: 4,
  low_volume: 5,
  high_volume: 6,
  slow: 7,
  recovered_failures: 8,
};

/**
 * How a recovered processor reads. A kind of dates (failed, missing, hung, an anomaly) also clears
 * when its dates only leave the window, unrepaired, and the check cannot tell which happened: such
 * a processor is "all clear" for the window's dates, not "healthy again". So is a stale or
 * scheduler issue that cleared with no success in the window (the window came to hold no due date:
 * an off-season, a registry change). Dates still running are named: a missing date whose run has
 * only started is clear, not yet done. A processor still open says which kinds of dates have none
 * left in the window (`no failed, hung dates left in Oct 1–7; still CRITICAL`), and which stale or
 * scheduler issue is no longer.
 */
function recoveryLine(recovery: SlackRecovery, now: ProcessorReport | undefined, window: string): string {
  const sorted = [...recovery.kinds].sort((a, b) => KIND_ORDER[a] - KIND_ORDER[b]);
  const kinds = sorted.map((k) => KIND_LABEL[k]).join(', ');
  const name = code(ellipsize(recovery.processor, MAX_NAME_TEXT));
  if (now && now.level !== 'OK') {
    // Still open: a kind of dates is said to be gone from the window, never to have recovered.
    const paging = sorted.filter((k) => PAGING_KINDS.has(k)).map((k) => (k === 'scheduler_issue' ? 'a scheduler issue' : KIND_LABEL[k]));
    const ofDates = sorted.filter((k) => !PAGING_KINDS.has(k)).map((k) => (k === 'recovered_failures' ? 'recovered-failure' : KIND_LABEL[k]));
    const cleared = [
      ...(paging.length > 0 ? [`no longer ${paging.join(', ')}`] : []),
      ...(ofDates.length > 0 ? [`no ${ofDates.join(', ')} dates left in ${window}`] : []),
    ];
    return `• ${name} ${cleared.join('; ')}; still ${now.level}`;
  }
  // Read once: a long window's days are unpacked on each read (PackedDays, check/report.ts).
  const days = now?.days ?? [];
  const running = days.filter((d) => d.status === 'running').map((d) => d.date);
  const stillRunning = running.length > 0 ? `; running: ${compactRanges(running)}` : '';
  const ofDates = recovery.kinds.some((k) => !PAGING_KINDS.has(k) && k !== 'recovered_failures');
  const succeeded = days.some((d) => d.status === 'success');
  return ofDates || !succeeded ? `• ${name} all clear for ${window} (was ${kinds})${stillRunning}` : `• ${name} healthy again (was ${kinds})${stillRunning}`;
}

function recoveredSection(recoveries: readonly SlackRecovery[], byName: ReadonlyMap<string, ProcessorReport>, report: CheckReport): string {
  const lines = [`:white_check_mark: *Recovered* (${recoveries.length})`];
  const window = dateRangeLabel(report.window_start, report.window_end);
  let shown = 0;
  for (const r of [...recoveries].sort((a, b) => a.processor.localeCompare(b.processor))) {
    const line = recoveryLine(r, byName.get(r.processor), window);
    const rest = recoveries.length - shown - 1;
    const reserve = rest > 0 ? 30 : 0;
    if ([...lines, line].join('\n').length + reserve > RECOVERED_TEXT) break;
    lines.push(line);
    shown++;
  }
  if (shown < recoveries.length) lines.push(`…and ${recoveries.length - shown} more`);
  return lines.join('\n');
}

/**
 * The WARNING summary's processors per route: every route when they are few; else the routes with
 * the most, then `+N more routes`. A context element holds at most 3,000 characters, and a
 * registry with hundreds of routes in trouble would pass it, and Slack would refuse the whole
 * message (`invalid_blocks`).
 */
function routeCounts(byRoute: Record<string, number>): string {
  const entries = Object.entries(byRoute).sort(([a], [b]) => a.localeCompare(b));
  const shown = entries.length > MAX_LISTED ? [...entries].sort(([, a], [, b]) => b - a) : entries;
  return firstOf(shown, MAX_LISTED, ([route, n]) => `${escapeMrkdwn(ellipsize(route, MAX_NAME_TEXT))}: ${n}`, ' more routes');
}

/**
 * The footer's last line: the `pem check` line of the whole run and the report link, within a
 * context element's 3,000 characters. A link too long for it is left out whole, saying so, as in a
 * section (a cut link is no link); a `pem check` line still too long (a very long `--config`
 * path) is cut.
 */
function fullReportLine(checkCommand: string, reportUrl: string | null): string {
  const command = `Full report: ${code(checkCommand)}`;
  const withLink = reportUrl ? `${command} · ${link(reportUrl, 'HTML report')}` : command;
  if (withLink.length <= MAX_SECTION_TEXT) return withLink;
  const withoutLink = reportUrl ? `${command} · HTML report: a link too long for Slack, see the registry's report_url` : command;
  return withoutLink.length <= MAX_SECTION_TEXT ? withoutLink : `Full report: ${code(ellipsize(checkCommand, MAX_SECTION_TEXT - 100))}`;
}

function overflowSection(names: readonly string[], byName: ReadonlyMap<string, ProcessorReport>): string {
  const head = `…and ${names.length} more: `;
  // Not "run `pem check`": pasted bare, that sends alerts, writes alert state and reads the default
  // registry; the footer's line is the run's own, as a dry run.
  const tail = '\nAll of them: the *Full report* line at the end of this message.';
  const parts: string[] = [];
  for (const name of names) {
    const level = byName.get(name)?.level ?? '';
    const part = `${code(ellipsize(name, MAX_NAME_TEXT))} ${level}`.trim();
    if (head.length + [...parts, part].join(', ').length + tail.length + 2 > OVERFLOW_TEXT) {
      parts.push('…');
      break;
    }
    parts.push(part);
  }
  return `${head}${parts.join(', ')}${tail}`;
}

export function buildSlackMessage(input: SlackMessageInput): BuiltSlackMessage {
  const { report, details } = input.result;
  const byName = new Map(report.processors.map((p) => [p.name, p]));
  const scope = input.scope ?? null;
  const inScope = scope === null ? report.processors : report.processors.filter((p) => scope.has(p.name));
  const counts = levelCounts(inScope);
  const dataset = escapeMrkdwn(input.dataset);
  const timezone = input.timezone ?? 'UTC';
  const routeText = input.route && input.route !== 'default' ? ` (route ${input.route})` : '';

  const triggerByName = new Map(input.triggers.map((t) => [t.processor, t]));
  const ordered = report.processors.filter((p) => triggerByName.has(p.name)).sort(byUrgency);

  const levelText = [counts.critical > 0 ? `${counts.critical} critical` : null, counts.error > 0 ? `${counts.error} error` : null]
    .filter(Boolean)
    .join(', ');
  const recoveredText = input.recoveries.length > 0 ? `${input.recoveries.length} recovered` : null;
  // The icon says what the message brings: an alarm for new or reminded trouble, a check mark
  // for a message of recoveries only, whose headline then leads with them and names what is still
  // open after them (a push notification reading "✅ 1 critical" would say the opposite).
  const worstTrigger = ordered[0]?.level;
  // The WARNING summary alone (deliver.ts): the route's own processors may all be fine.
  const warningAlone = input.warning && ordered.length === 0 && input.recoveries.length === 0 ? input.warning : null;
  const headline = warningAlone
    ? `WARNING: ${plural(warningAlone.processors, 'processor')} with issues across all routes`
    : worstTrigger === undefined && recoveredText
      ? `${recoveredText}${levelText ? `; still open: ${levelText}` : ''}`
      : [levelText || null, recoveredText].filter(Boolean).join(', ') || 'all healthy';
  const emoji = worstTrigger === 'CRITICAL' ? ':rotating_light:' : worstTrigger === 'ERROR' || warningAlone ? ':warning:' : ':white_check_mark:';

  const header: SlackBlock = {
    type: 'header',
    text: { type: 'plain_text', text: ellipsize(`${emoji} pem: ${headline} in ${input.dataset}${routeText}`, MAX_HEADER_TEXT), emoji: true },
  };
  const news = input.triggers.filter((t) => t.kinds.some((k) => k.reason === 'new')).length;
  const summary: SlackBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text:
          `${plural(inScope.length, 'processor')} checked in *${dataset}*${escapeMrkdwn(ellipsize(routeText, MAX_NAME_TEXT))} for ${report.window_start} → ${report.window_end} ` +
          `at ${formatInstant(report.now, timezone)}: ${counts.critical} critical, ${counts.error} error, ${counts.ok} ok.`,
      },
      ...(input.warning
        ? [
            {
              type: 'mrkdwn' as const,
              text:
                `:warning: *WARNING:* ${plural(input.warning.processors, 'processor')} with issues across all routes (${routeCounts(input.warning.byRoute)}).`,
            },
          ]
        : []),
      // Said of a message with processors in it: the WARNING summary alone has none.
      ...(warningAlone
        ? []
        : [
            {
              type: 'mrkdwn' as const,
              text: `In this message: ${news} new, ${input.triggers.length - news} reminder${input.triggers.length - news === 1 ? '' : 's'}, ${input.recoveries.length} recovered.`,
            },
          ]),
    ],
  };

  const footerElements: TextObject[] = [];
  /** The first five, then `+N`: a footer line names, never lists everything. */
  const firstFive = <T>(items: readonly T[], show: (item: T) => string) => firstOf(items, 5, show, '');
  const footerName = (name: string) => code(ellipsize(name, 60));
  if (input.alsoOpen.length > 0) {
    footerElements.push({
      type: 'mrkdwn',
      text: `Still open, already notified: ${firstFive(input.alsoOpen, footerName)} (reminder every ${input.renotifyHours} h).`,
    });
  }
  if (input.silenced.length > 0) {
    // The reason says why the team chose not to hear, and who to ask: one short line each.
    const why = (reason: string | null) => (reason?.trim() ? ` (${escapeMrkdwn(ellipsize(reason.replace(/\s+/g, ' ').trim(), MAX_SILENCE_REASON_TEXT))})` : '');
    const names = firstFive(input.silenced, (s) => `${footerName(s.processor_name)} until ${formatInstant(s.silenced_until, timezone)}${why(s.reason)}`);
    footerElements.push({ type: 'mrkdwn', text: `Silenced, not sent: ${names}.` });
  }
  const held = input.held ?? [];
  if (held.length > 0) {
    const names = firstFive(held, (h) => `${footerName(h.processor)} (${REASON_WORDS[h.reason]})`);
    footerElements.push({ type: 'mrkdwn', text: `Held by noise control, not sent: ${names}.` });
  }
  footerElements.push({ type: 'mrkdwn', text: fullReportLine(input.checkCommand ?? `pem check --date ${report.as_of_date}`, input.reportUrl ?? null) });
  const footer: SlackBlock = { type: 'context', elements: footerElements.slice(0, MAX_CONTEXT_ELEMENTS) };

  const recovered: SlackBlock | null =
    input.recoveries.length > 0 ? { type: 'section', text: { type: 'mrkdwn', text: recoveredSection(input.recoveries, byName, input.result.report) } } : null;

  const fixed: SlackBlock[] = [header, summary, { type: 'divider' }, ...(recovered ? [recovered] : []), { type: 'divider' }, footer];
  // Room kept for the "…and N more" section whenever it may be needed.
  const overflowReserve = { blocks: 1, text: OVERFLOW_TEXT };
  let blocksLeft = MAX_BLOCKS - fixed.length - overflowReserve.blocks;
  let textLeft = MESSAGE_TEXT_BUDGET - fixed.reduce((n, b) => n + textLength(b), 0) - overflowReserve.text;

  const sections: SlackBlock[] = [];
  const detailed: string[] = [];
  let i = 0;
  for (; i < ordered.length; i++) {
    const p = ordered[i]!;
    const text = processorSection(p, details[p.name], triggerByName.get(p.name)!, report.as_of_date, input.actions?.get(p.name), input.reportUrl, report.now);
    // The last processor may use the reserve: no overflow line follows it.
    const isLast = i === ordered.length - 1;
    const extraBlocks = isLast ? overflowReserve.blocks : 0;
    const extraText = isLast ? overflowReserve.text : 0;
    if (blocksLeft + extraBlocks < 1 || textLeft + extraText < text.length) break;
    sections.push({ type: 'section', text: { type: 'mrkdwn', text } });
    detailed.push(p.name);
    blocksLeft--;
    textLeft -= text.length;
  }
  const summarized = ordered.slice(i).map((p) => p.name);
  if (summarized.length > 0) {
    sections.push({ type: 'section', text: { type: 'mrkdwn', text: overflowSection(summarized, byName) } });
  }

  const body = [...sections, ...(recovered ? [recovered] : [])];
  // One divider between the summary and the footer when there is nothing between them (the WARNING summary alone).
  const blocks: SlackBlock[] = [header, summary, { type: 'divider' }, ...(body.length > 0 ? [...body, { type: 'divider' } as const] : []), footer];
  const fallbackNames = ordered.slice(0, 5).map((p) => p.name).join(', ');
  const fallback = ellipsize(`pem: ${headline} in ${input.dataset}${fallbackNames ? ` (${fallbackNames}${ordered.length > 5 ? ', …' : ''})` : ''}`, MAX_FALLBACK_TEXT);
  return {
    message: { text: fallback, blocks, unfurl_links: false, unfurl_media: false },
    detailed,
    summarized,
  };
}
