/**
 * The demo page's server on its own: it takes another port when its own is busy, and only this machine's page
 * may drive it (its Host, same-origin JSON POSTs). Refused requests never reach the bot, so none runs here.
 */
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../../fakes/slack.ts';
import { Feed } from '../../demo/feed.ts';
import { CONTENT_SECURITY_POLICY } from '../../demo/page.ts';
import { startPageServer, type PageServer } from '../../demo/server.ts';
import { createLogger } from '../../src/log.ts';

function send(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${options.path ?? '/'}`,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('demo page server', () => {
  let slack: FakeSlack;
  let busy: Server;
  let busyPort: number;
  let page: PageServer;

  beforeAll(async () => {
    slack = await startFakeSlack();
    busy = createServer();
    busyPort = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    page = await startPageServer(busyPort, {
      feed: new Feed(slack, { botName: 'Halo', userName: 'you', channel: 'CDEMO' }),
      // Nothing listens there: a request that got through would fail with 500, not with the refusals below.
      botUrl: 'http://127.0.0.1:9',
      signingSecret: 'secret-0123456789abcdef',
      userId: 'UDEMO',
      userName: 'you',
      channel: 'CDEMO',
      log: createLogger({ level: 'error', secrets: [], write: () => undefined }),
    });
  });

  afterAll(async () => {
    await page.close();
    busy.close();
    await slack.close();
  });

  it('takes any free port when its own is busy, and says which', () => {
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(page.url).not.toBe(`http://127.0.0.1:${busyPort}`);
  });

  it('serves the page with a policy that allows its own script only', async () => {
    const answer = await send(page.url, {});
    expect(answer.status).toBe(200);
    expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(answer.body).toContain('<script src="/client.js" defer></script>');
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    const answer = await send(page.url, { headers: { host: 'attacker.example' } });
    expect(answer.status).toBe(421);
  });

  it('refuses a POST from another origin, and one that is not JSON', async () => {
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ text: '/halo help' });
    const foreign = await send(page.url, {
      method: 'POST',
      path: '/command',
      headers: { ...json, origin: 'http://attacker.example' },
      body,
    });
    expect(foreign).toMatchObject({ status: 403, body: '{"ok":false,"error":"not allowed"}' });
    const form = await send(page.url, {
      method: 'POST',
      path: '/command',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=/halo+help',
    });
    expect(form.status).toBe(403);
  });

  it('passes on /halo and Halo links only, and clicks only on controls that are there', async () => {
    const json = { 'content-type': 'application/json' };
    const other = await send(page.url, {
      method: 'POST',
      path: '/command',
      headers: json,
      body: JSON.stringify({ text: '/giphy cats' }),
    });
    expect(other).toMatchObject({
      status: 400,
      body: '{"ok":false,"error":"only /halo is installed here: type /halo help"}',
    });
    // A message is the person's own: only a link on Halo's domain goes to the bot, which is not reachable here.
    const chat = await send(page.url, {
      method: 'POST',
      path: '/command',
      headers: json,
      body: JSON.stringify({ text: 'lunch? https://example.com/menu' }),
    });
    expect(chat).toMatchObject({ status: 200, body: '{"ok":true}' });
    const empty = await send(page.url, {
      method: 'POST',
      path: '/command',
      headers: json,
      body: '{"text":" "}',
    });
    expect(empty).toMatchObject({
      status: 400,
      body: '{"ok":false,"error":"type a message or a /halo command"}',
    });
    const click = await send(page.url, {
      method: 'POST',
      path: '/action',
      headers: json,
      body: JSON.stringify({ message: 'm404', actionId: 'halo_delete_event' }),
    });
    expect(click).toMatchObject({ status: 404, body: '{"ok":false,"error":"that control is gone"}' });
  });
});
