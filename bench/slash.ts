/**
 * Signed slash commands, timed from the request's first byte to the end of the answer. Plain node:http over one
 * keep-alive connection: fetch's own overhead (a millisecond or two) would blur a 10 ms target.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { signRequest, slashCommandBody } from '../fakes/sign.ts';
import { SIGNING_SECRET } from './bot.ts';

export interface SlashTiming {
  readonly status: number;
  readonly ms: number;
  /** `Date.now()` when the request was sent. */
  readonly sentAt: number;
}

export class SlashClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly port: number,
    private readonly responseUrl: () => string,
  ) {}

  send(
    text: string,
    options: { channelId?: string; userId?: string; timeoutMs?: number } = {},
  ): Promise<SlashTiming> {
    const body = slashCommandBody({
      text,
      response_url: this.responseUrl(),
      channel_id: options.channelId ?? 'CBENCH',
      user_id: options.userId ?? 'UBENCH',
    });
    const signed = signRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000));
    return new Promise((resolve, reject) => {
      const sentAt = Date.now();
      const started = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: '/slack/events',
          method: 'POST',
          agent: this.agent,
          timeout: options.timeoutMs ?? 5000,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            ...signed,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, sentAt }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('the slash command got no answer in time')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
