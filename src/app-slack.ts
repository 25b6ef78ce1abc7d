/**
 * The composition root's Slack half: the command service and the other use cases the listeners drive, and the
 * Bolt app on its ingress (HTTP or Socket Mode). Wiring only.
 */
import type { webApi } from '@slack/bolt';
import { authorizeOf, type Installs } from './app-installs.ts';
import type { Clock } from './clock.ts';
import { singleAccount } from './commands/accounts.ts';
import { Acknowledger } from './commands/acknowledge.ts';
import { EventDeleter } from './commands/delete.ts';
import { LinkPreviews } from './commands/link-preview.ts';
import { CommandService } from './commands/service.ts';
import { SubscribeDialog } from './commands/subscribe-dialog.ts';
import { WorkflowSteps } from './commands/workflow.ts';
import type { Config } from './config.ts';
import type { Pipeline } from './app-pipeline.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import type { Route } from './pipeline/routes.ts';
import type { Store } from './pipeline/store-port.ts';
import { homeChannels } from './slack/blocks/home-view.ts';
import { renderTestAlert, sampleEvent } from './slack/blocks/index.ts';
import { createBoltApp } from './slack/bolt-app.ts';
import { createIngress, type Ingress } from './slack/ingress.ts';
import { createPermissionCheck } from './slack/permissions.ts';
import { createSlackChat } from './slack/slack-chat.ts';
import type { SocketTimings } from './slack/socket.ts';
import type { BotIdentity } from './slack/web-client.ts';

export interface SlackParts {
  readonly config: Config;
  readonly store: Store;
  readonly halo: HaloClient;
  readonly haloRequests: HaloBound;
  /** The Web API client the commands use (with retries). */
  readonly slack: webApi.WebClient;
  readonly identity: BotIdentity;
  /** Where each workspace's token comes from, and the distributed shape's OAuth. */
  readonly installs: Installs;
  readonly pipeline: Pipeline;
  readonly metrics: Metrics;
  readonly redact: (text: string) => string;
  readonly defaultRoute: Route | null;
  readonly socketTimings: SocketTimings;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Builds the use cases and the Bolt app; the ingress it returns is started and stopped by the root. */
export function buildSlackApp(parts: SlackParts): Ingress {
  const { config, store, halo, haloRequests, slack, identity, redact, defaultRoute, clock, log } = parts;
  const { ratings, display, poller, views } = parts.pipeline;
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
    haloRequests,
    listingCacheMs: config.delays.listingCacheMs,
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
  const way = createIngress(config, { log, socketTimings: parts.socketTimings });
  const authorize = authorizeOf(parts.installs);
  createBoltApp({
    config,
    receiver: way.receiver,
    ...(authorize === undefined ? {} : { authorize }),
    removed: parts.installs.removed,
    identity,
    log,
    commands,
    acknowledger: new Acknowledger(store, clock, log),
    deleter,
    previews: new LinkPreviews({ accountOf, store, clock, redact, log }),
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
    commandAcked: (seconds) => parts.metrics.commandAcked(seconds),
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
  return way;
}
