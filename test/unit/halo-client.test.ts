import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient, type HaloClientOptions } from '../../src/halo/client.ts';
import type { HaloClient } from '../../src/pipeline/halo-port.ts';
import {
  HaloApiError,
  HaloAuthError,
  HaloError,
  HaloHttpError,
  HaloNetworkError,
  HaloOversizeError,
  HaloResponseError,
} from '../../src/pipeline/halo-errors.ts';
import { attachedTo } from '../attached.ts';
import {
  makeEvents,
  startFakeHalo,
  type FakeHalo,
  type HaloFault,
  type HaloRequest,
} from '../../fakes/halo.ts';

let halo: FakeHalo;

beforeAll(async () => {
  halo = await startFakeHalo();
});
afterAll(() => halo.close());
afterEach(() => {
  halo.fault = undefined;
  halo.pages = undefined;
  halo.requests.length = 0;
  halo.events.length = 0;
});

function client(options: Partial<HaloClientOptions> = {}): HaloClient {
  return createHaloClient({
    apiUrl: halo.url,
    apiKey: halo.apiKey,
    timeoutMs: 2000,
    clock: systemClock,
    attempts: 3,
    backoffMs: 5,
    ...options,
  });
}

/** The error `promise` rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Answers every request with `fault`. */
function always(fault: HaloFault): void {
  halo.fault = () => fault;
}

/** Answers the first `n` requests with `fault`, then normally. */
function firstThen(n: number, fault: HaloFault): void {
  let left = n;
  halo.fault = () => (left-- > 0 ? fault : undefined);
}

const list = (c: HaloClient = client()) => c.listEvents({}, { start: 0, limit: 1000 });

describe('HaloClient: success', () => {
  it('lists events and gets one, sending x-apikey on every request', async () => {
    const event = halo.addEvent({
      event_id: 'ev-a',
      key: 'domain-add',
      subject: 'Domain Added',
      date_created: '2024-05-01 12:30',
      target_id: 42,
    });
    halo.events.push({ ...event, event_id: '' });
    const page = await list();
    expect({ ...page, events: page.events() }).toEqual({
      ids: ['ev-a'],
      events: [
        {
          eventId: 'ev-a',
          subject: 'Domain Added',
          dateCreated: '2024-05-01 12:30',
          key: 'domain-add',
          url: 'https://www.halosecurity.com/link?q=user-event&id=ev-a',
          target: { name: '', id: 42, host: 'host42.example.com' },
        },
      ],
      total: 2,
      invalid: 1,
      returned: 2,
    });
    await expect(client().getEvent('ev-a')).resolves.toMatchObject({ eventId: 'ev-a', key: 'domain-add' });
    expect(halo.requests.map((r) => [r.path, r.apiKey])).toEqual([
      ['/api/v1/event/list.json', halo.apiKey],
      ['/api/v1/event/get.json', halo.apiKey],
    ]);
  });

  it('sends every filter and option of listEvents as the query Halo documents', async () => {
    await client().listEvents(
      { key: 'target-scan-start', subject: 'Scan Started', detail: 'x & y', target_id: 42 },
      { start: 2000, limit: 1000, sort: 0, sortDesc: true },
    );
    await client().listEvents({}, { start: 0, limit: 10, sortDesc: false });
    expect(halo.requests.map((r) => Object.fromEntries(r.query))).toEqual([
      {
        start: '2000',
        limit: '1000',
        key: 'target-scan-start',
        subject: 'Scan Started',
        detail: 'x & y',
        target_id: '42',
        sort: '0',
        sort_desc: '1',
      },
      { start: '0', limit: '10' },
    ]);
  });

  it('deletes an event with one GET of delete.json', async () => {
    halo.addEvent({ event_id: 'ev-del' });
    await expect(client().deleteEvent('ev-del')).resolves.toBeUndefined();
    expect(halo.events).toEqual([]);
    expect(halo.requests.map((r) => [r.path, r.query.get('event_id')])).toEqual([
      ['/api/v1/event/delete.json', 'ev-del'],
    ]);
  });
});

