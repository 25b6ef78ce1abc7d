import { describe, expect, it } from 'vitest';
import { checkLimits, renderPreview, UNFURL_ACK_ACTION_ID } from '../../src/slack/blocks/index.ts';
import type { HaloEvent } from '../../src/domain/event.ts';

const link = 'https://www.halosecurity.com/link?q=user-event&id=ev-1';
const event: HaloEvent = {
  eventId: 'ev-1',
  subject: 'API Key <!channel> Added',
  dateCreated: '2026-12-01 09:30',
  key: 'account-apikey-add',
  url: link,
  target: { name: 'shop', id: 42, host: 'shop.example.com' },
};

describe('renderPreview: the card under a pasted Halo link', () => {
  it('shows severity, subject, target and time, escaped, with Acknowledge and no Delete', () => {
    expect(renderPreview(link, { kind: 'event', event, severity: 'high', acks: [] }, 'UTC')).toEqual({
      color: '#E01E5A',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            verbatim: true,
            text:
              '*:red_circle: High · API Key &lt;!channel&gt; Added*\n' +
              '`account-apikey-add` on shop · shop.example.com · ID 42 · ' +
              '<!date^1796117400^{date_short_pretty} {time}|2026-12-01 09:30 UTC>',
          },
        },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Acknowledge' },
              action_id: UNFURL_ACK_ACTION_ID,
              value: link,
            },
          ],
        },
      ],
    });
  });

  it('names who acknowledged, five at most and how many more, and offers the button no more', () => {
    const acks = ['UA', 'UB', 'UC', 'UD', 'UE', 'UF', 'UG'].map((userId, i) => ({
      userId,
      at: new Date(i * 1000),
    }));
    const { blocks } = renderPreview(link, { kind: 'event', event, severity: 'info', acks }, 'UTC');
    const note = JSON.stringify(blocks[1]);
    expect(note).toContain(':eyes: Acknowledged by <@UA> <!date^0^');
    expect(note).toContain('<@UE>');
    expect(note).not.toContain('<@UF>');
    expect(note).toContain(' and 2 more');
    // Acknowledged: the button is gone, as on an alert.
    expect(blocks.map((b) => b.type)).toEqual(['section', 'context']);
  });

  it('shows a gone event without buttons, and who deleted it', () => {
    expect(
      renderPreview(
        link,
        {
          kind: 'gone',
          eventId: 'ev-1',
          event: null,
          severity: null,
          deletedBy: { userId: 'UA', at: new Date(0) },
        },
        'UTC',
      ),
    ).toEqual({
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', verbatim: true, text: '*Halo event `ev-1`*' } },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              verbatim: true,
              text: ':wastebasket: Deleted from Halo by <@UA> <!date^0^{date_short_pretty} {time}|1970-01-01T00:00:00.000Z>',
            },
          ],
        },
      ],
    });
  });

  it('stays within Slack’s limits with the longest texts Halo could send', () => {
    const huge = 'x'.repeat(5000);
    const big = { ...event, subject: huge, key: huge, target: { name: huge, id: 1, host: huge } };
    const acks = Array.from({ length: 50 }, (_, i) => ({ userId: `U${i}`, at: new Date(0) }));
    const card = renderPreview(link, { kind: 'event', event: big, severity: 'low', acks }, 'UTC');
    expect(checkLimits({ text: 'preview', blocks: card.blocks })).toEqual([]);
  });
});
