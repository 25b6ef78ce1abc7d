/**
 * The composition root's Slack half: the command service and the other use cases the listeners drive, and the
 * Bolt app on its ingress (HTTP or Socket Mode). Wiring only.
 */
import type { webApi } from '@slack/bolt';
import { buildTenancy, type AccountPipeline } from './app-tenants.ts';
import { authorizeOf, type Installs } from './app-installs.ts';
import type { Clock } from './clock.ts';
import type { HaloAccount } from './commands/accounts.ts';
import { LinkPreviews } from './commands/link-preview.ts';
import {
  installedWorkspace,
  type RequestWorkspace,
  type TenantAccount,
  type TenantWorkspace,
} from './commands/workspace-accounts.ts';
import { WorkflowSteps } from './commands/workflow.ts';
import type { Config } from './config.ts';
import type { Pipeline } from './app-pipeline.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { AccountBounds, HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import type { Route } from './pipeline/routes.ts';
import type { Store } from './pipeline/store-port.ts';
import type { AccountHealth } from './pipeline/fleet-health.ts';
import { workspaceStatus } from './pipeline/workspace-status.ts';
import { ENV_ACCOUNT, ENV_WORKSPACE, type Scope, type TenantStore } from './pipeline/tenancy-port.ts';
import type { AccountLineView } from './slack/blocks/accounts-message.ts';
import { homeChannels, type HomeData } from './slack/blocks/home-view.ts';
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
  /** The accounts registry and scoped views; null: none (only the env account, and no `/halo connect`). */
  readonly registry?: TenantStore | null;
  /** HALO_ENCRYPTION_KEYS is set: `/halo connect` may save keys. */
  readonly canStoreKeys?: boolean;
  /** A connected account's pipeline, once the fleet runs one (see app-tenants.ts). */
  readonly pipelineFor?: (scope: Scope) => AccountPipeline | null;
  /** Which workspace a request is; default: the single shape's. */
  readonly workspaceOf?: (request: RequestWorkspace) => string | null;
  /** Each account's bound on Halo requests in flight, which its polls take too; default: `haloRequests`. */
  readonly bounds?: Pick<AccountBounds, 'of' | 'forget'>;
}

