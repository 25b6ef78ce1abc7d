import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from '../../src/store/schema.ts';
import { openSqliteStore } from '../stores.ts';
import { StoreError, type Store } from '../../src/pipeline/store-port.ts';
import { actionsContract } from '../contract/actions.contract.ts';
import { messagesContract } from '../contract/messages.contract.ts';
import { event, storeContract } from '../contract/store.contract.ts';
import { tenancyContract } from '../contract/tenancy.contract.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import { dueScopesQuery } from '../../src/store/tenants.ts';
import type { TenantStore } from '../../src/pipeline/tenancy-port.ts';
import { TEST_KEYS } from '../stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'halo-store-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = (): string => join(dir, `store-${++n}`, 'halo.db');

describe('the SQLite store passes the store contract', () => {
  let path = '';
  storeContract({
    fresh: () => {
      path = freshPath();
      return Promise.resolve(openSqliteStore(path));
    },
    reopen: () => Promise.resolve(openSqliteStore(path)),
  });
});

describe('the SQLite store passes the messages contract', () => {
  let path = '';
  messagesContract({
    fresh: () => {
      path = freshPath();
      return Promise.resolve(openSqliteStore(path));
    },
    reopen: () => Promise.resolve(openSqliteStore(path)),
  });
});

describe('the SQLite store passes the actions contract', () => {
  let path = '';
  actionsContract({
    fresh: () => {
      path = freshPath();
      return Promise.resolve(openSqliteStore(path));
    },
    reopen: () => Promise.resolve(openSqliteStore(path)),
  });
});

describe('the SQLite store passes the tenancy contract', () => {
  let path = '';
  let tenants: TenantStore | undefined;
  tenancyContract({
    fresh: () => {
      path = freshPath();
      tenants = openSqliteTenants(path, TEST_KEYS);
      return Promise.resolve(tenants);
    },
    reopen: async (keys) => {
      await tenants?.close();
      tenants = openSqliteTenants(path, keys);
      return tenants;
    },
    rows: async (table) => {
      // The store holds the file's lock: read it once the store let it go.
      await tenants?.close();
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
  });
});

/** Captures the error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

let store: Store;
let path: string;

beforeEach(() => {
  path = freshPath();
  store = openSqliteStore(path);
});
afterEach(() => store.close());

describe('the file', () => {
  it('refuses a second store on the same file while the first is open', async () => {
    await store.setState({ a: '1' });
    const error = thrown(() => openSqliteStore(path));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ name: 'StoreError' });
    expect((error as Error).message).toBe(
      `The database ${path} is in use by another process (is another halo-slack running?). Stop it, or set DATABASE_URL to another file.`,
    );
    // The first store is unharmed, and the file opens again once it is closed.
    expect(await store.getState('a')).toBe('1');
    await store.close();
    store = openSqliteStore(path);
    expect(await store.getState('a')).toBe('1');
  });

  it('lets the file go on close even when nothing was asked of it', async () => {
    await store.close();
    store = openSqliteStore(path);
    expect(await store.getState('opened_at')).toMatch(/^\d+$/);
  });

  it('says so when the folder of the path is a regular file', () => {
    const file = join(dir, `not-a-folder-${++n}`);
    writeFileSync(file, 'x');
    const error = thrown(() => openSqliteStore(join(file, 'halo.db')));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The database ${join(file, 'halo.db')} cannot be created: part of its folder path is a file`,
      ),
    );
    expect((error as Error).message).toContain('DATABASE_URL');
  });

  it('says so when the file is not a database', () => {
    const file = join(dir, `garbage-${++n}.db`);
    writeFileSync(file, 'this is not sqlite '.repeat(100));
    const error = thrown(() => openSqliteStore(file));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The file ${file} is not a halo-slack database \\(.+\\)\\. Set DATABASE_URL to another file\\.$`,
      ),
    );
  });

  it('upgrades a store made before outbox rows remembered their last post', async () => {
    await store.close();
    const old = freshPath();
    mkdirSync(dirname(old));
    const db = new Database(old);
    db.exec(`
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        dedup_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        done_at INTEGER
      );
      INSERT INTO outbox (channel, kind, payload, dedup_key, attempts, created_at)
        VALUES ('C1', 'alert', '{}', 'C1:event:old', 2, 1000);
    `);
    db.close();
    store = openSqliteStore(old);
    expect(await store.nextDue('C1', 1000)).toMatchObject({
      dedupKey: 'C1:event:old',
      attempts: 2,
      sentAt: null,
    });
    await store.markSending(1, 2000);
    expect(await store.nextDue('C1', 2000)).toMatchObject({ sentAt: 2000 });
    // Opening it again does not try to add the column twice.
    await store.close();
    store = openSqliteStore(old);
    expect(await store.nextDue('C1', 2000)).toMatchObject({ sentAt: 2000 });
  });

  it('upgrades a version 2 store: the tables that keep alerts true are added, nothing else changes', async () => {
    await store.close();
    path = freshPath();
    mkdirSync(dirname(path));
    const db = new Database(path);
    db.exec(readFileSync(join(import.meta.dirname, '../fixtures/legacy/sqlite.sql'), 'utf8'));
    db.exec('DROP TABLE watched_events; DROP TABLE event_messages');
    db.pragma('user_version = 2');
    db.close();
    store = openSqliteStore(path);
    expect(await store.getState('last_poll')).toBe('1700000000000');
    const message = { channel: 'C1', ts: '1.0', eventId: 'e', payload: '{}', key: 'k', targetId: null };
    expect(await store.recordMessage(message, 5)).toEqual({ goneAt: null });
    expect(await store.watchedEventIds()).toEqual(['e']);
  });

  it('answers the due sweep from the index of pending rows, not by reading the whole outbox', async () => {
    const path = freshPath();
    const tenants = openSqliteTenants(path);
    const { sql: text, parameters } = dueScopesQuery(tenants.sql.db, 5000).compile();
    await tenants.close();
    const db = new Database(path, { readonly: true });
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...parameters) as { detail: string }[];
      expect(plan.map((step) => step.detail).join('; ')).toMatch(
        /USING COVERING INDEX halo_outbox_pending\b/,
      );
    } finally {
      db.close();
    }
  });

  it('works in memory', async () => {
    const memory = openSqliteStore(':memory:');
    await memory.recordPage([event('a')], [true]);
    expect(await memory.stats()).toMatchObject({ seen: 1, staged: 1 });
    await memory.close();
  });

  it('keeps a schema version, and refuses a file from a newer version of the bot, changing nothing', async () => {
    await store.setState({ a: '1' });
    await store.close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    const error = thrown(() => openSqliteStore(path));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      `The database ${path} was written by a newer version of halo-slack (schema version ${SQLITE_SCHEMA_VERSION + 1}; this version knows up to ${SQLITE_SCHEMA_VERSION}). Upgrade halo-slack, or set DATABASE_URL to another database.`,
    );
    const after = new Database(path);
    expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION + 1);
    after.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    after.close();
    store = openSqliteStore(path);
    expect(await store.getState('a')).toBe('1');
  });
});
