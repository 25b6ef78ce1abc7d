import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { rateLimited } from '../../commands/rate-limit.ts';
import { NOT_ALLOWED, type CommandService } from '../../commands/service.ts';
import type { DialogSelection, SubscribeDialog } from '../../commands/subscribe-dialog.ts';
import type { Display } from '../../domain/display.ts';
import type { TenantAccount, Tenants } from '../../commands/workspace-accounts.ts';
import type { Context } from '@slack/bolt';
import { ACCOUNT_GONE, requestWorkspace } from './tenancy.ts';
import type { Logger } from '../../log.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import type { Block } from '../blocks/types.ts';
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
  /** The admin rule: the dialog does no work (no Halo request, no store read) for a user not allowed. */
  readonly canManage: (userId: string) => Promise<boolean>;
  readonly log: Logger;
  readonly display?: Display;
}

/** The dialog's dependencies that are not a request's (its workspace's admin rule, its account's services). */
export type DialogBase = Omit<DialogDeps, 'dialog' | 'commands' | 'canManage'>;

/** The listeners': each request's account (the one its dialog's metadata names) supplies `dialog` and `commands`. */
export interface DialogListenerDeps extends DialogBase {
  readonly tenants: Tenants;
}

/**
 * A trigger ID is good for 3 s: the dialog opens within this even when Halo's catalogue is slow, and says so;
 * the catalogue, once read, serves the next opening.
 */
const OPEN_WAIT_MS = 1500;

/** An Edit opens with this in the preview line; the figures follow by `views.update`. */
const PREVIEW_COMING = ':hourglass: Computing the preview…';

/**
 * The preview, charged to the user's per-minute share of commands: each costs Halo requests, and a user
 * changing fields as fast as they can must not take Halo from everyone else. Over the share: the line says so.
 */
async function chargedPreview(
  deps: DialogDeps,
  userId: string,
  selection: DialogSelection,
): Promise<DialogView['preview']> {
  const share = deps.commands.allow(userId);
  if (!share.ok) {
    deps.log.info('subscribe dialog: preview skipped, the user is over their share', { user: userId });
    return `:hourglass: No preview: ${rateLimited(share.asked, share.retryInSeconds)}`;
  }
  return deps.dialog.preview(selection);
}

/** Refuses a user the admin rule does not allow: told in the channel when there is one, else logged. */
async function refused(
  deps: Pick<DialogDeps, 'canManage' | 'log'>,
  client: webApi.WebClient,
  userId: string,
  channel: string | undefined,
  what: string,
): Promise<boolean> {
  if (await deps.canManage(userId)) return false;
  deps.log.warn('subscribe dialog: refused, user not allowed', { user: userId, what });
  if (channel !== undefined)
    try {
      await client.chat.postEphemeral({ channel, user: userId, text: NOT_ALLOWED });
    } catch (error) {
      deps.log.debug('subscribe dialog: the refusal could not be shown', { error });
    }
  return true;
}

/** Opens the dialog, empty (in `channel`, or none) or filled in with the subscription `editing` names. */
export async function openSubscribeDialog(
  deps: DialogDeps,
  client: webApi.WebClient,
  triggerId: string,
  start: { readonly channel: string | null; readonly metadata: DialogMetadata; readonly userId: string },
): Promise<boolean> {
  const { userId } = start;
  const { dialog, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  const edited = start.metadata.editing;
  // Concurrently, and without the preview: the trigger ID would expire behind a slow Halo.
  const [types, sub] = await Promise.all([
    Promise.race([
      dialog.eventTypes(),
      new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), OPEN_WAIT_MS))),
    ]),
    edited === null ? null : dialog.find(edited.channel, edited.id),
  ]);
  clearTimeout(timer);
  const view: DialogView = {
    metadata: sub === null ? { ...start.metadata, editing: null } : start.metadata,
    channel: sub?.channel ?? start.channel,
    types,
    keys: sub?.keys ?? [],
    targets: await dialog.targetLabels(sub?.targetIds ?? []),
    minSeverity: sub?.minSeverity ?? null,
    preview: sub === null ? null : PREVIEW_COMING,
  };
  let opened: { id?: string; hash?: string } | undefined;
  try {
    opened = (await client.views.open({ trigger_id: triggerId, view: renderSubscribeModal(view) as never }))
      .view;
  } catch (error) {
    log.warn('subscribe dialog: could not be opened', { error });
    return false;
  }
  if (sub !== null && opened?.id !== undefined) {
    const preview = await chargedPreview(deps, userId, sub);
    try {
      // The hash refuses it over a change the user made meanwhile: that change brings its own preview.
      await client.views.update({
        view_id: opened.id,
        ...(opened.hash === undefined ? {} : { hash: opened.hash }),
        view: renderSubscribeModal({ ...view, preview }) as never,
      });
    } catch (error) {
      log.debug('subscribe dialog: the first preview was not shown', { error });
    }
  }
  return true;
}

