import { describe, expect, it } from 'vitest';
import type { LedWork } from '../../src/pipeline/account-work.ts';
import { Fleet } from '../../src/pipeline/fleet.ts';
import { planFleet, pollOffsetMs, type FleetAccount } from '../../src/pipeline/fleet-plan.ts';
import { createLogger } from '../../src/log.ts';

const account = (workspace: string, id: string, over: Partial<FleetAccount> = {}): FleetAccount => ({
  scope: { workspace, account: id },
  name: `${workspace}-${id}`,
  apiUrl: 'https://api.halosecurity.com/api/v1',
  apiKey: `key-${workspace}-${id}`,
  keyHint: id.padStart(4, '0'),
  status: 'active',
  ...over,
});

const names = (accounts: readonly FleetAccount[]): string[] => accounts.map((a) => a.name);

describe('planFleet: which accounts start, stop, restart', () => {
  const env = account('env', 'env');
  const a1 = account('T1', 'a1');
  const a2 = account('T1', 'a2');

  it('starts every account when nothing runs', () => {
    const plan = planFleet([], [env, a1]);
    expect({
      start: names(plan.start),
      stop: names(plan.stop),
      restart: names(plan.restart),
      keep: names(plan.keep),
    }).toEqual({ start: ['env-env', 'T1-a1'], stop: [], restart: [], keep: [] });
  });

  it('stops an account no longer listed (disconnect, uninstall) and starts a new one', () => {
    const plan = planFleet([env, a1], [env, a2]);
    expect({
      start: names(plan.start),
      stop: names(plan.stop),
      restart: names(plan.restart),
      keep: names(plan.keep),
    }).toEqual({ start: ['T1-a2'], stop: ['T1-a1'], restart: [], keep: ['env-env'] });
  });

  it('restarts an account given a new key or URL, and one given back its key after needs_key', () => {
    const newKey = { ...a1, apiKey: 'key-new', keyHint: '-new' };
    const newUrl = { ...a2, apiUrl: 'https://halo.example.com/api/v1' };
    const revived = account('T2', 'b1');
    const plan = planFleet([a1, a2, { ...revived, status: 'needs_key' }], [newKey, newUrl, revived]);
    expect(names(plan.restart)).toEqual(['T1-a1', 'T1-a2', 'T2-b1']);
    expect(plan.restart[0]?.apiKey).toBe('key-new');
    expect(plan.start).toEqual([]);
    expect(plan.stop).toEqual([]);
  });

  it('keeps an account whose status the fleet itself changed (active → needs_key), with its new record', () => {
    const plan = planFleet([a1], [{ ...a1, status: 'needs_key' }]);
    expect(plan.keep).toEqual([{ ...a1, status: 'needs_key' }]);
    expect(plan.restart).toEqual([]);
  });

  it('counts an account listed twice once', () => {
    const plan = planFleet([], [a1, { ...a1, name: 'again' }]);
    expect(names(plan.start)).toEqual(['T1-a1']);
  });
});

describe('pollOffsetMs: where in the interval an account polls', () => {
  it('is fixed by the scope, within the interval', () => {
    expect(pollOffsetMs({ workspace: 'T1', account: 'a1' }, 60_000)).toBe(47_098);
    expect(pollOffsetMs({ workspace: 'T1', account: 'a2' }, 60_000)).toBe(9_479);
    expect(pollOffsetMs({ workspace: 'T1', account: 'a1' }, 1_000)).toBe(98);
  });

  it('spreads a thousand accounts over the interval: each tenth of it gets about a tenth', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++)
      tenths[Math.floor(pollOffsetMs({ workspace: `T${i % 20}`, account: `a${i}` }, 1000) / 100)]! += 1;
    expect(tenths).toEqual([112, 90, 91, 103, 113, 95, 98, 112, 96, 90]);
  });
});

/** A pipeline that records what the fleet asked of it. */
function recording(log: string[]) {
  return (account: FleetAccount): LedWork => ({
    lead: () => {
      log.push(`lead ${account.name} ${account.apiKey}`);
      return Promise.resolve();
    },
    follow: () => {
      log.push(`follow ${account.name}`);
      return Promise.resolve();
    },
    kick: () => log.push(`kick ${account.name}`),
    refreshLastSuccess: () => Promise.resolve(),
  });
}

