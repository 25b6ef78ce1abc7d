/**
 * Where a new subscription starts. Only the replica that polls sets a starting point: a standby's own scan would
 * not be serialised with the leader's poll in another process, whose older plan, written when it ends, would then
 * drop the new scope, and the next poll would take that scope's new events for a silent baseline. So a standby
 * records the subscription and waits (bounded) for the leader, which looks for subscriptions without a starting
 * point between its polls, within a heartbeat or two of being told that the account's subscriptions changed (one
 * look at the whole table per heartbeat, see subscription-watch.ts). The subscriptions that have one are listed in
 * the state key below, written only by the polling replica (fenced on PostgreSQL), which keeps the list in memory.
 */
import { sleep, type Clock } from '../clock.ts';
import type { Store, Subscription } from './store-port.ts';
import type { Route } from './routes.ts';

/**
 * `started`: its starting point is recorded, every later event reaches it. `haloFailed`: Halo could not be
 * scanned, the next successful poll sets it. `pending`: the leading replica has not set it yet (it is busy with
 * a long poll, or none leads right now); it does so between its polls.
 */
export type RouteStart = 'started' | 'haloFailed' | 'pending';

export const STARTED_STATE = 'started_subscriptions';

/** ID and creation time: an ID that SQLite hands out again after a deletion is another subscription. */
export const startKey = (sub: Pick<Subscription, 'id' | 'createdAt'>): string => `${sub.id}@${sub.createdAt}`;

export async function startedSubscriptions(store: Pick<Store, 'getState'>): Promise<Set<string>> {
  return new Set(JSON.parse((await store.getState(STARTED_STATE)) ?? '[]') as string[]);
}

export function routeOf(sub: Subscription): Route {
  return { channel: sub.channel, keys: sub.keys, targetIds: sub.targetIds, minSeverity: sub.minSeverity };
}

/** Every route of the account: its subscriptions', and the default channel's (HALO_ALERT_CHANNEL) first. */
export function allRoutes(subscriptions: readonly Subscription[], defaultRoute: Route | null): Route[] {
  const routes: Route[] = subscriptions.map(routeOf);
  if (defaultRoute !== null) routes.unshift(defaultRoute);
  return routes;
}

/** How long a standby waits for the leader, and how often it looks. */
export const STANDBY_START_WAIT = { totalMs: 10_000, everyMs: 100 } as const;

/** On a standby: waits until the leader has recorded `sub`'s starting point, `pending` when it has not in time. */
export async function awaitLeaderStart(
  store: Pick<Store, 'getState'>,
  sub: Pick<Subscription, 'id' | 'createdAt'>,
  clock: Clock,
  /** The replica stopping: no more reads of a store about to close; the leader sets the point anyway. */
  signal: AbortSignal,
  wait: { readonly totalMs: number; readonly everyMs: number } = STANDBY_START_WAIT,
): Promise<RouteStart> {
  // Counted in turns as well as on the clock: a test's clock may stand still, and then the wait must end too.
  const deadline = clock.now() + wait.totalMs;
  for (let turn = 0; ; turn++) {
    if ((await startedSubscriptions(store)).has(startKey(sub))) return 'started';
    if (signal.aborted || clock.now() >= deadline || turn * wait.everyMs >= wait.totalMs) return 'pending';
    await sleep(wait.everyMs, signal);
  }
}
