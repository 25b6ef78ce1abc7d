/**
 * The composition root's pipeline half: the type ratings, the poller, the leader's work (delivery, mute expiry,
 * summaries) and the status views, wired to the store, the Halo client and the Slack poster. Wiring only.
 */
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Display } from './domain/display.ts';
import type { HaloEvent } from './domain/event.ts';
import { MAX_PAGE_SIZE } from './halo/client.ts';
import { PageMemo } from './halo/page-memo.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { Delivery } from './pipeline/delivery.ts';
import type { HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import { LeaderWork } from './pipeline/leader-work.ts';
import type { LeaderElection } from './pipeline/leadership.ts';
import { MuteExpiry } from './pipeline/mute-expiry.ts';
import { Poller } from './pipeline/poller.ts';
import { ChannelRefusals } from './pipeline/refusals.ts';
import type { Route } from './pipeline/routes.ts';
import { StatusViews } from './pipeline/status-views.ts';
import type { Store } from './pipeline/store-port.ts';
import { SummaryScheduler } from './pipeline/summaries.ts';
import { TypeRatings } from './pipeline/type-ratings.ts';
import { memoryAfterLargePoll } from './runtime-memory.ts';
import type { SlackMessage } from './slack/blocks/index.ts';
import { renderEventAlert, renderOutboxItem } from './slack/blocks/outbox-message.ts';
import { createSlackChat, type ClientSource } from './slack/slack-chat.ts';

export interface PipelineParts {
  readonly config: Config;
  readonly store: Store;
  readonly election: LeaderElection;
  readonly halo: HaloClient;
  readonly haloRequests: HaloBound;
  /**
   * The Web API client posts go through (no retries of its own: delivery retries), or where to get the current
   * one (a workspace's changes when it is installed again).
   */
  readonly poster: ClientSource;
  readonly metrics: Metrics;
  readonly redact: (text: string) => string;
  readonly defaultRoute: Route | null;
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface Pipeline {
  readonly ratings: TypeRatings;
  readonly display: Display;
  readonly poller: Poller;
  readonly work: LeaderWork;
  readonly views: StatusViews;
}

export function buildPipeline(parts: PipelineParts): Pipeline {
  const { config, store, election, halo, metrics, redact, clock, log, heartbeatMs } = parts;
  const { delays } = config;
  // Halo's catalogue, read at start-up and daily: keys nothing rates are named and their severities guessed.
  const ratings = new TypeRatings({ halo, overrides: config.alerts.severity, log });
  const severityOf = ratings.severityOf;
  const display: Display = { severityOf, timeZone: config.halo.timeZone };
  const work = new LeaderWork({ election, heartbeatMs, drainMs: delays.drainMs, log });
  const refusals = new ChannelRefusals();
  const stillLeads = (): Promise<boolean> => election.stillLeads();
  const kick = (): void => work.kick();
  // Often enough that a mute's end or a summary goes out within a poll interval (at most a minute) of its time.
  const sweepMs = Math.min(config.halo.pollIntervalMs, 60_000);
  const poller = new Poller({
    pageMemo: () => new PageMemo(),
    afterPoll: memoryAfterLargePoll(log),
    metrics,
    halo,
    store,
    clock,
    log,
    intervalMs: config.halo.pollIntervalMs,
    failureBackoffMs: delays.pollBackoffMs,
    failureBackoffCapMs: delays.pollBackoffCapMs,
    maxRequestsPerPoll: config.halo.maxRequestsPerPoll,
    haloRequests: parts.haloRequests,
    pageSize: MAX_PAGE_SIZE,
    backfill: config.alerts.backfill,
    digestThreshold: config.alerts.digestThreshold,
    defaultRoute: parts.defaultRoute,
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
  work.attach({
    poller,
    newDelivery: () =>
      new Delivery<SlackMessage>({
        store,
        chat: refusals.watch(createSlackChat(parts.poster)),
        clock,
        log,
        render: (item) => renderOutboxItem(item, display),
        ...(config.alerts.threads
          ? {
              threads: {
                severityOf,
                renderParent: (payload: string, summary: string) =>
                  renderEventAlert(JSON.parse(payload) as HaloEvent, display, summary),
              },
            }
          : {}),
        metrics,
        stillLeads,
        gapMs: delays.slackGapMs,
        backoffMs: delays.slackBackoffMs,
        backoffCapMs: delays.slackBackoffCapMs,
        tickMs: delays.deliveryTickMs,
        digestThreshold: config.alerts.digestThreshold,
      }),
    newMuteExpiry: () => new MuteExpiry({ store, clock, log, intervalMs: sweepMs, onRouted: kick }),
    newSummaries: () =>
      new SummaryScheduler({
        store,
        clock,
        log,
        timeZone: config.halo.timeZone,
        severityOf,
        intervalMs: sweepMs,
        onRouted: kick,
      }),
  });
  const views = new StatusViews({
    store,
    poller,
    work,
    ratings,
    refusals,
    redact,
    pollIntervalMs: config.halo.pollIntervalMs,
  });
  return { ratings, display, poller, work, views };
}
