import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import type { PostResult } from '../../src/pipeline/chat-port.ts';
import { channelPacing, Delivery } from '../../src/pipeline/delivery.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { failureHint } from '../../src/slack/blocks/slack-errors.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

/** A chat that answers each post on a later turn, counting the posts in flight to each channel at once. */
function countingChat() {
  const inFlight = new Map<string, number>();
  const chat = {
    most: 0,
    posted: [] as string[],
    async post(channel: string, message: { text: string }): Promise<PostResult> {
      const now = (inFlight.get(channel) ?? 0) + 1;
      inFlight.set(channel, now);
      chat.most = Math.max(chat.most, now);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight.set(channel, now - 1);
      chat.posted.push(message.text);
      return { ok: true, ts: `${chat.posted.length}.0` };
    },
    update: () => Promise.resolve({ ok: true as const }),
    find: () => Promise.resolve({ found: false as const }),
    hint: failureHint,
  };
  return chat;
}

async function queue(store: Store, channel: string, keys: readonly string[]): Promise<void> {
  await store.route(
    keys.map((key) => ({ channel, kind: 'notice' as const, payload: '{}', dedupKey: key })),
    [],
    systemClock.now(),
  );
}

describe('two accounts of one workspace posting to one channel', () => {
  it.each([
    ['share its pace: one post in flight to it at a time', true, 1],
    ['without shared pacing, post to it at once (what the sharing prevents)', false, 2],
  ])('%s', async (_, shared, most) => {
    const tenants = openSqliteTenants(':memory:');
    const first = tenants.scoped({ workspace: 'T1', account: 'a1' });
    const second = tenants.scoped({ workspace: 'T1', account: 'a2' });
    await queue(first, 'CSHARED', ['a1-1', 'a1-2', 'a1-3']);
    await queue(second, 'CSHARED', ['a2-1', 'a2-2', 'a2-3']);
    const chat = countingChat();
    const pacing = channelPacing();
    const deliveries = [first, second].map(
      (store) =>
        new Delivery<{ text: string }>({
          store,
          chat: chat,
          clock: systemClock,
          log: quiet,
          render: (item) => ({ text: item.dedupKey }),
          gapMs: 0,
          tickMs: 10,
          ...(shared ? { pacing } : {}),
        }),
    );
    for (const delivery of deliveries) delivery.start();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (chat.posted.length === 6) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    await Promise.all(deliveries.map((delivery) => delivery.stop(1000)));
    await tenants.close();
    expect(chat.most).toBe(most);
    expect(chat.posted.filter((key) => key.startsWith('a1'))).toEqual(['a1-1', 'a1-2', 'a1-3']);
    expect(chat.posted.filter((key) => key.startsWith('a2'))).toEqual(['a2-1', 'a2-2', 'a2-3']);
  });
});
