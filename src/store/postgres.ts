import pg from 'pg';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Logger } from '../log.ts';
import { migrationsFrom, SCHEMA_VERSION, type Db, type Dialect, type Tables } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import type { Engine, Fence } from './sql-rows.ts';
import { SqlTenantStore } from './tenants.ts';
import { FencedError, StoreError } from '../pipeline/store-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';

/** BIGINT and count(*) arrive as strings by default; every such value here is a millisecond time or a count. */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/**
 * Connection settings shared by the pool and the replica's own connection (its session lock, pg-leases.ts).
 * `application_name` names the replica, so that an operator (and the fault tests) can tell in `pg_stat_activity`
 * which replica holds which session.
 */
export function connectionConfig(url: string, replicaId?: string): pg.ClientConfig {
  return {
    connectionString: url,
    types,
    // A server that went away must not hang a poll, a post or /healthz: fail, and let the caller retry.
    connectionTimeoutMillis: 5000,
    query_timeout: 15_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5000,
    // The server cuts it to 63 bytes; REPLICA_ID is at most 64 characters of [A-Za-z0-9._-].
    application_name: replicaId === undefined ? 'halo-slack' : `halo-slack ${replicaId}`,
  };
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  return url.replace(/^([a-z][a-z\d+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, '$1:[redacted]@');
}

/** PostgreSQL's spellings: lists travel as one array parameter. */
const postgres: Dialect = {
  oneOf: (column, values) => sql`${sql.ref(column)} = ANY(${values})`,
  rows: (values) => sql`SELECT DISTINCT unnest(${values}::text[]) AS value`,
  positions: (values) =>
    sql`(SELECT (o.i - 1)::int AS i, o.value FROM unnest(${values}::text[]) WITH ORDINALITY AS o(value, i))`,
  bytewise: (column) => sql`${sql.ref(column)} COLLATE "C"`,
  addCount: (key, count) =>
    sql`jsonb_set(counts, ARRAY[${key}::text], to_jsonb(coalesce((counts ->> ${key}::text)::bigint, 0) + ${count}::bigint))`,
  carrySequence: (from, to) => [
    sql`SELECT setval(pg_get_serial_sequence(${to}, 'id'), greatest(coalesce(pg_sequence_last_value(pg_get_serial_sequence(${from}, 'id')::regclass), 0), (SELECT coalesce(max(id), 0) FROM ${sql.table(to)})) + 1, false)`,
  ],
  renamed: (from, to, serial) => [
    sql.raw(`ALTER INDEX ${from}_pkey RENAME TO ${to}_pkey`),
    ...(serial ? [sql.raw(`ALTER SEQUENCE ${from}_id_seq RENAME TO ${to}_id_seq`)] : []),
  ],
  ddl: { serial: 'BIGSERIAL PRIMARY KEY', json: 'JSONB', clustered: '' },
  unprefixedBefore: false,
  exclusive: (table) => sql`LOCK TABLE ${sql.table(table)} IN SHARE ROW EXCLUSIVE MODE`,
};

/** Advisory lock keys: one class for this program, the second key tells the locks apart per schema. */
export const LOCK_CLASS = 0x48414c4f; // "HALO"
export const lockKey = (purpose: 'migrate'): string => `hashtext(current_schema() || ':${purpose}')`;

/**
 * The pool as Kysely sees it. pg's pool stops listening for a checked-out connection's 'error': a connection lost
 * between two queries of a transaction would then be an uncaught exception and end the process. Each connection
 * handed out listens while out, and one that failed (or whose ROLLBACK failed) is destroyed rather than reused.
 */
function guarded(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      let broken: Error | undefined;
      const lost = (error: Error): void => {
        broken = error;
      };
      client.on('error', lost);
      return {
        query: async (text: string, values: readonly unknown[]) => {
          try {
            return await client.query(text, [...values]);
          } catch (error) {
            if (/^rollback$/i.test(text)) broken = error instanceof Error ? error : new Error(String(error));
            throw error;
          }
        },
        release: () => {
          client.off('error', lost);
          client.release(broken);
        },
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

/**
 * Opens the PostgreSQL store: connects, migrates (or refuses a newer schema), and keeps a small pool. `keys`:
 * HALO_ENCRYPTION_KEYS, newest first (none: secrets cannot be saved). `replicaId` names its sessions.
 */
export async function openPostgresTenants(
  url: string,
  log: Logger,
  keys: readonly Uint8Array[] = [],
  replicaId?: string,
): Promise<SqlTenantStore> {
  const pool = new pg.Pool({ ...connectionConfig(url, replicaId), max: 6, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that the server drops emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (error) =>
    log.warn('database: a pooled connection was lost; it will be replaced', { error }),
  );
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: guarded(pool) }) });
  try {
    await db.transaction().execute((trx) => migrate(trx, describeUrl(url)));
  } catch (error) {
    await db.destroy().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      `The database ${describeUrl(url)} could not be opened: ${detail}. Check DATABASE_URL and that PostgreSQL is running and reachable.`,
    );
  }
  return new SqlTenantStore(postgresEngine(db), new SecretBox(keys), () => db.destroy());
}

