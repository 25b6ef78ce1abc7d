import type pg from 'pg';
import { PG_MESSAGES_SCHEMA } from './pg-messages.ts';
import { StoreError } from './store.ts';

/**
 * The PostgreSQL schema, as numbered steps. A database records the last step applied in `halo_schema`; a start
 * applies the missing ones in one transaction, under an advisory lock so that replicas starting together do not
 * both migrate. Tables carry a `halo_` prefix because a PostgreSQL database is often shared with other programs.
 */
const STEPS: readonly string[] = [
  // 1: seen and staged events, the outbox, subscriptions, deletions, state, and the leader's fencing token.
  `CREATE TABLE halo_seen (event_id TEXT PRIMARY KEY);
   CREATE TABLE halo_staged (event_id TEXT PRIMARY KEY, event TEXT NOT NULL, date_created TEXT NOT NULL);
   CREATE TABLE halo_outbox (
     id BIGSERIAL PRIMARY KEY,
     channel TEXT NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     dedup_key TEXT NOT NULL UNIQUE,
     state TEXT NOT NULL DEFAULT 'pending',
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT NOT NULL DEFAULT 0,
     last_error TEXT,
     created_at BIGINT NOT NULL,
     done_at BIGINT,
     sent_at BIGINT,
     claim_token BIGINT
   );
   CREATE INDEX halo_outbox_due ON halo_outbox (state, channel, next_attempt_at, id);
   CREATE TABLE halo_subscriptions (
     id BIGSERIAL PRIMARY KEY,
     channel TEXT NOT NULL,
     keys TEXT NOT NULL,
     target_ids TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at BIGINT NOT NULL
   );
   CREATE TABLE halo_deletions (
     event_id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     at BIGINT NOT NULL,
     already_deleted BOOLEAN NOT NULL
   );
   CREATE TABLE halo_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE halo_leader (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     token BIGINT NOT NULL,
     holder TEXT,
     since BIGINT
   );
   INSERT INTO halo_leader (id, token) VALUES (1, 0);`,
  // 2: acknowledgements, mutes and the audit log.
  `CREATE TABLE halo_acknowledgements (
     channel TEXT NOT NULL,
     message_ts TEXT NOT NULL,
     user_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     at BIGINT NOT NULL,
     PRIMARY KEY (channel, message_ts, user_id)
   );
   CREATE TABLE halo_mutes (
     id BIGSERIAL PRIMARY KEY,
     channel TEXT NOT NULL,
     key TEXT,
     target_id BIGINT,
     target_label TEXT NOT NULL DEFAULT '',
     created_by TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     held BIGINT NOT NULL DEFAULT 0,
     ended_at BIGINT
   );
   CREATE INDEX halo_mutes_open ON halo_mutes (ended_at, expires_at);
   CREATE TABLE halo_audit (
     id BIGSERIAL PRIMARY KEY,
     at BIGINT NOT NULL,
     user_id TEXT NOT NULL,
     action TEXT NOT NULL,
     channel TEXT,
     detail TEXT NOT NULL
   );`,
  // 3: a subscription's minimum severity, and scan threads (their parent's ts survives restarts).
  `ALTER TABLE halo_subscriptions ADD COLUMN min_severity TEXT;
   CREATE TABLE halo_threads (
     channel TEXT NOT NULL,
     target_id BIGINT NOT NULL,
     parent_ts TEXT NOT NULL,
     parent TEXT NOT NULL,
     counts JSONB NOT NULL DEFAULT '{}',
     opened_at BIGINT NOT NULL,
     PRIMARY KEY (channel, target_id)
   );`,
  // 4: the messages showing each alerted event, to update them once the event is gone from Halo.
  PG_MESSAGES_SCHEMA,
];

export const PG_SCHEMA_VERSION = STEPS.length;

/** Advisory lock keys: one class for this program, the second key tells the locks apart per schema. */
export const LOCK_CLASS = 0x48414c4f; // "HALO"
export const lockKey = (purpose: 'migrate' | 'leader'): string =>
  `hashtext(current_schema() || ':${purpose}')`;

/** Brings the database to {@link PG_SCHEMA_VERSION}; refuses one written by a newer version. */
export async function migrate(client: pg.ClientBase, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    // Held until COMMIT or ROLLBACK: a second replica waits here, then finds the work done.
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey('migrate')})`);
    await client.query('CREATE TABLE IF NOT EXISTS halo_schema (version INTEGER NOT NULL)');
    const rows = (await client.query<{ version: number }>('SELECT version FROM halo_schema')).rows;
    const version = rows[0]?.version ?? 0;
    if (version > PG_SCHEMA_VERSION) {
      throw new StoreError(
        `The database ${where} was written by a newer version of halo-slack (schema version ${version}; this version knows up to ${PG_SCHEMA_VERSION}). Upgrade halo-slack, or set DATABASE_URL to another database.`,
      );
    }
    for (const step of STEPS.slice(version)) await client.query(step);
    if (rows.length === 0)
      await client.query('INSERT INTO halo_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    else await client.query('UPDATE halo_schema SET version = $1', [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
