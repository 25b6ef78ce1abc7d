import { describe, expect, it } from 'vitest';
import {
  ACTION_IDS,
  decodeDeleteValue,
  decodeEventsPage,
  decodeUnfurlAck,
  encodeDeleteValue,
  encodeEventsPage,
  encodeUnfurlAck,
} from '../../src/slack/blocks/index.ts';

describe('button payloads: one encoder and one decoder each', () => {
  it('names every action once', () => {
    expect(ACTION_IDS).toEqual({
      deleteEvent: 'halo_delete_event',
      nextPage: 'halo_events_page',
      homeUnmute: 'halo_home_unmute',
      homeUnsubscribe: 'halo_home_unsubscribe',
      acknowledge: 'halo_ack',
      muteMenu: 'halo_mute_menu',
      unfurlAck: 'halo_unfurl_ack',
      homeNewSubscription: 'halo_home_new_subscription',
      homeEditSubscription: 'halo_home_edit_subscription',
      homePage: 'halo_home_page',
      disconnectConfirm: 'halo_disconnect_confirm',
    });
    expect(new Set(Object.values(ACTION_IDS)).size).toBe(Object.values(ACTION_IDS).length);
  });

  it('a preview’s Acknowledge: the value is the Halo link, which names the event; anything else is refused', () => {
    const link = 'https://www.halosecurity.com/link?q=user-event&id=ev-1';
    expect(encodeUnfurlAck(link)).toBe(link);
    expect(decodeUnfurlAck(link)).toEqual({ link, eventId: 'ev-1' });
    const long = `${link}${'x'.repeat(2000)}`;
    for (const bad of ['', 'https://example.com/link?q=user-event&id=ev-1', long]) {
      expect(encodeUnfurlAck(bad)).toBeUndefined();
      expect(decodeUnfurlAck(bad)).toBeNull();
    }
    expect(decodeUnfurlAck(42)).toBeNull();
  });

  it('Delete: the value is the event ID, and what the encoder refuses the decoder refuses', () => {
    expect(encodeDeleteValue('ev-1')).toBe('ev-1');
    expect(decodeDeleteValue('ev-1')).toEqual({ account: undefined, eventId: 'ev-1' });
    for (const bad of ['', 'x'.repeat(2001)]) {
      expect(encodeDeleteValue(bad)).toBeUndefined();
      expect(decodeDeleteValue(bad)).toBeNull();
    }
    // Control characters travel quoted; the same characters unquoted are a forged value, not an event.
    expect(encodeDeleteValue('a\u0000b')).toBe('"a\\u0000b"');
    expect(decodeDeleteValue('"a\\u0000b"')).toEqual({ account: undefined, eventId: 'a\u0000b' });
    expect(decodeDeleteValue('a\u0000b')).toBeNull();
    expect(decodeDeleteValue('"unterminated')).toBeNull();
    // An ID that starts with a quote is quoted too, so it can never be read as JSON by mistake.
    expect(decodeDeleteValue(encodeDeleteValue('"x"'))).toEqual({ account: undefined, eventId: '"x"' });
    expect(decodeDeleteValue(42)).toBeNull();
    expect(decodeDeleteValue(undefined)).toBeNull();
  });

  it('Next page: round-trips a filter, size and page exactly', () => {
    const request = { filter: { key: 'port-open', target_id: 7, subject: 'a "b"' }, pageSize: 5, page: 2 };
    const value = encodeEventsPage(request);
    expect(value).toBe('{"f":{"key":"port-open","target_id":7,"subject":"a \\"b\\""},"s":5,"p":2}');
    expect(decodeEventsPage(value)).toEqual(request);
  });

  it.each([
    ['not JSON', 'nope'],
    ['no filter', '{"s":5,"p":1}'],
    ['a page size above the maximum', '{"f":{},"s":21,"p":1}'],
    ['a negative page', '{"f":{},"s":5,"p":-1}'],
    ['a target that is not a positive integer', '{"f":{"target_id":"7"},"s":5,"p":1}'],
    ['an over-long filter', `{"f":{"key":"${'k'.repeat(201)}"},"s":5,"p":1}`],
  ])('Next page: refuses %s', (_what, value) => {
    expect(decodeEventsPage(value)).toBeNull();
  });

  it('Next page: no button rather than one its listener would refuse', () => {
    expect(encodeEventsPage({ filter: { key: 'k'.repeat(201) }, pageSize: 5, page: 1 })).toBeUndefined();
  });
});
