/**
 * Which replica polls which Halo account. Every replica answers Slack; each account is polled, and its Slack work
 * delivered, by at most one replica at a time: the one that holds the account's lease. PostgreSQL implements the
 * port with lease rows and a heartbeat row per replica (store/pg-leases.ts), the database's clock deciding
 * expiry; SQLite, one process by construction, holds every account from start to stop. How many accounts a
 * replica claims or gives up is decided in the core (shares.ts), by the loop that drives the port (sharing.ts).
 */
import type { Scope } from './tenancy-port.ts';

/** What one heartbeat saw: the live replicas and who holds each listed account. */
export interface LeaseSnapshot {
  /** The replicas whose heartbeat is unexpired by the database's clock, this one included, by name. */
  readonly replicas: readonly string[];
  /**
   * The live holder of each listed account, by its scope key (fleet-plan.ts `scopeKey`). Absent: free (never
   * held, released, or its holder's heartbeat expired), and claimable.
   */
  readonly holders: ReadonlyMap<string, string>;
}

export interface AccountLeases {
  /** This replica's name. */
  readonly self: string;
  /**
   * Renews this replica's heartbeat and says who holds what among `accounts` (every account there is). An account
   * this replica held and that another took since is gone from its holdings here. Null when the database could
   * not be asked: the caller decides how long it goes on.
   */
  beat(accounts: readonly Scope[]): Promise<LeaseSnapshot | null>;
  /** Claims up to `count` of `free` (SKIP LOCKED: none that another replica is claiming); the scopes it got. */
  claim(free: readonly Scope[], count: number): Promise<Scope[]>;
  /** Whether this replica can prove, right now, that it holds `scope`: checked before each poll and each post. */
  holds(scope: Scope): Promise<boolean>;
  /** Gives `scopes` up (after their pipelines stopped): another replica may claim them at its next heartbeat. */
  release(scopes: readonly Scope[]): Promise<void>;
  /** On stop: every lease, and the heartbeat, so that the others take over at their next heartbeat. */
  releaseAll(): Promise<void>;
}

/**
 * A channel's pace across replicas (PostgreSQL): two accounts of a workspace posting to one channel from two
 * replicas keep Slack's pace for it together.
 */
export interface SharedPace {
  /**
   * Takes the channel's next turn if it is due, and holds the channel for `gapMs` from now (the database's
   * clock). 0: go; otherwise how many ms to wait before asking again.
   */
  take(workspace: string, channel: string, gapMs: number): Promise<number>;
  /** Slack said wait (Retry-After): nobody posts to the channel for `ms`. */
  hold(workspace: string, channel: string, ms: number): Promise<void>;
}

/** SQLite: the file lock already makes this the only process, so it claims every account and keeps it. */
export function singleProcessLeases(self: string): AccountLeases {
  const key = (scope: Scope): string => `${scope.workspace}\n${scope.account}`;
  const held = new Set<string>();
  return {
    self,
    beat: (accounts) =>
      Promise.resolve({
        replicas: [self],
        holders: new Map(accounts.filter((scope) => held.has(key(scope))).map((scope) => [key(scope), self])),
      }),
    claim: (free, count) => {
      const got = free.slice(0, count);
      for (const scope of got) held.add(key(scope));
      return Promise.resolve(got);
    },
    holds: () => Promise.resolve(true),
    release: (scopes) => {
      for (const scope of scopes) held.delete(key(scope));
      return Promise.resolve();
    },
    releaseAll: () => {
      held.clear();
      return Promise.resolve();
    },
  };
}
