/**
 * Opening the subscribe dialog (from `/halo subscribe`, the App Home's New subscription and Edit), and what its
 * listeners share: the account's services it acts through, the preview charged to the user's share, and the
 * admin rule's refusal.
 */
import type { webApi } from '@slack/bolt';
import { rateLimited } from '../../commands/rate-limit.ts';
import { NOT_ALLOWED, type CommandService } from '../../commands/service.ts';
import type { PreviewSelection, SubscribeDialog } from '../../commands/subscribe-dialog.ts';
import type { TenantAccount, TenantWorkspace } from '../../commands/workspace-accounts.ts';
import type { Display } from '../../domain/display.ts';
import type { Logger } from '../../log.ts';
import type { DialogMetadata } from '../blocks/dialog-payloads.ts';
import { renderSubscribeModal, type AccountOption, type DialogView } from '../blocks/subscribe-modal.ts';

export interface DialogDeps {
  /** The account's dialog and commands: the account the dialog acts in. */
  readonly dialog: SubscribeDialog;
  readonly commands: CommandService;
  /** The request's workspace: its accounts are the account field's choices, and none other. */
  readonly workspace: TenantWorkspace;
  /** The admin rule: the dialog does no work (no Halo request, no store read) for a user not allowed. */
  readonly canManage: (userId: string) => Promise<boolean>;
  readonly log: Logger;
  readonly display?: Display;
}

/** The dialog's dependencies that are not a request's (its workspace's admin rule, its account's services). */
export type DialogBase = Omit<DialogDeps, 'dialog' | 'commands' | 'canManage' | 'workspace'>;

/**
 * A trigger ID is good for 3 s: the dialog opens within this even when Halo's catalogue is slow, and says so;
 * the catalogue, once read, serves the next opening.
 */
const OPEN_WAIT_MS = 1500;

/** An Edit opens with this in the preview line; the figures follow by `views.update`. */
const PREVIEW_COMING = ':hourglass: Computing the preview…';

/** The account field's choices: the request's workspace's accounts, by name (one or none: no field). */
export function accountOptions(accounts: readonly TenantAccount[]): AccountOption[] {
  return accounts.map((a) => ({ id: a.account.id, name: a.account.name }));
}

/** The choices, read now (a field's change: no trigger ID to beat). */
export async function accountChoices(workspace: TenantWorkspace): Promise<AccountOption[]> {
  return accountOptions(await workspace.accounts());
}

/**
 * The preview, charged to the user's per-minute share of commands: each costs Halo requests, and a user
 * changing fields as fast as they can must not take Halo from everyone else. Over the share: the line says so.
 */
export async function chargedPreview(
  deps: DialogDeps,
  userId: string,
  selection: PreviewSelection,
): Promise<DialogView['preview']> {
  const share = deps.commands.allow(userId);
  if (!share.ok) {
    deps.log.info('subscribe dialog: preview skipped, the user is over their share', { user: userId });
    return `:hourglass: No preview: ${rateLimited(share.asked, share.retryInSeconds)}`;
  }
  return deps.dialog.preview(selection);
}

/** Refuses a user the admin rule does not allow: told in the channel when there is one, else logged. */
export async function refused(
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

/**
 * Opens the dialog, empty (in `channel`, or none) or filled in with the subscription `editing` names, in the
 * account `metadata` names (with several, the account field starts on it).
 */
export async function openSubscribeDialog(
  deps: DialogDeps,
  client: webApi.WebClient,
  triggerId: string,
  start: {
    readonly channel: string | null;
    readonly metadata: DialogMetadata;
    readonly userId: string;
    /** The workspace's accounts as read to pick this one: not read again before the trigger ID expires. */
    readonly accounts: readonly AccountOption[];
  },
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
    accounts: start.accounts,
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
