/**
 * The schema of both databases, written once: the tables' TypeScript shapes (what Kysely checks every query
 * against) and one list of migrations, each built with Kysely's schema builder so that it compiles to either
 * dialect. The few column types the two spell differently come from the {@link Dialect}.
 *
 * Why not Kysely's `Migrator`: the SQLite store opens synchronously (the file lock is taken before `openSqliteStore`
 * returns, and callers rely on that), which an async migrator cannot do; and today's databases keep their version
 * where the earlier releases look for it (SQLite's `user_version`, PostgreSQL's `halo_schema`), so an older
 * release refuses a database this one has upgraded instead of misreading it. Each step only compiles queries; the
 * SQLite and PostgreSQL stores run them in one transaction.
 */
import {
  sql,
  type ColumnType,
  type CompiledQuery,
  type CreateTableBuilder,
  type Generated,
  type Kysely,
  type RawBuilder,
  type SqlBool,
} from 'kysely';
import { StoreError } from './store.ts';

/** A millisecond time or a count: BIGINT in PostgreSQL, read as a number (see postgres.ts). */
type Int = number;

export interface Tables {
  halo_seen: { event_id: string };
  halo_staged: { event_id: string; event: string; date_created: string };
  halo_outbox: {
    id: Generated<number>;
    channel: string;
    kind: string;
    payload: string;
    dedup_key: string;
    state: Generated<string>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Int>;
    last_error: string | null;
    created_at: Int;
    done_at: Int | null;
    sent_at: Int | null;
    /** The fencing token of the leader that claimed the row (PostgreSQL); null with SQLite. */
    claim_token: Int | null;
  };
  halo_subscriptions: {
    id: Generated<number>;
    channel: string;
    keys: string;
    target_ids: string;
    created_by: string;
    created_at: Int;
    min_severity: string | null;
  };
  /** BOOLEAN in PostgreSQL, 0 or 1 in SQLite. */
  halo_deletions: {
    event_id: string;
    user_id: string;
    at: Int;
    already_deleted: ColumnType<boolean | number, number, number>;
  };
  halo_state: { key: string; value: string };
  halo_leader: { id: number; token: Int; holder: string | null; since: Int | null };
  halo_acknowledgements: { channel: string; message_ts: string; user_id: string; event_id: string; at: Int };
  halo_mutes: {
    id: Generated<number>;
    channel: string;
    key: string | null;
    target_id: number | null;
    target_label: Generated<string>;
    created_by: string;
    created_at: Int;
    expires_at: Int;
    held: Generated<Int>;
    ended_at: Int | null;
  };
  halo_audit: {
    id: Generated<number>;
    at: Int;
    user_id: string;
    action: string;
    channel: string | null;
    detail: string;
  };
  /** `counts`: JSONB in PostgreSQL (read as an object), TEXT in SQLite. */
  halo_threads: {
    channel: string;
    target_id: number;
    parent_ts: string;
    parent: string;
    counts: ColumnType<Record<string, number> | string, string, string>;
    opened_at: Int;
  };
  halo_watched_events: {
    event_id: string;
    key: string;
    target_id: number | null;
    listed_at: Int;
    misses: Generated<number>;
    gone_at: Int | null;
  };
  halo_event_messages: {
    channel: string;
    ts: string;
    event_id: string;
    payload: string;
    summary: string | null;
  };
}

export type Db = Kysely<Tables>;

/** What the two databases spell differently; everything else is written once. */
export interface Dialect {
  /** `column` is one of `values`, sent as one parameter however many there are. */
  oneOf(column: string, values: readonly (string | number)[]): RawBuilder<SqlBool>;
  /** A query giving `values` as rows of one column `value`, for `INSERT … SELECT`. */
  rows(values: readonly string[]): RawBuilder<{ value: string }>;
  /** `values` as a table `t (i, value)`, `i` counting from 0. */
  positions(values: readonly string[]): RawBuilder<{ i: number; value: string }>;
  /** The column, ordered byte by byte as SQLite does by default (PostgreSQL would follow the locale). */
  bytewise(column: string): RawBuilder<string>;
  /** `counts` (a JSON object) with `count` added to the number under `key`. */
  addCount(key: string, count: number): RawBuilder<string>;
  /** Adds an auto-numbered `id` primary key. */
  serialId<T extends string>(table: CreateTableBuilder<T>): CreateTableBuilder<T, 'id'>;
  /** A table stored in its primary key's order (SQLite's WITHOUT ROWID: 1M seen IDs are kept once, not twice). */
  clustered<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C>;
  readonly json: 'jsonb' | 'text';
  /** A statement that locks the table against concurrent writers until the transaction ends, where one is needed. */
  exclusive(table: string): RawBuilder<unknown> | null;
}

/** Tables and columns already there when the migration starts, and the database's own spelling of types. */
export interface MigrationContext {
  readonly db: Db;
  readonly d: Dialect;
  readonly columns: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Versions the earlier releases wrote (SQLite up to 3, PostgreSQL up to 4): the baseline brings any of them up. */
export const LEGACY_VERSION = 4;

/** Tables of the earlier SQLite layout, renamed to the names both databases now share. */
const LEGACY_SQLITE_TABLES: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(
    ['seen', 'staged', 'subscriptions', 'deletions', 'state', 'acknowledgements', 'audit', 'threads'].map(
      (name) => [name, []],
    ),
  ),
  outbox: ['outbox_due'],
  mutes: ['mutes_open'],
  watched_events: ['watched_events_key', 'watched_events_target'],
  event_messages: ['event_messages_event'],
};

