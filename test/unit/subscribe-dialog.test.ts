import { describe, expect, it } from 'vitest';
import { decodeEditValue, encodeEditValue } from '../../src/slack/blocks/payloads.ts';
import {
  decodeDialogMetadata,
  decodeDialogState,
  decodeTargetOption,
  DIALOG_IDS,
  encodeDialogMetadata,
  encodeTargetOption,
} from '../../src/slack/blocks/dialog-payloads.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';
import { parseCommand } from '../../src/commands/command-parse.ts';
import { previewText, renderSubscribeModal } from '../../src/slack/blocks/subscribe-modal.ts';
import PQueue from 'p-queue';
import {
  MAX_TOTAL_REQUESTS,
  SubscribeDialog,
  TYPES_CACHE_MS,
  type DialogHalo,
  type Preview,
} from '../../src/commands/subscribe-dialog.ts';
import { createLogger } from '../../src/log.ts';
import { openSqliteStore } from '../stores.ts';
import { CommandService } from '../../src/commands/service.ts';
import type { HaloClient } from '../../src/pipeline/halo-port.ts';
import type { Store } from '../../src/pipeline/store-port.ts';

const values = (fields: {
  channel?: unknown;
  keys?: unknown[];
  targets?: unknown[];
  severity?: unknown;
}): Record<string, unknown> => ({
  [DIALOG_IDS.channel]: { [DIALOG_IDS.channel]: { selected_conversation: fields.channel ?? 'C01' } },
  [DIALOG_IDS.types]: {
    [DIALOG_IDS.types]: { selected_options: (fields.keys ?? []).map((value) => ({ value })) },
  },
  [DIALOG_IDS.targets]: {
    [DIALOG_IDS.targets]: {
      selected_options: (fields.targets ?? []).map((value) => ({
        value,
        text: { text: `T ${String(value)}` },
      })),
    },
  },
  [DIALOG_IDS.severity]: {
    [DIALOG_IDS.severity]: {
      selected_option: fields.severity === undefined ? null : { value: fields.severity },
    },
  },
});

describe('the subscribe dialog’s payloads: one encoder and one decoder each', () => {
  it('private_metadata: none for a new subscription, channel:ID for an edit; anything else refused', () => {
    expect(decodeDialogMetadata(encodeDialogMetadata({ editing: null }))).toEqual({ editing: null });
    const editing = { channel: 'C0123', id: 12 };
    expect(decodeDialogMetadata(encodeDialogMetadata({ editing }))).toEqual({ editing });
    expect(decodeEditValue(encodeEditValue('C0123', 12))).toEqual(editing);
    for (const bad of ['x', 'C0123:0', 'C0123:-1', 'c0123:1', 'C0123:1:2', 42]) {
      expect(decodeDialogMetadata(bad)).toBeNull();
      expect(decodeEditValue(bad)).toBeNull();
    }
    expect(decodeEditValue('')).toBeNull();
  });

  it('a target option is its ID, a positive 32-bit integer', () => {
    expect(decodeTargetOption(encodeTargetOption(42))).toBe(42);
    for (const bad of ['0', '-1', '1.5', '2147483648', ' 1', 1]) expect(decodeTargetOption(bad)).toBeNull();
  });

  it('reads the fields; empty lists mean every type and target', () => {
    expect(decodeDialogState(values({ keys: ['a', 'b', 'a'], targets: ['7'], severity: 'high' }))).toEqual({
      ok: true,
      channel: 'C01',
      keys: ['a', 'b'],
      targetIds: [7],
      targets: [{ id: 7, label: 'T 7' }],
      minSeverity: 'high',
    });
    expect(decodeDialogState(values({}))).toMatchObject({
      ok: true,
      keys: [],
      targetIds: [],
      minSeverity: null,
    });
  });

  it('names each forged field: channel, target, severity, too many types', () => {
    const state = decodeDialogState(
      values({
        channel: 'U1',
        targets: ['x'],
        severity: 'urgent',
        keys: Array.from({ length: 21 }, (_, i) => `k${i}`),
      }),
    );
    expect(state).toEqual({
      ok: false,
      errors: {
        [DIALOG_IDS.channel]: 'Pick the channel the alerts go to.',
        [DIALOG_IDS.types]: 'At most 20 event types, got 21.',
        [DIALOG_IDS.targets]: 'A target is not a valid ID; pick it again.',
        [DIALOG_IDS.severity]: 'Pick a severity from the list.',
      },
    });
    expect(decodeDialogState(undefined)).toMatchObject({ ok: false });
  });

  it('takes an event type only as /halo subscribe key:K would: no control characters, at most 200 characters', () => {
    const refused = {
      ok: false,
      errors: { [DIALOG_IDS.types]: 'An event type is not valid; pick it again.' },
    };
    for (const bad of ['port\u0000open', 'port\nopen', 'port\topen', '\u007f', '', 'k'.repeat(201), 7]) {
      expect(decodeDialogState(values({ keys: ['port-open', bad] }))).toEqual(refused);
      if (typeof bad === 'string') expect(parseCommand(`subscribe key:"${bad}"`).ok).toBe(false);
    }
    // 200 code points, 400 UTF-16 units: the command takes it, so the dialog does.
    const astral = '\u{1F512}'.repeat(200);
    expect(parseCommand(`subscribe key:${astral}`).ok).toBe(true);
    expect(decodeDialogState(values({ keys: [astral] }))).toMatchObject({ ok: true, keys: [astral] });
  });
});

