/**
 * A leader that paused right after proving its lead (a GC pause, a frozen VM) and woke up after another replica
 * took over: its poll goes on, but the database refuses each of its writes, and it stops.
 */
import { afterEach, expect, it } from 'vitest';
import PQueue from 'p-queue';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient, MAX_PAGE_SIZE } from '../../src/halo/client.ts';
import { createLogger } from '../../src/log.ts';
import { Poller } from '../../src/pipeline/poller.ts';
import { openPostgresStore, type PostgresStore, setLeaseToken } from '../stores.ts';
import { startFakeHalo, makeEvents, type FakeHalo } from '../../fakes/halo.ts';
import { waitFor } from '../harness.ts';
import { admin, describePg, freshSchema } from '../postgres.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

let halo: FakeHalo | undefined;
let store: PostgresStore | undefined;
let poller: Poller | undefined;

afterEach(async () => {
  await poller?.stop();
  await store?.close();
  await halo?.close();
  [poller, store, halo] = [undefined, undefined, undefined];
});

describePg('Poller on PostgreSQL, replaced while it polled', () => {
  it('writes nothing once a newer leader’s token is in the database, and stops scanning and polling', async () => {
    halo = await startFakeHalo({ events: makeEvents(2500) });
    const { schema, url } = await freshSchema('pollfence');
    const logs: string[] = [];
    const log = createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) });
    store = await openPostgresStore(url, log);
    // This replica won with token 1; another one has won since (token 2) while this one was paused.
    store.setFence(1);
    await setLeaseToken(schema, 2);
    let checks = 0;
    poller = new Poller({
      halo: createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 5000, clock: systemClock }),
      store,
      clock: systemClock,
      log,
      intervalMs: 20,
      haloRequests: new PQueue({ concurrency: 2 }),
      pageSize: MAX_PAGE_SIZE,
      backfill: 0,
      digestThreshold: 20,
      defaultRoute: { channel: 'CALERTS', keys: [], targetIds: [] },
      isCritical: () => false,
      onRouted: () => undefined,
      // The check before the first poll passed: the pause came right after it. Later checks see the new leader.
      stillLeads: () => Promise.resolve(checks++ === 0),
    });
    await poller.start();
    await waitFor('the refusal', () => logs.some((l) => /another replica holds this account now/.test(l)));
    await waitFor('more checks of the lead', () => checks >= 5);

    expect(logs.find((l) => /another replica holds this account now/.test(l))).toContain(
      'This replica no longer holds this account (its fencing token is 1, the database holds 2): its write was refused.',
    );
    // The first page's write was refused: its siblings were never asked for, and no later poll ran.
    expect(halo.listRequests()).toHaveLength(1);
    expect(await store.stats()).toEqual({ seen: 0, staged: 0, pending: 0, failed: 0, delivered: 0 });
    expect(await admin(`SELECT key FROM ${schema}.halo_state`)).toEqual([]);
    expect(poller.getStatus()).toMatchObject({ lastSuccessAt: null, consecutiveFailures: 0 });
  });

  it('shares its last success when it stops polling, unless another replica holds the account by then', async () => {
    halo = await startFakeHalo({ events: makeEvents(50) });
    const { schema, url } = await freshSchema('pollshare');
    store = await openPostgresStore(url, quiet);
    store.setFence(1);
    await setLeaseToken(schema, 1);
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const make = (): Poller =>
      new Poller({
        halo: createHaloClient({ apiUrl: halo!.url, apiKey: halo!.apiKey, timeoutMs: 5000, clock }),
        store: store!,
        clock,
        log: quiet,
        intervalMs: 3_600_000,
        haloRequests: new PQueue({ concurrency: 2 }),
        pageSize: MAX_PAGE_SIZE,
        backfill: 0,
        digestThreshold: 20,
        defaultRoute: { channel: 'CALERTS', keys: [], targetIds: [] },
        isCritical: () => false,
        onRouted: () => undefined,
      });
    const lastShared = async (): Promise<string | undefined> =>
      (
        await admin<{ value: string }>(`SELECT value FROM ${schema}.halo_state WHERE key = 'last_success_at'`)
      )[0]?.value;

    // Polled (the first success after the start is shared at once), then polled again: not shared yet.
    poller = make();
    await poller.start();
    await waitFor('the first poll', () => poller!.getStatus().lastSuccessAt !== null);
    expect(await lastShared()).toBe(String(now));
    now += 20_000;
    await poller.pollOnce();
    expect(await lastShared()).toBe(String(now - 20_000));
    // Stopping while it still holds the account: shared, for the next holder and the other replicas.
    await poller.stop();
    expect(await lastShared()).toBe(String(now));

    // Again, but another replica took the account before this one stopped: it writes nothing.
    now += 20_000;
    await poller.start();
    await waitFor('the first poll after the restart', () => poller!.getStatus().lastSuccessAt === now);
    now += 20_000;
    await poller.pollOnce();
    const before = await lastShared();
    await setLeaseToken(schema, 2);
    await poller.stop();
    expect(await lastShared()).toBe(before);
    expect(before).not.toBe(String(now));
  });
});
