import type { App, BlockAction, ButtonAction, StaticSelectAction } from '@slack/bolt';
import type { Tenants } from '../../commands/workspace-accounts.ts';
import type { Logger } from '../../log.ts';
import {
  ACK_ACTION_ID,
  decodeAckValue,
  decodeMuteChoice,
  MUTE_MENU_ACTION_ID,
  readMessage,
  renderAcknowledged,
} from '../blocks/index.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import { reply } from './reply.ts';
import { ACCOUNT_GONE, requestWorkspace } from './tenancy.ts';

export interface AlertActionDeps {
  readonly tenants: Tenants;
  readonly log: Logger;
}

const MENU_MS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;

/** The alert's Acknowledge button and Mute menu. Both answer through response_url, so both modes work alike. */
export function registerAlertActions(app: App, deps: AlertActionDeps): void {
  const { log } = deps;

  app.action<BlockAction<ButtonAction>>(ACK_ACTION_ID, async ({ ack, body, action, respond, context }) => {
    await ack();
    const ref = decodeAckValue(action.value);
    const eventId = ref?.eventId ?? null;
    const channel = body.channel?.id;
    const messageTs: unknown = body.message?.ts ?? (body.container as { message_ts?: unknown }).message_ts;
    // A coloured alert comes back with its blocks inside an attachment: read it as Delete does.
    const original = readMessage(body.message);
    if (
      eventId === null ||
      channel === undefined ||
      typeof messageTs !== 'string' ||
      original.blocks === undefined
    ) {
      await reply(respond, renderNotice('This button does not name an alert that can be acknowledged.'), log);
      return;
    }
    const account = await requestWorkspace(deps.tenants, context)?.byId(ref?.account);
    if (account === null || account === undefined) {
      await reply(respond, renderNotice(ACCOUNT_GONE), log);
      return;
    }
    const acks = await account.acknowledger.acknowledge({
      channel,
      messageTs,
      eventId,
      userId: body.user.id,
    });
    const views = acks.map((a) => ({ userId: a.userId, at: new Date(a.at) }));
    const acknowledged = renderAcknowledged(original.blocks, views, eventId);
    // The alert keeps its severity colour.
    await reply(
      respond,
      original.color === undefined ? acknowledged : { ...acknowledged, color: original.color },
      log,
      true,
    );
  });

  app.action<BlockAction<StaticSelectAction>>(
    MUTE_MENU_ACTION_ID,
    async ({ ack, body, action, respond, context }) => {
      await ack();
      const choice = decodeMuteChoice(action.selected_option.value);
      const channel = body.channel?.id;
      if (choice === null || channel === undefined) {
        await reply(respond, renderNotice('This menu is out of date; use /halo mute instead.'), log);
        return;
      }
      const account = await requestWorkspace(deps.tenants, context)?.byId(choice.account);
      if (account === null || account === undefined) {
        await reply(respond, renderNotice(ACCOUNT_GONE), log);
        return;
      }
      // Permission, the audit row and the answer are the command's: the menu is a shortcut for it.
      const answer = await account.commands.mutes.mute({
        channel,
        userId: body.user.id,
        key: choice.kind === 'key' ? choice.key : null,
        targetId: choice.kind === 'target' ? choice.targetId : null,
        targetLabel: choice.kind === 'target' ? choice.label : '',
        durationMs: MENU_MS[choice.duration],
      });
      await reply(respond, renderAnswer(answer), log);
    },
  );
}
