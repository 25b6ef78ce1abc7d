import { expect, it } from 'vitest';
import pg from 'pg';
import type { Logger } from '../../src/log.ts';
import { SCHEMA_VERSION as PG_SCHEMA_VERSION } from '../../src/store/schema.ts';
import { openPostgresStore, TEST_KEYS, type PostgresStore, setLeaseToken } from '../stores.ts';
import { FencedError, StoreError } from '../../src/pipeline/store-port.ts';
import { actionsContract } from '../contract/actions.contract.ts';
import { messagesContract } from '../contract/messages.contract.ts';
import { alert, event, storeContract, type StoreHarness } from '../contract/store.contract.ts';
import { tenancyContract } from '../contract/tenancy.contract.ts';
import type { TenantStore } from '../../src/pipeline/tenancy-port.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import { dueScopesQuery } from '../../src/store/tenants.ts';
import { admin, describePg, freshSchema, TEST_DATABASE_URL } from '../postgres.ts';

const logs: string[] = [];
const log: Logger = {
  debug: (m) => logs.push(m),
  info: (m) => logs.push(m),
  warn: (m) => logs.push(m),
  error: (m) => logs.push(m),
};

function harness(): StoreHarness {
  let url = '';
  return {
    fresh: async () => {
      url = (await freshSchema('contract')).url;
      return openPostgresStore(url, log);
    },
    reopen: () => openPostgresStore(url, log),
  };
}

describePg('the PostgreSQL store passes the store contract', () => storeContract(harness()));
describePg('the PostgreSQL store passes the actions contract', () => actionsContract(harness()));
describePg('the PostgreSQL store passes the messages contract', () => messagesContract(harness()));

describePg('the PostgreSQL store passes the tenancy contract', () => {
  let [schema, url] = ['', ''];
  let tenants: TenantStore | undefined;
  tenancyContract({
    fresh: async () => {
      ({ schema, url } = await freshSchema('tenancy'));
      tenants = await openPostgresTenants(url, log, TEST_KEYS);
      return tenants;
    },
    reopen: async (keys) => {
      await tenants?.close();
      tenants = await openPostgresTenants(url, log, keys);
      return tenants;
    },
    rows: (table) => admin(`SELECT * FROM ${schema}.${table}`),
  });
});

describePg('the PostgreSQL schema', () => {
  it('can answer the due sweep from the index of pending rows, not by reading the whole outbox', async () => {
    const { url } = await freshSchema('due');
    const tenants = await openPostgresTenants(url, log);
    const { sql: text, parameters } = dueScopesQuery(tenants.sql.db, 5000).compile();
    await tenants.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // An empty table is cheapest read whole: forbidding that shows whether the index can serve the query.
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, [...parameters]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/halo_outbox_pending\b/);
    } finally {
      await client.end();
    }
  });

  it('is migrated once when two replicas start at the same moment, and keeps its version', async () => {
    const { schema, url } = await freshSchema('migrate');
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, log)));
    await stores[0]!.setState({ a: '1' });
    expect(await stores[2]!.getState('a')).toBe('1');
    await Promise.all(stores.map((s) => s.close()));
    expect(await admin(`SELECT version FROM ${schema}.halo_schema`)).toEqual([
      { version: PG_SCHEMA_VERSION },
    ]);
  });

  it('refuses a database from a newer version of the bot with a clear message, changing nothing', async () => {
    const { schema, url } = await freshSchema('newer');
    const store = await openPostgresStore(url, log);
    await store.setState({ a: '1' });
    await store.close();
    await admin(`UPDATE ${schema}.halo_schema SET version = ${PG_SCHEMA_VERSION + 1}`);
    const error = await openPostgresStore(url, log).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The database postgres://.+ was written by a newer version of halo-slack \\(schema version ${PG_SCHEMA_VERSION + 1}; this version knows up to ${PG_SCHEMA_VERSION}\\)\\. Upgrade halo-slack, or set DATABASE_URL to another database\\.$`,
      ),
    );
    expect(await admin(`SELECT value FROM ${schema}.halo_state WHERE key = 'a'`)).toEqual([{ value: '1' }]);
  });

  it('says which server it could not reach, without the password', async () => {
    const error = await openPostgresStore('postgres://halo:pa55word-x@127.0.0.1:1/halo', log).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      /^The database postgres:\/\/halo:\[redacted\]@127\.0\.0\.1:1\/halo could not be opened: .+\. Check DATABASE_URL/,
    );
    expect((error as Error).message).not.toContain('pa55word-x');
  });
});

