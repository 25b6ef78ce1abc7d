import { describe, expect, it } from 'vitest';
import {
  decodeAckValue,
  decodeDeleteValue,
  decodeEventsPage,
  decodeMuteChoice,
  encodeAckValue,
  encodeDeleteValue,
  encodeEventsPage,
  encodeMuteChoice,
} from '../../src/slack/blocks/index.ts';
import { DEFAULT_DISPLAY } from '../../src/domain/display.ts';
import { renderOutboxItem } from '../../src/slack/blocks/outbox-message.ts';
import {
  CONNECT_IDS,
  decodeConnectMetadata,
  decodeConnectState,
  decodeDisconnectValue,
  encodeConnectMetadata,
  encodeDisconnectValue,
} from '../../src/slack/blocks/payloads.ts';
import { decodeDialogMetadata, encodeDialogMetadata } from '../../src/slack/blocks/dialog-payloads.ts';

describe('payloads that name an account', () => {
  it('Delete and Acknowledge: the env account keeps the old value, another account is named', () => {
    expect(encodeDeleteValue('ev-1', 'env')).toBe('ev-1');
    expect(encodeDeleteValue('ev-1', 'acc-7')).toBe('{"a":"acc-7","e":"ev-1"}');
    expect(decodeDeleteValue('{"a":"acc-7","e":"ev-1"}')).toEqual({ account: 'acc-7', eventId: 'ev-1' });
    expect(encodeAckValue('ev-1', 'acc-7')).toBe('{"a":"acc-7","e":"ev-1"}');
    expect(decodeAckValue('{"a":"acc-7","e":"ev-1"}')).toEqual({ account: 'acc-7', eventId: 'ev-1' });
    // An old button (no account) means the env account.
    expect(decodeAckValue('ev-1')).toEqual({ account: undefined, eventId: 'ev-1' });
    // An env event ID that could read as the account form travels quoted.
    expect(encodeDeleteValue('{"a":"x","e":"y"}')).toBe('"{\\"a\\":\\"x\\",\\"e\\":\\"y\\"}"');
    expect(decodeDeleteValue(encodeDeleteValue('{"a":"x","e":"y"}'))).toEqual({
      account: undefined,
      eventId: '{"a":"x","e":"y"}',
    });
    // An account with control characters, or none, is no account.
    expect(encodeDeleteValue('ev-1', 'a\u0000')).toBeUndefined();
    expect(decodeDeleteValue('{"a":"a\\u0000","e":"ev-1"}')).toBeNull();
    expect(decodeDeleteValue('{"a":"acc","e":""}')).toBeNull();
    expect(decodeAckValue('{"e":"ev-1"}')).toBeNull();
  });

  it('an alert’s buttons carry its pipeline’s account (Display.account); the env account’s keep old values', () => {
    const item = {
      kind: 'alert',
      payload: JSON.stringify({
        eventId: 'ev-1',
        subject: 'Scan Started',
        dateCreated: '2026-12-01 09:30',
        key: 'target-scan-start',
        url: 'https://www.halosecurity.com/link?q=user-event&id=ev-1',
        target: { id: 42, name: 'shop', host: 'shop.example.com' },
      }),
    } as Parameters<typeof renderOutboxItem>[0];
    const values = (account?: string) =>
      renderOutboxItem(item, account === undefined ? DEFAULT_DISPLAY : { ...DEFAULT_DISPLAY, account })
        .blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []))
        .map((e) => (e.type === 'button' ? e.value : e.option_groups[0]?.options[0]?.value));
    expect(values()).toEqual(['ev-1', 'ev-1', 'k|1h|target-scan-start']);
    expect(values('env')).toEqual(['ev-1', 'ev-1', 'k|1h|target-scan-start']);
    expect(values('acc-7')).toEqual([
      '{"a":"acc-7","e":"ev-1"}',
      '{"a":"acc-7","e":"ev-1"}',
      '@acc-7|k|1h|target-scan-start',
    ]);
  });

  it('the Mute menu: `@ACCOUNT|` before the old value for another account', () => {
    const choice = { kind: 'key', key: 'port-open', duration: '24h', account: 'acc-7' } as const;
    expect(encodeMuteChoice(choice)).toBe('@acc-7|k|24h|port-open');
    expect(decodeMuteChoice('@acc-7|k|24h|port-open')).toEqual(choice);
    expect(encodeMuteChoice({ ...choice, account: 'env' })).toBe('k|24h|port-open');
    expect(decodeMuteChoice('k|24h|port-open')).toEqual({ kind: 'key', key: 'port-open', duration: '24h' });
    expect(
      decodeMuteChoice(
        encodeMuteChoice({ kind: 'target', targetId: 4, label: 'a|b', duration: '1h', account: 'x' }),
      ),
    ).toEqual({ kind: 'target', targetId: 4, label: 'a|b', duration: '1h', account: 'x' });
    expect(decodeMuteChoice('@|k|24h|port-open')).toBeNull();
    expect(encodeMuteChoice({ ...choice, account: 'a|b' })).toBeUndefined();
  });

  it('Next page carries the account listed', () => {
    const value = encodeEventsPage({ filter: {}, pageSize: 5, page: 1, account: 'acc-7' });
    expect(value).toBe('{"f":{},"s":5,"p":1,"a":"acc-7"}');
    expect(decodeEventsPage(value)).toEqual({ filter: {}, pageSize: 5, page: 1, account: 'acc-7' });
    expect(encodeEventsPage({ filter: {}, pageSize: 5, page: 1, account: 'env' })).toBe(
      '{"f":{},"s":5,"p":1}',
    );
    expect(decodeEventsPage('{"f":{},"s":5,"p":1,"a":7}')).toBeNull();
  });

  it('the subscribe dialog’s metadata carries the account', () => {
    expect(encodeDialogMetadata({ editing: null, account: 'env' })).toBe('');
    expect(encodeDialogMetadata({ editing: { channel: 'C1X', id: 7 }, account: 'acc-7' })).toBe(
      '{"a":"acc-7","e":"C1X:7"}',
    );
    expect(decodeDialogMetadata('{"a":"acc-7","e":"C1X:7"}')).toEqual({
      editing: { channel: 'C1X', id: 7 },
      account: 'acc-7',
    });
    expect(decodeDialogMetadata('{"a":"acc-7","e":null}')).toEqual({ editing: null, account: 'acc-7' });
    expect(decodeDialogMetadata('C1X:7')).toEqual({ editing: { channel: 'C1X', id: 7 } });
    expect(decodeDialogMetadata('{"a":"acc-7","e":"nope"}')).toBeNull();
    expect(decodeDialogMetadata('{"a":5,"e":null}')).toBeNull();
  });

  it('the connect modal: its metadata is the channel, its state the three fields', () => {
    expect(encodeConnectMetadata('C0123ABC')).toBe('C0123ABC');
    expect(encodeConnectMetadata(null)).toBe('');
    expect(decodeConnectMetadata('C0123ABC')).toEqual({ channel: 'C0123ABC' });
    expect(decodeConnectMetadata('<!here>')).toEqual({ channel: null });
    const values = (name: unknown, key: unknown, url: unknown) => ({
      [CONNECT_IDS.name]: { [CONNECT_IDS.name]: { type: 'plain_text_input', value: name } },
      [CONNECT_IDS.key]: { [CONNECT_IDS.key]: { type: 'plain_text_input', value: key } },
      [CONNECT_IDS.url]: { [CONNECT_IDS.url]: { type: 'plain_text_input', value: url } },
    });
    expect(decodeConnectState(values(' Prod ', 'key-12345678', null))).toEqual({
      ok: true,
      name: 'Prod',
      apiKey: 'key-12345678',
      apiUrl: null,
    });
    expect(decodeConnectState(values('Prod', 'key-12345678', 'https://h.example/api/v1'))).toEqual({
      ok: true,
      name: 'Prod',
      apiKey: 'key-12345678',
      apiUrl: 'https://h.example/api/v1',
    });
    expect(decodeConnectState(values('', 'k\u0000', null))).toEqual({
      ok: false,
      errors: {
        [CONNECT_IDS.name]: 'Name the account, e.g. Production.',
        [CONNECT_IDS.key]: 'At most 200 characters, without line breaks.',
      },
    });
    expect(decodeConnectState(undefined)).toEqual({
      ok: false,
      errors: {
        [CONNECT_IDS.name]: 'Name the account, e.g. Production.',
        [CONNECT_IDS.key]: 'Paste the account’s Halo API key.',
      },
    });
  });

  it('the disconnect confirmation: the account’s ID', () => {
    expect(encodeDisconnectValue('acc-7')).toBe('acc-7');
    expect(decodeDisconnectValue('acc-7')).toBe('acc-7');
    expect(encodeDisconnectValue('')).toBeUndefined();
    for (const bad of ['', 'a\u0000', 7, undefined, 'x'.repeat(101)])
      expect(decodeDisconnectValue(bad)).toBeNull();
  });
});