/**
 * Step 5, the baseline: every table of the earlier releases under the shared `halo_` names (a PostgreSQL
 * database is often shared with other programs, and a SQLite file loses nothing by the prefix). It adopts any
 * earlier database as it finds it: SQLite tables are renamed (their indexes rebuilt under the new names), and
 * whatever a version lacked is added. A change from now on is a new step after this one, never an edit of it.
 */
function baseline({ db, d, columns: found }: MigrationContext): { compile(): CompiledQuery }[] {
  const s = db.schema;
  const columns = new Map(found);
  const out: { compile(): CompiledQuery }[] = [];
  for (const [name, indexes] of Object.entries(LEGACY_SQLITE_TABLES)) {
    if (!columns.has(name) || columns.has(`halo_${name}`)) continue;
    // SQLite keeps an index's name when its table is renamed: drop it, and the index is made again below.
    out.push(s.alterTable(name).renameTo(`halo_${name}`), ...indexes.map((i) => s.dropIndex(i).ifExists()));
    columns.set(`halo_${name}`, columns.get(name)!);
  }
  const missing = (table: string, column: string): boolean =>
    columns.has(table) && !columns.get(table)!.has(column);
  const table = (name: string): CreateTableBuilder<string> => s.createTable(name).ifNotExists();
  out.push(
    d.clustered(table('halo_seen').addColumn('event_id', 'text', (c) => c.primaryKey())),
    table('halo_staged')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('date_created', 'text', (c) => c.notNull()),
    d
      .serialId(table('halo_outbox'))
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('done_at', 'bigint')
      .addColumn('sent_at', 'bigint')
      .addColumn('claim_token', 'bigint'),
    s
      .createIndex('halo_outbox_due')
      .ifNotExists()
      .on('halo_outbox')
      .columns(['state', 'channel', 'next_attempt_at', 'id']),
    d
      .serialId(table('halo_subscriptions'))
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('keys', 'text', (c) => c.notNull())
      .addColumn('target_ids', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('min_severity', 'text'),
    table('halo_deletions')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('already_deleted', 'boolean', (c) => c.notNull()),
    table('halo_state')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull()),
    table('halo_leader')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('token', 'bigint', (c) => c.notNull())
      .addColumn('holder', 'text')
      .addColumn('since', 'bigint'),
    table('halo_acknowledgements')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('message_ts', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('halo_acknowledgements_pkey', ['channel', 'message_ts', 'user_id']),
    d
      .serialId(table('halo_mutes'))
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('key', 'text')
      .addColumn('target_id', 'bigint')
      .addColumn('target_label', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('held', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('ended_at', 'bigint'),
    s.createIndex('halo_mutes_open').ifNotExists().on('halo_mutes').columns(['ended_at', 'expires_at']),
    d
      .serialId(table('halo_audit'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('channel', 'text')
      .addColumn('detail', 'text', (c) => c.notNull()),
    table('halo_threads')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('target_id', 'bigint', (c) => c.notNull())
      .addColumn('parent_ts', 'text', (c) => c.notNull())
      .addColumn('parent', 'text', (c) => c.notNull())
      .addColumn('counts', d.json, (c) => c.notNull().defaultTo('{}'))
      .addColumn('opened_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('halo_threads_pkey', ['channel', 'target_id']),
    table('halo_watched_events')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('target_id', 'bigint')
      .addColumn('listed_at', 'bigint', (c) => c.notNull())
      .addColumn('misses', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('gone_at', 'bigint'),
    s
      .createIndex('halo_watched_events_key')
      .ifNotExists()
      .on('halo_watched_events')
      .column('key')
      .where(sql<SqlBool>`gone_at IS NULL`),
    s
      .createIndex('halo_watched_events_target')
      .ifNotExists()
      .on('halo_watched_events')
      .column('target_id')
      .where(sql<SqlBool>`gone_at IS NULL`),
    table('halo_event_messages')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('ts', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('summary', 'text')
      .addPrimaryKeyConstraint('halo_event_messages_pkey', ['channel', 'ts']),
    s.createIndex('halo_event_messages_event').ifNotExists().on('halo_event_messages').column('event_id'),
    db
      .insertInto('halo_leader')
      .values({ id: 1, token: 0 })
      .onConflict((c) => c.doNothing()),
  );
  // Columns a table made by an earlier version may lack (the tables above keep what they had).
  if (missing('halo_outbox', 'sent_at')) out.push(s.alterTable('halo_outbox').addColumn('sent_at', 'bigint'));
  if (missing('halo_outbox', 'claim_token'))
    out.push(s.alterTable('halo_outbox').addColumn('claim_token', 'bigint'));
  if (missing('halo_subscriptions', 'min_severity'))
    out.push(s.alterTable('halo_subscriptions').addColumn('min_severity', 'text'));
  return out;
}

/** Each step compiles the queries it needs; step i brings a database to version LEGACY_VERSION + i + 1. */
export const MIGRATIONS: readonly ((context: MigrationContext) => { compile(): CompiledQuery }[])[] = [
  baseline,
];

export const SCHEMA_VERSION = LEGACY_VERSION + MIGRATIONS.length;

/** The compiled queries that bring a database at `version` to {@link SCHEMA_VERSION}. */
export function migrationsFrom(version: number, where: string, context: MigrationContext): CompiledQuery[] {
  if (version > SCHEMA_VERSION)
    throw new StoreError(
      `The database ${where} was written by a newer version of halo-slack (schema version ${version}; this version knows up to ${SCHEMA_VERSION}). Upgrade halo-slack, or set DATABASE_URL to another database.`,
    );
  return MIGRATIONS.slice(Math.max(0, version - LEGACY_VERSION)).flatMap((step) =>
    step(context).map((query) => query.compile()),
  );
}