describe('Fleet: one pipeline per listed account', () => {
  const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });

  it('leads every listed account, stops removed ones, restarts on a new key, and follows them all', async () => {
    const calls: string[] = [];
    let listed = [account('env', 'env'), account('T1', 'a1')];
    const fleet = new Fleet({
      accounts: () => Promise.resolve(listed),
      build: recording(calls),
      intervalMs: 60_000,
      log: quiet,
    });
    await fleet.lead();
    expect(calls).toEqual(['lead env-env key-env-env', 'lead T1-a1 key-T1-a1']);
    expect(fleet.severalIn('T1')).toBe(false);

    calls.length = 0;
    listed = [account('env', 'env'), account('T1', 'a1', { apiKey: 'key-2' }), account('T1', 'a2')];
    await fleet.reconcile();
    expect(calls).toEqual(['follow T1-a1', 'lead T1-a2 key-T1-a2', 'lead T1-a1 key-2']);
    expect(fleet.severalIn('T1')).toBe(true);

    calls.length = 0;
    listed = [account('env', 'env'), account('T1', 'a2')];
    await fleet.reconcile();
    expect(calls).toEqual(['follow T1-a1']);
    expect(fleet.pipelineOf({ workspace: 'T1', account: 'a1' })).toBeUndefined();

    calls.length = 0;
    fleet.kick();
    await fleet.follow();
    expect(calls).toEqual(['kick env-env', 'kick T1-a2', 'follow env-env', 'follow T1-a2']);
  });

  it('stops what a purge removes before the purge, and starts none of it again while the purge runs', async () => {
    const calls: string[] = [];
    let listed = [account('T1', 'a1'), account('T1', 'a2'), account('T2', 'b1')];
    const fleet = new Fleet({
      accounts: () => Promise.resolve(listed),
      build: recording(calls),
      intervalMs: 60_000,
      log: quiet,
    });
    await fleet.lead();
    calls.length = 0;
    const purged = await fleet.whileRetired(
      (scope) => scope.workspace === 'T1',
      async () => {
        calls.push('purge T1');
        // A reconcile meanwhile still lists T1's accounts (not purged yet): it must not start them again.
        await fleet.reconcile();
        return 'purged';
      },
    );
    expect(purged).toBe('purged');
    expect(calls).toEqual(['follow T1-a1', 'follow T1-a2', 'purge T1']);
    // A listing that lags the purge (read before it) still has T1's accounts: they stay stopped.
    await fleet.reconcile();
    expect(names(fleet.accounts())).toEqual(['T2-b1']);
    listed = [account('T2', 'b1')];
    await fleet.reconcile();
    expect(names(fleet.accounts())).toEqual(['T2-b1']);
    expect(calls).toEqual(['follow T1-a1', 'follow T1-a2', 'purge T1']);
    // T1 installed and connected again: its new account starts as any other.
    listed = [account('T2', 'b1'), account('T1', 'a3')];
    await fleet.reconcile();
    expect(calls.at(-1)).toBe('lead T1-a3 key-T1-a3');
    await fleet.follow();
  });

  it('keeps polling the running accounts when the list cannot be read', async () => {
    const calls: string[] = [];
    let fail = false;
    const fleet = new Fleet({
      accounts: () =>
        fail ? Promise.reject(new Error('database down')) : Promise.resolve([account('env', 'env')]),
      build: recording(calls),
      intervalMs: 60_000,
      log: quiet,
    });
    await fleet.lead();
    fail = true;
    await fleet.reconcile();
    expect(calls).toEqual(['lead env-env key-env-env']);
    expect(names(fleet.accounts())).toEqual(['env-env']);
    await fleet.follow();
  });

  it('builds but does not lead while following', async () => {
    const calls: string[] = [];
    const fleet = new Fleet({
      accounts: () => Promise.resolve([account('env', 'env')]),
      build: recording(calls),
      intervalMs: 60_000,
      log: quiet,
    });
    await fleet.reconcile();
    expect(calls).toEqual([]);
    expect(names(fleet.accounts())).toEqual(['env-env']);
  });
});
