/**
 * The two steps of a poll (and of a subscription's start) that touch the store: scanning scopes page by page
 * into seen and staged events, and routing staged events into outbox rows. Split from poller.ts, which keeps
 * the loop, the plan and the locks.
 */
import PQueue from 'p-queue';
import { childController } from '../abort.ts';
import type { Clock } from '../clock.ts';
import { defaultSeverityOf, type SeverityOf } from '../domain/severity.ts';
import type { CutShort, HaloClient, ScanMemo } from './halo-port.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import { FencedError, type Store } from './store-port.ts';
import { isConclusive } from './gone-tracking.ts';
import { withoutMuted } from './mute-rules.ts';
import type { Newest } from './newest.ts';
import { outboxItemsFor } from './outbox.ts';
import {
  heldOnAssumedSeverity,
  planCovers,
  planScan,
  routeEvents,
  routeMatches,
  scopeId,
  type Route,
  type Scope,
} from './routes.ts';
import { countAssumedHeld } from './type-ratings.ts';
import { redactEvent, type Redact } from './secrets.ts';
import { inScanOrder, THREAD_MAX_AGE_MS } from './threads.ts';

export interface ScanDeps {
  readonly halo: HaloClient;
  readonly store: Store;
  /** The shared bound on Halo requests in flight (see PollerOptions.haloRequests). */
  readonly haloRequests: PQueue;
  readonly pageSize: number;
  readonly severityOf?: SeverityOf;
  /** Replaces known secrets in the texts of the events staged for posting (see secrets.ts). */
  readonly redact?: Redact;
  /** HALO_MAX_REQUESTS_PER_POLL: list requests one poll may make, all scopes together. Absent: no cap. */
  readonly maxRequestsPerPoll?: number;
}

/** A scope whose scan stopped before its end, and why. */
export interface ScopeCutShort extends CutShort {
  readonly scope: string;
}

export interface ScanOutcome {
  readonly requests: number;
  readonly events: number;
  readonly invalid: number;
  readonly staged: number;
  readonly totals: Record<string, number>;
  readonly failures: unknown[];
  /** The scopes whose scans could prove an alerted event gone (see `isConclusive`). */
  readonly conclusive: Scope[];
  /** The scans that stopped before their end; none of them is conclusive. */
  readonly cutShort: ScopeCutShort[];
  /**
   * The watched events the pages listed: told to `countMisses` after the poll, not written page by page, so that a
   * steady poll writes no row.
   */
  readonly listed: string[];
}

/**
 * Runs every scope's scan through one queue, so the whole poll keeps to HALO_SCAN_CONCURRENCY requests in
 * flight. Each page is recorded as it arrives; a failed scope does not stop the others.
 */
export async function scanScopes(
  deps: ScanDeps,
  plan: readonly Scope[],
  context: {
    routes: readonly Route[];
    lastPlan: Scope[] | null;
    backfill: Newest | null;
    signal: AbortSignal;
    /** Pages already read and recorded (see halo/page-memo.ts); undefined: none kept. */
    memo: ScanMemo | undefined;
    /**
     * The alerted events to look for (as of `at`, the poll's start), returned as `listed` when a page lists them.
     * Null: not looked for, and the memo is not used either, since a page it remembered could later hide one.
     */
    watched: { readonly at: number; readonly ids: ReadonlySet<string> } | null;
  },
): Promise<ScanOutcome> {
  const { routes, lastPlan, backfill, signal, memo, watched } = context;
  const { store } = deps;
  const queue = deps.haloRequests;
  const result = { requests: 0, events: 0, invalid: 0, staged: 0, totals: {} as Record<string, number> };
  const failures: unknown[] = [];
  const conclusive: Scope[] = [];
  const cutShort: ScopeCutShort[] = [];
  const listedWatched = new Set<string>();
  const budget =
    deps.maxRequestsPerPoll === undefined
      ? undefined
      : { limit: deps.maxRequestsPerPoll, left: deps.maxRequestsPerPoll };
  // A write refused because another replica leads ends every scope's scan: no more requests, no more writes.
  const link = childController(signal);
  // Decided here for every event of the page, so that the store gets data, not a callback: cheap (a few
  // scopes per plan) next to the page's parsing.
  const isNews = (event: HaloEvent): boolean => lastPlan !== null && planCovers(lastPlan, event);
  await Promise.all(
    plan.map(async (scope) => {
      try {
        const scanned = await deps.halo.scan(scope, {
          pageSize: deps.pageSize,
          queue,
          signal: link.controller.signal,
          ...(budget === undefined ? {} : { budget }),
          // Not while a first poll's backfill looks at every event, seen or not.
          ...(backfill === null && watched !== null && memo !== undefined ? { memo } : {}),
          onPage: async (page) => {
            if (backfill !== null) {
              // The first poll only: the newest events are offered whether seen or not.
              for (const event of page.events()) {
                if (routes.some((r) => routeMatches(r, event, deps.severityOf))) backfill.offer(event);
              }
            }
            // Only the events never seen are parsed and recorded: in a steady poll, nearly none.
            const unseen = await store.unseen(page.ids);
            if (unseen.length > 0) {
              const events = page.events(unseen);
              const news = events.map(isNews);
              // Only the events staged for posting keep their texts: only they need redacting, once, here.
              const kept =
                deps.redact === undefined
                  ? events
                  : events.map((e, i) => (news[i] ? redactEvent(e, deps.redact!) : e));
              result.staged += await store.recordPage(kept, news);
            }
            const listed = watched === null ? [] : page.ids.filter((id) => watched.ids.has(id));
            for (const id of listed) listedWatched.add(id);
            // A page that shows an alerted event is read in full every time: a remembered page comes back
            // without its IDs, and that event would look gone (see `Poller.watchedNow`).
            if (listed.length === 0) page.recorded?.();
          },
        });
        result.requests += scanned.pages;
        result.events += scanned.events;
        result.invalid += scanned.invalid;
        result.totals[scopeId(scope)] = scanned.total ?? scanned.events;
        if (scanned.cutShort !== null) cutShort.push({ scope: scopeId(scope), ...scanned.cutShort });
        if (isConclusive({ scope, ...scanned })) conclusive.push(scope);
      } catch (error) {
        if (error instanceof FencedError) link.controller.abort();
        failures.push(error);
      }
    }),
  ).finally(() => link.release());
  return { ...result, failures, conclusive, cutShort, listed: [...listedWatched] };
}