describe('the subscribe modal', () => {
  const preview: Preview = {
    total: 1234,
    partial: false,
    slow: false,
    recent: 42,
    recentBySeverity: [
      { severity: 'high', count: 12 },
      { severity: 'medium', count: 30 },
    ],
    latest: { subject: 'New Issue Found', where: 'api.acme.example', at: 0 },
    now: 2 * 3600_000,
  };

  it('says what the subscription would post, as the issue words it', () => {
    expect(previewText(preview)).toBe(
      'Halo holds 1,234 events of these types for these targets; 42 arrived in the last 7 days (12 High, 30 Medium); latest: *New Issue Found* on api.acme.example, 2 h ago.',
    );
    expect(
      previewText({ ...preview, total: null, slow: true, latest: null, recent: 0, recentBySeverity: [] }),
    ).toBe(
      'Halo’s total could not be read in time; 0 arrived in the last 7 days.\n:hourglass: Halo is slow to answer: these figures are what came within 2 s.',
    );
    expect(previewText({ ...preview, partial: true })).toMatch(
      /^Halo holds at least 1,234 .*\nTotals are asked for at most 10/s,
    );
  });

  it('lists at most 100 types, keeps a picked key Halo no longer lists, and stays within Block Kit limits', () => {
    const types = Array.from({ length: 150 }, (_, i) => ({
      subject: `Type ${i} ${'x'.repeat(100)}`,
      key: `k${i}`,
    }));
    const view = renderSubscribeModal({
      metadata: { editing: { channel: 'C1', id: 3 } },
      channel: 'C1',
      accounts: [],
      types,
      keys: ['gone-key'],
      targets: [{ id: 7, label: 'api (7)' }],
      minSeverity: 'low',
      preview,
    });
    expect(view.title.text).toBe('Edit subscription');
    expect(view.private_metadata).toBe('C1:3');
    const select = view.blocks.find((b) => b.block_id === DIALOG_IDS.types) as unknown as {
      element: { options: { text: { text: string }; value: string }[]; initial_options: { value: string }[] };
      hint: { text: string };
    };
    expect(select.element.options).toHaveLength(100);
    expect(select.element.initial_options.map((o) => o.value)).toEqual(['gone-key']);
    expect(select.element.options.map((o) => o.value)).toContain('gone-key');
    expect(select.element.options.every((o) => o.text.text.length <= 75)).toBe(true);
    expect(select.hint.text).toContain('The first 100 of Halo’s 150 types');
    const shown = view.blocks.filter((b) => b.type !== 'input') as Parameters<
      typeof checkLimits
    >[0]['blocks'];
    expect(checkLimits({ text: 'x', blocks: shown ?? [] })).toEqual([]);
  });
});

