import type { webApi } from '@slack/bolt';
import type { ChatFailure, ChatPort, FoundResult } from '../pipeline/chat-port.ts';
import { messageContent, type SlackMessage } from './blocks/index.ts';
import { classifySlackError, failureHint } from './blocks/slack-errors.ts';

/** The metadata event type that marks the bot's outbox posts, each carrying its outbox dedup key. */
export const POST_EVENT_TYPE = 'halo_alert';

/** Slack's clock and ours may differ a little; the window opens this much earlier than the attempt. */
const CLOCK_SLACK_MS = 2000;
const HISTORY_PAGE = 200;
// A post is found among the first messages after its attempt; a channel busier than this since then (a long
// downtime after a crash) is not read to its end, and the answer is "unknown" rather than a wrong "not found".
const HISTORY_MAX_PAGES = 5;

type HistoryMessage = { ts?: string; metadata?: { event_type?: string; event_payload?: object } };
type HistoryPage = {
  messages?: HistoryMessage[];
  has_more?: boolean;
  response_metadata?: { next_cursor?: string };
};

/**
 * A client, or where to get the current one: a workspace's client changes when it is installed again, and is
 * null once it has been uninstalled.
 */
export type ClientSource = webApi.WebClient | (() => Promise<webApi.WebClient | null>);

/** What a call gets when the workspace has no installation: it waits like one whose token Slack refuses. */
const NOT_INSTALLED: ChatFailure = { kind: 'revoked', error: 'not_installed' };
const LOOKUP_FAILED: ChatFailure = { kind: 'transient', error: 'token_lookup_failed' };

/** The pipeline's chat port, on Slack's Web API. */
export function createSlackChat(source: ClientSource): ChatPort<SlackMessage> {
  // A lookup that fails (the store, for a moment) is a failure for now, not a refused token.
  const current = async (): Promise<{ client: webApi.WebClient } | { failure: ChatFailure }> => {
    if (typeof source !== 'function') return { client: source };
    try {
      const client = await source();
      return client === null ? { failure: NOT_INSTALLED } : { client };
    } catch {
      return { failure: LOOKUP_FAILED };
    }
  };
  return {
    async post(channel, message, options) {
      const got = await current();
      if ('failure' in got) return { ok: false, ...got.failure };
      const { client } = got;
      try {
        // Cast: the SDK's argument type is a union of exclusive shapes (text/blocks/attachments, threaded or not)
        // that an object built from parts cannot be narrowed to; Slack checks the shape itself.
        const args = {
          channel,
          ...messageContent(message),
          // Alerts link to Halo; an unfurled preview of the login page would be noise.
          unfurl_links: false,
          unfurl_media: false,
          // Lets a retry whose earlier attempt got no answer find out whether Slack had posted it anyway.
          metadata: { event_type: POST_EVENT_TYPE, event_payload: { key: options.dedupKey } },
          ...(options.threadTs === undefined
            ? {}
            : { thread_ts: options.threadTs, reply_broadcast: options.broadcast === true }),
        } as webApi.ChatPostMessageArguments;
        const result = await client.chat.postMessage(args);
        return { ok: true, ts: typeof result.ts === 'string' ? result.ts : '' };
      } catch (error) {
        return { ok: false, ...classifySlackError(error) };
      }
    },

    async update(channel, ts, message) {
      const got = await current();
      if ('failure' in got) return { ok: false, ...got.failure };
      const { client } = got;
      try {
        await client.chat.update({ channel, ts, ...messageContent(message) });
        return { ok: true };
      } catch (error) {
        return { ok: false, ...classifySlackError(error) };
      }
    },

    async find(channel, dedupKey, sinceMs, threadTs) {
      const oldest = ((sinceMs - CLOCK_SLACK_MS) / 1000).toFixed(6);
      const got = await current();
      if ('failure' in got) return { unknown: got.failure.error };
      const { client } = got;
      try {
        let cursor: string | undefined;
        for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
          const common = {
            channel,
            oldest,
            include_all_metadata: true,
            limit: HISTORY_PAGE,
            ...(cursor === undefined ? {} : { cursor }),
          };
          // A thread's replies are not in the channel's history: they are read from the thread.
          const result: HistoryPage =
            threadTs === undefined
              ? await client.conversations.history(common)
              : await client.conversations.replies({ ...common, ts: threadTs });
          const match = result.messages?.find((m) => postKey(m.metadata) === dedupKey);
          if (match !== undefined) return { found: true, ts: match.ts ?? '' } satisfies FoundResult;
          cursor = result.response_metadata?.next_cursor;
          if (result.has_more !== true || cursor === undefined || cursor === '') return { found: false };
        }
        return { unknown: `more than ${HISTORY_MAX_PAGES * HISTORY_PAGE} messages since the attempt` };
      } catch (error) {
        return { unknown: classifySlackError(error).error };
      }
    },

    hint: failureHint,
  };
}

/** The dedup key a message carries, when the bot posted it from the outbox. */
function postKey(metadata: { event_type?: string; event_payload?: object } | undefined): string | undefined {
  if (metadata?.event_type !== POST_EVENT_TYPE) return undefined;
  const key = (metadata.event_payload as { key?: unknown } | undefined)?.key;
  return typeof key === 'string' ? key : undefined;
}
