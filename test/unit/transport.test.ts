import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyTooLargeError, createHttpTransport } from '../../src/halo/transport.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

interface Seen {
  readonly requests: { url: string; headers: IncomingMessage['headers'] }[];
  connections: number;
  readonly base: string;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Seen> {
  const server = createServer((req, res) => {
    seen.requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', () => seen.connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const seen: Seen = { requests: [], connections: 0, base: `http://127.0.0.1:${port}/api/v1` };
  return seen;
}

const text = (chunks: readonly Uint8Array[]): string => Buffer.concat(chunks).toString('utf8');
const never = new AbortController().signal;
/** The body cap of these tests: 1 MB decoded. */
const CAP = 1024 * 1024;

describe('createHttpTransport', () => {
  it('GETs the path under the base URL with the given headers, and hands back status, headers and body', async () => {
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"list":[]}');
    });
    const answer = await createHttpTransport(seen.base, CAP).get(
      'event/list.json?start=0&limit=1000',
      { 'x-apikey': 'k1' },
      never,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['retry-after']).toBe('7');
    expect(text(answer.chunks)).toBe('{"list":[]}');
    expect(seen.requests).toHaveLength(1);
    expect(seen.requests[0]!.url).toBe('/api/v1/event/list.json?start=0&limit=1000');
    expect(seen.requests[0]!.headers['x-apikey']).toBe('k1');
    expect(seen.requests[0]!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('keeps a base URL with a trailing slash as it is', async () => {
    const seen = await serve((_req, res) => res.end('{}'));
    await createHttpTransport(`${seen.base}/`, CAP).get('event/types.json?start=0', {}, never);
    expect(seen.requests[0]!.url).toBe('/api/v1/event/types.json?start=0');
  });

  it('reuses one connection for requests one after another', async () => {
    const seen = await serve((_req, res) => res.end('{}'));
    const transport = createHttpTransport(seen.base, CAP);
    for (let i = 0; i < 5; i++) await transport.get(`event/get.json?event_id=${i}`, {}, never);
    expect(seen.requests).toHaveLength(5);
    expect(seen.connections).toBe(1);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('decodes a %s body', async (encoding, encode) => {
    const body = JSON.stringify({ list: Array.from({ length: 500 }, (_, i) => ({ event_id: `e${i}` })) });
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': encoding });
      res.end(encode(Buffer.from(body)));
    });
    const answer = await createHttpTransport(seen.base, CAP).get('event/list.json', {}, never);
    expect(text(answer.chunks)).toBe(body);
  });

  it('fails on a body that does not decode', async () => {
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end('this is not gzip');
    });
    await expect(createHttpTransport(seen.base, CAP).get('event/list.json', {}, never)).rejects.toMatchObject(
      {
        code: 'Z_DATA_ERROR',
      },
    );
  });

  it('fails when the connection closes before the body ends', async () => {
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"list":[');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(createHttpTransport(seen.base, CAP).get('event/list.json', {}, never)).rejects.toMatchObject(
      {
        code: 'ECONNRESET',
      },
    );
  });

  it('keeps the system error code of a refused connection', async () => {
    const seen = await serve((_req, res) => res.end('{}'));
    const base = seen.base;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    await expect(createHttpTransport(base, CAP).get('event/list.json', {}, never)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('ends a request at once when aborted, rejecting with the reason', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const seen = await serve((req) => req.socket.on('close', closed)); // never answers
    const controller = new AbortController();
    const pending = createHttpTransport(seen.base, CAP).get('event/list.json', {}, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await serverSawClose;
  });

  it('rejects at once, without a request, when the signal is already aborted', async () => {
    const seen = await serve((_req, res) => res.end('{}'));
    const controller = new AbortController();
    controller.abort(new Error('already'));
    await expect(
      createHttpTransport(seen.base, CAP).get('event/list.json', {}, controller.signal),
    ).rejects.toThrow('already');
    expect(seen.requests).toHaveLength(0);
  });

  it('does not follow a redirect: the 3xx comes back with its location, and the API key goes nowhere else', async () => {
    const elsewhere = await serve((_req, res) => res.end('{}'));
    const seen = await serve((_req, res) => {
      res.writeHead(301, { location: `${elsewhere.base}/event/list.json` });
      res.end();
    });
    const answer = await createHttpTransport(seen.base, CAP).get(
      'event/list.json',
      { 'x-apikey': 'k1' },
      never,
    );
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe(`${elsewhere.base}/event/list.json`);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a base URL that is not http or https', () => {
    expect(() => createHttpTransport('ftp://127.0.0.1/api', CAP)).toThrow('unsupported protocol ftp:');
  });

  it('stops reading and decoding a gzip bomb the moment it passes the cap', async () => {
    // 1 GB of spaces as 100 gzip members of 10 MB each: about 1 MB on the wire, sent in full if read in full.
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    let written = 0;
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
      const more = (): void => {
        while (written < 100) {
          written++;
          if (!res.write(member)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const error = await createHttpTransport(seen.base, CAP)
      .get('event/list.json', {}, never)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toMatchObject({ limitBytes: CAP, encoding: 'gzip', declaredBytes: null });
  });

  it('refuses, before reading it, a plain body whose content-length passes the cap', async () => {
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(200 * 1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024, 0x20));
    });
    await expect(createHttpTransport(seen.base, CAP).get('event/list.json', {}, never)).rejects.toMatchObject(
      {
        name: 'BodyTooLargeError',
        declaredBytes: 200 * 1024 * 1024,
        encoding: null,
      },
    );
  });

  it('stops reading a plain body sent without a length once it passes the cap, and takes one at the cap', async () => {
    let size = CAP + 1;
    const seen = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(size, 0x20));
    });
    await expect(
      createHttpTransport(seen.base, CAP).get('event/list.json', {}, never),
    ).rejects.toBeInstanceOf(BodyTooLargeError);
    size = CAP;
    const answer = await createHttpTransport(seen.base, CAP).get('event/list.json', {}, never);
    expect(Buffer.concat(answer.chunks).length).toBe(CAP);
  });
});
