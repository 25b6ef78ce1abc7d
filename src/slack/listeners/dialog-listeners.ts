import type { App, BlockAction, ButtonAction, Context } from '@slack/bolt';
import type { TenantAccount, TenantWorkspace, Tenants } from '../../commands/workspace-accounts.ts';
import { NO_ACCOUNTS } from '../../commands/workspace-accounts.ts';
import { ACCOUNT_GONE, requestWorkspace } from './tenancy.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import type { Block } from '../blocks/types.ts';
import { plainText, mrkdwnText } from '../blocks/text.ts';
import { ACTION_IDS, decodeEditValue } from '../blocks/payloads.ts';
import {
  decodeDialogChange,
  decodeDialogMetadata,
  decodeDialogState,
  dialogAccount,
  DIALOG_IDS,
  encodeTargetOption,
} from '../blocks/dialog-payloads.ts';
import {
  renderDialogResult,
  renderSubscribeModal,
  type AccountOption,
  type DialogView,
} from '../blocks/subscribe-modal.ts';
import {
  accountChoices,
  accountOptions,
  chargedPreview,
  openSubscribeDialog,
  refused,
  type DialogBase,
  type DialogDeps,
} from './dialog-open.ts';

export { openSubscribeDialog, type DialogBase, type DialogDeps } from './dialog-open.ts';

/** The listeners': each request's account (the one its dialog picks) supplies `dialog` and `commands`. */
export interface DialogListenerDeps extends DialogBase {
  readonly tenants: Tenants;
}

/** A picked account that is none of this workspace's (forged, or disconnected since): refused in its field. */
export const NO_SUCH_ACCOUNT =
  'This workspace has no such Halo account (any more): pick one from the list. Nothing was saved.';

/**
 * The subscribe dialog: its preview as the fields change, the targets suggested as the user types, and saving,
 * which runs `/halo subscribe` in the chosen channel and account (for an edit, the core then removes the one it
 * replaced).
 */
