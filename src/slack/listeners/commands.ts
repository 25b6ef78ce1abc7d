import type { App } from '@slack/bolt';
import type { AccountAdmin } from '../../commands/account-admin.ts';
import { acrossAccounts, runAcross } from '../../commands/across-accounts.ts';
import { parseCommand, type HaloCommand } from '../../commands/command-parse.ts';
import { NOT_SERVED, type TenantWorkspace, type Tenants } from '../../commands/workspace-accounts.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import { helpAnswer, NOT_ALLOWED, STORE_UNAVAILABLE } from '../../commands/service.ts';
import type { Answer } from '../../commands/answers.ts';
import type { Logger } from '../../log.ts';
import { reply } from './reply.ts';
import { accountOptions, openSubscribeDialog, type DialogBase } from './dialog-open.ts';
import { openConnectModal } from './connect-listeners.ts';
import { requestWorkspace } from './tenancy.ts';

export interface CommandDeps {
  readonly tenants: Tenants;
  readonly admin: AccountAdmin;
  /** HALO_API_URL, which the connect modal says it uses when its URL is left empty. */
  readonly defaultApiUrl: string;
  readonly log: Logger;
  readonly onAcked?: (seconds: number) => void;
  readonly display?: Display;
  /** `/halo subscribe` alone opens the subscribe dialog, for a user allowed to subscribe. */
  readonly dialog?: DialogBase;
}

/**
 * `/halo`: acknowledged at once with an empty body (Slack's 3 s limit holds whatever Halo is doing); the answer
 * follows through `response_url`, privately. The workspace is resolved first; a command acting in an account
 * runs in the one `account:NAME` names (or the workspace's only one), through that account's services alone.
 */
export function registerCommands(app: App, deps: CommandDeps): void {
  const { log } = deps;
  const display = deps.display ?? DEFAULT_DISPLAY;
  // Any name: Slack sends an app only the commands its manifest defines, and a workspace where /halo is taken
  // renames it (/halosec). Matching '/halo' alone left such a command unacknowledged: "dispatch_failed".
  app.command(/^\//, async ({ ack, command, respond, client, context }) => {
    const started = performance.now();
    await ack();
    deps.onAcked?.((performance.now() - started) / 1000);
    const workspace = requestWorkspace(deps.tenants, context);
    const parsed = parseCommand(command.text);
    log.info('command', {
      user: command.user_id,
      channel: command.channel_id,
      command: parsed.ok ? parsed.command.kind : 'invalid',
    });
    if (workspace === null) {
      await reply(respond, renderNotice(NOT_SERVED), log);
      return;
    }
    if (!parsed.ok) {
      await reply(
        respond,
        renderAnswer({ kind: 'usage', error: parsed.error, usage: parsed.usage }, display),
        log,
      );
      return;
    }
    const { command: halo } = parsed;
    // Before anything that reads the workspace's accounts: help needs none, so it answers with the database down.
    if (halo.kind === 'help') {
      await reply(respond, renderAnswer(helpAnswer(halo), display), log);
      return;
    }
    if (halo.kind === 'connect' || halo.kind === 'accounts' || halo.kind === 'disconnect') {
      const answer = await administer(deps, workspace, halo, {
        userId: command.user_id,
        channel: command.channel_id,
        open: (channel) => openConnectModal(client, command.trigger_id, channel, deps.defaultApiUrl, log),
      });
      if (answer !== null) await reply(respond, renderAnswer(answer, display), log);
      return;
    }
    const asked = { userId: command.user_id, channelId: command.channel_id };
    /** The workspace's accounts are in the database: when it cannot be read, say so rather than stay silent. */
    const readable = async <T>(read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        log.error('command: the workspace’s accounts could not be read', { command: halo.kind, error });
        await reply(respond, renderNotice(STORE_UNAVAILABLE), log);
        return null;
      }
    };
    // A channel's subscriptions and mutes, named by ID or listed, are found in whichever account holds them.
    const across = parsed.account === undefined ? acrossAccounts(halo) : null;
    if (across !== null) {
      const accounts = await readable(() => workspace.accounts());
      if (accounts === null) return;
      if (accounts.length > 1) {
        await reply(respond, renderAnswer(await runAcross(workspace, accounts, across, asked), display), log);
        return;
      }
    }
    const dialog = deps.dialog !== undefined && isBareSubscribe(halo) ? deps.dialog : undefined;
    // The sample alert is the same whichever account posts it: it needs none named. The dialog starts on the
    // first account by name when none is named, and its account field offers the others.
    const chosen = await readable(() =>
      workspace.choose(parsed.account, halo.kind === 'test' || dialog !== undefined),
    );
    if (chosen === null) return;
    if (!chosen.ok) {
      await reply(respond, renderNotice(chosen.error), log);
      return;
    }
    const { account } = chosen;
    if (dialog !== undefined) {
      const canManage = (userId: string) => workspace.canManage(userId);
      const allowed = await canManage(command.user_id);
      const opened =
        allowed &&
        (await openSubscribeDialog(
          { ...dialog, workspace, canManage, dialog: account.dialog, commands: account.commands },
          client,
          command.trigger_id,
          {
            channel: command.channel_id,
            metadata: { editing: null, account: account.scope.account },
            userId: command.user_id,
            accounts: accountOptions(chosen.all),
          },
        ));
      await reply(
        respond,
        renderNotice(!allowed ? NOT_ALLOWED : opened ? DIALOG_OPENED : DIALOG_FAILED),
        log,
      );
      return;
    }
    const answer = await account.commands.run(halo, asked);
    await reply(respond, renderAnswer(answer, display), log);
  });
}

/** `/halo connect`, `accounts` and `disconnect`: the workspace's accounts. Null: answered already (a modal). */
async function administer(
  deps: CommandDeps,
  workspace: TenantWorkspace,
  command: Extract<HaloCommand, { kind: 'connect' | 'accounts' | 'disconnect' }>,
  request: { userId: string; channel: string; open: (channel: string) => Promise<boolean> },
): Promise<Answer | null> {
  if (command.kind === 'accounts') return deps.admin.list(workspace);
  if (!(await workspace.canManage(request.userId))) return { kind: 'notice', text: NOT_ALLOWED };
  if (command.kind === 'disconnect') return deps.admin.ask(workspace, command.name);
  const refusal = deps.admin.connectRefusal();
  if (refusal !== null) return { kind: 'notice', text: refusal };
  const opened = await request.open(request.channel);
  return {
    kind: 'notice',
    text: opened
      ? 'The connect dialog is open.'
      : 'The connect dialog could not open; run /halo connect again.',
  };
}

/** `/halo subscribe` without a filter (an account aside) opens the dialog; with any, it subscribes at once. */
function isBareSubscribe(command: HaloCommand): boolean {
  return (
    command.kind === 'subscribe' &&
    command.keys.length === 0 &&
    command.targetIds.length === 0 &&
    command.minSeverity === null
  );
}

const DIALOG_OPENED =
  'The subscribe dialog is open. To subscribe this channel to every event without it: `/halo subscribe severity:info`.';
const DIALOG_FAILED =
  'The subscribe dialog could not open; `/halo subscribe key:K target:ID severity:LEVEL` subscribes this channel directly.';
