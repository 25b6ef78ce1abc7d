/**
 * Step 7 of the schema (schema.ts): tenancy. A step of its own file for its size; like every step, never edited
 * once released.
 */
import { sql, type RawBuilder } from 'kysely';
import { ENV_ACCOUNT, ENV_WORKSPACE } from '../pipeline/tenancy-port.ts';
import type { MigrationContext } from './schema.ts';

/** Step 7's tables: the columns after the scope, the primary key after the scope, and the indexes. */
const SCOPED: readonly {
  readonly table: string;
  /** Column definitions, without the scope's two. */
  readonly columns: string;
  /** The columns an earlier version's row is copied from. */
  readonly copied: string;
  /** The primary key after the scope's two columns; none for the tables with an auto-numbered `id`. */
  readonly key?: string;
  readonly indexes?: readonly string[];
}[] = [
  { table: 'halo_seen', columns: 'event_id TEXT NOT NULL', copied: 'event_id', key: 'event_id' },
  {
    table: 'halo_staged',
    columns: 'event_id TEXT NOT NULL, event TEXT NOT NULL, date_created TEXT NOT NULL',
    copied: 'event_id, event, date_created',
    key: 'event_id',
  },
  {
    table: 'halo_outbox',
    columns: `channel TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, dedup_key TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL DEFAULT 0, last_error TEXT, created_at BIGINT NOT NULL, done_at BIGINT,
      sent_at BIGINT, claim_token BIGINT`,
    copied: `id, channel, kind, payload, dedup_key, state, attempts, next_attempt_at, last_error, created_at,
      done_at, sent_at, claim_token`,
    indexes: [
      'UNIQUE INDEX halo_outbox_dedup ON halo_outbox (workspace_id, account_id, dedup_key)',
      'INDEX halo_outbox_due ON halo_outbox (workspace_id, account_id, state, channel, next_attempt_at, id)',
      'INDEX halo_outbox_done ON halo_outbox (workspace_id, account_id, channel, done_at)',
    ],
  },
  {
    table: 'halo_subscriptions',
    columns: `channel TEXT NOT NULL, keys TEXT NOT NULL, target_ids TEXT NOT NULL, created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL, min_severity TEXT`,
    copied: 'id, channel, keys, target_ids, created_by, created_at, min_severity',
    indexes: ['INDEX halo_subscriptions_channel ON halo_subscriptions (workspace_id, account_id, channel)'],
  },
  {
    table: 'halo_deletions',
    columns:
      'event_id TEXT NOT NULL, user_id TEXT NOT NULL, at BIGINT NOT NULL, already_deleted BOOLEAN NOT NULL',
    copied: 'event_id, user_id, at, already_deleted',
    key: 'event_id',
  },
  {
    table: 'halo_state',
    columns: 'key TEXT NOT NULL, value TEXT NOT NULL',
    copied: 'key, value',
    key: 'key',
  },
  {
    table: 'halo_acknowledgements',
    columns: `channel TEXT NOT NULL, message_ts TEXT NOT NULL, user_id TEXT NOT NULL, event_id TEXT NOT NULL,
      at BIGINT NOT NULL`,
    copied: 'channel, message_ts, user_id, event_id, at',
    key: 'channel, message_ts, user_id',
  },
  {
    table: 'halo_mutes',
    columns: `channel TEXT NOT NULL, key TEXT, target_id BIGINT, target_label TEXT NOT NULL DEFAULT '',
      created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
      held BIGINT NOT NULL DEFAULT 0, ended_at BIGINT`,
    copied: 'id, channel, key, target_id, target_label, created_by, created_at, expires_at, held, ended_at',
    indexes: ['INDEX halo_mutes_open ON halo_mutes (workspace_id, account_id, ended_at, expires_at)'],
  },
  {
    table: 'halo_audit',
    columns:
      'at BIGINT NOT NULL, user_id TEXT NOT NULL, action TEXT NOT NULL, channel TEXT, detail TEXT NOT NULL',
    copied: 'id, at, user_id, action, channel, detail',
    indexes: ['INDEX halo_audit_at ON halo_audit (workspace_id, account_id, at)'],
  },
  {
    table: 'halo_threads',
    columns: `channel TEXT NOT NULL, target_id BIGINT NOT NULL, parent_ts TEXT NOT NULL, parent TEXT NOT NULL,
      counts {json} NOT NULL DEFAULT '{}', opened_at BIGINT NOT NULL`,
    copied: 'channel, target_id, parent_ts, parent, counts, opened_at',
    key: 'channel, target_id',
  },
  {
    table: 'halo_watched_events',
    columns: `event_id TEXT NOT NULL, key TEXT NOT NULL, target_id BIGINT, listed_at BIGINT NOT NULL,
      misses INTEGER NOT NULL DEFAULT 0, gone_at BIGINT`,
    copied: 'event_id, key, target_id, listed_at, misses, gone_at',
    key: 'event_id',
    indexes: [
      'INDEX halo_watched_events_key ON halo_watched_events (workspace_id, account_id, key) WHERE gone_at IS NULL',
      'INDEX halo_watched_events_target ON halo_watched_events (workspace_id, account_id, target_id) WHERE gone_at IS NULL',
    ],
  },
  {
    table: 'halo_event_messages',
    columns:
      'channel TEXT NOT NULL, ts TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL, summary TEXT',
    copied: 'channel, ts, event_id, payload, summary',
    key: 'channel, ts',
    indexes: ['INDEX halo_event_messages_event ON halo_event_messages (workspace_id, account_id, event_id)'],
  },
  {
    table: 'halo_summaries',
    columns: `channel TEXT NOT NULL, cadence TEXT NOT NULL, weekday INTEGER, minute INTEGER NOT NULL,
      created_by TEXT NOT NULL, created_at BIGINT NOT NULL, last_slot BIGINT NOT NULL, held TEXT NOT NULL DEFAULT '{}'`,
    copied: 'channel, cadence, weekday, minute, created_by, created_at, last_slot, held',
    key: 'channel',
  },
];

