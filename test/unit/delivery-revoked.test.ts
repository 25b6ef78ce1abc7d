import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import type { ChatPort, PostResult } from '../../src/pipeline/chat-port.ts';
import { Delivery } from '../../src/pipeline/delivery.ts';
import type { NewOutboxItem, OutboxItem, Store } from '../../src/pipeline/store-port.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import { failureHint } from '../../src/slack/blocks/slack-errors.ts';
import { openSqliteStore } from '../stores.ts';

// Issue 19, Lifecycle: a bot token revoked mid-run makes that workspace's outbox wait (rows kept, not failed,
// no attempt counted) while other workspaces post on; a reinstall resumes with nothing lost and nothing repeated.

const logs: string[] = [];
const log: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};
const running: Delivery<SlackMessage>[] = [];
const stores: Store[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop(200)));
  await Promise.all(stores.splice(0).map((s) => s.close()));
  logs.length = 0;
});

interface Workspace {
  readonly delivery: Delivery<SlackMessage>;
  readonly store: Store;
  /** Each post asked of Slack, by dedup key, refused or not. */
  readonly asked: string[];
  /** Posts Slack accepted. */
  readonly posted: string[];
  /** Rows handed to the poster, with their attempts count then. */
  readonly attempts: number[];
  /** markRetry and markFailed calls. */
  readonly marks: string[];
  revoked: string | null;
}

function item(channel: string, name: string): NewOutboxItem {
  return { channel, kind: 'alert', payload: '{}', dedupKey: `${channel}:${name}` };
}

async function workspace(items: NewOutboxItem[]): Promise<Workspace> {
  const base = openSqliteStore(':memory:');
  stores.push(base);
  await base.route(items, [], Date.now());
  const store: Store = Object.create(base) as Store;
  const self = { asked: [], posted: [], attempts: [], marks: [], revoked: null } as unknown as Workspace;
  store.nextDue = async (channel: string, now: number): Promise<OutboxItem | null> => {
    const row = await base.nextDue(channel, now);
    if (row !== null) self.attempts.push(row.attempts);
    return row;
  };
  store.markRetry = (id, next, error) => {
    self.marks.push(`retry ${error}`);
    return base.markRetry(id, next, error);
  };
  store.markFailed = (id, error, now) => {
    self.marks.push(`failed ${error}`);
    return base.markFailed(id, error, now);
  };
  const chat: ChatPort<SlackMessage> = {
    post(_channel, message): Promise<PostResult> {
      self.asked.push(message.text);
      if (self.revoked !== null) return Promise.resolve({ ok: false, kind: 'revoked', error: self.revoked });
      self.posted.push(message.text);
      return Promise.resolve({ ok: true, ts: `1.${self.posted.length}` });
    },
    update: () => Promise.resolve({ ok: true }),
    // Slack refused outright: the earlier attempt is known not to have posted.
    find: () => Promise.resolve({ found: false }),
    hint: failureHint,
  };
  const delivery = new Delivery<SlackMessage>({
    store,
    chat,
    clock: systemClock,
    log,
    render: (row) => ({ text: row.dedupKey, blocks: [] }),
    gapMs: 1,
    // Long: no probe comes before the reinstall; only resume() ends the wait.
    backoffMs: 600_000,
    backoffCapMs: 600_000,
    tickMs: 10,
    digestThreshold: 1,
  });
  Object.assign(self, { delivery, store });
  running.push(delivery);
  return self;
}

async function waitFor(condition: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Delivery: a revoked bot token', () => {
  it.each(['invalid_auth', 'account_inactive'])(
    'keeps the workspace waiting on %s while another posts, and resumes in order on reinstall',
    async (error) => {
      const a = await workspace([item('C1', 'a'), item('C1', 'b'), item('C2', 'c')]);
      const b = await workspace([item('C9', 'x'), item('C9', 'y')]);
      a.revoked = error;
      a.delivery.start();
      b.delivery.start();
      await waitFor(() => a.delivery.waitingForToken() && b.posted.length === 2);
      // The other workspace is untouched.
      expect(b.posted).toEqual(['C9:x', 'C9:y']);
      expect(await b.store.stats()).toMatchObject({ pending: 0, delivered: 2 });
      // The first refusal stops every channel of the workspace: at most the post each channel had in flight
      // was asked, never a later row.
      expect(a.asked.length).toBeGreaterThan(0);
      expect(a.asked.filter((key) => !['C1:a', 'C2:c'].includes(key))).toEqual([]);
      expect(new Set(a.asked).size).toBe(a.asked.length);
      expect(await a.store.stats()).toMatchObject({ pending: 3, failed: 0, delivered: 0 });
      expect(a.marks).toEqual([]);
      expect(logs).toEqual([
        `error Slack no longer accepts the workspace's bot token (${error}): its alerts wait in the outbox until the app is installed again (one workspace: set SLACK_BOT_TOKEN to the new token and restart).`,
      ]);

      a.revoked = null;
      a.delivery.resume();
      await waitFor(async () => (await a.store.stats()).delivered === 3);
      expect(a.delivery.waitingForToken()).toBe(false);
      // Nothing lost, nothing repeated, each channel in order; no row had an attempt counted, so no digest
      // (threshold 1) replaced the backlog.
      expect([...a.posted].sort()).toEqual(['C1:a', 'C1:b', 'C2:c']);
      expect(a.posted.filter((key) => key.startsWith('C1'))).toEqual(['C1:a', 'C1:b']);
      expect(a.attempts.every((n) => n === 0)).toBe(true);
      expect(a.marks).toEqual([]);
      expect(await a.store.stats()).toMatchObject({ pending: 0, failed: 0, delivered: 3 });
    },
  );
});
