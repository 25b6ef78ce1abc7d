import { describe, expect, it } from 'vitest';
import {
  decodeAckValue,
  decodeMuteChoice,
  encodeAckValue,
  encodeMuteChoice,
  renderAcknowledged,
  type Block,
} from '../../src/slack/blocks/index.ts';

describe('alert action values', () => {
  it('round-trips the Acknowledge value, and refuses what no event ID is', () => {
    expect(encodeAckValue('ev-1')).toBe('ev-1');
    expect(decodeAckValue(encodeAckValue('ev-1'))).toEqual({ account: undefined, eventId: 'ev-1' });
    expect(encodeAckValue('')).toBeUndefined();
    expect(encodeAckValue('e'.repeat(2001))).toBeUndefined();
    for (const bad of [undefined, 7, '', 'a\u0000b']) expect(decodeAckValue(bad)).toBeNull();
  });

  it('round-trips mute choices, cutting only the label, and refuses forged ones', () => {
    const key = { kind: 'key', key: 'a|b', duration: '7d' } as const;
    expect(encodeMuteChoice(key)).toBe('k|7d|a|b');
    expect(decodeMuteChoice(encodeMuteChoice(key))).toEqual(key);
    expect(encodeMuteChoice({ ...key, key: 'k'.repeat(146) })).toBeUndefined();
    const target = { kind: 'target', targetId: 42, label: 'h'.repeat(300), duration: '1h' } as const;
    const value = encodeMuteChoice(target)!;
    expect(value).toHaveLength(150);
    expect(decodeMuteChoice(value)).toEqual({ ...target, label: 'h'.repeat(150 - 't|1h|42|'.length) });
    for (const bad of [
      'k|2h|x',
      'k|1h|',
      't|1h|0|h',
      't|1h|abc|h',
      't|1h|4294967296|h',
      'x|1h|y',
      'k|1h|a\nb',
      5,
    ])
      expect(decodeMuteChoice(bad)).toBeNull();
  });
});

describe('renderAcknowledged', () => {
  const header: Block = { type: 'header', text: { type: 'plain_text', text: 'Scan Started' } };
  const ackButton = {
    type: 'button',
    text: { type: 'plain_text', text: 'Acknowledge' },
    action_id: 'halo_ack',
    value: 'e1',
  } as const;
  const deleteButton = {
    type: 'button',
    text: { type: 'plain_text', text: 'Delete event' },
    action_id: 'halo_delete_event',
    value: 'e1',
  } as const;
  const actions: Block = {
    type: 'actions',
    block_id: 'halo_alert_actions',
    elements: [ackButton, deleteButton],
  };
  const at = new Date(Date.UTC(2026, 10, 29, 13, 28));
  const date = '<!date^1795958880^{date_short_pretty} {time}|2026-11-29T13:28:00.000Z>';

  it('drops the button, keeps the rest, and names everyone with their time', () => {
    const once = renderAcknowledged([header, actions], [{ userId: 'U1', at }], 'e1');
    expect(once).toEqual({
      text: 'Halo event e1 acknowledged by <@U1>',
      blocks: [
        header,
        {
          type: 'context',
          block_id: 'halo_acked',
          elements: [{ type: 'mrkdwn', verbatim: true, text: `:eyes: Acknowledged by <@U1> ${date}` }],
        },
        { type: 'actions', block_id: 'halo_alert_actions', elements: [deleteButton] },
      ],
    });
    const twice = renderAcknowledged(
      once.blocks,
      [
        { userId: 'U1', at },
        { userId: '<!here>', at },
      ],
      'e1',
    );
    expect(twice.blocks).toHaveLength(3);
    expect(twice.blocks[1]).toEqual({
      type: 'context',
      block_id: 'halo_acked',
      elements: [
        { type: 'mrkdwn', verbatim: true, text: `:eyes: Acknowledged by <@U1> ${date}, someone ${date}` },
      ],
    });
  });
});
