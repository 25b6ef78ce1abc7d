import type { App, BlockAction, ButtonAction, Context, webApi } from '@slack/bolt';
import {
  decodeUnmuteValue,
  decodeUnsubscribeValue,
  HOME_UNMUTE_ACTION_ID,
  HOME_UNSUBSCRIBE_ACTION_ID,
  renderHome,
  type HomeData,
} from '../blocks/home-view.ts';
import type { TenantWorkspace, Tenants } from '../../commands/workspace-accounts.ts';
import { requestWorkspace } from './tenancy.ts';
import { ACTION_IDS, decodeHomePage } from '../blocks/payloads.ts';
import type { Logger } from '../../log.ts';

export interface HomeDeps {
  /** What the Home tab of this workspace shows to this user (whether they are an admin included). */
  readonly data: (workspace: TenantWorkspace, userId: string) => Promise<HomeData>;
  readonly tenants: Tenants;
  readonly log: Logger;
}

/**
 * The App Home tab: published when a user opens it, and again after each of its buttons, so that the page
 * shows the change (or, for someone not allowed, that nothing changed).
 */
export function registerHome(app: App, deps: HomeDeps): void {
  const { log } = deps;
  const publish = async (
    client: webApi.WebClient,
    context: Context,
    userId: string,
    page = 0,
  ): Promise<void> => {
    const workspace = requestWorkspace(deps.tenants, context);
    if (workspace === null) {
      log.info('home: a workspace this bot does not serve', { team: context.teamId });
      return;
    }
    try {
      const view = renderHome(await deps.data(workspace, userId), page);
      await client.views.publish({
        user_id: userId,
        view,
      });
    } catch (error) {
      log.warn('home: the Home tab could not be published', { user: userId, error });
    }
  };

  app.event('app_home_opened', async ({ event, client, context }) => {
    // The Messages tab opens this event too; only the Home tab has a view to publish.
    if (event.tab !== 'home') return;
    await publish(client, context, event.user);
  });

  app.action<BlockAction<ButtonAction>>(
    ACTION_IDS.homePage,
    async ({ ack, body, action, client, context }) => {
      await ack();
      await publish(client, context, body.user.id, decodeHomePage(action.value) ?? 0);
    },
  );

  // The Home tab's Unmute and Unsubscribe name a mute or subscription by ID, not its account: each of this
  // workspace's accounts is asked in turn (their views hold only their own rows), and the first that has it acts.
  const accounts = async (context: Context) =>
    (await requestWorkspace(deps.tenants, context)?.accounts()) ?? [];

  app.action<BlockAction<ButtonAction>>(
    HOME_UNMUTE_ACTION_ID,
    async ({ ack, body, action, client, context }) => {
      await ack();
      const id = decodeUnmuteValue(action.value);
      if (id === null) log.warn('home: an Unmute button without a mute ID', { user: body.user.id });
      else
        for (const account of await accounts(context)) {
          // Checks permission and writes the audit log itself.
          const answer = await account.commands.mutes.unmute(id, body.user.id);
          if (answer.kind === 'unmuted') break;
        }
      await publish(client, context, body.user.id);
    },
  );

  app.action<BlockAction<ButtonAction>>(
    HOME_UNSUBSCRIBE_ACTION_ID,
    async ({ ack, body, action, client, context }) => {
      await ack();
      const target = decodeUnsubscribeValue(action.value);
      if (target === null)
        log.warn('home: an Unsubscribe button without a subscription', { user: body.user.id });
      else if (!((await requestWorkspace(deps.tenants, context)?.canManage(body.user.id)) ?? false))
        log.warn('home: unsubscribe refused: user not allowed', { user: body.user.id });
      else
        for (const account of await accounts(context))
          if (await account.commands.unsubscribe(target.channel, target.id, body.user.id)) break;
      await publish(client, context, body.user.id);
    },
  );
}
