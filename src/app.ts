/**
 * The composition root: builds the store, the clients, the pipeline and the Slack app, wires them, and nothing
 * more. `main.ts` calls it with the parsed configuration; tests call it the same way.
 */
import { systemClock, type Clock } from './clock.ts';
import { Acknowledger } from './commands/acknowledge.ts';
import { warnUnknownAlertKeys } from './commands/checks.ts';
import { singleAccount } from './commands/accounts.ts';
import { EventDeleter } from './commands/delete.ts';
import { LinkPreviews } from './commands/link-preview.ts';
import { WorkflowSteps } from './commands/workflow.ts';
import { homeChannels } from './slack/blocks/home-view.ts';
import { CommandService } from './commands/service.ts';
import { databasePassword, type Config } from './config.ts';
import { boundedHaloClient } from './halo/bounded.ts';
import { createHaloClient, MAX_PAGE_SIZE } from './halo/client.ts';
import { PageMemo } from './halo/page-memo.ts';
import { createLogger, type Logger } from './log.ts';
import type { Display } from './domain/display.ts';
import { Delivery } from './pipeline/delivery.ts';
import { healthBody } from './pipeline/health.ts';
import { LeaderWork } from './pipeline/leader-work.ts';
import { StatusViews } from './pipeline/status-views.ts';
import { ChannelRefusals } from './pipeline/refusals.ts';
import { TypeRatings } from './pipeline/type-ratings.ts';
import { MuteExpiry } from './pipeline/mute-expiry.ts';
import { SummaryScheduler } from './pipeline/summaries.ts';
import { Poller } from './pipeline/poller.ts';
import { HaloBound } from './pipeline/halo-lane.ts';
import { createRedactor } from './redact.ts';
import { memoryAfterLargePoll } from './runtime-memory.ts';
import type { Route } from './pipeline/routes.ts';
import { renderTestAlert, sampleEvent, type SlackMessage } from './slack/blocks/index.ts';
import { createSlackChat } from './slack/slack-chat.ts';
import { createWebClient, identify } from './slack/web-client.ts';
import { createPermissionCheck } from './slack/permissions.ts';
import { renderEventAlert, renderOutboxItem } from './slack/blocks/outbox-message.ts';
import type { HaloEvent } from './domain/event.ts';
import { createIngress, withIngressHealth } from './slack/ingress.ts';
import { createBoltApp } from './slack/bolt-app.ts';
import { SubscribeDialog } from './commands/subscribe-dialog.ts';
import { HTTP_LIMITS, serveHttp, type HttpLimits } from './slack/server.ts';
import { SOCKET_TIMINGS, type SocketTimings } from './slack/socket.ts';
import { openStore } from './store/open.ts';
import { createMetrics } from './metrics.ts';
import { startupFields } from './startup-summary.ts';

export interface RunningBot {
  readonly port: number;
  /** The port `/metrics` is served on apart (METRICS_PORT or METRICS_HOST); null: on `port`. */
  readonly metricsPort: number | null;
  readonly log: Logger;
  /** Stops polling, lets posts in flight finish (bounded), closes the server and the store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Inbound connection limits; tests use short ones. */
  readonly httpLimits?: HttpLimits;
  /** Socket Mode's ping and reconnect timings; tests use short ones. */
  readonly socketTimings?: SocketTimings;
}

