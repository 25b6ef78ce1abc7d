/**
 * The Bolt app: its receiver (HTTP or Socket Mode, from the ingress), the Web API client's settings, and every
 * listener, given the services they call. The composition root builds those services; this wires them to Slack.
 */
import { App, type Authorize, type Receiver } from '@slack/bolt';
import type { AccountAdmin } from '../commands/account-admin.ts';
import type { LinkPreviews } from '../commands/link-preview.ts';
import type { TenantWorkspace, Tenants } from '../commands/workspace-accounts.ts';
import type { WorkflowSteps } from '../commands/workflow.ts';
import type { Config } from '../config.ts';
import type { Display } from '../domain/display.ts';
import type { Logger } from '../log.ts';
import { boltLogger } from './bolt-logger.ts';
import type { BotIdentity } from './web-client.ts';
import type { HomeData } from './blocks/home-view.ts';
import { registerActions } from './listeners/actions.ts';
import { registerAlertActions } from './listeners/alert-buttons.ts';
import { registerCommands } from './listeners/commands.ts';
import { registerFunctions } from './listeners/functions.ts';
import { registerLinks } from './listeners/links.ts';
import { registerHome } from './listeners/home-tab.ts';
import { registerSubscribeDialog } from './listeners/dialog-listeners.ts';
import { registerConnect } from './listeners/connect-listeners.ts';
import { registerLifecycle, type OnRemoved } from './listeners/lifecycle.ts';

export interface BoltAppDeps {
  readonly config: Pick<Config, 'slack' | 'delays'>;
  readonly receiver: Receiver;
  /**
   * Distributed shape: resolves each request to its workspace's installation before any listener runs (a
   * workspace that has not installed the app is answered with nothing). Absent: the env token serves all.
   */
  readonly authorize?: Authorize<boolean>;
  /** `app_uninstalled` and `tokens_revoked`. */
  readonly removed: OnRemoved;
  readonly identity: BotIdentity;
  readonly log: Logger;
  /** Every listener asks it for the request's workspace and account before it does anything. */
  readonly tenants: Tenants;
  /** `/halo connect`, `accounts` and `disconnect`. */
  readonly admin: AccountAdmin;
  readonly display: Display;
  /** What the Home tab of a workspace shows to this user. */
  readonly home: (workspace: TenantWorkspace, userId: string) => Promise<HomeData>;
  readonly commandAcked: (seconds: number) => void;
  /** HALO_API_URL, which the connect dialog uses when its URL is left empty. */
  readonly defaultApiUrl: string;
  /** Halo event links pasted in Slack, previewed. */
  readonly previews: LinkPreviews;
  /** The Workflow Builder steps. */
  readonly workflow: WorkflowSteps;
}

export function createBoltApp(deps: BoltAppDeps): App {
  const { config, log, tenants, display } = deps;
  const app = new App({
    ...(deps.authorize === undefined
      ? {
          token: config.slack.botToken,
          botId: deps.identity.botId,
          botUserId: deps.identity.botUserId,
          // Checked once at start-up (identify); otherwise Bolt calls auth.test before the first request's ack.
          tokenVerificationEnabled: false,
        }
      : { authorize: deps.authorize }),
    receiver: deps.receiver,
    logger: boltLogger(log),
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      timeout: config.delays.slackTimeoutMs,
      retryConfig: { retries: 2 },
    },
  });
  app.error(async (error) => {
    if ((error as { code?: unknown }).code === 'slack_bolt_authorization_error') {
      log.warn('slack: refused a request of a workspace that has not installed the app', {
        error: error.message,
      });
      return Promise.resolve();
    }
    log.error('slack: a listener failed', { error: error.message });
    return Promise.resolve();
  });
  const dialog = { log, display };
  registerCommands(app, {
    tenants,
    admin: deps.admin,
    defaultApiUrl: deps.defaultApiUrl,
    log,
    onAcked: deps.commandAcked,
    display,
    dialog,
  });
  registerSubscribeDialog(app, { ...dialog, tenants });
  registerConnect(app, { tenants, admin: deps.admin, log });
  registerHome(app, { tenants, log, data: deps.home });
  registerAlertActions(app, { tenants, log });
  registerLinks(app, { previews: deps.previews, display, log });
  registerFunctions(app, deps.workflow, log);
  registerActions(app, { tenants, log, display });
  registerLifecycle(app, deps.removed, log);
  return app;
}
