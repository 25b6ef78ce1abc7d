import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

export const SLACK_PATH = '/slack/events';

/** Slack's rule is five minutes either way; Bolt checks only the past. */
const MAX_SKEW_SECONDS = 300;
/** Bolt's own limit (`defaultBodyLimit`): the body is read here now, so the limit is kept here too. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The one content type Bolt parses as a form; it compares the header exactly. */
const FORM = 'application/x-www-form-urlencoded';

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
      readBody(req, MAX_BODY_BYTES).then(
        (body) => {
          if (body === null) {
            res.writeHead(413, { connection: 'close' }).end();
            return;
          }
          // Bolt uses a body already read (`rawBody`) instead of reading the stream again.
          Object.assign(req, { rawBody: body });
          const relabelled = unparsableAs(req.headers['content-type'], body.toString('utf8'));
          if (relabelled !== undefined) req.headers['content-type'] = relabelled;
          try {
            receiver.requestListener(req, res);
          } catch (error) {
            log.error('Slack request could not be handled', { error });
            if (!res.headersSent) res.writeHead(500).end();
          }
        },
        (error: unknown) => {
          log.warn('Slack request body could not be read', { error });
          if (!res.headersSent) res.writeHead(400).end();
        },
      );
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

/** The body, or null once it exceeds `limit` bytes (the rest is then discarded unread). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // A client that hangs up mid-body: after 'end' or a rejection this changes nothing.
    req.on('close', () => reject(new Error('the request was closed before its body ended')));
  });
}

/**
 * Bolt 5.1 reads `body.ssl_check` outside its error handling, so a signed body that parses to `null`
 * (`payload=null`) throws an unhandled rejection and the request is never answered; other non-objects wait
 * 3 s for a 404. Such a body is relabelled so that Bolt still checks its signature (401) and then rejects
 * it: a form whose `payload` is not an object, as `text/plain`, fails Bolt's JSON parse (400); JSON that is
 * not an object (Slack sends this app no JSON), as a form, parses to an object no listener takes (404).
 * Returns the new content type, or undefined for a body Bolt can take as it is.
 */
function unparsableAs(contentType: string | undefined, body: string): string | undefined {
  if (contentType === FORM) {
    // Parsed as Bolt parses it, so that both see the same `payload`.
    const { payload } = parseQuery(body);
    return payload === undefined || (typeof payload === 'string' && !parsesToNonObject(payload))
      ? undefined
      : 'text/plain';
  }
  return parsesToNonObject(body) ? FORM : undefined;
}

/** JSON that parses, to something other than an object. Not invalid JSON: Bolt answers that with 400. */
function parsesToNonObject(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return typeof value !== 'object' || value === null || Array.isArray(value);
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
