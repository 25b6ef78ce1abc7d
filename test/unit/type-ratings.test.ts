import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { HaloEvent, HaloEventType } from '../../src/domain/event.ts';
import { assumedHeld, countAssumedHeld, TypeRatings } from '../../src/pipeline/type-ratings.ts';
import { openSqliteStore } from '../stores.ts';
import { accountsCatalogue, NoCatalogueAccountError } from '../../src/pipeline/catalogue-source.ts';
import type { FleetAccount } from '../../src/pipeline/fleet-plan.ts';

function logger() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', secrets: [], write: (line) => lines.push(line) });
  return { log, lines };
}

const event = (eventId: string, key: string): HaloEvent => ({
  eventId,
  subject: 'Subject',
  dateCreated: '2024-05-01 12:00',
  key,
  url: '',
  target: null,
});

describe('TypeRatings', () => {
  it('names each key nothing rates once in the log, with its guess and the HALO_SEVERITY to set', async () => {
    let types: HaloEventType[] = [
      { key: 'target-scan-start', subject: 'Scan Started' },
      { key: 'target-issue-new', subject: 'New Issue' },
      { key: 'net-17', subject: 'New Open Port' },
      { key: 'rated-here', subject: 'Whatever' },
    ];
    const { log, lines } = logger();
    const ratings = new TypeRatings({
      halo: { listTypes: () => Promise.resolve(types) },
      overrides: { 'rated-here': 'low' },
      log,
    });
    // Before the catalogue is read, a key alone decides.
    expect(ratings.severityOf('net-17')).toBe('medium');
    await ratings.refresh();
    expect(ratings.severityOf('net-17')).toBe('high');
    expect(ratings.list()).toEqual([
      { key: 'target-issue-new', subject: 'New Issue', severity: 'high' },
      { key: 'net-17', subject: 'New Open Port', severity: 'high' },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'WARN  event types the severity table does not rate, their severity guessed from their names: target-issue-new (high), net-17 (high). Set HALO_SEVERITY to rate them, e.g. HALO_SEVERITY=target-issue-new=high,net-17=high',
    );
    // The next day's read names only what is new.
    types = [...types, { key: 'acct-odd', subject: 'Odd' }];
    await ratings.refresh();
    await ratings.refresh();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(': acct-odd (medium). Set HALO_SEVERITY');
    expect(ratings.isAssumed('acct-odd')).toBe(true);
    expect(ratings.isAssumed('rated-here')).toBe(false);
  });

  it('keeps the last catalogue when Halo cannot list it', async () => {
    let fail = false;
    const ratings = new TypeRatings({
      halo: {
        listTypes: () =>
          fail ? Promise.reject(new Error('down')) : Promise.resolve([{ key: 'x-1', subject: 'Issue' }]),
      },
      overrides: {},
      log: logger().log,
    });
    await ratings.refresh();
    fail = true;
    await ratings.refresh();
    expect(ratings.list()).toEqual([{ key: 'x-1', subject: 'Issue', severity: 'high' }]);
  });
});

describe('the catalogue read with a connected account (distributed shape)', () => {
  const account = (name: string, status: 'active' | 'needs_key'): FleetAccount => ({
    scope: { workspace: 'T1', account: name },
    name,
    apiUrl: 'http://127.0.0.1:1',
    apiKey: `key-${name}`,
    keyHint: name.slice(-4),
    status,
  });

  it('reads with an active account’s client, asked anew each read; none: a typed error', async () => {
    let listed: FleetAccount[] = [];
    const used: string[] = [];
    const catalogue = accountsCatalogue({
      accounts: () => Promise.resolve(listed),
      clientOf: (a) => ({
        listTypes: () => {
          used.push(a.name);
          return Promise.resolve([{ key: 'net-17', subject: 'New Open Port' }]);
        },
      }),
    });
    await expect(catalogue.listTypes()).rejects.toBeInstanceOf(NoCatalogueAccountError);
    listed = [account('refused', 'needs_key')];
    await expect(catalogue.listTypes()).rejects.toBeInstanceOf(NoCatalogueAccountError);
    listed = [account('refused', 'needs_key'), account('good', 'active')];
    expect(await catalogue.listTypes()).toEqual([{ key: 'net-17', subject: 'New Open Port' }]);
    expect(used).toEqual(['good']);
  });

  it('readIfUnread reads until one read has succeeded, once at a time', async () => {
    let calls = 0;
    let fail = true;
    const ratings = new TypeRatings({
      halo: {
        listTypes: () => {
          calls += 1;
          return fail
            ? Promise.reject(new NoCatalogueAccountError())
            : Promise.resolve([{ key: 'net-17', subject: 'New Open Port' }]);
        },
      },
      overrides: {},
      log: logger().log,
    });
    const settled = () => new Promise((resolve) => setTimeout(resolve, 0));
    ratings.readIfUnread();
    await settled();
    expect(ratings.severityOf('net-17')).toBe('medium');
    fail = false;
    ratings.readIfUnread();
    ratings.readIfUnread();
    await settled();
    expect(calls).toBe(2);
    // The catalogue's name counts now: an open port is high.
    expect(ratings.severityOf('net-17')).toBe('high');
    ratings.readIfUnread();
    await settled();
    expect(calls).toBe(2);
  });
});

describe('countAssumedHeld', () => {
  it('adds to a count kept in the store, by key, and says so in the log', async () => {
    const store = openSqliteStore(':memory:');
    const { log, lines } = logger();
    expect(await assumedHeld(store)).toEqual({ count: 0, byKey: {} });
    await countAssumedHeld(
      store,
      [event('1', 'odd'), event('2', 'odd'), event('3', 'net')],
      () => 'medium',
      log,
    );
    await countAssumedHeld(store, [], () => 'medium', log);
    await countAssumedHeld(store, [event('4', 'net')], () => 'medium', log);
    expect(await assumedHeld(store)).toEqual({ count: 4, byKey: { odd: 2, net: 2 } });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(
      'WARN  3 events held back by a minimum severity on a guessed severity: odd (medium), net (medium). Set HALO_SEVERITY to rate them',
    );
    await store.close();
  });
});
