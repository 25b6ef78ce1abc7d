import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import { Delivery, type DeliveryOptions } from '../../src/pipeline/delivery.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import type { ChatPort, FoundResult, PostOptions, PostResult } from '../../src/pipeline/chat-port.ts';
import { createSlackChat } from '../../src/slack/slack-chat.ts';
import { failureHint } from '../../src/slack/blocks/slack-errors.ts';
import { openSqliteStore } from '../stores.ts';
import type { NewOutboxItem, OutboxItem, Store } from '../../src/pipeline/store-port.ts';
import { startFakeSlack, type FakeSlack } from '../../fakes/slack.ts';

interface Post {
  readonly channel: string;
  /** The row's dedup key: `render` below puts it in the text. */
  readonly key: string;
  readonly at: number;
}

type Answer = (post: Post, n: number) => PostResult | Promise<PostResult>;

interface Lookup {
  readonly channel: string;
  readonly key: string;
  readonly sinceMs: number;
}

const ok: PostResult = { ok: true, ts: '1.0' };

/**
 * A SlackPoster that records every post and answers with `answer` (called with the post and its index), and
 * every lookup of an earlier post, answered by `find`.
 */
function fakePoster(
  answer: Answer = () => ok,
  find: (lookup: Lookup) => FoundResult = () => ({ found: false }),
): ChatPort<SlackMessage> & { posts: Post[]; lookups: Lookup[]; answer: Answer } {
  const poster = {
    posts: [] as Post[],
    lookups: [] as Lookup[],
    answer,
    async post(channel: string, message: SlackMessage, { dedupKey }: PostOptions): Promise<PostResult> {
      expect(dedupKey, 'the post is tagged with its own row').toBe(message.text);
      const post = { channel, key: message.text, at: Date.now() };
      poster.posts.push(post);
      return poster.answer(post, poster.posts.length - 1);
    },
    update: () => Promise.resolve({ ok: true as const }),
    hint: failureHint,
    find(channel: string, key: string, sinceMs: number): Promise<FoundResult> {
      const lookup = { channel, key, sinceMs };
      poster.lookups.push(lookup);
      return Promise.resolve(find(lookup));
    },
  };
  return poster;
}

/** Records the attempts count of every row handed to the poster, and every markRetry. */
function spy(store: Store): { store: Store; attempts: Map<string, number[]>; retries: number[] } {
  const attempts = new Map<string, number[]>();
  const retries: number[] = [];
  const spied: Store = Object.create(store) as Store;
  spied.nextDue = async (channel: string, now: number): Promise<OutboxItem | null> => {
    const item = await store.nextDue(channel, now);
    if (item !== null) attempts.set(item.dedupKey, [...(attempts.get(item.dedupKey) ?? []), item.attempts]);
    return item;
  };
  spied.markRetry = (id: number, next: number, error: string): Promise<void> => {
    retries.push(id);
    return store.markRetry(id, next, error);
  };
  return { store: spied, attempts, retries };
}

