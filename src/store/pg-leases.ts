/**
 * Per-account leases on PostgreSQL: lease rows (`halo_leases`, one per account: its holder and the token of its
 * current term) claimed with `FOR UPDATE SKIP LOCKED`, and a heartbeat row per replica (`halo_replicas`). A lease
 * lasts while its holder is alive: its heartbeat unexpired by the database's clock and its session lock held (see
 * LIVE); one row per replica is renewed every heartbeat, not one per account. Claiming an account bumps its token and hands it to this process's views of
 * that scope (tenants.ts `setFence`): every write a poll or a delivery makes for it is fenced by it (postgres.ts),
 * so a replica that lost an account mid-poll writes nothing for it. Why rows and not advisory locks: README.md,
 * "Several replicas".
 */
import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log.ts';
import type { AccountLeases, LeaseSnapshot, SharedPace } from '../pipeline/lease-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';
import { connectionConfig, LOCK_CLASS } from './postgres.ts';
import type { Db } from './schema.ts';
import type { SqlTenantStore } from './tenants.ts';

/** The database's clock in ms: the only clock a lease or a pace is decided by (a replica's may be wrong). */
const DB_NOW: RawBuilder<number> = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The holder named for every account while a replica of an earlier release leads (see `earlierLeaderRuns`). */
const EARLIER = 'an earlier release';

const key = (scope: Scope): string => `${scope.workspace}\n${scope.account}`;

/** The second key of a replica's session lock: per schema, per replica name. */
const replicaLockKey = (name: RawBuilder<unknown> | string): RawBuilder<unknown> =>
  sql`hashtext(current_schema() || ':replica:' || ${name})`;

/**
 * Whether the replica of row `r` is alive: its heartbeat unexpired by the database's clock, and its session lock
 * held. The lock ends with the replica's connection, so a replica killed with kill -9 (whose socket the kernel
 * closes) is seen dead at the others' next heartbeat, not a lease later; one frozen or cut off keeps its session
 * for a while, and its heartbeat's expiry bounds it.
 */
const LIVE = (
  r: string,
): RawBuilder<boolean> => sql<boolean>`(${sql.ref(`${r}.expires_at`)} > ${DB_NOW} AND EXISTS (
  SELECT 1 FROM pg_locks k
  WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 2
    AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND k.classid = ${sql.raw(String(LOCK_CLASS))}::oid AND k.objid = ${replicaLockKey(sql.ref(`${r}.id`))}::oid
))`;

interface LeaseRow {
  workspace_id: string;
  account_id: string;
  holder: string;
  token: number;
}

export class PgLeases implements AccountLeases {
  /** The token of each account this process holds, by scope key. */
  private readonly tokens = new Map<string, { scope: Scope; token: number }>();
  /** Accounts whose lease row this process has made sure of. */
  private readonly known = new Set<string>();
  private warnedEarlier = false;
  /** The connection holding this replica's session lock (see LIVE). */
  private session: pg.Client | null = null;

