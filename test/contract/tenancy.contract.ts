/**
 * The contract of the tenant store (pipeline/tenancy-port.ts), which both databases pass: scoped views of one
 * database see and change their own scope's rows only, whatever IDs or channels they are given; the registry
 * keeps installations and accounts; a disconnect or a purge removes exactly its scope's or workspace's rows.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/pipeline/store-port.ts';
import {
  EncryptionKeyMissingError,
  type InstallationRecord,
  type NewAccount,
  type Scope,
  type TenantStore,
} from '../../src/pipeline/tenancy-port.ts';
import { TEST_KEYS } from '../stores.ts';
import { alert, event } from './store.contract.ts';

export interface TenancyHarness {
  /** A tenant store on a fresh, empty database, with an encryption key. */
  fresh(): Promise<TenantStore>;
  /** A tenant store on the last fresh database, with these encryption keys; the one before is closed first. */
  reopen(keys: readonly Uint8Array[]): Promise<TenantStore>;
  /** Every row of a table, as the database holds it. It may close the tenant store first (SQLite's lock). */
  rows(table: string): Promise<Record<string, unknown>[]>;
}

/** Two accounts of one workspace, and a second workspace whose account has the same ID as the first's. */
const A: Scope = { workspace: 'T1', account: 'a1' };
const B: Scope = { workspace: 'T1', account: 'a2' };
const C: Scope = { workspace: 'T2', account: 'a1' };

/** Rows of every kind, the outbox's first row attempted and its third delivered. */
export async function fill(store: Store): Promise<void> {
  await store.recordPage([event('b1'), event('b2')], [false, false]);
  await store.recordPage([event('n1'), event('n2'), event('n3')], [true, true, true]);
  await store.route([alert('C1', 'n1'), alert('C1', 'n2'), alert('C2', 'n1')], ['n1', 'n2'], 1000);
  const [first, , third] = (await store.unattemptedAlerts('C1')).concat(await store.unattemptedAlerts('C2'));
  expect(await store.markSending(first!.id, 1100)).toBe(true);
  expect(await store.markSending(third!.id, 1200)).toBe(true);
  await store.markDelivered(third!.id, 1300);
  await store.setState({ last_poll: '1700000000000' });
  await store.addSubscription({ channel: 'C1', keys: ['k1'], targetIds: [], createdBy: 'U1', createdAt: 10 });
  const mute = { key: 'k1', targetId: null, targetLabel: '', createdBy: 'U1', createdAt: 30 };
  const held = await store.addMute({ ...mute, channel: 'C1', expiresAt: 10_000_000 });
  await store.addMute({ ...mute, channel: 'C2', expiresAt: 40 });
  await store.countMuted(new Map([[held.id, 4]]));
  await store.acknowledge({ channel: 'C1', messageTs: '111.1', eventId: 'n1', userId: 'U1', at: 60 });
  await store.recordMessage(
    { channel: 'C1', ts: '111.1', eventId: 'n1', payload: '{}', key: 'k1', targetId: 1 },
    80,
  );
  await store.audit({ at: 90, userId: 'U1', action: 'mute', channel: 'C1', detail: 'k1' });
  await store.recordDeletion({ eventId: 'b1', userId: 'U3', at: 100, alreadyDeleted: false });
  await store.openThread({ channel: 'C1', targetId: 1, parentTs: '222.2', parent: '{}', openedAt: 110 });
  await store.countReply('C1', 1, 'k1', 2);
  await store.setSummary({
    channel: 'C1',
    cadence: 'daily',
    weekday: null,
    minute: 540,
    createdBy: 'U1',
    createdAt: 120,
  });
}

/** Everything a view can read, by every reading method. */
async function snapshot(store: Store): Promise<Record<string, unknown>> {
  return {
    stats: await store.stats(),
    pendingCount: await store.pendingCount(),
    unseen: await store.unseen(['b1', 'n1', 'n3', 'x']),
    staged: await store.staged(),
    state: await store.getState('last_poll'),
    dueChannels: await store.dueChannels(5000),
    nextDue: await store.nextDue('C1', 5000),
    unattempted: await store.unattemptedAlerts('C1'),
    failures: await store.recentFailures(10),
    subscriptions: await store.subscriptions(),
    threads: await store.openThreads(),
    thread: await store.thread('C1', 1),
    deletion: await store.deletion('b1'),
    activeMutes: await store.activeMutes(0),
    expiredMutes: await store.expiredMutes(20_000_000),
    mutedTotal: await store.mutedTotal(),
    audit: await store.recentAudit(10),
    watched: await store.watchedEventIds(),
    messages: await store.eventMessages(['n1']),
    postedSince: await store.postedSince([], [], 0),
    postedTargets: await store.postedTargets(10),
    summaries: await store.summaries(),
    activity: await store.channelActivity('C1', 0, 10_000),
  };
}

