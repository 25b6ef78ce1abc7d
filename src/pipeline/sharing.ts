/**
 * Spreads the accounts over the replicas. Every heartbeat: renew this replica's heartbeat and see who holds what
 * (the lease port), decide how many accounts to claim or give up (shares.ts), claim, then let the fleet
 * reconcile to what this replica holds (it starts the claimed accounts, and stops the given-up and lost ones,
 * each after its poll in flight ends), and only then release the given-up leases: an account changes hands
 * without a gap and without two pollers. SQLite's single process holds every account (lease-port.ts).
 */
import { sleep } from '../clock.ts';
import type { Logger } from '../log.ts';
import { scopeKey, type FleetAccount } from './fleet-plan.ts';
import type { AccountLeases, LeaseSnapshot } from './lease-port.ts';
import { planShare, SHARE_MARGIN } from './shares.ts';
import type { Scope } from './tenancy-port.ts';

/**
 * How long a replica's heartbeat lasts in the database: a replica frozen or cut off from it has its accounts
 * claimed by the others this long after its last heartbeat (5 s at a poll interval of 1 s or less, 10 s at 2 s and
 * more; one killed with kill -9 is seen at once, by its session lock). Five heartbeats at least: a pause of a few
 * seconds (a GC, a slow query, a busy machine) moves no account.
 */
export function leaseTtl(heartbeatMs: number): number {
  return Math.max(5000, 10 * heartbeatMs);
}

/** How a lease changed hands, for `/metrics`. */
export type LeaseMove = 'claimed' | 'released' | 'lost';

export interface SharingOptions {
  readonly leases: AccountLeases;
  /** Every account there is: the environment's (single shape) and the connected ones. */
  readonly accounts: () => Promise<FleetAccount[]>;
  /** The fleet this replica runs: it asks {@link Sharing.held} which accounts to poll. */
  readonly fleet: { lead(): Promise<void>; follow(): Promise<void>; reconcile(): Promise<void> };
  readonly heartbeatMs: number;
  /**
   * How long the database may go unanswered before this replica stops polling everything it held: by then its
   * heartbeat has expired in the database and another replica may hold its accounts.
   */
  readonly leaseTtlMs: number;
  readonly margin?: number;
  readonly onMove?: (move: LeaseMove, count: number) => void;
  readonly log: Logger;
  /** A monotonic clock in ms: leases are decided by the database's clock, and this one only counts silence. */
  readonly now?: () => number;
}

/** What this replica says of an account's lease in `/halo status` and `/healthz`. */
export interface LeaseView {
  readonly role: 'leader' | 'standby';
  /** The replica that holds the account, null when none does right now. */
  readonly leader: string | null;
  readonly self: string;
}

export class Sharing {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private listed: FleetAccount[] = [];
  /** The accounts this replica holds a lease on, by scope key. */
  private readonly mine = new Map<string, Scope>();
  /** Held, but being given up: no longer polled, released once their pipelines stopped. */
  private readonly leaving = new Set<string>();
  private snapshot: LeaseSnapshot = { replicas: [], holders: new Map() };
  /** The hand-over in progress: the fleet reconciling to what this replica holds, then the releases. */
  private settling: Promise<void> | undefined;
  private lastBeat: number;
  private readonly now: () => number;

  constructor(private readonly options: SharingOptions) {
    this.now = options.now ?? (() => performance.now());
    this.lastBeat = this.now();
  }

  get self(): string {
    return this.options.leases.self;
  }

  /** "Which accounts do I poll": the listed accounts this replica holds a lease on (the fleet's question). */
  held(): Promise<FleetAccount[]> {
    return Promise.resolve(
      this.listed.filter((account) => {
        const key = scopeKey(account.scope);
        return this.mine.has(key) && !this.leaving.has(key);
      }),
    );
  }

  /** Whether this replica polls anything. */
  get holding(): boolean {
    return this.mine.size > this.leaving.size;
  }

  /**
   * How many accounts this replica holds a lease on (those being handed over included, until released), and how
   * many live replicas it saw at its last heartbeat.
   */
  counts(): { accountsHeld: number; replicasSeen: number } {
    return { accountsHeld: this.mine.size, replicasSeen: this.snapshot.replicas.length };
  }

  /** Whether this replica holds `scope` (as of its last heartbeat), and who does. */
  viewOf(scope: Scope): LeaseView {
    const key = scopeKey(scope);
    const holds = this.mine.has(key) && !this.leaving.has(key);
    return {
      role: holds ? 'leader' : 'standby',
      leader: holds ? this.self : (this.snapshot.holders.get(key) ?? null),
      self: this.self,
    };
  }

