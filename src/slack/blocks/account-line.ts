import { mrkdwn } from './escape.ts';
import { mrkdwnText, oneLine } from './text.ts';
import type { ContextBlock } from './types.ts';

/** Room for an account's name: names are short, and the line must stay one line on a phone. */
const NAME_BUDGET = 80;

/**
 * The line under an alert's or a digest's header naming its Halo account, shown when the workspace has more than
 * one (Display.accountName): the same channel may get several accounts' alerts.
 */
export function accountLine(name: string): ContextBlock {
  return { type: 'context', elements: [mrkdwnText(`Halo account: *${mrkdwn(oneLine(name), NAME_BUDGET)}*`)] };
}
