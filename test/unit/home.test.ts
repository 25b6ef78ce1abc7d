import { describe, expect, it } from 'vitest';
import {
  decodeUnmuteValue,
  decodeUnsubscribeValue,
  encodeUnmuteValue,
  encodeUnsubscribeValue,
  HOME_UNSUBSCRIBE_ACTION_ID,
  homeChannels,
  renderHome,
} from '../../src/slack/blocks/home-view.ts';
import { ACTION_IDS, decodeHomePage } from '../../src/slack/blocks/payloads.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';

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
  });

  it('pages past 100 blocks: every subscription on some page, each with its Edit and Remove, page by page', () => {
    const subs = Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      channel: `C${String(i % 40).padStart(4, '0')}`,
      keys: ['k'],
      targetIds: [],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: 0,
    }));
    const data = { isAdmin: true, health, channels: homeChannels(subs, [], null), audit: [] };
    const removed: string[] = [];
    const edited: string[] = [];
    let page = 0;
    const seen: number[] = [];
    for (;;) {
      const view = renderHome(data, page);
      expect(view.blocks.length).toBeLessThanOrEqual(100);
      expect(
        checkLimits({ text: 'home', blocks: view.blocks }).filter((p) => !p.startsWith('blocks:')),
      ).toEqual([]);
      const buttons = view.blocks.flatMap((b) =>
        b.type === 'actions'
          ? b.elements
          : b.type === 'section' && b.accessory !== undefined
            ? [b.accessory]
            : [],
      ) as { action_id: string; value?: string; text: { text: string } }[];
      removed.push(...buttons.filter((b) => b.action_id === HOME_UNSUBSCRIBE_ACTION_ID).map((b) => b.value!));
      edited.push(
        ...buttons.filter((b) => b.action_id === ACTION_IDS.homeEditSubscription).map((b) => b.value!),
      );
      seen.push(page);
      const next = buttons.find((b) => b.action_id === ACTION_IDS.homePage && b.text.text === 'Next');
      if (next === undefined) break;
      expect(JSON.stringify(view.blocks)).toContain(`page ${page + 1} of `);
      page = decodeHomePage(next.value)!;
    }
    expect(seen.length).toBeGreaterThan(2);
    expect(removed).toHaveLength(150);
    expect(new Set(removed).size).toBe(150);
    expect(edited.sort()).toEqual([...removed].sort());
    // A page that goes on with a channel names it again; out of range shows the first page.
    expect(JSON.stringify(renderHome(data, 1).blocks)).toContain('(continued)');
    expect(renderHome(data, 999).blocks).toEqual(renderHome(data, seen.length - 1).blocks);
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

  it('shows each account’s health when there are connected accounts, a refused key first and marked', () => {
    const accounts = [
      { name: 'prod', status: 'active', lastPollAt: null, lastError: null, keyHint: 'AAAA' },
      { name: 'lab', status: 'needs_key', lastPollAt: 0, lastError: 'halo_unauthorized', keyHint: 'BBBB' },
    ] as const;
    const view = renderHome({ isAdmin: true, health, accounts, channels: [], audit: [] });
    const texts = view.blocks.map((b) => JSON.stringify(b));
    const header = texts.findIndex((t) => t.includes('"Halo accounts"'));
    expect(header).toBeGreaterThan(0);
    // Before the channels, the refused account first: it stands out with what to do.
    expect(texts.findIndex((t) => t.includes('"Channels"'))).toBeGreaterThan(header + 2);
    const [refused, active] = view.blocks.slice(header + 1, header + 3) as { text: { text: string } }[];
    expect(refused!.text.text).toMatch(
      /^:warning: \*lab\* — :red_circle: needs a new key · last poll .* · last error `halo_unauthorized` · key …BBBB\n/,
    );
    expect(refused!.text.text).toContain('`/halo connect` and the same name');
    expect(active!.text.text).toBe('*prod* — :white_check_mark: active · not polled yet · key …AAAA');
    // No accounts given (the single shape's env account alone): no section.
    expect(JSON.stringify(renderHome({ isAdmin: true, health, channels: [], audit: [] }))).not.toContain(
      'Halo accounts',
    );
  });

  it('names each subscription’s and mute’s account when the rows say it', () => {
    const sub = {
      id: 4,
      channel: 'CA',
      keys: [],
      targetIds: [],
      minSeverity: null,
      createdBy: 'U1',
      createdAt: 0,
    };
    const mute = {
      id: 5,
      channel: 'CA',
      key: 'k',
      targetId: null,
      targetLabel: '',
      createdBy: 'U1',
      createdAt: 0,
      expiresAt: 1,
      held: 0,
    };
    const labelled = renderHome({
      isAdmin: false,
      health,
      channels: homeChannels([{ ...sub, accountName: 'lab' }], [{ ...mute, accountName: 'prod' }], null),
      audit: [],
    });
    const text = JSON.stringify(labelled.blocks);
    expect(text).toContain('Subscription *#4* (account *lab*): ');
    expect(text).toContain(':mute: Mute (account *prod*) *#5*: ');
    const plain = JSON.stringify(
      renderHome({ isAdmin: false, health, channels: homeChannels([sub], [mute], null), audit: [] }).blocks,
    );
    expect(plain).toContain('Subscription *#4*: ');
    expect(plain).not.toContain('(account ');
  });
});
