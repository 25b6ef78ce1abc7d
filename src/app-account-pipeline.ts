/**
 * One Halo account's pipeline, as the fleet runs it: its poller, delivery, mute expiry and summaries on the
 * account's scoped store view, its Halo client and its workspace's Slack poster, all waiting on the process's one
 * Ticker. Wiring only: what each piece does is in src/pipeline/.
 */
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Display } from './domain/display.ts';
import type { HaloEvent } from './domain/event.ts';
import { MAX_PAGE_SIZE } from './halo/client.ts';
import { PageMemo } from './halo/page-memo.ts';
import { withFields, type Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { AccountWork, type LedWork } from './pipeline/account-work.ts';
import { Delivery, type ChannelPacing } from './pipeline/delivery.ts';
import { AccountHealthRecorder, type HealthBook } from './pipeline/fleet-health.ts';
import { pollOffsetMs, type FleetAccount } from './pipeline/fleet-plan.ts';
import type { HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import { MuteExpiry } from './pipeline/mute-expiry.ts';
import { Poller } from './pipeline/poller.ts';
import type { AccountLeases, SharedPace } from './pipeline/lease-port.ts';
import type { Sharing } from './pipeline/sharing.ts';
import type { ChannelRefusals } from './pipeline/refusals.ts';
import { StatusViews } from './pipeline/status-views.ts';
import type { Route } from './pipeline/routes.ts';
import type { Store } from './pipeline/store-port.ts';
import { SummaryScheduler } from './pipeline/summaries.ts';
import type { Ticker } from './pipeline/ticker.ts';
import type { TypeRatings } from './pipeline/type-ratings.ts';
import type { SlackMessage } from './slack/blocks/index.ts';
import { renderEventAlert, renderOutboxItem } from './slack/blocks/outbox-message.ts';
import { createSlackChat, type ClientSource } from './slack/slack-chat.ts';

/** What every account's pipeline shares: the process's settings, services and its one Ticker. */
export interface SharedParts {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly redact: (text: string) => string;
  readonly ratings: TypeRatings;
  readonly refusals: ChannelRefusals;
  readonly health: HealthBook;
  readonly ticker: Ticker;
  /** Whether this replica still holds an account's lease: asked before each poll and each post. */
  readonly leases: Pick<AccountLeases, 'holds'>;
  /** Who holds each account: each account's status says which replica polls it. */
  readonly sharing: Pick<Sharing, 'viewOf'>;
  /** The channels' pace across replicas (PostgreSQL); null: one process posts everything. */
  readonly pace: SharedPace | null;
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** The process's memory policy after polls (runtime-memory.ts), told every account's polls: one for all. */
  readonly afterPoll: (events: number) => void;
}

/** What is one account's own. */
export interface AccountParts {
  readonly account: FleetAccount;
  readonly store: Store;
  readonly halo: HaloClient;
  readonly haloRequests: HaloBound;
  /** The Web API client of the account's workspace (no retries of its own: delivery retries). */
  readonly poster: ClientSource;
  /** Shared by the deliveries of the workspace's accounts: one pace per channel. */
  readonly pacing: ChannelPacing;
  /** HALO_ALERT_CHANNEL's route, for the environment's account; null for a connected one. */
  readonly defaultRoute: Route | null;
  /** How a refused key is replaced: `/halo connect`, or HALO_API_KEY for the environment's account. */
  readonly fix: 'connect' | 'env';
  /** The account's name when its workspace has several (alerts and digests then name it), else undefined. */
  readonly label: () => string | undefined;
}

/** One account's pipeline; leading and following it switches its AccountWork (see pipeline/fleet.ts). */
export interface AccountPipeline extends LedWork {
  readonly account: FleetAccount;
  readonly store: Store;
  readonly halo: HaloClient;
  readonly haloRequests: HaloBound;
  readonly poller: Poller;
  readonly work: AccountWork;
  /** The catalogue's severities (shared by every account: the catalogue is Halo's). */
  readonly ratings: TypeRatings;
  /** The account's `/halo status`: its store, its polls. */
  readonly views: StatusViews;
  /** How the account's messages are rendered now (its name shown when its workspace has several). */
  display(): Display;
}

export function buildAccountPipeline(shared: SharedParts, own: AccountParts): AccountPipeline {
  const { config, metrics, redact, ratings, ticker, clock, log, heartbeatMs } = shared;
  const { account, store, halo, defaultRoute } = own;
  // Every poll and post of the account first proves that this replica still holds its lease.
  const stillLeads = (): Promise<boolean> => shared.leases.holds(account.scope);
  const pace = shared.pace;
  const workspace = account.scope.workspace;
  const { delays } = config;
  // The environment's account logs as before; a connected one's lines say whose they are.
  const accountLog =
    own.fix === 'env' ? log : withFields(log, { workspace: account.scope.workspace, account: account.name });
  const severityOf = ratings.severityOf;
  const display = (): Display => {
    const label = own.label();
    // The account's ID rides on its alerts' buttons, so that they act in this account only.
    const base = { severityOf, timeZone: config.halo.timeZone, account: account.scope.account };
    return label === undefined ? base : { ...base, accountName: label };
  };
  // Made below: the poller and the sweeps kick the work's delivery when they route.
  const late: { work?: AccountWork } = {};
  const kick = (): void => late.work?.kick();
  const recorder = new AccountHealthRecorder({
    account,
    book: shared.health,
    store,
    defaultRoute,
    fix: own.fix,
    clock,
    log: accountLog,
    onRouted: kick,
  });
  // Often enough that a mute's end or a summary goes out within a poll interval (at most a minute) of its time.
  const sweepMs = Math.min(config.halo.pollIntervalMs, 60_000);
  const poller = new Poller({
    pageMemo: () => new PageMemo(),
    afterPoll: shared.afterPoll,
    onOutcome: (error) => recorder.record(error),
    authRetryMs: delays.needsKeyPollMs,
    // The environment's account polls at once, as it always has; connected ones take their turn in the interval.
    ...(own.fix === 'env'
      ? {}
      : { firstPollAfterMs: pollOffsetMs(account.scope, config.halo.pollIntervalMs) }),
    timers: ticker,
    metrics,
    halo,
    store,
    clock,
    log: accountLog,
    intervalMs: config.halo.pollIntervalMs,
    failureBackoffMs: delays.pollBackoffMs,
    failureBackoffCapMs: delays.pollBackoffCapMs,
    maxRequestsPerPoll: config.halo.maxRequestsPerPoll,
    haloRequests: own.haloRequests,
    pageSize: MAX_PAGE_SIZE,
    backfill: config.alerts.backfill,
    digestThreshold: config.alerts.digestThreshold,
    defaultRoute,
    // Only a mute naming a critical event's key holds it back.
    isCritical: (event) => severityOf(event.key) === 'critical',
    severityOf,
    isAssumed: (key) => ratings.isAssumed(key),
    threads: config.alerts.threads,
    onRouted: kick,
    redact,
    stillLeads,
    startCheckMs: heartbeatMs,
  });
  const work = new AccountWork(
    {
      poller,
      newDelivery: () =>
        new Delivery<SlackMessage>({
          store,
          chat: shared.refusals.watch(createSlackChat(own.poster)),
          clock,
          log: accountLog,
          render: (item) => renderOutboxItem(item, display()),
          ...(config.alerts.threads
            ? {
                threads: {
                  severityOf,
                  renderParent: (payload: string, summary: string) =>
                    renderEventAlert(JSON.parse(payload) as HaloEvent, display(), summary),
                },
              }
            : {}),
          metrics,
          stillLeads,
          pacing: own.pacing,
          ...(pace === null
            ? {}
            : {
                sharedPace: {
                  take: (channel: string, gapMs: number) => pace.take(workspace, channel, gapMs),
                  hold: (channel: string, ms: number) => pace.hold(workspace, channel, ms),
                },
              }),
          timers: ticker,
          gapMs: delays.slackGapMs,
          backoffMs: delays.slackBackoffMs,
          backoffCapMs: delays.slackBackoffCapMs,
          // No tick of its own: rows nothing kicked are found by the process's one due sweep (app-pipeline.ts).
          tickMs: null,
          digestThreshold: config.alerts.digestThreshold,
        }),
      newMuteExpiry: () =>
        new MuteExpiry({
          store,
          clock,
          log: accountLog,
          intervalMs: sweepMs,
          onRouted: kick,
          timers: ticker,
        }),
      newSummaries: () =>
        new SummaryScheduler({
          store,
          clock,
          log: accountLog,
          timeZone: config.halo.timeZone,
          severityOf,
          intervalMs: sweepMs,
          onRouted: kick,
          timers: ticker,
        }),
    },
    delays.drainMs,
  );
  late.work = work;
  const views = new StatusViews({
    store,
    poller,
    work: {
      view: () => shared.sharing.viewOf(account.scope),
      // A replica that does not hold the account reports its holder's last poll, read from the store.
      refreshFollower: async () => {
        if (shared.sharing.viewOf(account.scope).role !== 'leader') await poller.refreshLastSuccess();
      },
    },
    ratings,
    refusals: shared.refusals,
    redact,
    pollIntervalMs: config.halo.pollIntervalMs,
  });
  return {
    account,
    store,
    halo,
    haloRequests: own.haloRequests,
    poller,
    work,
    ratings,
    views,
    display,
    lead: () => work.lead(),
    follow: () => work.follow(),
    kick: () => work.kick(),
    resume: () => work.resume(),
    refreshLastSuccess: () => work.refreshLastSuccess(),
  };
}
