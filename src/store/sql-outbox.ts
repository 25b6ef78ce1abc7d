/**
 * The `SqlStore`'s outbox (sql-store.ts): which rows are due, in each channel's order, their digests, the
 * marks of a delivery's outcome (held to the fence of the scope's holder), failures and pruning, of one scope
 * (sql-scoped.ts).
 */
import { OUTBOX_ITEM } from './sql-rows.ts';
import { SqlScoped } from './sql-scoped.ts';
import type * as api from '../pipeline/store-port.ts';
import type { NewOutboxItem, OutboxItem } from '../pipeline/store-port.ts';

/** Rolls back `replaceWithDigest`'s transaction: a row to replace was claimed meanwhile. Not a failure. */
class NotReplaced extends Error {
  override name = 'NotReplaced' as const;
}

export class SqlOutbox extends SqlScoped {
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

  async pendingCount(): Promise<number> {
    const pending = this.db.selectFrom('halo_outbox').select((eb) => eb.fn.countAll().as('n'));
    const mine = pending.where((eb) => eb.and({ ...this.own, state: 'pending' }));
    return Number((await mine.executeTakeFirstOrThrow()).n);
  }
}
