/**
 * A channel's pace across replicas (PostgreSQL, store/pg-leases.ts `PgPace`): two accounts of one workspace
 * posting to one channel from two replicas (two processes: their paces in memory apart) take turns through the
 * database, by its clock.
 */
import { expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import type { PostResult } from '../../src/pipeline/chat-port.ts';
import { Delivery } from '../../src/pipeline/delivery.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { failureHint } from '../../src/slack/blocks/slack-errors.ts';
import { PgPace } from '../../src/store/pg-leases.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import { describePg, freshSchema } from '../postgres.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

describePg('PgPace', () => {
  it('gives a channel’s turn to one taker per gap, holds it for a Retry-After, and keeps workspaces apart', async () => {
    const { url } = await freshSchema('pace');
    const tenants = await openPostgresTenants(url, quiet);
    const pace = new PgPace(tenants.sql.db);
    try {
      expect(await pace.take('T1', 'C1', 60_000)).toBe(0);
      const wait = await pace.take('T1', 'C1', 60_000);
      expect(wait).toBeGreaterThan(50_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      // Another channel, or the same channel ID in another workspace: a pace of its own.
      expect(await pace.take('T1', 'C2', 60_000)).toBe(0);
      expect(await pace.take('T2', 'C1', 60_000)).toBe(0);
      // Slack's Retry-After holds the channel for every replica; a shorter one never shortens a hold.
      expect(await pace.take('T3', 'C1', 0)).toBe(0);
      await pace.hold('T3', 'C1', 120_000);
      await pace.hold('T3', 'C1', 1000);
      expect(await pace.take('T3', 'C1', 0)).toBeGreaterThan(100_000);
    } finally {
      await tenants.close();
    }
  });
});

/** A chat whose posts take `postMs`, counting the posts in flight to each channel at once. */
function slowChat(postMs: number) {
  let inFlight = 0;
  const chat = {
    most: 0,
    posted: [] as string[],
    async post(_channel: string, message: { text: string }): Promise<PostResult> {
      inFlight++;
      chat.most = Math.max(chat.most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, postMs));
      inFlight--;
      chat.posted.push(message.text);
      return { ok: true, ts: `${chat.posted.length}.0` };
    },
    update: () => Promise.resolve({ ok: true as const }),
    find: () => Promise.resolve({ found: false as const }),
    hint: failureHint,
  };
  return chat;
}

async function queue(store: Store, keys: readonly string[]): Promise<void> {
  await store.route(
    keys.map((key) => ({ channel: 'CSHARED', kind: 'notice' as const, payload: '{}', dedupKey: key })),
    [],
    systemClock.now(),
  );
}

describePg('two accounts of one workspace, on two replicas, posting to one channel', () => {
  it.each([
    ['take turns through the database: one post in flight to it at a time', true, 1],
    ['without the shared pace, post to it at once (what the pace prevents)', false, 2],
  ])('%s', async (_, shared, most) => {
    const { url } = await freshSchema('sharedpace');
    // Two processes: each has its own pool and its own pace in memory.
    const replicas = [await openPostgresTenants(url, quiet), await openPostgresTenants(url, quiet)];
    const stores = [
      replicas[0]!.scoped({ workspace: 'T1', account: 'a1' }),
      replicas[1]!.scoped({ workspace: 'T1', account: 'a2' }),
    ];
    await queue(stores[0]!, ['a1-1', 'a1-2']);
    await queue(stores[1]!, ['a2-1', 'a2-2']);
    const chat = slowChat(100);
    const deliveries = stores.map((store, i) => {
      const pace = new PgPace(replicas[i]!.sql.db);
      return new Delivery<{ text: string }>({
        store,
        chat,
        clock: systemClock,
        log: quiet,
        render: (item) => ({ text: item.dedupKey }),
        gapMs: 300,
        tickMs: 20,
        ...(shared
          ? {
              sharedPace: {
                take: (channel: string, gapMs: number) => pace.take('T1', channel, gapMs),
                hold: (channel: string, ms: number) => pace.hold('T1', channel, ms),
              },
            }
          : {}),
      });
    });
    for (const delivery of deliveries) delivery.start();
    while (chat.posted.length < 4) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(deliveries.map((delivery) => delivery.stop(1000)));
    await Promise.all(replicas.map((tenants) => tenants.close()));
    expect(chat.most).toBe(most);
    expect(chat.posted.filter((key) => key.startsWith('a1'))).toEqual(['a1-1', 'a1-2']);
    expect(chat.posted.filter((key) => key.startsWith('a2'))).toEqual(['a2-1', 'a2-2']);
  });
});
