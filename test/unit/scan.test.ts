import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import PQueue from 'p-queue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient, MAX_PAGE_SIZE } from '../../src/halo/client.ts';
import type { EventPage, HaloClient } from '../../src/pipeline/halo-port.ts';
import { HaloHttpError } from '../../src/pipeline/halo-errors.ts';
import { scanEvents } from '../../src/halo/scan.ts';
import type { ScanResult } from '../../src/pipeline/halo-port.ts';
import { attachedTo } from '../attached.ts';

/**
 * A minimal event/list.json: `total` events `ev-0…`, paged by start/limit, optionally without `pagination`,
 * answering after `delayMs`, and counting the requests in flight at once.
 */
const server = {
  total: 0,
  withPagination: true,
  delayMs: 0,
  /** Serves at most this many per page, whatever `limit` asks (a server-side cap). */
  cap: Infinity,
  /** Events added to the total once the first request has been answered (events arriving mid-scan). */
  growBy: 0,
  /** Claims this total instead of the real one. */
  claimedTotal: null as number | null,
  /** Serves the first page's events whatever `start` asks for (a server going round in circles). */
  repeat: false,
  /** Answers 503 for this `start`. */
  failAt: null as number | null,
  requests: [] as { start: number; limit: number; key: string | null }[],
  inFlight: 0,
  maxInFlight: 0,
  /** Requests the client gave up on before the answer. */
  abandoned: 0,
};

let http: Server;
let client: HaloClient;

beforeAll(async () => {
  http = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const start = Number(url.searchParams.get('start') ?? 0);
    const limit = Math.min(server.cap, Number(url.searchParams.get('limit') ?? 100));
    server.requests.push({ start, limit, key: url.searchParams.get('key') });
    server.inFlight++;
    server.maxInFlight = Math.max(server.maxInFlight, server.inFlight);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      server.inFlight--;
    };
    res.on('close', () => {
      if (!res.writableFinished) server.abandoned++;
      finish();
    });
    setTimeout(() => {
      if (res.destroyed) return;
      if (start === server.failAt) {
        res.writeHead(503, { 'content-type': 'text/html' });
        res.end('<html>busy</html>');
        finish();
        return;
      }
      const list = [];
      if (server.requests.length === 2) server.total += server.growBy;
      const from = server.repeat ? 0 : start;
      for (let i = from; i < Math.min(server.total, from + limit); i++)
        list.push({ event: { event_id: `ev-${i}` } });
      const body = server.withPagination
        ? { pagination: { total: server.claimedTotal ?? server.total, start, limit }, list }
        : { list };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      finish();
    }, server.delayMs);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  client = createHaloClient({
    apiUrl: `http://127.0.0.1:${port}/api/v1`,
    apiKey: 'k',
    timeoutMs: 5000,
    clock: systemClock,
    attempts: 2,
    backoffMs: 5,
  });
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

beforeEach(() => {
  Object.assign(server, {
    total: 0,
    cap: Infinity,
    growBy: 0,
    claimedTotal: null,
    withPagination: true,
    repeat: false,
    delayMs: 0,
    failAt: null,
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    abandoned: 0,
  });
});

async function scan(
  options: { concurrency?: number; pageSize?: number; key?: string; signal?: AbortSignal } = {},
): Promise<{ result: ScanResult; ids: string[]; pages: EventPage[] }> {
  const ids: string[] = [];
  const pages: EventPage[] = [];
  const result = await scanEvents(client, options.key === undefined ? {} : { key: options.key }, {
    pageSize: options.pageSize ?? MAX_PAGE_SIZE,
    queue: new PQueue({ concurrency: options.concurrency ?? 4 }),
    signal: options.signal ?? new AbortController().signal,
    onPage: (page) => {
      pages.push(page);
      ids.push(...page.ids);
      return Promise.resolve();
    },
  });
  return { result, ids, pages };
}

const expectedIds = (n: number) => Array.from({ length: n }, (_, i) => `ev-${i}`);
const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));

