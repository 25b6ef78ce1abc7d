/**
 * The route-start check without per-account reads every heartbeat: one mark of the whole subscriptions table per
 * heartbeat (per-account marks only when it moved), and a poller that reads its subscriptions only when told they
 * changed (or once after it starts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import PQueue from 'p-queue';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient } from '../../src/halo/client.ts';
import { createLogger } from '../../src/log.ts';
import { Poller } from '../../src/pipeline/poller.ts';
import { startedSubscriptions, startKey } from '../../src/pipeline/route-start.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { SubscriptionWatch, type StartTarget } from '../../src/pipeline/subscription-watch.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';
import { makeEvents, startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import { waitFor } from '../harness.ts';
import { openSqliteStore } from '../stores.ts';

/** Waits until the asynchronous `probe` says yes (the harness's waitFor takes a synchronous one). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

describe('SubscriptionWatch', () => {
  const a: Scope = { workspace: 'T1', account: 'a1' };
  const b: Scope = { workspace: 'T1', account: 'a2' };

  function setup() {
    const marks = new Map<string, string>([
      ['a1', '1'],
      ['a2', '1'],
    ]);
    const reads = { total: 0, each: 0 };
    let failing = false;
    const told: string[] = [];
    const target = (scope: Scope): StartTarget => ({
      scope,
      subscriptionsChanged: () => told.push(scope.account),
    });
    const targets = [target(a), target(b)];
    const watch = new SubscriptionWatch({
      marks: {
        subscriptionsMark: () => {
          reads.total++;
          if (failing) return Promise.reject(new Error('database down'));
          return Promise.resolve([...marks.values()].join(','));
        },
        subscriptionMarks: () => {
          reads.each++;
          return Promise.resolve(
            [...marks].map(([account, mark]) => ({ scope: { workspace: 'T1', account }, mark })),
          );
        },
      },
      targets: () => targets,
      log: quiet,
    });
    return { watch, marks, reads, told, fail: (f: boolean) => (failing = f) };
  }

  it('tells every poller once, then only those whose account changed; one short read per heartbeat', async () => {
    const { watch, marks, reads, told } = setup();
    await watch.tick();
    expect(told).toEqual(['a1', 'a2']);
    told.length = 0;
    for (let i = 0; i < 5; i++) await watch.tick();
    expect(told).toEqual([]);
    // Six heartbeats: six reads of the table's mark, and the per-account marks only the first time.
    expect(reads).toEqual({ total: 6, each: 1 });

    marks.set('a2', '2');
    await watch.tick();
    expect(told).toEqual(['a2']);
    expect(reads).toEqual({ total: 7, each: 2 });
  });

  it('after a failed look, looks per account again at the next heartbeat', async () => {
    const { watch, marks, reads, told, fail } = setup();
    await watch.tick();
    told.length = 0;
    fail(true);
    marks.set('a1', '2');
    await watch.tick();
    expect(told).toEqual([]);
    fail(false);
    await watch.tick();
    expect(told).toEqual(['a1']);
    expect(reads.each).toBe(2);
  });

  it('tells every poller again after a reset (the replica stopped polling, then polls again)', async () => {
    const { watch, told } = setup();
    await watch.tick();
    watch.reset();
    await watch.tick();
    expect(told).toEqual(['a1', 'a2', 'a1', 'a2']);
  });
});

describe('the poller’s start check', () => {
  let halo: FakeHalo | undefined;
  let poller: Poller | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await poller?.stop();
    await store?.close();
    await halo?.close();
    [halo, poller, store] = [undefined, undefined, undefined];
  });

  it('reads nothing between polls until told, then starts a subscription made elsewhere at once', async () => {
    halo = await startFakeHalo({ events: makeEvents(50, { keys: ['domain-add', 'target-scan-start'] }) });
    const real = openSqliteStore(':memory:');
    store = real;
    const reads = { subscriptions: 0, getState: 0 };
    // Counts the reads the poller makes of its subscriptions and state.
    const counted = new Proxy(real, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'subscriptions' || prop === 'getState')
          return (...args: unknown[]) => {
            reads[prop]++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const polls: number[] = [];
    poller = new Poller({
      halo: createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 5000, clock: systemClock }),
      store: counted,
      clock: systemClock,
      log: quiet,
      // One poll in this test: only the start check runs between.
      intervalMs: 3_600_000,
      haloRequests: new PQueue({ concurrency: 2 }),
      pageSize: 100,
      backfill: 0,
      digestThreshold: 20,
      defaultRoute: { channel: 'CALERTS', keys: ['target-scan-start'], targetIds: [] },
      isCritical: () => false,
      onRouted: () => undefined,
      afterPoll: () => polls.push(Date.now()),
      startCheckMs: 10,
    });
    await poller.start();
    await waitFor('the first poll', () => polls.length === 1);
    // The check due after the start has run (it reads the subscriptions once).
    await waitFor('the check after the start', () => reads.subscriptions >= 2);
    const before = { ...reads };
    await new Promise((resolve) => setTimeout(resolve, 200));
    // About 20 heartbeats: not one read.
    expect(reads).toEqual(before);

    // Made by a command on another replica: this one learns it from the watch.
    const { subscription } = await real.addSubscription({
      channel: 'CSUB',
      keys: ['domain-add'],
      targetIds: [],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: Date.now(),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await startedSubscriptions(real)).has(startKey(subscription))).toBe(false);
    poller.subscriptionsChanged();
    await until('its starting point', async () =>
      (await startedSubscriptions(real)).has(startKey(subscription)),
    );
    // Now, not at the next poll (an hour away).
    expect(polls).toHaveLength(1);
    // The started set is in memory: the check read the subscriptions, not the state again.
    expect(reads.getState).toBe(before.getState);
  });
});
