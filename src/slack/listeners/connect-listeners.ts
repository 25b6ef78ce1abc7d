import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import type { AccountAdmin } from '../../commands/account-admin.ts';
import { NOT_ALLOWED } from '../../commands/service.ts';
import { NOT_SERVED, type Tenants } from '../../commands/workspace-accounts.ts';
import type { Logger } from '../../log.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import { DISCONNECT_ACTION_ID } from '../blocks/accounts-message.ts';
import { renderConnectModal, renderConnectResult } from '../blocks/connect-modal.ts';
import { CONNECT_IDS, decodeConnectState, decodeDisconnectValue } from '../blocks/payloads.ts';
import { reply } from './reply.ts';
import { requestWorkspace } from './tenancy.ts';

export interface ConnectDeps {
  readonly tenants: Tenants;
  readonly admin: AccountAdmin;
  readonly log: Logger;
}

/**
 * Slack waits 3 s for a view submission's answer, and an inline error can only be that answer: the key check
 * gets this long, and a Halo slower than that is told as such (nothing is saved).
 */
export const KEY_CHECK_BUDGET_MS = 2500;

/** Opens the connect modal (the admin rule and the encryption check were applied by the caller). */
export async function openConnectModal(
  client: webApi.WebClient,
  triggerId: string,
  channel: string | null,
  defaultApiUrl: string,
  log: Logger,
): Promise<boolean> {
  try {
    await client.views.open({
      trigger_id: triggerId,
      view: renderConnectModal(channel, defaultApiUrl) as never,
    });
    return true;
  } catch (error) {
    log.warn('connect: the dialog could not be opened', { error });
    return false;
  }
}

/**
 * The connect modal's submission (the key checked with Halo, then saved; or an inline error and nothing saved)
 * and the disconnect confirmation's button. Both act in the request's own workspace, whatever the payload says.
 */
export function registerConnect(app: App, deps: ConnectDeps): void {
  const { log, admin } = deps;

  app.view(CONNECT_IDS.callback, async ({ ack, body, view, context }) => {
    const userId = body.user.id;
    const workspace = requestWorkspace(deps.tenants, context);
    if (workspace === null) {
      await ack({ response_action: 'errors', errors: { [CONNECT_IDS.name]: NOT_SERVED } });
      return;
    }
    if (!(await workspace.canManage(userId))) {
      log.warn('connect: refused, user not allowed', { user: userId });
      await ack({ response_action: 'errors', errors: { [CONNECT_IDS.name]: NOT_ALLOWED.slice(0, 150) } });
      return;
    }
    const state = decodeConnectState(view.state.values);
    if (!state.ok) {
      await ack({ response_action: 'errors', errors: state.errors });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      admin.connect(workspace, { name: state.name, apiKey: state.apiKey, apiUrl: state.apiUrl, userId }),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), KEY_CHECK_BUDGET_MS))),
    ]).catch((error: unknown) => {
      log.error('connect: failed unexpectedly', { user: userId, error });
      return 'failed' as const;
    });
    clearTimeout(timer);
    if (outcome === null || outcome === 'failed') {
      await ack({
        response_action: 'errors',
        errors: {
          [CONNECT_IDS.key]:
            outcome === null
              ? 'Halo took too long to answer; nothing was saved unless /halo accounts lists it. Try again.'
              : 'Not saved: something went wrong on the bot’s side; the details are in its log.',
        },
      });
      return;
    }
    if (!outcome.ok) {
      const field = { name: CONNECT_IDS.name, key: CONNECT_IDS.key, url: CONNECT_IDS.url }[outcome.field];
      await ack({ response_action: 'errors', errors: { [field]: outcome.error } });
      return;
    }
    await ack({
      response_action: 'update',
      view: renderConnectResult(outcome.account.name, outcome.account.keyHint, outcome.created) as never,
    });
  });

  app.action<BlockAction<ButtonAction>>(
    DISCONNECT_ACTION_ID,
    async ({ ack, body, action, respond, context }) => {
      await ack();
      const userId = body.user.id;
      const workspace = requestWorkspace(deps.tenants, context);
      const accountId = decodeDisconnectValue(action.value);
      if (workspace === null || accountId === null) {
        await reply(respond, renderNotice('This button does not name an account of this workspace.'), log);
        return;
      }
      if (!(await workspace.canManage(userId))) {
        log.warn('disconnect refused: user not allowed', { user: userId });
        await reply(respond, renderNotice(NOT_ALLOWED), log);
        return;
      }
      const answer = await admin.disconnect(workspace, accountId, userId);
      await reply(respond, renderAnswer(answer), log, true);
    },
  );
}
