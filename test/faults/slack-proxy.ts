/**
 * A proxy in front of the fake Slack that can hold an answer after Slack has acted on the call: the case the
 * fake's own `hang` cannot make, "Slack posted the message but the bot never heard back" (a kill during a
 * post), and "Slack answers slowly" (SIGTERM must let that post finish).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeSlack } from '../../fakes/slack.ts';

export type Hold = number | 'forever' | undefined;

export interface SlackProxy {
  /** Point SLACK_API_URL here. */
  readonly apiUrl: string;
  /** Consulted after Slack answered: how long to keep the answer from the bot. */
  hold: ((call: { method: string; channel: string | undefined }) => Hold) | undefined;
  /** Answers being held right now. */
  readonly holding: () => number;
  /** Gives every answer held now (a `forever` one too). */
  readonly release: () => void;
  /**
   * Every call Slack answered through this proxy, with the `ts` of the message it made, if any: which bot
   * posted what, when several bots each have a proxy of their own.
   */
  readonly answered: { method: string; channel: string | undefined; ts: string | undefined; at: number }[];
  close(): Promise<void>;
}

export async function startSlackProxy(slack: FakeSlack): Promise<SlackProxy> {
  /** Each held answer, with what gives it. */
  const held = new Map<ServerResponse, () => void>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = decodeURIComponent((req.url ?? '/').replace(/^\/api\//, '').split('?')[0] ?? '');
      const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? '' };
      if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
      void fetch(`${slack.apiUrl}${method}`, { method: 'POST', headers, body })
        .then(async (answer) => {
          const text = await answer.text();
          const out: Record<string, string> = {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          };
          const retryAfter = answer.headers.get('retry-after');
          if (retryAfter !== null) out['retry-after'] = retryAfter;
          let given = false;
          // Once: a held answer may be released by release() and by its timer.
          const reply = (): void => {
            held.delete(res);
            if (!given && !res.destroyed) res.writeHead(answer.status, out).end(text);
            given = true;
          };
          const channel = new URLSearchParams(body).get('channel') ?? undefined;
          proxy.answered.push({ method, channel, ts: answerTs(text), at: Date.now() });
          const hold = proxy.hold?.({ method, channel });
          if (hold === undefined || hold === 0) return reply();
          held.set(res, reply);
          res.on('close', () => held.delete(res));
          if (hold === 'forever') return;
          const timer = setTimeout(() => {
            timers.delete(timer);
            reply();
          }, hold);
          timers.add(timer);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: SlackProxy = {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    hold: undefined,
    holding: () => held.size,
    release: () => {
      for (const reply of [...held.values()]) reply();
    },
    answered: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const res of held.keys()) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return proxy;
}

function answerTs(text: string): string | undefined {
  try {
    const { ts } = JSON.parse(text) as { ts?: unknown };
    return typeof ts === 'string' ? ts : undefined;
  } catch {
    return undefined;
  }
}
