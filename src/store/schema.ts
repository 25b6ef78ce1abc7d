/**
 * The schema of both databases, written once: the tables' TypeScript shapes (what Kysely checks every query
 * against) and one list of migrations, compiled by Kysely for either dialect. The few spellings the two differ in
 * come from the {@link Dialect}.
 *
 * Why not Kysely's `Migrator`: the SQLite store opens synchronously (its file lock is taken before
 * `openSqliteStore` returns, and callers rely on that), which an async migrator cannot do; and the version stays
 * where earlier releases look for it (SQLite's `user_version`, PostgreSQL's `halo_schema`), so that an earlier
 * release refuses a database this one has upgraded instead of misreading it. A step only compiles its statements;
 * each store runs them in one transaction (PostgreSQL's under an advisory lock).
 */
import {
  sql,
  type ColumnType,
  type CompiledQuery,
  type Generated,
  type Kysely,
  type RawBuilder,
  type SqlBool,
} from 'kysely';
import { StoreError, type AuditAction, type OutboxKind } from '../pipeline/store-port.ts';
import { tenancy } from './migrate-tenancy.ts';

/** A millisecond time or a count: BIGINT in PostgreSQL, read as a number (see postgres.ts). */
type Int = number;
type Serial = Generated<number>;

/** The scope columns every tenant table leads with (see pipeline/tenancy-port.ts). */
interface Scoped {
  workspace_id: string;
  account_id: string;
}

export interface Tables {
  halo_seen: Scoped & { event_id: string };
  halo_staged: Scoped & { event_id: string; event: string; date_created: string };
  halo_outbox: Scoped & {
    id: Serial;
    channel: string;
    kind: OutboxKind;
    payload: string;
    dedup_key: string;
    state: Generated<'pending' | 'delivered' | 'failed'>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Int>;
    last_error: string | null;
    created_at: Int;
    done_at: Int | null;
    sent_at: Int | null;
    /** The fencing token of the leader that claimed the row (PostgreSQL); null with SQLite. */
    claim_token: Int | null;
  };
  /** `keys` and `target_ids`: JSON arrays, sorted, so that equal filters are equal text. */
  halo_subscriptions: Scoped & {
    id: Serial;
    channel: string;
    keys: string;
    target_ids: string;
    created_by: string;
    created_at: Int;
    min_severity: string | null;
  };
  /** `already_deleted`: BOOLEAN in PostgreSQL, 0 or 1 in SQLite. */
  halo_deletions: Scoped & {
    event_id: string;
    user_id: string;
    at: Int;
    already_deleted: ColumnType<boolean | number, number>;
  };
  halo_state: Scoped & { key: string; value: string };
  halo_leader: { id: number; token: Int; holder: string | null; since: Int | null };
  halo_acknowledgements: Scoped & {
    channel: string;
    message_ts: string;
    user_id: string;
    event_id: string;
    at: Int;
  };
  halo_mutes: Scoped & {
    id: Serial;
    channel: string;
    key: string | null;
    target_id: number | null;
    target_label: string;
    created_by: string;
    created_at: Int;
    expires_at: Int;
    held: Generated<Int>;
    ended_at: Int | null;
  };
  halo_audit: Scoped & {
    id: Serial;
    at: Int;
    user_id: string;
    action: AuditAction;
    channel: string | null;
    detail: string;
  };
  /** `counts`: JSONB in PostgreSQL (read as an object), TEXT in SQLite. */
  halo_threads: Scoped & {
    channel: string;
    target_id: number;
    parent_ts: string;
    parent: string;
    counts: ColumnType<Record<string, number> | string, string, string>;
    opened_at: Int;
  };
  halo_watched_events: Scoped & {
    event_id: string;
    key: string;
    target_id: number | null;
    listed_at: Int;
    misses: Generated<number>;
    gone_at: Int | null;
  };
  halo_event_messages: Scoped & {
    channel: string;
    ts: string;
    event_id: string;
    payload: string;
    summary: string | null;
  };
  /** `weekday`: 0 (Sunday) … 6, null for a daily summary. */
  halo_summaries: Scoped & {
    channel: string;
    cadence: 'daily' | 'weekly';
    weekday: number | null;
    minute: number;
    created_by: string;
    created_at: Int;
    last_slot: Int;
    /** JSON: each mute's held count when the last summary was queued. */
    held: Generated<string>;
  };
  /** `bot_token` and `raw`: sealed by the secret box (secret-box.ts), never in clear. */
  halo_installations: {
    workspace_id: string;
    team_id: string | null;
    enterprise_id: string | null;
    is_enterprise_install: ColumnType<boolean | number, number>;
    bot_user_id: string;
    bot_id: string;
    bot_token: string;
    raw: string;
    installed_by: string;
    installed_at: Int;
  };
  /** `api_key`: sealed by the secret box; `key_hint` its last 4 characters, all that is ever shown. */
  halo_accounts: {
    workspace_id: string;
    id: string;
    name: string;
    api_url: string;
    api_key: string;
    key_hint: string;
    status: 'active' | 'needs_key';
    last_poll_at: Int | null;
    last_error: string | null;
    created_by: string;
    created_at: Int;
  };
  /**
   * Step 8 (PostgreSQL's replicas; SQLite has the tables and never writes them). One row per account: the
   * replica that holds it and the fencing token of its current term. The lease lasts while its holder's
   * heartbeat (`halo_replicas`) is unexpired by the database's clock: one row a replica is renewed, not one an
   * account.
   */
  halo_leases: {
    workspace_id: string;
    account_id: string;
    holder: string | null;
    token: Int;
    since: Int | null;
  };
  /** One row per replica: renewed every heartbeat; live while `expires_at` (the database's ms) is ahead. */
  halo_replicas: { id: string; expires_at: Int; started_at: Int };
  /** A channel's pace across replicas: no post to it before `next_at` (the database's ms). */
  halo_channel_pace: { workspace_id: string; channel: string; next_at: Int };
}