export async function startBot(config: Config, options: StartOptions = {}): Promise<RunningBot> {
  const clock = options.clock ?? systemClock;
  const secrets = [
    config.slack.botToken,
    config.slack.signingSecret,
    config.halo.apiKey,
    config.slack.appToken ?? '',
    config.database.kind === 'postgres' ? databasePassword(config.database.url) : '',
  ];
  const log = options.log ?? createLogger({ level: config.logLevel, format: config.logFormat, secrets });
  // Error text shown in Slack gets the same redaction as the logs (each source also redacts its own).
  const redact = createRedactor(secrets);

  const { delays } = config;
  // A standby looks for a free lead this often; at most a second, so that a failover or hand-over is quick.
  const heartbeatMs = Math.min(1000, Math.max(50, Math.round(config.halo.pollIntervalMs / 2)));
  const { store, election } = await openStore(config.database, {
    log,
    replicaId: config.replicaId,
    heartbeatMs,
  });
  // What a start that fails half-way has set going, undone in reverse: a listening server or a poll loop left
  // running would keep the process alive, hanging instead of exiting with the error.
  const undo: (() => Promise<void> | void)[] = [];
  try {
    const slack = createWebClient(config, log, 2);
    const identity = await identify(slack, log);
    // Its sources are read at scrape time, by which point everything they name exists.
    const metrics = createMetrics(
      {
        pending: () => store.pendingCount(),
        isLeader: () => work.leading,
        lastSuccessAt: async () => {
          await work.refreshFollower();
          return poller.getStatus().lastSuccessAt;
        },
      },
      clock,
    );
    // One bound on Halo requests in flight for polls and commands together (scans queue their pages on it);
    // a poll's requests go first (see pipeline/halo-lane.ts).
    const haloRequests = new HaloBound({ concurrency: config.halo.scanConcurrency });
    const halo = boundedHaloClient(
      createHaloClient({
        onRequest: (outcome) => metrics.haloRequest(outcome),
        apiUrl: config.halo.apiUrl,
        apiKey: config.halo.apiKey,
        timeoutMs: config.halo.timeoutMs,
        backoffMs: delays.haloBackoffMs,
        ...(config.halo.bareTransport ? { bareTransport: true } : {}),
        clock,
      }),
      haloRequests,
    );
    const defaultRoute: Route | null =
      config.alerts.channel === null
        ? null
        : {
            channel: config.alerts.channel,
            keys: config.alerts.keys,
            targetIds: config.alerts.targetIds,
            minSeverity: config.alerts.minSeverity,
          };
    // Halo's catalogue, read at start-up and daily: keys nothing rates are named and their severities guessed.
    const ratings = new TypeRatings({ halo, overrides: config.alerts.severity, log });
    const severityOf = ratings.severityOf;
    const display: Display = { severityOf, timeZone: config.halo.timeZone };

    const work = new LeaderWork({ election, heartbeatMs, drainMs: delays.drainMs, log });
    const refusals = new ChannelRefusals();
    const stillLeads = (): Promise<boolean> => election.stillLeads();
    const kick = (): void => work.kick();
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
      scanConcurrency: config.halo.scanConcurrency,
      maxRequestsPerPoll: config.halo.maxRequestsPerPoll,
      haloRequests,
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
    work.attach({
      poller,
      newDelivery: () =>
        new Delivery<SlackMessage>({
          store,
          chat: refusals.watch(createSlackChat(createWebClient(config, log, 0))),
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
      newMuteExpiry: () =>
        new MuteExpiry({
          store,
          clock,
          log,
          // Often enough that a mute's end is announced within a poll interval (at most a minute) of it.
          intervalMs: Math.min(config.halo.pollIntervalMs, 60_000),
          onRouted: kick,
        }),
      newSummaries: () =>
        new SummaryScheduler({
          store,
          clock,
          log,
          timeZone: config.halo.timeZone,
          severityOf,
          // A summary goes out within a poll interval (at most a minute) of its time.
          intervalMs: Math.min(config.halo.pollIntervalMs, 60_000),
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
    const canManage = createPermissionCheck({
      adminUsers: config.slack.adminUsers,
      client: slack,
      clock,
      log,
      ...(identity.team === undefined ? {} : { team: identity.team }),
    });
    const commands = new CommandService({
      halo,
      store,
      clock,
      log,
      defaultRoute,
      scanConcurrency: config.halo.scanConcurrency,
      haloRequests,
      listingCacheMs: delays.listingCacheMs,
      canManage,
      status: () => views.status(),
      startSubscription: (subscription) => poller.startSubscription(subscription),
      // Tagged like an outbox post, with a key no outbox row has: delivery never looks for it.
      postTest: (channel, requestedBy, dateCreated) =>
        createSlackChat(slack).post(channel, renderTestAlert(sampleEvent(dateCreated), requestedBy), {
          dedupKey: 'halo-test',
        }),
      botUserId: identity.botUserId,
      ratings,
      redact,
      limits: config.limits,
      timeZone: config.halo.timeZone,
    });

    const deleter = new EventDeleter(halo, store, clock, log, (eventId) => commands.eventDeleted(eventId));
    // The one place that says which Halo account serves a workspace: the tenancy work replaces it.
    const accountOf = singleAccount(identity.team, halo);
    const acknowledger = new Acknowledger(store, clock, log);
    const way = createIngress(config, { log, socketTimings: options.socketTimings ?? SOCKET_TIMINGS });
    createBoltApp({
      config,
      receiver: way.receiver,
      identity,
      log,
      commands,
      acknowledger,
      deleter,
      previews: new LinkPreviews({ accountOf, store, clock, log }),
      workflow: new WorkflowSteps({
        accountOf,
        deleterFor: () => deleter,
        canManage,
        deleteEnabled: config.workflowDelete,
        haloRequests,
        timeZone: config.halo.timeZone,
        redact,
        log,
      }),
      canManage,
      display,
      dialog: new SubscribeDialog({
        halo,
        store,
        clock,
        log,
        haloRequests,
        severityOf: ratings.severityOf,
        run: (command, context) => commands.run(command, context),
      }),
      commandAcked: (seconds) => metrics.commandAcked(seconds),
      home: async (userId) => {
        const [isAdmin, status, subscriptions, mutes, audit] = await Promise.all([
          canManage(userId),
          views.status(),
          store.subscriptions(),
          store.activeMutes(clock.now()),
          store.recentAudit(20),
        ]);
        return {
          isAdmin,
          health: { ...status, connection: way.describe() },
          channels: homeChannels(subscriptions, mutes, defaultRoute),
          audit,
        };
      },
    });

    // Socket Mode connects here; a rejected app token stops start-up like a rejected bot token.
    undo.push(() => way.stop());
    await way.start();
    const serving = await serveHttp({
      metrics,
      slack: way.httpHandler,
      log,
      limits: options.httpLimits ?? HTTP_LIMITS,
      health: async () =>
        withIngressHealth(
          healthBody(await views.health(), clock.now(), config.halo.pollIntervalMs),
          way.health(),
        ),
      at: { port: config.port, host: config.host },
      // With METRICS_PORT, /metrics leaves the public port for a server of its own.
      metricsAt: config.metrics,
    });
    const { port, metricsPort } = serving;
    undo.push(() => {
      serving.close();
      serving.closeAll();
    });
    // Before the first poll, so that its guesses most likely read the catalogue's names too.
    ratings.start();
    undo.push(() => ratings.stop());
    await work.start();
    void warnUnknownAlertKeys(halo, config.alerts.keys, log);
    undo.push(() => work.stop());
    log.info('halo-slack started', startupFields(config, { port, metricsPort, connection: way.describe() }));

    let stopping: Promise<void> | undefined;
    return {
      port,
      metricsPort,
      log,
      stop: () =>
        (stopping ??= (async () => {
          log.info('stopping: finishing posts in flight');
          serving.close();
          await way.stop();
          // Stops polling and posting, then releases the lead: a standby takes over within a heartbeat.
          await work.stop();
          ratings.stop();
          serving.closeAll();
          await store.close();
          log.info('stopped');
        })()),
    };
  } catch (error) {
    for (const step of undo.reverse()) await step();
    await store.close();
    throw error;
  }
}
