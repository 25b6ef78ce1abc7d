/**
 * Databases written by the previous release (its SQLite tables without a prefix, its PostgreSQL schema version 4),
 * opened with this one: every row is still there and the store writes as usual. The fixtures are that release's
 * own databases, dumped; test/fixtures/legacy/make.ts says how to make them again.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log.ts';
import { openPostgresStore, openSqliteStore } from '../stores.ts';
import { SCHEMA_VERSION, TENANT_TABLES } from '../../src/store/schema.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import { ENV_SCOPE, type TenantStore } from '../../src/pipeline/tenancy-port.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { alert, event } from '../contract/store.contract.ts';
import { admin, describePg, freshSchema } from '../postgres.ts';

const fixture = (name: string, folder = 'legacy'): string =>
  readFileSync(join(import.meta.dirname, '../fixtures', folder, name), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'halo-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** What the fixture holds (see make.ts), read through the current store. */
async function expectIntact(store: Store): Promise<void> {
  expect(await store.stats()).toEqual({ seen: 6, staged: 1, pending: 2, failed: 0, delivered: 1 });
  expect(await store.unseen(['b1', 'b2', 'n3', 'new'])).toEqual([3]);
  expect(await store.staged()).toEqual([event('n3')]);
  expect(await store.getState('last_poll')).toBe('1700000000000');
  expect(await store.subscriptions()).toEqual([
    { id: 1, channel: 'C1', keys: ['k1'], targetIds: [], minSeverity: null, createdBy: 'U1', createdAt: 10 },
    {
      id: 2,
      channel: 'C2',
      keys: [],
      targetIds: [3, 7],
      minSeverity: 'high',
      createdBy: 'U2',
      createdAt: 20,
    },
  ]);
  const mute = { key: 'k1', targetId: null, targetLabel: '', createdBy: 'U1', createdAt: 30 };
  expect(await store.activeMutes(0)).toEqual([
    { ...mute, id: 1, channel: 'C1', expiresAt: 10_000_000, held: 4 },
  ]);
  expect(await store.expiredMutes(20_000_000)).toEqual([
    { ...mute, id: 1, channel: 'C1', expiresAt: 10_000_000, held: 4 },
  ]);
  expect(await store.mutedTotal()).toBe(4);
  // The pending rows, the first one attempted (its post may have reached Slack), in order.
  expect(await store.nextDue('C1', 2000)).toEqual({
    ...alert('C1', 'n1'),
    id: 1,
    attempts: 0,
    sentAt: 1100,
    createdAt: 1000,
  });
  expect(await store.unattemptedAlerts('C1')).toEqual([
    { ...alert('C1', 'n2'), id: 2, attempts: 0, sentAt: null, createdAt: 1000 },
  ]);
  expect(await store.nextDue('C2', 2000)).toBeNull();
  const acks = [
    { channel: 'C1', messageTs: '111.1', eventId: 'n1', userId: 'U1', at: 60 },
    { channel: 'C1', messageTs: '111.1', eventId: 'n1', userId: 'U2', at: 70 },
  ];
  expect(await store.eventMessages(['n1'])).toEqual([
    { channel: 'C1', ts: '111.1', eventId: 'n1', payload: '{}', summary: null, acks },
  ]);
  expect(await store.watchedEventIds()).toEqual(['n1']);
  expect(await store.recentAudit(5)).toEqual([
    { id: 1, at: 90, userId: 'U1', action: 'mute', channel: 'C1', detail: 'k1' },
  ]);
  expect(await store.deletion('b1')).toEqual({ eventId: 'b1', userId: 'U3', at: 100, alreadyDeleted: false });
  expect(await store.thread('C1', 1)).toEqual({
    channel: 'C1',
    targetId: 1,
    parentTs: '222.2',
    parent: '{}',
    counts: { k1: 2 },
    openedAt: 110,
  });
}