const logs: string[] = [];
const log: Logger = {
  debug: (m) => logs.push(`debug ${m}`),
  info: (m) => logs.push(`info ${m}`),
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

function item(channel: string, name: string): NewOutboxItem {
  return { channel, kind: 'alert', payload: '{}', dedupKey: `${channel}:${name}` };
}

async function setup(
  items: NewOutboxItem[],
  chat: ChatPort<SlackMessage>,
  options: Partial<DeliveryOptions<SlackMessage>> = {},
): Promise<{ delivery: Delivery<SlackMessage>; store: Store }> {
  const store = openSqliteStore(':memory:');
  stores.push(store);
  await store.route(items, [], Date.now());
  const delivery = new Delivery({
    store,
    chat,
    clock: systemClock,
    log,
    render: (row) => ({ text: row.dedupKey, blocks: [] }),
    gapMs: 5,
    backoffMs: 20,
    backoffCapMs: 1000,
    tickMs: 10,
    ...options,
  });
  running.push(delivery);
  return { delivery, store: options.store ?? store };
}

async function waitFor(condition: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const keys = (posts: Post[], channel?: string) =>
  posts.filter((p) => channel === undefined || p.channel === channel).map((p) => p.key);

describe('Delivery: order and pace', () => {
  it("posts each channel's rows in order, spaced by the gap", async () => {
    const poster = fakePoster();
    const items = ['a', 'b', 'c', 'd'].flatMap((name) => [item('C1', name), item('C2', name)]);
    const { delivery, store } = await setup(items, poster, { gapMs: 30 });
    delivery.start();
    await waitFor(() => poster.posts.length === 8);
    expect(keys(poster.posts, 'C1')).toEqual(['C1:a', 'C1:b', 'C1:c', 'C1:d']);
    expect(keys(poster.posts, 'C2')).toEqual(['C2:a', 'C2:b', 'C2:c', 'C2:d']);
    for (const channel of ['C1', 'C2']) {
      const times = poster.posts.filter((p) => p.channel === channel).map((p) => p.at);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(28);
    }
    await waitFor(async () => (await store.stats()).delivered === 8);
    expect(await store.stats()).toMatchObject({ pending: 0, failed: 0, delivered: 8 });
  });

  it('picks up rows added later when kicked', async () => {
    const poster = fakePoster();
    const { delivery, store } = await setup([], poster, { tickMs: 60_000 });
    delivery.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.route([item('C1', 'late')], [], Date.now());
    delivery.kick();
    await waitFor(() => poster.posts.length === 1, 1000);
    expect(keys(poster.posts)).toEqual(['C1:late']);
  });

  // A kick while schedule() is still reading the outbox must not be dropped.
  it('does not lose a kick that arrives while the outbox is being read', async () => {
    const poster = fakePoster();
    const { delivery, store } = await setup([], poster, { tickMs: 60_000 });
    delivery.start();
    await store.route([item('C1', 'late')], [], Date.now());
    delivery.kick();
    await waitFor(() => poster.posts.length === 1, 250);
  });
});

describe('Delivery: failures stay in their channel', () => {
  it('keeps posting to one channel while another is stuck and then failing', async () => {
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const poster = fakePoster(async (post) => {
      if (post.channel !== 'C1') return ok;
      await stuck;
      return { ok: false, kind: 'transient', error: 'http_503' };
    });
    const items = [item('C1', 'a'), ...['a', 'b', 'c', 'd', 'e'].map((name) => item('C2', name))];
    const { delivery, store } = await setup(items, poster);
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 5);
    expect(keys(poster.posts, 'C2')).toEqual(['C2:a', 'C2:b', 'C2:c', 'C2:d', 'C2:e']);
    expect(keys(poster.posts, 'C1')).toEqual(['C1:a']);
    release();
    await waitFor(() => keys(poster.posts, 'C1').length === 2);
  });

  it('pauses only the rate-limited channel, for as long as Slack says, at no attempt', async () => {
    let limited = false;
    const poster = fakePoster((post) => {
      if (post.key === 'C1:a' && !limited) {
        limited = true;
        return { ok: false, kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 500 };
      }
      return ok;
    });
    const base = openSqliteStore(':memory:');
    stores.push(base);
    const spied = spy(base);
    const items = [item('C1', 'a'), item('C1', 'b'), item('C2', 'a'), item('C2', 'b'), item('C2', 'c')];
    const { delivery } = await setup(items, poster, { store: spied.store });
    await base.route(items, [], Date.now());
    delivery.start();
    await waitFor(() => poster.posts.length === 6);
    const first = poster.posts.find((p) => p.key === 'C1:a')!;
    const retry = poster.posts.filter((p) => p.key === 'C1:a')[1]!;
    expect(retry.at - first.at).toBeGreaterThanOrEqual(495);
    // C2 went on during C1's pause (500 ms, so that a loaded machine still fits C2's three posts in it).
    expect(poster.posts.filter((p) => p.channel === 'C2').every((p) => p.at < retry.at)).toBe(true);
    expect(keys(poster.posts, 'C1')).toEqual(['C1:a', 'C1:a', 'C1:b']);
    expect(spied.attempts.get('C1:a')).toEqual([0, 0]);
    expect(spied.retries).toEqual([]);
  });

  it("fails all of a channel's pending rows when the channel cannot receive", async () => {
    const poster = fakePoster((post) =>
      post.channel === 'C1' ? { ok: false, kind: 'channel', error: 'not_in_channel' } : ok,
    );
    const items = [item('C1', 'a'), item('C1', 'b'), item('C1', 'c'), item('C2', 'a')];
    const { delivery, store } = await setup(items, poster);
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts).sort()).toEqual(['C1:a', 'C2:a']);
    expect(await store.stats()).toMatchObject({ failed: 3, delivered: 1 });
    expect((await store.recentFailures(10)).map((f) => [f.channel, f.error])).toEqual([
      ['C1', 'not_in_channel'],
      ['C1', 'not_in_channel'],
      ['C1', 'not_in_channel'],
    ]);
    expect(logs).toContain(
      'error Slack will not accept posts to channel C1 (not_in_channel): invite the bot: /invite @halo in that channel (or remove its subscription, or change HALO_ALERT_CHANNEL).',
    );
  });

  it.each(['transient', 'auth'] as const)(
    'retries a %s failure with a doubling backoff up to its cap for as long as it takes, failing nothing',
    async (kind) => {
      let failing = true;
      const error = kind === 'auth' ? 'invalid_auth' : 'http_503';
      const poster = fakePoster((post) => (post.key === 'C1:a' && failing ? { ok: false, kind, error } : ok));
      const base = openSqliteStore(':memory:');
      stores.push(base);
      await base.route([item('C1', 'a'), item('C1', 'b')], [], Date.now());
      // The wait asked for at each retry: the time recorded for it, less the time the delivery read last (the
      // "now" it added the wait to), exact however loaded the machine is.
      let lastNow = 0;
      const clock = { now: () => (lastNow = Date.now()) };
      const waits: number[] = [];
      const store: Store = Object.create(base) as Store;
      store.markRetry = (id, next, why) => {
        waits.push(next - lastNow);
        return base.markRetry(id, next, why);
      };
      const { delivery } = await setup([], poster, { store, clock, backoffMs: 10, backoffCapMs: 40 });
      delivery.start();
      // Well past the 8 attempts after which an alert used to be failed for good.
      await waitFor(() => poster.posts.length >= 12);
      expect(await store.stats()).toMatchObject({ failed: 0, pending: 2 });
      // Order holds: b waits for a's retries.
      expect(new Set(keys(poster.posts))).toEqual(new Set(['C1:a']));
      expect(waits.slice(0, 4)).toEqual([10, 20, 40, 40]);
      expect(Math.max(...waits), 'capped').toBeLessThanOrEqual(40);
      expect(logs.filter((line) => line.startsWith('error') || line.startsWith('warn'))).toContain(
        kind === 'auth'
          ? 'error Slack rejected the bot token (invalid_auth): reinstall the app and set SLACK_BOT_TOKEN.'
          : 'warn Posting to C1 failed for now (http_503); it will be retried.',
      );

      failing = false;
      await waitFor(async () => (await store.stats()).pending === 0);
      expect(await store.stats()).toMatchObject({ failed: 0, delivered: 2 });
      expect(keys(poster.posts).slice(-2)).toEqual(['C1:a', 'C1:b']);
    },
  );

  it('fails only the row Slack rejects as a message, and goes on', async () => {
    const poster = fakePoster((post) =>
      post.key === 'C1:b' ? { ok: false, kind: 'message', error: 'invalid_blocks' } : ok,
    );
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b'), item('C1', 'c')], poster);
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts)).toEqual(['C1:a', 'C1:b', 'C1:c']);
    expect(await store.stats()).toMatchObject({ failed: 1, delivered: 2 });
    expect(await store.recentFailures(5)).toMatchObject([{ channel: 'C1', error: 'invalid_blocks' }]);
  });

  it('records a row that cannot be rendered as failed, and goes on', async () => {
    const poster = fakePoster();
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b')], poster, {
      render: (row) => {
        if (row.dedupKey === 'C1:a') throw new SyntaxError('bad JSON');
        return { text: row.dedupKey, blocks: [] };
      },
    });
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts)).toEqual(['C1:b']);
    expect(await store.recentFailures(5)).toMatchObject([{ error: 'could not render the stored alert' }]);
  });
});

