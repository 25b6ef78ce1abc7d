/**
 * The composition root's installations: where each workspace's bot token comes from, per shape. Single: the env
 * token is the one workspace's (`ENV_WORKSPACE`). Distributed: Bolt's OAuth flow stores installations in the
 * registry, `authorize` reads them back for every request, and an uninstall purges the workspace. Wiring only.
 */
import type { Authorize, webApi } from '@slack/bolt';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { ENV_WORKSPACE } from './pipeline/tenancy-port.ts';
import {
  createInstallationStore,
  removeWorkspace,
  type InstallationRegistry,
} from './slack/installation-store.ts';
import type { OnRemoved } from './slack/listeners/lifecycle.ts';
import { createSlackInstalls, type SlackInstalls } from './slack/oauth.ts';
import type { ClientSource } from './slack/slack-chat.ts';
import { WorkspaceClients } from './slack/workspace-clients.ts';

export interface Installs {
  /** Each workspace's Web API client (delivery's: no retries of its own), forgotten when its token changes. */
  readonly clients: WorkspaceClients;
  /** What a workspace's pipeline posts through (`PipelineParts.poster`): its current client, looked up per call. */
  posterFor(workspace: string): ClientSource;
  /** Distributed shape: the install routes and Bolt's `authorize`. */
  readonly oauth: SlackInstalls | null;
  /** `app_uninstalled` and `tokens_revoked`. */
  readonly removed: OnRemoved;
  /** Called with a workspace whenever its token changes (installed again, removed): its delivery may resume. */
  onChange(listener: (workspace: string) => void): void;
}

export interface InstallsParts {
  readonly config: Config;
  /** The registry of installations; required in the distributed shape. */
  readonly registry: InstallationRegistry | null;
  /** A Web API client for a token (the root's settings: retries, timeout, SLACK_API_URL). */
  readonly client: (token: string) => webApi.WebClient;
  readonly clock: Clock;
  readonly log: Logger;
}

export function buildInstalls(parts: InstallsParts): Installs {
  const { config, registry, clock, log } = parts;
  const distributed = config.slack.oauth !== null && registry !== null;
  const clients = new WorkspaceClients({
    token: async (workspace) =>
      distributed
        ? ((await registry.installation(workspace))?.botToken ?? null)
        : workspace === ENV_WORKSPACE
          ? config.slack.botToken
          : null,
    create: parts.client,
  });
  const listeners: ((workspace: string) => void)[] = [];
  const changed = (workspace: string): void => {
    clients.forget(workspace);
    for (const listener of listeners) listener(workspace);
  };
  const onChange = (listener: (workspace: string) => void): void => {
    listeners.push(listener);
  };
  const posterFor =
    (workspace: string): ClientSource =>
    () =>
      clients.clientFor(workspace);
  if (config.slack.oauth === null || registry === null) {
    return {
      clients,
      posterFor,
      oauth: null,
      // One workspace's data is never purged on Slack's word alone: a new SLACK_BOT_TOKEN and a restart resume.
      removed: (_workspace, why) => {
        log.error(
          `slack: ${why}: the app was uninstalled or its token revoked; alerts wait in the outbox until SLACK_BOT_TOKEN holds a new token and the bot restarts`,
        );
        return Promise.resolve();
      },
      onChange,
    };
  }
  const installationStore = createInstallationStore({ registry, clock, log, changed });
  return {
    clients,
    posterFor,
    oauth: createSlackInstalls(config.slack.oauth, config, installationStore, log),
    removed: (workspace, why) => {
      log.info(`slack: ${why}`, { workspace });
      return removeWorkspace(registry, workspace, log, changed);
    },
    onChange,
  };
}

/** Bolt's `authorize` in the distributed shape; undefined in the single shape (the env token serves all). */
export function authorizeOf(installs: Installs): Authorize<boolean> | undefined {
  return installs.oauth?.authorize;
}
