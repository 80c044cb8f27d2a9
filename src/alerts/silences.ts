/**
 * Silences in the warehouse (`<dataset>.pem_alert_silences`): a processor silenced until a given
 * instant is still checked and shown, but its alerts are not sent. Append-only; whether a silence
 * is active at `now` is decided by the SQL (alert_silences_list.sql.hbs).
 */
import { randomBytes } from 'node:crypto';
import type { Warehouse } from '../warehouse/types.js';
import type { ActiveSilence } from './plan.js';
import { renderAlertSql } from './state.js';

export type SilenceState = 'active' | 'expired' | 'removed';

export interface Silence extends ActiveSilence {
  created_at: string;
  created_by: string | null;
  removed_at: string | null;
  /** Who removed it, and why (`pem silence remove --by/--reason`); null while it is not removed. */
  removed_by: string | null;
  removal_reason: string | null;
  state: SilenceState;
}

export async function listSilences(warehouse: Warehouse, table: string, now: Date, options: { activeOnly: boolean }): Promise<Silence[]> {
  const rows = await warehouse.query(renderAlertSql(warehouse.dialect, 'alert_silences_list', { table, active_only: options.activeOnly }), {
    now: { type: 'TIMESTAMP', value: now },
  });
  return rows.map((row) => ({
    silence_id: String(row.silence_id),
    processor_name: String(row.processor_name),
    silenced_until: String(row.silenced_until),
    reason: row.reason === null ? null : String(row.reason),
    created_at: String(row.created_at),
    created_by: row.created_by === null ? null : String(row.created_by),
    removed_at: row.removed_at === null ? null : String(row.removed_at),
    removed_by: row.removed_by == null ? null : String(row.removed_by),
    removal_reason: row.removal_reason == null ? null : String(row.removal_reason),
    state: String(row.state) as SilenceState,
  }));
}

/** Short ids people can type: `sil_` and 8 hex digits. */
export function newSilenceId(): string {
  return `sil_${randomBytes(4).toString('hex')}`;
}

export interface NewSilence {
  processor: string;
  until: Date;
  reason: string;
  createdBy: string | null;
}

export async function addSilence(warehouse: Warehouse, table: string, silence: NewSilence, now: Date): Promise<string> {
  const id = newSilenceId();
  await warehouse.execute(renderAlertSql(warehouse.dialect, 'alert_silences_add', { table }), {
    silence_id: { type: 'STRING', value: id },
    processor: { type: 'STRING', value: silence.processor },
    until: { type: 'TIMESTAMP', value: silence.until },
    reason: { type: 'STRING', value: silence.reason },
    now: { type: 'TIMESTAMP', value: now },
    created_by: { type: 'STRING', value: silence.createdBy },
  });
  return id;
}

export async function removeSilences(
  warehouse: Warehouse,
  table: string,
  ids: readonly string[],
  now: Date,
  options: { reason: string | null; createdBy: string | null },
): Promise<void> {
  if (ids.length === 0) return;
  await warehouse.execute(renderAlertSql(warehouse.dialect, 'alert_silences_remove', { table }), {
    silence_ids: { type: 'ARRAY<STRING>', value: ids },
    reason: { type: 'STRING', value: options.reason },
    now: { type: 'TIMESTAMP', value: now },
    created_by: { type: 'STRING', value: options.createdBy },
  });
}
