import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { NOT_ALLOWED } from '../../commands/service.ts';
import type { Tenants } from '../../commands/workspace-accounts.ts';
import { HaloError } from '../../pipeline/halo-errors.ts';
import type { Display } from '../../domain/display.ts';
import type { Logger } from '../../log.ts';
import { NEXT_PAGE_ACTION_ID, renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import {
  ACTION_IDS,
  DIALOG_IDS,
  decodeDeleteValue,
  decodeEventsPage,
  DELETE_ACTION_ID,
  readMessage,
  renderDeleted,
  type SlackMessage,
} from '../blocks/index.ts';
import { reply } from './reply.ts';
import { ACCOUNT_GONE, requestWorkspace } from './tenancy.ts';
import { CONNECT_IDS } from '../blocks/payloads.ts';

export interface ActionDeps {
  readonly tenants: Tenants;
  readonly log: Logger;
  /** Severity table and Halo's zone, for the event lists a Next page button shows. */
  readonly display?: Display;
}

/** Interactive payloads: the Delete button, the event list's Next page, and a polite answer to anything else. */
export function registerActions(app: App, deps: ActionDeps): void {
  const { log } = deps;

  app.action<BlockAction<ButtonAction>>(
    DELETE_ACTION_ID,
    async ({ ack, body, action, respond, client, context }) => {
      await ack();
      const userId = body.user.id;
      // A Delete button in a view (the App Home, a modal) has no message to mark and no response_url to answer
      // on: it is refused before anything is deleted, and the user told in their messages with the bot.
      // (Bolt gives no `respond` without a response_url, whatever its type says.)
      // (A payload from elsewhere may carry no container at all.)
      const container = (body.container as { type?: unknown } | undefined)?.type;
      if (container === 'view' || (respond as RespondFn | undefined) === undefined) {
        log.warn('delete refused: the button is not on a message', {
          user: userId,
          container,
        });
        try {
          await client.chat.postMessage({
            channel: userId,
            text: 'Nothing was deleted: *Delete event* works on an alert or a `/halo event` answer in a channel, not in the App Home.',
          });
        } catch (error) {
          log.warn('the refusal could not be sent to the user', { error });
        }
        return;
      }
      const ref = decodeDeleteValue(action.value);
      if (ref === null) {
        await reply(respond, renderNotice('This button does not name a valid event.'), log);
        return;
      }
      const { eventId } = ref;
      // The account the alert came from, and only if it is this workspace's: never another.
      const workspace = requestWorkspace(deps.tenants, context);
      const account = await workspace?.byId(ref.account);
      if (workspace === null || account === null || account === undefined) {
        log.warn('delete refused: the button names no account of this workspace', { user: userId });
        await reply(respond, renderNotice(ACCOUNT_GONE), log);
        return;
      }
      if (!(await workspace.canManage(userId))) {
        log.warn('delete refused: user not allowed', { user: userId, event: eventId });
        await reply(respond, renderNotice(NOT_ALLOWED), log);
        return;
      }
      const outcome = await account.deleter.delete(eventId, userId, body.channel?.id ?? null);
      if (outcome.kind === 'failed') {
        await reply(respond, renderNotice(`The event was not deleted: ${outcome.message}`), log);
        return;
      }
      const original = readMessage(body.message);
      const { record } = outcome;
      const deleted = renderDeleted(original.blocks, {
        eventId,
        userId: record.userId,
        at: new Date(record.at),
        alreadyDeleted: record.alreadyDeleted,
      });
      // The alert keeps its severity colour.
      const updated = original.color === undefined ? deleted : { ...deleted, color: original.color };
      await reply(respond, updated, log, true);
    },
  );

  app.action<BlockAction<ButtonAction>>(NEXT_PAGE_ACTION_ID, async ({ ack, action, respond, context }) => {
    await ack();
    const request = decodeEventsPage(action.value);
    if (request === null) {
      await reply(respond, renderNotice('This button is out of date; run /halo events again.'), log);
      return;
    }
    const account = await requestWorkspace(deps.tenants, context)?.byId(request.account);
    if (account === null || account === undefined) {
      await reply(respond, renderNotice(ACCOUNT_GONE), log);
      return;
    }
    let message: SlackMessage;
    try {
      message = renderAnswer(
        await account.commands.eventsPage(request.filter, request.pageSize, request.page),
        deps.display,
      );
    } catch (error) {
      // Like a failed delete: the list stays as it was, its button still works, and the clicker is told.
      if (error instanceof HaloError) {
        await reply(respond, renderNotice(error.userMessage), log);
        return;
      }
      log.error('events: the next page failed unexpectedly', { error });
      await reply(
        respond,
        renderNotice('Something went wrong on the bot’s side; the details are in its log.'),
        log,
      );
      return;
    }
    await reply(respond, message, log, true);
  });

  // Anything else signed by Slack (an old button, a shortcut this app no longer has) gets an answer, not a timeout.
  app.action(
    new RegExp(`^(?!(${[...Object.values(ACTION_IDS), ...Object.values(DIALOG_IDS)].join('|')})$)`),
    async ({ ack, respond, payload }) => {
      await ack();
      const id = 'action_id' in payload ? payload.action_id : 'unknown';
      log.warn('unknown action', { action: id.slice(0, 100) });
      await reply(respond, renderNotice('This button is not supported by this version of the bot.'), log);
    },
  );
  app.shortcut(/.*/, async ({ ack }) => ack());
  // The subscribe dialog's submissions have their own listener; an ack here too would answer twice.
  app.view(new RegExp(`^(?!(${DIALOG_IDS.callback}|${CONNECT_IDS.callback})$)`), async ({ ack }) => ack());
}
