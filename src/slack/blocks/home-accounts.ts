/**
 * The App Home's section of Halo accounts: each account's health on a row of its own (name, status, last poll,
 * last error code, key …last4), those whose key Halo refused first and marked, with what to do. Pure.
 */
import { accountStatusLine, type AccountLineView } from './accounts-message.ts';
import { LIMITS } from './limits.ts';
import { mrkdwnText, plainText } from './text.ts';
import type { Block } from './types.ts';

/** Accounts given a row of their own; the rest are counted (`/halo accounts` lists them all). */
export const MAX_HOME_ACCOUNTS = 10;

/**
 * The section: one row each, those whose key Halo refused first, with what to do; at most
 * {@link MAX_HOME_ACCOUNTS} rows.
 */
export function accountBlocks(accounts: readonly AccountLineView[]): Block[] {
  if (accounts.length === 0) return [];
  const refused = accounts.filter((account) => account.status === 'needs_key');
  const ordered = [...refused, ...accounts.filter((account) => account.status !== 'needs_key')];
  const blocks: Block[] = [{ type: 'divider' }, { type: 'header', text: plainText('Halo accounts') }];
  for (const account of ordered.slice(0, MAX_HOME_ACCOUNTS)) {
    const line = accountStatusLine(account);
    const text =
      account.status === 'needs_key'
        ? `:warning: ${line}\nHalo refused this account's key: it is polled hourly until an admin gives it a new key with \`/halo connect\` and the same name.`
        : line;
    blocks.push({ type: 'section', text: mrkdwnText(text.slice(0, LIMITS.sectionText)) });
  }
  const more = ordered.length - MAX_HOME_ACCOUNTS;
  if (more > 0)
    blocks.push({
      type: 'context',
      elements: [mrkdwnText(`… and ${more} more: \`/halo accounts\` lists them all`)],
    });
  return blocks;
}
