/**
 * The contract for acknowledgements, mutes and the audit log (`ActionStore`), which every Store implementation
 * passes; called from each implementation's test file beside `storeContract`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewMute, Store } from '../../src/pipeline/store-port.ts';
import type { StoreHarness } from './store.contract.ts';

export function actionsContract(harness: StoreHarness): void {
  let store: Store;
  beforeEach(async () => {
    store = await harness.fresh();
  });
  afterEach(() => store.close());

  const muteAt = (partial: Partial<NewMute> = {}): NewMute => ({
    channel: 'C1',
    key: 'target-scan-start',
    targetId: null,
    targetLabel: '',
    createdBy: 'U1',
    createdAt: 1000,
    expiresAt: 5000,
    ...partial,
  });

  describe('acknowledgements', () => {
    it('keeps each user once per message, oldest first, and survives a restart', async () => {
      const ack = { channel: 'C1', messageTs: '1.1', eventId: 'e1', userId: 'UA', at: 10 };
      expect(await store.acknowledge(ack)).toEqual([ack]);
      expect(await store.acknowledge({ ...ack, at: 20 })).toEqual([ack]);
      await store.close();
      store = await harness.reopen();
      const second = { ...ack, userId: 'UB', at: 30 };
      expect(await store.acknowledge(second)).toEqual([ack, second]);
      // Another message of the same event is another set.
      expect(await store.acknowledge({ ...ack, messageTs: '2.2' })).toEqual([{ ...ack, messageTs: '2.2' }]);
    });
  });

  describe('mutes', () => {
    it('adds, lists what is in force, counts what they held back, and ends them once', async () => {
      const a = await store.addMute(muteAt());
      const b = await store.addMute(
        muteAt({ channel: 'C2', key: null, targetId: 42, targetLabel: 'h', expiresAt: 9000 }),
      );
      expect(a).toEqual({ id: 1, ...muteAt(), held: 0 });
      expect((await store.activeMutes(4999)).map((m) => m.id)).toEqual([1, 2]);
      expect((await store.activeMutes(4999, 'C2')).map((m) => m.id)).toEqual([2]);
      expect((await store.activeMutes(5000)).map((m) => m.id)).toEqual([2]);

      await store.countMuted(
        new Map([
          [a.id, 3],
          [b.id, 1],
        ]),
      );
      await store.countMuted(new Map([[a.id, 2]]));
      expect(await store.mutedTotal()).toBe(6);

      expect(await store.expiredMutes(5000)).toEqual([{ ...a, held: 5 }]);
      await store.endMutes([a.id], 5000);
      expect(await store.expiredMutes(10_000)).toEqual([{ ...b, held: 1 }]);
      expect(await store.mutedTotal()).toBe(6);
    });

    it('unmutes only a mute in force, only in its channel when one is named', async () => {
      const a = await store.addMute(muteAt());
      expect(await store.removeMute(a.id, 2000, 'C9')).toBeNull();
      expect(await store.removeMute(a.id, 2000, 'C1')).toEqual(a);
      expect(await store.removeMute(a.id, 2000)).toBeNull();
      expect(await store.activeMutes(2000)).toEqual([]);
      // An unmuted mute is never announced as expired.
      expect(await store.expiredMutes(10_000)).toEqual([]);
    });
  });

  describe('audit', () => {
    it('returns the newest entries first', async () => {
      await store.audit({ at: 1, userId: 'U1', action: 'mute', channel: 'C1', detail: '#1 key:a' });
      await store.audit({ at: 3, userId: 'U2', action: 'delete', channel: null, detail: 'event e1' });
      await store.audit({ at: 2, userId: 'U3', action: 'acknowledge', channel: 'C1', detail: 'event e2' });
      expect(await store.recentAudit(2)).toEqual([
        { id: 2, at: 3, userId: 'U2', action: 'delete', channel: null, detail: 'event e1' },
        { id: 3, at: 2, userId: 'U3', action: 'acknowledge', channel: 'C1', detail: 'event e2' },
      ]);
    });
  });
}
