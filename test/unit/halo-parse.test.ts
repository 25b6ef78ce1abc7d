import { describe, expect, it } from 'vitest';
import {
  errorBody,
  parseDeleteBody,
  parseEvent,
  parseEventList,
  parseGetBody,
  parseJson,
  parseTypeList,
  retryAfterMs,
} from '../../src/halo/response-parse.ts';
import type { HaloEvent } from '../../src/domain/event.ts';

/** The event of Halo's published example (the Event API page), verbatim. */
const WIRE_EVENT = {
  event_id: 'id1',
  subject: 'Scan Started',
  date_created: '0000-00-00 00:00',
  key: 'target-scan-start',
  url: 'https://www.halosecurity.com/link?q=user-event&id=id1',
  target: { target_name: '', target_id: 1, target: 'www.example.com' },
};

const EVENT: HaloEvent = {
  eventId: 'id1',
  subject: 'Scan Started',
  dateCreated: '0000-00-00 00:00',
  key: 'target-scan-start',
  url: 'https://www.halosecurity.com/link?q=user-event&id=id1',
  target: { name: '', id: 1, host: 'www.example.com' },
};

describe('parseJson', () => {
  it('parses JSON', () => {
    expect(parseJson('{"list":[]}')).toEqual({ ok: true, json: { list: [] } });
    expect(parseJson(' null ')).toEqual({ ok: true, json: null });
  });

  it('describes what came instead, with its length', () => {
    expect(parseJson('<html><body>502 Bad Gateway</body></html>')).toEqual({
      ok: false,
      problem: 'HTML or XML (41 characters)',
    });
    expect(parseJson('  \n<?xml version="1.0"?>')).toEqual({
      ok: false,
      problem: 'HTML or XML (24 characters)',
    });
    expect(parseJson('')).toEqual({ ok: false, problem: 'an empty body (0 characters)' });
    expect(parseJson(' \r\n')).toEqual({ ok: false, problem: 'an empty body (3 characters)' });
    expect(parseJson('{"list":[{"event":')).toEqual({
      ok: false,
      problem: 'text that is not JSON (18 characters)',
    });
    expect(parseJson('Service Unavailable')).toEqual({
      ok: false,
      problem: 'text that is not JSON (19 characters)',
    });
  });
});

describe('errorBody', () => {
  it("recognises both of Halo's documented error bodies", () => {
    expect(errorBody({ code: 0, message: 'event_id required' })).toEqual({
      code: 0,
      message: 'event_id required',
    });
    expect(errorBody({ code: 404, message: 'event not found' })).toEqual({
      code: 404,
      message: 'event not found',
    });
  });

  it('takes a numeric string code, and keeps a long message whole (the client redacts it, then cuts it)', () => {
    expect(errorBody({ code: '404', message: 'event not found' })).toEqual({
      code: 404,
      message: 'event not found',
    });
    expect(errorBody({ code: 500, message: 'x'.repeat(1000) })).toEqual({
      code: 500,
      message: 'x'.repeat(1000),
    });
    expect(errorBody({ success: 0, code: 1, message: 'failed' })).toEqual({ code: 1, message: 'failed' });
  });

  it('is null for success bodies, whatever else they hold', () => {
    expect(errorBody({ success: 1 })).toBeNull();
    expect(errorBody({ success: 1, code: 0, message: 'ok' })).toBeNull();
    expect(errorBody({ success: true, code: 0, message: 'ok' })).toBeNull();
    expect(errorBody({ success: '1', code: 0, message: 'ok' })).toBeNull();
    expect(errorBody({ list: [], code: 0, message: 'ok' })).toBeNull();
  });

  it('is null for anything that is not {code: number, message: string}', () => {
    for (const json of [
      null,
      'event not found',
      404,
      [{ code: 404, message: 'x' }],
      {},
      { code: 404 },
      { message: 'event not found' },
      { code: 'E404', message: 'x' },
      { code: '-1', message: 'x' },
      { code: null, message: 'x' },
      { code: 404, message: 404 },
    ]) {
      expect(errorBody(json), JSON.stringify(json)).toBeNull();
    }
  });
});

describe('parseEvent', () => {
  it("reads Halo's example event", () => {
    expect(parseEvent(WIRE_EVENT)).toEqual(EVENT);
  });

  it('needs only an event_id; every other field defaults', () => {
    expect(parseEvent({ event_id: 'e' })).toEqual({
      eventId: 'e',
      subject: '',
      dateCreated: '',
      key: '',
      url: '',
      target: null,
    });
  });

  it('takes numbers for text fields and a numeric string target_id', () => {
    expect(
      parseEvent({
        event_id: 123,
        subject: 7,
        date_created: 2024,
        key: 'k',
        url: null,
        target: { target_name: 5, target_id: '42', target: 10 },
      }),
    ).toEqual({
      eventId: '123',
      subject: '7',
      dateCreated: '2024',
      key: 'k',
      url: '',
      target: { name: '5', id: 42, host: '10' },
    });
  });

  it('keeps a target with an unreadable id, with id null', () => {
    for (const id of ['42abc', 1.5, 2 ** 53, '1234567890123456', null, true, {}, 0, -3]) {
      expect(
        parseEvent({ event_id: 'e', target: { target_id: id, target: 'h.example.com' } })?.target,
        JSON.stringify(id),
      ).toEqual({ name: '', id: null, host: 'h.example.com' });
    }
    expect(parseEvent({ event_id: 'e', target: 'www.example.com' })?.target).toBeNull();
    expect(parseEvent({ event_id: 'e', target: [1] })?.target).toBeNull();
  });

  it('reads an account event’s empty target (ID 0, no name, no host) as no target', () => {
    for (const target of [
      { target_name: '', target_id: 0, target: '' },
      { target_name: ' ', target_id: '0', target: '' },
      { target_id: null },
      {},
    ]) {
      expect(parseEvent({ event_id: 'e', target })?.target, JSON.stringify(target)).toBeNull();
    }
  });

  it('rejects a record without a usable event_id', () => {
    for (const value of [
      null,
      'id1',
      [WIRE_EVENT],
      {},
      { event_id: '' },
      { event_id: '   ' },
      { event_id: null },
      { event_id: true },
      { event_id: Infinity },
      { event_id: { id: 1 } },
      { event_id: 'x'.repeat(501) },
    ]) {
      expect(parseEvent(value), JSON.stringify(value)).toBeNull();
    }
    expect(parseEvent({ event_id: 'x'.repeat(500) })?.eventId).toBe('x'.repeat(500));
  });
});

