/**
 * How many accounts a replica claims or gives up at a heartbeat: pure, so that the rules are tested with literal
 * expectations (test/unit/shares.test.ts).
 *
 * Each live replica's quota is `floor(accounts / replicas)`, plus one for the first `accounts mod replicas` of
 * them, the most loaded first (then by name): the quotas add up to the accounts, differ by one at most (so the
 * most-loaded holds at most ceil/floor of the least once settled), every replica computes everyone's alike from
 * one snapshot, and no account moves where moving it would not even the loads. A replica under its quota
 * claims free accounts; one over it gives up only what the others lack and the free ones cannot cover, so that
 * nothing is released that nobody would take. Free accounts beyond every quota (replicas that saw different
 * numbers of live replicas for a heartbeat) are claimed anyway, up to `ceil + margin`: an account is never left
 * unpolled for want of a quota.
 */

export interface ShareInput {
  /** Accounts there are (listed). */
  readonly accounts: number;
  /** Live replicas by name, this one included, each with how many listed accounts it holds. */
  readonly loads: ReadonlyMap<string, number>;
  readonly self: string;
  /** Listed accounts nobody live holds. */
  readonly free: number;
  /** How far above `ceil(accounts / replicas)` a replica may hold, taking orphans nobody's quota covers. */
  readonly margin: number;
}

export interface SharePlan {
  /** What this replica should hold once settled. */
  readonly quota: number;
  readonly claim: number;
  readonly release: number;
}

/** The default margin: one account above the fair share. */
export const SHARE_MARGIN = 1;

/** Each live replica's quota, by name, from what each holds now. */
export function quotas(accounts: number, loads: ReadonlyMap<string, number>): Map<string, number> {
  const names = [...loads.keys()].sort(
    (a, b) => (loads.get(b) ?? 0) - (loads.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  const out = new Map<string, number>();
  if (names.length === 0) return out;
  const base = Math.floor(accounts / names.length);
  const extra = accounts % names.length;
  names.forEach((name, i) => out.set(name, base + (i < extra ? 1 : 0)));
  return out;
}

export function planShare(input: ShareInput): SharePlan {
  const { accounts, self, free, margin } = input;
  const loads = new Map(input.loads);
  if (!loads.has(self)) loads.set(self, 0);
  const quota = quotas(accounts, loads);
  const mine = quota.get(self) ?? 0;
  const held = loads.get(self) ?? 0;
  let othersLack = 0;
  for (const [name, load] of loads)
    if (name !== self) othersLack += Math.max(0, (quota.get(name) ?? 0) - load);
  const cap = Math.ceil(accounts / loads.size) + margin;
  if (held < mine) {
    const owed = Math.min(mine - held, free);
    // Orphans beyond what the others lack: take them too, within the cap.
    const spare = Math.max(0, free - owed - othersLack);
    return { quota: mine, claim: owed + Math.min(spare, Math.max(0, cap - held - owed)), release: 0 };
  }
  if (held > mine) {
    const needed = Math.max(0, othersLack - free);
    return { quota: mine, claim: 0, release: Math.min(held - mine, needed) };
  }
  const spare = Math.max(0, free - othersLack);
  return { quota: mine, claim: Math.min(spare, Math.max(0, cap - held)), release: 0 };
}

/** Max over min of the loads: 1 when even; Infinity when a replica holds none while another holds some. */
export function balance(loads: readonly number[]): number {
  if (loads.length === 0) return 1;
  const max = Math.max(...loads);
  const min = Math.min(...loads);
  if (max === 0) return 1;
  return min === 0 ? Number.POSITIVE_INFINITY : max / min;
}