/**
 * Brings the database to {@link SCHEMA_VERSION}, in the caller's transaction, under an advisory lock so that
 * replicas starting together do not both migrate. The version is kept in `halo_schema`, where earlier releases
 * look for it (and refuse a database newer than they know).
 */
async function migrate(trx: Db, where: string): Promise<void> {
  // Held until COMMIT or ROLLBACK: a second replica waits here, then finds the work done.
  await sql.raw(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey('migrate')})`).execute(trx);
  await sql`CREATE TABLE IF NOT EXISTS halo_schema (version INTEGER NOT NULL)`.execute(trx);
  const rows = (await sql<{ version: number }>`SELECT version FROM halo_schema`.execute(trx)).rows;
  const version = rows[0]?.version ?? 0;
  if (version === SCHEMA_VERSION) return;
  const found = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`.execute(
    trx,
  );
  const columns = new Map<string, Set<string>>();
  for (const row of found.rows)
    columns.set(row.table_name, (columns.get(row.table_name) ?? new Set()).add(row.column_name));
  for (const query of migrationsFrom(version, where, { db: trx, d: postgres, columns }))
    await trx.executeQuery(query);
  if (rows.length === 0) await sql`INSERT INTO halo_schema (version) VALUES (${SCHEMA_VERSION})`.execute(trx);
  else await sql`UPDATE halo_schema SET version = ${SCHEMA_VERSION}`.execute(trx);
}

/**
 * The engine for several replicas. Each account has its own fencing token, the one of its lease's current term
 * (`halo_leases`, see pg-leases.ts): the poller's writes and `markSending` succeed only while the token this
 * process holds for the account is still the one in its lease row, and a row claimed by a newer holder can no
 * longer be marked by an older one. A scope whose lease this process never held (token null) is not fenced:
 * tools, tests, and commands answered by a replica that does not poll the account (they write none of these).
 */
function postgresEngine(db: Db): Engine {
  const fences = new Map<string, Fence>();
  const fenceOf = (scope: Scope): Fence => {
    const key = `${scope.workspace}\n${scope.account}`;
    let fence = fences.get(key);
    if (fence === undefined) fences.set(key, (fence = { token: null }));
    return fence;
  };
  return {
    db,
    d: postgres,
    fenceOf,
    /**
     * FOR SHARE on the account's lease row: a claim by another replica (which bumps the token) waits for this
     * transaction, and one begun after the claim sees the new token. Unfenced while this process never held it.
     */
    fenced: (scope, work) => {
      const token = fenceOf(scope).token;
      return db.transaction().execute(async (trx) => {
        if (token !== null) {
          const row = await trx
            .selectFrom('halo_leases')
            .select('token')
            .where((eb) => eb.and({ workspace_id: scope.workspace, account_id: scope.account }))
            .forShare()
            .executeTakeFirst();
          if (row?.token !== token) throw new FencedError(token, row?.token ?? null);
        }
        return work(trx);
      });
    },
    markSending: async (scope, id, now) => {
      // FOR SHARE on the lease row: a claim by another replica waits for this one, and a claim after it sees the
      // new token and fails. SKIP LOCKED: a row another process is claiming is not ours to post.
      const token = fenceOf(scope).token;
      const fence =
        token === null
          ? sql`SELECT 1`
          : sql`SELECT 1 FROM halo_leases
              WHERE workspace_id = ${scope.workspace} AND account_id = ${scope.account} AND token = ${token}
              FOR SHARE`;
      const { rows } = await sql`
        WITH fence AS (${fence}), claimable AS (
          SELECT id FROM halo_outbox
          WHERE workspace_id = ${scope.workspace} AND account_id = ${scope.account} AND id = ${id}
            AND state = 'pending' AND (${token}::bigint IS NULL OR coalesce(claim_token, 0) <= ${token})
          FOR UPDATE SKIP LOCKED
        )
        UPDATE halo_outbox SET sent_at = ${now}, claim_token = ${token}
        FROM fence, claimable WHERE halo_outbox.id = claimable.id RETURNING halo_outbox.id`.execute(db);
      return rows.length > 0;
    },
  };
}
