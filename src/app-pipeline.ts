/**
 * The composition root's pipeline half: one pipeline per Halo account (app-account-pipeline.ts), run by the
 * fleet for the accounts this replica holds a lease on (the sharing loop), the one due sweep that wakes their
 * deliveries, and the status views. Wiring only.
 */
import type { ClientSource } from './slack/slack-chat.ts';
import { buildAccountPipeline, type AccountPipeline, type SharedParts } from './app-account-pipeline.ts';
import type { AccountHalo, ListedAccount } from './app-accounts.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Display } from './domain/display.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { channelPacing, type ChannelPacing } from './pipeline/delivery.ts';
import { DueSweep } from './pipeline/due-sweep.ts';
import { Fleet } from './pipeline/fleet.ts';
import { HealthBook, type AccountHealth } from './pipeline/fleet-health.ts';
import type { FleetAccount } from './pipeline/fleet-plan.ts';
import type { HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import type { AccountLeases, SharedPace } from './pipeline/lease-port.ts';
import { Sharing, type LeaseMove } from './pipeline/sharing.ts';
import { SubscriptionWatch } from './pipeline/subscription-watch.ts';
import type { Poller } from './pipeline/poller.ts';
import { accountsCatalogue } from './pipeline/catalogue-source.ts';
import { ChannelRefusals } from './pipeline/refusals.ts';
import type { Route } from './pipeline/routes.ts';
import type { StatusViews } from './pipeline/status-views.ts';
import { ENV_SCOPE, type Scope, type TenantStore } from './pipeline/tenancy-port.ts';
import { Ticker } from './pipeline/ticker.ts';
import { TypeRatings } from './pipeline/type-ratings.ts';
import { memoryAfterPolls } from './runtime-memory.ts';

export interface PipelineParts {
  readonly config: Config;
  readonly tenants: TenantStore;
  readonly leases: AccountLeases;
  /** The channels' pace across replicas (PostgreSQL); null with SQLite. */
  readonly pace: SharedPace | null;
  /** The single shape's own account, with the client the commands share and HALO_ALERT_CHANNEL's route. */
  readonly env: {
    readonly account: FleetAccount;
    readonly halo: HaloClient;
    readonly haloRequests: HaloBound;
    readonly defaultRoute: Route | null;
  };
  /** Every account there is, asked every heartbeat (see app-accounts.ts); the fleet polls those held. */
  readonly accounts: () => Promise<ListedAccount[]>;
  /** A connected account's Halo client, bounded (see app-accounts.ts). */
  readonly haloFor: (account: FleetAccount) => AccountHalo;
  /** The Web API client posts of `workspace` go through (no retries of its own: delivery retries). */
  readonly posterFor: (workspace: string) => ClientSource;
  readonly metrics: Metrics;
  readonly redact: (text: string) => string;
  readonly heartbeatMs: number;
  /** How long a heartbeat lasts: past it unanswered, this replica stops polling what it held. */
  readonly leaseTtlMs: number;
  readonly onLeaseMove?: (move: LeaseMove, count: number) => void;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface Pipeline {
  readonly ratings: TypeRatings;
  /** How the environment's account's events are rendered (commands, previews). */
  readonly display: Display;
  /** The environment's account's poller (its subscriptions' starting points, its status). */
  readonly poller: Poller;
  /** Which accounts this replica polls: started and stopped with the bot. */
  readonly work: Sharing;
  readonly views: StatusViews;
  readonly fleet: Fleet<AccountPipeline>;
  /** The one timer every account's waits share: its size is the number of waits pending. */
  readonly ticker: Ticker;
  /**
   * The pipeline of an account the fleet runs (its poller, status views and ratings, its store and bounded Halo
   * client): what that account's commands use. Null while the fleet runs none for it (not listed yet, or this
   * replica has never led).
   */
  pipelineFor(scope: Scope): AccountPipeline | null;
  /** Every account's health (of one workspace, or all): for `/halo accounts` and the App Home. */
  accountHealth(workspace?: string): Promise<AccountHealth[]>;
}

export function buildPipeline(parts: PipelineParts): Pipeline {
  const { config, tenants, leases, env, clock, log, heartbeatMs } = parts;
  // Halo's catalogue of event types, read at start-up and daily: it is Halo's, the same for every account, so one
  // is read, not one per account. With the environment's key in the single shape; the distributed shape has none,
  // and reads it with an active connected account's client (the one its pipeline polls with, once it has one).
  const late: { fleet?: Fleet<AccountPipeline> } = {};
  const catalogue =
    config.shape === 'single'
      ? env.halo
      : accountsCatalogue({
          accounts: parts.accounts,
          clientOf: (account) => late.fleet?.pipelineOf(account.scope)?.halo ?? parts.haloFor(account).halo,
        });
  const ratings = new TypeRatings({ halo: catalogue, overrides: config.alerts.severity, log });
  const ticker = new Ticker();
  // One read of the whole outbox a tick for the process, not one per account: see pipeline/due-sweep.ts.
  const sweep = new DueSweep({
    dueScopes: (now) => tenants.dueScopes(now),
    wake: (scope) => late.fleet?.pipelineOf(scope)?.kick(),
    leadsAny: () => (late.fleet?.accounts().length ?? 0) > 0,
    intervalMs: config.delays.deliveryTickMs,
    clock,
    log,
    timers: ticker,
  });
  // One look per heartbeat at every account's subscriptions, for the pollers of those this replica polls.
  const watch = new SubscriptionWatch({
    marks: tenants,
    targets: () =>
      (late.fleet?.accounts() ?? []).flatMap((account) => {
        const poller = late.fleet?.pipelineOf(account.scope)?.poller;
        return poller === undefined
          ? []
          : [{ scope: account.scope, subscriptionsChanged: () => poller.subscriptionsChanged() }];
      }),
    log,
  });
  let unwatch: (() => void) | undefined;
  const work: Sharing = new Sharing({
    leases,
    accounts: parts.accounts,
    fleet: {
      lead: async () => {
        await late.fleet!.lead();
        sweep.start();
        unwatch ??= ticker.every(heartbeatMs, () => void watch.tick());
      },
      follow: async () => {
        unwatch?.();
        unwatch = undefined;
        watch.reset();
        await sweep.stop();
        await late.fleet!.follow();
      },
      reconcile: () => late.fleet!.reconcile(),
    },
    heartbeatMs,
    leaseTtlMs: parts.leaseTtlMs,
    ...(parts.onLeaseMove === undefined ? {} : { onMove: parts.onLeaseMove }),
    log,
  });
  const refusals = new ChannelRefusals();
  const health = new HealthBook(tenants, log);
  const shared: SharedParts = {
    config,
    metrics: parts.metrics,
    redact: parts.redact,
    ratings,
    refusals,
    health,
    ticker,
    leases,
    sharing: work,
    pace: parts.pace,
    heartbeatMs,
    clock,
    log,
    afterPoll: memoryAfterPolls(log),
  };
  // One pace per channel of a workspace, shared by its accounts; never between workspaces.
  const pacings = new Map<string, ChannelPacing>();
  const pacingOf = (workspace: string): ChannelPacing => {
    let pacing = pacings.get(workspace);
    if (pacing === undefined) pacings.set(workspace, (pacing = channelPacing()));
    return pacing;
  };
  const label = (account: FleetAccount) => (): string | undefined =>
    late.fleet?.severalIn(account.scope.workspace) === true ? account.name : undefined;
  const build = (account: FleetAccount, halo: AccountHalo, isEnv: boolean): AccountPipeline =>
    buildAccountPipeline(shared, {
      account,
      store: tenants.scoped(account.scope),
      ...halo,
      poster: parts.posterFor(account.scope.workspace),
      pacing: pacingOf(account.scope.workspace),
      defaultRoute: isEnv ? env.defaultRoute : null,
      fix: isEnv ? 'env' : 'connect',
      label: label(account),
    });
  // Built now, not when first led: the commands use its poller and store from the start, on every replica.
  const envPipeline = build(env.account, env, true);
  const isEnvScope = (account: FleetAccount): boolean =>
    account.scope.workspace === ENV_SCOPE.workspace && account.scope.account === ENV_SCOPE.account;
  const fleet = new Fleet<AccountPipeline>({
    // "Which accounts do I poll": those this replica holds a lease on.
    accounts: () => work.held(),
    build: (account) => {
      if (isEnvScope(account)) return envPipeline;
      // The distributed shape's first account (or the first since start-up) reads the catalogue at once.
      if (config.shape === 'distributed') ratings.readIfUnread();
      return build(account, parts.haloFor(account), false);
    },
    intervalMs: config.halo.pollIntervalMs,
    log,
    timers: ticker,
  });
  late.fleet = fleet;
  const views = envPipeline.views;
  return {
    ratings,
    display: envPipeline.display(),
    poller: envPipeline.poller,
    work,
    views,
    fleet,
    ticker,
    pipelineFor: (scope) => fleet.pipelineOf(scope) ?? null,
    accountHealth: async (workspace) => {
      const listed = await parts.accounts();
      return health.view(
        workspace === undefined ? listed : listed.filter((account) => account.scope.workspace === workspace),
      );
    },
  };
}
