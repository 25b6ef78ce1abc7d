/**
 * A workspace's health over its accounts, for the App Home's health section: each account's pipeline has its
 * own polls and outbox, and a workspace of several (every workspace of the distributed shape, which has no
 * environment's account) is as healthy as its least healthy account. Pure.
 */
import { NONE_HELD, type AssumedHeld, type UnratedType } from '../domain/severity.ts';

/** What the health section reads of one account's `/halo status`. */
export interface StatusFigures {
  readonly lastSuccessAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly pending: number;
  readonly failed: number;
  readonly muted: number;
  readonly unrated: readonly UnratedType[];
  readonly assumedHeld: AssumedHeld;
}

/**
 * The accounts' figures as one: counts summed; the oldest last success (none while any account has not polled
 * successfully yet); the failures and last error of the account failing longest. Undefined for no accounts.
 */
export function workspaceStatus(accounts: readonly StatusFigures[]): StatusFigures | undefined {
  if (accounts.length === 0) return undefined;
  const worst = accounts.reduce((a, b) => (b.consecutiveFailures > a.consecutiveFailures ? b : a));
  const successes = accounts.map((a) => a.lastSuccessAt);
  const byKey: Record<string, number> = {};
  for (const { assumedHeld } of accounts)
    for (const [key, count] of Object.entries(assumedHeld.byKey)) byKey[key] = (byKey[key] ?? 0) + count;
  const count = accounts.reduce((sum, a) => sum + a.assumedHeld.count, 0);
  const sum = (of: (a: StatusFigures) => number): number => accounts.reduce((total, a) => total + of(a), 0);
  return {
    lastSuccessAt: successes.includes(null) ? null : Math.min(...(successes as number[])),
    consecutiveFailures: worst.consecutiveFailures,
    lastError:
      worst.consecutiveFailures > 0
        ? worst.lastError
        : (accounts.find((a) => a.lastError !== null)?.lastError ?? null),
    pending: sum((a) => a.pending),
    failed: sum((a) => a.failed),
    muted: sum((a) => a.muted),
    // The catalogue is Halo's, read once for every account: any account's list is all of theirs.
    unrated: accounts[0]!.unrated,
    assumedHeld: count === 0 ? NONE_HELD : { count, byKey },
  };
}
