import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import PQueue from 'p-queue';
import { scanEvents } from '../../src/halo/scan.ts';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient, MAX_PAGE_SIZE } from '../../src/halo/client.ts';
import type { HaloClient } from '../../src/pipeline/halo-port.ts';
import { createLogger } from '../../src/log.ts';
import { Poller } from '../../src/pipeline/poller.ts';
import { memoryAfterPolls } from '../../src/runtime-memory.ts';
import { openSqliteStore } from '../stores.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import { waitFor } from '../harness.ts';

let halo: FakeHalo;
let store: Store;
let poller: Poller | undefined;
const logs: string[] = [];

beforeEach(async () => {
  halo = await startFakeHalo();
  store = openSqliteStore(':memory:');
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await store.close();
  await halo.close();
  logs.length = 0;
});

/** The real client, except that the list request armed with `hold` waits until it is released. */
function gatedClient(): {
  client: HaloClient;
  hold(key: string): { reached: Promise<void>; release(): void };
} {
  const real = createHaloClient({
    apiUrl: halo.url,
    apiKey: halo.apiKey,
    timeoutMs: 5000,
    clock: systemClock,
  });
  let armed: { key: string; reached: () => void; released: Promise<void> } | null = null;
  const client: HaloClient = {
    ...real,
    // The scan reads its pages through this client's listEvents, gate included.
    scan: (filter, options) => scanEvents(client, filter, options),
    async listEvents(filter, options) {
      const gate = armed;
      if (gate !== null && filter.key === gate.key) {
        armed = null;
        gate.reached();
        await gate.released;
      }
      return real.listEvents(filter, options);
    },
  };
  return {
    client,
    hold(key) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      armed = { key, reached, released };
      return { reached: reachedP, release };
    },
  };
}

const polls = (): number => logs.filter((line) => /poll: (done|baseline recorded)/.test(line)).length;

describe('Poller: a subscription made while a poll is scanning', () => {
  it('keeps its starting point: an event created right after it is posted, not taken for a baseline', async () => {
    const gated = gatedClient();
    halo.addEvent({ key: 'port-open' });
    poller = new Poller({
      halo: gated.client,
      store,
      clock: systemClock,
      log: createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) }),
      intervalMs: 20,
      haloRequests: new PQueue({ concurrency: 2 }),
      pageSize: MAX_PAGE_SIZE,
      backfill: 0,
      digestThreshold: 20,
      // Only port-open for the alert channel: the poll's plan is one scan by key, which does not cover
      // domain-add until the subscription below adds it.
      defaultRoute: { channel: 'CALERTS', keys: ['port-open'], targetIds: [] },
      isCritical: () => false,
      onRouted: () => undefined,
    });
    await poller.start();
    await waitFor('the baseline', () => polls() >= 1);

    // A poll is scanning (held in its request) when the subscription asks for its starting point.
    const held = gated.hold('port-open');
    await held.reached;
    const { subscription } = await store.addSubscription({
      channel: 'CSUB',
      keys: ['domain-add'],
      targetIds: [],
      createdBy: 'U1',
      createdAt: Date.now(),
    });
    const started = poller.startSubscription(subscription);
    // Whatever the subscription would do on its own, it has had the time to do it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release();
    expect(await started).toBe('started');

    // "Subscribed" has been answered: an event created now must reach the channel.
    const after = polls();
    const right = halo.addEvent({ key: 'domain-add' });
    await waitFor('two more polls', () => polls() >= after + 2);
    const routed = await store.nextDue('CSUB', Date.now());
    expect(routed?.dedupKey).toBe(`CSUB:event:${right.event_id}`);
  });
});

describe("Poller: memory after polls (the process's hook from src/runtime-memory.ts, as app-pipeline.ts wires it)", () => {
  const logger = (logLines: string[]) =>
    createLogger({ level: 'debug', secrets: [], write: (line) => logLines.push(line) });

  function pollerWith(logLines: string[], afterPoll: (events: number) => void, on: Store = store): Poller {
    return new Poller({
      halo: createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 5000, clock: systemClock }),
      store: on,
      clock: systemClock,
      log: logger(logLines),
      intervalMs: 10,
      haloRequests: new PQueue({ concurrency: 4 }),
      pageSize: MAX_PAGE_SIZE,
      backfill: 0,
      digestThreshold: 20,
      defaultRoute: { channel: 'CALERTS', keys: [], targetIds: [] },
      isCritical: () => false,
      onRouted: () => undefined,
      afterPoll,
    });
  }

  it('collects after the first poll of 10,000 events or more and says where the memory is', async () => {
    let collections = 0;
    const gc = (): void => {
      collections++;
    };
    for (let i = 0; i < 10_000; i++) halo.addEvent();
    poller = pollerWith(
      logs,
      memoryAfterPolls(logger(logs), () => ({
        gc,
        usage: () => process.memoryUsage(),
        now: () => performance.now(),
      })),
    );
    await poller.start();
    await waitFor('a memory line', () => logs.some((line) => line.includes('poll: memory')));
    expect(collections).toBe(1);
    const line = logs.find((l) => l.includes('poll: memory'))!;
    expect(line).toMatch(
      /collectedMs=\d+ collectedCpuMs=\d+ rssMb=[\d.]+ heapUsedMb=[\d.]+ heapTotalMb=[\d.]+ externalMb=[\d.]+ arrayBuffersMb=[\d.]+/,
    );
  });

  it("counts every account's polls together: two accounts of 5,000 events look after every 10,000 read in all", async () => {
    let collections = 0;
    const gc = (): void => {
      collections++;
    };
    for (let i = 0; i < 5_000; i++) halo.addEvent();
    // One hook for the process, as app-pipeline.ts gives every account's pipeline.
    const hook = memoryAfterPolls(logger(logs), () => ({
      gc,
      usage: () => process.memoryUsage(),
      now: () => performance.now(),
    }));
    const otherStore = openSqliteStore(':memory:');
    const other = pollerWith(logs, hook, otherStore);
    poller = pollerWith(logs, hook);
    try {
      await Promise.all([poller.start(), other.start()]);
      await waitFor('six polls', () => polls() >= 6);
    } finally {
      await Promise.all([poller.stop(), other.stop()]);
      await otherStore.close();
    }
    // Neither account alone ever read 10,000 events in a poll; every second poll of the two makes 10,000.
    const looks = logs.filter((line) => line.includes('poll: memory')).length;
    expect(looks).toBe(Math.floor(polls() / 2));
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(collections).toBeGreaterThanOrEqual(1);
  });
});
