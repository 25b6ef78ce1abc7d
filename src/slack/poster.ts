import type { webApi } from '@slack/bolt';
import type { SlackMessage } from './blocks/index.ts';
import { classifySlackError, type SlackFailure } from './failure.ts';

export type PostResult = { readonly ok: true; readonly ts: string } | ({ readonly ok: false } & SlackFailure);

/** Whether an earlier post of a message reached its channel; `unknown` says why that cannot be told. */
export type FoundResult =
  { readonly found: true; readonly ts: string } | { readonly found: false } | { readonly unknown: string };

/** The metadata event type that marks the bot's outbox posts, each carrying its outbox dedup key. */
export const POST_EVENT_TYPE = 'halo_alert';

/** Slack's clock and ours may differ a little; the window opens this much earlier than the attempt. */
const CLOCK_SLACK_MS = 2000;
const HISTORY_PAGE = 200;
// A post is found among the first messages after its attempt; a channel busier than this since then (a long
// downtime after a crash) is not read to its end, and the answer is "unknown" rather than a wrong "not found".
const HISTORY_MAX_PAGES = 5;

/** Posting one message to one channel, with the failure already classified. */
export interface SlackPoster {
  /** Posts `message`, tagged with `dedupKey` so that `findPosted` can later recognise it. */
  post(channel: string, message: SlackMessage, dedupKey: string): Promise<PostResult>;
  /** Looks in the channel, from `sinceMs` on, for a post tagged with `dedupKey`. */
  findPosted(channel: string, dedupKey: string, sinceMs: number): Promise<FoundResult>;
}

export function createSlackPoster(client: webApi.WebClient): SlackPoster {
  return {
    async post(channel, message, dedupKey) {
      try {
        const result = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          // Alerts link to Halo; an unfurled preview of the login page would be noise.
          unfurl_links: false,
          unfurl_media: false,
          // Lets a retry whose earlier attempt got no answer find out whether Slack had posted it anyway.
          metadata: { event_type: POST_EVENT_TYPE, event_payload: { key: dedupKey } },
        });
        return { ok: true, ts: typeof result.ts === 'string' ? result.ts : '' };
      } catch (error) {
        return { ok: false, ...classifySlackError(error) };
      }
    },

    async findPosted(channel, dedupKey, sinceMs) {
      try {
        let cursor: string | undefined;
        for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
          const result = await client.conversations.history({
            channel,
            oldest: ((sinceMs - CLOCK_SLACK_MS) / 1000).toFixed(6),
            include_all_metadata: true,
            limit: HISTORY_PAGE,
            ...(cursor === undefined ? {} : { cursor }),
          });
          const match = result.messages?.find((m) => postKey(m.metadata) === dedupKey);
          if (match !== undefined) return { found: true, ts: match.ts ?? '' };
          cursor = result.response_metadata?.next_cursor;
          if (result.has_more !== true || cursor === undefined || cursor === '') return { found: false };
        }
        return { unknown: `more than ${HISTORY_MAX_PAGES * HISTORY_PAGE} messages since the attempt` };
      } catch (error) {
        return { unknown: classifySlackError(error).error };
      }
    },
  };
}

/** The dedup key a message carries, when the bot posted it from the outbox. */
function postKey(metadata: { event_type?: string; event_payload?: object } | undefined): string | undefined {
  if (metadata?.event_type !== POST_EVENT_TYPE) return undefined;
  const key = (metadata.event_payload as { key?: unknown } | undefined)?.key;
  return typeof key === 'string' ? key : undefined;
}
