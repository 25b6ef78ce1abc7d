/**
 * Which channels refuse the bot's posts for good right now: the last post each got was refused as `channel` or
 * `auth` (bot removed, channel archived, token revoked), and none was accepted since. `/healthz` reports them as
 * degraded: alerts going nowhere is the outage a monitor exists for, even while Halo polls fine.
 *
 * Kept in memory by the replica that posts: a restart forgets it until the next refused post, which the outbox's
 * failed count (`alertsFailed`) still shows meanwhile.
 */
import type { ChatPort, PostResult } from './chat-port.ts';

export interface Refusal {
  readonly channel: string;
  /** The chat service's error code, e.g. `not_in_channel`. */
  readonly error: string;
}

export class ChannelRefusals {
  private readonly refused = new Map<string, string>();

  /** `chat`, with each post's outcome noted here. */
  watch<M>(chat: ChatPort<M>): ChatPort<M> {
    return {
      post: async (channel, message, options) => {
        const result = await chat.post(channel, message, options);
        this.note(channel, result);
        return result;
      },
      update: (channel, ts, message) => chat.update(channel, ts, message),
      find: (channel, dedupKey, sinceMs, threadTs) => chat.find(channel, dedupKey, sinceMs, threadTs),
      hint: (failure, channel) => chat.hint(failure, channel),
    };
  }

  note(channel: string, result: PostResult): void {
    if (result.ok) this.refused.delete(channel);
    else if (['channel', 'auth', 'revoked'].includes(result.kind)) this.refused.set(channel, result.error);
    // Other failures say nothing about the channel: they are retried, or concern one message.
  }

  list(): Refusal[] {
    return [...this.refused].map(([channel, error]) => ({ channel, error }));
  }
}