/** The tables whose every row belongs to a scope, in the order a purge reports them. */
export const TENANT_TABLES = [
  'halo_seen',
  'halo_staged',
  'halo_outbox',
  'halo_subscriptions',
  'halo_deletions',
  'halo_state',
  'halo_acknowledgements',
  'halo_mutes',
  'halo_audit',
  'halo_threads',
  'halo_watched_events',
  'halo_event_messages',
  'halo_summaries',
] as const satisfies readonly (keyof Tables)[];
export type TenantTable = (typeof TENANT_TABLES)[number];

export type Db = Kysely<Tables>;

/** What the two databases spell differently; everything else is written once. */
export interface Dialect {
  /** `column` is one of `values`, sent as one parameter however many there are. */
  oneOf(column: string, values: readonly (string | number)[]): RawBuilder<SqlBool>;
  /** A query giving `values` as rows of one column `value`, for `INSERT … SELECT`. */
  rows(values: readonly string[]): RawBuilder<{ value: string }>;
  /** `values` as a table `(i, value)`, `i` counting from 0. */
  positions(values: readonly string[]): RawBuilder<{ i: number; value: string }>;
  /** The column, ordered byte by byte as SQLite does by default (PostgreSQL would follow the locale). */
  bytewise(column: string): RawBuilder<string>;
  /** `counts` (a JSON object) with `count` added to the number under `key`. */
  addCount(key: string, count: number): RawBuilder<string>;
  /** A statement that keeps other writers out of the table until the transaction ends, where one is needed. */
  exclusive(table: string): RawBuilder<unknown> | null;
  /**
   * Step 7 rebuilds tables under a temporary name. `carrySequence`: the auto-numbered IDs of `to` (the rebuilt
   * table, filled) go on where `from`'s stopped, not at the largest ID copied: an ID of a row deleted since (a
   * subscription's, named by an old Unsubscribe button) must never name a new row. `renamed`: after `ALTER TABLE
   * from RENAME TO to`, what must follow it (PostgreSQL named the key and the sequence after the temporary name).
   */
  carrySequence(from: string, to: string): RawBuilder<unknown>[];
  renamed(from: string, to: string, serial: boolean): RawBuilder<unknown>[];
  /** DDL: an auto-numbered primary key; a JSON column; what ends the seen table (SQLite: WITHOUT ROWID). */
  readonly ddl: { readonly serial: string; readonly json: string; readonly clustered: string };
  /**
   * Whether earlier releases named the tables without the `halo_` prefix: SQLite's did; PostgreSQL's never did, and
   * a table of such a name there may be another program's.
   */
  readonly unprefixedBefore: boolean;
}

