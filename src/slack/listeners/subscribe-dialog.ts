import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import type { SubscribeDialog } from '../../commands/subscribe-dialog.ts';
import type { CommandService } from '../../commands/service.ts';
import type { Display } from '../../domain/display.ts';
import type { Logger } from '../../log.ts';
import { renderAnswer } from '../blocks/answer-message.ts';
import { plainText, mrkdwnText } from '../blocks/text.ts';
import {
  ACTION_IDS,
  decodeDialogMetadata,
  decodeDialogState,
  decodeEditValue,
  DIALOG_IDS,
  encodeTargetOption,
  type DialogMetadata,
} from '../blocks/payloads.ts';
import { renderDialogResult, renderSubscribeModal, type DialogView } from '../blocks/subscribe-modal.ts';

export interface DialogDeps {
  readonly dialog: SubscribeDialog;
  readonly commands: CommandService;
  readonly log: Logger;
  readonly display?: Display;
}

/**
 * A trigger ID is good for 3 s: the dialog opens within this even when Halo's catalogue is slow, and says so;
 * the catalogue, once read, serves the next opening.
 */
const OPEN_WAIT_MS = 1500;

/** Opens the dialog, empty (in `channel`, or none) or filled in with the subscription `editing` names. */
export async function openSubscribeDialog(
  deps: DialogDeps,
  client: webApi.WebClient,
  triggerId: string,
  start: { readonly channel: string | null; readonly metadata: DialogMetadata },
): Promise<boolean> {
  const { dialog, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  const types = await Promise.race([
    dialog.eventTypes(),
    new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), OPEN_WAIT_MS))),
  ]);
  clearTimeout(timer);
  const edited = start.metadata.editing;
  const sub = edited === null ? null : await dialog.find(edited.channel, edited.id);
  const view: DialogView = {
    metadata: sub === null ? { editing: null } : start.metadata,
    channel: sub?.channel ?? start.channel,
    types,
    keys: sub?.keys ?? [],
    targets: await dialog.targetLabels(sub?.targetIds ?? []),
    minSeverity: sub?.minSeverity ?? null,
    preview:
      sub === null
        ? null
        : await dialog.preview({
            channel: sub.channel,
            keys: sub.keys,
            targetIds: sub.targetIds,
            minSeverity: sub.minSeverity,
          }),
  };
  try {
    await client.views.open({ trigger_id: triggerId, view: renderSubscribeModal(view) as never });
    return true;
  } catch (error) {
    log.warn('subscribe dialog: could not be opened', { error });
    return false;
  }
}

/**
 * The subscribe dialog: its preview as the fields change, the targets suggested as the user types, and saving,
 * which runs `/halo subscribe` in the chosen channel (an edit then removes the subscription it replaced).
 */
export function registerSubscribeDialog(app: App, deps: DialogDeps): void {
  const { dialog, log } = deps;

  app.options(DIALOG_IDS.targets, async ({ ack, payload }) => {
    const found = await dialog.targetOptions(payload.value);
    await ack({
      options: found.map((t) => ({ text: plainText(t.label), value: encodeTargetOption(t.id) })),
    });
  });

  for (const field of [DIALOG_IDS.types, DIALOG_IDS.targets, DIALOG_IDS.severity]) {
    app.action<BlockAction>(field, async ({ ack, body, client }) => {
      await ack();
      const view = body.view;
      if (view === undefined) return;
      const state = decodeDialogState(view.state.values);
      const metadata = decodeDialogMetadata(view.private_metadata);
      if (!state.ok || metadata === null) return;
      const shown: DialogView = {
        metadata,
        channel: state.channel,
        types: await dialog.eventTypes(),
        keys: state.keys,
        targets: state.targets,
        minSeverity: state.minSeverity,
        preview: await dialog.preview(state),
      };
      try {
        // The hash refuses an update over a newer change: that change brings its own preview.
        await client.views.update({
          view_id: view.id,
          hash: view.hash,
          view: renderSubscribeModal(shown) as never,
        });
      } catch (error) {
        log.debug('subscribe dialog: the preview was not shown', { error });
      }
    });
  }

  app.view(DIALOG_IDS.callback, async ({ ack, body, view, client }) => {
    const state = decodeDialogState(view.state.values);
    const metadata = decodeDialogMetadata(view.private_metadata);
    if (!state.ok) {
      await ack({ response_action: 'errors', errors: state.errors });
      return;
    }
    if (metadata === null) {
      await ack({
        response_action: 'errors',
        errors: { [DIALOG_IDS.channel]: 'This dialog is out of date; open it again.' },
      });
      return;
    }
    const editing = metadata.editing !== null;
    // Saving may wait on Halo (the typo check) and on the poller: the dialog says so rather than time out.
    await ack({
      response_action: 'update',
      view: renderDialogResult(
        [{ type: 'section', text: mrkdwnText(':hourglass: Saving…') }],
        editing,
      ) as never,
    });
    const userId = body.user.id;
    const answer = await dialog.save(state, userId, metadata.editing ?? undefined);
    if (
      metadata.editing !== null &&
      answer.kind === 'subscribed' &&
      answer.subscription.id !== metadata.editing.id
    )
      await deps.commands.unsubscribe(metadata.editing.channel, metadata.editing.id, userId);
    log.info('subscribe dialog: saved', { user: userId, channel: state.channel, answer: answer.kind });
    try {
      await client.views.update({
        view_id: view.id,
        view: renderDialogResult(renderAnswer(answer, deps.display).blocks, editing) as never,
      });
    } catch (error) {
      log.warn('subscribe dialog: the answer could not be shown', { user: userId, error });
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.homeNewSubscription, async ({ ack, body, client }) => {
    await ack();
    await openSubscribeDialog(deps, client, body.trigger_id, { channel: null, metadata: { editing: null } });
  });

  app.action<BlockAction<ButtonAction>>(
    ACTION_IDS.homeEditSubscription,
    async ({ ack, body, action, client }) => {
      await ack();
      const editing = decodeEditValue(action.value);
      if (editing === null) {
        log.warn('home: an Edit button without a subscription', { user: body.user.id });
        return;
      }
      await openSubscribeDialog(deps, client, body.trigger_id, {
        channel: editing.channel,
        metadata: { editing },
      });
    },
  );
}

/** `/halo subscribe` alone opens the dialog; with any filter it subscribes at once, as before. */
export function opensDialog(text: string): boolean {
  return /^\s*subscribe\s*$/i.test(text);
}
