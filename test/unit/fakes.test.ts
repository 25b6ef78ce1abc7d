import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALO_ERROR_HTTP_STATUS, makeEvents, startFakeHalo } from '../../fakes/halo.ts';
import type { FakeHalo, FakeHaloEvent } from '../../fakes/halo.ts';
import {
  blockActionBody,
  buttonClickPayload,
  postToBot,
  signRequest,
  slashCommandBody,
} from '../../fakes/sign.ts';
import { startFakeSlack } from '../../fakes/slack.ts';
import type { FakeSlack } from '../../fakes/slack.ts';

interface HaloList {
  request?: { sort: number; start: number };
  pagination?: { total: number; start: number; limit: number };
  list: { event: FakeHaloEvent }[];
}

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown };
}

describe('fake Halo', () => {
  let halo: FakeHalo;
  const call = (path: string) => getJson(`${halo.url}/event/${path}`, { 'x-apikey': halo.apiKey });
  const list = async (query: string) => (await call(`list.json?${query}`)).body as HaloList;
  const ids = (page: HaloList) => page.list.map((item) => item.event.event_id);

  beforeAll(async () => {
    halo = await startFakeHalo({ events: makeEvents(2500, { targets: 5 }) });
  });
  afterAll(() => halo.close());

  it('rejects a missing or wrong api key with 401', async () => {
    const missing = await getJson(`${halo.url}/event/list.json`);
    expect(missing).toEqual({ status: 401, body: { code: 401, message: 'invalid api key' } });
    const wrong = await getJson(`${halo.url}/event/list.json`, { 'x-apikey': 'nope' });
    expect(wrong.status).toBe(401);
    expect(halo.requests.at(-1)?.apiKey).toBe('nope');
  });

  it('pages in array order, with total, default limit 100 and limit clamped to 1000', async () => {
    const first = await list('');
    expect(first.pagination).toEqual({ total: 2500, start: 0, limit: 100 });
    expect(first.request).toEqual({ sort: 0, start: 0 });
    expect(ids(first)).toEqual(halo.events.slice(0, 100).map((e) => e.event_id));
    const big = await list('limit=5000&start=1000');
    expect(big.pagination).toEqual({ total: 2500, start: 1000, limit: 1000 });
    expect(big.list).toHaveLength(1000);
    expect(big.list[0]?.event).toEqual(halo.events[1000]);
    expect((await list('limit=1000&start=2000')).list).toHaveLength(500);
    expect((await list('start=9999')).list).toEqual([]);
  });

  it('filters by key, subject, detail and target_id; rejects a non-integer target_id', async () => {
    const byKey = await list('key=domain-add&limit=1000');
    expect(byKey.list.length).toBeGreaterThan(0);
    expect(byKey.list.every((i) => i.event.key === 'domain-add')).toBe(true);
    expect(byKey.pagination?.total).toBe(halo.events.filter((e) => e.key === 'domain-add').length);
    const bySubject = await list('subject=SCAN&limit=1000');
    expect(new Set(bySubject.list.map((i) => i.event.subject))).toEqual(
      new Set(['Scan Started', 'Scan Completed', 'Scan Failed']),
    );
    expect(
      (await list('detail=certificate%20risk')).list.every((i) => i.event.key === 'website-cert-risk'),
    ).toBe(true);
    const byTarget = await list('target_id=3&limit=1000');
    expect(byTarget.pagination?.total).toBe(500);
    expect(byTarget.list.every((i) => i.event.target.target_id === 3)).toBe(true);
    expect(await call('list.json?target_id=abc')).toEqual({
      status: 400,
      body: { code: 0, message: 'invalid target_id' },
    });
  });

  it('sorts by subject with sort=0 and reverses with sort_desc=1', async () => {
    const sorted = await list('sort=0&limit=1000');
    const subjects = sorted.list.map((i) => i.event.subject);
    expect(subjects).toEqual([...subjects].sort());
    const early = halo.addEvent({ subject: 'AAA first' });
    expect((await list('sort=0&limit=1')).list[0]?.event).toEqual(early);
    halo.events.pop();
    expect(ids(await list('sort=0&sort_desc=1&limit=1000&start=1500'))).toEqual(ids(sorted).reverse());
    const reversed = await list('sort_desc=1&limit=3');
    expect(ids(reversed)).toEqual(
      halo.events
        .slice(-3)
        .reverse()
        .map((e) => e.event_id),
    );
  });

  it('gets and deletes events, with Halo error bodies on HTTP 200', async () => {
    expect(HALO_ERROR_HTTP_STATUS).toBe(200);
    const event = halo.addEvent({ key: 'account-user-add', target_id: 42 });
    expect(event).toMatchObject({ subject: 'User Added', target: { target_id: 42 } });
    expect(event).not.toHaveProperty('target_id');
    expect(await call(`get.json?event_id=${event.event_id}`)).toEqual({
      status: 200,
      body: { success: 1, event },
    });
    expect(await call('get.json')).toEqual({ status: 200, body: { code: 0, message: 'event_id required' } });
    expect(await call('get.json?event_id=missing')).toEqual({
      status: 200,
      body: { code: 404, message: 'event not found' },
    });
    const before = halo.events.length;
    expect((await call(`delete.json?event_id=${event.event_id}`)).body).toEqual({ success: 1 });
    expect(halo.events).toHaveLength(before - 1);
    expect((await call(`delete.json?event_id=${event.event_id}`)).body).toEqual({
      code: 404,
      message: 'event not found',
    });
  });

  it('serves the types catalogue, paginated, and 404 for unknown paths', async () => {
    const types = (await call('types.json')).body as HaloList & { list: { key: string; subject: string }[] };
    expect(types.list).toContainEqual({ key: 'target-scan-start', subject: 'Scan Started' });
    expect(types.list).toContainEqual({ key: 'website-cert-risk', subject: 'Website Certificate Risk' });
    expect(types.pagination?.total).toBe(halo.types.length);
    expect(((await call('types.json?start=2&limit=2')).body as HaloList).list).toEqual(
      halo.types.slice(2, 4),
    );
    expect(await call('nope.json')).toEqual({ status: 404, body: { code: 404, message: 'not found' } });
  });

  it('notices events edited in place after they were served', async () => {
    const first = halo.events[0]!;
    await list('limit=1');
    first.subject = 'Edited';
    expect((await list('limit=1')).list[0]?.event.subject).toBe('Edited');
  });

  it('applies faults and latency', async () => {
    halo.fault = () => ({ kind: 'status', status: 503, body: '<html>down</html>' });
    const res = await fetch(`${halo.url}/event/list.json`, { headers: { 'x-apikey': halo.apiKey } });
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([
      503,
      'text/html; charset=utf-8',
      '<html>down</html>',
    ]);
    halo.fault = () => ({ kind: 'body', body: '{"list":[' });
    expect(await (await fetch(`${halo.url}/event/list.json`)).text()).toBe('{"list":[');
    halo.fault = () => ({ kind: 'reset' });
    await expect(fetch(`${halo.url}/event/list.json`)).rejects.toThrow();
    halo.fault = (req) => (req.query.get('slow') === '1' ? { kind: 'delay', ms: 60 } : undefined);
    halo.latencyMs = 30;
    const started = performance.now();
    expect((await call('list.json?slow=1&limit=1')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(85);
    halo.fault = undefined;
    halo.latencyMs = 0;
    expect(halo.listRequests().every((r) => r.path.endsWith('/event/list.json'))).toBe(true);
  });

  it('includePagination: false answers only the list; close() ends hanging requests', async () => {
    const bare = await startFakeHalo({ includePagination: false, apiKey: 'k' });
    bare.addEvent();
    expect(
      Object.keys((await getJson(`${bare.url}/event/list.json`, { 'x-apikey': 'k' })).body as object),
    ).toEqual(['list']);
    bare.fault = () => ({ kind: 'hang' });
    const hung = fetch(`${bare.url}/event/list.json`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await bare.close();
    await expect(hung).rejects.toThrow();
  });

  it('pageCache (the bench): sends a page again as it was, and sees every change the bench makes', async () => {
    const cached = await startFakeHalo({ events: makeEvents(5), pageCache: true, apiKey: 'k' });
    try {
      const page = async (): Promise<string[]> =>
        (
          (await getJson(`${cached.url}/event/list.json?limit=10`, { 'x-apikey': 'k' })).body as HaloList
        ).list.map((item) => item.event.event_id);
      const first = await page();
      expect(first).toHaveLength(5);
      expect(await page()).toEqual(first);
      const added = cached.addEvent();
      expect(await page()).toEqual([...first, added.event_id]);
      const [pushed] = makeEvents(1);
      cached.events.unshift(pushed!);
      expect(await page()).toEqual([pushed!.event_id, ...first, added.event_id]);
      await getJson(`${cached.url}/event/delete.json?event_id=${first[0]}`, { 'x-apikey': 'k' });
      expect(await page()).toEqual([pushed!.event_id, ...first.slice(1), added.event_id]);
    } finally {
      await cached.close();
    }
  });

  it('pageCache: keeps each account’s pages apart, and an event added to one changes only its pages', async () => {
    const shared = makeEvents(3);
    const cached = await startFakeHalo({ events: [], pageCache: true, apiKey: 'k' });
    try {
      const a = cached.addAccount('key-a', shared.slice());
      const b = cached.addAccount('key-b', shared.slice());
      const page = async (key: string): Promise<string[]> =>
        (
          (await getJson(`${cached.url}/event/list.json?limit=10`, { 'x-apikey': key })).body as HaloList
        ).list.map((item) => item.event.event_id);
      const first = shared.map((e) => e.event_id);
      expect(await page('key-a')).toEqual(first);
      expect(await page('key-b')).toEqual(first);
      const added = a.addEvent();
      expect(await page('key-a')).toEqual([...first, added.event_id]);
      expect(await page('key-b')).toEqual(first);
      const theirs = b.addEvent();
      expect(await page('key-b')).toEqual([...first, theirs.event_id]);
      expect(await page('key-a')).toEqual([...first, added.event_id]);
    } finally {
      await cached.close();
    }
  });

  it('serves other accounts, each with its own key and its own events; a changed key is refused', async () => {
    const other = halo.addAccount('other-key', []);
    const theirs = other.addEvent({ key: 'port-open' });
    const as = async (key: string, path: string) => getJson(`${halo.url}/event/${path}`, { 'x-apikey': key });
    const page = (await as('other-key', 'list.json')).body as HaloList;
    expect(ids(page)).toEqual([theirs.event_id]);
    expect(ids(await list('limit=1000'))).not.toContain(theirs.event_id);
    expect((await as(halo.apiKey, `get.json?event_id=${theirs.event_id}`)).body).toEqual({
      code: 404,
      message: 'event not found',
    });
    expect(other.listRequests()).toHaveLength(1);
    other.apiKey = 'rotated';
    expect((await as('other-key', 'list.json')).status).toBe(401);
    halo.accounts.splice(0);
  });

  it('makes 50,000 events with unique ids', () => {
    const events = makeEvents(50_000, { keys: ['port-open'], targets: 3 });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(50_000);
    expect(events[4]).toMatchObject({ key: 'port-open', subject: 'New Open Port', target: { target_id: 2 } });
    expect(events[0]?.date_created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });
});

describe('fake Slack', () => {
  let slack: FakeSlack;
  const api = async (method: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${slack.apiUrl}${method}`, { method: 'POST', body, headers });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: await res.json(),
    };
  };
  const form = (token: string) => ({
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Bearer ${token}`,
  });

  beforeAll(async () => {
    slack = await startFakeSlack({ token: 'xoxb-1' });
  });
  afterAll(() => slack.close());

  it('answers a real WebClient and parses form-encoded blocks back', async () => {
    const client = new webApi.WebClient('xoxb-1', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    expect(await client.auth.test()).toMatchObject({
      ok: true,
      user_id: 'UBOT',
      team_id: 'T1',
      bot_id: 'B1',
    });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }];
    const first = await client.chat.postMessage({ channel: 'C1', text: 'hi', blocks });
    const second = await client.chat.postMessage({ channel: 'C1', text: 'again' });
    expect(first.ts).toBe('1700000000.000100');
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(slack.postsTo('C1')[0]).toMatchObject({ channel: 'C1', text: 'hi', blocks, ts: first.ts });
    expect(slack.calls[1]?.token).toBe('xoxb-1');
    await client.chat.update({ channel: 'C1', ts: first.ts!, text: 'edited' });
    expect(slack.updates[0]?.args).toMatchObject({ ts: first.ts, text: 'edited' });
  });

  it('accepts JSON bodies and the token in the body; rejects bad tokens and unknown methods', async () => {
    const json = await api(
      'chat.postMessage',
      JSON.stringify({ token: 'xoxb-1', channel: 'C2', blocks: [{}] }),
      {
        'content-type': 'application/json',
      },
    );
    expect(json.body).toMatchObject({ ok: true, channel: 'C2' });
    expect((await api('auth.test', 'token=bad', form('bad'))).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect((await api('auth.test', '', {})).body).toEqual({ ok: false, error: 'invalid_auth' });
    expect((await api('pins.add', '', form('xoxb-1'))).body).toEqual({ ok: false, error: 'unknown_method' });
    expect(slack.calls.at(-1)).toMatchObject({ method: 'pins.add', ok: false, error: 'unknown_method' });
  });

  it('answers channel errors, users.info and a fault hook', async () => {
    slack.channelErrors.set('CGONE', 'channel_not_found');
    expect((await api('chat.postMessage', 'channel=CGONE&text=x', form('xoxb-1'))).body).toEqual({
      ok: false,
      error: 'channel_not_found',
    });
    slack.users.set('UADMIN', { is_admin: true });
    expect((await api('users.info', 'user=UADMIN', form('xoxb-1'))).body).toMatchObject({
      ok: true,
      user: { id: 'UADMIN', is_admin: true, is_owner: false },
    });
    expect((await api('users.info', 'user=UX', form('xoxb-1'))).body).toEqual({
      ok: false,
      error: 'user_not_found',
    });
    slack.fault = ({ method }) =>
      method === 'chat.update' ? { kind: 'error', error: 'fatal_error' } : undefined;
    expect((await api('chat.update', 'channel=C1&ts=1', form('xoxb-1'))).body).toEqual({
      ok: false,
      error: 'fatal_error',
    });
    slack.fault = undefined;
  });

  it('rate-limits chat.postMessage per channel with 429 and Retry-After', async () => {
    slack.rateLimitPerChannelMs = 1500;
    const post = (channel: string) => api('chat.postMessage', `channel=${channel}&text=x`, form('xoxb-1'));
    expect((await post('CRL')).status).toBe(200);
    const limited = await post('CRL');
    expect(limited).toEqual({ status: 429, retryAfter: '2', body: { ok: false, error: 'ratelimited' } });
    expect((await post('COTHER')).status).toBe(200);
    expect(slack.postsTo('CRL')).toHaveLength(1);
    expect(slack.calls.at(-2)).toMatchObject({ ok: false, error: 'ratelimited' });
    slack.rateLimitPerChannelMs = 0;
  });

  it('records response_url posts and waits for them', async () => {
    const url = slack.responseUrl('cmd-1');
    const waited = slack.waitFor(() => slack.responses.find((r) => r.id === 'cmd-1'));
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'done', replace_original: true }),
    });
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    expect((await waited).body).toEqual({ text: 'done', replace_original: true });
    await expect(slack.waitFor(() => false, 50)).rejects.toThrow(/timed out after 50 ms/);
  });

  it('records chat.unfurl cards by message or by unfurl_id, and refuses one without either', async () => {
    const client = new webApi.WebClient('xoxb-1', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'card' } }];
    await client.chat.unfurl({
      channel: 'C1',
      ts: '1.2',
      unfurls: { 'https://x.test/1': { blocks, color: '#fff000' } },
    });
    await client.chat.unfurl({
      unfurl_id: 'U1',
      source: 'composer',
      unfurls: { 'https://x.test/2': { blocks } },
    });
    expect(slack.unfurls).toEqual([
      {
        channel: 'C1',
        ts: '1.2',
        url: 'https://x.test/1',
        card: { blocks, color: '#fff000' },
        at: expect.any(Number) as number,
      },
      {
        unfurlId: 'U1',
        source: 'composer',
        url: 'https://x.test/2',
        card: { blocks },
        at: expect.any(Number) as number,
      },
    ]);
    const unfurls = JSON.stringify({ 'https://x.test/3': { blocks } });
    expect((await api('chat.unfurl', `unfurls=${encodeURIComponent(unfurls)}`, form('xoxb-1'))).body).toEqual(
      {
        ok: false,
        error: 'invalid_arguments',
      },
    );
  });

  it('completes a function execution once, with its own workflow token only', async () => {
    const event = slack.functionExecuted('step', { a: 1 });
    const id = String(event.function_execution_id);
    const token = String(event.bot_access_token);
    const complete = (with_: string, body: string) => api('functions.completeSuccess', body, form(with_));
    const outputs = encodeURIComponent(JSON.stringify({ n: 2 }));
    expect((await complete('xoxb-1', `function_execution_id=${id}&outputs=${outputs}`)).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect((await complete(token, `function_execution_id=${id}&outputs=${outputs}`)).body).toEqual({
      ok: true,
    });
    expect(
      (await api('functions.completeError', `function_execution_id=${id}&error=no`, form(token))).body,
    ).toEqual({
      ok: false,
      error: 'function_execution_already_completed',
    });
    expect(await slack.completion(id)).toMatchObject({ executionId: id, ok: true, outputs: { n: 2 } });
  });
});

