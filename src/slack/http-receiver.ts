import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPResponseAck, type App, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { signatureMismatchWarning } from './signature-warning.ts';
import { acceptedTimestamp, validSignature } from './verify.ts';

/** Bolt's own limit (`defaultBodyLimit`); Slack's requests are a few kilobytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Slack's SSL check is the one unsigned request; it is a short form, so an unsigned body is never read further. */
const MAX_UNSIGNED_BYTES = 8 * 1024;

type Body = Record<string, unknown>;

export interface SignedHttpReceiverOptions {
  readonly signingSecret: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly boltLog: BoltLogger;
}

/**
 * Bolt's receiver for Slack's HTTP requests, behind a server we own (`server.ts`). The order is the point: the
 * timestamp and the HMAC over the raw bytes are checked before anything is parsed, so an unsigned body costs a
 * hash, never a parse. Only Bolt's public pieces are used (`Receiver`, `HTTPResponseAck`, `App.processEvent`).
 */
export class SignedHttpReceiver implements Receiver {
  private app: App | undefined;
  private readonly warnMismatch: () => void;

  constructor(private readonly options: SignedHttpReceiverOptions) {
    this.warnMismatch = signatureMismatchWarning(options.log, options.clock);
  }

  init(app: App): void {
    this.app = app;
  }

  /** The server is started and stopped by the composition root, not by Bolt. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Handles `POST /slack/events`; always answers. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    // What escapes `dispatch` is a body that could not be read (the sender hung up): processing has its own catch.
    this.dispatch(req, res).catch((error: unknown) => {
      this.options.log.warn('Slack request body could not be read', { error });
      if (!res.headersSent) res.writeHead(400).end();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { log, clock } = this.options;
    const signature = header(req, 'x-slack-signature');
    const stamp = header(req, 'x-slack-request-timestamp');
    if (signature === undefined && stamp === undefined) {
      const body = await readBody(req, MAX_UNSIGNED_BYTES);
      // Answered, and nothing else in the form is looked at: a payload riding along reaches no listener.
      if (body !== null && isForm(req) && parseQuery(body.toString('utf8')).ssl_check === '1') {
        res.writeHead(200).end();
      } else refuse(res, 401);
      return;
    }
    if (stamp === undefined || acceptedTimestamp(stamp, clock.now()) === null) {
      log.warn('rejected a Slack request: its timestamp is not within 5 minutes of now');
      refuse(res, 401);
      return;
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === null) {
      refuse(res, 413);
      return;
    }
    if (!validSignature(this.options.signingSecret, stamp, signature, raw)) {
      this.warnMismatch();
      res.writeHead(401).end();
      return;
    }
    const body = parseBody(isForm(req), raw.toString('utf8'));
    if (body === null) {
      log.warn('rejected a signed Slack request whose body is not an object');
      res.writeHead(400).end();
      return;
    }
    if (body.ssl_check === '1') {
      res.writeHead(200).end();
      return;
    }
    if (body.type === 'url_verification') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ challenge: body.challenge }));
      return;
    }
    await this.process(req, res, body);
  }

  private async process(req: IncomingMessage, res: ServerResponse, body: Body): Promise<void> {
    const { log, boltLog } = this.options;
    const ack = new HTTPResponseAck({
      logger: boltLog,
      processBeforeResponse: false,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
      // Nothing acknowledged it within Slack's 3 s (no listener matches): the sender's mistake.
      unhandledRequestHandler: ({ response }) => {
        log.warn('slack: a request matched no listener');
        if (!response.headersSent) response.writeHead(400).end();
      },
    });
    const retryNum = header(req, 'x-slack-retry-num');
    const retryReason = header(req, 'x-slack-retry-reason');
    try {
      await this.app?.processEvent({
        body,
        ack: ack.bind(),
        ...(retryNum === undefined ? {} : { retryNum: Number.parseInt(retryNum, 10) }),
        ...(retryReason === undefined ? {} : { retryReason }),
      });
    } catch (error) {
      // A signed payload no listener can use (block_actions without actions): 400, not Bolt's default 500.
      log.warn('slack: a request could not be processed', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) res.writeHead(400).end();
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim() === 'application/x-www-form-urlencoded';
}

/**
 * The request's body as Bolt expects it: a form's `payload` field parsed as JSON, any other form as its fields,
 * anything else as JSON. Null unless the result is a plain object (Bolt reads fields of it unguarded) and each
 * form field appears once (a repeated `text` would reach the command parser as an array).
 */
export function parseBody(form: boolean, text: string): Body | null {
  let value: unknown;
  try {
    if (form) {
      const fields = parseQuery(text);
      if (Object.values(fields).some((v) => Array.isArray(v))) return null;
      value = typeof fields.payload === 'string' ? JSON.parse(fields.payload) : { ...fields };
    } else value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : null;
}

/** Refused before the body was read in full: the rest is not read, and the connection is not reused. */
function refuse(res: ServerResponse, status: number): void {
  res.writeHead(status, { connection: 'close' }).end();
}

/** The body, or null once it exceeds `limit` bytes (the rest is then left unread). */
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
