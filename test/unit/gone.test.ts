import { describe, expect, it } from 'vitest';
import {
  coverageOf,
  goneItems,
  goneTarget,
  isConclusive,
  type GoneNotice,
} from '../../src/pipeline/gone-tracking.ts';
import { renderGone } from '../../src/slack/blocks/index.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import { renderGoneNotice } from '../../src/slack/blocks/outbox-message.ts';
import { DEFAULT_DISPLAY } from '../../src/domain/display.ts';

describe('isConclusive', () => {
  const scan = { scope: {}, events: 3, invalid: 0, total: 3, steady: true };
  it('takes only a complete, steady scan where every entry was read', () => {
    expect(isConclusive(scan)).toBe(true);
    expect(isConclusive({ ...scan, total: null })).toBe(true);
    expect(isConclusive({ ...scan, steady: false })).toBe(false);
    expect(isConclusive({ ...scan, invalid: 1, events: 2 })).toBe(false);
    // Halo said 4 but served 3: one was never seen.
    expect(isConclusive({ ...scan, total: 4 })).toBe(false);
  });
});

describe('coverageOf', () => {
  it('names keys and targets once each, and "everything" for an unfiltered scope', () => {
    expect(
      coverageOf([{ key: 'b' }, { key: 'a' }, { target_id: 9 }, { key: 'a' }, { target_id: 2 }]),
    ).toEqual({
      all: false,
      keys: ['a', 'b'],
      targetIds: [2, 9],
    });
    expect(coverageOf([{ key: 'a' }, {}])).toEqual({ all: true, keys: ['a'], targetIds: [] });
    expect(coverageOf([])).toEqual({ all: false, keys: [], targetIds: [] });
  });
});

const event = {
  eventId: 'ev-1',
  subject: 'New Open Port',
  dateCreated: '2026-11-29 10:00',
  key: 'port-open',
  url: 'https://halo.example/ev-1',
  target: { name: '', id: 7, host: 'h7.example.com' },
};

describe('goneItems', () => {
  it('makes one update per message, named by its message, with what it showed', () => {
    const items = goneItems(
      [
        {
          channel: 'C1',
          ts: '1.5',
          eventId: 'ev-1',
          payload: JSON.stringify(event),
          summary: 'Scan complete · nothing new',
          acks: [{ channel: 'C1', messageTs: '1.5', eventId: 'ev-1', userId: 'UA', at: 10 }],
        },
        { channel: 'C2', ts: '2.5', eventId: 'ev-1', payload: 'not json', summary: null, acks: [] },
      ],
      new Map([['ev-1', { eventId: 'ev-1', userId: 'UADMIN', at: 20, alreadyDeleted: false }]]),
      30,
    );
    expect(items).toEqual([
      {
        channel: 'C1',
        kind: 'gone',
        dedupKey: 'C1:gone:1.5',
        payload: JSON.stringify({
          ts: '1.5',
          event,
          summary: 'Scan complete · nothing new',
          noticedAt: 30,
          acks: [{ userId: 'UA', at: 10 }],
          deletion: { userId: 'UADMIN', at: 20, alreadyDeleted: false },
        }),
      },
    ]);
    expect(goneTarget(items[0]!.payload)).toBe('1.5');
    expect(goneTarget('{}')).toBeNull();
    expect(goneTarget('nope')).toBeNull();
  });
});

describe('renderGone', () => {
  const alert: SlackMessage = {
    text: 'Medium: New Open Port',
    color: '#E8A317',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Medium · New Open Port', emoji: true } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '<https://halo.example/ev-1|View in Halo>' }] },
      {
        type: 'actions',
        block_id: 'halo_alert_actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Acknowledge' },
            action_id: 'halo_ack',
            value: 'ev-1',
          },
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Delete event' },
            action_id: 'delete_halo_event',
            value: 'ev-1',
          },
        ],
      },
    ],
  };
  const noticed = new Date('2026-11-29T10:05:00Z');

  it('keeps the alert, removes every action and says since when the event is gone', () => {
    expect(renderGone(alert, { eventId: 'ev-1', noticedAt: noticed, acks: [], deletion: null })).toEqual({
      text: 'Halo event ev-1 no longer exists in Halo',
      color: '#E8A317',
      blocks: [
        alert.blocks[0],
        alert.blocks[1],
        {
          type: 'context',
          block_id: 'halo_gone',
          elements: [
            {
              type: 'mrkdwn',
              text: ':ghost: This event no longer exists in Halo (noticed <!date^1795946700^{date_short_pretty} {time}|2026-11-29T10:05:00.000Z>)',
              verbatim: true,
            },
          ],
        },
      ],
    });
  });

  it('still shows who acknowledged it and who deleted it, and says it is gone once: by the deletion', () => {
    const gone = renderGone(alert, {
      eventId: 'ev-1',
      noticedAt: noticed,
      acks: [{ userId: 'UA', at: new Date('2026-11-29T10:01:00Z') }],
      deletion: { userId: 'UADMIN', at: new Date('2026-11-29T10:02:00Z'), alreadyDeleted: false },
    });
    expect(gone.blocks.map((block) => [block.type, block.block_id ?? ''])).toEqual([
      ['header', ''],
      ['context', ''],
      ['context', 'halo_acked'],
      ['context', 'halo_deleted'],
    ]);
    expect(gone.text).toBe('Halo event ev-1 deleted by <@UADMIN>');
    expect(JSON.stringify(gone)).not.toContain('no longer exists');
    expect(JSON.stringify(gone.blocks[2])).toContain(
      ':eyes: Acknowledged by <@UA> <!date^1795946460^{date_short_pretty} {time}|2026-11-29T10:01:00.000Z>',
    );
    expect(JSON.stringify(gone.blocks[3])).toContain(
      ':wastebasket: Deleted by <@UADMIN> <!date^1795946520^{date_short_pretty} {time}|2026-11-29T10:02:00.000Z>',
    );
  });

  it('renders a stored notice as the alert was, thread summary included', () => {
    const notice: GoneNotice = {
      ts: '1.5',
      event,
      summary: 'Scan complete · 1 port opened',
      noticedAt: noticed.getTime(),
      acks: [],
      deletion: null,
    };
    const shown = renderGoneNotice(notice, DEFAULT_DISPLAY);
    expect(shown.blocks.map((block) => block.type)).toEqual([
      'header',
      'section',
      'section',
      'context',
      'context',
    ]);
    expect(JSON.stringify(shown.blocks[1])).toContain('Scan complete · 1 port opened');
    expect(shown.blocks.some((block) => block.type === 'actions')).toBe(false);
  });
});
