import { describe, expect, it } from 'vitest';
import {
  decodeUnmuteValue,
  decodeUnsubscribeValue,
  encodeUnmuteValue,
  encodeUnsubscribeValue,
  homeChannels,
  renderHome,
} from '../../src/slack/blocks/home-view.ts';

const health = {
  lastSuccessAt: null,
  consecutiveFailures: 0,
  lastError: null,
  pending: 0,
  failed: 0,
  muted: 0,
  connection: 'HTTP',
};
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } });

describe('the Home tab renderer', () => {
  it('renders an empty, read-only page', () => {
    expect(renderHome({ isAdmin: false, health, channels: [], audit: [] })).toEqual({
      type: 'home',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Halo Security' } },
        section(
          '*:hourglass: Starting: no poll has completed yet*\nLast successful poll: never\n' +
            'Alerts waiting to be posted: 0 · could not be posted: 0\n' +
            'Events muted (counted, not posted): 0\nConnection to Slack: HTTP',
        ),
        { type: 'divider' },
        { type: 'header', text: { type: 'plain_text', text: 'Channels' } },
        section('No channel receives alerts yet: type `/halo subscribe` in one, or set HALO_ALERT_CHANNEL.'),
        { type: 'divider' },
        { type: 'header', text: { type: 'plain_text', text: 'Recent actions' } },
        section('Nothing yet.'),
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              verbatim: true,
              text: 'Read-only: only the users in HALO_ADMIN_USERS (or workspace admins and owners) can unmute and unsubscribe here.',
            },
          ],
        },
      ],
    });
  });

  it('escapes audit details and keeps within 100 blocks for many channels', () => {
    const subs = Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      channel: `C${String(i).padStart(4, '0')}`,
      keys: ['k'],
      targetIds: [],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: 0,
    }));
    const view = renderHome({
      isAdmin: true,
      health,
      channels: homeChannels(subs, [], null),
      audit: [{ id: 1, at: 0, userId: 'U1', action: 'delete', channel: null, detail: 'event <!channel>`x' }],
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(view.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(view.blocks)).toContain('Not shown here: <#C');
    expect(JSON.stringify(view.blocks)).toMatch(/ and \d+ more. /);
  });

  it('groups rows by channel, the settings channel first', () => {
    const sub = {
      id: 2,
      channel: 'CB',
      keys: [],
      targetIds: [5],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: 0,
    };
    const mute = {
      id: 3,
      channel: 'CA',
      key: 'k',
      targetId: null,
      targetLabel: '',
      createdBy: 'U1',
      createdAt: 0,
      expiresAt: 1,
      held: 0,
    };
    const route = { channel: 'CZ', keys: [], targetIds: [] };
    expect(homeChannels([sub], [mute], route)).toEqual([
      { channel: 'CZ', fromSettings: route, subscriptions: [], mutes: [] },
      { channel: 'CB', fromSettings: null, subscriptions: [sub], mutes: [] },
      { channel: 'CA', fromSettings: null, subscriptions: [], mutes: [mute] },
    ]);
  });

  it('encodes and decodes its button values, refusing anything else', () => {
    expect(decodeUnmuteValue(encodeUnmuteValue(12))).toBe(12);
    expect(decodeUnsubscribeValue(encodeUnsubscribeValue('C0AB', 7))).toEqual({ channel: 'C0AB', id: 7 });
    for (const bad of [undefined, '', '0', '1e3', '-1', ' 1', '12345678901'])
      expect(decodeUnmuteValue(bad)).toBeNull();
    for (const bad of [undefined, 'C0AB', 'C0AB:0', '<!channel>:1', 'C0AB:1:2'])
      expect(decodeUnsubscribeValue(bad)).toBeNull();
  });
});
