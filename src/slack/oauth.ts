/**
 * "Add to Slack" for the distributed shape: Slack's own OAuth library (`InstallProvider`, which Bolt uses for
 * the same) serves the install page and the redirect Slack sends the installer back to, and resolves every
 * request to its installation (`authorize`) from the installation store. Only the routes and settings are ours.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorize, InstallationStore } from '@slack/bolt';
import { InstallProvider } from '@slack/oauth';
import type { Config, SlackOAuth } from '../config.ts';
import type { Logger } from '../log.ts';
import { boltLogger } from './bolt-logger.ts';

/** The page that starts an install (it sets the state cookie and links to Slack's consent screen). */
export const INSTALL_PATH = '/slack/install';
/** Where Slack sends the installer back with a code: manifest.yml's `oauth_config.redirect_urls`. */
export const REDIRECT_PATH = '/slack/oauth_redirect';

/** The bot scopes an install asks for: manifest.yml's `oauth_config.scopes.bot` (a test keeps them equal). */
export const BOT_SCOPES = [
  'chat:write',
  'commands',
  'users:read',
  'channels:history',
  'groups:history',
  'links:read',
  'links:write',
] as const;

export interface SlackInstalls {
  /** Serves GET {@link INSTALL_PATH} and {@link REDIRECT_PATH}; false (leaving `res` alone) for any other request. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Bolt's `authorize`: the installation of the request's workspace, or a refusal (Bolt then runs nothing). */
  readonly authorize: Authorize<boolean>;
}

export function createSlackInstalls(
  oauth: SlackOAuth,
  config: Pick<Config, 'slack' | 'delays'>,
  installationStore: InstallationStore,
  log: Logger,
): SlackInstalls {
  const installer = new InstallProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    stateSecret: oauth.stateSecret,
    installationStore,
    logger: boltLogger(log),
    installUrlOptions: { scopes: [...BOT_SCOPES] },
    // SLACK_API_URL reaches oauth.v2.access and auth.test too (a proxy, or the tests' stand-in). The library's
    // default retries for half an hour: an installer in front of a browser should hear sooner.
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      timeout: config.delays.slackTimeoutMs,
      retryConfig: { retries: 2 },
    },
  });
  const failed = (res: ServerResponse, what: string) => (error: unknown) => {
    log.error(`slack: the ${what} failed`, { error });
    if (!res.headersSent) res.writeHead(500).end();
  };
  return {
    handle: (req, res) => {
      if (req.method !== 'GET') return false;
      const path = (req.url ?? '/').split('?')[0];
      if (path === INSTALL_PATH) {
        installer.handleInstallPath(req, res).catch(failed(res, 'install page'));
        return true;
      }
      if (path === REDIRECT_PATH) {
        // The library answers both outcomes itself (a page that opens Slack, or one that says what went wrong).
        installer.handleCallback(req, res).catch(failed(res, 'OAuth redirect'));
        return true;
      }
      return false;
    },
    authorize: (source) => installer.authorize(source),
  };
}