describe('HaloClient: Halo says no', () => {
  it('turns {code, message} with HTTP 200 into HaloApiError, not retried', async () => {
    const missing = await failure(client().getEvent(''));
    expect(missing).toBeInstanceOf(HaloApiError);
    expect(missing).toMatchObject({
      name: 'HaloApiError',
      endpoint: 'event/get.json',
      code: 0,
      apiMessage: 'event_id required',
      status: 200,
      notFound: false,
      retryable: false,
      message: 'Halo event/get.json failed: event_id required (code 0, HTTP 200)',
      userMessage: 'Halo refused the request (error code 0); Halo’s message is in the bot’s log.',
    });
    const notFound = await failure(client().getEvent('nope'));
    expect(notFound).toMatchObject({ code: 404, status: 200, notFound: true });
    expect((notFound as HaloError).userMessage).toBe('Halo says that event was not found.');
    expect(halo.requests).toHaveLength(2);
  });

  it('turns {code, message} with HTTP 404 into HaloApiError, not retried', async () => {
    always({ kind: 'status', status: 404, body: '{"code":404,"message":"event not found"}' });
    const error = await failure(client().getEvent('ev-1'));
    expect(error).toBeInstanceOf(HaloApiError);
    expect(error).toMatchObject({ code: 404, status: 404, notFound: true });
    expect(halo.requests).toHaveLength(1);
  });

  it('redacts the key from a Halo message before cutting it to 300 characters: no half key is left', async () => {
    // The key starts at character 290: a cut at 300 before redaction would keep its first 10 characters.
    const message = `${'x'.repeat(290)}${halo.apiKey} and ${halo.apiKey.toUpperCase()} again`;
    always({ kind: 'body', body: JSON.stringify({ code: 400, message }) });
    const error = (await failure(client().getEvent('ev-1'))) as HaloApiError;
    expect(error.apiMessage).toBe(`${'x'.repeat(290)}[redacted]`);
    expect(error.userMessage).toBe(
      'Halo refused the request (error code 400); Halo’s message is in the bot’s log.',
    );
    expect(error.message).not.toContain(halo.apiKey.slice(0, 8));
  });

  it('redacts the leading characters of a key that Halo cut short itself', async () => {
    always({
      kind: 'body',
      body: JSON.stringify({ code: 400, message: `bad key ${halo.apiKey.slice(0, 9)}…` }),
    });
    const error = (await failure(client().getEvent('ev-1'))) as HaloApiError;
    expect(error.apiMessage).toBe('bad key [redacted]…');
  });

  it('turns 401 and 403 into HaloAuthError, not retried, whatever the body', async () => {
    const wrongKey = await failure(list(client({ apiKey: 'wrong-key' })));
    expect(wrongKey).toBeInstanceOf(HaloAuthError);
    expect(wrongKey).toMatchObject({
      status: 401,
      retryable: false,
      message:
        'Halo rejected the API key on event/list.json (HTTP 401). Create a key under Account → API in Halo and set HALO_API_KEY.',
      userMessage: 'Halo rejected the bot’s API key; an admin must update HALO_API_KEY.',
    });
    expect(halo.requests.map((r) => r.apiKey)).toEqual(['wrong-key']);

    always({ kind: 'status', status: 403, body: '<html>Forbidden</html>' });
    expect(await failure(list())).toMatchObject({ name: 'HaloAuthError', status: 403 });
    always({ kind: 'body', body: '{"code":403,"message":"forbidden"}' });
    expect(await failure(list())).toMatchObject({ name: 'HaloAuthError', status: 403 });
    expect(halo.requests).toHaveLength(3);
  });

  // A 404 without Halo's body is most likely a wrong base URL: both texts name the setting.
  const CHECK_URL = 'check HALO_API_URL: its host and port, and does it end in /api/v1?';
  it.each([
    [400, 'Halo event/list.json answered HTTP 400', 'Halo refused the request (HTTP 400).'],
    [
      404,
      `Halo event/list.json answered HTTP 404; ${CHECK_URL}`,
      'Halo does not know this address (HTTP 404); an admin should check that HALO_API_URL ends in /api/v1.',
    ],
    [405, 'Halo event/list.json answered HTTP 405', 'Halo refused the request (HTTP 405).'],
    [410, 'Halo event/list.json answered HTTP 410', 'Halo refused the request (HTTP 410).'],
  ])('does not retry HTTP %i without an error body', async (status, message, userMessage) => {
    always({ kind: 'status', status, body: '<html>no</html>' });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloHttpError);
    expect(error).toMatchObject({ status, retryable: false, message, userMessage });
    expect(halo.requests).toHaveLength(1);
  });
});

