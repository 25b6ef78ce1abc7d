import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HTTPReceiver } from '@slack/bolt';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

export const SLACK_PATH = '/slack/events';

/** Slack's rule is five minutes either way; Bolt checks only the past. */
const MAX_SKEW_SECONDS = 300;

export interface ServerOptions {
  readonly receiver: HTTPReceiver;
  readonly clock: Clock;
  readonly log: Logger;
  readonly health: () => Promise<Record<string, unknown>>;
}

/**
 * The one HTTP server: `/healthz`, and Slack's requests handed to Bolt's receiver after the check Bolt lacks.
 * Owning the server (rather than `app.start()`) also lets shutdown close it on our schedule.
 */
export function createHttpServer(options: ServerOptions): Server {
  const { receiver, clock, log } = options;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      options.health().then(
        (body) => send(res, 200, body),
        (error: unknown) => {
          log.error('healthz failed', { error });
          send(res, 500, { status: 'error' });
        },
      );
      return;
    }
    if (path === SLACK_PATH && req.method === 'POST') {
      if (timestampInFuture(req, clock.now())) {
        log.warn('rejected a Slack request stamped more than 5 minutes in the future');
        res.writeHead(401).end();
        req.resume();
        return;
      }
      try {
        receiver.requestListener(req, res);
      } catch (error) {
        log.error('Slack request could not be handled', { error });
        if (!res.headersSent) res.writeHead(500).end();
      }
      return;
    }
    send(res, 404, { error: 'not found' });
    req.resume();
  });
}

function timestampInFuture(req: IncomingMessage, nowMs: number): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds - nowMs / 1000 > MAX_SKEW_SECONDS;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
