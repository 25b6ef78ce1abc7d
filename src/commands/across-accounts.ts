/**
 * The commands about a channel's own objects, run without `account:NAME` in a workspace of several accounts:
 * listing shows every account's (`/halo subscriptions`, `/halo mutes`), and an ID names one object whichever
 * account holds it (`/halo unsubscribe ID`, `/halo unmute ID`: IDs are numbered across accounts, and each
 * account's view holds only its own rows, so asking each in turn finds it in the one that has it, and in no
 * other workspace).
 */
import { notice, type Answer } from './answers.ts';
import type { HaloCommand } from './command-parse.ts';
import type { CommandContext } from './service.ts';
import { NOT_ALLOWED } from './service.ts';
import type { TenantAccount, TenantWorkspace } from './workspace-accounts.ts';

/** What runs across the accounts: a listing, or one object named by its ID. */
export type AcrossCommand =
  | { readonly kind: 'subscriptions' }
  | { readonly kind: 'mutes' }
  | { readonly kind: 'unmute'; readonly id: number }
  | { readonly kind: 'unsubscribe'; readonly id: number };

/** The command, when it is one that may run across the workspace's accounts; else null. */
export function acrossAccounts(command: HaloCommand): AcrossCommand | null {
  if (command.kind === 'subscriptions' || command.kind === 'mutes') return { kind: command.kind };
  if (command.kind === 'unmute') return { kind: 'unmute', id: command.id };
  if (command.kind === 'unsubscribe' && command.target !== 'all')
    return { kind: 'unsubscribe', id: command.target.id };
  return null;
}

export async function runAcross(
  workspace: TenantWorkspace,
  accounts: readonly TenantAccount[],
  command: AcrossCommand,
  context: CommandContext,
): Promise<Answer> {
  switch (command.kind) {
    case 'subscriptions': {
      const answers = await Promise.all(accounts.map((a) => a.commands.run(command, context)));
      const lists = answers.filter((a) => a.kind === 'subscriptions');
      if (lists.length !== answers.length) return answers.find((a) => a.kind !== 'subscriptions')!;
      return {
        kind: 'subscriptions',
        channel: context.channelId,
        subscriptions: lists.flatMap((a) => a.subscriptions).sort((a, b) => a.id - b.id),
        defaultRoute: lists.find((a) => a.defaultRoute !== null)?.defaultRoute ?? null,
      };
    }
    case 'mutes': {
      const answers = await Promise.all(accounts.map((a) => a.commands.mutes.list(context.channelId)));
      return {
        kind: 'mutes',
        channel: context.channelId,
        mutes: answers.flatMap((a) => (a.kind === 'mutes' ? a.mutes : [])).sort((a, b) => a.id - b.id),
      };
    }
    case 'unmute': {
      let last: Answer = notice(`This channel has no mute #${command.id} in force. /halo mutes lists them.`);
      for (const account of accounts) {
        last = await account.commands.mutes.unmute(command.id, context.userId, context.channelId);
        // Removed, or refused (the admin rule is the workspace's: every account would refuse alike).
        if (last.kind !== 'notice' || !last.text.startsWith('This channel has no mute')) return last;
      }
      return last;
    }
    case 'unsubscribe': {
      if (!(await workspace.canManage(context.userId))) return notice(NOT_ALLOWED);
      const { id } = command;
      for (const account of accounts)
        if (await account.commands.unsubscribe(context.channelId, id, context.userId))
          return notice(`Removed subscription #${id}.`);
      return notice(`This channel has no subscription #${id}. /halo subscriptions lists them.`);
    }
  }
}
