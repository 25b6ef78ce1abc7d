/**
 * The composition root: opens the store, builds the clients, and wires the pipeline (app-pipeline.ts) and the
 * Slack app (app-slack.ts) to them, then starts and stops them in order. Nothing here holds state or decides
 * anything. `main.ts` calls it with the parsed configuration; tests call it the same way.
 */
import { accountBounds, envAccount, haloFor as haloClients, listAccounts } from './app-accounts.ts';
import { buildInstalls } from './app-installs.ts';
import { buildPipeline, type Pipeline } from './app-pipeline.ts';
import { buildSlackApp } from './app-slack.ts';
import { systemClock, type Clock } from './clock.ts';
import { warnUnknownAlertKeys } from './commands/checks.ts';
import { databasePassword, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { healthBody } from './pipeline/health.ts';
import { leaseTtl } from './pipeline/sharing.ts';
import type { Route } from './pipeline/routes.ts';
import { createRedactor } from './redact.ts';
import { withIngressHealth } from './slack/ingress.ts';
import { HTTP_LIMITS, serveHttp, type HttpLimits } from './slack/server.ts';
import { SOCKET_TIMINGS, type SocketTimings } from './slack/socket.ts';
import { createWebClient, identify, type BotIdentity } from './slack/web-client.ts';
import { startupFields } from './startup-summary.ts';
import { openStore } from './store/open.ts';
import { ENV_SCOPE, type TenantStore } from './pipeline/tenancy-port.ts';

export interface RunningBot {
  readonly port: number;
  /** The port `/metrics` is served on apart (METRICS_PORT or METRICS_HOST); null: on `port`. */
  readonly metricsPort: number | null;
  readonly log: Logger;
  /**
   * The registry and scoped views of this process's store: what an in-process caller (a test, an admin tool)
   * connects or removes accounts through, as `/halo connect` does. The fleet sees the change within an interval.
   */
  readonly tenants: TenantStore;
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
    config.slack.oauth?.clientSecret ?? '',
    config.slack.oauth?.stateSecret ?? '',
    config.database.kind === 'postgres' ? databasePassword(config.database.url) : '',
    ...config.encryptionKeys.map((key) => Buffer.from(key).toString('base64')),
  ];
  const log = options.log ?? createLogger({ level: config.logLevel, format: config.logFormat, secrets });
  // Error text shown in Slack gets the same redaction as the logs (each source also redacts its own).
  const redact = createRedactor(secrets);

  // Replicas renew their heartbeat, and rebalance the accounts, this often: at most a second, so that a
  // hand-over or a new replica's share comes within two poll intervals.
  const heartbeatMs = Math.min(1000, Math.max(50, Math.round(config.halo.pollIntervalMs / 2)));
  const leaseTtlMs = leaseTtl(heartbeatMs);
  const { tenants, leases, pace } = await openStore(config.database, {
    log,
    replicaId: config.replicaId,
    leaseTtlMs,
    encryptionKeys: config.encryptionKeys,
  });
  // The single-workspace shape: every row is the env scope's (see pipeline/tenancy-port.ts).
  const store = tenants.scoped(ENV_SCOPE);
  // What a start that fails half-way has set going, undone in reverse: a listening server or a poll loop left
  // running would keep the process alive, hanging instead of exiting with the error.
  const undo: (() => Promise<void> | void)[] = [];
  try {
    const slack = createWebClient(config, log, 2);
    // The distributed shape has no env token to check: each installation's was checked when it was made.
    const identity: BotIdentity =
      config.shape === 'single' ? await identify(slack, log) : { botId: 'B_UNKNOWN', botUserId: 'U_UNKNOWN' };
    // The pipeline is built below; the metrics read it at scrape time, and an uninstall when it comes, by which
    // point it exists.
    const late: { pipeline?: Pipeline } = {};
    const installs = buildInstalls({
      config,
      // Only the distributed shape keeps installations: the single shape's token is SLACK_BOT_TOKEN. An uninstall
      // stops the workspace's polling here first, so that nothing of it is written again after its purge.
      registry:
        config.shape === 'distributed'
          ? {
              saveInstallation: (record) => tenants.saveInstallation(record),
              installation: (workspace) => tenants.installation(workspace),
              purgeWorkspace: (workspace) =>
                late.pipeline === undefined
                  ? tenants.purgeWorkspace(workspace)
                  : late.pipeline.fleet.whileRetired(
                      (scope) => scope.workspace === workspace,
                      () => tenants.purgeWorkspace(workspace),
                    ),
            }
          : null,
      client: (token) => createWebClient(config, log, 0, token),
      clock,
      log,
    });
    const metrics = createMetrics(
      {
        pending: () => store.pendingCount(),
        isLeader: () => late.pipeline?.work.holding ?? false,
        sharing: () => late.pipeline?.work.counts() ?? { accountsHeld: 0, replicasSeen: 0 },
        lastSuccessAt: () => late.pipeline?.views.lastSuccessAt() ?? Promise.resolve(null),
      },
      clock,
    );
    // Each account's bound on Halo requests in flight, for its polls and commands together (scans queue their
    // pages on it; a poll's requests go first, see pipeline/halo-lane.ts), inside the process's total.
    const bounds = accountBounds(config);
    const haloFor = haloClients(config, { bounds, metrics, clock });
    const account = envAccount(config, config.halo.accountName);
    const { halo, haloRequests } = haloFor(account);
    const defaultRoute: Route | null =
      config.alerts.channel === null
        ? null
        : {
            channel: config.alerts.channel,
            keys: config.alerts.keys,
            targetIds: config.alerts.targetIds,
            minSeverity: config.alerts.minSeverity,
          };
    const built = buildPipeline({
      config,
      tenants,
      leases,
      pace,
      env: { account, halo, haloRequests, defaultRoute },
      // The distributed shape has no environment's account: only those connected from Slack are polled.
      accounts: listAccounts(tenants, config.shape === 'single' ? account : null),
      haloFor,
      posterFor: (workspace) => installs.posterFor(workspace),
      metrics,
      redact,
      heartbeatMs,
      leaseTtlMs,
      onLeaseMove: (move, count) => metrics.leaseMoved(move, count),
      clock,
      log,
    });
    late.pipeline = built;
    // A workspace installed again: what its deliveries held back for its token goes out now.
    installs.onChange((workspace) => built.fleet.resumeWorkspace(workspace));
    const { ratings, work, views } = built;
    const way = buildSlackApp({
      config,
      store,
      halo,
      haloRequests,
      slack,
      identity,
      installs,
      pipeline: built,
      metrics,
      redact,
      defaultRoute,
      socketTimings: options.socketTimings ?? SOCKET_TIMINGS,
      clock,
      log,
      registry: tenants,
      canStoreKeys: config.encryptionKeys.length > 0,
      // A connected account's commands use the pipeline the fleet runs for it (its status, its subscriptions' start),
      // and its bound on Halo requests (the one its polls take, whether or not this replica polls it).
      pipelineFor: (scope) => built.pipelineFor(scope),
      bounds,
    });

    // Socket Mode connects here; a rejected app token stops start-up like a rejected bot token.
    undo.push(() => way.stop());
    await way.start();
    const serving = await serveHttp({
      metrics,
      slack: way.httpHandler,
      installs: installs.oauth?.handle,
      log,
      limits: options.httpLimits ?? HTTP_LIMITS,
      health: async () =>
        withIngressHealth(
          healthBody(
            { ...(await views.health()), sharing: work.counts() },
            clock.now(),
            config.halo.pollIntervalMs,
          ),
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
    // Before the first poll, so that its guesses most likely read the catalogue's names too. The distributed shape
    // reads it with a connected account's client (see app-pipeline.ts): at once if one exists, else when the first
    // one is polled.
    ratings.start();
    undo.push(() => ratings.stop());
    // The distributed shape has no environment's key to check HALO_ALERT_KEYS with (nor HALO_ALERT_KEYS).
    await work.start();
    if (config.shape === 'single') void warnUnknownAlertKeys(halo, config.alerts.keys, log);
    undo.push(() => work.stop());
    log.info('halo-slack started', startupFields(config, { port, metricsPort, connection: way.describe() }));

    let stopping: Promise<void> | undefined;
    return {
      port,
      metricsPort,
      log,
      tenants,
      stop: () =>
        (stopping ??= (async () => {
          log.info('stopping: finishing posts in flight');
          serving.close();
          await way.stop();
          // Stops polling and posting (each poll in flight ends first), then releases every lease: the other
          // replicas take the accounts at their next heartbeat.
          await work.stop();
          ratings.stop();
          serving.closeAll();
          await tenants.close();
          log.info('stopped');
        })()),
    };
  } catch (error) {
    for (const step of undo.reverse()) await step();
    await tenants.close();
    throw error;
  }
}