  /** Resolves after the first heartbeat, so that a lone replica polls its accounts before it says it started. */
  async start(): Promise<void> {
    await this.options.fleet.lead();
    await this.tick();
    await this.settling;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.isStopping()) {
      await sleep(this.options.heartbeatMs, this.stopping.signal);
      if (this.isStopping()) return;
      await this.tick().catch((error: unknown) =>
        this.options.log.error('sharing: a heartbeat failed; trying again at the next', { error }),
      );
    }
  }

  /** A method, not `signal.aborted` inline: the flag changes across awaits, which narrowing cannot see. */
  private isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * One heartbeat. The fleet's reconcile (stopping a pipeline waits for its poll in flight and its posts) runs
   * apart, and the next heartbeats renew meanwhile: a slow hand-over never lets this replica's heartbeat expire.
   */
  private async tick(): Promise<void> {
    const { leases, log } = this.options;
    try {
      this.listed = await this.options.accounts();
    } catch (error) {
      log.error('sharing: the accounts could not be listed; the held ones go on', { error });
    }
    const snapshot = await leases.beat(this.listed.map((account) => account.scope));
    if (snapshot === null) {
      if (this.mine.size > 0 && this.now() - this.lastBeat > this.options.leaseTtlMs) {
        log.error('sharing: the database has not answered for longer than a lease; stopping every poll', {
          accounts: this.mine.size,
        });
        this.lose([...this.mine.keys()]);
      }
    } else {
      this.lastBeat = this.now();
      this.snapshot = snapshot;
      const listed = new Set(this.listed.map((account) => scopeKey(account.scope)));
      // Disconnected or uninstalled: the fleet stops it, and its lease row is gone with it.
      for (const key of [...this.mine.keys()]) if (!listed.has(key)) this.mine.delete(key);
      this.lose([...this.mine.keys()].filter((key) => snapshot.holders.get(key) !== this.self));
      // Still this process's term (its token unchanged) after a silence that stopped them: nobody held them
      // meanwhile, so their polls resume.
      for (const account of this.listed) {
        const key = scopeKey(account.scope);
        if (snapshot.holders.get(key) === this.self && !this.mine.has(key)) this.mine.set(key, account.scope);
      }
    }
    if (this.settling !== undefined) return;
    const giveUp = snapshot === null ? [] : await this.rebalance(snapshot);
    // Not awaited here: the next heartbeats renew while it settles.
    this.settling = this.settle(giveUp)
      .catch((error: unknown) => log.error('sharing: the accounts could not be switched', { error }))
      .finally(() => (this.settling = undefined));
  }

  private async settle(giveUp: readonly Scope[]): Promise<void> {
    const { leases, log } = this.options;
    await this.options.fleet.reconcile();
    if (giveUp.length === 0 || this.isStopping()) return;
    await leases.release(giveUp);
    for (const scope of giveUp) {
      this.mine.delete(scopeKey(scope));
      this.leaving.delete(scopeKey(scope));
    }
    this.options.onMove?.('released', giveUp.length);
    log.info('sharing: accounts handed over to the other replicas', { count: giveUp.length });
  }

  /** Accounts another replica took (or that this one can no longer prove it holds): their polls stop now. */
  private lose(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const key of keys) {
      this.mine.delete(key);
      this.leaving.delete(key);
    }
    this.options.onMove?.('lost', keys.length);
    this.options.log.warn('sharing: accounts lost to another replica; their polls stop', {
      count: keys.length,
    });
  }

  /** Claims this replica's share; returns the accounts to give up once their polls end. */
  private async rebalance(snapshot: LeaseSnapshot): Promise<Scope[]> {
    const { leases } = this.options;
    const loads = new Map<string, number>(snapshot.replicas.map((name) => [name, 0]));
    const free: Scope[] = [];
    for (const account of this.listed) {
      const holder = snapshot.holders.get(scopeKey(account.scope));
      if (holder === undefined) free.push(account.scope);
      else loads.set(holder, (loads.get(holder) ?? 0) + 1);
    }
    const plan = planShare({
      accounts: this.listed.length,
      loads,
      self: this.self,
      free: free.length,
      margin: this.options.margin ?? SHARE_MARGIN,
    });
    if (plan.claim > 0) {
      const got = await leases.claim(free, plan.claim);
      for (const scope of got) this.mine.set(scopeKey(scope), scope);
      if (got.length > 0) {
        this.options.onMove?.('claimed', got.length);
        this.options.log.info('sharing: accounts claimed', { count: got.length, quota: plan.quota });
      }
    }
    if (plan.release === 0) return [];
    // The last by key: the same choice at every heartbeat, so that a hand-over is not undone by the next one.
    const keys = [...this.mine.keys()].filter((key) => !this.leaving.has(key)).sort();
    const out = keys.slice(-plan.release);
    for (const key of out) this.leaving.add(key);
    return out.map((key) => this.mine.get(key)!);
  }

  /** Stops every poll (each after its poll in flight ends), then releases every lease and the heartbeat. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.settling;
    for (const key of this.mine.keys()) this.leaving.add(key);
    await this.options.fleet.follow();
    const count = this.mine.size;
    await this.options.leases.releaseAll();
    this.mine.clear();
    this.leaving.clear();
    if (count > 0) this.options.onMove?.('released', count);
  }
}
