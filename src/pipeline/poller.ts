import type PQueue from 'p-queue';
import type { Clock } from '../clock.ts';
import type { HaloClient, ScanMemo } from './halo-port.ts';
import { HaloApiError, HaloAuthError, HaloError, HaloHttpError } from './halo-errors.ts';
import type { HaloEvent } from '../domain/event.ts';
import { backoffMs, PRODUCTION_DELAYS } from '../delays.ts';
import { LAST_SUCCESS_SHARE_MS } from '../domain/last-success.ts';
import type { SeverityOf } from '../domain/severity.ts';
import type { Logger } from '../log.ts';
import { FencedError, type Store, type Subscription } from './store-port.ts';
import { coverageOf, markEventsGone, MISSES_TO_GONE } from './gone-tracking.ts';
import { Newest } from './newest.ts';
import { connectedItem } from './notice-payloads.ts';
import { inPollLane } from './halo-lane.ts';
import { measureAll, routeStaged, scanScopes, type ScopeCutShort } from './poll-steps.ts';
import { redactEvent, type Redact } from './secrets.ts';
import { awaitLeaderStart, routeOf, startKey, STARTED_STATE, type RouteStart } from './route-start.ts';
import type { PipelineMetrics } from './telemetry.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';
import { PollState, sortedJson, STATE } from './poll-state.ts';
import { planScan, scopeId, type Route, type Scope } from './routes.ts';

export interface PollerOptions {
  readonly halo: HaloClient;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs: number;
  /** Wait after the first failed poll, doubling per failure up to the cap (see `failureDelayMs`). */
  readonly failureBackoffMs?: number;
  readonly failureBackoffCapMs?: number;
  /** HALO_MAX_REQUESTS_PER_POLL: list requests one poll may make; a scan past it is cut short. */
  readonly maxRequestsPerPoll?: number;
  /**
   * The one bound on Halo requests in flight, shared with commands (HALO_SCAN_CONCURRENCY). Required: a poll that
   * made its own would double the requests Halo sees while a command runs.
   */
  readonly haloRequests: PQueue;
  readonly pageSize: number;
  /** On the very first poll, how many existing events to post anyway. */
  readonly backfill: number;
  /** More new events than this for one channel in one poll become one digest. */
  readonly digestThreshold: number;
  /** The channel from HALO_ALERT_CHANNEL with its filters, if set. */
  readonly defaultRoute: Route | null;
  /** Critical events are held back only by a mute that names their exact key. */
  readonly isCritical: (event: HaloEvent) => boolean;
  /** Each event's severity (the built-in table with HALO_SEVERITY on top): routes may ask for a minimum. */
  readonly severityOf?: SeverityOf;
  /** Whether a key's severity is only guessed: a minimum severity holding such an event back counts it. */
  readonly isAssumed?: (key: string) => boolean;
  /** HALO_THREADS: a scan's events go into its thread, where they do not count towards a digest. */
  readonly threads?: boolean;
  /** Called when new rows are in the outbox. */
  readonly onRouted: () => void;
  /** Replaces known secrets in events' texts before they reach the outbox (see secrets.ts). */
  readonly redact?: Redact;
  /** Asked before each poll: a replica that cannot prove it leads does not poll. Absent: always leads. */
  readonly stillLeads?: () => Promise<boolean>;
  /**
   * While polling, how often a start check that is due (see {@link Poller.subscriptionsChanged}) runs or is
   * retried (the leadership heartbeat). Nothing is read unless one is due. Absent: only at each poll.
   */
  readonly startCheckMs?: number;
  readonly metrics?: PipelineMetrics;
  /**
   * Makes the memo of list pages already read (built by the composition root: the memo is the Halo client's
   * business). Absent: every page is read every poll.
   */
  readonly pageMemo?: () => ScanMemo;
  /**
   * Told the number of events after each successful poll of the loop: the composition root's runtime tuning
   * (a forced collection after a large poll, see src/runtime-memory.ts) lives at the edge, not here.
   */
  readonly afterPoll?: (events: number) => void;
  /**
   * Told each poll's outcome (null: it succeeded) before the loop waits for the next: an account's health is
   * recorded here (see fleet-health.ts). Its failure is logged, never the poll's.
   */
  readonly onOutcome?: (error: unknown) => Promise<void>;
  /**
   * After Halo refused the key (401/403), the wait before the next poll instead of the doubling backoff: a person
   * must give a new key, and asking every 30 s would only fill Halo's logs. Absent: the usual backoff.
   */
  readonly authRetryMs?: number;
  /**
   * How long after start the first poll waits: the fleet spreads its accounts' polls over the interval (see
   * fleet-plan.ts `pollOffsetMs`), so that a thousand accounts do not all poll, and hold their pages, at once.
   * Absent: at once.
   */
  readonly firstPollAfterMs?: number;
  /** Its waits between polls and start checks: on a Ticker shared by every account (see ticker.ts). Default: Node's. */
  readonly timers?: Timers;
}

