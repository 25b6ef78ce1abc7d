/**
 * Driving the subscribe dialog as an admin of one of several workspaces does, over signed HTTP: `/halo subscribe`
 * and the modal it opens, a field's change, the targets' suggestions and the submission, each payload carrying
 * its workspace as Slack's do (Bolt's `authorize` resolves the installation by it).
 */
import { expect } from 'vitest';
import {
  blockActionBody,
  modalActionPayload,
  postToBot,
  slashCommandBody,
  viewSubmissionPayload,
  type ModalState,
} from '../../fakes/sign.ts';
import type { SlackCall } from '../../fakes/slack.ts';
import { DIALOG_IDS, targetsBlockId } from '../../src/slack/blocks/dialog-payloads.ts';
import { SIGNING_SECRET, type Fakes, type InProcessBot } from '../harness.ts';

export type Modal = Record<string, unknown> & { blocks: Record<string, unknown>[]; private_metadata: string };
export const modalOf = (call: SlackCall) => call.args.view as Modal;
export const block = (view: Modal, id: string) =>
  view.blocks.find((b) => b.block_id === id) as
    | {
        type: string;
        element: Record<string, unknown> & { options?: { value: string; text: { text: string } }[] };
      }
    | undefined;

export const option = (value: string, label = value) => ({
  text: { type: 'plain_text', text: label },
  value,
});

/** The fields as Slack reports them; `account` only when the dialog has an account field. */
export function fields(opts: {
  channel?: string;
  account?: string;
  keys?: string[];
  targets?: number[];
  /** The account whose targets field holds `targets` (the view shown): default, `account`'s. */
  targetsOf?: string;
}) {
  return {
    [DIALOG_IDS.channel]: {
      [DIALOG_IDS.channel]: { type: 'conversations_select', selected_conversation: opts.channel ?? null },
    },
    ...(opts.account === undefined
      ? {}
      : {
          [DIALOG_IDS.account]: {
            [DIALOG_IDS.account]: { type: 'static_select', selected_option: option(opts.account) },
          },
        }),
    [DIALOG_IDS.types]: {
      [DIALOG_IDS.types]: {
        type: 'multi_static_select',
        selected_options: (opts.keys ?? []).map((k) => option(k)),
      },
    },
    [targetsBlockId(opts.targetsOf ?? opts.account)]: {
      [DIALOG_IDS.targets]: {
        type: 'multi_external_select',
        selected_options: (opts.targets ?? []).map((t) => option(String(t))),
      },
    },
    [DIALOG_IDS.severity]: { [DIALOG_IDS.severity]: { type: 'static_select', selected_option: null } },
  };
}

/** A payload as `team`'s Slack sends it: its team, its user's and its view's. */
function from(team: string, payload: Record<string, unknown>): Record<string, unknown> {
  payload.team = { id: team, domain: team.toLowerCase() };
  (payload.user as { team_id: string }).team_id = team;
  if (typeof payload.view === 'object' && payload.view !== null)
    (payload.view as { team_id: string }).team_id = team;
  return payload;
}

export interface DialogDriver {
  /** A payload from `team`, signed: the bot's answer to it (its ack's body). */
  send(team: string, payload: Record<string, unknown>): Promise<unknown>;
  /** `/halo TEXT` from `team`'s admin in `channel`, and the modal it opened. */
  openFrom(team: string, text: string, channel: string): Promise<{ id: string; view: Modal }>;
  /** The modal Slack now shows for this view ID, with `values` as the user's fields hold them. */
  current(id: string, values: ModalState['values']): ModalState;
  /** Picks `account` in the account field: the views.update it brings. */
  /** Picks `account` in the field; `picked`: targets the user had picked, and in which account's field. */
  pickAccount(
    team: string,
    id: string,
    account: string,
    keys?: string[],
    picked?: { targets?: number[]; targetsOf?: string },
  ): Promise<Modal>;
  /** Presses the modal's submit button with `values`: the bot's ack. */
  submit(team: string, id: string, values: ModalState['values']): Promise<unknown>;
}

export function dialogDriver(fakes: Fakes, bot: InProcessBot): DialogDriver {
  let sent = 0;
  const send = async (team: string, payload: Record<string, unknown>): Promise<unknown> => {
    const ack = await postToBot(bot.url, blockActionBody(from(team, payload)), {
      signingSecret: SIGNING_SECRET,
    });
    expect(ack.status).toBe(200);
    return ack.json;
  };
  const current = (id: string, values: ModalState['values']): ModalState => {
    const shown = fakes.slack.openModals.get(id)!;
    return { id, hash: shown.hash, view: shown.view, values };
  };
  return {
    send,
    current,
    async openFrom(team, text, channel) {
      const before = fakes.slack.modals.length;
      const id = `dlg-${++sent}`;
      const body = slashCommandBody({
        text,
        user_id: 'UADMIN',
        channel_id: channel,
        team_id: team,
        response_url: fakes.slack.responseUrl(id),
        trigger_id: `trigger-${id}`,
      });
      expect((await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
      const call = await fakes.slack.waitFor(() =>
        fakes.slack.modals
          .slice(before)
          .find((c) => c.method === 'views.open' && c.args.trigger_id === `trigger-${id}`),
      );
      return { id: [...fakes.slack.openModals.keys()].at(-1)!, view: modalOf(call) };
    },
    async pickAccount(team, id, account, keys = [], picked = {}) {
      const before = fakes.slack.modals.length;
      await send(
        team,
        modalActionPayload({
          userId: 'UADMIN',
          modal: current(id, fields({ account, keys, ...picked })),
          actionId: DIALOG_IDS.account,
          action: { type: 'static_select', selected_option: option(account) },
        }),
      );
      return modalOf(
        await fakes.slack.waitFor(() =>
          fakes.slack.modals
            .slice(before)
            .find((c) => c.method === 'views.update' && c.ok && c.args.view_id === id),
        ),
      );
    },
    submit(team, id, values) {
      return send(team, viewSubmissionPayload({ userId: 'UADMIN', modal: current(id, values) }));
    },
  };
}