describe('Delivery: a backlog that grew while Slack was failing', () => {
  const alertOf = (channel: string, eventId: string): NewOutboxItem => ({
    channel,
    kind: 'alert',
    payload: JSON.stringify({
      eventId,
      subject: 'Port opened',
      dateCreated: '2026-11-01 10:00',
      key: 'port-open',
      url: '',
      target: { name: '', id: 1, host: 'h' },
    }),
    dedupKey: `${channel}:event:${eventId}`,
  });
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `ev${i}`);

  it('is posted as one digest once Slack takes the row it was failing, the rest of the outbox untouched', async () => {
    let failures = 0;
    const poster = fakePoster((post) =>
      post.key === 'C1:event:ev0' && failures++ < 3
        ? { ok: false, kind: 'transient', error: 'http_503' }
        : ok,
    );
    const rows = [...ids(6).map((id) => alertOf('C1', id)), alertOf('C2', 'ev0')];
    const { delivery, store } = await setup(rows, poster, { digestThreshold: 3 });
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts, 'C1')).toEqual([
      'C1:event:ev0',
      'C1:event:ev0',
      'C1:event:ev0',
      'C1:event:ev0',
      'C1:backlog:ev1:5',
    ]);
    expect(keys(poster.posts, 'C2')).toEqual(['C2:event:ev0']);
    expect(await store.stats()).toMatchObject({ failed: 0, delivered: 3 });
    expect(logs).toContain(
      'info delivery: Slack is answering again; the alerts that waited go as one digest',
    );
  });

  it('is posted one by one when it is not above the threshold, or when nothing failed', async () => {
    let failures = 0;
    const poster = fakePoster((post) =>
      post.key === 'C1:event:ev0' && failures++ < 1
        ? { ok: false, kind: 'transient', error: 'http_503' }
        : ok,
    );
    const rows = [...ids(4).map((id) => alertOf('C1', id)), ...ids(5).map((id) => alertOf('C2', id))];
    const { delivery, store } = await setup(rows, poster, { digestThreshold: 3 });
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts, 'C1')).toEqual(['C1:event:ev0', ...ids(4).map((id) => `C1:event:${id}`)]);
    expect(keys(poster.posts, 'C2')).toEqual(ids(5).map((id) => `C2:event:${id}`));
  });
});