export interface PollStatus {
  readonly lastSuccessAt: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastPoll: PollReport | null;
}

export interface PollReport {
  readonly scopes: number;
  readonly requests: number;
  readonly events: number;
  readonly invalid: number;
  readonly staged: number;
  readonly routed: number;
  readonly baseline: boolean;
  readonly ms: number;
  /** The scans that stopped before their end (see `ScanResult.cutShort`); empty when every one finished. */
  readonly cutShort: readonly ScopeCutShort[];
}

/**
 * Backoff after failed polls: doubling from 1 s, capped so that polling resumes within 30 s of Halo recovering
 * (production delays; tests shorten both).
 */
export function failureDelayMs(
  consecutiveFailures: number,
  first = PRODUCTION_DELAYS.pollBackoffMs,
  cap = PRODUCTION_DELAYS.pollBackoffCapMs,
): number {
  return backoffMs(consecutiveFailures, first, cap);
}

/** A refused write is not a scan failure to report or retry: it ends what this replica was doing. */
function throwIfFenced(failures: readonly unknown[]): void {
  const fenced = failures.find((failure) => failure instanceof FencedError);
  if (fenced !== undefined) throw fenced;
}

/** The total of all events drifts: measured again after this many polls that scanned per key. */
const REMEASURE_POLLS = 10;

/** How often the last success is shared when nothing else is written (see poll-state.ts). */
export { LAST_SUCCESS_SHARE_MS };

/** Delivered outbox rows older than a week are deleted, looked for at most this often (not at every poll). */
const PRUNE_EVERY_MS = 3600_000;
const KEEP_DELIVERED_MS = 7 * 24 * 3600 * 1000;

/**
 * The poll loop. Halo cannot list "events since", so each poll scans what the routes need and compares it with
 * the store. An unseen event is news only when the previous successful poll's scans would have fetched it;
 * otherwise (first start, a scope a new subscription just added) it is a baseline and recorded silently.
 */
export class Poller {
  /** Replaced after each stop: a replica that stops leading may lead again later. */
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private startLoop: Promise<void> | undefined;
  /** A start failed on Halo: the loop leaves the pending ones to the next successful poll. */
  private startsWaitForPoll = false;
  private status: PollStatus = {
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    lastPoll: null,
  };
  private lastLoggedError = { message: '', at: 0 };
  /** List pages already read and recorded, which a later poll need not read again if Halo sends them unchanged. */
  private pages: ScanMemo | undefined;
  /** The alerted events watched at the start of the last poll: one alerted since drops the page memo. */
  private watchedBefore: ReadonlySet<string> | null = null;
  /** Polls since the total of all events was last measured (see `measureAll`). */
  private pollsSinceMeasure = 0;
  /** Serialises polls and {@link startRoute}: never two scans at once. */
  private lock: Promise<unknown> = Promise.resolve();
  /** The poll's state in the store, kept in memory while this replica polls the account. */
  private readonly state: PollState;
  private prunedAt = -Infinity;
  /** A start check is due: a subscription may lack its starting point (see {@link subscriptionsChanged}). */
  private startsDue = true;

