/**
 * The PostgreSQL guards that keep a replaced leader from acting: each test fails when its guard is removed.
 * - PgLeaderElection.check: a session whose token was bumped by another replica lost the lead; it must say so
 *   and end its session, which frees the advisory lock for the next leader.
 * - PgLeaderElection.stillLeads: asks the database, not only its own memory.
 * - The fenced transaction's FOR SHARE on the leader row: a new leader's token bump waits for a write already
 *   under way, so that no write of the old leader lands after the bump.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { PgLeaderElection } from '../../src/store/pg-leader.ts';
import { openPostgresStore } from '../stores.ts';
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

describePg('a leader replaced behind its back', () => {
  it('learns it at its next check, says so, and lets the lock go to the next replica', async () => {
    const { schema, url } = await freshSchema('lost');
    const store = await openPostgresStore(url, log);
    const a = new PgLeaderElection(url, store, 'replica-a', 1000, log);
    const b = new PgLeaderElection(url, store, 'replica-b', 1000, log);
    try {
      expect(await a.check()).toEqual({ role: 'leader', leader: 'replica-a' });
      expect(await b.check()).toEqual({ role: 'standby', leader: 'replica-a' });
      // Another replica's win, as the database records it (as after a lock lost in a network cut).
      await admin(`UPDATE ${schema}.halo_leader SET token = token + 1, holder = 'replica-c'`);
      expect(await a.stillLeads()).toBe(false);
      expect(await a.check()).toEqual({ role: 'standby', leader: 'replica-c' });
      expect(
        logs.filter((line) => line.includes('another replica took over; this one stops at once')),
      ).toHaveLength(1);
      // Its session ended, and the advisory lock with it: the next replica to ask wins.
      expect(await eventually(async () => (await b.check()).role === 'leader')).toBe(true);
      expect(await a.check()).toEqual({ role: 'standby', leader: 'replica-b' });
    } finally {
      await Promise.all([a.release(), b.release()]);
      await store.close();
    }
  });
});

describePg('a fenced write under way when a new leader takes over', () => {
  it('holds the token bump until it commits, so no write of the old leader lands after the bump', async () => {
    const { schema, url } = await freshSchema('forshare');
    const store = await openPostgresStore(url, log);
    await admin(`UPDATE ${schema}.halo_leader SET token = 1`);
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
      const bump = bumper
        .query(`UPDATE ${schema}.halo_leader SET token = 2 WHERE id = 1`)
        .then(() => (bumped = true));
      // The bump waits for the write's share lock on the leader row (it would be done at once without it).
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
      // From now on the old leader's writes are refused.
      await expect(store.recordPage([event('b')], [true])).rejects.toMatchObject({ name: 'FencedError' });
    } finally {
      await Promise.all([locker.end(), bumper.end()]);
      await store.close();
    }
  });
});
