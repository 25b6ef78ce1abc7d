/**
 * Row shapes and decoders that the SQLite and PostgreSQL stores share: both keep a subscription's lists as JSON
 * text, and a mute or an outbox row in the same columns, so one decoder serves both and the two cannot drift.
 */
import { isSeverity } from '../domain/severity.ts';
import type { Mute, OutboxItem, OutboxKind, Subscription } from './store.ts';

export interface SubscriptionRow {
  id: number;
  channel: string;
  keys: string;
  target_ids: string;
  created_by: string;
  created_at: number;
  min_severity: string | null;
}

export function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    channel: row.channel,
    keys: JSON.parse(row.keys) as string[],
    targetIds: JSON.parse(row.target_ids) as number[],
    minSeverity: row.min_severity !== null && isSeverity(row.min_severity) ? row.min_severity : null,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

export interface MuteRow {
  id: number;
  channel: string;
  key: string | null;
  target_id: number | null;
  target_label: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  held: number;
}

export const MUTE_COLUMNS =
  'id, channel, key, target_id, target_label, created_by, created_at, expires_at, held';

export function toMute(row: MuteRow): Mute {
  return {
    id: row.id,
    channel: row.channel,
    key: row.key,
    targetId: row.target_id,
    targetLabel: row.target_label,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    held: row.held,
  };
}

export interface OutboxRow {
  id: number;
  channel: string;
  kind: OutboxKind;
  payload: string;
  dedup_key: string;
  attempts: number;
  sent_at: number | null;
  created_at: number;
}

export function toOutboxItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    channel: row.channel,
    kind: row.kind,
    payload: row.payload,
    dedupKey: row.dedup_key,
    attempts: row.attempts,
    sentAt: row.sent_at,
    createdAt: row.created_at,
  };
}