  private readonly timers: Timers;

  constructor(private readonly options: PollerOptions) {
    this.pages = options.pageMemo?.();
    this.timers = options.timers ?? OWN_TIMERS;
    this.state = new PollState(options.store, options.log);
  }

  async start(): Promise<void> {
    this.state.reset();
    this.startsDue = true;
    await this.refreshLastSuccess();
    this.loop = this.run();
    if (this.options.startCheckMs !== undefined) this.startLoop = this.runStarts(this.options.startCheckMs);
  }

  getStatus(): PollStatus {
    return this.status;
  }

  /** Reads the last success any replica recorded: a standby reports the leader's polls, not its own. */
  async refreshLastSuccess(): Promise<void> {
    const last = await this.options.store.getState(STATE.lastSuccess);
    if (last !== null) this.status = { ...this.status, lastSuccessAt: Number(last) };
  }

  private async run(): Promise<void> {
    const { clock, intervalMs } = this.options;
    const signal = this.stopping.signal;
    if (this.options.firstPollAfterMs !== undefined)
      await this.timers.sleep(this.options.firstPollAfterMs, signal);
    while (!signal.aborted) {
      const started = clock.now();
      if (this.options.stillLeads !== undefined && !(await this.options.stillLeads())) {
        // Not proven to lead: no side effect. The leader loop stops this poller within a heartbeat.
        await this.timers.sleep(intervalMs, signal);
        continue;
      }
      let outcome: unknown = null;
      try {
        const report = await this.exclusive(() => inPollLane(() => this.pollOnce(signal)));
        this.options.metrics?.pollFinished('ok', report.ms / 1000, report.events);
        this.options.afterPoll?.(report.events);
      } catch (error) {
        outcome = error;
        if (this.isStopping()) return;
        if (error instanceof FencedError) {
          // Not Halo's failure: the check before the next poll fails too, so nothing more is written or posted.
          this.options.log.error('poll: another replica holds this account now; this one stops polling it', {
            error: error.message,
          });
          await this.timers.sleep(intervalMs, signal);
          continue;
        }
        this.options.metrics?.pollFinished('error', (clock.now() - started) / 1000, 0);
        this.recordFailure(error);
      }
      await this.options
        .onOutcome?.(outcome)
        .catch((error: unknown) =>
          this.options.log.error('poll: its outcome could not be recorded', { error }),
        );
      const failures = this.status.consecutiveFailures;
      const { authRetryMs } = this.options;
      // Start to start, so that an event waits at most one interval plus the scan itself.
      const delay =
        outcome instanceof HaloAuthError && authRetryMs !== undefined
          ? authRetryMs
          : failures > 0
            ? this.failureDelay(failures)
            : Math.max(0, intervalMs - (clock.now() - started));
      await this.timers.sleep(delay, signal);
    }
  }

