/**
 * The `SqlStore`'s summaries (sql-store.ts), of one scope (sql-scoped.ts): each channel's schedule, the slot
 * it last queued, a channel's activity over a period, and the counts of the store's stats.
 */
import { sql } from 'kysely';
import { SqlScoped } from './sql-scoped.ts';
import type * as api from '../pipeline/store-port.ts';
import type { NewOutboxItem } from '../pipeline/store-port.ts';

export class SqlSummaries extends SqlScoped {
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
}