/**
 * Step 7, tenancy: every row belongs to a workspace and a Halo account (pipeline/tenancy-port.ts); the rows of
 * the single-workspace shape that were there are the env scope's. Keys gain the scope in front, and indexes lead
 * with it. Neither database changes a primary key in place alike (SQLite not at all), so each table is rebuilt:
 * made under a temporary name, filled, the old one dropped, the new one renamed. Tables with an auto-numbered `id`
 * keep it as their key (IDs stay unique in the database; every query still filters by the scope). Also the
 * registry: installations and connected accounts, their secrets sealed (secret-box.ts).
 */
export function tenancy({ d }: MigrationContext): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = [];
  for (const { table, columns, copied, key, indexes } of SCOPED) {
    const temporary = `${table}_v7`;
    const serial = key === undefined;
    const id = serial ? `id ${d.ddl.serial}, ` : '';
    const primary = serial ? '' : `, PRIMARY KEY (workspace_id, account_id, ${key})`;
    const clustered = table === 'halo_seen' ? d.ddl.clustered : '';
    const scoped = `workspace_id TEXT NOT NULL, account_id TEXT NOT NULL, ${columns.replace('{json}', d.ddl.json)}`;
    out.push(
      sql.raw(`CREATE TABLE ${temporary} (${id}${scoped}${primary}) ${clustered}`),
      sql.raw(
        `INSERT INTO ${temporary} (workspace_id, account_id, ${copied}) SELECT '${ENV_WORKSPACE}', '${ENV_ACCOUNT}', ${copied} FROM ${table}`,
      ),
      ...(serial ? d.carrySequence(table, temporary) : []),
      sql.raw(`DROP TABLE ${table}`),
      sql.raw(`ALTER TABLE ${temporary} RENAME TO ${table}`),
      ...d.renamed(temporary, table, serial),
      ...(indexes ?? []).map((index) => sql.raw(`CREATE ${index}`)),
    );
  }
  out.push(
    sql.raw(`CREATE TABLE halo_installations (
      workspace_id TEXT PRIMARY KEY, team_id TEXT, enterprise_id TEXT, is_enterprise_install BOOLEAN NOT NULL,
      bot_user_id TEXT NOT NULL, bot_id TEXT NOT NULL, bot_token TEXT NOT NULL, raw TEXT NOT NULL,
      installed_by TEXT NOT NULL, installed_at BIGINT NOT NULL
    )`),
    sql.raw(`CREATE TABLE halo_accounts (
      workspace_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, api_url TEXT NOT NULL,
      api_key TEXT NOT NULL, key_hint TEXT NOT NULL, status TEXT NOT NULL, last_poll_at BIGINT, last_error TEXT,
      created_by TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, id), UNIQUE (workspace_id, name)
    )`),
  );
  return out;
}
