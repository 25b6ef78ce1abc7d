/**
 * What the scoped views (sql-store.ts and its parts, sql-scoped.ts) share: the {@link Engine} of one open database,
 * the scope as columns, and the rows as the interface names them.
 */
import type { Selectable } from 'kysely';
import { isSeverity } from '../domain/severity.ts';
import type { Db, Dialect, Tables } from './schema.ts';
import type * as api from '../pipeline/store-port.ts';
import type { ScanThread } from '../pipeline/store-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';

// Columns selected under the names of the interface's fields.
const OUTBOX = [
  'id',
  'channel',
  'kind',
  'payload',
  'dedup_key as dedupKey',
  'attempts',
  'sent_at as sentAt',
] as const;
export const OUTBOX_ITEM = [...OUTBOX, 'created_at as createdAt'] as const;
const MUTE = [
  'id',
  'channel',
  'key',
  'target_id as targetId',
  'target_label as targetLabel',
  'held',
] as const;
export const MUTE_ITEM = [
  ...MUTE,
  'created_by as createdBy',
  'created_at as createdAt',
  'expires_at as expiresAt',
] as const;
export const ACK = [
  'channel',
  'message_ts as messageTs',
  'event_id as eventId',
  'user_id as userId',
  'at',
] as const;

/** Rows a single INSERT carries at most: far below either database's limit on parameters. */
const CHUNK = 500;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The fencing token of this process's term on one account (PostgreSQL): one for every view of that scope. */
export interface Fence {
  /** Set when this process claims the account, kept after it loses it; null while it never held it, and with SQLite. */
  token: number | null;
}

/** One open database, shared by all its views: the connection, its spellings, and what only that database does. */
export interface Engine {
  readonly db: Db;
  readonly d: Dialect;
  /** The scope's fence in this process (created on first use, with no token). */
  fenceOf(scope: Scope): Fence;
  /** A transaction of the poller's writes, refused with a FencedError once another replica took the account. */
  fenced<T>(scope: Scope, work: (trx: Db) => Promise<T>): Promise<T>;
  /** {@link api.Store.markSending} of the scope's row `id`. */
  markSending(scope: Scope, id: number, now: number): Promise<boolean>;
}

/** The scope as the columns every tenant table leads with. */
export function scopeColumns(scope: Scope): { workspace_id: string; account_id: string } {
  return { workspace_id: scope.workspace, account_id: scope.account };
}

export function toSubscription(row: Selectable<Tables['halo_subscriptions']>): api.Subscription {
  const { id, channel, created_by: createdBy, created_at: createdAt, min_severity: severity } = row;
  const minSeverity = severity !== null && isSeverity(severity) ? severity : null;
  const [keys, targetIds] = [JSON.parse(row.keys) as string[], JSON.parse(row.target_ids) as number[]];
  return { id, channel, keys, targetIds, minSeverity, createdBy, createdAt };
}

export function toThread(row: Selectable<Tables['halo_threads']>): ScanThread {
  const { channel, target_id: targetId, parent_ts: parentTs, parent, opened_at: openedAt } = row;
  // JSONB arrives parsed (PostgreSQL), TEXT as the JSON itself (SQLite).
  const counts =
    typeof row.counts === 'string' ? (JSON.parse(row.counts) as Record<string, number>) : row.counts;
  return { channel, targetId, parentTs, parent, counts, openedAt };
}
