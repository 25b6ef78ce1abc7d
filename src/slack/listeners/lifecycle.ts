import type { App } from '@slack/bolt';
import type { Logger } from '../../log.ts';

/** Why a workspace's tokens are gone. */
export type Removal = 'app_uninstalled' | 'tokens_revoked';

/** What to do when a workspace uninstalls the app or revokes its bot token (the root decides, per shape). */
export type OnRemoved = (workspace: string, why: Removal) => Promise<void>;

/**
 * `app_uninstalled` and `tokens_revoked`: Bolt runs these without `authorize` (the installation is what they
 * end), so the workspace comes from the event's own authorization: its organisation for an org-wide install,
 * its team otherwise. Slack signs them like any request.
 */
export function registerLifecycle(app: App, removed: OnRemoved, log: Logger): void {
  const workspaceOf = (context: {
    teamId?: string;
    enterpriseId?: string;
    isEnterpriseInstall?: boolean;
  }): string | undefined =>
    context.isEnterpriseInstall === true ? context.enterpriseId : (context.teamId ?? context.enterpriseId);

  app.event('app_uninstalled', async ({ context }) => {
    const workspace = workspaceOf(context);
    if (workspace === undefined) log.warn('slack: app_uninstalled names no workspace; ignored');
    else await removed(workspace, 'app_uninstalled');
  });

  app.event('tokens_revoked', async ({ event, context }) => {
    // User tokens (none are kept) may be revoked alone; only the bot's token matters here.
    if ((event.tokens.bot ?? []).length === 0) return;
    const workspace = workspaceOf(context);
    if (workspace === undefined) log.warn('slack: tokens_revoked names no workspace; ignored');
    else await removed(workspace, 'tokens_revoked');
  });
}
