/**
 * The PostgreSQL guards that keep a replica from acting on an account it lost: each test fails when its guard is
 * removed.
 * - PgLeases: an account whose holder's heartbeat is live cannot be claimed; once it expired (by the database's
 *   clock) another replica claims it with a new token, and the old holder's `holds` and writes say so.
 * - The fenced transaction's FOR SHARE on the lease row: another replica's claim (a token bump) waits for a write
 *   already under way, so that no write of the old holder lands after the claim.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { FencedError } from '../../src/pipeline/store-port.ts';
import { PgLeases } from '../../src/store/pg-leases.ts';
import { LOCK_CLASS, openPostgresTenants } from '../../src/store/postgres.ts';
import { openPostgresStore, setLeaseToken } from '../stores.ts';
import { event } from '../contract/store.contract.ts';
import { admin, describePg, freshSchema, TEST_DATABASE_URL } from '../postgres.ts';

const logs: string[] = [];
const log = createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) });

/** Polls `done` until it holds, or gives up after `tries` rounds; says which. */
async function eventually(done: () => Promise<boolean> | boolean, tries = 400): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

describePg('an account lease taken behind its holder’s back', () => {
  it('cannot be claimed while its holder is live; once its heartbeat expired, the old holder writes nothing', async () => {
    const { schema, url } = await freshSchema('lost');
    // Two processes: each has its own fences.
    const [one, two] = [await openPostgresTenants(url, log), await openPostgresTenants(url, log)];
    const a = new PgLeases(url, one, 'replica-a', 60_000, log);
    const b = new PgLeases(url, two, 'replica-b', 60_000, log);
    const scope = { workspace: 'T1', account: 'a1' };
    const key = 'T1\na1';
    try {
      expect(await a.beat([scope])).toEqual({ replicas: ['replica-a'], holders: new Map() });
      expect(await a.claim([scope], 1)).toEqual([scope]);
      expect(await a.holds(scope)).toBe(true);
      await one.scoped(scope).setState({ by: 'a' });
      expect(await b.beat([scope])).toEqual({
        replicas: ['replica-a', 'replica-b'],
        holders: new Map([[key, 'replica-a']]),
      });
      expect(await b.claim([scope], 1)).toEqual([]);
      expect(await b.holds(scope)).toBe(false);

      // replica-a pauses for longer than its heartbeat lasts (its expiry, by the database's clock, passes).
      await admin(`UPDATE ${schema}.halo_replicas SET expires_at = 0 WHERE id = 'replica-a'`);
      expect(await a.holds(scope)).toBe(false);
      expect((await b.beat([scope]))?.holders).toEqual(new Map());
      expect(await b.claim([scope], 1)).toEqual([scope]);
      expect(await b.holds(scope)).toBe(true);

      // replica-a wakes mid-poll: its writes are refused, and its next heartbeat shows the account gone.
      await expect(one.scoped(scope).setState({ by: 'a again' })).rejects.toThrow(FencedError);
      expect(await one.scoped(scope).markSending(1, 1)).toBe(false);
      expect(await a.beat([scope])).toEqual({
        replicas: ['replica-a', 'replica-b'],
        holders: new Map([[key, 'replica-b']]),
      });
      expect(await a.claim([scope], 1)).toEqual([]);
      await two.scoped(scope).setState({ by: 'b' });
      expect(await two.scoped(scope).getState('by')).toBe('b');
      expect(await admin(`SELECT holder, token FROM ${schema}.halo_leases`)).toEqual([
        { holder: 'replica-b', token: '2' },
      ]);

      // SIGTERM: replica-b hands over; replica-a claims at its next heartbeat, with a new token.
      await b.releaseAll();
      expect((await a.beat([scope]))?.replicas).toEqual(['replica-a']);
      expect(await a.claim([scope], 1)).toEqual([scope]);
      await expect(two.scoped(scope).setState({ by: 'b again' })).rejects.toThrow(FencedError);
      await one.scoped(scope).setState({ by: 'a' });
    } finally {
      await Promise.all([a.releaseAll(), b.releaseAll()]);
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describePg('a replica killed with kill -9', () => {
  it('is seen dead at the others’ next heartbeat, its heartbeat still unexpired: its session lock is gone', async () => {
    const { schema, url } = await freshSchema('killed9');
    const [one, two] = [await openPostgresTenants(url, log), await openPostgresTenants(url, log)];
    const a = new PgLeases(url, one, 'replica-a', 60_000, log);
    const b = new PgLeases(url, two, 'replica-b', 60_000, log);
    const scope = { workspace: 'T1', account: 'a1' };
    try {
      await a.beat([scope]);
      expect(await a.claim([scope], 1)).toEqual([scope]);
      expect((await b.beat([scope]))?.holders).toEqual(new Map([['T1\na1', 'replica-a']]));
      // The kernel closes a killed process's socket, and PostgreSQL ends its session: as here.
      await admin(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND objid = hashtext($1)::oid AND objsubid = 2`,
        [`${schema}:replica:replica-a`],
      );
      const seen = await b.beat([scope]);
      expect(seen).toEqual({ replicas: ['replica-b'], holders: new Map() });
      expect(await b.claim([scope], 1)).toEqual([scope]);
      expect(await a.holds(scope)).toBe(false);
    } finally {
      await Promise.all([a.releaseAll(), b.releaseAll()]);
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describePg('a replica restarted under the same REPLICA_ID', () => {
  it('frees the leases its earlier process held at its first heartbeat, for whoever’s share they are', async () => {
    const { schema, url } = await freshSchema('restarted');
    const [first, second] = [await openPostgresTenants(url, log), await openPostgresTenants(url, log)];
    const before = new PgLeases(url, first, 'replica-a', 60_000, log);
    const scope = { workspace: 'T1', account: 'a1' };
    try {
      await before.beat([scope]);
      expect(await before.claim([scope], 1)).toEqual([scope]);
      // The process dies; its session (and lock) with it. The new one starts at once, its heartbeat still live.
      await admin(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND objid = hashtext($1)::oid AND objsubid = 2`,
        [`${schema}:replica:replica-a`],
      );
      const after = new PgLeases(url, second, 'replica-a', 60_000, log);
      expect(await after.beat([scope])).toEqual({ replicas: ['replica-a'], holders: new Map() });
      expect(await admin(`SELECT holder FROM ${schema}.halo_leases`)).toEqual([{ holder: null }]);
      expect(await after.claim([scope], 1)).toEqual([scope]);
      await expect(first.scoped(scope).setState({ by: 'the dead one' })).rejects.toThrow(FencedError);
      await after.releaseAll();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describePg('a rolling upgrade from the single leader', () => {
  it('leaves every account to a replica of an earlier release while it holds its leader lock', async () => {
    const { schema, url } = await freshSchema('upgrade');
    const tenants = await openPostgresTenants(url, log);
    const a = new PgLeases(url, tenants, 'replica-new', 60_000, log);
    const scope = { workspace: 'env', account: 'env' };
    const earlier = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await earlier.connect();
    try {
      // What an earlier release's leader holds (its pg-leader.ts): the lock of the schema's 'leader' purpose.
      await earlier.query(`SELECT pg_advisory_lock(${LOCK_CLASS}, hashtext($1))`, [`${schema}:leader`]);
      expect(await a.beat([scope])).toEqual({
        replicas: ['replica-new'],
        holders: new Map([['env\nenv', 'an earlier release']]),
      });
      // It stops: the new replica takes over at its next heartbeat.
      await earlier.end();
      expect(await a.beat([scope])).toEqual({ replicas: ['replica-new'], holders: new Map() });
      expect(await a.claim([scope], 1)).toEqual([scope]);
    } finally {
      await earlier.end().catch(() => undefined);
      await a.releaseAll();
      await tenants.close();
    }
  });
});

describePg('a fenced write under way when another replica claims the account', () => {
  it('holds the token bump until it commits, so no write of the old holder lands after the claim', async () => {
    const { schema, url } = await freshSchema('forshare');
    const store = await openPostgresStore(url, log);
    await setLeaseToken(schema, 1);
    store.setFence(1);
    // A lock held elsewhere parks the write inside its transaction, after its fence check.
    const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const bumper = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await Promise.all([locker.connect(), bumper.connect()]);
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.halo_seen IN ACCESS EXCLUSIVE MODE`);
      const write = store.recordPage([event('a')], [true]);
      const parked = await eventually(async () => {
        const rows = await admin(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%halo_seen%'`,
        );
        return rows.length === 1;
      });
      expect(parked).toBe(true);

      const bumperPid = (await bumper.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      let bumped = false;
      const bump = bumper.query(`UPDATE ${schema}.halo_leases SET token = 2`).then(() => (bumped = true));
      // The bump waits for the write's share lock on the lease row (it would be done at once without it).
      const waiting = await eventually(async () => {
        if (bumped) return true;
        const rows = await admin(
          `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
          [bumperPid],
        );
        return rows.length === 1;
      });
      expect(waiting).toBe(true);
      expect(bumped).toBe(false);

      await locker.query('ROLLBACK');
      expect(await write).toBe(1);
      await bump;
      expect(await store.stats()).toMatchObject({ seen: 1, staged: 1 });
      // From now on the old holder's writes are refused.
      await expect(store.recordPage([event('b')], [true])).rejects.toMatchObject({ name: 'FencedError' });
    } finally {
      await Promise.all([locker.end(), bumper.end()]);
      await store.close();
    }
  });
});
