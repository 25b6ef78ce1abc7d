/**
 * What the `SqlStore` (sql-store.ts) keeps per channel of one scope (sql-scoped.ts): subscriptions, the
 * threads of scans, mutes and what they held back, and the audit of who changed what.
 */
import { MUTE_ITEM, toSubscription, toThread } from './sql-rows.ts';
import { SqlScoped } from './sql-scoped.ts';
import type * as api from '../pipeline/store-port.ts';
import type { Mute, ScanThread } from '../pipeline/store-port.ts';

export class SqlChannels extends SqlScoped {
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
}
