/**
 * What every part of the scoped `SqlStore` view (sql-store.ts) stands on: the database of one {@link Engine},
 * its {@link Dialect}, and the {@link Scope} as the columns every query filters by and every insert writes, so that
 * an ID or a channel of another scope reads and changes nothing. Each part (sql-intake.ts, sql-outbox.ts,
 * sql-channels.ts, sql-events.ts, sql-summaries.ts) extends it with the queries of one concern.
 */
import type { Db, Dialect } from './schema.ts';
import { chunks, scopeColumns, type Engine } from './sql-rows.ts';
import type { NewOutboxItem } from '../pipeline/store-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';

export class SqlScoped {
  protected readonly db: Db;
  protected readonly d: Dialect;
  /** Filters every query, and goes into every insert. */
  protected readonly own: { workspace_id: string; account_id: string };

  constructor(
    protected readonly engine: Engine,
    readonly scope: Scope,
  ) {
    this.db = engine.db;
    this.d = engine.d;
    this.own = scopeColumns(scope);
  }

  protected fenced<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return this.engine.fenced(this.scope, work);
  }

  protected transaction<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /** Adds outbox rows; a repeat of a dedup key (in the scope) is a no-op. */
  protected async insertOutbox(trx: Db, items: readonly NewOutboxItem[], now: number): Promise<void> {
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
