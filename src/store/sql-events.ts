/**
 * The `SqlStore`'s record of posted events (sql-store.ts), of one scope (sql-scoped.ts): deletions and
 * acknowledgements, the messages each event was posted in, the events watched for their disappearance (the misses
 * of scans, gone), and what was posted since a time or for which targets.
 */
import { ACK } from './sql-rows.ts';
import { SqlScoped } from './sql-scoped.ts';
import type * as api from '../pipeline/store-port.ts';
import type { Acknowledgement, DeletionRecord, NewOutboxItem } from '../pipeline/store-port.ts';

export class SqlEvents extends SqlScoped {
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
}
