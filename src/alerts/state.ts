/**
 * Alert state in the warehouse (`<dataset>.pem_alert_state`): read what was delivered, claim what
 * this run is about to send, and append what it delivered or gave back. Every runtime value is a
 * bound parameter; batches travel as one JSON parameter so a run costs a handful of statements
 * whatever the number of alerts (BigQuery queues INSERT statements beyond its daily allowance).
 */
import { randomUUID } from 'node:crypto';
import { sqlRenderer } from '../sql/load.js';
import type { Dialect } from '../sql/render.js';
import type { QueryParam, Warehouse } from '../warehouse/types.js';
import { ALERT_STATE_ADDED_COLUMNS } from '../config/names.js';
import type { IssueKind, StateDestination } from './issues.js';
import { claimToken, type DeliveredState, type DueItem } from './plan.js';

/** How long a claim holds when its run neither delivers nor releases it (the run died). */
export const CLAIM_LEASE_MS = 15 * 60_000;

export function renderAlertSql(dialect: Dialect, template: string, context: Record<string, unknown>): string {
  return sqlRenderer(dialect).render(template, context);
}

/**
 * The alert state table as a run reads and writes it: its name, and whether it has the window
 * length columns (`ALERT_STATE_ADDED_COLUMNS`: `DueItem.lookbackDays`, `raisedLookbackDays`). A
 * table created before they existed lacks them until `pem schema apply` or the Dataform workflow
 * adds them (alert_state_upgrade); until then a run reads and writes it as before. A plain name
 * is such a table.
 */
export interface AlertStateTable {
  name: string;
  /** The window length columns it lacks: it records the lengths when there are none. */
  missing: readonly string[];
}

/** Looks up which window length columns `name` lacks; null for a table that does not exist (reading it then fails, naming the fix). */
export async function alertStateTableOf(warehouse: Warehouse, name: string): Promise<AlertStateTable | null> {
  const columns = new Set((await warehouse.tableColumns(name)).map((c) => c.name));
  return columns.size === 0 ? null : { name, missing: ALERT_STATE_ADDED_COLUMNS.filter((c) => !columns.has(c)) };
}

/** The templates' context for a table: its name, and whether rows carry the window lengths. */
function tableContext(table: string | AlertStateTable): { table: string; lookback_days: boolean } {
  return typeof table === 'string' ? { table, lookback_days: false } : { table: table.name, lookback_days: table.missing.length === 0 };
}

export async function readDeliveredState(warehouse: Warehouse, table: string | AlertStateTable, processors: readonly string[]): Promise<DeliveredState[]> {
  if (processors.length === 0) return [];
  const [row] = await warehouse.query(renderAlertSql(warehouse.dialect, 'alert_state_latest', tableContext(table)), {
    processors: { type: 'ARRAY<STRING>', value: processors },
  });
  return parseDeliveredState(row?.state);
}

/** The items of a statement's one aggregated string (STRING_AGG with ';'): none when it is NULL or empty. */
function aggregatedItems(value: unknown): string[] {
  return value === null || value === undefined || value === '' ? [] : String(value).split(';');
}

/** A window length field of alert_state_latest: undefined when empty (NULL), NaN when not a whole number. */
const lengthField = (field: string | undefined): number | undefined => (field === undefined || field === '' ? undefined : /^\d+$/.test(field) ? Number(field) : NaN);

/**
 * alert_state_latest's one string (its lines `key|destination|processor|kind|level|event|event_id|epoch ms`,
 * and `|lookback days|raised lookback days` (each empty for NULL) from a table that has those
 * columns, joined by ';') as states.
 */
export function parseDeliveredState(text: unknown): DeliveredState[] {
  return aggregatedItems(text).map((line) => {
    const fields = line.split('|');
    const eventAt = Number(fields[7]);
    const [lookbackDays, raisedLookbackDays] = [lengthField(fields[8]), lengthField(fields[9])];
    if ((fields.length !== 8 && fields.length !== 10) || !Number.isFinite(eventAt) || Number.isNaN(lookbackDays) || Number.isNaN(raisedLookbackDays)) {
      throw new Error(`unreadable alert state line '${line}'`);
    }
    const [alert_key, destination, processor_name, issue_kind, level, event, event_id] = fields as [string, ...string[]];
    const state: DeliveredState = {
      alert_key,
      destination: destination as StateDestination,
      processor_name: processor_name!,
      issue_kind: issue_kind as IssueKind,
      level: level!,
      event: event as 'notified' | 'resolved',
      event_id: event_id!,
      event_at: new Date(eventAt),
    };
    if (lookbackDays !== undefined) state.lookback_days = lookbackDays;
    if (raisedLookbackDays !== undefined) state.raised_lookback_days = raisedLookbackDays;
    return state;
  });
}

/** One row of a batch; its event_id is the statement's `id_prefix` and the row's ordinal. */
interface EventRow {
  event: string | undefined;
  alert_key: string;
  destination: string;
  processor_name: string;
  issue_kind: string;
  level: string;
  claim_token: string;
  /** Read only by a table that records them (`AlertStateTable.missing` empty). */
  lookback_days: number | null;
  raised_lookback_days: number | null;
}

