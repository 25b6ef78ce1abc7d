import pg from 'pg';
import type { HaloEvent } from '../halo/types.ts';
import { toOutboxItem, toSubscription, type OutboxRow, type SubscriptionRow } from './rows.ts';
import type { Logger } from '../log.ts';
import { pgActions } from './pg-actions.ts';
import { pgMessages } from './pg-messages.ts';
import { migrate } from './pg-schema.ts';
import {
  FencedError,
  StoreError,
  type ActionStore,
  type MessageStore,
  type DeletionRecord,
  type FailedDelivery,
  type NewOutboxItem,
  type OutboxItem,
  type OutboxKind,
  type Store,
  type StoreStats,
  type NewSubscription,
  type ScanThread,
  type Subscription,
} from './store.ts';

/** BIGINT and count(*) arrive as strings by default; every such value here is a millisecond time or a count. */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** Connection settings shared by the pool and the leader's own connection. */
export function connectionConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    types,
    // A server that went away must not hang a poll, a post or /healthz: fail, and let the caller retry.
    connectionTimeoutMillis: 5000,
    query_timeout: 15_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5000,
    application_name: 'halo-slack',
  };
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  return url.replace(/^([a-z][a-z\d+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, '$1:[redacted]@');
}

/** Opens the PostgreSQL store: connects, migrates (or refuses a newer schema), and keeps a small pool. */
export async function openPostgresStore(url: string, log: Logger): Promise<PostgresStore> {
  const pool = new pg.Pool({ ...connectionConfig(url), max: 6, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that the server drops emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (error) =>
    log.warn('database: a pooled connection was lost; it will be replaced', { error }),
  );
  try {
    const client = await pool.connect();
    let broken: Error | undefined;
    // As in a transaction: a checked-out connection's 'error' is ours to handle (the migration's query fails).
    const lost = (error: Error): void => {
      broken = error;
    };
    client.on('error', lost);
    try {
      await migrate(client, describeUrl(url));
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      `The database ${describeUrl(url)} could not be opened: ${detail}. Check DATABASE_URL and that PostgreSQL is running and reachable.`,
    );
  }
  return new PostgresStore(pool);
}

/** Thrown inside a transaction to roll it back when a row to replace was claimed meanwhile: not a failure. */
class NotAllPending extends Error {
  override name = 'NotAllPending' as const;
}
interface ThreadRow {
  channel: string;
  target_id: number | string;
  parent_ts: string;
  parent: string;
  counts: Record<string, number> | string;
  opened_at: number | string;
}

/**
 * The store for several replicas. Outbox rows are claimed with the leader's fencing token: `markSending` succeeds
 * only while the token it carries is still the newest in `halo_leader`, and a row claimed by a newer leader can
 * no longer be marked by an older one. A store that never led (token null) is not fenced: tools and tests.
 */
export class PostgresStore implements Store {
  private token: number | null = null;
  private closed = false;
  private readonly actions: ActionStore;
  /** The same statements, each in a fenced transaction: for the one the poller makes (mute counts). */
  private readonly fencedActions: ActionStore;
  private readonly messages: MessageStore;

  constructor(private readonly pool: pg.Pool) {
    this.actions = pgActions((sql, values) => this.query(sql, values));
    this.fencedActions = pgActions(<R extends pg.QueryResultRow>(sql: string, values?: unknown[]) =>
      this.fencedTransaction(async (client) => (await client.query<R>(sql, values)).rows),
    );
    this.messages = pgMessages(
      (sql, values) => this.query(sql, values),
      (work) => this.transaction(work),
      (work) => this.fencedTransaction(work),
    );
  }

  acknowledge: ActionStore['acknowledge'] = (ack) => this.actions.acknowledge(ack);
  addMute: ActionStore['addMute'] = (mute) => this.actions.addMute(mute);
  removeMute: ActionStore['removeMute'] = (id, now, channel) => this.actions.removeMute(id, now, channel);
  activeMutes: ActionStore['activeMutes'] = (now, channel) => this.actions.activeMutes(now, channel);
  // The poller's write: a replaced leader must not count what the new one counts again.
  countMuted: ActionStore['countMuted'] = (held) => this.fencedActions.countMuted(held);
  expiredMutes: ActionStore['expiredMutes'] = (now) => this.actions.expiredMutes(now);
  endMutes: ActionStore['endMutes'] = (ids, now) => this.actions.endMutes(ids, now);
  mutedTotal: ActionStore['mutedTotal'] = () => this.actions.mutedTotal();
  audit: ActionStore['audit'] = (entry) => this.actions.audit(entry);
  recentAudit: ActionStore['recentAudit'] = (limit) => this.actions.recentAudit(limit);
  recordMessage: MessageStore['recordMessage'] = (message, now) => this.messages.recordMessage(message, now);
  setMessageSummary: MessageStore['setMessageSummary'] = (channel, ts, summary) =>
    this.messages.setMessageSummary(channel, ts, summary);
  watchedEventIds: MessageStore['watchedEventIds'] = () => this.messages.watchedEventIds();
  markListed: MessageStore['markListed'] = (ids, at) => this.messages.markListed(ids, at);
  countMisses: MessageStore['countMisses'] = (coverage, at, threshold) =>
    this.messages.countMisses(coverage, at, threshold);
  eventMessages: MessageStore['eventMessages'] = (ids) => this.messages.eventMessages(ids);
  markGone: MessageStore['markGone'] = (ids, items, now) => this.messages.markGone(ids, items, now);

  /** Set by the leadership when it wins: every later claim and mark carries it. Kept after leadership is lost. */
  setFence(token: number): void {
    this.token = token;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, values)).rows;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // pg's pool stops listening for a checked-out connection's 'error': a connection lost between two
    // queries of the transaction would then be an uncaught exception and end the process.
    const lost = (error: Error): void => {
      broken = error;
    };
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection lost mid-transaction rolled it back on the server; ROLLBACK fails too and the
      // connection is destroyed rather than handed to the next caller.
      await client
        .query('ROLLBACK')
        .catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /**
   * A transaction of the poller's (seen and staged events, routing, its state), refused with a FencedError when a
   * newer leader's token is in the database. FOR SHARE on the leader row: a new leader's token bump waits for
   * this transaction, and one begun after the bump sees the new token. Unfenced while this store never led.
   */
  private fencedTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const token = this.token;
    return this.transaction(async (client) => {
      if (token !== null) {
        const current = (
          await client.query<{ token: number }>('SELECT token FROM halo_leader WHERE id = 1 FOR SHARE')
        ).rows[0]?.token;
        if (current !== token) throw new FencedError(token, current ?? null);
      }
      return work(client);
    });
  }

  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    return this.fencedTransaction(async (client) => {
      // Nearly every ID of a page was seen before: send only IDs first, and the events only for new news.
      const inserted = await client.query<{ event_id: string }>(
        `INSERT INTO halo_seen (event_id) SELECT DISTINCT unnest($1::text[])
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [events.map((e) => e.eventId)],
      );
      if (inserted.rows.length === 0) return 0;
      const unseen = new Set(inserted.rows.map((row) => row.event_id));
      const staged = events.filter((event, i) => news[i] === true && unseen.delete(event.eventId));
      if (staged.length === 0) return 0;
      await insertStaged(client, staged);
      return staged.length;
    });
  }

  async unseen(ids: readonly string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.query<{ i: number }>(
      `SELECT (t.i - 1)::int AS i FROM unnest($1::text[]) WITH ORDINALITY AS t(id, i)
       WHERE NOT EXISTS (SELECT 1 FROM halo_seen s WHERE s.event_id = t.id) ORDER BY t.i`,
      [ids],
    );
    return rows.map((row) => row.i);
  }

  stage(events: readonly HaloEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.fencedTransaction(async (client) => {
      await client.query(
        'INSERT INTO halo_seen (event_id) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING',
        [events.map((e) => e.eventId)],
      );
      await insertStaged(client, events);
    });
  }

  async staged(): Promise<HaloEvent[]> {
    const rows = await this.query<{ event: string }>(
      'SELECT event FROM halo_staged ORDER BY date_created, event_id COLLATE "C"',
    );
    return rows.map((row) => JSON.parse(row.event) as HaloEvent);
  }

  route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): Promise<void> {
    return this.fencedTransaction(async (client) => {
      for (const item of items) {
        await client.query(
          `INSERT INTO halo_outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedup_key) DO NOTHING`,
          [item.channel, item.kind, item.payload, item.dedupKey, now],
        );
      }
      if (eventIds.length > 0)
        await client.query('DELETE FROM halo_staged WHERE event_id = ANY($1::text[])', [eventIds]);
    });
  }

  async getState(key: string): Promise<string | null> {
    const rows = await this.query<{ value: string }>('SELECT value FROM halo_state WHERE key = $1', [key]);
    return rows[0]?.value ?? null;
  }

  async setState(entries: Readonly<Record<string, string>>): Promise<void> {
    const keys = Object.keys(entries);
    if (keys.length === 0) return;
    await this.fencedTransaction((client) =>
      client.query(
        `INSERT INTO halo_state (key, value) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [keys, keys.map((key) => entries[key])],
      ),
    );
  }

  async dueChannels(now: number): Promise<string[]> {
    const rows = await this.query<{ channel: string }>(
      `SELECT DISTINCT channel FROM halo_outbox WHERE state = 'pending' AND next_attempt_at <= $1`,
      [now],
    );
    return rows.map((row) => row.channel);
  }

  async nextDue(channel: string, now: number): Promise<OutboxItem | null> {
    // The channel's oldest pending row, due or not: a later row never overtakes one waiting for its retry, and a
    // new leader goes on exactly where the old one stopped.
    const rows = await this.query<OutboxRow & { next_attempt_at: number }>(
      `SELECT id, channel, kind, payload, dedup_key, attempts, sent_at, created_at, next_attempt_at FROM halo_outbox
       WHERE state = 'pending' AND channel = $1 ORDER BY id LIMIT 1`,
      [channel],
    );
    const row = rows[0];
    if (row === undefined || row.next_attempt_at > now) return null;
    return toOutboxItem(row);
  }

  async unattemptedAlerts(channel: string): Promise<OutboxItem[]> {
    const rows = await this.query<OutboxRow & { next_attempt_at: number }>(
      `SELECT id, channel, kind, payload, dedup_key, attempts, sent_at, created_at, next_attempt_at FROM halo_outbox
       WHERE state = 'pending' AND channel = $1 AND kind = 'alert' AND attempts = 0 AND sent_at IS NULL
       ORDER BY id`,
      [channel],
    );
    return rows.map(toOutboxItem);
  }

  async replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): Promise<boolean> {
    try {
      await this.transaction(async (client) => {
        // FOR UPDATE through DELETE: a row claimed meanwhile (sent_at set) is not deleted, and then nothing is.
        const removed = await client.query(
          `DELETE FROM halo_outbox WHERE id = ANY($1::bigint[]) AND state = 'pending' AND attempts = 0
           AND sent_at IS NULL RETURNING id`,
          [ids],
        );
        if (removed.rows.length !== new Set(ids).size)
          throw new NotAllPending('a row to replace was claimed meanwhile');
        await client.query(
          `INSERT INTO halo_outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedup_key) DO NOTHING`,
          [digest.channel, digest.kind, digest.payload, digest.dedupKey, now],
        );
      });
      return true;
    } catch (error) {
      if (error instanceof NotAllPending) return false;
      throw error;
    }
  }

  async markSending(id: number, now: number): Promise<boolean> {
    // FOR SHARE on the leader row: a new leader's token bump waits for this claim, and a claim after the bump
    // sees the new token and fails. SKIP LOCKED: a row another process is claiming is not ours to post.
    const rows = await this.query(
      `WITH fence AS (
         SELECT 1 FROM halo_leader WHERE id = 1 AND ($3::bigint IS NULL OR token = $3) FOR SHARE
       ), claimable AS (
         SELECT id FROM halo_outbox
         WHERE id = $1 AND state = 'pending' AND ($3::bigint IS NULL OR coalesce(claim_token, 0) <= $3)
         FOR UPDATE SKIP LOCKED
       )
       UPDATE halo_outbox SET sent_at = $2, claim_token = $3
       FROM fence, claimable WHERE halo_outbox.id = claimable.id RETURNING halo_outbox.id`,
      [id, now, this.token],
    );
    return rows.length > 0;
  }

  /** A mark applies unless a newer leader has claimed the row since: its outcome is then the newer one's. */
  private fenced(): string {
    return '($FENCE::bigint IS NULL OR coalesce(claim_token, 0) <= $FENCE)';
  }

  private async mark(set: string, id: number, values: unknown[]): Promise<void> {
    const fence = `$${values.length + 2}`;
    await this.query(
      `UPDATE halo_outbox SET ${set} WHERE id = $1 AND ${this.fenced().replaceAll('$FENCE', fence)}`,
      [id, ...values, this.token],
    );
  }

  markDelivered(id: number, now: number): Promise<void> {
    return this.mark(`state = 'delivered', attempts = attempts + 1, done_at = $2`, id, [now]);
  }

  markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    return this.mark(`attempts = attempts + 1, next_attempt_at = $2, last_error = $3`, id, [
      nextAttemptAt,
      error,
    ]);
  }

  markFailed(id: number, error: string, now: number): Promise<void> {
    return this.mark(`state = 'failed', attempts = attempts + 1, last_error = $2, done_at = $3`, id, [
      error,
      now,
    ]);
  }

  async failChannel(channel: string, error: string, now: number): Promise<number> {
    const rows = await this.query(
      `UPDATE halo_outbox SET state = 'failed', last_error = $1, done_at = $2
       WHERE channel = $3 AND state = 'pending' RETURNING id`,
      [error, now, channel],
    );
    return rows.length;
  }

  async recentFailures(limit: number): Promise<FailedDelivery[]> {
    const rows = await this.query<{
      channel: string;
      kind: OutboxKind;
      error: string | null;
      at: number | null;
    }>(
      `SELECT channel, kind, last_error AS error, done_at AS at FROM halo_outbox
       WHERE state = 'failed' ORDER BY done_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      channel: row.channel,
      kind: row.kind,
      error: row.error ?? '',
      at: row.at ?? 0,
    }));
  }

  async prune(before: number): Promise<void> {
    await this.query(`DELETE FROM halo_outbox WHERE state = 'delivered' AND done_at < $1`, [before]);
  }

  addSubscription(sub: NewSubscription): Promise<{ subscription: Subscription; created: boolean }> {
    const minSeverity = sub.minSeverity ?? null;
    const keys = JSON.stringify([...sub.keys].sort());
    const targetIds = JSON.stringify([...sub.targetIds].sort((a, b) => a - b));
    return this.transaction(async (client) => {
      // Two replicas adding the same subscription at once must still end with one.
      await client.query('LOCK TABLE halo_subscriptions IN SHARE ROW EXCLUSIVE MODE');
      const existing = await client.query<SubscriptionRow>(
        `SELECT * FROM halo_subscriptions
         WHERE channel = $1 AND keys = $2 AND target_ids = $3 AND min_severity IS NOT DISTINCT FROM $4`,
        [sub.channel, keys, targetIds, minSeverity],
      );
      if (existing.rows[0] !== undefined)
        return { subscription: toSubscription(existing.rows[0]), created: false };
      const inserted = await client.query<SubscriptionRow>(
        `INSERT INTO halo_subscriptions (channel, keys, target_ids, created_by, created_at, min_severity)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [sub.channel, keys, targetIds, sub.createdBy, sub.createdAt, minSeverity],
      );
      return { subscription: toSubscription(inserted.rows[0]!), created: true };
    });
  }

  async removeSubscription(channel: string, id: number): Promise<boolean> {
    const rows = await this.query(
      'DELETE FROM halo_subscriptions WHERE channel = $1 AND id = $2 RETURNING id',
      [channel, id],
    );
    return rows.length > 0;
  }

  async removeAllSubscriptions(channel: string): Promise<number> {
    return (await this.query('DELETE FROM halo_subscriptions WHERE channel = $1 RETURNING id', [channel]))
      .length;
  }

  async subscriptions(channel?: string): Promise<Subscription[]> {
    const rows =
      channel === undefined
        ? await this.query<SubscriptionRow>('SELECT * FROM halo_subscriptions ORDER BY id')
        : await this.query<SubscriptionRow>(
            'SELECT * FROM halo_subscriptions WHERE channel = $1 ORDER BY id',
            [channel],
          );
    return rows.map(toSubscription);
  }

  async openThread(thread: Omit<ScanThread, 'counts'>): Promise<void> {
    await this.query(
      `INSERT INTO halo_threads (channel, target_id, parent_ts, parent, counts, opened_at)
       VALUES ($1, $2, $3, $4, '{}', $5)
       ON CONFLICT (channel, target_id) DO UPDATE SET parent_ts = excluded.parent_ts, parent = excluded.parent,
         counts = '{}', opened_at = excluded.opened_at`,
      [thread.channel, thread.targetId, thread.parentTs, thread.parent, thread.openedAt],
    );
  }

  async openThreads(): Promise<ScanThread[]> {
    return (await this.query<ThreadRow>('SELECT * FROM halo_threads')).map(toThread);
  }

  async thread(channel: string, targetId: number): Promise<ScanThread | null> {
    const rows = (
      await this.query<ThreadRow>('SELECT * FROM halo_threads WHERE channel = $1 AND target_id = $2', [
        channel,
        targetId,
      ])
    )[0];
    return rows === undefined ? null : toThread(rows);
  }

  async countReply(channel: string, targetId: number, key: string, count: number): Promise<void> {
    await this.query(
      `UPDATE halo_threads
       SET counts = jsonb_set(counts, ARRAY[$3::text], to_jsonb(coalesce((counts ->> $3::text)::bigint, 0) + $4))
       WHERE channel = $1 AND target_id = $2`,
      [channel, targetId, key, count],
    );
  }

  async closeThread(channel: string, targetId: number): Promise<ScanThread | null> {
    const rows = (
      await this.query<ThreadRow>(
        'DELETE FROM halo_threads WHERE channel = $1 AND target_id = $2 RETURNING *',
        [channel, targetId],
      )
    )[0];
    return rows === undefined ? null : toThread(rows);
  }

  async recordDeletion(record: DeletionRecord): Promise<void> {
    await this.query(
      `INSERT INTO halo_deletions (event_id, user_id, at, already_deleted) VALUES ($1, $2, $3, $4)
       ON CONFLICT (event_id) DO UPDATE SET user_id = excluded.user_id, at = excluded.at,
         already_deleted = excluded.already_deleted`,
      [record.eventId, record.userId, record.at, record.alreadyDeleted],
    );
  }

  async deletion(eventId: string): Promise<DeletionRecord | null> {
    const rows = await this.query<{
      event_id: string;
      user_id: string;
      at: number;
      already_deleted: boolean;
    }>('SELECT * FROM halo_deletions WHERE event_id = $1', [eventId]);
    const row = rows[0];
    if (row === undefined) return null;
    return { eventId: row.event_id, userId: row.user_id, at: row.at, alreadyDeleted: row.already_deleted };
  }

  async stats(): Promise<StoreStats> {
    const rows = await this.query<StoreStats>(
      `SELECT (SELECT count(*) FROM halo_seen) AS seen,
              (SELECT count(*) FROM halo_staged) AS staged,
              count(*) FILTER (WHERE state = 'pending') AS pending,
              count(*) FILTER (WHERE state = 'failed') AS failed,
              count(*) FILTER (WHERE state = 'delivered') AS delivered
       FROM halo_outbox`,
    );
    return rows[0]!;
  }

  async pendingCount(): Promise<number> {
    const rows = await this.query<{ n: number }>(
      `SELECT count(*) AS n FROM halo_outbox WHERE state = 'pending'`,
    );
    return rows[0]!.n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function insertStaged(client: pg.PoolClient, events: readonly HaloEvent[]): Promise<void> {
  await client.query(
    `INSERT INTO halo_staged (event_id, event, date_created)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
    [events.map((e) => e.eventId), events.map((e) => JSON.stringify(e)), events.map((e) => e.dateCreated)],
  );
}

function toThread(row: ThreadRow): ScanThread {
  return {
    channel: row.channel,
    targetId: Number(row.target_id),
    parentTs: row.parent_ts,
    parent: row.parent,
    counts: typeof row.counts === 'string' ? (JSON.parse(row.counts) as Record<string, number>) : row.counts,
    openedAt: Number(row.opened_at),
  };
}
