// Denial of service at the HTTP door (issue 12, items 1 and 2): connections held idle, half-sent or dripped,
// connections beyond the cap, and unsigned multi-megabyte bodies built to be expensive to parse. All on
// 127.0.0.1, bounded in count; the server's limits are injected short so that the test takes about a second.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpLimits } from '../../src/slack/server.ts';
import { postToBot, signRequest } from '../../fakes/sign.ts';
import { SIGNING_SECRET, visibleText, waitFor } from '../harness.ts';
import {
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  record,
  ROOMY,
  scenarioPerTest,
  to,
} from './scenario.ts';

const scenario = scenarioPerTest();

const LIMITS: HttpLimits = {
  maxConnections: 20,
  // Long enough that, on a loaded machine, every socket is open before the first is cut.
  headersTimeoutMs: 1500,
  requestTimeoutMs: 2500,
  keepAliveTimeoutMs: 1500,
  checkIntervalMs: 100,
};

interface Held {
  readonly socket: Socket;
  closedAt: number | null;
  received: string;
}

function open(port: number, first?: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const held: Held = { socket, closedAt: null, received: '' };
    socket.on('data', (chunk: Buffer) => (held.received += chunk.toString('latin1')));
    socket.on('close', () => (held.closedAt = Date.now()));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (first !== undefined) socket.write(first);
      resolve(held);
    });
    socket.once('error', reject);
  });
}

describe('inbound connections (issue 12, item 1)', ROOMY, () => {
  it('cuts idle, half-sent and dripped connections, refuses those beyond the cap, and keeps serving', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    const bot = await s.bot(s.env({ HALO_ADMIN_USERS: 'UADMIN' }), { httpLimits: LIMITS });
    const port = Number(new URL(bot.url).port);
    await completedPolls(bot);

    const started = Date.now();
    // Up to the cap: idle sockets, half-sent headers, and a body dripped a byte at a time.
    const held = await Promise.all([
      ...Array.from({ length: 8 }, () => open(port)),
      ...Array.from({ length: 8 }, () => open(port, 'POST /slack/events HTTP/1.1\r\nHost: x\r\n')),
    ]);
    const drips = await Promise.all(
      Array.from({ length: 4 }, () =>
        open(
          port,
          'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
        ),
      ),
    );
    const dripTimer = setInterval(() => {
      for (const d of drips) if (d.closedAt === null) d.socket.write('[');
    }, 50);
    // Beyond the cap.
    const excess = await Promise.all(Array.from({ length: 10 }, () => open(port)));

    // Meanwhile an alert goes out: the bot's own calls are not held up by inbound sockets.
    const event = halo.addEvent();
    try {
      await waitFor(
        'connections beyond the cap closed',
        () => excess.every((h) => h.closedAt !== null),
        10_000,
      );
      await waitFor(
        'held connections cut',
        () => [...held, ...drips].every((h) => h.closedAt !== null),
        10_000,
      );
    } finally {
      clearInterval(dripTimer);
    }
    const cutAfter = Math.max(...[...held, ...drips].map((h) => h.closedAt! - started));
    expect(drips.every((d) => d.received.startsWith('HTTP/1.1 408'))).toBe(true);
    // Refused on arrival: closed without a word (a timeout would have answered 408).
    expect(excess.map((h) => h.received)).toEqual(Array<string>(excess.length).fill(''));

    await slack.waitFor(() => slack.posts.length > 0);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    expectCounts(counts);
    expect((await s.health(bot)).status).toBe(200);
    const help = await s.command(bot, 'help');
    expect(help.ack.status).toBe(200);
    expect(visibleText(help.body)).toContain('/halo events');
    expect(bot.logs.join('\n')).toContain('inbound connections refused: the connection cap is reached');

    record(context, {
      area: 'Input',
      fault: `${held.length} idle/half-sent + ${drips.length} dripping connections (cap ${LIMITS.maxConnections}), ${excess.length} more beyond it`,
      behaviour: `beyond the cap closed at once; the rest cut by the header/request timeouts (all gone ${cutAfter} ms in, test limits ${LIMITS.headersTimeoutMs}/${LIMITS.requestTimeoutMs} ms; production 5/10 s); alert posted meanwhile; /healthz and /halo answer after`,
      ...countsRow(counts),
    });
  });
});

describe('unsigned bodies built to be expensive to parse (issue 12, item 2)', ROOMY, () => {
  it('are refused on their signature before any parsing, and signed commands stay quick', async (context) => {
    const s = scenario.current;
    await s.start();
    const bot = await s.bot(s.env({ HALO_ALERT_CHANNEL: '' }));
    const size = 4 * 1024 * 1024 - 16;
    const depth = size / 2;
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const bodies = [
      { body: nested, contentType: 'application/json' },
      { body: `payload=${nested}`, contentType: 'application/x-www-form-urlencoded' },
    ];

    // Every JSON.parse of a large text in this process (the bot runs in it) is recorded.
    const parsedSizes: number[] = [];
    const parse = JSON.parse;
    JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
      if (typeof text === 'string' && text.length > 100_000) parsedSizes.push(text.length);
      return parse(text, reviver) as unknown;
    }) as typeof JSON.parse;
    let statuses: number[];
    let commandMs: number[];
    try {
      const now = Math.floor(Date.now() / 1000);
      const floods = Array.from({ length: 10 }, (_, i) => {
        const { body, contentType } = bodies[i % 2]!;
        // A well-formed signature header with the wrong secret: the request has to be hashed to be refused.
        return postToBot(bot.url, body, {
          signingSecret: SIGNING_SECRET,
          contentType,
          timestampSec: now,
          signature: signRequest('not-the-secret', 'x', now)['x-slack-signature'],
        });
      });
      const commands = Array.from({ length: 5 }, () => s.command(bot, 'help'));
      const started = performance.now();
      const answers = await Promise.all(floods);
      const replies = await Promise.all(
        commands.map(async (c) => {
          const reply = await c;
          return { reply, ms: performance.now() - started };
        }),
      );
      statuses = answers.map((a) => a.status);
      commandMs = replies.map((r) => r.ms);
      for (const { reply } of replies) {
        expect(reply.ack.status).toBe(200);
        expect(visibleText(reply.body)).toContain('/halo events');
      }
    } finally {
      JSON.parse = parse;
    }
    expect(statuses).toEqual(Array<number>(10).fill(401));
    expect(parsedSizes, 'sizes of texts JSON.parse was given').toEqual([]);
    expect(bot.logs.join('\n')).toContain('its signature does not match SLACK_SIGNING_SECRET');

    record(context, {
      area: 'Input',
      fault: '10 unsigned 4 MB nested-JSON bodies ([[[[…]]]], JSON and form) beside 5 signed /halo',
      behaviour: `401 on the HMAC over the raw bytes, none parsed; the 5 commands answered (slowest ${Math.round(Math.max(...commandMs))} ms, from the same process)`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});