describe('scanEvents: requests', () => {
  it('steps by what Halo serves when it caps pages below the limit asked, so no page is skipped', async () => {
    server.total = 2200;
    server.cap = 500;
    const { result, ids } = await scan();
    expect(sorted(ids)).toEqual(expectedIds(2200));
    expect(result.pages).toBe(5);
    expect(result.steady).toBe(true);
    expect(server.requests.map((r) => r.start).sort((a, b) => a - b)).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it('reads, in the same scan, the pages of events that later pages say were added meanwhile', async () => {
    server.total = 2000;
    server.growBy = 900;
    const { result, ids } = await scan({ concurrency: 1 });
    expect(sorted(ids)).toEqual(expectedIds(2900));
    expect(result.total).toBe(2900);
    // Events came and went meanwhile: this scan cannot prove that an event is gone.
    expect(result.steady).toBe(false);
    expect(result.cutShort).toBeNull();
    expect(server.requests.map((r) => r.start).sort((a, b) => a - b)).toEqual([0, 1000, 2000]);
  });

  it('reads no further than the first page promised, plus a tenth (at least a page), however later pages grow', async () => {
    server.total = 2000;
    server.growBy = 5_000_000;
    const { result } = await scan({ concurrency: 1 });
    expect(server.requests.map((r) => r.start).sort((a, b) => a - b)).toEqual([0, 1000, 2000]);
    expect(result.steady).toBe(false);
    expect(result.cutShort).toEqual({
      reason: 'past-promise',
      detail: 'later pages said 5002000 events where the first said 2000; read up to 3000',
    });
  });

  it('stops at a page that begins like one already read, and proves nothing gone', async () => {
    // Full pages without a total, each the same: the scan never saw a short page, and once went on for ever.
    server.total = 1000;
    server.withPagination = false;
    server.repeat = true;
    const { result, ids } = await scan();
    expect(server.requests.map((r) => r.start)).toEqual([0, 1000]);
    expect(ids).toEqual(expectedIds(1000));
    expect(result).toMatchObject({ pages: 1, events: 1000, steady: false, total: null });
    expect(result.cutShort).toEqual({
      reason: 'repeated-page',
      detail: 'the page at start=1000 begins with event ev-0, as the page at start=0 did',
    });
  });

  it('stops when the poll has made its last allowed request, shared by every scan of the poll', async () => {
    // A total of 5,000,000 with one entry a page: the scan steps by 1, and once made 60,000 requests in 15 s.
    server.total = 5_000_000;
    server.cap = 1;
    const budget = { limit: 30, left: 30 };
    const queue = new PQueue({ concurrency: 4 });
    const run = (key: string): Promise<ScanResult> =>
      scanEvents(
        client,
        { key },
        {
          pageSize: 1000,
          queue,
          budget,
          signal: new AbortController().signal,
          onPage: () => Promise.resolve(),
        },
      );
    const [first, second] = await Promise.all([run('a'), run('b')]);
    expect(server.requests).toHaveLength(30);
    expect(budget.left).toBe(0);
    for (const result of [first, second]) {
      expect(result.steady).toBe(false);
      expect(result.cutShort?.reason).toBe('request-cap');
      expect(result.cutShort?.detail).toMatch(
        /^30 list requests made this poll \(HALO_MAX_REQUESTS_PER_POLL\); stopped before start=\d+$/,
      );
    }
  });

  it('refuses an implausible pagination.total instead of scheduling millions of requests', async () => {
    server.total = 10;
    server.claimedTotal = 2_000_000_000;
    await expect(scan()).rejects.toThrow('pagination.total of 2000000000 is not plausible');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [0, 1],
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [2500, 3],
    [10_000, 10],
  ])('with pagination.total, reads %i events in %i pages of 1000', async (n, requests) => {
    server.total = n;
    const { result, ids } = await scan();
    expect(result).toEqual({
      pages: requests,
      events: n,
      invalid: 0,
      total: n,
      steady: true,
      cutShort: null,
    });
    expect(sorted(ids)).toEqual(expectedIds(n));
    expect(server.requests.map((r) => r.start).sort((a, b) => a - b)).toEqual(
      Array.from({ length: requests }, (_, i) => i * 1000),
    );
    expect(server.requests.every((r) => r.limit === 1000)).toBe(true);
  });

  it.each([
    [0, 1],
    [999, 1],
    [1000, 2],
    [2000, 3],
    [2500, 3],
  ])('without pagination.total, reads %i events in %i pages, until a short one', async (n, requests) => {
    server.total = n;
    server.withPagination = false;
    const { result, ids } = await scan();
    expect(result).toEqual({
      pages: requests,
      events: n,
      invalid: 0,
      total: null,
      steady: true,
      cutShort: null,
    });
    expect(ids).toEqual(expectedIds(n));
    expect(server.requests.map((r) => r.start)).toEqual(Array.from({ length: requests }, (_, i) => i * 1000));
  });

  it('passes the filter and page size on every request', async () => {
    server.total = 25;
    const { result } = await scan({ key: 'domain-add', pageSize: 10 });
    expect(result.pages).toBe(3);
    expect(server.requests.map((r) => [r.start, r.limit, r.key])).toEqual([
      [0, 10, 'domain-add'],
      [10, 10, 'domain-add'],
      [20, 10, 'domain-add'],
    ]);
  });

  it('counts malformed events without failing the page', async () => {
    server.total = 3;
    const original = client.listEvents.bind(client);
    const flaky: HaloClient = {
      ...client,
      listEvents: async (filter, options) => {
        const page = await original(filter, options);
        return { ...page, ids: page.ids.slice(1), invalid: 1 };
      },
    };
    const result = await scanEvents(
      flaky,
      {},
      {
        pageSize: 1000,
        queue: new PQueue({ concurrency: 1 }),
        signal: new AbortController().signal,
        onPage: () => Promise.resolve(),
      },
    );
    expect(result).toEqual({ pages: 1, events: 2, invalid: 1, total: 3, steady: true, cutShort: null });
  });
});

describe('scanEvents: concurrency', () => {
  it.each([1, 3, 4])('keeps at most %i requests in flight', async (concurrency) => {
    server.total = 8000;
    server.delayMs = 20;
    const { result } = await scan({ concurrency });
    expect(result.pages).toBe(8);
    expect(server.maxInFlight).toBe(concurrency);
  });

  it('shares one bound between scans using the same queue', async () => {
    server.total = 6000;
    server.delayMs = 20;
    const queue = new PQueue({ concurrency: 2 });
    const options = {
      pageSize: 1000,
      queue,
      signal: new AbortController().signal,
      onPage: () => Promise.resolve(),
    };
    await Promise.all([scanEvents(client, {}, options), scanEvents(client, { key: 'a' }, options)]);
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBe(2);
  });
  it('never queues more pages than it can run at once, so no finished page is held until the scan ends', async () => {
    // p-queue keeps consumed entries, each holding its resolved page, until half its queue is consumed: a scan
    // that queued every page up front kept up to half of Halo's events alive (memory grew with the account).
    server.total = 40_000;
    const queue = new PQueue({ concurrency: 3 });
    let maxQueued = 0;
    await scanEvents(
      client,
      {},
      {
        pageSize: 1000,
        queue,
        signal: new AbortController().signal,
        onPage: () => {
          maxQueued = Math.max(maxQueued, queue.size + queue.pending);
          return Promise.resolve();
        },
      },
    );
    expect(server.requests).toHaveLength(40);
    expect(maxQueued).toBeLessThanOrEqual(3);
  });
});

describe('scanEvents: failure', () => {
  it('fails when the first page fails, without reading on', async () => {
    server.total = 5000;
    server.failAt = 0;
    await expect(scan()).rejects.toBeInstanceOf(HaloHttpError);
    expect(server.requests.map((r) => r.start)).toEqual([0, 0]);
  });

  it('fails with the failing page’s error and stops the pages not yet read', async () => {
    server.total = 20_000;
    server.delayMs = 30;
    server.failAt = 1000;
    const error: unknown = await scan({ concurrency: 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HaloHttpError);
    expect(error).toMatchObject({ status: 503 });
    // Page 0, page 1000 twice (one retry), and the pages that were in flight beside it: far from all 20.
    expect(server.requests.length).toBeLessThan(8);
    // No request is left running once the scan has failed.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.inFlight).toBe(0);
  });

  it('fails when a page cannot be recorded, and stops the rest', async () => {
    server.total = 20_000;
    server.delayMs = 10;
    let calls = 0;
    const failing = scanEvents(
      client,
      {},
      {
        pageSize: 1000,
        queue: new PQueue({ concurrency: 2 }),
        signal: new AbortController().signal,
        onPage: () => {
          calls++;
          return calls === 2 ? Promise.reject(new Error('disk full')) : Promise.resolve();
        },
      },
    );
    await expect(failing).rejects.toThrow('disk full');
    expect(server.requests.length).toBeLessThan(8);
  });

  it('keeps nothing attached to the caller’s signal after many scans, passing or failing', async () => {
    const stop = new AbortController();
    server.total = 2500;
    for (let i = 0; i < 30; i++) await scan({ signal: stop.signal });
    server.failAt = 1000;
    for (let i = 0; i < 5; i++) await expect(scan({ signal: stop.signal })).rejects.toThrow(HaloHttpError);
    expect(attachedTo(stop.signal)).toBe(0);
  });

  it('stops at once when the caller aborts', async () => {
    server.total = 20_000;
    server.delayMs = 50;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 80);
    await expect(scan({ concurrency: 2, signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(server.requests.length).toBeLessThan(6);
  });
});