describe('Delivery: retry order', () => {
  // After a restart no in-memory hold remembers the wait: the store itself must keep the order.
  it('keeps order across a restart while the first row waits for its retry', async () => {
    const poster = fakePoster();
    const store = openSqliteStore(':memory:');
    stores.push(store);
    await store.route([item('C1', 'a'), item('C1', 'b')], [], Date.now());
    // What a previous process left: a failed once and is due again in 150 ms.
    await store.markRetry(1, Date.now() + 150, 'http_503');
    const { delivery } = await setup([], poster, { store });
    delivery.start();
    await waitFor(async () => (await store.stats()).pending === 0);
    expect(keys(poster.posts)).toEqual(['C1:a', 'C1:b']);
  });

  it('never posts a later row before an earlier one that is being retried', async () => {
    // Many short retries: a timer that fires a millisecond early must not let the next row overtake.
    for (let round = 0; round < 10; round++) {
      let failures = 0;
      const poster = fakePoster((post) =>
        post.key === 'C1:a' && failures++ < 2 ? { ok: false, kind: 'transient', error: 'http_503' } : ok,
      );
      const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b')], poster, {
        backoffMs: 3,
        gapMs: 1,
        tickMs: 1,
      });
      delivery.start();
      await waitFor(async () => (await store.stats()).pending === 0);
      expect(keys(poster.posts), `round ${round}`).toEqual(['C1:a', 'C1:a', 'C1:a', 'C1:b']);
      await delivery.stop(1000);
    }
  });
});