describe('parseEventList', () => {
  it("reads Halo's example list, which has no pagination", () => {
    expect(parseEventList({ list: [{ event: WIRE_EVENT }] })).toEqual({
      items: [EVENT],
      invalid: 0,
      total: null,
    });
  });

  it('reads pagination.total as a number or a numeric string', () => {
    const body = { request: { sort: 0, start: 0 }, pagination: { total: 1500, start: 0, limit: 1000 } };
    expect(parseEventList({ ...body, list: [] })).toEqual({ items: [], invalid: 0, total: 1500 });
    expect(parseEventList({ pagination: { total: '1500' }, list: [] })).toEqual({
      items: [],
      invalid: 0,
      total: 1500,
    });
  });

  it('ignores an unreadable or negative total', () => {
    for (const pagination of [
      null,
      5,
      {},
      { total: 'many' },
      { total: 1.5 },
      { total: -1 },
      { total: '-1' },
    ]) {
      expect(parseEventList({ pagination, list: [] }), JSON.stringify(pagination)).toEqual({
        items: [],
        invalid: 0,
        total: null,
      });
    }
  });

  it('accepts bare events, and counts and skips malformed entries', () => {
    expect(
      parseEventList({
        list: [
          { event: WIRE_EVENT },
          WIRE_EVENT,
          { event: null },
          { event: { event_id: '' } },
          null,
          'id1',
          [],
        ],
      }),
    ).toEqual({ items: [EVENT, EVENT], invalid: 5, total: null });
  });

  it('describes a body that is not a list', () => {
    expect(parseEventList(null)).toBe('the body is not a JSON object');
    expect(parseEventList([WIRE_EVENT])).toBe('the body is not a JSON object');
    expect(parseEventList({ events: [] })).toBe('the body has no "list" array');
    expect(parseEventList({ list: { event: WIRE_EVENT } })).toBe('the body has no "list" array');
  });
});

describe('parseTypeList', () => {
  it("reads Halo's example, and counts entries without a key", () => {
    expect(
      parseTypeList({
        list: [
          { subject: 'API Key Added', key: 'account-apikey-add' },
          { key: 'domain-add' },
          { subject: 'No key' },
          { subject: 'Empty key', key: '' },
          'account-user-add',
        ],
        pagination: { total: 5 },
      }),
    ).toEqual({
      items: [
        { subject: 'API Key Added', key: 'account-apikey-add' },
        { subject: '', key: 'domain-add' },
      ],
      invalid: 3,
      total: 5,
    });
  });

  it('describes a body that is not a list', () => {
    expect(parseTypeList('types')).toBe('the body is not a JSON object');
    expect(parseTypeList({ success: 1 })).toBe('the body has no "list" array');
  });
});

describe('parseGetBody', () => {
  it("reads Halo's example", () => {
    expect(parseGetBody({ success: 1, event: WIRE_EVENT })).toEqual(EVENT);
  });

  it('describes a body without a valid event', () => {
    expect(parseGetBody([])).toBe('the body is not a JSON object');
    expect(parseGetBody({ success: 1 })).toBe('the body has no valid "event"');
    expect(parseGetBody({ success: 1, event: { subject: 'no id' } })).toBe('the body has no valid "event"');
    expect(parseGetBody({ list: [{ event: WIRE_EVENT }] })).toBe('the body has no valid "event"');
  });
});

describe('parseDeleteBody', () => {
  it('is true only when the body says success', () => {
    expect(parseDeleteBody({ success: 1 })).toBe(true);
    expect(parseDeleteBody({ success: true })).toBe(true);
    expect(parseDeleteBody({ success: '1' })).toBe(true);
    for (const json of [{ success: 0 }, { success: '0' }, { success: 2 }, {}, null, [], 'success', 1]) {
      expect(parseDeleteBody(json), JSON.stringify(json)).toBe('the body does not say success');
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('reads seconds, fractions included', () => {
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs('5', now)).toBe(5000);
    expect(retryAfterMs(' 2 ', now)).toBe(2000);
    expect(retryAfterMs('0.25', now)).toBe(250);
  });

  it('reads an HTTP date, and a date in the past means now', () => {
    expect(retryAfterMs('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wednesday, 01-May-24 12:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed May  1 12:00:20 2024', Date.parse('2024-05-01T12:00:00'))).toBe(20_000);
    expect(retryAfterMs('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });

  it('caps the wait, 60 s by default', () => {
    expect(retryAfterMs('3600', now)).toBe(60_000);
    expect(retryAfterMs('3600', now, 30_000)).toBe(30_000);
    expect(retryAfterMs('Thu, 02 May 2024 12:00:00 GMT', now)).toBe(60_000);
  });

  it('is null when absent or unreadable', () => {
    for (const header of [null, '', '  ', 'soon', '-1', '1e3', '5s', 'soon 2', 'Infinity', 'NaN']) {
      expect(retryAfterMs(header, now), String(header)).toBeNull();
    }
  });
});