describe('SubscribeDialog (the core)', () => {
  const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
  const setup = (halo: DialogHalo, previewBudgetMs = 1000) => {
    let now = 1_000_000;
    const store = openSqliteStore(':memory:');
    const dialog = new SubscribeDialog({
      halo,
      store,
      clock: { now: () => now },
      log: quiet,
      haloRequests: new PQueue({ concurrency: 4 }),
      severityOf: (key) => (key === 'loud' ? 'high' : 'low'),
      run: () => Promise.reject(new Error('not in this test')),
      previewBudgetMs,
    });
    return { dialog, store, advance: (ms: number) => (now += ms) };
  };
  const types =
    (calls: { n: number }): DialogHalo['listTypes'] =>
    () => {
      calls.n++;
      return Promise.resolve([
        { subject: 'B', key: 'b' },
        { subject: 'A', key: 'a' },
      ]);
    };

  it('reads Halo’s event types at most once an hour, sorted by name', async () => {
    const calls = { n: 0 };
    const { dialog, store, advance } = setup({
      listTypes: types(calls),
      listEvents: () => Promise.resolve({ total: 0 }),
    });
    expect((await dialog.eventTypes()).map((t) => t.key)).toEqual(['a', 'b']);
    advance(TYPES_CACHE_MS - 1);
    await dialog.eventTypes();
    expect(calls.n).toBe(1);
    advance(1);
    await dialog.eventTypes();
    expect(calls.n).toBe(2);
    await store.close();
  });

  it('asks Halo for one entry per type and target, at most 10, and says when it asked fewer than there are', async () => {
    const asked: unknown[] = [];
    const { dialog, store } = setup({
      listTypes: types({ n: 0 }),
      listEvents: (filter, options) => {
        asked.push({ filter, limit: options.limit });
        return Promise.resolve({ total: 5 });
      },
    });
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    const preview = await dialog.preview({ channel: 'C01', keys, targetIds: [1, 2], minSeverity: null });
    expect(asked).toHaveLength(MAX_TOTAL_REQUESTS);
    expect(asked[0]).toEqual({ filter: { key: 'k1', target_id: 1 }, limit: 1 });
    expect(preview).toMatchObject({ total: 50, partial: true, slow: false });
    // Types below the minimum severity post nothing: not asked about.
    asked.length = 0;
    await dialog.preview({ channel: 'C01', keys: ['loud', 'quiet'], targetIds: [], minSeverity: 'high' });
    expect(asked).toEqual([{ filter: { key: 'loud' }, limit: 1 }]);
    await store.close();
  });

  it('answers within its budget when Halo is slow, and says so', async () => {
    const { dialog, store } = setup(
      {
        listTypes: types({ n: 0 }),
        listEvents: (_filter, options) =>
          new Promise((_resolve, reject) =>
            options.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
          ),
      },
      50,
    );
    const preview = await dialog.preview({ channel: 'C01', keys: ['a'], targetIds: [], minSeverity: null });
    expect(preview).toMatchObject({ total: null, slow: true, partial: true });
    expect(previewText(preview)).toContain('Halo is slow to answer');
    await store.close();
  });

  it('suggests a typed ID first, then the targets posted whose name holds the text', async () => {
    const { dialog, store } = setup({
      listTypes: types({ n: 0 }),
      listEvents: () => Promise.resolve({ total: 0 }),
    });
    const payload = (host: string) => JSON.stringify({ subject: 's', target: { host, name: '' } });
    await store.recordMessage(
      {
        channel: 'C01',
        ts: '1.1',
        eventId: 'e1',
        payload: payload('api.acme.example'),
        key: 'a',
        targetId: 12,
      },
      1,
    );
    await store.recordMessage(
      {
        channel: 'C01',
        ts: '1.2',
        eventId: 'e2',
        payload: payload('www.other.example'),
        key: 'a',
        targetId: 34,
      },
      2,
    );
    expect(await dialog.targetOptions('acme')).toEqual([{ id: 12, label: 'api.acme.example (12)' }]);
    expect(await dialog.targetOptions('12')).toEqual([{ id: 12, label: 'api.acme.example (12)' }]);
    expect(await dialog.targetOptions('99')).toEqual([{ id: 99, label: 'Target 99' }]);
    expect((await dialog.targetOptions('')).map((t) => t.id)).toEqual([34, 12]);
    await store.close();
  });
});

describe('saving an Edit (the core replaces the subscription)', () => {
  const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
  const setup = (failRemove: boolean) => {
    const real = openSqliteStore(':memory:');
    // The store as the service sees it: its removal failing, as a lost database connection would make it.
    const store: Store = Object.create(real, {
      removeSubscription: {
        value: failRemove
          ? () => Promise.reject(new Error('connection lost'))
          : real.removeSubscription.bind(real),
      },
    }) as Store;
    const commands = new CommandService({
      halo: { listTypes: () => Promise.resolve([]) } as unknown as HaloClient,
      store,
      clock: { now: () => 1_000_000 },
      log: quiet,
      defaultRoute: null,
      haloRequests: new PQueue({ concurrency: 1 }),
      canManage: () => Promise.resolve(true),
      status: () => Promise.reject(new Error('not in this test')),
      startSubscription: () => Promise.resolve('started'),
      postTest: () => Promise.resolve({ ok: true }),
      botUserId: 'UBOT',
    });
    const dialog = new SubscribeDialog({
      halo: { listTypes: () => Promise.resolve([]), listEvents: () => Promise.resolve({ total: 0 }) },
      store,
      clock: { now: () => 1_000_000 },
      log: quiet,
      haloRequests: new PQueue({ concurrency: 1 }),
      severityOf: () => 'low',
      run: (command, context) => commands.run(command, context),
    });
    return { real, dialog };
  };
  const selection = { channel: 'C01', keys: ['b'], targetIds: [], minSeverity: null };

  it('removes the subscription replaced once the new one is saved', async () => {
    const { real, dialog } = setup(false);
    const old = await dialog.save({ ...selection, keys: ['a'] }, 'U1');
    expect(old).toMatchObject({ kind: 'subscribed', subscription: { id: 1 } });
    expect(await dialog.save(selection, 'U1', { channel: 'C01', id: 1 })).toMatchObject({
      kind: 'subscribed',
      subscription: { id: 2 },
    });
    expect((await real.subscriptions('C01')).map((s) => s.id)).toEqual([2]);
  });

  it('when the removal fails, says both are active and which to remove, rather than fail', async () => {
    const { real, dialog } = setup(true);
    await dialog.save({ ...selection, keys: ['a'] }, 'U1');
    const answer = await dialog.save(selection, 'U1', { channel: 'C01', id: 1 });
    expect(answer).toMatchObject({ kind: 'notice' });
    expect(JSON.stringify(answer)).toContain(
      'Saved as #2, but the subscription it replaces (#1 in channel C01) could not be removed, so both are active: remove it with /halo unsubscribe 1',
    );
    expect((await real.subscriptions('C01')).map((s) => s.id)).toEqual([1, 2]);
  });
});