/** Writes of every kind go on where the old rows stopped (IDs too). */
async function expectWritable(store: Store): Promise<void> {
  const sub = { channel: 'C3', keys: [], targetIds: [], createdBy: 'U9', createdAt: 200 };
  expect((await store.addSubscription(sub)).subscription.id).toBe(3);
  const mute = { channel: 'C3', key: null, targetId: 9, targetLabel: '', createdBy: 'U9', createdAt: 0 };
  expect((await store.addMute({ ...mute, expiresAt: 300 })).id).toBe(3);
  expect(await store.recordPage([event('b1'), event('x')], [true, true])).toBe(1);
  await store.route([alert('C3', 'x'), alert('C1', 'n1')], ['x'], 2000);
  expect(await store.nextDue('C3', 2000)).toMatchObject({ id: 4, dedupKey: 'C3:event:x' });
  expect(await store.markSending(4, 2100)).toBe(true);
  await store.markDelivered(4, 2200);
  await store.countReply('C1', 1, 'k1', 1);
  expect((await store.thread('C1', 1))?.counts).toEqual({ k1: 3 });
  expect(await store.stats()).toEqual({ seen: 7, staged: 1, pending: 2, failed: 0, delivered: 2 });
}

describe('a SQLite file of the previous release', () => {
  it('opens with its data intact under the new table names, takes writes, and keeps the new version', async () => {
    const path = join(dir, 'legacy.db');
    const legacy = new Database(path);
    legacy.exec(fixture('sqlite.sql'));
    expect(legacy.pragma('user_version', { simple: true })).toBe(3);
    legacy.close();

    let store = openSqliteStore(path);
    await expectIntact(store);
    await expectWritable(store);
    await store.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const names = db
      .prepare(`SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
      .pluck();
    expect((names.all() as string[]).filter((name) => !name.startsWith('halo_'))).toEqual([]);
    db.close();
    store = openSqliteStore(path);
    expect(await store.stats()).toEqual({ seen: 7, staged: 1, pending: 2, failed: 0, delivered: 2 });
    await store.close();
  });
});

describePg('a PostgreSQL schema of the previous release', () => {
  it('opens with its data intact, takes writes, and keeps the new version', async () => {
    const { schema, url } = await freshSchema('legacy');
    await admin(fixture('postgres.sql').replaceAll('__SCHEMA__', schema));
    expect(await admin(`SELECT version FROM ${schema}.halo_schema`)).toEqual([{ version: 4 }]);

    let store = await openPostgresStore(url, log);
    await expectIntact(store);
    await expectWritable(store);
    await store.close();

    expect(await admin(`SELECT version FROM ${schema}.halo_schema`)).toEqual([{ version: SCHEMA_VERSION }]);
    store = await openPostgresStore(url, log);
    expect(await store.stats()).toEqual({ seen: 7, staged: 1, pending: 2, failed: 0, delivered: 2 });
    await store.close();
  });
});

describePg('a PostgreSQL schema shared with another program', () => {
  it('leaves its tables alone, even one named as a SQLite table of the previous release', async () => {
    const { schema, url } = await freshSchema('shared');
    await admin(`CREATE TABLE ${schema}.outbox (theirs TEXT); INSERT INTO ${schema}.outbox VALUES ('kept')`);
    const store = await openPostgresStore(url, log);
    expect(await store.stats()).toEqual({ seen: 0, staged: 0, pending: 0, failed: 0, delivered: 0 });
    await store.close();
    expect(await admin(`SELECT theirs FROM ${schema}.outbox`)).toEqual([{ theirs: 'kept' }]);
  });
});

/**
 * A database of the release before tenancy (schema version 6, test/fixtures/v6/), opened with this one: every row
 * is the env scope's (the single-workspace shape), seen through its view and no other; a pending row that was
 * attempted before the upgrade is still claimed and delivered; IDs go on where they stopped.
 */
async function expectUpgradedToEnv(tenants: TenantStore): Promise<void> {
  const store = tenants.scoped(ENV_SCOPE);
  await expectIntact(store);
  expect(await store.summaries()).toEqual([
    {
      channel: 'C1',
      cadence: 'weekly',
      weekday: 1,
      minute: 540,
      createdBy: 'U1',
      createdAt: 120,
      lastSlot: 120,
      held: {},
    },
  ]);
  const none = { seen: 0, staged: 0, pending: 0, failed: 0, delivered: 0 };
  for (const other of [
    { workspace: 'env', account: 'a1' },
    { workspace: 'T1', account: 'env' },
  ]) {
    expect(await tenants.scoped(other).stats()).toEqual(none);
    expect(await tenants.scoped(other).subscriptions()).toEqual([]);
  }
  await expectWritable(store);
  expect(await store.nextDue('C1', 3000)).toMatchObject({ id: 1, sentAt: 1100 });
  expect(await store.markSending(1, 3100)).toBe(true);
  await store.markDelivered(1, 3200);
  expect(await store.nextDue('C1', 3200)).toMatchObject({ id: 2, dedupKey: 'C1:event:n2' });
  expect(await store.stats()).toEqual({ seen: 7, staged: 1, pending: 1, failed: 0, delivered: 3 });
}

/** Each tenant table's scopes, as `workspace/account`. */
const SCOPES_SQL = (prefix: string): string =>
  TENANT_TABLES.map(
    (table) => `SELECT DISTINCT workspace_id || '/' || account_id AS scope FROM ${prefix}${table}`,
  ).join(' UNION ');

describe('a SQLite file of the release before tenancy (schema version 6)', () => {
  it('keeps every row as the env scope’s, visible through its view only; pending rows are still delivered', async () => {
    const path = join(dir, 'v6.db');
    const legacy = new Database(path);
    legacy.exec(fixture('sqlite.sql', 'v6'));
    expect(legacy.pragma('user_version', { simple: true })).toBe(6);
    legacy.close();

    const tenants = openSqliteTenants(path);
    await expectUpgradedToEnv(tenants);
    await tenants.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare(SCOPES_SQL('')).all()).toEqual([{ scope: 'env/env' }]);
    db.close();
  });
});

describePg('a PostgreSQL schema of the release before tenancy (schema version 6)', () => {
  it('keeps every row as the env scope’s, visible through its view only; pending rows are still delivered', async () => {
    const { schema, url } = await freshSchema('v6');
    await admin(fixture('postgres.sql', 'v6').replaceAll('__SCHEMA__', schema));
    expect(await admin(`SELECT version FROM ${schema}.halo_schema`)).toEqual([{ version: 6 }]);

    const tenants = await openPostgresTenants(url, log);
    await expectUpgradedToEnv(tenants);
    await tenants.close();

    expect(await admin(`SELECT version FROM ${schema}.halo_schema`)).toEqual([{ version: SCHEMA_VERSION }]);
    expect(await admin(SCOPES_SQL(`${schema}.`))).toEqual([{ scope: 'env/env' }]);
  });
});

describe('the upgrade to tenancy, of IDs', () => {
  const sub = { channel: 'C3', keys: [], targetIds: [], createdBy: 'U9', createdAt: 200 };

  it('never gives a new row the ID of one deleted before the upgrade (SQLite)', async () => {
    const path = join(dir, 'v6-ids.db');
    const legacy = new Database(path);
    legacy.exec(fixture('sqlite.sql', 'v6'));
    legacy.exec('DELETE FROM halo_subscriptions WHERE id = 2');
    legacy.close();
    const tenants = openSqliteTenants(path);
    expect((await tenants.scoped(ENV_SCOPE).addSubscription(sub)).subscription.id).toBe(3);
    await tenants.close();
  });

  describePg('on PostgreSQL', () => {
    it('never gives a new row the ID of one deleted before the upgrade', async () => {
      const { schema, url } = await freshSchema('v6ids');
      await admin(fixture('postgres.sql', 'v6').replaceAll('__SCHEMA__', schema));
      await admin(`DELETE FROM ${schema}.halo_subscriptions WHERE id = 2`);
      const tenants = await openPostgresTenants(url, log);
      expect((await tenants.scoped(ENV_SCOPE).addSubscription(sub)).subscription.id).toBe(3);
      await tenants.close();
    });
  });
});
