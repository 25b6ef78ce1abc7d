/**
 * The `SqlStore`'s intake (sql-store.ts): the event IDs seen, the events staged until they are routed to the
 * outbox, and the poller's state, all of one scope (sql-scoped.ts).
 */
import { sql } from 'kysely';
import type { HaloEvent } from '../domain/event.ts';
import type { Db } from './schema.ts';
import { chunks } from './sql-rows.ts';
import { SqlScoped } from './sql-scoped.ts';
import type { NewOutboxItem } from '../pipeline/store-port.ts';

export class SqlIntake extends SqlScoped {
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
}