/** One object shape for every row (a conditional spread made each its own: 4 µs a row to build and serialise). */
function eventRow(item: DueItem, event?: string, token = claimToken(item)): EventRow {
  return {
    event,
    alert_key: item.key,
    destination: item.destination,
    processor_name: item.processor,
    issue_kind: item.kind,
    level: item.level,
    claim_token: token,
    lookback_days: item.lookbackDays ?? null,
    raised_lookback_days: item.raisedLookbackDays ?? null,
  };
}

/**
 * The event ids of one statement's rows: a new random id and each row's ordinal (`<uuid>-17`).
 * Unique across runs whatever run id a caller passes, and made by the engine for the whole batch
 * instead of 26,000 random ids made and sent one by one (SPEC §14).
 */
const idPrefix = (): QueryParam => ({ type: 'STRING', value: `${randomUUID()}-` });

/**
 * Claims `items` for `runId` and returns the ones this run holds (see alert_state_claim.sql.hbs
 * for the protocol and why it is safe for overlapping runs).
 */
export async function claimDue(
  warehouse: Warehouse,
  table: string | AlertStateTable,
  items: readonly DueItem[],
  runId: string,
  now: Date,
): Promise<DueItem[]> {
  if (items.length === 0) return [];
  const leaseStart = new Date(now.getTime() - CLAIM_LEASE_MS);
  const tokens = items.map(claimToken);
  const context = tableContext(table);
  await warehouse.execute(renderAlertSql(warehouse.dialect, 'alert_state_claim', context), {
    claims: { type: 'STRING', value: JSON.stringify(items.map((item, i) => eventRow(item, undefined, tokens[i]))) },
    id_prefix: idPrefix(),
    run_id: { type: 'STRING', value: runId },
    now: { type: 'TIMESTAMP', value: now },
    lease_start: { type: 'TIMESTAMP', value: leaseStart },
  });
  const [held] = await warehouse.query(renderAlertSql(warehouse.dialect, 'alert_state_claim_winners', context), {
    run_id: { type: 'STRING', value: runId },
    lease_start: { type: 'TIMESTAMP', value: leaseStart },
  });
  const mine = new Set(aggregatedItems(held?.claim_tokens));
  return items.filter((_, i) => mine.has(tokens[i]!));
}

export interface StateEvent {
  item: DueItem;
  event: 'notified' | 'resolved' | 'released';
}

/** Appends delivered and released events of one run in one statement. */
export async function appendEvents(warehouse: Warehouse, table: string | AlertStateTable, events: readonly StateEvent[], runId: string, now: Date): Promise<void> {
  if (events.length === 0) return;
  const context = tableContext(table);
  await warehouse.execute(renderAlertSql(warehouse.dialect, 'alert_state_append', context), {
    events: { type: 'STRING', value: JSON.stringify(events.map((e) => eventRow(e.item, e.event))) },
    id_prefix: idPrefix(),
    run_id: { type: 'STRING', value: runId },
    now: { type: 'TIMESTAMP', value: now },
  });
}

export interface ClaimOutcome {
  /** Every item the run tried to claim (`claimDue`'s input). */
  claimed: readonly DueItem[];
  /** The items it holds (`claimDue`'s answer). */
  held: readonly DueItem[];
  /** The held items a destination accepted. */
  delivered: readonly DueItem[];
  /** Delivered events that had no claim (Slack companions): appended as a JSON batch, when there are any. */
  unclaimed: readonly StateEvent[];
}

/**
 * Records a run's outcome from its own claim rows (alert_state_record.sql.hbs), in one statement
 * (another for unclaimed events, when there are any):
 * held and delivered → notified/resolved, held and not delivered → released, claimed but not held
 * → nothing. Only those exceptions and the unclaimed events travel: the 20,000 notifications of a
 * bad hour are copied inside the warehouse (SPEC §14).
 */
export async function recordOutcome(warehouse: Warehouse, table: string | AlertStateTable, outcome: ClaimOutcome, runId: string, now: Date): Promise<void> {
  // Each item's token built once: held and delivered are, item for item, among the claimed, and
  // building and hashing 20,000 fresh token strings five times over was most of this function.
  const tokenOf = new Map<DueItem, string>();
  const token = (item: DueItem): string => {
    let known = tokenOf.get(item);
    if (known === undefined) tokenOf.set(item, (known = claimToken(item)));
    return known;
  };
  const held = new Set(outcome.held.map(token));
  const delivered = new Set(outcome.delivered.map(token));
  const tokens = (items: readonly DueItem[], keep: (token: string, item: DueItem) => boolean) => {
    const kept = new Set<string>();
    for (const item of items) {
      const itemToken = token(item);
      if (keep(itemToken, item)) kept.add(itemToken);
    }
    return [...kept];
  };
  if (outcome.held.length > 0) await warehouse.execute(renderAlertSql(warehouse.dialect, 'alert_state_record', tableContext(table)), {
    run_id: { type: 'STRING', value: runId },
    now: { type: 'TIMESTAMP', value: now },
    lost: { type: 'ARRAY<STRING>', value: tokens(outcome.claimed, (token) => !held.has(token)) },
    released: { type: 'ARRAY<STRING>', value: tokens(outcome.held, (token) => !delivered.has(token)) },
    resolved: { type: 'ARRAY<STRING>', value: tokens(outcome.delivered, (_, item) => item.action === 'resolve') },
    id_prefix: idPrefix(),
  });
  await appendEvents(warehouse, table, outcome.unclaimed, runId, now);
}