/** Builds the use cases and the Bolt app; the ingress it returns is started and stopped by the root. */
export function buildSlackApp(parts: SlackParts): Ingress {
  const { config, store, halo, haloRequests, slack, identity, redact, defaultRoute, clock, log } = parts;
  const { display, views } = parts.pipeline;
  const envRule = createPermissionCheck({
    adminUsers: config.slack.adminUsers,
    client: slack,
    clock,
    log,
    ...(identity.team === undefined ? {} : { team: identity.team }),
  });
  // Each installed workspace's admins, asked with its own token (auth.test tells the check which team is its).
  const rules = new Map<string, (userId: string) => Promise<boolean>>();
  const canManageIn = async (workspace: string, userId: string): Promise<boolean> => {
    if (workspace === ENV_WORKSPACE) return envRule(userId);
    let rule = rules.get(workspace);
    if (rule === undefined) {
      const client = await parts.installs.clients.clientFor(workspace);
      if (client === null) return false;
      rule = createPermissionCheck({ adminUsers: config.slack.adminUsers, client, clock, log });
      rules.set(workspace, rule);
    }
    return rule(userId);
  };
  const { tenants, admin } = buildTenancy({
    config,
    store,
    halo,
    pipeline: parts.pipeline,
    registry: parts.registry ?? null,
    canStoreKeys: parts.canStoreKeys ?? false,
    ...(parts.pipelineFor === undefined ? {} : { pipelineFor: parts.pipelineFor }),
    ...(parts.bounds === undefined ? {} : { bounds: parts.bounds }),
    // Distributed: Bolt's authorize found the installation; its key is the enterprise's for an org-wide one.
    workspaceOf: parts.workspaceOf ?? (config.shape === 'distributed' ? installedWorkspace : undefined),
    haloRequests,
    metrics: parts.metrics,
    identity,
    canManageIn,
    commandOptions: {
      clock,
      log,
      haloRequests,
      listingCacheMs: config.delays.listingCacheMs,
      botUserId: identity.botUserId,
      redact,
      limits: config.limits,
      timeZone: config.halo.timeZone,
    },
    // Tagged like an outbox post, with a key no outbox row has: delivery never looks for it. Through the
    // workspace's own token (the env workspace's: the commands' client, with its retries).
    postTestFor: (workspace) => (channel, requestedBy, dateCreated) =>
      (workspace === ENV_WORKSPACE ? createSlackChat(slack) : parts.installs.clients.chatFor(workspace)).post(
        channel,
        renderTestAlert(sampleEvent(dateCreated), requestedBy),
        { dedupKey: 'halo-test' },
      ),
    defaultRoute,
    clock,
    log,
  });
  // A workspace installed again or removed: services built with its old state go.
  parts.installs.onChange((workspace) => {
    tenants.forgetWorkspace(workspace);
    rules.delete(workspace);
  });
  // Link previews and workflow steps ask which accounts the request's workspace holds, by name.
  const accountOf = async (workspace: RequestWorkspace): Promise<HaloAccount[]> =>
    ((await tenants.workspace(workspace)?.accounts()) ?? []).map((a) => ({
      ...a,
      id: a.account.id,
      name: a.account.name,
    }));
  // The workspace's health: its accounts' statuses as one (the env account's is the env pipeline's; a connected
  // one's, its pipeline's once the fleet runs one); none running yet: the env pipeline's (no poll yet).
  const homeStatus = async (accounts: readonly TenantAccount[]) => {
    const running = accounts.flatMap((a) => {
      const own = a.account.id === ENV_ACCOUNT ? views : parts.pipelineFor?.(a.scope)?.views;
      return own === undefined ? [] : [own];
    });
    const merged = workspaceStatus(await Promise.all(running.map((own) => own.status())));
    return merged ?? (await views.status());
  };
  const way = createIngress(config, { log, socketTimings: parts.socketTimings });
  const authorize = authorizeOf(parts.installs);
  createBoltApp({
    config,
    receiver: way.receiver,
    ...(authorize === undefined ? {} : { authorize }),
    removed: parts.installs.removed,
    identity,
    log,
    tenants,
    admin,
    defaultApiUrl: config.halo.apiUrl,
    previews: new LinkPreviews({ accountOf, clock, redact, log }),
    workflow: new WorkflowSteps({
      accountOf,
      canManage: (userId, workspace) =>
        tenants.workspace(workspace)?.canManage(userId) ?? Promise.resolve(false),
      deleteEnabled: config.workflowDelete,
      timeZone: config.halo.timeZone,
      redact,
      log,
    }),
    display,
    commandAcked: (seconds) => parts.metrics.commandAcked(seconds),
    // The workspace's subscriptions and mutes over all its accounts (each named when there are several); its
    // health over all its accounts' pipelines, and each connected account's own from the fleet's book.
    home: async (workspace: TenantWorkspace, userId: string): Promise<HomeData> => {
      const accounts = await workspace.accounts();
      const named = <T extends object>(account: TenantAccount, rows: readonly T[]) =>
        accounts.length > 1 ? rows.map((row) => ({ ...row, accountName: account.account.name })) : rows;
      const [isAdmin, status, subscriptions, mutes, audit, health] = await Promise.all([
        workspace.canManage(userId),
        homeStatus(accounts),
        Promise.all(accounts.map(async (a) => named(a, await a.store.subscriptions()))).then((all) =>
          all.flat(),
        ),
        Promise.all(accounts.map(async (a) => named(a, await a.store.activeMutes(clock.now())))).then((all) =>
          all.flat(),
        ),
        Promise.all(accounts.map((a) => a.store.recentAudit(20))).then((all) =>
          all
            .flat()
            .sort((a, b) => b.at - a.at)
            .slice(0, 20),
        ),
        parts.pipeline.accountHealth(workspace.key),
      ]);
      return {
        isAdmin,
        health: { ...status, connection: way.describe() },
        accounts: homeAccounts(accounts, health),
        channels: homeChannels(subscriptions, mutes, defaultRoute),
        audit,
      };
    },
  });
  return way;
}

/**
 * The App Home's accounts: each of the workspace's accounts with the fleet's record of its polls, when it has a
 * connected one (the single shape's env account alone is the health section). Only the key's last 4 characters.
 */
function homeAccounts(
  accounts: readonly TenantAccount[],
  health: readonly AccountHealth[],
): AccountLineView[] {
  if (!accounts.some((a) => a.account.id !== ENV_ACCOUNT)) return [];
  return accounts.map(({ account }) => {
    const polled = health.find((h) => h.scope.account === account.id);
    const { name, keyHint } = account;
    return polled === undefined
      ? {
          name,
          keyHint,
          status: account.status,
          lastPollAt: account.lastPollAt,
          lastError: account.lastError,
        }
      : { name, keyHint, status: polled.status, lastPollAt: polled.lastPollAt, lastError: polled.lastError };
  });
}
