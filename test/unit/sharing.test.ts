/**
 * The sharing loop (src/pipeline/sharing.ts) over an in-memory lease table standing in for PostgreSQL's, heartbeat
 * by heartbeat: fair shares, a new replica's share taken from the others only after their polls ended, a lost
 * account dropped, a silent database, and a stop that hands everything over.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { scopeKey, type FleetAccount } from '../../src/pipeline/fleet-plan.ts';
import type { AccountLeases, LeaseSnapshot } from '../../src/pipeline/lease-port.ts';
import { Sharing, type LeaseMove } from '../../src/pipeline/sharing.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

/** The lease and heartbeat tables, with the database's clock. */
class Table {
  now = 0;
  down = false;
  readonly leases = new Map<string, { holder: string | null; token: number }>();
  readonly beats = new Map<string, number>();
  /** What happened, in order: claims, releases, fleet reconciles and stops. */
  readonly events: string[] = [];

  live(name: string): boolean {
    return (this.beats.get(name) ?? -1) > this.now;
  }
}

function leasesOn(table: Table, self: string, ttlMs = 5000): AccountLeases {
  const tokens = new Map<string, number>();
  const check = (): void => {
    if (table.down) throw new Error('database unreachable');
  };
  return {
    self,
    beat(accounts) {
      if (table.down) return Promise.resolve(null);
      table.beats.set(self, table.now + ttlMs);
      const holders = new Map<string, string>();
      for (const scope of accounts) {
        const row = table.leases.get(scopeKey(scope));
        if (row?.holder == null || !table.live(row.holder)) continue;
        if (row.holder === self && tokens.get(scopeKey(scope)) !== row.token) continue;
        holders.set(scopeKey(scope), row.holder);
      }
      const snapshot: LeaseSnapshot = {
        replicas: [...table.beats.keys()].filter((name) => table.live(name)).sort(),
        holders,
      };
      return Promise.resolve(snapshot);
    },
    claim(free, count) {
      check();
      const got: Scope[] = [];
      for (const scope of free) {
        if (got.length === count) break;
        const key = scopeKey(scope);
        const row = table.leases.get(key) ?? { holder: null, token: 0 };
        if (row.holder !== null && row.holder !== self && table.live(row.holder)) continue;
        table.leases.set(key, { holder: self, token: row.token + 1 });
        tokens.set(key, row.token + 1);
        got.push(scope);
      }
      if (got.length > 0) table.events.push(`${self} claims ${got.map((s) => s.account).join(',')}`);
      return Promise.resolve(got);
    },
    holds(scope) {
      const row = table.leases.get(scopeKey(scope));
      return Promise.resolve(
        row?.holder === self && row.token === tokens.get(scopeKey(scope)) && table.live(self),
      );
    },
    release(scopes) {
      check();
      for (const scope of scopes) {
        const row = table.leases.get(scopeKey(scope));
        if (row?.holder === self) row.holder = null;
        tokens.delete(scopeKey(scope));
      }
      table.events.push(`${self} releases ${scopes.map((s) => s.account).join(',')}`);
      return Promise.resolve();
    },
    releaseAll() {
      for (const [key, row] of table.leases) if (row.holder === self && tokens.has(key)) row.holder = null;
      table.beats.delete(self);
      table.events.push(`${self} releases all`);
      return Promise.resolve();
    },
  };
}

const account = (i: number): FleetAccount => ({
  scope: { workspace: 'T1', account: `a${String(i).padStart(2, '0')}` },
  name: `acct-${i}`,
  apiUrl: 'http://127.0.0.1:1',
  apiKey: `key-${i}`,
  keyHint: String(i).padStart(4, '0'),
  status: 'active',
});