  /** One poll: scan, stage what is new, route staged events to channels. Throws what made the scan fail. */
  async pollOnce(signal: AbortSignal = this.stopping.signal): Promise<PollReport> {
    const { store, clock, log } = this.options;
    const started = clock.now();
    const subscriptions = await store.subscriptions();
    const routes = this.routes(subscriptions);
    // null: no poll has ever completed, so everything found now is the baseline.
    const { lastPlan, totals: known } = await this.state.lastPlan();
    const measure = await measureAll(
      this.options,
      routes,
      known,
      this.pollsSinceMeasure >= REMEASURE_POLLS,
      signal,
    );
    const { totals } = measure;
    this.pollsSinceMeasure = measure.requests > 0 ? 0 : this.pollsSinceMeasure + 1;
    const plan = planScan(routes, totals, this.options.pageSize);
    // A full scan measures `all` itself.
    if (plan.some((scope) => scopeId(scope) === 'all')) this.pollsSinceMeasure = 0;
    const backfill =
      lastPlan === null && this.options.backfill > 0 ? new Newest(this.options.backfill) : null;

    // The alerted events still thought to exist: a scan's pages are checked against these, nothing else is kept.
    const watched = await this.watchedNow(started);
    const scan = await scanScopes(this.options, plan, {
      memo: this.pages,
      routes,
      lastPlan,
      backfill,
      signal,
      watched,
    });
    const { requests, events, invalid, staged, failures } = scan;
    throwIfFenced(failures);
    const baseline = lastPlan === null && failures.length === 0;
    // Queued before the backfill is staged, so that the channel reads "connected" first and then the events.
    if (baseline && this.options.defaultRoute !== null) {
      const newest = backfill?.events().length ?? 0;
      // The store's count, not the scans' sum: overlapping scopes list some events twice.
      const recorded = (await store.stats()).seen;
      await store.route([connectedItem(this.options.defaultRoute, recorded, newest)], [], clock.now());
      this.options.onRouted();
    }
    // Whatever was found is routed even if a scope failed: those events are real and already recorded as seen.
    if (backfill !== null && failures.length === 0) {
      const { redact } = this.options;
      const newest = backfill.events();
      await store.stage(redact === undefined ? newest : newest.map((event) => redactEvent(event, redact)));
    }
    const routed = await routeStaged(this.options, routes);
    // Likewise, a scope whose scan was conclusive proves absences even if another scope failed. Nothing watched
    // at the start: nothing this poll could count (alerts posted since are too new for it).
    if (!signal.aborted && watched.ids.size > 0)
      await this.settleAbsences(scan.conclusive, scan.listed, started);
    if (failures.length > 0) throw failures[0];

    const now = clock.now();
    await this.state.afterSuccess(
      {
        [STATE.plan]: JSON.stringify(plan),
        [STATE.totals]: sortedJson({ ...totals, ...scan.totals }),
        // Every subscription this plan covered has its starting point from now on.
        [STARTED_STATE]: JSON.stringify(subscriptions.map(startKey)),
      },
      now,
      this.status.consecutiveFailures > 0,
    );
    const report: PollReport = {
      scopes: plan.length,
      requests: requests + measure.requests,
      events,
      invalid,
      staged,
      routed,
      baseline: lastPlan === null,
      ms: now - started,
      cutShort: scan.cutShort,
    };
    if (this.status.consecutiveFailures > 0)
      log.info('poll: Halo is answering again', { after: this.status.lastError });
    this.status = { ...this.status, lastSuccessAt: now, consecutiveFailures: 0, lastPoll: report };
    this.startsWaitForPoll = false;
    const level = routed > 0 || invalid > 0 || report.baseline ? 'info' : 'debug';
    const { cutShort, ...counts } = report;
    log[level](report.baseline ? 'poll: baseline recorded' : 'poll: done', counts);
    for (const cut of cutShort)
      log.warn(
        'poll: a scan was cut short; events past the cut were not read, and it marks no alerted event gone',
        { ...cut },
      );
    if (invalid > 0) log.warn('poll: Halo sent malformed events; they were skipped', { invalid });
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await store.prune(now - KEEP_DELIVERED_MS);
    }
    return report;
  }

  /**
   * The alerted events still thought to exist, as of a poll beginning at `at`. A remembered page (see
   * `scanScopes`) comes back without its IDs, so it must show none of these: pages that do are never remembered,
   * and when an event was alerted since the last poll (its page may have been remembered before), the memo is
   * dropped.
   */
  private async watchedNow(at: number): Promise<{ at: number; ids: ReadonlySet<string> }> {
    const ids = new Set(await this.options.store.watchedEventIds());
    const before = this.watchedBefore;
    if (before === null || [...ids].some((id) => !before.has(id))) this.pages = this.options.pageMemo?.();
    this.watchedBefore = ids;
    return { at, ids };
  }

  /**
   * Counts a miss for each alerted event that a conclusive scan covered without listing it, and updates the
   * messages of those that missed {@link MISSES_TO_GONE} in a row. Costs no Halo request: the scans were made
   * anyway. An alerted event that no scan covers (its route was removed) is never counted, so never marked.
   */
  private async settleAbsences(
    conclusive: readonly Scope[],
    listed: readonly string[],
    startedAt: number,
  ): Promise<void> {
    const { store, clock, log } = this.options;
    const gone = await store.countMisses(coverageOf(conclusive), startedAt, MISSES_TO_GONE, listed);
    if (gone.length === 0) return;
    const messages = await markEventsGone(store, gone, clock.now());
    log.info('poll: alerted events no longer in Halo; their messages will say so', {
      events: gone.length,
      messages,
    });
    if (messages > 0) this.options.onRouted();
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Sets the starting point of `sub`, made on this replica: at once when this replica polls (serialised with its
   * polls), otherwise by waiting for the leader to do it (see route-start.ts).
   */
  async startSubscription(sub: Subscription): Promise<RouteStart> {
    const { store, clock } = this.options;
    if (this.loop === undefined) return awaitLeaderStart(store, sub, clock, this.stopping.signal);
    const { started, haloFailed } = await this.startPending();
    if (started.has(startKey(sub))) return 'started';
    // Not failed, not started: this replica has just stopped leading. The new leader sets it.
    return haloFailed ? 'haloFailed' : awaitLeaderStart(store, sub, clock, this.stopping.signal);
  }

  /**
   * Makes new subscriptions' scopes covered now rather than at the next poll, whose first look at them would be a
   * silent baseline: an event created between "Subscribed" and that poll would never be posted. Scans the scopes
   * the plan does not cover yet, staging what is news for the existing routes and recording the rest as seen.
   * When Halo fails, they stay without a starting point and the next successful poll sets it. Returns the start
   * keys of the subscriptions that have one, whether Halo failed, and `notLeading` when some were left pending
   * because this replica could not prove it holds the account.
   */
  startPending(): Promise<{ started: ReadonlySet<string>; haloFailed: boolean; notLeading?: true }> {
    return this.exclusive(async () => {
      const { store, log } = this.options;
      const [subscriptions, started] = await Promise.all([store.subscriptions(), this.state.started()]);
      const pending = subscriptions.filter((sub) => !started.has(startKey(sub)));
      if (pending.length === 0) return { started, haloFailed: false };
      if (this.options.stillLeads !== undefined && !(await this.options.stillLeads()))
        return { started, haloFailed: false, notLeading: true };
      const all = new Set(subscriptions.map(startKey));
      const { lastPlan, totals } = await this.state.lastPlan();
      // Before the first completed poll everything is baseline anyway.
      const added =
        lastPlan === null
          ? []
          : planScan(pending.map(routeOf), totals, this.options.pageSize).filter(
              (scope) =>
                !lastPlan.some((known) => scopeId(known) === 'all' || scopeId(known) === scopeId(scope)),
            );
      if (lastPlan === null || added.length === 0) {
        await this.state.write({ [STARTED_STATE]: JSON.stringify([...all]) });
        return { started: all, haloFailed: false };
      }
      const routes = this.routes(subscriptions);
      const scan = await scanScopes(this.options, added, {
        memo: this.pages,
        routes,
        lastPlan,
        backfill: null,
        signal: this.stopping.signal,
        watched: null,
      });
      throwIfFenced(scan.failures);
      await routeStaged(this.options, routes);
      if (scan.failures.length > 0) {
        // Not retried every heartbeat while Halo fails: the next successful poll sets the starting point.
        this.startsWaitForPoll = true;
        log.warn('subscription: Halo could not be scanned now; the next poll sets its starting point', {
          error: scan.failures[0] instanceof Error ? scan.failures[0].message : String(scan.failures[0]),
        });
        return { started, haloFailed: true };
      }
      await this.state.write({
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
    });
  }

  /**
   * The account's subscriptions changed (told by the fleet's one look at every account's subscriptions per
   * heartbeat, see subscription-watch.ts): one made on another replica may need its starting point. Checked now
   * while this replica polls, and retried every heartbeat until it succeeds; nothing is read while none is due.
   */
  subscriptionsChanged(): void {
    this.startsDue = true;
    if (this.loop !== undefined) void this.checkStarts();
  }

  private async checkStarts(): Promise<void> {
    if (!this.startsDue || this.startsWaitForPoll || this.isStopping()) return;
    this.startsDue = false;
    try {
      // Not proven to lead right now (the lease check failed, or the account is being handed over): again at the
      // next heartbeat, until this poller stops.
      if ((await inPollLane(() => this.startPending())).notLeading === true) this.startsDue = true;
    } catch (error) {
      if (this.isStopping() || error instanceof FencedError) return;
      this.startsDue = true;
      this.options.log.warn('subscription: its starting point could not be set; retrying', { error });
    }
  }

  /** Between polls, runs the start check when one is due (see {@link subscriptionsChanged}). */
  private async runStarts(everyMs: number): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.timers.sleep(everyMs, signal);
      if (this.isStopping()) return;
      await this.checkStarts();
    }
  }

  private routes(subscriptions: readonly Subscription[]): Route[] {
    const routes: Route[] = subscriptions.map(routeOf);
    if (this.options.defaultRoute !== null) routes.unshift(this.options.defaultRoute);
    return routes;
  }

  private failureDelay(failures: number): number {
    return failureDelayMs(failures, this.options.failureBackoffMs, this.options.failureBackoffCapMs);
  }

  private recordFailure(error: unknown): void {
    const { log, clock } = this.options;
    const message = error instanceof Error ? error.message : String(error);
    const now = clock.now();
    this.status = {
      ...this.status,
      lastError: shownError(error),
      lastErrorAt: now,
      consecutiveFailures: this.status.consecutiveFailures + 1,
    };
    // The same failure every few seconds would bury everything else: repeat it at most every 5 minutes.
    if (message === this.lastLoggedError.message && now - this.lastLoggedError.at < 300_000) {
      log.debug('poll failed again', { error: message, failures: this.status.consecutiveFailures });
      return;
    }
    this.lastLoggedError = { message, at: now };
    const fields = {
      failures: this.status.consecutiveFailures,
      retryInMs: this.failureDelay(this.status.consecutiveFailures),
    };
    if (error instanceof HaloAuthError) log.error(message, fields);
    else if (error instanceof HaloError) log.warn(`poll failed: ${message}`, fields);
    else log.error('poll failed unexpectedly', { ...fields, error });
  }

  /** A method, not `signal.aborted` inline: the flag changes across awaits, which narrowing cannot see. */
  private isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Ends the loop: aborts a scan in progress (its pages already recorded stay recorded) and waits for it. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.loop, this.startLoop]);
    // Not after failed polls: the database may be what failed, and a stop must not wait for it to time out.
    if (this.loop !== undefined && this.status.consecutiveFailures === 0)
      await this.exclusive(() => this.state.shareOnStop(this.status.lastSuccessAt));
    this.loop = undefined;
    this.state.reset();
    this.startLoop = undefined;
    // Ready to start again; meanwhile `startSubscription` waits for the leader.
    this.stopping = new AbortController();
  }
}

/**
 * A failed poll as `/halo status` and the App Home show it: never text Halo wrote (its error message, a
 * redirect's address), which may quote the API key in forms no redaction knows; the log keeps that, redacted.
 */
export function shownError(error: unknown): string {
  if (error instanceof HaloApiError)
    return `Halo ${error.endpoint} refused the request (error code ${error.code}, HTTP ${error.status}); Halo’s message is in the bot’s log`;
  if (error instanceof HaloHttpError && error.redirectedTo !== undefined)
    return `Halo ${error.endpoint} answered HTTP ${error.status}, a redirect the bot does not follow; set HALO_API_URL to the address in the bot’s log`;
  if (error instanceof HaloError) return error.message;
  return 'The poll failed on the bot’s side; the details are in its log';
}
