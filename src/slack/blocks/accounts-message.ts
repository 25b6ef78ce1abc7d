/**
 * `/halo accounts` and `/halo disconnect`'s confirmation. Pure. An account is shown by name, status, last poll,
 * last error code and its key's last 4 characters: nothing more of the key exists outside the store.
 */
import type { AccountView } from '../../commands/workspace-accounts.ts';
import { code, mrkdwn, slackDate } from './escape.ts';
import { LIMITS } from './limits.ts';
import { ACTION_IDS, encodeDisconnectValue } from './payloads.ts';
import { mrkdwnText, plainText } from './text.ts';
import type { Block, SlackMessage } from './types.ts';

export const DISCONNECT_ACTION_ID = ACTION_IDS.disconnectConfirm;

/** Accounts listed at most; a workspace has a handful. */
const MAX_LISTED = 40;

/** What an account's line shows: never its key, only the key's last 4 characters. */
export type AccountLineView = Pick<AccountView, 'name' | 'status' | 'lastPollAt' | 'lastError' | 'keyHint'>;

/** One account's health on one line: name, status, last poll, last error code, key …last4. */
export function accountStatusLine(account: AccountLineView): string {
  const status = account.status === 'active' ? ':white_check_mark: active' : ':red_circle: needs a new key';
  const polled =
    account.lastPollAt === null
      ? 'not polled yet'
      : `last poll ${slackDate(new Date(account.lastPollAt)) ?? new Date(account.lastPollAt).toISOString()}`;
  const error = account.lastError === null ? '' : ` · last error ${code(account.lastError, 60)}`;
  return `*${mrkdwn(account.name, 60)}* — ${status} · ${polled}${error} · key …${mrkdwn(account.keyHint, 4)}`;
}

export function renderAccounts(accounts: readonly AccountView[]): SlackMessage {
  if (accounts.length === 0) {
    const text = 'This workspace has no Halo account connected: an admin connects one with `/halo connect`.';
    return { text, blocks: [{ type: 'section', text: mrkdwnText(text) }] };
  }
  const shown = accounts.slice(0, MAX_LISTED);
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwnText(
        `*Halo accounts of this workspace (${accounts.length})*` +
          (accounts.length > 1 ? ' — name one in a command with `account:NAME`' : ''),
      ),
    },
    ...shown.map((account): Block => ({
      type: 'section',
      text: mrkdwnText(accountStatusLine(account).slice(0, LIMITS.sectionText)),
    })),
  ];
  const more = accounts.length - shown.length;
  if (more > 0) blocks.push({ type: 'context', elements: [mrkdwnText(`… and ${more} more`)] });
  return { text: `Halo accounts: ${accounts.map((a) => mrkdwn(a.name, 60)).join(', ')}`, blocks };
}

/** What goes, and the button that confirms it (its value names the account by ID). */
export function renderDisconnectConfirm(account: AccountView): SlackMessage {
  const name = mrkdwn(account.name, 60);
  const text = `Disconnect the Halo account *${name}* (key …${mrkdwn(account.keyHint, 4)})? Its polling stops, and its key, subscriptions, mutes, alerts history and audit here are deleted at once. Nothing changes in Halo.`;
  const value = encodeDisconnectValue(account.id);
  const blocks: Block[] = [{ type: 'section', text: mrkdwnText(text) }];
  if (value !== undefined)
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: plainText('Disconnect'),
          action_id: DISCONNECT_ACTION_ID,
          value,
          style: 'danger',
          confirm: {
            title: plainText('Disconnect this account?'),
            text: plainText(`${account.name.slice(0, 60)}: its key and everything stored for it go now.`),
            confirm: plainText('Disconnect'),
            deny: plainText('Cancel'),
          },
        },
      ],
    });
  return { text: `Disconnect ${name}?`, blocks };
}
