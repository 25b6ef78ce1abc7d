/**
 * The Bolt app: its receiver (HTTP or Socket Mode, from the ingress), the Web API client's settings, and every
 * listener, given the services they call. The composition root builds those services; this wires them to Slack.
 */
import { App, type Authorize, type Receiver } from '@slack/bolt';
import type { Acknowledger } from '../commands/acknowledge.ts';
import type { EventDeleter } from '../commands/delete.ts';
import type { LinkPreviews } from '../commands/link-preview.ts';
import type { WorkflowSteps } from '../commands/workflow.ts';
import type { SubscribeDialog } from '../commands/subscribe-dialog.ts';
import type { CommandService } from '../commands/service.ts';
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
  readonly commands: CommandService;
  readonly acknowledger: Acknowledger;
  readonly deleter: EventDeleter;
  readonly canManage: (userId: string) => Promise<boolean>;
  readonly display: Display;
  /** What the Home tab shows to this user. */
  readonly home: (userId: string) => Promise<HomeData>;
  readonly commandAcked: (seconds: number) => void;
  /** Halo event links pasted in Slack, previewed. */
  readonly previews: LinkPreviews;
  /** The Workflow Builder steps. */
  readonly workflow: WorkflowSteps;
  /** The subscribe dialog (`/halo subscribe` alone, and the App Home's New subscription and Edit). */
  readonly dialog: SubscribeDialog;
}

export function createBoltApp(deps: BoltAppDeps): App {
  const { config, log, commands, canManage, display } = deps;
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
  const dialog = { dialog: deps.dialog, commands, canManage, log, display };
  registerCommands(app, commands, log, deps.commandAcked, display, dialog);
  registerSubscribeDialog(app, dialog);
  registerHome(app, { commands, canManage, log, data: deps.home });
  registerAlertActions(app, { acknowledger: deps.acknowledger, commands, log });
  registerLinks(app, { previews: deps.previews, acknowledger: deps.acknowledger, display, log });
  registerFunctions(app, deps.workflow, log);
  registerActions(app, { deleter: deps.deleter, commands, canManage, log, display });
  registerLifecycle(app, deps.removed, log);
  return app;
}