export function registerSubscribeDialog(app: App, base: DialogListenerDeps): void {
  const { log } = base;
  const depsOf = (workspace: TenantWorkspace, account: TenantAccount): DialogDeps => ({
    ...base,
    workspace,
    canManage: (userId: string) => workspace.canManage(userId),
    dialog: account.dialog,
    commands: account.commands,
  });
  /**
   * The dialog's account, among this request's workspace's only (the workspace is Bolt's `authorize`'s, never the
   * payload's): an ID of another workspace's account, or of none, finds nothing.
   */
  const of = async (context: Context, account: string | undefined): Promise<DialogDeps | null> => {
    const workspace = requestWorkspace(base.tenants, context);
    const found: TenantAccount | null = (await workspace?.byId(account)) ?? null;
    if (workspace === null || found === null) {
      log.warn('subscribe dialog: its account is not one of this workspace', { team: context.teamId });
      return null;
    }
    return depsOf(workspace, found);
  };

  app.options(DIALOG_IDS.targets, async ({ ack, body, payload, context }) => {
    const metadata = decodeDialogMetadata(body.view?.private_metadata);
    const fields = decodeDialogChange(body.view?.state.values);
    // The targets of the account picked now, even before the views.update its pick asked for has landed.
    const picked = fields.ok ? fields.account : undefined;
    const deps = metadata === null ? null : await of(context, dialogAccount(metadata, picked));
    if (deps === null) {
      await ack({ options: [] });
      return;
    }
    const { dialog } = deps;
    if (!(await deps.canManage(body.user.id))) {
      log.warn('subscribe dialog: options refused, user not allowed', { user: body.user.id });
      await ack({ options: [] });
      return;
    }
    const found = await dialog.targetOptions(payload.value);
    await ack({
      options: found.map((t) => ({ text: plainText(t.label), value: encodeTargetOption(t.id) })),
    });
  });

  for (const field of [DIALOG_IDS.account, DIALOG_IDS.types, DIALOG_IDS.targets, DIALOG_IDS.severity]) {
    app.action<BlockAction>(field, async ({ ack, body, client, context }) => {
      await ack();
      const view = body.view;
      if (view === undefined) return;
      const state = decodeDialogChange(view.state.values);
      const opened = decodeDialogMetadata(view.private_metadata);
      if (!state.ok || opened === null) return;
      const account = dialogAccount(opened, state.account);
      const deps = await of(context, account);
      if (deps === null) return;
      const { dialog } = deps;
      if (await refused(deps, client, body.user.id, undefined, 'field change')) return;
      // The view now shows the account picked: its catalogue, and its account in the metadata.
      const metadata = { ...opened, ...(account === undefined ? {} : { account }) };
      const [types, accounts, preview] = await Promise.all([
        dialog.eventTypes(),
        accountChoices(deps.workspace),
        chargedPreview(deps, body.user.id, state),
      ]);
      const shown: DialogView = {
        metadata,
        channel: state.channel,
        accounts,
        types,
        keys: state.keys,
        targets: state.targets,
        minSeverity: state.minSeverity,
        preview,
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

  app.view(DIALOG_IDS.callback, async ({ ack, body, view, client, context }) => {
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
    const picked = dialogAccount(metadata, state.account);
    const deps = await of(context, picked);
    if (deps === null) {
      // The account field's pick when it made one (forged, or gone since); else the dialog's own account.
      const errors =
        metadata.editing === null && state.account !== undefined
          ? { [DIALOG_IDS.account]: NO_SUCH_ACCOUNT }
          : { [DIALOG_IDS.channel]: ACCOUNT_GONE };
      await ack({ response_action: 'errors', errors });
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
    let blocks: readonly Block[];
    try {
      // The core saves and, for an Edit, removes the subscription replaced.
      const answer = await deps.dialog.save(state, userId, metadata.editing ?? undefined);
      log.info('subscribe dialog: saved', { user: userId, channel: state.channel, answer: answer.kind });
      blocks = renderAnswer(answer, deps.display).blocks;
    } catch (error) {
      // Else the dialog would say "Saving…" for ever.
      log.error('subscribe dialog: saving failed', { user: userId, error });
      blocks = renderNotice(
        'Not saved: something went wrong on the bot’s side; the details are in its log.',
      ).blocks;
    }
    try {
      await client.views.update({ view_id: view.id, view: renderDialogResult(blocks, editing) as never });
    } catch (error) {
      log.warn('subscribe dialog: the answer could not be shown', { user: userId, error });
    }
  });

  /** The request's workspace's admin rule (a workspace not served: nobody is an admin). */
  const ruleOf = (context: Context): Pick<DialogDeps, 'canManage' | 'log'> => ({
    log,
    canManage: (userId) =>
      requestWorkspace(base.tenants, context)?.canManage(userId) ?? Promise.resolve(false),
  });

  /**
   * The account the App Home's button acts in: the one holding the subscription an Edit names (IDs are numbered
   * across accounts, each account's view holds its own), else the workspace's first by name (with several, the
   * dialog's account field starts on it).
   */
  const accountFor = async (
    context: Context,
    editing?: { readonly channel: string; readonly id: number },
  ): Promise<{ deps: DialogDeps; account: string; accounts: AccountOption[] } | null> => {
    const workspace = requestWorkspace(base.tenants, context);
    if (workspace === null) return null;
    const chosen = await workspace.choose(undefined, true);
    if (!chosen.ok) return null;
    let account: TenantAccount = chosen.account;
    if (editing !== undefined)
      for (const candidate of chosen.all)
        if ((await candidate.dialog.find(editing.channel, editing.id)) !== null) account = candidate;
    return {
      deps: depsOf(workspace, account),
      account: account.scope.account,
      accounts: accountOptions(chosen.all),
    };
  };

  app.action<BlockAction<ButtonAction>>(
    ACTION_IDS.homeNewSubscription,
    async ({ ack, body, client, context }) => {
      await ack();
      if (await refused(ruleOf(context), client, body.user.id, body.channel?.id, 'new subscription')) return;
      const first = await accountFor(context);
      if (first === null) {
        log.info('home: New subscription in a workspace without a Halo account');
        // Told in the user's messages with the bot, as the Home has no channel.
        try {
          await client.chat.postMessage({ channel: body.user.id, text: NO_ACCOUNTS });
        } catch (error) {
          log.debug('home: the explanation could not be sent', { error });
        }
        return;
      }
      await openSubscribeDialog(first.deps, client, body.trigger_id, {
        channel: null,
        metadata: { editing: null, account: first.account },
        userId: body.user.id,
        accounts: first.accounts,
      });
    },
  );

  app.action<BlockAction<ButtonAction>>(
    ACTION_IDS.homeEditSubscription,
    async ({ ack, body, action, client, context }) => {
      await ack();
      if (await refused(ruleOf(context), client, body.user.id, body.channel?.id, 'edit')) return;
      const editing = decodeEditValue(action.value);
      if (editing === null) {
        log.warn('home: an Edit button without a subscription', { user: body.user.id });
        return;
      }
      const only = await accountFor(context, editing);
      if (only === null) return;
      await openSubscribeDialog(only.deps, client, body.trigger_id, {
        channel: editing.channel,
        metadata: { editing, account: only.account },
        userId: body.user.id,
        accounts: only.accounts,
      });
    },
  );
}
