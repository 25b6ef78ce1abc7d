/**
 * A person in Slack, for the e2e tests of the alert actions: types `/halo …`, clicks a message's controls, and
 * reads what Slack shows them. Each request is signed and sent as Slack sends it, over HTTP.
 */
import { expect } from 'vitest';
import { blockActionBody, buttonClickPayload, postToBot, slashCommandBody } from '../../fakes/sign.ts';
import { SIGNING_SECRET, visibleText, type Fakes, type InProcessBot } from '../harness.ts';

export type Body = Record<string, unknown>;

let counter = 0;

export interface SlackUser {
  /** `/halo TEXT` in `channel`; resolves with the private answer's body. */
  slash(text: string, channel?: string): Promise<Body>;
  /** Clicks the button or picks the option (`value`) of the control `actionId` on a message in `channel`. */
  act(opts: {
    actionId: string;
    value: string;
    blocks: unknown[];
    channel?: string;
    messageTs?: string;
    /** A select menu's picked option; absent for a button. */
    selected?: { text: string; value: string };
  }): Promise<Body>;
}

export function slackUser(fakes: Fakes, bot: InProcessBot, userId: string): SlackUser {
  const answer = async (id: string): Promise<Body> =>
    (await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id))).body;
  return {
    async slash(text, channel = 'CALERTS') {
      const id = `cmd-${++counter}`;
      const body = slashCommandBody({
        text,
        user_id: userId,
        channel_id: channel,
        response_url: fakes.slack.responseUrl(id),
      });
      const ack = await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET });
      expect(ack.status).toBe(200);
      return answer(id);
    },
    async act(opts) {
      const id = `act-${++counter}`;
      // The message as the channel holds it: a coloured alert comes back with its blocks in an attachment.
      const channel = opts.channel ?? 'CALERTS';
      const shown = fakes.slack.posts.find((p) => p.channel === channel && p.ts === opts.messageTs);
      const color = shown?.updated === undefined ? shown?.color : shown.updated.color;
      const payload = buttonClickPayload({
        actionId: opts.actionId,
        value: opts.value,
        userId,
        channelId: channel,
        responseUrl: fakes.slack.responseUrl(id),
        messageBlocks: opts.blocks,
        ...(color === undefined ? {} : { messageColor: color }),
        ...(opts.messageTs === undefined ? {} : { messageTs: opts.messageTs }),
      });
      if (opts.selected !== undefined) {
        const [action] = payload.actions as Record<string, unknown>[];
        delete action!.value;
        action!.type = 'static_select';
        action!.selected_option = {
          text: { type: 'plain_text', text: opts.selected.text },
          value: opts.selected.value,
        };
      }
      const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
      expect(ack.status).toBe(200);
      return answer(id);
    },
  };
}

export const text = (body: Body): string => visibleText(body);
