/**
 * Row shapes and decoders that the SQLite and PostgreSQL stores share: both keep a subscription's lists as JSON
 * text, so one decoder serves both and the two cannot drift.
 */
import { isSeverity } from '../domain/severity.ts';
import type { Subscription } from './store.ts';

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
