/**
 * The {@link Store}, written once for SQLite and PostgreSQL with Kysely, as a view of one {@link Scope}: every
 * query of every method filters by the scope's `workspace_id` and `account_id`, and every insert writes them, so
 * that an ID or a channel of another scope reads and changes nothing. What only one database does comes from its
 * {@link Engine}: the SQLite file lock (sqlite.ts), and PostgreSQL's fenced transactions and `SKIP LOCKED` claims
 * (postgres.ts), per-account leases (pg-leases.ts). The few spellings the two differ in come from the {@link Dialect}.
 */
import { sql } from 'kysely';
import type { HaloEvent } from '../domain/event.ts';
import type { Db, Dialect } from './schema.ts';
import {
  ACK,
  chunks,
  MUTE_ITEM,
  OUTBOX_ITEM,
  scopeColumns,
  toSubscription,
  toThread,
  type Engine,
} from './sql-rows.ts';
import type * as api from '../pipeline/store-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';
import type {
  Acknowledgement,
  DeletionRecord,
  Mute,
  NewOutboxItem,
  OutboxItem,
  ScanThread,
} from '../pipeline/store-port.ts';

/** Rolls back `replaceWithDigest`'s transaction: a row to replace was claimed meanwhile. Not a failure. */
class NotReplaced extends Error {
  override name = 'NotReplaced' as const;
}

export class SqlStore implements api.Store {
  protected readonly db: Db;
  protected readonly d: Dialect;
  /** Filters every query, and goes into every insert. */
  private readonly own: { workspace_id: string; account_id: string };

  /** `release`: what `close()` does; nothing for a view (the tenant store closes the database), see `owned`. */
  constructor(
    private readonly engine: Engine,
    readonly scope: Scope,
    private readonly release: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.db = engine.db;
    this.d = engine.d;
    this.own = scopeColumns(scope);
  }