describe('HaloClient: retried failures', () => {
  it.each([500, 502, 503, 429])('retries HTTP %i, then throws HaloHttpError', async (status) => {
    always({ kind: 'status', status, body: '<html><body>Bad Gateway</body></html>' });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloHttpError);
    expect(error).toMatchObject({
      status,
      retryable: true,
      retryAfterMs: null,
      message: `Halo event/list.json answered HTTP ${status}`,
    });
    expect(halo.requests).toHaveLength(3);
  });

  it.each([500, 503, 429])('retries HTTP %i even when it carries a {code, message} body', async (status) => {
    always({ kind: 'status', status, body: JSON.stringify({ code: status, message: 'try later' }) });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloHttpError);
    expect(error).toMatchObject({ status, retryable: true });
    expect(halo.requests).toHaveLength(3);
  });

  it('succeeds when a retry does', async () => {
    firstThen(2, { kind: 'status', status: 502, body: 'Bad Gateway' });
    await expect(list()).resolves.toMatchObject({ ids: [], total: 0 });
    expect(halo.requests).toHaveLength(3);
    expect(halo.requests.every((r) => r.apiKey === halo.apiKey)).toBe(true);
  });

  it('waits as long as Retry-After says, instead of its own backoff', async () => {
    firstThen(1, { kind: 'status', status: 429, body: '', headers: { 'retry-after': '0.2' } });
    await list(client({ backoffMs: 1 }));
    const [first, second] = halo.requests as [HaloRequest, HaloRequest];
    expect(second.at - first.at).toBeGreaterThanOrEqual(190);
  });

  it('reports Retry-After on the error', async () => {
    always({ kind: 'status', status: 503, body: '', headers: { 'retry-after': '7' } });
    expect(await failure(list(client({ attempts: 1 })))).toMatchObject({ status: 503, retryAfterMs: 7000 });
  });

  it('does not follow a redirect: HaloHttpError names where it points (key redacted) and what to set, not retried', async () => {
    always({
      kind: 'status',
      status: 301,
      body: '',
      headers: { location: `https://halo.example/api/v2/event/list.json?k=${halo.apiKey}` },
    });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloHttpError);
    expect(error).toMatchObject({
      status: 301,
      retryable: false,
      message:
        'Halo event/list.json answered HTTP 301, a redirect to https://halo.example/api/v2/event/list.json?k=[redacted]: ' +
        'the bot does not follow redirects (the API key would go along); set HALO_API_URL to the address Halo gives',
    });
    expect(halo.requests).toHaveLength(1);
  });

  it('turns HTML with HTTP 200 into HaloResponseError, retried', async () => {
    always({ kind: 'body', body: '<!doctype html><title>Maintenance</title>' });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloResponseError);
    expect(error).toMatchObject({
      problem: 'HTML or XML (41 characters)',
      retryable: true,
      message: 'Halo event/list.json sent an unreadable answer: HTML or XML (41 characters)',
    });
    expect(halo.requests).toHaveLength(3);
  });

  it('turns truncated JSON into HaloResponseError', async () => {
    always({ kind: 'body', body: '{"list":[{"event":{"event_id":"ev' });
    expect(await failure(list())).toMatchObject({
      name: 'HaloResponseError',
      problem: 'text that is not JSON (33 characters)',
    });
    expect(halo.requests).toHaveLength(3);
  });

  it('turns JSON of the wrong shape into HaloResponseError', async () => {
    always({ kind: 'body', body: '{"events":[]}' });
    expect(await failure(list())).toMatchObject({
      name: 'HaloResponseError',
      problem: 'the body has no "list" array',
    });
    always({ kind: 'body', body: '{"success":1}' });
    expect(await failure(client().getEvent('ev-1'))).toMatchObject({
      name: 'HaloResponseError',
      problem: 'the body has no valid "event"',
    });
    always({ kind: 'body', body: '[]' });
    expect(await failure(client().listTypes())).toMatchObject({
      name: 'HaloResponseError',
      problem: 'the body is not a JSON object',
    });
  });

  it('turns a reset connection into HaloNetworkError, retried', async () => {
    always({ kind: 'reset' });
    const error = await failure(list());
    expect(error).toBeInstanceOf(HaloNetworkError);
    expect(error).toMatchObject({ timedOut: false, retryable: true });
    expect((error as Error).message).toMatch(
      /^Halo event\/list\.json could not be reached: .*; check HALO_API_URL: its host and port, and does it end in \/api\/v1\?$/,
    );
    expect((error as HaloError).userMessage).toBe('Halo could not be reached; try again in a minute.');
    expect(halo.requests).toHaveLength(3);
  });

  it('gives up on a hanging request after timeoutMs, as a timed-out HaloNetworkError', async () => {
    always({ kind: 'hang' });
    const started = Date.now();
    const error = await failure(list(client({ timeoutMs: 200, attempts: 1 })));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(HaloNetworkError);
    expect(error).toMatchObject({
      timedOut: true,
      message: 'Halo event/list.json timed out: no answer within 200 ms',
      userMessage: 'Halo did not answer in time; try again in a minute.',
    });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(halo.requests).toHaveLength(1);
  });

  it('times out each attempt separately', async () => {
    always({ kind: 'hang' });
    expect(await failure(list(client({ timeoutMs: 60 })))).toMatchObject({ timedOut: true });
    expect(halo.requests).toHaveLength(3);
  });
});

