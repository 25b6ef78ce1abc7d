/**
 * A new subscription's starting point, set by the polling replica between its polls (see route-start.ts for why
 * only it). Split from poller.ts, which serialises this scan with its polls and decides when it runs.
 */
import type { ScanMemo } from './halo-port.ts';
import type { PollerOptions } from './poller-api.ts';
import { routeStaged, scanScopes, throwIfFenced } from './poll-steps.ts';
import { sortedJson, STATE, type PollState } from './poll-state.ts';
import { allRoutes, routeOf, startKey, STARTED_STATE } from './route-start.ts';
import { planScan, scopeId } from './routes.ts';

/**
 * The start keys of the subscriptions that have a starting point, whether Halo failed, and `notLeading` when some
 * were left pending because this replica could not prove it holds the account.
 */
export interface StartScan {
  readonly started: ReadonlySet<string>;
  readonly haloFailed: boolean;
  readonly notLeading?: true;
}

/**
 * Makes new subscriptions' scopes covered now rather than at the next poll, whose first look at them would be a
 * silent baseline: an event created between "Subscribed" and that poll would never be posted. Scans the scopes
 * the plan does not cover yet, staging what is news for the existing routes and recording the rest as seen.
 * When Halo fails, they stay without a starting point and the next successful poll sets it. Never two scans at
 * once: the caller holds the poller's lock.
 */
export async function scanPendingStarts(
  options: PollerOptions,
  state: PollState,
  memo: ScanMemo | undefined,
  signal: AbortSignal,
): Promise<StartScan> {
  const { store, log } = options;
  const [subscriptions, started] = await Promise.all([store.subscriptions(), state.started()]);
  const pending = subscriptions.filter((sub) => !started.has(startKey(sub)));
  if (pending.length === 0) return { started, haloFailed: false };
  if (options.stillLeads !== undefined && !(await options.stillLeads()))
    return { started, haloFailed: false, notLeading: true };
  const all = new Set(subscriptions.map(startKey));
  const { lastPlan, totals } = await state.lastPlan();
  // Before the first completed poll everything is baseline anyway.
  const added =
    lastPlan === null
      ? []
      : planScan(pending.map(routeOf), totals, options.pageSize).filter(
          (scope) => !lastPlan.some((known) => scopeId(known) === 'all' || scopeId(known) === scopeId(scope)),
        );
  if (lastPlan === null || added.length === 0) {
    await state.write({ [STARTED_STATE]: JSON.stringify([...all]) });
    return { started: all, haloFailed: false };
  }
  const routes = allRoutes(subscriptions, options.defaultRoute);
  const scan = await scanScopes(options, added, {
    memo,
    routes,
    lastPlan,
    backfill: null,
    signal,
    watched: null,
  });
  throwIfFenced(scan.failures);
  await routeStaged(options, routes);
  if (scan.failures.length > 0) {
    log.warn('subscription: Halo could not be scanned now; the next poll sets its starting point', {
      error: scan.failures[0] instanceof Error ? scan.failures[0].message : String(scan.failures[0]),
    });
    return { started, haloFailed: true };
  }
  await state.write({
    [STATE.plan]: JSON.stringify([...lastPlan, ...added]),
    [STATE.totals]: sortedJson({ ...totals, ...scan.totals }),
    [STARTED_STATE]: JSON.stringify([...all]),
  });
  log.info('subscription: starting point recorded', {
    subscriptions: pending.map((sub) => `#${sub.id}`).join(','),
    scopes: added.map(scopeId).join(','),
    events: scan.events,
  });
  return { started: all, haloFailed: false };
}