const EMPTY = {
  stats: { seen: 0, staged: 0, pending: 0, failed: 0, delivered: 0 },
  pendingCount: 0,
  unseen: [0, 1, 2, 3],
  staged: [],
  state: null,
  dueChannels: [],
  nextDue: null,
  unattempted: [],
  failures: [],
  subscriptions: [],
  threads: [],
  thread: null,
  deletion: null,
  activeMutes: [],
  expiredMutes: [],
  mutedTotal: 0,
  audit: [],
  watched: [],
  messages: [],
  postedSince: { counts: [], latest: null },
  postedTargets: [],
  summaries: [],
  activity: { rows: [], held: {} },
};

const KEY = 'hk_live_0123456789abcdefWXYZ';

export function tenancyContract(harness: TenancyHarness): void {
  let tenants: TenantStore;
  beforeEach(async () => {
    tenants = await harness.fresh();
  });
  afterEach(() => tenants.close());

  describe('scoped views', () => {
    it('see none of another scope’s rows: another account of the workspace, or another workspace', async () => {
      await fill(tenants.scoped(A));
      const filled = await snapshot(tenants.scoped(A));
      expect(filled).toMatchObject({
        stats: { seen: 5, staged: 1, pending: 2, failed: 0, delivered: 1 },
        unseen: [3],
        subscriptions: [expect.objectContaining({ channel: 'C1' })],
        mutedTotal: 4,
        watched: ['n1'],
      });
      for (const other of [B, C]) expect(await snapshot(tenants.scoped(other))).toEqual(EMPTY);
    });

    it('leave the database open when closed: the tenant store closes it', async () => {
      const view = tenants.scoped(A);
      await view.setState({ k: 'v' });
      await view.close();
      expect(await tenants.scoped(A).getState('k')).toBe('v');
      expect(await view.getState('k')).toBe('v');
    });

    it('keep the same event IDs, dedup keys, channels and state keys apart', async () => {
      const [a, b] = [tenants.scoped(A), tenants.scoped(C)];
      expect(await a.recordPage([event('e1')], [true])).toBe(1);
      expect(await b.recordPage([event('e1')], [true])).toBe(1);
      await a.route([alert('C1', 'e1')], ['e1'], 1000);
      await b.route([alert('C1', 'e1')], ['e1'], 1000);
      expect(await a.pendingCount()).toBe(1);
      expect(await b.pendingCount()).toBe(1);
      await a.setState({ k: 'a' });
      await b.setState({ k: 'b' });
      expect([await a.getState('k'), await b.getState('k')]).toEqual(['a', 'b']);
      const sub = { channel: 'C1', keys: ['k'], targetIds: [], createdBy: 'U1', createdAt: 1 };
      expect((await a.addSubscription(sub)).created).toBe(true);
      expect((await b.addSubscription(sub)).created).toBe(true);
      await a.openThread({ channel: 'C1', targetId: 1, parentTs: '1.1', parent: '{}', openedAt: 1 });
      await b.openThread({ channel: 'C1', targetId: 1, parentTs: '2.2', parent: '{}', openedAt: 2 });
      expect((await a.thread('C1', 1))?.parentTs).toBe('1.1');
      const ack = { channel: 'C1', messageTs: '1.1', eventId: 'e1', userId: 'U1', at: 1 };
      await a.acknowledge(ack);
      expect(await b.acknowledge({ ...ack, userId: 'U2' })).toEqual([{ ...ack, userId: 'U2' }]);
    });

    it('change nothing of another scope when given its IDs and channels', async () => {
      const victim = tenants.scoped(A);
      await fill(victim);
      const before = await snapshot(victim);
      const ids = (await victim.unattemptedAlerts('C1')).map((row) => row.id);
      const pending = (await victim.nextDue('C1', 5000))!.id;
      const mutes = (await victim.activeMutes(0)).map((mute) => mute.id);
      const subscription = (await victim.subscriptions())[0]!.id;
      for (const scope of [B, C]) {
        const other = tenants.scoped(scope);
        expect(await other.markSending(ids[0]!, 2000)).toBe(false);
        expect(await other.markSending(pending, 2000)).toBe(false);
        await other.markDelivered(pending, 2000);
        await other.markRetry(ids[0]!, 9000, 'x');
        await other.markFailed(ids[0]!, 'x', 2000);
        expect(await other.replaceWithDigest(ids, alert('C1', 'digest'), 2000)).toBe(false);
        expect(await other.failChannel('C1', 'gone', 2000)).toBe(0);
        await other.prune(1_000_000);
        expect(await other.removeMute(mutes[0]!, 2000)).toBeNull();
        expect(await other.removeMute(mutes[0]!, 2000, 'C1')).toBeNull();
        await other.endMutes(mutes, 2000);
        await other.countMuted(new Map([[mutes[0]!, 5]]));
        expect(await other.removeSubscription('C1', subscription)).toBe(false);
        expect(await other.removeAllSubscriptions('C1')).toBe(0);
        await other.countReply('C1', 1, 'k1', 7);
        expect(await other.closeThread('C1', 1)).toBeNull();
        expect(await other.removeSummary('C1')).toBe(false);
        expect(await other.setMessageSummary('C1', '111.1', 'theirs')).toEqual({ goneAt: null });
        await other.markListed(['n1'], 5000);
        expect(await other.countMisses({ all: true, keys: [], targetIds: [] }, 9000, 1)).toEqual([]);
        await other.markGone(['n1'], [], 3000);
        await other.routeSummary(alert('C1', 'summary'), 999_999, {}, 3000);
        expect(await snapshot(other)).toEqual(EMPTY);
      }
      expect(await snapshot(victim)).toEqual(before);
    });
  });

  describe('the subscriptions’ marks (the route-start check, subscription-watch.ts)', () => {
    it('move when a subscription is added or removed, per account and over the whole table', async () => {
      const sub = (createdAt: number) => ({
        channel: 'C1',
        keys: [`k${createdAt}`],
        targetIds: [],
        minSeverity: null,
        createdBy: 'U1',
        createdAt,
      });
      const empty = await tenants.subscriptionsMark();
      expect(await tenants.subscriptionMarks()).toEqual([]);
      const { subscription: first } = await tenants.scoped(A).addSubscription(sub(100));
      const one = await tenants.subscriptionsMark();
      expect(one).not.toBe(empty);
      const marksOfA = await tenants.subscriptionMarks();
      expect(marksOfA.map((m) => m.scope)).toEqual([A]);
      // Unchanged: the same marks.
      expect(await tenants.subscriptionsMark()).toBe(one);
      await tenants.scoped(B).addSubscription(sub(200));
      const two = await tenants.subscriptionMarks();
      expect(two.find((m) => m.scope.account === 'a1')).toEqual(marksOfA[0]);
      const ofB = two.find((m) => m.scope.account === 'a2')!.mark;
      // Removed and another added in its place: the marks move all the same.
      await tenants.scoped(B).addSubscription(sub(300));
      await tenants.scoped(A).removeSubscription('C1', first.id);
      const three = await tenants.subscriptionMarks();
      expect(three.map((m) => m.scope)).toEqual([B]);
      expect(three[0]!.mark).not.toBe(ofB);
      expect(await tenants.subscriptionsMark()).not.toBe(one);
    });
  });

  describe('the due sweep', () => {
    /** Sorted, as a set: the order of the scopes found means nothing. */
    const dueAt = async (now: number): Promise<string[]> =>
      (await tenants.dueScopes(now)).map((scope) => `${scope.workspace}/${scope.account}`).sort();

    it('finds every scope with a due row, once each, and exactly those whose own view finds a due channel', async () => {
      expect(await dueAt(5000)).toEqual([]);
      const [a, b, c] = [tenants.scoped(A), tenants.scoped(B), tenants.scoped(C)];
      // A: two channels due at 1000; B: one row, retried at 3000; C: one row, delivered.
      await a.route([alert('C1', 'n1'), alert('C1', 'n2'), alert('C2', 'n1')], [], 1000);
      await b.route([alert('C1', 'n1')], [], 1000);
      const [retried] = await b.unattemptedAlerts('C1');
      await b.markRetry(retried!.id, 3000, 'http_503');
      await c.route([alert('C9', 'n1')], [], 1000);
      const [posted] = await c.unattemptedAlerts('C9');
      expect(await c.markSending(posted!.id, 1100)).toBe(true);
      await c.markDelivered(posted!.id, 1200);
      expect(await dueAt(2000)).toEqual(['T1/a1']);
      expect(await dueAt(3000)).toEqual(['T1/a1', 'T1/a2']);
      for (const now of [999, 2000, 3000, 9000])
        for (const [scope, view] of [
          [A, a],
          [B, b],
          [C, c],
        ] as const)
          expect((await dueAt(now)).includes(`${scope.workspace}/${scope.account}`)).toBe(
            (await view.dueChannels(now)).length > 0,
          );
    });

    it('leaves out failed rows and a channel Slack refused', async () => {
      const a = tenants.scoped(A);
      await a.route([alert('C1', 'n1'), alert('C2', 'n1')], [], 1000);
      const [row] = await a.unattemptedAlerts('C1');
      await a.markFailed(row!.id, 'msg_too_long', 1100);
      expect(await dueAt(2000)).toEqual(['T1/a1']);
      expect(await a.failChannel('C2', 'channel_not_found', 1200)).toBe(1);
      expect(await dueAt(2000)).toEqual([]);
    });
  });

  describe('the registry', () => {
    const installation = (workspace: string): InstallationRecord => ({
      workspace,
      teamId: workspace,
      enterpriseId: null,
      isEnterpriseInstall: false,
      botUserId: 'UBOT',
      botId: 'BBOT',
      botToken: `xoxb-${workspace}-secret`,
      raw: JSON.stringify({ bot: { token: `xoxb-${workspace}-secret` } }),
      installedBy: 'U1',
      installedAt: 100,
    });
    const account = (workspace: string, name: string, apiKey = KEY): NewAccount => ({
      workspace,
      name,
      apiUrl: 'https://api.example',
      apiKey,
      createdBy: 'U1',
      createdAt: 200,
    });

    it('keeps installations, one a workspace, the latest winning', async () => {
      expect(await tenants.installation('T1')).toBeNull();
      await tenants.saveInstallation(installation('T2'));
      await tenants.saveInstallation(installation('T1'));
      const grid = { ...installation('E1'), teamId: null, enterpriseId: 'E1', isEnterpriseInstall: true };
      await tenants.saveInstallation(grid);
      await tenants.saveInstallation({ ...installation('T1'), botToken: 'xoxb-new', installedAt: 300 });
      expect(await tenants.installation('T1')).toEqual({
        ...installation('T1'),
        botToken: 'xoxb-new',
        installedAt: 300,
      });
      expect(await tenants.installations()).toEqual([
        grid,
        { ...installation('T1'), botToken: 'xoxb-new', installedAt: 300 },
        installation('T2'),
      ]);
    });

    it('connects accounts; the same name again keeps its ID, takes the new key and is active again', async () => {
      const first = await tenants.connectAccount(account('T1', 'prod'));
      expect(first.created).toBe(true);
      expect(first.account.id).toMatch(/^\w+$/);
      expect(first.account).toEqual({
        ...account('T1', 'prod'),
        id: first.account.id,
        keyHint: 'WXYZ',
        status: 'active',
        lastPollAt: null,
        lastError: null,
      });
      expect(first.account.id).not.toBe('env');
      const staging = await tenants.connectAccount(account('T1', 'staging'));
      const other = await tenants.connectAccount(account('T2', 'prod'));
      expect(new Set([first.account.id, staging.account.id, other.account.id]).size).toBe(3);
      const scope = { workspace: 'T1', account: first.account.id };
      await tenants.setAccountHealth(scope, {
        status: 'needs_key',
        lastPollAt: 500,
        lastError: 'halo_unauthorized',
      });
      expect((await tenants.accounts('T1'))[0]).toMatchObject({
        status: 'needs_key',
        lastPollAt: 500,
        lastError: 'halo_unauthorized',
      });

      const again = await tenants.connectAccount({
        ...account('T1', 'prod', 'hk_new_key_9876'),
        apiUrl: 'https://b',
      });
      expect(again).toEqual({
        created: false,
        account: {
          ...first.account,
          apiKey: 'hk_new_key_9876',
          apiUrl: 'https://b',
          keyHint: '9876',
          lastPollAt: 500,
        },
      });
      expect((await tenants.accounts('T1')).map((a) => a.name)).toEqual(['prod', 'staging']);
      expect((await tenants.accounts()).map((a) => [a.workspace, a.name])).toEqual([
        ['T1', 'prod'],
        ['T1', 'staging'],
        ['T2', 'prod'],
      ]);
    });

    it('disconnects an account: its key and every row of its scope, nothing else', async () => {
      const prod = (await tenants.connectAccount(account('T1', 'prod'))).account;
      const staging = (await tenants.connectAccount(account('T1', 'staging'))).account;
      const other = (await tenants.connectAccount(account('T2', 'prod'))).account;
      const scopes = [prod, staging, other].map((a) => ({ workspace: a.workspace, account: a.id }));
      for (const scope of scopes) await fill(tenants.scoped(scope));
      const kept = [await snapshot(tenants.scoped(scopes[1]!)), await snapshot(tenants.scoped(scopes[2]!))];

      const purged = await tenants.disconnectAccount(scopes[0]!);
      expect(purged).toEqual({
        rows: {
          accounts: 1,
          seen: 5,
          staged: 1,
          outbox: 3,
          subscriptions: 1,
          deletions: 1,
          state: 1,
          acknowledgements: 1,
          mutes: 2,
          audit: 1,
          threads: 1,
          watched_events: 1,
          event_messages: 1,
          summaries: 1,
        },
      });
      expect(await snapshot(tenants.scoped(scopes[0]!))).toEqual(EMPTY);
      expect([
        await snapshot(tenants.scoped(scopes[1]!)),
        await snapshot(tenants.scoped(scopes[2]!)),
      ]).toEqual(kept);
      expect((await tenants.accounts()).map((a) => a.id)).toEqual([staging.id, other.id]);
      expect(await tenants.disconnectAccount(scopes[0]!)).toBeNull();
    });

    it('purges a workspace: its installation, accounts and every row of it, nothing of another', async () => {
      await tenants.saveInstallation(installation('T1'));
      await tenants.saveInstallation(installation('T2'));
      const prod = (await tenants.connectAccount(account('T1', 'prod'))).account;
      const other = (await tenants.connectAccount(account('T2', 'prod'))).account;
      for (const scope of [A, B, { workspace: 'T1', account: prod.id }]) await fill(tenants.scoped(scope));
      await fill(tenants.scoped(C));
      const kept = await snapshot(tenants.scoped(C));

      const purged = await tenants.purgeWorkspace('T1');
      expect(purged.rows).toMatchObject({ installations: 1, accounts: 1, seen: 15, outbox: 9, mutes: 6 });
      for (const scope of [A, B, { workspace: 'T1', account: prod.id }])
        expect(await snapshot(tenants.scoped(scope))).toEqual(EMPTY);
      expect(await snapshot(tenants.scoped(C))).toEqual(kept);
      expect(await tenants.installation('T1')).toBeNull();
      expect(await tenants.installations()).toEqual([installation('T2')]);
      expect(await tenants.accounts()).toEqual([other]);
      expect(await tenants.purgeWorkspace('T1')).toEqual({ rows: {} });
    });

    it('stores no secret in clear: tokens and keys are sealed, only the key’s last 4 characters shown', async () => {
      await tenants.saveInstallation(installation('T1'));
      await tenants.connectAccount(account('T1', 'prod'));
      expect(await tenants.reencryptSecrets()).toBe(0);
      const stored = JSON.stringify([
        await harness.rows('halo_installations'),
        await harness.rows('halo_accounts'),
      ]);
      expect(stored).not.toContain('xoxb-T1-secret');
      expect(stored).not.toContain(KEY);
      expect(stored).not.toContain(KEY.slice(0, -4));
      expect(stored).toContain('WXYZ');
    });

    it('re-encrypts every secret under the newest key; the old key can then go', async () => {
      await tenants.saveInstallation(installation('T1'));
      const prod = (await tenants.connectAccount(account('T1', 'prod'))).account;
      const newest = new Uint8Array(32).fill(42);
      tenants = await harness.reopen([newest, ...TEST_KEYS]);
      expect(await tenants.installation('T1')).toEqual(installation('T1'));
      // The bot token, the raw installation and the Halo key.
      expect(await tenants.reencryptSecrets()).toBe(3);
      expect(await tenants.reencryptSecrets()).toBe(0);
      tenants = await harness.reopen([newest]);
      expect(await tenants.installation('T1')).toEqual(installation('T1'));
      expect(await tenants.accounts('T1')).toEqual([prod]);
    });

    it('refuses to save a secret without an encryption key, saving nothing', async () => {
      tenants = await harness.reopen([]);
      await expect(tenants.saveInstallation(installation('T1'))).rejects.toThrow(EncryptionKeyMissingError);
      await expect(tenants.connectAccount(account('T1', 'prod'))).rejects.toThrow(EncryptionKeyMissingError);
      expect(await tenants.installations()).toEqual([]);
      expect(await tenants.accounts()).toEqual([]);
      expect(await tenants.reencryptSecrets()).toBe(0);
    });
  });
}
