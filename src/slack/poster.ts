import type { webApi } from '@slack/bolt';
import type { SlackMessage } from './blocks/index.ts';
import { classifySlackError, type SlackFailure } from './failure.ts';

export type PostResult = { readonly ok: true; readonly ts: string } | ({ readonly ok: false } & SlackFailure);

/** Posting one message to one channel, with the failure already classified. */
export interface SlackPoster {
  post(channel: string, message: SlackMessage): Promise<PostResult>;
}

export function createSlackPoster(client: webApi.WebClient): SlackPoster {
  return {
    async post(channel, message) {
      try {
        const result = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          // Alerts link to Halo; an unfurled preview of the login page would be noise.
          unfurl_links: false,
          unfurl_media: false,
        });
        return { ok: true, ts: typeof result.ts === 'string' ? result.ts : '' };
      } catch (error) {
        return { ok: false, ...classifySlackError(error) };
      }
    },
  };
}