/**
 * The totals with `all`, the number of events one unfiltered scan would read, measured with one request (a
 * page of one event) when the filtered plan needs more than one scan and `all` is not known or `stale`.
 * `planScan` chooses between per-key scans and one full scan by their cost, and a poll that never scans
 * everything never learns `all` otherwise: 60 subscriptions over 20 keys made 1,201 requests a poll for 32
 * events. A Halo that sends no total, or fails to answer, leaves the totals as they were.
 */
export async function measureAll(
  deps: ScanDeps & { readonly log?: { debug(message: string, fields?: object): void } },
  routes: readonly Route[],
  totals: Readonly<Record<string, number>>,
  stale: boolean,
  signal: AbortSignal,
): Promise<{ totals: Record<string, number>; requests: number }> {
  const { all, ...filteredTotals } = totals;
  const filtered = planScan(routes, filteredTotals, deps.pageSize);
  const needed = filtered.length >= 2 && (all === undefined || stale);
  if (!needed) return { totals: { ...totals }, requests: 0 };
  const queue = deps.haloRequests;
  try {
    const page = await queue.add(() => deps.halo.listEvents({}, { start: 0, limit: 1, signal }), { signal });
    return { totals: page.total === null ? { ...totals } : { ...totals, all: page.total }, requests: 1 };
  } catch (error) {
    deps.log?.debug('poll: the number of all events could not be read; scanning per key', { error });
    return { totals: { ...totals }, requests: 1 };
  }
}

export interface RouteDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly digestThreshold: number;
  readonly isCritical: (event: HaloEvent) => boolean;
  readonly severityOf?: SeverityOf;
  /** Whether a key's severity is only guessed (see type-ratings.ts); absent: none is. */
  readonly isAssumed?: (key: string) => boolean;
  readonly log: Logger;
  readonly threads?: boolean;
  readonly onRouted: () => void;
}

/**
 * Turns staged events into outbox rows: one alert per event and channel, or one digest for a burst. Muted
 * events are counted against their mute and unstaged with the rest: they are recorded, never posted.
 */
export async function routeStaged(deps: RouteDeps, routes: readonly Route[]): Promise<number> {
  const { store, clock } = deps;
  // Already redacted: events are staged only through recordPage and the backfill, which redact them first.
  const staged = inScanOrder(await store.staged());
  if (staged.length === 0) return 0;
  const mutes = await store.activeMutes(clock.now());
  const { byChannel, held } = withoutMuted(
    routeEvents(routes, staged, deps.severityOf),
    mutes,
    deps.isCritical,
  );
  const items = outboxItemsFor(byChannel, deps.digestThreshold, {
    ...(deps.severityOf === undefined ? {} : { severityOf: deps.severityOf }),
    ...(deps.threads === true ? { isOpen: await openThreads(store, clock) } : {}),
  });
  // Counted first: a crash between the two loses a count, never an alert.
  if (held.size > 0) await store.countMuted(held);
  if (deps.isAssumed !== undefined) {
    const severityOf = deps.severityOf ?? defaultSeverityOf;
    const guessed = heldOnAssumedSeverity(routes, staged, severityOf, deps.isAssumed);
    await countAssumedHeld(store, guessed, severityOf, deps.log);
  }
  await store.route(
    items,
    staged.map((event) => event.eventId),
    clock.now(),
  );
  if (items.length > 0) deps.onRouted();
  return items.length;
}

/** Whether a scan thread, not too old to gather replies, is open for a target in a channel. */
async function openThreads(
  store: Store,
  clock: Clock,
): Promise<(channel: string, targetId: number) => boolean> {
  const now = clock.now();
  const open = new Set(
    (await store.openThreads())
      .filter((thread) => now - thread.openedAt <= THREAD_MAX_AGE_MS)
      .map((thread) => `${thread.channel} ${thread.targetId}`),
  );
  return (channel, targetId) => open.has(`${channel} ${targetId}`);
}

/** A refused write is not a scan failure to report or retry: it ends what this replica was doing. */
export function throwIfFenced(failures: readonly unknown[]): void {
  const fenced = failures.find((failure) => failure instanceof FencedError);
  if (fenced !== undefined) throw fenced;
}
