import { describe, expect, it } from 'vitest';
import {
  decodeDialogMetadata,
  decodeDialogState,
  decodeEditValue,
  decodeTargetOption,
  DIALOG_IDS,
  encodeDialogMetadata,
  encodeEditValue,
  encodeTargetOption,
} from '../../src/slack/blocks/payloads.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';
import { previewText, renderSubscribeModal } from '../../src/slack/blocks/subscribe-modal.ts';
import type { Preview } from '../../src/commands/subscribe-dialog.ts';

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
