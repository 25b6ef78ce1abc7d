/**
 * The steady poll of an unchanged account writes no row (issue 20), on SQLite and on PostgreSQL, for the
 * environment's account (single shape, HALO_ALERT_CHANNEL's route) and a connected one (distributed shape, a
 * subscription, its health in the registry). Every row written is counted by triggers on every table, so that a
 * rewrite of an unchanged value counts too. The last success is shared every LAST_SUCCESS_SHARE_MS instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import PQueue from 'p-queue';
import { sql } from 'kysely';
import { createHaloClient } from '../../src/halo/client.ts';
import { createLogger } from '../../src/log.ts';
import { LAST_SUCCESS_SHARE_MS } from '../../src/domain/last-success.ts';
import { AccountHealthRecorder, HealthBook } from '../../src/pipeline/fleet-health.ts';
import { Poller } from '../../src/pipeline/poller.ts';
import type { Route } from '../../src/pipeline/routes.ts';
import { ENV_SCOPE, type Scope } from '../../src/pipeline/tenancy-port.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import { TENANT_TABLES } from '../../src/store/schema.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import type { SqlTenantStore } from '../../src/store/tenants.ts';
import { makeEvents, startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { TEST_KEYS } from '../stores.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
const TABLES = [...TENANT_TABLES, 'halo_accounts'] as const;

let halo: FakeHalo | undefined;
let tenants: SqlTenantStore | undefined;
afterEach(async () => {
  await tenants?.close();
  await halo?.close();
  [tenants, halo] = [undefined, undefined];
});

/** Counts every row inserted, updated or deleted in the tables, by table, from now on. */
async function countWrites(
  store: SqlTenantStore,
  pg: boolean,
): Promise<() => Promise<Record<string, number>>> {
  const db = store.sql.db;
  await sql`CREATE TABLE test_writes (tbl TEXT NOT NULL)`.execute(db);
  if (pg)
    await sql`CREATE FUNCTION test_count() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO test_writes VALUES (TG_TABLE_NAME); RETURN NULL; END $$`.execute(db);
  for (const table of TABLES)
    if (pg)
      await sql
        .raw(
          `CREATE TRIGGER count_${table} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION test_count()`,
        )
        .execute(db);
    else
      for (const op of ['INSERT', 'UPDATE', 'DELETE'])
        await sql
          .raw(
            `CREATE TRIGGER count_${table}_${op} AFTER ${op} ON ${table} BEGIN INSERT INTO test_writes VALUES ('${table}'); END`,
          )
          .execute(db);
  return async () => {
    const rows = await sql<{ tbl: string }>`SELECT tbl FROM test_writes`.execute(db);
    await sql`DELETE FROM test_writes`.execute(db);
    const counts: Record<string, number> = {};
    for (const { tbl } of rows.rows) counts[tbl] = (counts[tbl] ?? 0) + 1;
    return counts;
  };
}

type Shape = 'single' | 'distributed';

async function steadyPolls(store: SqlTenantStore, pg: boolean, shape: Shape): Promise<void> {
  halo = await startFakeHalo({ events: makeEvents(300, { keys: ['domain-add', 'target-scan-start'] }) });
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  let scope: Scope = ENV_SCOPE;
  let defaultRoute: Route | null = { channel: 'CALERTS', keys: [], targetIds: [] };
  if (shape === 'distributed') {
    const { account } = await store.connectAccount({
      workspace: 'T1',
      name: 'Client A',
      apiUrl: halo.url,
      apiKey: halo.apiKey,
      createdBy: 'U1',
      createdAt: now,
    });
    scope = { workspace: 'T1', account: account.id };
    defaultRoute = null;
    await store.scoped(scope).addSubscription({
      channel: 'CSUB',
      keys: ['domain-add'],
      targetIds: [],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: now,
    });
  }
  const view = store.scoped(scope);
  const book = new HealthBook(store, quiet);
  const account = { scope, name: 'Client A', keyHint: 'abcd', status: 'active' as const };
  const recorder = new AccountHealthRecorder({
    account: { ...account, apiUrl: halo.url, apiKey: halo.apiKey },
    book,
    store: view,
    defaultRoute,
    fix: shape === 'single' ? 'env' : 'connect',
    clock,
    log: quiet,
    onRouted: () => undefined,
  });
  const poller = new Poller({
    halo: createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 5000, clock }),
    store: view,
    clock,
    log: quiet,
    intervalMs: 20_000,
    haloRequests: new PQueue({ concurrency: 4 }),
    pageSize: 100,
    backfill: 0,
    digestThreshold: 20,
    defaultRoute,
    isCritical: () => false,
    onRouted: () => undefined,
  });
  const writes = await countWrites(store, pg);
  // What the poll loop does: poll, then record the outcome.
  const poll = async (): Promise<void> => {
    await poller.pollOnce();
    await recorder.record(null);
    now += 20_000;
  };
  await poll(); // the baseline
  // An event alerted (as delivery records it): every poll lists it again, and that writes nothing either.
  const alerted = halo.events.find((e) => e.key === 'domain-add')!;
  await view.recordMessage(
    {
      channel: 'CSUB',
      ts: '1700000000.000100',
      eventId: alerted.event_id,
      payload: '{}',
      key: alerted.key,
      targetId: null,
    },
    now,
  );
  now += 20_000;
  await poll();
  expect(await writes()).not.toEqual({});
  expect(await view.watchedEventIds()).toEqual([alerted.event_id]);

  // Nothing new in Halo: ten polls over 200 s, and not one row written.
  for (let i = 0; i < 10; i++) await poll();
  expect(await writes()).toEqual({});
  expect(poller.getStatus().lastSuccessAt).toBe(now - 20_000);

  // Past LAST_SUCCESS_SHARE_MS since it was last shared: the last success (and the registry's poll time of a
  // connected account) once, for the other replicas to show.
  now += LAST_SUCCESS_SHARE_MS;
  await poll();
  expect(await writes()).toEqual(
    shape === 'single' ? { halo_state: 1 } : { halo_state: 1, halo_accounts: 1 },
  );
  expect(await view.getState('last_success_at')).toBe(String(now - 20_000));
  await poll();
  expect(await writes()).toEqual({});

  // A new event is news, and written: the poll's state did change.
  halo.addEvent({ key: 'domain-add', event_id: 'steady-new-1' });
  await poll();
  expect((await writes()).halo_seen).toBe(1);
}

describe.each<Shape>(['single', 'distributed'])('a steady poll on SQLite, %s shape', (shape) => {
  it('writes no row; the last success is shared every 5 minutes', async () => {
    tenants = openSqliteTenants(':memory:', TEST_KEYS);
    await steadyPolls(tenants, false, shape);
  });
});

describePg('a steady poll on PostgreSQL', () => {
  it.each<Shape>(['single', 'distributed'])(
    '%s shape: writes no row; the last success is shared every 5 minutes',
    async (shape) => {
      const { url } = await freshSchema(`steady${shape.slice(0, 3)}`);
      tenants = await openPostgresTenants(url, quiet, TEST_KEYS);
      await steadyPolls(tenants, true, shape);
    },
  );
});