/** Tables and their columns already there when the migration starts. */
export interface MigrationContext {
  readonly db: Db;
  readonly d: Dialect;
  readonly columns: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Versions the earlier releases wrote (SQLite up to 3, PostgreSQL up to 4): the baseline brings any of them up. */
export const LEGACY_VERSION = 4;

/** Tables of the earlier SQLite layout, renamed to the names both databases now share. */
const LEGACY_SQLITE_TABLES =
  'seen staged outbox subscriptions deletions state acknowledgements mutes audit threads watched_events event_messages';
/** Their indexes, which SQLite keeps under the old names when a table is renamed: dropped, and made again. */
const LEGACY_SQLITE_INDEXES: Readonly<Record<string, readonly string[]>> = {
  outbox: ['outbox_due'],
  mutes: ['mutes_open'],
  watched_events: ['watched_events_key', 'watched_events_target'],
  event_messages: ['event_messages_event'],
};

/**
 * Step 5, the baseline: every table of the earlier releases under the shared `halo_` names (a PostgreSQL
 * database is often shared with other programs, and a SQLite file loses nothing by the prefix). It adopts any
 * earlier database as it finds it: SQLite tables are renamed (their indexes made again under the new names), and
 * whatever a version lacked is added. A change from now on is a new step after this one, never an edit of it.
 */
function baseline({ d, columns: found }: MigrationContext): RawBuilder<unknown>[] {
  const columns = new Map(found);
  const out: RawBuilder<unknown>[] = [];
  for (const name of d.unprefixedBefore ? LEGACY_SQLITE_TABLES.split(' ') : []) {
    if (!columns.has(name) || columns.has(`halo_${name}`)) continue;
    out.push(sql.raw(`ALTER TABLE ${name} RENAME TO halo_${name}`));
    for (const index of LEGACY_SQLITE_INDEXES[name] ?? []) out.push(sql.raw(`DROP INDEX IF EXISTS ${index}`));
    columns.set(`halo_${name}`, columns.get(name)!);
  }
  const { serial, json, clustered } = d.ddl;
  out.push(
    ...`CREATE TABLE IF NOT EXISTS halo_seen (event_id TEXT PRIMARY KEY) ${clustered};
    CREATE TABLE IF NOT EXISTS halo_staged (event_id TEXT PRIMARY KEY, event TEXT NOT NULL, date_created TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS halo_outbox (
      id ${serial}, channel TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, dedup_key TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL DEFAULT 0, last_error TEXT, created_at BIGINT NOT NULL, done_at BIGINT,
      sent_at BIGINT, claim_token BIGINT
    );
    CREATE INDEX IF NOT EXISTS halo_outbox_due ON halo_outbox (state, channel, next_attempt_at, id);
    CREATE TABLE IF NOT EXISTS halo_subscriptions (
      id ${serial}, channel TEXT NOT NULL, keys TEXT NOT NULL, target_ids TEXT NOT NULL, created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL, min_severity TEXT
    );
    CREATE TABLE IF NOT EXISTS halo_deletions (
      event_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, at BIGINT NOT NULL, already_deleted BOOLEAN NOT NULL
    );
    CREATE TABLE IF NOT EXISTS halo_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS halo_leader (
      id INTEGER PRIMARY KEY CHECK (id = 1), token BIGINT NOT NULL, holder TEXT, since BIGINT
    );
    INSERT INTO halo_leader (id, token) VALUES (1, 0) ON CONFLICT DO NOTHING;
    CREATE TABLE IF NOT EXISTS halo_acknowledgements (
      channel TEXT NOT NULL, message_ts TEXT NOT NULL, user_id TEXT NOT NULL, event_id TEXT NOT NULL,
      at BIGINT NOT NULL, PRIMARY KEY (channel, message_ts, user_id)
    );
    CREATE TABLE IF NOT EXISTS halo_mutes (
      id ${serial}, channel TEXT NOT NULL, key TEXT, target_id BIGINT, target_label TEXT NOT NULL DEFAULT '',
      created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
      held BIGINT NOT NULL DEFAULT 0, ended_at BIGINT
    );
    CREATE INDEX IF NOT EXISTS halo_mutes_open ON halo_mutes (ended_at, expires_at);
    CREATE TABLE IF NOT EXISTS halo_audit (
      id ${serial}, at BIGINT NOT NULL, user_id TEXT NOT NULL, action TEXT NOT NULL, channel TEXT, detail TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS halo_threads (
      channel TEXT NOT NULL, target_id BIGINT NOT NULL, parent_ts TEXT NOT NULL, parent TEXT NOT NULL,
      counts ${json} NOT NULL DEFAULT '{}', opened_at BIGINT NOT NULL, PRIMARY KEY (channel, target_id)
    );
    CREATE TABLE IF NOT EXISTS halo_watched_events (
      event_id TEXT PRIMARY KEY, key TEXT NOT NULL, target_id BIGINT, listed_at BIGINT NOT NULL,
      misses INTEGER NOT NULL DEFAULT 0, gone_at BIGINT
    );
    CREATE INDEX IF NOT EXISTS halo_watched_events_key ON halo_watched_events (key) WHERE gone_at IS NULL;
    CREATE INDEX IF NOT EXISTS halo_watched_events_target ON halo_watched_events (target_id) WHERE gone_at IS NULL;
    CREATE TABLE IF NOT EXISTS halo_event_messages (
      channel TEXT NOT NULL, ts TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL, summary TEXT,
      PRIMARY KEY (channel, ts)
    );
    CREATE INDEX IF NOT EXISTS halo_event_messages_event ON halo_event_messages (event_id)`
      .split(';')
      .map((statement) => sql.raw(statement)),
  );
  // Columns that a table made by an earlier version may lack (CREATE TABLE IF NOT EXISTS left it as it was).
  const add = {
    halo_outbox: ['sent_at BIGINT', 'claim_token BIGINT'],
    halo_subscriptions: ['min_severity TEXT'],
  };
  for (const [table, wanted] of Object.entries(add))
    for (const column of wanted)
      if (columns.has(table) && !columns.get(table)!.has(column.split(' ')[0]!))
        out.push(sql.raw(`ALTER TABLE ${table} ADD COLUMN ${column}`));
  return out;
}

/** Step 6: scheduled summaries, one a channel. */
function summaries(): RawBuilder<unknown>[] {
  return [
    sql.raw(`CREATE TABLE IF NOT EXISTS halo_summaries (
      channel TEXT PRIMARY KEY, cadence TEXT NOT NULL, weekday INTEGER, minute INTEGER NOT NULL,
      created_by TEXT NOT NULL, created_at BIGINT NOT NULL, last_slot BIGINT NOT NULL,
      held TEXT NOT NULL DEFAULT '{}'
    )`),
    // What a summary reads: a channel's delivered rows in a period.
    sql.raw('CREATE INDEX IF NOT EXISTS halo_outbox_done ON halo_outbox (channel, done_at)'),
  ];
}

/**
 * Step 8: per-account leases, the replicas' heartbeats and the channels' shared pace (see store/pg-leases.ts).
 * `halo_leader` stays, unused but for the first token of each lease (so that outbox rows an earlier leader
 * claimed keep comparing right): never edit an earlier step.
 */
function leases(): RawBuilder<unknown>[] {
  return [
    sql.raw(`CREATE TABLE IF NOT EXISTS halo_leases (
      workspace_id TEXT NOT NULL, account_id TEXT NOT NULL, holder TEXT, token BIGINT NOT NULL, since BIGINT,
      PRIMARY KEY (workspace_id, account_id)
    )`),
    sql.raw('CREATE INDEX IF NOT EXISTS halo_leases_holder ON halo_leases (holder)'),
    sql.raw(`CREATE TABLE IF NOT EXISTS halo_replicas (
      id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL, started_at BIGINT NOT NULL
    )`),
    sql.raw(`CREATE TABLE IF NOT EXISTS halo_channel_pace (
      workspace_id TEXT NOT NULL, channel TEXT NOT NULL, next_at BIGINT NOT NULL,
      PRIMARY KEY (workspace_id, channel)
    )`),
  ];
}

/**
 * Step 9: the due sweep (pipeline/due-sweep.ts) asks every second which scopes have a due outbox row, over every
 * scope at once, which `halo_outbox_due` (scope first) cannot answer without reading the whole table: the week of
 * delivered rows and every failed one (38 ms for 200,000 rows on PostgreSQL, 10 ms on SQLite). This index holds
 * the pending rows only, so the sweep reads the backlog (0.4 ms). Scope first, as the query's DISTINCT: SQLite,
 * which has no statistics unless ANALYZE ran, then picks it over `halo_outbox_due` too.
 */
function dueSweep(): RawBuilder<unknown>[] {
  return [
    sql.raw(`CREATE INDEX IF NOT EXISTS halo_outbox_pending
      ON halo_outbox (workspace_id, account_id, next_attempt_at) WHERE state = 'pending'`),
  ];
}

/** Each step compiles the queries it needs; step i brings a database to version LEGACY_VERSION + i + 1. */
export const MIGRATIONS: readonly ((context: MigrationContext) => RawBuilder<unknown>[])[] = [
  baseline,
  summaries,
  tenancy,
  leases,
  dueSweep,
];

export const SCHEMA_VERSION = LEGACY_VERSION + MIGRATIONS.length;

/** The compiled queries that bring a database at `version` to {@link SCHEMA_VERSION}. */
export function migrationsFrom(version: number, where: string, context: MigrationContext): CompiledQuery[] {
  if (version > SCHEMA_VERSION)
    throw new StoreError(
      `The database ${where} was written by a newer version of halo-slack (schema version ${version}; this version knows up to ${SCHEMA_VERSION}). Upgrade halo-slack, or set DATABASE_URL to another database.`,
    );
  return MIGRATIONS.slice(Math.max(0, version - LEGACY_VERSION)).flatMap((step) =>
    step(context).map((query) => query.compile(context.db)),
  );
}