describe('Slack request signing', () => {
  it('matches the example in Slack’s signing documentation', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
    const independent = createHmac('sha256', 's3cret').update('v0:1700000000:a=b').digest('hex');
    expect(signRequest('s3cret', 'a=b', 1700000000)['x-slack-signature']).toBe(`v0=${independent}`);
  });

  it('builds slash-command and button bodies as Slack encodes them', () => {
    const body = new URLSearchParams(slashCommandBody({ text: 'list key=a b', response_url: 'http://r/1' }));
    expect(body.get('command')).toBe('/halo');
    expect(body.get('text')).toBe('list key=a b');
    expect(slashCommandBody({ text: 'a b', response_url: 'x' })).toContain('command=%2Fhalo&text=a+b&');
    const blocks = [
      { type: 'actions', block_id: 'b1', elements: [{ type: 'button', action_id: 'del', value: 'v' }] },
    ];
    const payload = buttonClickPayload({
      actionId: 'del',
      value: 'ev-1',
      userId: 'U1',
      channelId: 'C1',
      responseUrl: 'http://r/2',
      messageBlocks: blocks,
    });
    expect(payload).toMatchObject({
      type: 'block_actions',
      container: { type: 'message', channel_id: 'C1', is_ephemeral: false },
      message: { blocks },
      actions: [{ type: 'button', action_id: 'del', block_id: 'b1', value: 'ev-1' }],
    });
    const ephemeral = buttonClickPayload({
      ...{ actionId: 'x', value: '', userId: 'U1', channelId: 'C1' },
      responseUrl: 'r',
      isEphemeral: true,
    });
    expect(ephemeral).not.toHaveProperty('message');
    const encoded = blockActionBody(payload);
    expect(JSON.parse(new URLSearchParams(encoded).get('payload') ?? '')).toEqual(payload);
  });

  it('posts signed requests to /slack/events with the exact content type', async () => {
    const seen: { url: string | undefined; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const res = await postToBot(base, 'a=1', { signingSecret: 'sec', timestampSec: 1700000000 });
      expect(res).toMatchObject({ status: 200, json: { ok: true } });
      await postToBot(base, 'a=1', { signingSecret: 'sec', omitSignature: true, contentType: 'text/plain' });
      expect(seen[0]).toMatchObject({
        url: '/slack/events',
        body: 'a=1',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...signRequest('sec', 'a=1', 1700000000),
        },
      });
      expect(seen[1]?.headers).not.toHaveProperty('x-slack-signature');
      expect(seen[1]?.headers['content-type']).toBe('text/plain');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