  private fenced<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return this.engine.fenced(this.scope, work);
  }

  markSending(id: number, now: number): Promise<boolean> {
    return this.engine.markSending(this.scope, id, now);
  }

  close(): Promise<void> {
    return this.release();
  }

  protected transaction<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    return this.fenced(async (trx) => {
      // Nearly every ID of a page was seen before: one statement for the page, and the events only for new news.
      const inserted = await this.insertSeen(trx, events).returning('event_id').execute();
      if (inserted.length === 0) return 0;
      const unseen = new Set(inserted.map((row) => row.event_id));
      // `delete`: an ID listed twice on one page is staged once.
      const staged = events.filter((event, i) => unseen.delete(event.eventId) && news[i] === true);
      await this.insertStaged(trx, staged);
      return staged.length;
    });
  }

  async unseen(ids: readonly string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    // One read-only statement a page: no write transaction when nothing is new.
    const rows = await this.db
      .selectFrom(this.d.positions(ids).as('t'))
      .select('t.i')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('halo_seen')
              .where((e) => e.and(this.own))
              .whereRef('event_id', '=', 't.value')
              .select('event_id'),
          ),
        ),
      )
      .orderBy('t.i')
      .execute();
    return rows.map((row) => row.i);
  }

  async stage(events: readonly HaloEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.fenced(async (trx) => {
      await this.insertSeen(trx, events).execute();
      await this.insertStaged(trx, events);
    });
  }

  private insertSeen(trx: Db, events: readonly HaloEvent[]) {
    const ids = this.d.rows(events.map((e) => e.eventId));
    const { workspace_id, account_id } = this.own;
    // `WHERE true`: SQLite's parser needs it between `INSERT … SELECT … FROM` and an `ON CONFLICT` clause.
    const rows = sql`SELECT CAST(${workspace_id} AS TEXT), CAST(${account_id} AS TEXT), value FROM (${ids}) AS r WHERE true`;
    return trx
      .insertInto('halo_seen')
      .columns(['workspace_id', 'account_id', 'event_id'])
      .expression(rows)
      .onConflict((c) => c.doNothing());
  }

  private async insertStaged(trx: Db, events: readonly HaloEvent[]): Promise<void> {
    for (const part of chunks(events)) {
      const rows = part.map((e) => ({
        ...this.own,
        event_id: e.eventId,
        event: JSON.stringify(e),
        date_created: e.dateCreated,
      }));
      await trx
        .insertInto('halo_staged')
        .values(rows)
        .onConflict((c) => c.doNothing())
        .execute();
    }
  }

  async staged(): Promise<HaloEvent[]> {
    const order = this.d.bytewise('event_id');
    const rows = await this.db
      .selectFrom('halo_staged')
      .select('event')
      .where((eb) => eb.and(this.own))
      .orderBy('date_created')
      .orderBy(order)
      .execute();
    return rows.map((row) => JSON.parse(row.event) as HaloEvent);
  }

  async route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): Promise<void> {
    await this.fenced(async (trx) => {
      await this.insertOutbox(trx, items, now);
      if (eventIds.length > 0) {
        const routed = trx.deleteFrom('halo_staged').where((eb) => eb.and(this.own));
        await routed.where(this.d.oneOf('event_id', eventIds)).execute();
      }
    });
  }

  async getState(key: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('halo_state')
      .select('value')
      .where((eb) => eb.and({ ...this.own, key }))
      .executeTakeFirst();
    return row?.value ?? null;
  }

  async setState(entries: Readonly<Record<string, string>>): Promise<void> {
    const rows = Object.entries(entries).map(([key, value]) => ({ ...this.own, key, value }));
    if (rows.length === 0) return;
    await this.fenced((trx) =>
      trx
        .insertInto('halo_state')
        .values(rows)
        .onConflict((c) =>
          c
            .columns(['workspace_id', 'account_id', 'key'])
            .doUpdateSet((eb) => ({ value: eb.ref('excluded.value') }))
            // An unchanged value is not written again: a steady poll's plan and totals cost no row.
            .where((eb) => eb('halo_state.value', '<>', eb.ref('excluded.value'))),
        )
        .execute(),
    );
  }

  async dueChannels(now: number): Promise<string[]> {
    const due = this.db
      .selectFrom('halo_outbox')
      .select('channel')
      .distinct()
      .where((eb) => eb.and({ ...this.own, state: 'pending' }));
    return (await due.where('next_attempt_at', '<=', now).execute()).map((row) => row.channel);
  }

  async nextDue(channel: string, now: number): Promise<OutboxItem | null> {
    // The channel's oldest pending row, due or not: a later row must never overtake one waiting for its retry,
    // including after a restart or a change of leader, when no in-memory hold remembers the wait.
    const row = await this.pending(channel)
      .select('next_attempt_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return null;
    const { next_attempt_at: due, ...item } = row;
    return due > now ? null : item;
  }

  unattemptedAlerts(channel: string): Promise<OutboxItem[]> {
    const alerts = this.pending(channel).where('kind', '=', 'alert').where('attempts', '=', 0);
    return alerts.where('sent_at', 'is', null).orderBy('id').execute();
  }

  private pending(channel: string) {
    const rows = this.db.selectFrom('halo_outbox').select(OUTBOX_ITEM);
    return rows.where((eb) => eb.and({ ...this.own, state: 'pending', channel }));
  }

  async replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): Promise<boolean> {
    try {
      await this.transaction(async (trx) => {
        // A row claimed or posted meanwhile must be posted as itself: undo everything.
        const removed = await trx
          .deleteFrom('halo_outbox')
          .where(this.d.oneOf('id', ids))
          .where((eb) => eb.and({ ...this.own, state: 'pending', attempts: 0, sent_at: null }))
          .returning('id')
          .execute();
        if (removed.length !== new Set(ids).size)
          throw new NotReplaced('a row to replace was claimed meanwhile');
        await this.insertOutbox(trx, [digest], now);
      });
      return true;
    } catch (error) {
      if (error instanceof NotReplaced) return false;
      throw error;
    }
  }

  /** A mark applies unless a newer holder has claimed the row since: its outcome is then the newer one's. */
  private mark(id: number) {
    const token = this.engine.fenceOf(this.scope).token;
    return this.db
      .updateTable('halo_outbox')
      .where((eb) => eb.and({ ...this.own, id }))
      .$if(token !== null, (q) => q.where((eb) => eb(eb.fn.coalesce('claim_token', eb.lit(0)), '<=', token)));
  }

  async markDelivered(id: number, now: number): Promise<void> {
    await this.mark(id)
      .set((eb) => ({ state: 'delivered', attempts: eb('attempts', '+', 1), done_at: now }))
      .execute();
  }

  async markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.mark(id)
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: nextAttemptAt, last_error: error }))
      .execute();
  }

  async markFailed(id: number, error: string, now: number): Promise<void> {
    await this.mark(id)
      .set((eb) => ({ state: 'failed', attempts: eb('attempts', '+', 1), last_error: error, done_at: now }))
      .execute();
  }

  async failChannel(channel: string, error: string, now: number): Promise<number> {
    const failed = this.db
      .updateTable('halo_outbox')
      .set({ state: 'failed', last_error: error, done_at: now });
    const result = await failed
      .where((eb) => eb.and({ ...this.own, channel, state: 'pending' }))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async recentFailures(limit: number): Promise<api.FailedDelivery[]> {
    const rows = await this.db
      .selectFrom('halo_outbox')
      .select(['channel', 'kind', 'last_error', 'done_at'])
      .where((eb) => eb.and({ ...this.own, state: 'failed' }))
      .orderBy('done_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      channel: row.channel,
      kind: row.kind,
      error: row.last_error ?? '',
      at: row.done_at ?? 0,
    }));
  }

  async prune(before: number): Promise<void> {
    const delivered = this.db
      .deleteFrom('halo_outbox')
      .where((eb) => eb.and({ ...this.own, state: 'delivered' }));
    await delivered.where('done_at', '<', before).execute();
  }

  addSubscription(sub: api.NewSubscription) {
    const row = {
      ...this.own,
      channel: sub.channel,
      keys: JSON.stringify([...sub.keys].sort()),
      target_ids: JSON.stringify([...sub.targetIds].sort((a, b) => a - b)),
      min_severity: sub.minSeverity ?? null,
    };
    return this.transaction(async (trx) => {
      // Two replicas adding the same subscription at once must still end with one.
      await this.d.exclusive('halo_subscriptions')?.execute(trx);
      const existing = await trx
        .selectFrom('halo_subscriptions')
        .selectAll()
        .where((eb) =>
          eb.and({ ...this.own, channel: row.channel, keys: row.keys, target_ids: row.target_ids }),
        )
        .where('min_severity', 'is not distinct from', row.min_severity)
        .executeTakeFirst();
      if (existing !== undefined) return { subscription: toSubscription(existing), created: false };
      const values = { ...row, created_by: sub.createdBy, created_at: sub.createdAt };
      const inserted = await trx
        .insertInto('halo_subscriptions')
        .values(values)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { subscription: toSubscription(inserted), created: true };
    });
  }

  async removeSubscription(channel: string, id: number): Promise<boolean> {
    const removed = this.db
      .deleteFrom('halo_subscriptions')
      .where((eb) => eb.and({ ...this.own, channel, id }));
    return (await removed.executeTakeFirst()).numDeletedRows > 0n;
  }

  async removeAllSubscriptions(channel: string): Promise<number> {
    const removed = this.db.deleteFrom('halo_subscriptions').where((eb) => eb.and({ ...this.own, channel }));
    return Number((await removed.executeTakeFirst()).numDeletedRows);
  }

  async subscriptions(channel?: string): Promise<api.Subscription[]> {
    const all = this.db
      .selectFrom('halo_subscriptions')
      .selectAll()
      .where((eb) => eb.and(this.own))
      .orderBy('id');
    const rows = await all.$if(channel !== undefined, (q) => q.where('channel', '=', channel!)).execute();
    return rows.map(toSubscription);
  }

  async openThread(thread: Omit<ScanThread, 'counts'>): Promise<void> {
    const { channel, targetId: target_id, parentTs: parent_ts, parent, openedAt: opened_at } = thread;
    const fresh = { parent_ts, parent, counts: '{}', opened_at };
    await this.db
      .insertInto('halo_threads')
      .values({ ...this.own, channel, target_id, ...fresh })
      .onConflict((c) => c.columns(['workspace_id', 'account_id', 'channel', 'target_id']).doUpdateSet(fresh))
      .execute();
  }

  async openThreads(): Promise<ScanThread[]> {
    const all = this.db.selectFrom('halo_threads').selectAll();
    return (await all.where((eb) => eb.and(this.own)).execute()).map(toThread);
  }

  async thread(channel: string, targetId: number): Promise<ScanThread | null> {
    const one = this.db.selectFrom('halo_threads').selectAll();
    const row = await one
      .where((eb) => eb.and({ ...this.own, channel, target_id: targetId }))
      .executeTakeFirst();
    return row === undefined ? null : toThread(row);
  }

  async countReply(channel: string, targetId: number, key: string, count: number): Promise<void> {
    const add = this.db.updateTable('halo_threads').set({ counts: this.d.addCount(key, count) });
    await add.where((eb) => eb.and({ ...this.own, channel, target_id: targetId })).execute();
  }

  async closeThread(channel: string, targetId: number): Promise<ScanThread | null> {
    const closed = this.db
      .deleteFrom('halo_threads')
      .where((eb) => eb.and({ ...this.own, channel, target_id: targetId }));
    const row = await closed.returningAll().executeTakeFirst();
    return row === undefined ? null : toThread(row);
  }

  async recordDeletion(record: DeletionRecord): Promise<void> {
    const latest = { user_id: record.userId, at: record.at, already_deleted: record.alreadyDeleted ? 1 : 0 };
    await this.db
      .insertInto('halo_deletions')
      .values({ ...this.own, event_id: record.eventId, ...latest })
      .onConflict((c) => c.columns(['workspace_id', 'account_id', 'event_id']).doUpdateSet(latest))
      .execute();
  }

  async deletion(eventId: string): Promise<DeletionRecord | null> {
    const columns = ['event_id as eventId', 'user_id as userId', 'at', 'already_deleted'] as const;
    const row = await this.db
      .selectFrom('halo_deletions')
      .select(columns)
      .where((eb) => eb.and({ ...this.own, event_id: eventId }))
      .executeTakeFirst();
    if (row === undefined) return null;
    const { already_deleted: deleted, ...record } = row;
    return { ...record, alreadyDeleted: Boolean(deleted) };
  }

  async acknowledge(ack: Acknowledgement): Promise<Acknowledgement[]> {
    const { channel, messageTs: message_ts, userId: user_id, eventId: event_id, at } = ack;
    await this.db
      .insertInto('halo_acknowledgements')
      .values({ ...this.own, channel, message_ts, user_id, event_id, at })
      .onConflict((c) =>
        c.columns(['workspace_id', 'account_id', 'channel', 'message_ts', 'user_id']).doNothing(),
      )
      .execute();
    const acks = this.db
      .selectFrom('halo_acknowledgements')
      .select(ACK)
      .where((eb) => eb.and({ ...this.own, channel, message_ts }));
    return acks.orderBy('at').orderBy(this.d.bytewise('user_id')).execute();
  }

  addMute(mute: api.NewMute): Promise<Mute> {
    const { channel, key, targetId: target_id, targetLabel: target_label, createdBy: created_by } = mute;
    const row = {
      ...this.own,
      channel,
      key,
      target_id,
      target_label,
      created_by,
      created_at: mute.createdAt,
      expires_at: mute.expiresAt,
    };
    return this.db.insertInto('halo_mutes').values(row).returning(MUTE_ITEM).executeTakeFirstOrThrow();
  }

  async removeMute(id: number, now: number, channel?: string): Promise<Mute | null> {
    // Ended, not deleted: what it held back still counts in the totals, and it is never announced.
    const ended = this.db
      .updateTable('halo_mutes')
      .set({ ended_at: now })
      .where((eb) => eb.and({ ...this.own, id, ended_at: null }));
    const row = await ended
      .$if(channel !== undefined, (q) => q.where('channel', '=', channel!))
      .returning(MUTE_ITEM)
      .executeTakeFirst();
    return row ?? null;
  }

  activeMutes(now: number, channel?: string): Promise<Mute[]> {
    const active = this.openMutes().where('expires_at', '>', now).orderBy('id');
    return active.$if(channel !== undefined, (q) => q.where('channel', '=', channel!)).execute();
  }

  expiredMutes(now: number): Promise<Mute[]> {
    return this.openMutes().where('expires_at', '<=', now).orderBy('expires_at').orderBy('id').execute();
  }

  private openMutes() {
    const open = this.db.selectFrom('halo_mutes').select(MUTE_ITEM);
    return open.where((eb) => eb.and({ ...this.own, ended_at: null }));
  }

  async countMuted(held: ReadonlyMap<number, number>): Promise<void> {
    if (held.size === 0) return;
    // The poller's write: a replaced leader must not count what the new one counts again.
    await this.fenced(async (trx) => {
      for (const [id, count] of held)
        await trx
          .updateTable('halo_mutes')
          .set((eb) => ({ held: eb('held', '+', count) }))
          .where((eb) => eb.and({ ...this.own, id }))
          .execute();
    });
  }

  async endMutes(ids: readonly number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    const ended = this.db.updateTable('halo_mutes').set({ ended_at: now }).where(this.d.oneOf('id', ids));
    await ended.where((eb) => eb.and({ ...this.own, ended_at: null })).execute();
  }

  async mutedTotal(): Promise<number> {
    const total = this.db
      .selectFrom('halo_mutes')
      .select((eb) => eb.fn.coalesce(eb.fn.sum('held'), eb.lit(0)).as('n'))
      .where((eb) => eb.and(this.own));
    return Number((await total.executeTakeFirstOrThrow()).n);
  }

  async audit(entry: api.NewAuditEntry): Promise<void> {
    const { at, userId: user_id, action, channel, detail } = entry;
    const row = { ...this.own, at, user_id, action, channel, detail };
    await this.db.insertInto('halo_audit').values(row).execute();
  }

  recentAudit(limit: number): Promise<api.AuditEntry[]> {
    const columns = ['id', 'at', 'user_id as userId', 'action', 'channel', 'detail'] as const;
    const entries = this.db
      .selectFrom('halo_audit')
      .select(columns)
      .where((eb) => eb.and(this.own))
      .orderBy('at', 'desc')
      .orderBy('id', 'desc');
    return entries.limit(limit).execute();
  }

  recordMessage(message: api.NewEventMessage, now: number): Promise<{ goneAt: number | null }> {
    const { channel, ts, eventId: event_id, payload, key, targetId: target_id } = message;
    return this.transaction(async (trx) => {
      await trx
        .insertInto('halo_watched_events')
        .values({ ...this.own, event_id, key, target_id, listed_at: now })
        .onConflict((c) => c.columns(['workspace_id', 'account_id', 'event_id']).doNothing())
        .execute();
      await trx
        .insertInto('halo_event_messages')
        .values({ ...this.own, channel, ts, event_id, payload })
        .onConflict((c) => c.columns(['workspace_id', 'account_id', 'channel', 'ts']).doNothing())
        .execute();
      const watched = trx
        .selectFrom('halo_watched_events')
        .select('gone_at')
        .where((eb) => eb.and({ ...this.own, event_id }));
      return { goneAt: (await watched.executeTakeFirst())?.gone_at ?? null };
    });
  }

  async setMessageSummary(channel: string, ts: string, summary: string): Promise<{ goneAt: number | null }> {
    const set = this.db
      .updateTable('halo_event_messages')
      .set({ summary })
      .where((eb) => eb.and({ ...this.own, channel, ts }));
    const row = await set
      .returning((eb) =>
        eb
          .selectFrom('halo_watched_events as w')
          .select('w.gone_at')
          .whereRef('w.event_id', '=', 'halo_event_messages.event_id')
          .whereRef('w.workspace_id', '=', 'halo_event_messages.workspace_id')
          .whereRef('w.account_id', '=', 'halo_event_messages.account_id')
          .as('gone_at'),
      )
      .executeTakeFirst();
    return { goneAt: row?.gone_at ?? null };
  }

  async watchedEventIds(): Promise<string[]> {
    const watched = this.db
      .selectFrom('halo_watched_events')
      .select('event_id')
      .where((eb) => eb.and({ ...this.own, gone_at: null }));
    return (await watched.execute()).map((row) => row.event_id);
  }

  async markListed(eventIds: readonly string[], scanStartedAt: number): Promise<void> {
    if (eventIds.length === 0) return;
    await this.fenced((trx) =>
      trx
        .updateTable('halo_watched_events')
        .set((eb) => ({
          listed_at: eb
            .case()
            .when('listed_at', '<', scanStartedAt)
            .then(scanStartedAt)
            .else(eb.ref('listed_at'))
            .end(),
          misses: 0,
        }))
        .where((eb) => eb.and(this.own))
        .where(this.d.oneOf('event_id', eventIds))
        .execute(),
    );
  }

  countMisses(
    coverage: api.ScanCoverage,
    scanStartedAt: number,
    threshold: number,
    listed: readonly string[] = [],
  ): Promise<string[]> {
    return this.fenced(async (trx) => {
      if (listed.length > 0) {
        // Listed again: a count that is not 0 starts over; one that is 0 is not written again.
        await trx
          .updateTable('halo_watched_events')
          .set({ misses: 0 })
          .where((eb) => eb.and(this.own))
          .where('misses', '>', 0)
          .where(this.d.oneOf('event_id', listed))
          .execute();
      }
      if (coverage.all || coverage.keys.length > 0 || coverage.targetIds.length > 0) {
        // What the conclusive scans covered: every event, or those with one of these keys or targets.
        const scope = [this.d.oneOf('key', coverage.keys), this.d.oneOf('target_id', coverage.targetIds)];
        await trx
          .updateTable('halo_watched_events')
          .set((eb) => ({ misses: eb('misses', '+', 1) }))
          .where((eb) => eb.and({ ...this.own, gone_at: null }))
          .where('listed_at', '<', scanStartedAt)
          .$if(!coverage.all, (q) => q.where((eb) => eb.or(scope)))
          .$if(listed.length > 0, (q) => q.where((eb) => eb.not(this.d.oneOf('event_id', listed))))
          .execute();
      }
      const missed = trx
        .selectFrom('halo_watched_events')
        .select('event_id')
        .where((eb) => eb.and({ ...this.own, gone_at: null }));
      const rows = await missed
        .where('misses', '>=', threshold)
        .orderBy(this.d.bytewise('event_id'))
        .execute();
      return rows.map((row) => row.event_id);
    });
  }

  async eventMessages(eventIds: readonly string[]) {
    if (eventIds.length === 0) return [];
    const d = this.d;
    const rows = await this.db
      .selectFrom('halo_event_messages')
      .select(['channel', 'ts', 'event_id as eventId', 'payload', 'summary'])
      .where((eb) => eb.and(this.own))
      .where(d.oneOf('event_id', eventIds))
      .orderBy(d.bytewise('event_id'))
      .orderBy(d.bytewise('ts'))
      .orderBy(d.bytewise('channel'))
      .execute();
    const acks = await this.db
      .selectFrom('halo_acknowledgements as a')
      .innerJoin('halo_event_messages as m', (join) =>
        join
          .onRef('m.workspace_id', '=', 'a.workspace_id')
          .onRef('m.account_id', '=', 'a.account_id')
          .onRef('m.channel', '=', 'a.channel')
          .onRef('m.ts', '=', 'a.message_ts'),
      )
      .select([
        'a.channel',
        'a.message_ts as messageTs',
        'm.event_id as eventId',
        'a.user_id as userId',
        'a.at',
      ])
      .where('a.workspace_id', '=', this.own.workspace_id)
      .where('a.account_id', '=', this.own.account_id)
      .where(d.oneOf('m.event_id', eventIds))
      .orderBy('a.at')
      .orderBy(d.bytewise('a.user_id'))
      .execute();
    return rows.map((row) => ({
      ...row,
      acks: acks.filter((a) => a.channel === row.channel && a.messageTs === row.ts),
    }));
  }

  async postedSince(
    keys: readonly string[],
    targetIds: readonly number[],
    since: number,
  ): Promise<api.PostedSince> {
    const d = this.d;
    let watched = this.db
      .selectFrom('halo_watched_events as w')
      .where('w.workspace_id', '=', this.own.workspace_id)
      .where('w.account_id', '=', this.own.account_id)
      .where('w.listed_at', '>=', since);
    if (keys.length > 0) watched = watched.where(d.oneOf('w.key', keys));
    if (targetIds.length > 0) watched = watched.where(d.oneOf('w.target_id', targetIds));
    const counts = await watched
      .select((eb) => ['w.key', eb.fn.countAll<number | string>().as('count')])
      .groupBy('w.key')
      .orderBy(d.bytewise('w.key'))
      .execute();
    const latest = await watched
      .innerJoin('halo_event_messages as m', (join) =>
        join
          .onRef('m.workspace_id', '=', 'w.workspace_id')
          .onRef('m.account_id', '=', 'w.account_id')
          .onRef('m.event_id', '=', 'w.event_id'),
      )
      .select(['m.payload', 'w.listed_at as at'])
      .orderBy('w.listed_at', 'desc')
      .orderBy(d.bytewise('w.event_id'), 'desc')
      .limit(1)
      .executeTakeFirst();
    return {
      counts: counts.map((row) => ({ key: row.key, count: Number(row.count) })),
      latest: latest ?? null,
    };
  }

  async postedTargets(limit: number): Promise<api.PostedTarget[]> {
    const rows = await this.db
      .selectFrom('halo_watched_events as w')
      .innerJoin('halo_event_messages as m', (join) =>
        join
          .onRef('m.workspace_id', '=', 'w.workspace_id')
          .onRef('m.account_id', '=', 'w.account_id')
          .onRef('m.event_id', '=', 'w.event_id'),
      )
      .where('w.workspace_id', '=', this.own.workspace_id)
      .where('w.account_id', '=', this.own.account_id)
      .where('w.target_id', 'is not', null)
      .select((eb) => [
        'w.target_id',
        eb.fn.max('m.payload').as('payload'),
        eb.fn.max('w.listed_at').as('at'),
      ])
      .groupBy('w.target_id')
      .orderBy('at', 'desc')
      .orderBy('w.target_id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ targetId: row.target_id!, payload: row.payload }));
  }

  async markGone(eventIds: readonly string[], items: readonly NewOutboxItem[], now: number): Promise<void> {
    await this.fenced(async (trx) => {
      if (eventIds.length > 0) {
        const gone = trx
          .updateTable('halo_watched_events')
          .set({ gone_at: now })
          .where((eb) => eb.and({ ...this.own, gone_at: null }));
        await gone.where(this.d.oneOf('event_id', eventIds)).execute();
      }
      await this.insertOutbox(trx, items, now);
    });
  }

  async setSummary(setting: Omit<api.SummarySetting, 'lastSlot' | 'held'>): Promise<void> {
    const { channel, cadence, weekday, minute, createdBy: created_by, createdAt: created_at } = setting;
    const [same] = await this.summaries(channel);
    // The same schedule set again keeps its place: a repeat at 09:00:20 must not skip the 09:00 summary.
    if (same?.cadence === cadence && same.weekday === weekday && same.minute === minute) return;
    const row = { cadence, weekday, minute, created_by, created_at, last_slot: created_at, held: '{}' };
    await this.db
      .insertInto('halo_summaries')
      .values({ ...this.own, channel, ...row })
      .onConflict((c) => c.columns(['workspace_id', 'account_id', 'channel']).doUpdateSet(row))
      .execute();
  }

  async removeSummary(channel: string): Promise<boolean> {
    const removed = this.db.deleteFrom('halo_summaries').where((eb) => eb.and({ ...this.own, channel }));
    return (await removed.executeTakeFirst()).numDeletedRows > 0n;
  }

  async summaries(channel?: string): Promise<api.SummarySetting[]> {
    const columns = [
      ...(['channel', 'cadence', 'weekday', 'minute'] as const),
      ...(['created_by as createdBy', 'created_at as createdAt', 'last_slot as lastSlot', 'held'] as const),
    ];
    const all = this.db
      .selectFrom('halo_summaries')
      .select(columns)
      .where((eb) => eb.and(this.own))
      .orderBy(this.d.bytewise('channel'));
    const rows = await all.$if(channel !== undefined, (q) => q.where('channel', '=', channel!)).execute();
    return rows.map((row) => ({ ...row, held: JSON.parse(row.held) as Record<string, number> }));
  }

  async routeSummary(
    item: NewOutboxItem,
    slot: number,
    held: Readonly<Record<string, number>>,
    now: number,
  ): Promise<void> {
    await this.fenced(async (trx) => {
      const later = trx.updateTable('halo_summaries').set({ last_slot: slot, held: JSON.stringify(held) });
      const moved = await later
        .where((eb) => eb.and({ ...this.own, channel: item.channel }))
        .where('last_slot', '<', slot)
        .executeTakeFirst();
      // Queued only when this slot moved the channel's record: not after `off`, nor for a slot already handled.
      if (moved.numUpdatedRows > 0n) await this.insertOutbox(trx, [item], now);
    });
  }

  async channelActivity(channel: string, from: number, to: number): Promise<api.ChannelActivity> {
    const rows = await this.db
      .selectFrom('halo_outbox')
      .select(['kind', 'payload'])
      .where((eb) => eb.and({ ...this.own, channel, state: 'delivered' }))
      .where('done_at', '>=', from)
      .where('done_at', '<', to)
      .orderBy('done_at')
      .orderBy('id')
      .execute();
    const mutes = await this.db
      .selectFrom('halo_mutes')
      .select(['id', 'held'])
      .where((eb) => eb.and({ ...this.own, channel }))
      .where('created_at', '<', to)
      .where((eb) => eb(eb.fn.coalesce('ended_at', 'expires_at'), '>=', from))
      .execute();
    return { rows, held: Object.fromEntries(mutes.map((mute) => [String(mute.id), mute.held])) };
  }

  async stats(): Promise<api.StoreStats> {
    const { workspace_id, account_id } = this.own;
    // Unqualified columns: each subquery's own table, and the outbox in the outer query.
    const mine = sql<boolean>`workspace_id = ${workspace_id} AND account_id = ${account_id}`;
    const row = await this.db
      .selectFrom('halo_outbox')
      .select((eb) => [
        eb.selectFrom('halo_seen').select(eb.fn.countAll().as('n')).where(mine).as('seen'),
        eb.selectFrom('halo_staged').select(eb.fn.countAll().as('n')).where(mine).as('staged'),
        ...(['pending', 'failed', 'delivered'] as const).map((state) =>
          eb.fn.countAll().filterWhere('state', '=', state).as(state),
        ),
      ])
      .where(mine)
      .executeTakeFirstOrThrow();
    // Counts arrive as numbers (SQLite) or BIGINT text (PostgreSQL, parsed in postgres.ts); either way, numbers.
    const { seen, staged, pending, failed, delivered } = row as Record<keyof api.StoreStats, unknown>;
    return {
      seen: Number(seen),
      staged: Number(staged),
      pending: Number(pending),
      failed: Number(failed),
      delivered: Number(delivered),
    };
  }

  async pendingCount(): Promise<number> {
    const pending = this.db.selectFrom('halo_outbox').select((eb) => eb.fn.countAll().as('n'));
    const mine = pending.where((eb) => eb.and({ ...this.own, state: 'pending' }));
    return Number((await mine.executeTakeFirstOrThrow()).n);
  }
  /** Adds outbox rows; a repeat of a dedup key (in the scope) is a no-op. */
  private async insertOutbox(trx: Db, items: readonly NewOutboxItem[], now: number): Promise<void> {
    for (const part of chunks(items)) {
      const rows = part.map(({ channel, kind, payload, dedupKey: dedup_key }) => ({
        ...this.own,
        ...{ channel, kind, payload, dedup_key },
        ...{ created_at: now, next_attempt_at: now },
      }));
      await trx
        .insertInto('halo_outbox')
        .values(rows)
        .onConflict((c) => c.columns(['workspace_id', 'account_id', 'dedup_key']).doNothing())
        .execute();
    }
  }
}
