/**
 * The composition root: builds the store, the clients, the pipeline and the Slack app, wires them, and nothing
 * more. `main.ts` calls it with the parsed configuration; tests call it the same way.
 */
import PQueue from 'p-queue';
import { systemClock, type Clock } from './clock.ts';
import { Acknowledger } from './commands/acknowledge.ts';
import { warnUnknownAlertKeys } from './commands/checks.ts';
import { EventDeleter } from './commands/delete.ts';
import { homeChannels } from './slack/home.ts';
import { CommandService } from './commands/service.ts';
import { databasePassword, type Config } from './config.ts';
import { boundedHaloClient } from './halo/bounded.ts';
import { createHaloClient, MAX_PAGE_SIZE } from './halo/client.ts';
import { PageMemo } from './halo/page-memo.ts';
import { createLogger, type Logger } from './log.ts';
import { severityTable } from './domain/severity.ts';
import type { Display } from './domain/display.ts';
import { Delivery } from './pipeline/delivery.ts';
import { healthBody, type HealthInput } from './pipeline/health.ts';
import { MuteExpiry } from './pipeline/mute-expiry.ts';
import { LeaderLoop } from './pipeline/leadership.ts';
import { Poller } from './pipeline/poller.ts';
import { createRedactor } from './redact.ts';
import { memoryAfterLargePoll } from './runtime-memory.ts';
import type { Route } from './pipeline/routes.ts';
import { renderTestAlert, sampleEvent, type SlackMessage } from './slack/blocks/index.ts';
import { createSlackChat } from './slack/chat.ts';
import { createWebClient, identify } from './slack/client.ts';
import { createPermissionCheck } from './slack/permissions.ts';
import { renderEventAlert, renderOutboxItem } from './slack/render-outbox.ts';
import type { HaloEvent } from './halo/types.ts';
import { createIngress, withIngressHealth } from './slack/ingress.ts';
import { createBoltApp } from './slack/bolt-app.ts';
import { createHttpServer, HTTP_LIMITS, listen, type HttpLimits } from './slack/server.ts';
import { SOCKET_TIMINGS, type SocketTimings } from './slack/socket.ts';
import { openStore } from './store/open.ts';
import { createMetrics } from './metrics.ts';

export interface RunningBot {
  readonly port: number;
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
        isLeader: () => leading,
        lastSuccessAt: async () => {
          if (!leading) await poller.refreshLastSuccess();
          return poller.getStatus().lastSuccessAt;
        },
      },
      clock,
    );
    // One bound on Halo requests in flight for polls and commands together (scans queue their pages on it).
    const haloRequests = new PQueue({ concurrency: config.halo.scanConcurrency });
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
    const severityOf = severityTable(config.alerts.severity);
    const display: Display = { severityOf, timeZone: config.halo.timeZone };

    // Only the leader posts. A new Delivery per term of leadership: a stopped one stays stopped.
    let leading = false;
    const stillLeads = (): Promise<boolean> => election.stillLeads();
    const newDelivery = (): Delivery<SlackMessage> =>
      new Delivery({
        store,
        chat: createSlackChat(createWebClient(config, log, 0)),
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
      });
    let delivery = newDelivery();
    const kick = (): void => {
      if (leading) delivery.kick();
    };
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
      threads: config.alerts.threads,
      onRouted: kick,
      stillLeads,
      startCheckMs: heartbeatMs,
    });
    const newMuteExpiry = (): MuteExpiry =>
      new MuteExpiry({
        store,
        clock,
        log,
        // Often enough that a mute's end is announced within a poll interval (at most a minute) of it.
        intervalMs: Math.min(config.halo.pollIntervalMs, 60_000),
        onRouted: kick,
      });
    let muteExpiry = newMuteExpiry();
    const leader = new LeaderLoop(
      election,
      {
        lead: async () => {
          delivery = newDelivery();
          muteExpiry = newMuteExpiry();
          leading = true;
          await poller.start();
          delivery.start();
          muteExpiry.start();
        },
        follow: async () => {
          leading = false;
          await poller.stop();
          await muteExpiry.stop();
          await delivery.stop(delays.drainMs);
        },
      },
      heartbeatMs,
      log,
    );

    const statusView = async () => {
      const [stats, failures, muted] = await Promise.all([
        store.stats(),
        store.recentFailures(5),
        store.mutedTotal(),
      ]);
      if (!leading) await poller.refreshLastSuccess();
      const poll = poller.getStatus();
      const lastError = poll.lastError === null ? null : redact(poll.lastError);
      return {
        ...poll,
        lastError,
        ...stats,
        muted,
        pollIntervalMs: config.halo.pollIntervalMs,
        recentFailures: failures,
        leadership: leader.view(),
      };
    };
    /** /healthz must answer when the database does not: that is when a monitor most needs it. */
    const healthView = async (): Promise<HealthInput> => {
      try {
        return await statusView();
      } catch {
        return {
          ...poller.getStatus(),
          pending: null,
          failed: null,
          seen: null,
          databaseReachable: false,
          leadership: leader.view(),
        };
      }
    };
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
      status: statusView,
      startSubscription: (subscription) => poller.startSubscription(subscription),
      // Tagged like an outbox post, with a key no outbox row has: delivery never looks for it.
      postTest: (channel, requestedBy, dateCreated) =>
        createSlackChat(slack).post(channel, renderTestAlert(sampleEvent(dateCreated), requestedBy), {
          dedupKey: 'halo-test',
        }),
      botUserId: identity.botUserId,
    });

    const way = createIngress(config, { log, socketTimings: options.socketTimings ?? SOCKET_TIMINGS });
    createBoltApp({
      config,
      receiver: way.receiver,
      identity,
      log,
      commands,
      acknowledger: new Acknowledger(store, clock, log),
      deleter: new EventDeleter(halo, store, clock, log, (eventId) => commands.eventDeleted(eventId)),
      canManage,
      display,
      commandAcked: (seconds) => metrics.commandAcked(seconds),
      home: async (userId) => {
        const [isAdmin, status, subscriptions, mutes, audit] = await Promise.all([
          canManage(userId),
          statusView(),
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

    const server = createHttpServer({
      metrics,
      slack: way.httpHandler,
      log,
      limits: options.httpLimits ?? HTTP_LIMITS,
      health: async () =>
        withIngressHealth(
          healthBody(await healthView(), clock.now(), config.halo.pollIntervalMs),
          way.health(),
        ),
    });
    // Socket Mode connects here; a rejected app token stops start-up like a rejected bot token.
    undo.push(() => way.stop());
    await way.start();
    const port = await listen(server, config.port, config.host);
    undo.push(() => {
      server.close();
      server.closeAllConnections();
    });
    await leader.start();
    void warnUnknownAlertKeys(halo, config.alerts.keys, log);
    undo.push(() => leader.stop());
    log.info('halo-slack started', {
      port,
      alertChannel: config.alerts.channel ?? 'none',
      pollIntervalSeconds: config.halo.pollIntervalMs / 1000,
    });

    let stopping: Promise<void> | undefined;
    return {
      port,
      log,
      stop: () =>
        (stopping ??= (async () => {
          log.info('stopping: finishing posts in flight');
          server.close();
          await way.stop();
          // Stops polling and posting, then releases the lead: a standby takes over within a heartbeat.
          await leader.stop();
          server.closeAllConnections();
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
