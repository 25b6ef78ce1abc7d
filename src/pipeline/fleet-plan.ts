/**
 * Which accounts' pipelines to start, stop and restart, from the accounts running and the accounts there are
 * now. Pure, so that the rules are tested with literal expectations (test/unit/fleet-plan.test.ts).
 */
import type { AccountStatus, Scope } from './tenancy-port.ts';

/** One Halo account the process polls, as the fleet's `accounts()` port gives it. */
export interface FleetAccount {
  readonly scope: Scope;
  /** Unique within its workspace: what alerts name when the workspace has several accounts. */
  readonly name: string;
  readonly apiUrl: string;
  /**
   * In clear in memory, as the store hands it over: compared to see a new key (which restarts the account's
   * pipeline on a new client), handed to the factory that builds that client, and never shown or logged.
   */
  readonly apiKey: string;
  /** The key's last 4 characters: all that is ever shown of it. */
  readonly keyHint: string;
  readonly status: AccountStatus;
}

export interface FleetPlan {
  readonly start: readonly FleetAccount[];
  readonly stop: readonly FleetAccount[];
  /** Running on an old key or URL, or given back its key (`needs_key` → `active`): stopped, then started anew. */
  readonly restart: readonly FleetAccount[];
  /** Running and unchanged but for what the fleet itself records (status, health): their new records. */
  readonly keep: readonly FleetAccount[];
}

/** A scope as a map key: the workspace and account IDs never hold a newline. */
export function scopeKey(scope: Scope): string {
  return `${scope.workspace}\n${scope.account}`;
}

/**
 * Where in each poll interval an account polls: spread evenly by its scope (an FNV-1a hash), the same on every
 * start, so that many accounts' polls take turns rather than all starting at once. Polls run start to start, so
 * the first poll's offset holds for the ones after it.
 */
export function pollOffsetMs(scope: Scope, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (const char of scopeKey(scope)) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, Math.floor(intervalMs));
}

/** Whether the account running as `was` must be restarted to become `now`. */
function needsRestart(was: FleetAccount, now: FleetAccount): boolean {
  return (
    was.apiUrl !== now.apiUrl ||
    was.apiKey !== now.apiKey ||
    (was.status === 'needs_key' && now.status === 'active')
  );
}

/** Listed accounts in the order given; an account listed twice counts once (its first listing). */
export function planFleet(running: readonly FleetAccount[], listed: readonly FleetAccount[]): FleetPlan {
  const before = new Map(running.map((account) => [scopeKey(account.scope), account]));
  const now = new Map<string, FleetAccount>();
  for (const account of listed)
    if (!now.has(scopeKey(account.scope))) now.set(scopeKey(account.scope), account);
  const start: FleetAccount[] = [];
  const restart: FleetAccount[] = [];
  const keep: FleetAccount[] = [];
  for (const [key, account] of now) {
    const was = before.get(key);
    if (was === undefined) start.push(account);
    else if (needsRestart(was, account)) restart.push(account);
    else keep.push(account);
  }
  const stop = running.filter((account) => !now.has(scopeKey(account.scope)));
  return { start, stop, restart, keep };
}
