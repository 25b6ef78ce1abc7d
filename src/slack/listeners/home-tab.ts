import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import {
  decodeUnmuteValue,
  decodeUnsubscribeValue,
  HOME_UNMUTE_ACTION_ID,
  HOME_UNSUBSCRIBE_ACTION_ID,
  renderHome,
  type HomeData,
} from '../blocks/home-view.ts';
import type { CommandService } from '../../commands/service.ts';
import { ACTION_IDS, decodeHomePage } from '../blocks/payloads.ts';
import type { Logger } from '../../log.ts';

export interface HomeDeps {
  /** What the Home tab shows to this user (whether they are an admin included). */
  readonly data: (userId: string) => Promise<HomeData>;
  readonly commands: CommandService;
  readonly canManage: (userId: string) => Promise<boolean>;
  readonly log: Logger;
}

/**
 * The App Home tab: published when a user opens it, and again after each of its buttons, so that the page
 * shows the change (or, for someone not allowed, that nothing changed).
 */
export function registerHome(app: App, deps: HomeDeps): void {
  const { log } = deps;
  const publish = async (client: webApi.WebClient, userId: string, page = 0): Promise<void> => {
    try {
      const view = renderHome(await deps.data(userId), page);
      await client.views.publish({
        user_id: userId,
        view,
      });
    } catch (error) {
      log.warn('home: the Home tab could not be published', { user: userId, error });
    }
  };

  app.event('app_home_opened', async ({ event, client }) => {
    // The Messages tab opens this event too; only the Home tab has a view to publish.
    if (event.tab !== 'home') return;
    await publish(client, event.user);
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.homePage, async ({ ack, body, action, client }) => {
    await ack();
    await publish(client, body.user.id, decodeHomePage(action.value) ?? 0);
  });

  app.action<BlockAction<ButtonAction>>(HOME_UNMUTE_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const id = decodeUnmuteValue(action.value);
    if (id === null) log.warn('home: an Unmute button without a mute ID', { user: body.user.id });
    // Checks permission and writes the audit log itself.
    else await deps.commands.mutes.unmute(id, body.user.id);
    await publish(client, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(HOME_UNSUBSCRIBE_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const target = decodeUnsubscribeValue(action.value);
    if (target === null)
      log.warn('home: an Unsubscribe button without a subscription', { user: body.user.id });
    else if (!(await deps.canManage(body.user.id)))
      log.warn('home: unsubscribe refused: user not allowed', { user: body.user.id });
    else await deps.commands.unsubscribe(target.channel, target.id, body.user.id);
    await publish(client, body.user.id);
  });
}
