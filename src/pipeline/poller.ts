import type { ScanMemo } from './halo-port.ts';
import { HaloAuthError, HaloError } from './halo-errors.ts';
import { LAST_SUCCESS_SHARE_MS } from '../domain/last-success.ts';
import { FencedError, type Subscription } from './store-port.ts';
import { settleAbsences } from './gone-tracking.ts';
import { Newest } from './newest.ts';
import { connectedItem } from './notice-payloads.ts';
import { inPollLane } from './halo-lane.ts';
import { measureAll, routeStaged, scanScopes, throwIfFenced } from './poll-steps.ts';
import { scanPendingStarts, type StartScan } from './poll-starts.ts';
import { redactEvent } from './secrets.ts';
import { allRoutes, awaitLeaderStart, startKey, STARTED_STATE, type RouteStart } from './route-start.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';
import { PollState, sortedJson, STATE } from './poll-state.ts';
import { planScan, scopeId } from './routes.ts';
import {
  failureDelayMs,
  shownError,
  type PollerOptions,
  type PollReport,
  type PollStatus,
} from './poller-api.ts';

export { failureDelayMs, shownError, type PollerOptions, type PollReport, type PollStatus };

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
    const routes = allRoutes(subscriptions, this.options.defaultRoute);
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
      await settleAbsences(this.options, scan.conclusive, scan.listed, started);
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
   * Makes new subscriptions' scopes covered now rather than at the next poll (see poll-starts.ts), serialised with
   * the polls. When Halo fails, the start checks wait for the next successful poll, which sets the starting points.
   */
  startPending(): Promise<StartScan> {
    return this.exclusive(async () => {
      const result = await scanPendingStarts(this.options, this.state, this.pages, this.stopping.signal);
      // Not retried every heartbeat while Halo fails: the next successful poll sets the starting point.
      if (result.haloFailed) this.startsWaitForPoll = true;
      return result;
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