/**
 * The subscribe dialog: its preview as the fields change, the targets suggested as the user types, and saving,
 * which runs `/halo subscribe` in the chosen channel (for an edit, the core then removes the one it replaced).
 */
export function registerSubscribeDialog(app: App, base: DialogListenerDeps): void {
  const { log } = base;
  /** The dialog's account, of this request's workspace only: the one its metadata names. */
  const of = async (context: Context, account: string | undefined): Promise<DialogDeps | null> => {
    const workspace = requestWorkspace(base.tenants, context);
    const found: TenantAccount | null = (await workspace?.byId(account)) ?? null;
    if (workspace === null || found === null) {
      log.warn('subscribe dialog: its account is not one of this workspace', { team: context.teamId });
      return null;
    }
    const canManage = (userId: string) => workspace.canManage(userId);
    return { ...base, canManage, dialog: found.dialog, commands: found.commands };
  };

  app.options(DIALOG_IDS.targets, async ({ ack, body, payload, context }) => {
    const metadata = decodeDialogMetadata(body.view?.private_metadata);
    const deps = metadata === null ? null : await of(context, metadata.account);
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

  for (const field of [DIALOG_IDS.types, DIALOG_IDS.targets, DIALOG_IDS.severity]) {
    app.action<BlockAction>(field, async ({ ack, body, client, context }) => {
      await ack();
      const view = body.view;
      if (view === undefined) return;
      const state = decodeDialogState(view.state.values);
      const metadata = decodeDialogMetadata(view.private_metadata);
      if (!state.ok || metadata === null) return;
      const deps = await of(context, metadata.account);
      if (deps === null) return;
      const { dialog } = deps;
      if (await refused(deps, client, body.user.id, undefined, 'field change')) return;
      const shown: DialogView = {
        metadata,
        channel: state.channel,
        types: await dialog.eventTypes(),
        keys: state.keys,
        targets: state.targets,
        minSeverity: state.minSeverity,
        preview: await chargedPreview(deps, body.user.id, state),
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
    const deps = metadata === null ? null : await of(context, metadata.account);
    if (metadata !== null && deps === null) {
      await ack({ response_action: 'errors', errors: { [DIALOG_IDS.channel]: ACCOUNT_GONE } });
      return;
    }
    if (metadata === null || deps === null) {
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
   * across accounts, each account's view holds its own), else the workspace's only account.
   */
  const accountFor = async (
    context: Context,
    editing?: { readonly channel: string; readonly id: number },
  ): Promise<{ deps: DialogDeps; account: string } | null> => {
    const workspace = requestWorkspace(base.tenants, context);
    if (workspace === null) return null;
    let account: TenantAccount | undefined;
    if (editing !== undefined)
      for (const candidate of await workspace.accounts())
        if ((await candidate.dialog.find(editing.channel, editing.id)) !== null) account = candidate;
    if (account === undefined) {
      const chosen = await workspace.choose(undefined);
      if (!chosen.ok) return null;
      account = chosen.account;
    }
    const canManage = (userId: string) => workspace.canManage(userId);
    return {
      deps: { ...base, canManage, dialog: account.dialog, commands: account.commands },
      account: account.scope.account,
    };
  };

  app.action<BlockAction<ButtonAction>>(
    ACTION_IDS.homeNewSubscription,
    async ({ ack, body, client, context }) => {
      await ack();
      if (await refused(ruleOf(context), client, body.user.id, body.channel?.id, 'new subscription')) return;
      const only = await accountFor(context);
      if (only === null) {
        log.info('home: New subscription needs one account; this workspace has none or several');
        // The dialog has no account field: told in the user's messages with the bot, as the Home has no channel.
        try {
          await client.chat.postMessage({ channel: body.user.id, text: SEVERAL_ACCOUNTS });
        } catch (error) {
          log.debug('home: the explanation could not be sent', { error });
        }
        return;
      }
      await openSubscribeDialog(only.deps, client, body.trigger_id, {
        channel: null,
        metadata: { editing: null, account: only.account },
        userId: body.user.id,
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
      });
    },
  );
}

const SEVERAL_ACCOUNTS =
  'This workspace has several Halo accounts (or none): open the subscribe dialog for one with `/halo subscribe account:NAME` in the channel (`/halo accounts` lists them).';