/** One replica: its sharing loop and a fleet that records which accounts it polls. */
function replica(table: Table, name: string, accounts: FleetAccount[], moves: LeaseMove[] = []) {
  const polled = new Set<string>();
  const late: { sharing?: Sharing } = {};
  const sharing = new Sharing({
    leases: leasesOn(table, name),
    accounts: () => Promise.resolve(accounts),
    fleet: {
      lead: () => Promise.resolve(),
      follow: () => {
        table.events.push(`${name} stops every poll`);
        polled.clear();
        return Promise.resolve();
      },
      reconcile: async () => {
        const held = new Set((await late.sharing!.held()).map((a) => a.scope.account));
        const stopped = [...polled].filter((id) => !held.has(id)).sort();
        if (stopped.length > 0) table.events.push(`${name} stops ${stopped.join(',')} after their polls`);
        polled.clear();
        for (const id of held) polled.add(id);
      },
    },
    // Long: the tests drive the heartbeats themselves.
    heartbeatMs: 3_600_000,
    leaseTtlMs: 5000,
    onMove: (move, count) => {
      for (let i = 0; i < count; i++) moves.push(move);
    },
    log: quiet,
    now: () => table.now,
  });
  late.sharing = sharing;
  const beat = async (): Promise<void> => {
    await (sharing as unknown as { tick(): Promise<void> }).tick();
    await (sharing as unknown as { settling?: Promise<void> }).settling;
  };
  return { sharing, polled, beat };
}

describe('Sharing', () => {
  it('shares 30 accounts 10/10/10; a new replica’s share is released to it only after the others stopped polling it', async () => {
    const table = new Table();
    const accounts = Array.from({ length: 30 }, (_, i) => account(i));
    const a = replica(table, 'a', accounts);
    const b = replica(table, 'b', accounts);
    await a.sharing.start();
    expect(a.polled.size).toBe(30);
    await b.sharing.start();
    expect(b.polled.size).toBe(0);
    await a.beat();
    await b.beat();
    expect([a.polled.size, b.polled.size]).toEqual([15, 15]);
    expect(table.events.slice(-3)).toEqual([
      'a stops a15,a16,a17,a18,a19,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29 after their polls',
      'a releases a15,a16,a17,a18,a19,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29',
      'b claims a15,a16,a17,a18,a19,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29',
    ]);

    const c = replica(table, 'c', accounts);
    await c.sharing.start();
    for (const r of [a, b, c]) await r.beat();
    expect([a.polled.size, b.polled.size, c.polled.size]).toEqual([10, 10, 10]);
    expect(c.sharing.counts()).toEqual({ accountsHeld: 10, replicasSeen: 3 });
    // Settled: more heartbeats move nothing, and no account is polled twice or not at all.
    const before = table.events.length;
    for (const r of [a, b, c, a, b, c]) await r.beat();
    expect(table.events.length).toBe(before);
    expect(new Set([...a.polled, ...b.polled, ...c.polled]).size).toBe(30);
  });

  it('drops an account another replica took while this one was paused, and takes its share again', async () => {
    const table = new Table();
    const accounts = Array.from({ length: 4 }, (_, i) => account(i));
    const moves: LeaseMove[] = [];
    const a = replica(table, 'a', accounts, moves);
    const b = replica(table, 'b', accounts);
    await a.sharing.start();
    await b.sharing.start();
    // a pauses past its heartbeat: b takes everything.
    table.now += 6000;
    await b.beat();
    expect(b.polled.size).toBe(4);
    expect(await a.sharing.held()).toHaveLength(4);
    await a.beat();
    expect(moves).toEqual(['claimed', 'claimed', 'claimed', 'claimed', 'lost', 'lost', 'lost', 'lost']);
    expect(a.polled.size).toBe(0);
    await b.beat();
    await a.beat();
    expect([a.polled.size, b.polled.size]).toEqual([2, 2]);
  });

  it('goes on while the database is silent for less than a lease, and stops every poll past it', async () => {
    const table = new Table();
    const a = replica(table, 'a', [account(1), account(2)]);
    await a.sharing.start();
    table.down = true;
    table.now += 4000;
    await a.beat();
    expect(a.polled.size).toBe(2);
    table.now += 2000;
    await a.beat();
    expect(a.polled.size).toBe(0);
    expect(a.sharing.counts().accountsHeld).toBe(0);
    table.down = false;
    await a.beat();
    expect(a.polled.size).toBe(2);
  });

  it('stops every poll before it releases the leases (SIGTERM)', async () => {
    const table = new Table();
    const a = replica(table, 'a', [account(1), account(2)]);
    const b = replica(table, 'b', [account(1), account(2)]);
    await a.sharing.start();
    await b.sharing.start();
    await a.beat();
    await b.beat();
    await a.sharing.stop();
    expect(table.events.slice(-2)).toEqual(['a stops every poll', 'a releases all']);
    await b.beat();
    expect(b.polled.size).toBe(2);
    await b.sharing.stop();
  });
});
