/**
 * Deliveries are woken, not polled (pipeline/due-sweep.ts): the fleet's deliveries have no tick of their own, and
 * one sweep of the whole outbox wakes those with a due row that nothing kicked. Real deliveries on a real SQLite
 * tenant store, two accounts, of which this "replica" leads one: each thing the per-account tick used to catch is
 * caught by the sweep, and by nothing else (no delivery here is kicked after its start).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import type { ChatPort, PostResult } from '../../src/pipeline/chat-port.ts';
import { Delivery } from '../../src/pipeline/delivery.ts';
import { DueSweep } from '../../src/pipeline/due-sweep.ts';
import type { NewOutboxItem } from '../../src/pipeline/store-port.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';
import { OWN_TIMERS, type Timers } from '../../src/pipeline/ticker.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';

const LED: Scope = { workspace: 'T1', account: 'a1' };
const OTHER: Scope = { workspace: 'T1', account: 'a2' };
const keyOf = (scope: Scope): string => `${scope.workspace}/${scope.account}`;

const logs: string[] = [];
const log: Logger = {
  debug: (m) => logs.push(`debug ${m}`),
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

interface Post {
  readonly channel: string;
  readonly key: string;
}

/** Records each post; answers with `answer(n)` for the n-th (0-based), ok by default. */
function chat(answer: (n: number) => PostResult = () => ({ ok: true, ts: '1.0' })) {
  const posts: Post[] = [];
  const port: ChatPort<SlackMessage> = {
    post: (channel, message) => {
      posts.push({ channel, key: message.text });
      return Promise.resolve(answer(posts.length - 1));
    },
    update: () => Promise.resolve({ ok: true }),
    find: () => Promise.resolve({ found: false }),
    hint: (failure) => `failed: ${failure.error}`,
  };
  return { port, posts };
}

function row(channel: string, name: string): NewOutboxItem {
  return { channel, kind: 'alert', payload: '{}', dedupKey: `${channel}:${name}` };
}

/** Node's timers, counting the repeats armed: a woken delivery arms none. */
function countingTimers(): Timers & { repeats: number } {
  const timers = {
    repeats: 0,
    sleep: (ms: number, signal?: AbortSignal) => OWN_TIMERS.sleep(ms, signal),
    every: (ms: number, fn: () => void) => {
      timers.repeats++;
      return OWN_TIMERS.every(ms, fn);
    },
  };
  return timers;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  logs.length = 0;
});

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A replica leading LED only: its delivery woken by a sweep every 20 ms; OTHER has rows, and no delivery here. */
function replica(answer?: (n: number) => PostResult) {
  const tenants = openSqliteTenants(':memory:');
  const slack = chat(answer);
  const timers = countingTimers();
  const delivery = new Delivery<SlackMessage>({
    store: tenants.scoped(LED),
    chat: slack.port,
    clock: systemClock,
    log,
    render: (item) => ({ text: item.dedupKey, blocks: [] }),
    gapMs: 5,
    backoffMs: 40,
    backoffCapMs: 1000,
    tickMs: null,
    timers,
  });
  const led = new Map([[keyOf(LED), delivery]]);
  const reads: number[] = [];
  const sweep = new DueSweep({
    dueScopes: (now) => {
      reads.push(now);
      return tenants.dueScopes(now);
    },
    wake: (scope) => led.get(keyOf(scope))?.kick(),
    leadsAny: () => led.size > 0,
    intervalMs: 20,
    clock: systemClock,
    log,
  });
  cleanups.push(async () => {
    await sweep.stop();
    await delivery.stop(200);
    await tenants.close();
  });
  return { tenants, slack, timers, delivery, led, reads, sweep };
}

