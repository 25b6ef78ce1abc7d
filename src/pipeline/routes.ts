/**
 * Pure routing and scan planning. A route is "this channel wants events matching these filters": the default
 * channel from the environment and each `/halo subscribe` are routes. Keys are alternatives, targets are
 * alternatives, and the two must both match when both are given ("scan started on target 42").
 */
import { atLeast, defaultSeverityOf, type Severity, type SeverityOf } from '../domain/severity.ts';
import type { EventListFilter, HaloEvent } from '../domain/event.ts';

export interface Route {
  readonly channel: string;
  readonly keys: readonly string[];
  readonly targetIds: readonly number[];
  /** Only events this severe or more (`severity:high` is high and critical); absent or null: all. */
  readonly minSeverity?: Severity | null;
}

/** One list scan: `{}` is every event. */
export type Scope = Pick<EventListFilter, 'key' | 'target_id'>;

export function routeMatches(
  route: Route,
  event: HaloEvent,
  severityOf: SeverityOf = defaultSeverityOf,
): boolean {
  if (route.keys.length > 0 && !route.keys.includes(event.key)) return false;
  if (!atLeast(severityOf(event.key), route.minSeverity ?? null)) return false;
  if (route.targetIds.length > 0) {
    const id = event.target?.id;
    if (id === undefined || id === null || !route.targetIds.includes(id)) return false;
  }
  return true;
}

/**
 * The events that some route would take but for its minimum severity, when that severity was only guessed
 * (`isAssumed`): held back on a guess, they are counted where a person sees them.
 */
export function heldOnAssumedSeverity(
  routes: readonly Route[],
  events: readonly HaloEvent[],
  severityOf: SeverityOf,
  isAssumed: (key: string) => boolean,
): HaloEvent[] {
  return events.filter(
    (event) =>
      isAssumed(event.key) &&
      routes.some(
        (route) =>
          (route.minSeverity ?? null) !== null &&
          !routeMatches(route, event, severityOf) &&
          routeMatches({ ...route, minSeverity: null }, event, severityOf),
      ),
  );
}

/** Each channel's events, each event once per channel however many of its routes match. */
export function routeEvents(
  routes: readonly Route[],
  events: readonly HaloEvent[],
  severityOf: SeverityOf = defaultSeverityOf,
): Map<string, HaloEvent[]> {
  const byChannel = new Map<string, HaloEvent[]>();
  for (const event of events) {
    const channels = new Set(
      routes.filter((route) => routeMatches(route, event, severityOf)).map((r) => r.channel),
    );
    for (const channel of channels) {
      const list = byChannel.get(channel);
      if (list === undefined) byChannel.set(channel, [event]);
      else list.push(event);
    }
  }
  return byChannel;
}

export function scopeId(scope: Scope): string {
  if (scope.key !== undefined) return `key:${scope.key}`;
  if (scope.target_id !== undefined) return `target:${scope.target_id}`;
  return 'all';
}

export function scopeCovers(scope: Scope, event: HaloEvent): boolean {
  if (scope.key !== undefined) return event.key === scope.key;
  if (scope.target_id !== undefined) return event.target?.id === scope.target_id;
  return true;
}

/** Pages a scan of `total` events costs; an unknown total is taken as one page. */
function pages(total: number | undefined, pageSize: number): number {
  return total === undefined ? 1 : Math.max(1, Math.ceil(total / pageSize));
}

/**
 * The scans one poll needs to see every event some route wants. A route with keys is scanned by key (targets are
 * then checked locally), one with only targets by target, one with neither needs everything. When the last known
 * totals say that one unfiltered scan costs fewer requests than the filtered ones, it scans everything instead.
 */
export function planScan(
  routes: readonly Route[],
  lastTotals: Readonly<Record<string, number>>,
  pageSize: number,
): Scope[] {
  if (routes.length === 0) return [];
  const scopes = new Map<string, Scope>();
  for (const route of routes) {
    if (route.keys.length === 0 && route.targetIds.length === 0) return [{}];
    const byKey =
      route.keys.length > 0 && (route.targetIds.length === 0 || route.keys.length <= route.targetIds.length);
    const list: Scope[] = byKey
      ? route.keys.map((key) => ({ key }))
      : route.targetIds.map((id) => ({ target_id: id }));
    for (const scope of list) scopes.set(scopeId(scope), scope);
  }
  const filtered = [...scopes.values()];
  const allTotal = lastTotals.all;
  if (allTotal !== undefined) {
    const filteredCost = filtered.reduce(
      (sum, scope) => sum + pages(lastTotals[scopeId(scope)], pageSize),
      0,
    );
    if (pages(allTotal, pageSize) < filteredCost) return [{}];
  }
  return filtered;
}

/** Whether a previous poll's plan would have fetched this event: only then is an unseen event news. */
export function planCovers(plan: readonly Scope[], event: HaloEvent): boolean {
  return plan.some((scope) => scopeCovers(scope, event));
}