  constructor(
    private readonly url: string,
    private readonly tenants: SqlTenantStore,
    readonly self: string,
    /** How long a heartbeat lasts, by the database's clock. */
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  private get db(): Db {
    return this.tenants.sql.db;
  }

  /**
   * This replica's connection of its own, with its session lock taken (a pooled connection could be handed back,
   * and the lock with it); made again at the next statement when it was lost. Every statement of the leases runs
   * on it, one at a time: the heartbeat's and the pollers' and deliveries' `holds` never take a pooled connection
   * from the pipeline's writes and the commands, and a database that stops answering costs them none either.
   */
  private async connection(): Promise<pg.Client> {
    if (this.session !== null) return this.session;
    const client = new pg.Client({ ...connectionConfig(this.url, this.self), query_timeout: 5000 });
    client.on('error', (error) => {
      this.log.warn('leases: the replica’s own connection was lost; made again at the next heartbeat', {
        error,
      });
      this.drop(client);
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ got: boolean }>(
        `SELECT pg_try_advisory_lock(${LOCK_CLASS}, hashtext(current_schema() || ':replica:' || $1)) AS got`,
        [this.self],
      );
      if (rows[0]?.got !== true)
        throw new Error(
          `another process holds this replica's lock: is a second replica running with REPLICA_ID=${this.self}? Give each replica its own REPLICA_ID`,
        );
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    this.session = client;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.session === client) this.session = null;
    client.end().catch(() => undefined);
  }

  /** One statement at a time on the connection: pg deprecates queueing a query behind a running one. */
  private turn: Promise<unknown> = Promise.resolve();

  private run<R>(query: RawBuilder<R>): Promise<{ rows: R[] }> {
    const work = async (): Promise<{ rows: R[] }> => {
      const client = await this.connection();
      const compiled = query.compile(this.db);
      try {
        const result = await client.query(compiled.sql, [...compiled.parameters]);
        return { rows: result.rows as R[] };
      } catch (error) {
        // A refusal by the server (it has an SQLSTATE) leaves the connection usable; anything else (a timeout, a
        // connection lost) does not: a new one, with the lock taken again, at the next statement.
        if ((error as { code?: unknown }).code === undefined) this.drop(client);
        throw error;
      }
    };
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  async beat(accounts: readonly Scope[]): Promise<LeaseSnapshot | null> {
    try {
      await this.ensureRows(accounts);
      const { self } = this;
      await this.run(sql`
        INSERT INTO halo_replicas (id, expires_at, started_at) VALUES (${self}, ${DB_NOW} + ${this.ttlMs}, ${DB_NOW})
        ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`);
      const replicas = await this.run(sql<{ id: string }>`
        SELECT r.id FROM halo_replicas r WHERE ${LIVE('r')} ORDER BY r.id`);
      // The live replicas first (a few rows, each looked for in pg_locks once), then their leases.
      const leases = await this.run(sql<LeaseRow>`
        SELECT l.workspace_id, l.account_id, l.holder, l.token FROM halo_leases l
        JOIN (SELECT r.id FROM halo_replicas r WHERE ${LIVE('r')}) live ON live.id = l.holder`);
      const listed = new Set(accounts.map(key));
      if (await this.earlierLeaderRuns()) {
        // A replica of an earlier release still polls everything under its single lead: every account is its,
        // until it stops (a rolling upgrade then hands over within a heartbeat, and nothing is polled twice).
        return {
          replicas: replicas.rows.map((row) => row.id),
          holders: new Map([...listed].map((k) => [k, EARLIER])),
        };
      }
      const holders = new Map<string, string>();
      const stillMine = new Set<string>();
      const strays: LeaseRow[] = [];
      for (const row of leases.rows) {
        const k = key({ workspace: row.workspace_id, account: row.account_id });
        if (row.holder === self && this.tokens.get(k)?.token !== row.token) {
          // Under this replica's name, but not a term this process knows: a release that did not reach the
          // database, or an earlier process of the same REPLICA_ID. Nobody else may take it while this replica
          // lives, so it is freed now, for whoever's share it is.
          strays.push(row);
          continue;
        }
        if (!listed.has(k)) continue;
        if (row.holder === self) stillMine.add(k);
        holders.set(k, row.holder);
      }
      for (const k of [...this.tokens.keys()]) if (!stillMine.has(k)) this.tokens.delete(k);
      if (strays.length > 0) await this.free(strays);
      return { replicas: replicas.rows.map((row) => row.id), holders };
    } catch (error) {
      this.log.warn('leases: the heartbeat could not be renewed', { error });
      return null;
    }
  }

  /** Whether a replica of a release before per-account leases holds its leader lock on this schema. */
  private async earlierLeaderRuns(): Promise<boolean> {
    const { rows } = await this.run(sql<{ runs: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM pg_locks k
        WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 2
          AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND k.classid = ${sql.raw(String(LOCK_CLASS))}::oid
          AND k.objid = hashtext(current_schema() || ':leader')::oid
      ) AS runs`);
    const runs = rows[0]?.runs === true;
    if (runs && !this.warnedEarlier)
      this.log.warn(
        'leases: a replica of an earlier release leads this database; this one polls nothing until it stops',
      );
    this.warnedEarlier = runs;
    return runs;
  }

  /** Lease rows for accounts listed for the first time: their first token carries on from the old single leader's. */
  private async ensureRows(accounts: readonly Scope[]): Promise<void> {
    const fresh = accounts.filter((scope) => !this.known.has(key(scope)));
    if (fresh.length === 0) return;
    await this.run(sql`
      INSERT INTO halo_leases (workspace_id, account_id, holder, token)
      SELECT w, a, NULL, coalesce((SELECT max(token) FROM halo_leader), 0)
      FROM unnest(${fresh.map((s) => s.workspace)}::text[], ${fresh.map((s) => s.account)}::text[]) AS t(w, a)
      ON CONFLICT DO NOTHING`);
    for (const scope of fresh) this.known.add(key(scope));
  }

  async claim(free: readonly Scope[], count: number): Promise<Scope[]> {
    if (free.length === 0 || count <= 0) return [];
    const { self } = this;
    // The token is compared again by the UPDATE, on the row's latest version: a claim that committed between
    // this statement's read and its lock is never claimed over.
    const { rows } = await this.run(sql<{ workspace_id: string; account_id: string; token: number }>`
      WITH pick AS (
        SELECT l.workspace_id, l.account_id, l.token FROM halo_leases l
        JOIN unnest(${free.map((s) => s.workspace)}::text[], ${free.map((s) => s.account)}::text[]) AS c(w, a)
          ON l.workspace_id = c.w AND l.account_id = c.a
        WHERE l.holder IS NULL OR l.holder = ${self}
          OR l.holder NOT IN (SELECT r.id FROM halo_replicas r WHERE ${LIVE('r')})
        ORDER BY md5(l.workspace_id || '/' || l.account_id || '/' || ${self})
        LIMIT ${count}
        FOR UPDATE OF l SKIP LOCKED
      )
      UPDATE halo_leases l SET holder = ${self}, token = l.token + 1, since = ${DB_NOW}
      FROM pick WHERE l.workspace_id = pick.workspace_id AND l.account_id = pick.account_id AND l.token = pick.token
      RETURNING l.workspace_id, l.account_id, l.token`);
    return rows.map((row) => {
      const scope = { workspace: row.workspace_id, account: row.account_id };
      this.tokens.set(key(scope), { scope, token: row.token });
      this.tenants.setFence(scope, row.token);
      return scope;
    });
  }

  async holds(scope: Scope): Promise<boolean> {
    const mine = this.tokens.get(key(scope));
    if (mine === undefined) return false;
    try {
      const { rows } = await this.run(sql`
        SELECT 1 FROM halo_leases l JOIN halo_replicas r ON r.id = l.holder
        WHERE l.workspace_id = ${scope.workspace} AND l.account_id = ${scope.account} AND l.token = ${mine.token}
          AND l.holder = ${this.self} AND ${LIVE('r')}`);
      return rows.length > 0;
    } catch {
      return false;
    }
  }

  /** Gives up `rows` of this replica's name whose token is still theirs. */
  private async free(rows: readonly LeaseRow[]): Promise<void> {
    await this.run(sql`
      UPDATE halo_leases l SET holder = NULL, since = ${DB_NOW}
      FROM unnest(${rows.map((r) => r.workspace_id)}::text[], ${rows.map((r) => r.account_id)}::text[],
        ${rows.map((r) => r.token)}::bigint[]) AS t(w, a, token)
      WHERE l.workspace_id = t.w AND l.account_id = t.a AND l.token = t.token AND l.holder = ${this.self}`);
  }

  async release(scopes: readonly Scope[]): Promise<void> {
    const held = scopes.flatMap((scope) => {
      const mine = this.tokens.get(key(scope));
      return mine === undefined ? [] : [mine];
    });
    for (const scope of scopes) this.tokens.delete(key(scope));
    if (held.length === 0) return;
    try {
      // The token stays: the next holder's claim bumps it, and this process's views keep refusing their writes.
      await this.run(sql`
        UPDATE halo_leases l SET holder = NULL, since = ${DB_NOW}
        FROM unnest(${held.map((h) => h.scope.workspace)}::text[], ${held.map((h) => h.scope.account)}::text[],
          ${held.map((h) => h.token)}::bigint[]) AS t(w, a, token)
        WHERE l.workspace_id = t.w AND l.account_id = t.a AND l.token = t.token AND l.holder = ${this.self}`);
    } catch (error) {
      this.log.warn('leases: could not hand accounts over; they are free once this heartbeat expires', {
        error,
      });
    }
  }

  async releaseAll(): Promise<void> {
    await this.release([...this.tokens.values()].map((held) => held.scope));
    try {
      await this.run(sql`DELETE FROM halo_replicas WHERE id = ${this.self}`);
    } catch (error) {
      this.log.warn('leases: could not remove this replica’s heartbeat; it expires on its own', { error });
    }
    const session = this.session;
    this.session = null;
    await session?.end().catch(() => undefined);
  }
}

/** A channel's pace across replicas: a row per (workspace, channel), its next turn taken by a conditional upsert. */
export class PgPace implements SharedPace {
  constructor(private readonly db: Db) {}

  async take(workspace: string, channel: string, gapMs: number): Promise<number> {
    const taken = await sql`
      INSERT INTO halo_channel_pace (workspace_id, channel, next_at) VALUES (${workspace}, ${channel}, ${DB_NOW} + ${gapMs})
      ON CONFLICT (workspace_id, channel) DO UPDATE SET next_at = EXCLUDED.next_at
      WHERE halo_channel_pace.next_at <= ${DB_NOW}
      RETURNING next_at`.execute(this.db);
    if (taken.rows.length > 0) return 0;
    const { rows } = await sql<{ wait: number }>`
      SELECT next_at - ${DB_NOW} AS wait FROM halo_channel_pace
      WHERE workspace_id = ${workspace} AND channel = ${channel}`.execute(this.db);
    return Math.max(1, rows[0]?.wait ?? 1);
  }

  async hold(workspace: string, channel: string, ms: number): Promise<void> {
    await sql`
      INSERT INTO halo_channel_pace (workspace_id, channel, next_at) VALUES (${workspace}, ${channel}, ${DB_NOW} + ${ms})
      ON CONFLICT (workspace_id, channel) DO UPDATE
      SET next_at = greatest(halo_channel_pace.next_at, EXCLUDED.next_at)`.execute(this.db);
  }
}