describe('deliveries woken by the due sweep, with no tick of their own', () => {
  it('arms no timer per delivery, and posts at start what a crash left', async () => {
    const { tenants, slack, timers, delivery } = replica();
    await tenants.scoped(LED).route([row('C1', 'left')], [], Date.now());
    delivery.start();
    await waitFor('the row left by a crash', () => slack.posts.length === 1);
    expect(timers.repeats).toBe(0);
  });

  it('posts rows someone else wrote (another replica, a command) within a sweep, for the scopes it leads only', async () => {
    const { tenants, slack, delivery, sweep } = replica();
    delivery.start();
    sweep.start();
    await tenants.scoped(OTHER).route([row('C2', 'theirs')], [], Date.now());
    await tenants.scoped(LED).route([row('C1', 'mine')], [], Date.now());
    await waitFor('the led scope’s row', () => slack.posts.length === 1);
    // Several sweeps later: the other account's row is its holder's to post.
    const reads = (await tenants.dueScopes(Date.now())).map(keyOf);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slack.posts).toEqual([{ channel: 'C1', key: 'C1:mine' }]);
    expect(reads).toEqual([keyOf(OTHER)]);
    expect(await tenants.scoped(OTHER).pendingCount()).toBe(1);
  });

  it('posts a failed post’s retry once its backoff ends', async () => {
    const { tenants, slack, delivery, sweep } = replica((n) =>
      n === 0 ? { ok: false, kind: 'transient', error: 'http_503' } : { ok: true, ts: '1.0' },
    );
    await tenants.scoped(LED).route([row('C1', 'retried')], [], Date.now());
    delivery.start();
    await waitFor('the failed post', () => slack.posts.length === 1);
    sweep.start();
    await waitFor('the retry', async () => (await tenants.scoped(LED).stats()).delivered === 1);
    expect(slack.posts.map((post) => post.key)).toEqual(['C1:retried', 'C1:retried']);
  });

  it('posts again once the wait for a refused token ends', async () => {
    const { tenants, slack, delivery, sweep } = replica((n) =>
      n === 0 ? { ok: false, kind: 'revoked', error: 'token_revoked' } : { ok: true, ts: '1.0' },
    );
    await tenants.scoped(LED).route([row('C1', 'a'), row('C1', 'b')], [], Date.now());
    delivery.start();
    await waitFor('the refused post', () => slack.posts.length === 1);
    expect(delivery.waitingForToken()).toBe(true);
    sweep.start();
    await waitFor('both rows', async () => (await tenants.scoped(LED).stats()).delivered === 2);
    expect(slack.posts.map((post) => post.key)).toEqual(['C1:a', 'C1:a', 'C1:b']);
    expect(delivery.waitingForToken()).toBe(false);
  });
});

describe('DueSweep', () => {
  it('reads the outbox once a sweep however many scopes are due, and not at all while leading none', async () => {
    const { tenants, reads, sweep, led } = replica();
    await tenants.scoped(LED).route([row('C1', 'x')], [], Date.now());
    await tenants.scoped(OTHER).route([row('C1', 'x')], [], Date.now());
    await Promise.all([sweep.sweep(), sweep.sweep()]);
    expect(reads).toHaveLength(1);
    await sweep.sweep();
    expect(reads).toHaveLength(2);
    led.clear();
    await sweep.sweep();
    expect(reads).toHaveLength(2);
  });

  it('waits for the sweep in flight when stopped: the store closes next', async () => {
    let answer: (scopes: Scope[]) => void = () => undefined;
    const sweep = new DueSweep({
      dueScopes: () => new Promise<Scope[]>((resolve) => (answer = resolve)),
      wake: () => undefined,
      leadsAny: () => true,
      intervalMs: 20,
      clock: systemClock,
      log,
    });
    void sweep.sweep();
    let stopped = false;
    const stopping = sweep.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    answer([]);
    await stopping;
    expect(stopped).toBe(true);
  });

  it('says once that the outbox cannot be read, and once that it can again', async () => {
    let failures = 3;
    const woken: string[] = [];
    const sweep = new DueSweep({
      dueScopes: () =>
        failures-- > 0 ? Promise.reject(new Error('connection refused')) : Promise.resolve([LED]),
      wake: (scope) => woken.push(keyOf(scope)),
      leadsAny: () => true,
      intervalMs: 20,
      clock: systemClock,
      log,
    });
    for (let i = 0; i < 5; i++) await sweep.sweep();
    expect(logs).toEqual([
      'error delivery: the outbox could not be swept for due rows; retrying',
      'info delivery: the outbox can be swept again',
    ]);
    expect(woken).toEqual([keyOf(LED), keyOf(LED)]);
  });
});