describe('HaloClient: answers too large', () => {
  it('refuses an answer past the cap as HaloOversizeError, saying what Halo sent, without retrying', async () => {
    always({ kind: 'body', body: `{"list":[${' '.repeat(4096)}]}` });
    const error = await failure(list(client({ maxResponseBytes: 1024 })));
    expect(error).toBeInstanceOf(HaloOversizeError);
    expect(error).toMatchObject({ retryable: false, sent: 'an answer of more than 1024 bytes once decoded' });
    expect((error as Error).message).toContain('content-length 4107');
    expect(halo.requests).toHaveLength(1);
  });

  it('refuses a page with more entries than were asked for, without retrying', async () => {
    halo.events.push(...makeEvents(5));
    halo.pages = { entries: 5 };
    const error = await failure(client().listEvents({}, { start: 0, limit: 3 }));
    expect(error).toBeInstanceOf(HaloOversizeError);
    expect(error).toMatchObject({ retryable: false, sent: '5 entries for limit=3' });
    expect(halo.requests).toHaveLength(1);
  });
});

describe('HaloClient: delete is not repeated', () => {
  it('does not retry a timeout, a reset, a 503 or garbage', async () => {
    const c = client({ timeoutMs: 150 });
    always({ kind: 'hang' });
    expect(await failure(c.deleteEvent('ev-1'))).toMatchObject({ name: 'HaloNetworkError', timedOut: true });
    always({ kind: 'reset' });
    expect(await failure(c.deleteEvent('ev-1'))).toMatchObject({ name: 'HaloNetworkError', timedOut: false });
    always({ kind: 'status', status: 503, body: '<html>busy</html>' });
    expect(await failure(c.deleteEvent('ev-1'))).toMatchObject({ name: 'HaloHttpError', status: 503 });
    always({ kind: 'body', body: '{"success":0}' });
    expect(await failure(c.deleteEvent('ev-1'))).toMatchObject({
      name: 'HaloResponseError',
      problem: 'the body does not say success',
    });
    expect(halo.requests).toHaveLength(4);
  });

  it('reports a missing event as not found', async () => {
    const error = await failure(client().deleteEvent('gone'));
    expect(error).toMatchObject({ name: 'HaloApiError', notFound: true, endpoint: 'event/delete.json' });
    expect(halo.requests).toHaveLength(1);
  });

  it('retries only a refused connection, which proves nothing reached Halo', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const c = client({ apiUrl: `http://127.0.0.1:${port}/api/v1`, backoffMs: 50 });
    const started = Date.now();
    const error = await failure(c.deleteEvent('ev-1'));
    expect(error).toMatchObject({ name: 'HaloNetworkError', timedOut: false });
    expect((error as Error).message).toContain('ECONNREFUSED');
    // Two backoffs of 50 ms between three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });
});

describe('HaloClient: listTypes', () => {
  const types = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ subject: `Type ${i}`, key: `type-${i}` }));

  it('reads every page of 1000 until pagination.total', async () => {
    const fake = await startFakeHalo({ types: types(2500) });
    try {
      const c = client({ apiUrl: fake.url });
      const result = await c.listTypes();
      expect(result).toHaveLength(2500);
      expect(result[2499]).toEqual({ subject: 'Type 2499', key: 'type-2499' });
      expect(fake.requests.map((r) => [r.query.get('start'), r.query.get('limit')])).toEqual([
        ['0', '1000'],
        ['1000', '1000'],
        ['2000', '1000'],
      ]);
      fake.types = types(1000);
      fake.requests.length = 0;
      await c.listTypes();
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('without a total, reads until a short page, counting malformed entries as read', async () => {
    const fake = await startFakeHalo({ types: types(2000), includePagination: false });
    try {
      const c = client({ apiUrl: fake.url });
      expect(await c.listTypes()).toHaveLength(2000);
      expect(fake.requests.map((r) => r.query.get('start'))).toEqual(['0', '1000', '2000']);
      fake.types = [...types(999), { subject: 'no key', key: '' }, ...types(5)];
      fake.requests.length = 0;
      expect(await c.listTypes()).toHaveLength(1004);
      expect(fake.requests.map((r) => r.query.get('start'))).toEqual(['0', '1000']);
    } finally {
      await fake.close();
    }
  });
});

describe('HaloClient: abort', () => {
  it('ends a request in flight at once, without retrying or blaming Halo', async () => {
    always({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await failure(
      client().listEvents({}, { start: 0, limit: 1000, signal: controller.signal }),
    );
    expect(error).not.toBeInstanceOf(HaloError);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(halo.requests).toHaveLength(1);
  });

  it('ends a backoff at once', async () => {
    always({ kind: 'status', status: 503, body: '' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failure(client({ backoffMs: 10_000 }).getEvent('ev-1', controller.signal));
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(halo.requests).toHaveLength(1);
  });
});

describe('HaloClient: the caller’s signal', () => {
  it('keeps nothing attached to it after many requests, answered, retried, timed out or failed', async () => {
    // The bot's stop signal lives as long as the process: anything left on it per request is a leak.
    const stop = new AbortController();
    const c = client({ timeoutMs: 50 });
    const options = { start: 0, limit: 1000, signal: stop.signal };
    for (let i = 0; i < 100; i++) await c.listEvents({}, options);
    firstThen(2, { kind: 'status', status: 503, body: '' });
    await c.listEvents({}, options);
    always({ kind: 'hang' });
    expect(await failure(c.getEvent('ev-1', stop.signal))).toBeInstanceOf(HaloNetworkError);
    always({ kind: 'status', status: 401, body: '' });
    expect(await failure(c.deleteEvent('ev-1', stop.signal))).toBeInstanceOf(HaloAuthError);
    expect(attachedTo(stop.signal)).toBe(0);
    expect(stop.signal.aborted).toBe(false);
  });
});