describePg('fencing', () => {
  async function twoLeaders(): Promise<{
    old: PostgresStore;
    current: PostgresStore;
    schema: string;
    url: string;
  }> {
    const { schema, url } = await freshSchema('fence');
    const old = await openPostgresStore(url, log);
    const current = await openPostgresStore(url, log);
    old.setFence(1);
    current.setFence(2);
    await setLeaseToken(schema, 2);
    return { old, current, schema, url };
  }

  it('keeps a replaced leader from claiming a row, and from marking one the new leader claimed', async () => {
    const { old, current } = await twoLeaders();
    await current.recordPage([event('a'), event('b')], [true, true]);
    await current.route([alert('C1', 'a'), alert('C1', 'b')], ['a', 'b'], 1000);
    expect(await old.markSending(1, 1100)).toBe(false);
    expect(await current.markSending(1, 1200)).toBe(true);
    await old.markFailed(1, 'stale', 1300);
    expect(await current.nextDue('C1', 1300)).toMatchObject({ id: 1, sentAt: 1200 });
    await current.markDelivered(1, 1400);
    expect(await current.nextDue('C1', 1400)).toMatchObject({ id: 2 });
    expect(await current.stats()).toMatchObject({ pending: 1, delivered: 1, failed: 0 });
    await Promise.all([old.close(), current.close()]);
  });

  it("refuses a replaced leader's poller writes with a FencedError, changing nothing; the new leader's pass", async () => {
    const { old, current, url } = await twoLeaders();
    const refused = async (write: Promise<unknown>): Promise<void> => {
      const error = await write.then(
        () => new Error('written'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FencedError);
      expect((error as Error).message).toBe(
        'This replica no longer holds this account (its fencing token is 1, the database holds 2): its write was refused.',
      );
    };
    await refused(old.recordPage([event('a'), event('b')], [true, false]));
    await refused(old.stage([event('c')]));
    await refused(old.route([alert('C1', 'a')], ['a'], 1000));
    await refused(old.setState({ last_plan: '[]' }));
    const mute = await current.addMute({
      channel: 'C1',
      key: 'k',
      targetId: null,
      targetLabel: '',
      createdBy: 'U1',
      createdAt: 0,
      expiresAt: 10_000,
    });
    await refused(old.countMuted(new Map([[mute.id, 3]])));
    expect(await current.stats()).toEqual({ seen: 0, staged: 0, pending: 0, failed: 0, delivered: 0 });
    expect(await current.mutedTotal()).toBe(0);
    await current.countMuted(new Map([[mute.id, 3]]));
    expect(await current.mutedTotal()).toBe(3);
    expect(await current.getState('last_plan')).toBeNull();

    expect(await current.recordPage([event('a'), event('b')], [true, false])).toBe(1);
    await current.stage([event('c')]);
    await current.route([alert('C1', 'a')], ['a'], 1000);
    await current.setState({ last_plan: '[]' });
    expect(await current.stats()).toMatchObject({ seen: 3, staged: 1, pending: 1 });
    expect(await current.getState('last_plan')).toBe('[]');
    // A store that never led (a tool, a standby's commands) is not fenced.
    const never = await openPostgresStore(url, log);
    await never.setState({ other: '1' });
    expect(await current.getState('other')).toBe('1');
    await Promise.all([old.close(), current.close(), never.close()]);
  });
});

describePg('fencing, with many scopes', () => {
  it('is one token per account: another replica’s claim of one account refuses that account’s writes only', async () => {
    const { schema, url } = await freshSchema('fencescopes');
    const tenants = await openPostgresTenants(url, log);
    const [one, two] = [
      { workspace: 'T1', account: 'a1' },
      { workspace: 'T2', account: 'a1' },
    ];
    const [a, b] = [tenants.scoped(one), tenants.scoped(two)];
    await b.recordPage([event('x')], [true]);
    await b.route([alert('C1', 'x')], ['x'], 1000);
    const [row] = await b.unattemptedAlerts('C1');
    await setLeaseToken(schema, 1, one);
    await setLeaseToken(schema, 1, two);
    tenants.setFence(one, 1);
    tenants.setFence(two, 1);
    // Views taken before and after the claim carry it alike.
    expect(await b.markSending(row!.id, 1100)).toBe(true);
    await setLeaseToken(schema, 2, two);
    for (const view of [b, tenants.scoped(two)])
      await expect(view.setState({ k: 'v' })).rejects.toThrow(FencedError);
    await a.setState({ k: 'v' });
    expect(await tenants.scoped(one).getState('k')).toBe('v');
    await tenants.close();
  });
});

describePg('a connection lost inside a transaction', () => {
  it('fails that call only: no uncaught error ends the process, and the next call works', async () => {
    const { schema, url } = await freshSchema('killed');
    const store = await openPostgresStore(url, log);
    // A lock held elsewhere parks the store's transaction between its BEGIN and its end, on a connection the
    // test can then cut, as a failover or a network fault would.
    const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${schema}.halo_seen IN ACCESS EXCLUSIVE MODE`);
    const outcome = store.recordPage([event('a')], [true]).then(
      () => null,
      (e: unknown) => e,
    );
    let waiting: { pid: number }[] = [];
    for (let i = 0; i < 200 && waiting.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      waiting = await admin<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%halo_seen%'`,
      );
    }
    expect(waiting).toHaveLength(1);
    await admin('SELECT pg_terminate_backend($1)', [waiting[0]!.pid]);
    expect(await outcome).toBeInstanceOf(Error);
    await locker.query('ROLLBACK');
    await locker.end();
    expect(await store.recordPage([event('a')], [true])).toBe(1);
    await store.close();
  });
});