describe('Delivery: stop', () => {
  it('waits for the post in flight, records it, and starts no other', async () => {
    const poster = fakePoster(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return ok;
    });
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b'), item('C2', 'a')], poster);
    delivery.start();
    await waitFor(() => poster.posts.length === 2);
    expect(delivery.busyChannels()).toBe(2);
    await delivery.stop(5000);
    // Returned once both answers came (150 ms after each post began), however late this test saw them begin.
    expect(Date.now()).toBeGreaterThanOrEqual(Math.max(...poster.posts.map((p) => p.at)) + 145);
    expect(await store.stats()).toMatchObject({ delivered: 2, pending: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(poster.posts).toHaveLength(2);
    expect(delivery.busyChannels()).toBe(0);
  });

  it('gives up waiting at the deadline', async () => {
    const poster = fakePoster(() => new Promise<PostResult>(() => undefined));
    const { delivery } = await setup([item('C1', 'a')], poster);
    delivery.start();
    await waitFor(() => poster.posts.length === 1);
    const started = Date.now();
    await delivery.stop(100);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('leaves the store alone once it gave up: a post answering after the store closed changes nothing', async () => {
    let answer!: (result: PostResult) => void;
    const poster = fakePoster(() => new Promise<PostResult>((resolve) => (answer = resolve)));
    const path = join(mkdtempSync(join(tmpdir(), 'halo-delivery-')), 'bot.db');
    const store = openSqliteStore(path);
    await store.route([item('C1', 'a'), item('C1', 'b')], [], Date.now());
    const { delivery } = await setup([], poster, { store });
    delivery.start();
    await waitFor(() => poster.posts.length === 1);
    await delivery.stop(50);
    await store.close();
    // Slack answers after the shutdown gave up on the post: no write to the closed store, no error.
    answer(ok);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logs.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(logs).toContain(
      'warn delivery: a post answered after shutdown gave up on it; the next start checks the channel',
    );
    expect(poster.posts).toHaveLength(1);
    // The row stays uncertain, so that the next start looks for it in the channel before posting it again.
    const reopened = openSqliteStore(path);
    stores.push(reopened);
    expect(await reopened.nextDue('C1', Date.now())).toMatchObject({ dedupKey: 'C1:a' });
    expect((await reopened.nextDue('C1', Date.now()))?.sentAt).not.toBeNull();
  });
});

describe('Delivery: a post whose answer never came is looked for before it is made again', () => {
  /** A row an earlier attempt began at `sentAt` and left for retry, as a timeout or a kill -9 would. */
  async function uncertain(store: Store, id: number, sentAt: number): Promise<void> {
    await store.markSending(id, sentAt);
    await store.markRetry(id, Date.now(), 'request_error: ETIMEDOUT');
  }

  it('does not post again a row the channel already shows, and goes on with the next', async () => {
    const poster = fakePoster(undefined, (lookup) =>
      lookup.key === 'C1:a' ? { found: true, ts: '9.9' } : { found: false },
    );
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b')], poster);
    await uncertain(store, 1, 1234);
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 2);
    expect(poster.lookups).toEqual([{ channel: 'C1', key: 'C1:a', sinceMs: 1234 }]);
    expect(keys(poster.posts)).toEqual(['C1:b']);
    expect(logs).toContain('info delivery: an earlier attempt had posted it');
    expect(await store.stats()).toMatchObject({ pending: 0, failed: 0 });
  });

  it('posts a row the channel does not show', async () => {
    const poster = fakePoster();
    const { delivery, store } = await setup([item('C1', 'a')], poster);
    await uncertain(store, 1, 1234);
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 1);
    expect(poster.lookups).toEqual([{ channel: 'C1', key: 'C1:a', sinceMs: 1234 }]);
    expect(keys(poster.posts)).toEqual(['C1:a']);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('posts when the channel cannot be read, warning once per reason', async () => {
    const poster = fakePoster(undefined, () => ({ unknown: 'missing_scope' }));
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b'), item('C2', 'a')], poster);
    for (const id of [1, 2, 3]) await uncertain(store, id, 1234);
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 3);
    expect(keys(poster.posts).sort()).toEqual(['C1:a', 'C1:b', 'C2:a']);
    expect(poster.lookups).toHaveLength(3);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([
      'warn cannot check whether an uncertain post reached Slack (missing_scope): it may be posted twice; add channels:history and groups:history to the app and reinstall it',
    ]);
  });

  it('checks the retry of a post that failed for now, from the moment that post began', async () => {
    const poster = fakePoster((post, n) =>
      n === 0 ? { ok: false, kind: 'transient', error: 'request_error: ETIMEDOUT' } : ok,
    );
    const { delivery, store } = await setup([item('C1', 'a')], poster);
    const before = Date.now();
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 1);
    expect(keys(poster.posts)).toEqual(['C1:a', 'C1:a']);
    expect(poster.lookups).toHaveLength(1);
    expect(poster.lookups[0]!.sinceMs).toBeGreaterThanOrEqual(before);
    expect(poster.lookups[0]!.sinceMs).toBeLessThanOrEqual(poster.posts[0]!.at);
  });

  it('never looks for a row that was never attempted', async () => {
    const poster = fakePoster();
    const { delivery, store } = await setup([item('C1', 'a'), item('C1', 'b'), item('C2', 'a')], poster);
    delivery.start();
    await waitFor(async () => (await store.stats()).delivered === 3);
    expect(poster.lookups).toEqual([]);
  });
});

describe('the Slack chat port against the fake Slack', () => {
  let slack: FakeSlack;
  let poster: ChatPort<SlackMessage>;
  const message = (text: string): SlackMessage => ({ text, blocks: [] });

  beforeAll(async () => {
    slack = await startFakeSlack({ token: 'xoxb-1' });
    poster = createSlackChat(
      new webApi.WebClient('xoxb-1', {
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
        timeout: 2000,
        logLevel: webApi.LogLevel.ERROR,
      }),
    );
  });
  afterAll(() => slack.close());
  beforeEach(() => {
    slack.posts.length = 0;
    slack.calls.length = 0;
    slack.fault = undefined;
  });

  it('tags each post with its dedup key, and finds it by that key', async () => {
    const since = Date.now();
    expect(await poster.post('C1', message('a'), { dedupKey: 'C1:event:a' })).toMatchObject({ ok: true });
    expect(slack.posts[0]?.metadata).toEqual({
      event_type: 'halo_alert',
      event_payload: { key: 'C1:event:a' },
    });
    const found = await poster.find('C1', 'C1:event:a', since);
    expect(found).toEqual({ found: true, ts: slack.posts[0]!.ts });
    expect(await poster.find('C1', 'C1:event:b', since)).toEqual({ found: false });
    expect(await poster.find('C2', 'C1:event:a', since)).toEqual({ found: false });
    const history = slack.calls.find((c) => c.method === 'conversations.history')!;
    expect(history.args).toMatchObject({ channel: 'C1', include_all_metadata: 'true', limit: '200' });
    expect(Number(history.args.oldest)).toBeCloseTo((since - 2000) / 1000, 3);
  });

  it('looks only from a little before the attempt on', async () => {
    await poster.post('C1', message('a'), { dedupKey: 'C1:event:a' });
    expect(await poster.find('C1', 'C1:event:a', Date.now() + 60_000)).toEqual({ found: false });
  });

  it('pages back through a busy channel, but not without end', async () => {
    const since = Date.now();
    await poster.post('C1', message('a'), { dedupKey: 'C1:event:a' });
    const others = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        channel: 'C1',
        text: 'chat',
        blocks: [],
        ts: `2.${i}`,
        at: since,
      }));
    slack.posts.push(...others(450));
    expect(await poster.find('C1', 'C1:event:a', since)).toMatchObject({ found: true });
    expect(slack.calls.filter((c) => c.method === 'conversations.history')).toHaveLength(3);
    slack.posts.push(...others(600));
    expect(await poster.find('C1', 'C1:event:a', since)).toEqual({
      unknown: 'more than 1000 messages since the attempt',
    });
  });

  it('answers "unknown" when the channel cannot be read', async () => {
    await poster.post('C1', message('a'), { dedupKey: 'C1:event:a' });
    slack.fault = ({ method }) =>
      method === 'conversations.history' ? { kind: 'error', error: 'missing_scope' } : undefined;
    expect(await poster.find('C1', 'C1:event:a', 0)).toEqual({ unknown: 'missing_scope' });
    slack.fault = ({ method }) => (method === 'conversations.history' ? { kind: 'reset' } : undefined);
    expect(await poster.find('C1', 'C1:event:a', 0)).toMatchObject({
      unknown: expect.stringMatching(/^request_error/) as unknown,
    });
  });
});
