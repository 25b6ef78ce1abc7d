import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../src/halo/transport.ts';
import { chunksOf, transportFetch, type TransportInit } from '../../src/halo/transport-fetch.ts';

let server: Server;
let base: string;
const seen: { url: string; key: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', key: req.headers['x-apikey'] as string | undefined });
    if (req.url?.includes('hang') === true) return;
    res.writeHead(429, { 'retry-after': '3', 'set-cookie': ['a=1', 'b=2'] });
    res.end('{"list":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('transportFetch', () => {
  it('answers with a body-less Response carrying status and headers, the chunks beside it', async () => {
    const fetch = transportFetch(createHttpTransport(base, 1024), base, { 'x-apikey': 'k' });
    const response = await fetch(`${base}/event/list.json?start=0`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.body).toBeNull();
    expect(Buffer.concat(chunksOf(response)).toString()).toBe('{"list":[]}');
    expect(seen.at(-1)).toEqual({ url: '/api/v1/event/list.json?start=0', key: 'k' });
    expect(chunksOf(new Response('x'))).toEqual([]);
  });

  it('refuses a URL that is not under the base, and any method but GET, before sending anything', async () => {
    const fetch = transportFetch(createHttpTransport(base, 1024), base);
    const before = seen.length;
    await expect(fetch('http://127.0.0.1:1/api/v1/event/list.json')).rejects.toThrow('is not under');
    await expect(fetch(`${base}/event/list.json`, { method: 'POST' })).rejects.toThrow('only GET');
    expect(seen).toHaveLength(before);
  });

  it('ends the request when the caller’s signal, given beside it, aborts', async () => {
    const fetch = transportFetch(createHttpTransport(base, 1024), base);
    const caller = new AbortController();
    const init: TransportInit = { callerSignal: caller.signal };
    const pending = fetch(`${base}/event/hang.json`, init);
    setTimeout(() => caller.abort(new Error('stopping')), 20);
    await expect(pending).rejects.toThrow('stopping');
  });
});
