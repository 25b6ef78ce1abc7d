/**
 * The demo's web page, on 127.0.0.1: the page itself, a Server-Sent Events stream of the messages (demo/feed.ts),
 * and two endpoints through which the page types a `/halo` command or clicks a control. Those are turned into the
 * requests Slack would send (a slash command, a `block_actions` payload), signed with the demo's signing secret,
 * and POSTed to the bot's `/slack/events`: the bot cannot tell the page from Slack.
 *
 * Only this machine's browser may drive it: requests must name this server in `Host` (no DNS rebinding) and, for
 * a POST, come as JSON from this origin (another site's form or `fetch` cannot send that without a preflight,
 * which is never granted).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  blockActionBody,
  buttonClickPayload,
  eventCallbackBody,
  linkSharedEvent,
  postToBot,
  slashCommandBody,
  unfurlClickPayload,
} from '../fakes/sign.ts';
import { HALO_LINK_DOMAIN } from '../src/domain/halo-link.ts';
import type { Logger } from '../src/log.ts';
import type { Feed, FeedMessage } from './feed.ts';
import { CLIENT_JS, CONTENT_SECURITY_POLICY, PAGE_HTML, STYLE_CSS } from './page.ts';

export interface PageOptions {
  readonly feed: Feed;
  /** Where the bot listens, e.g. `http://127.0.0.1:PORT`. */
  readonly botUrl: string;
  readonly signingSecret: string;
  readonly userId: string;
  readonly userName: string;
  readonly channel: string;
  readonly log: Logger;
}

export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

class RequestError extends Error {
  override name = 'RequestError' as const;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new RequestError(413, 'request too large'));
      else chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        resolve(parsed as Record<string, unknown>);
      } catch {
        reject(new RequestError(400, 'expected a JSON object'));
      }
    });
  });
}

interface Control {
  readonly value: string;
  /** A menu's options, value → label; undefined for a button. */
  readonly options?: ReadonlyMap<string, string>;
}

/** The control `actionId` on the message, as the bot sent it: a click can only be on what is there. */
function findControl(message: FeedMessage, actionId: string): Control | undefined {
  for (const block of message.blocks as Record<string, unknown>[]) {
    const elements = [
      ...(Array.isArray(block.elements) ? (block.elements as unknown[]) : []),
      block.accessory,
    ];
    for (const element of elements as (Record<string, unknown> | undefined)[]) {
      if (element?.action_id !== actionId) continue;
      const options = new Map<string, string>();
      const groups = Array.isArray(element.option_groups)
        ? (element.option_groups as Record<string, unknown>[])
        : [];
      const all = [element.options, ...groups.map((group) => group.options)].flatMap((o) =>
        Array.isArray(o) ? (o as { value?: unknown; text?: { text?: unknown } }[]) : [],
      );
      for (const option of all) {
        const text = option.text?.text;
        if (typeof option.value === 'string') options.set(option.value, typeof text === 'string' ? text : '');
      }
      return element.type === 'static_select'
        ? { value: '', options }
        : { value: typeof element.value === 'string' ? element.value : '' };
    }
  }
  return undefined;
}

export async function startPageServer(port: number, options: PageOptions): Promise<PageServer> {
  const { feed, log } = options;
  let origin = '';
  let hosts: string[] = [];

  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };
  const answer = (res: ServerResponse, status: number, body: Record<string, unknown>): void =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

  /** Passes a signed request to the bot; Slack shows nothing for a 200 with an empty body. */
  const toBot = async (body: string, contentType?: string): Promise<void> => {
    const result = await postToBot(options.botUrl, body, {
      signingSecret: options.signingSecret,
      ...(contentType === undefined ? {} : { contentType }),
    });
    if (result.status !== 200) throw new RequestError(502, `the bot answered HTTP ${result.status}`);
  };

  const command = async (body: Record<string, unknown>): Promise<void> => {
    const typed = typeof body.text === 'string' ? body.text.trim() : '';
    if (typed === '') throw new RequestError(400, 'type a message or a /halo command');
    if (!typed.startsWith('/')) {
      await post(typed);
      return;
    }
    const match = /^\/halo(?:\s+([\s\S]*))?$/.exec(typed);
    if (match === null) throw new RequestError(400, 'only /halo is installed here: type /halo help');
    feed.typed(typed);
    await toBot(
      slashCommandBody({
        text: match[1] ?? '',
        user_id: options.userId,
        user_name: options.userName,
        channel_id: options.channel,
        response_url: feed.responseUrl(null),
      }),
    );
  };

  /**
   * A message posted in the channel. As Slack does for the domains in the app's manifest, its links on Halo's
   * domain go to the bot in a `link_shared` event, which the bot answers with `chat.unfurl`.
   */
  const post = async (text: string): Promise<void> => {
    const ts = feed.said(text);
    const urls = [...text.matchAll(/https?:\/\/[^\s<>]+/g)]
      .map(([url]) => url)
      .filter((url) => {
        const host = URL.canParse(url) ? new URL(url).hostname : '';
        return host === HALO_LINK_DOMAIN || host.endsWith(`.${HALO_LINK_DOMAIN}`);
      });
    if (urls.length === 0) return;
    const event = linkSharedEvent({ urls, channel: options.channel, ts, userId: options.userId });
    await toBot(eventCallbackBody(event), 'application/json');
  };

  const action = async (body: Record<string, unknown>): Promise<void> => {
    const message = typeof body.message === 'string' ? feed.get(body.message) : undefined;
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const control = message === undefined || message.deleted ? undefined : findControl(message, actionId);
    if (message === undefined || control === undefined) throw new RequestError(404, 'that control is gone');
    const picked = typeof body.selected === 'string' ? body.selected : undefined;
    const label = picked === undefined ? undefined : control.options?.get(picked);
    if (control.options !== undefined && label === undefined) throw new RequestError(400, 'pick an option');
    if (message.unfurl !== undefined && message.ts !== null) {
      const click = unfurlClickPayload({
        actionId,
        value: control.value,
        userId: options.userId,
        channelId: message.channel,
        messageTs: message.ts,
        responseUrl: feed.responseUrl(message.id),
      });
      await toBot(blockActionBody(click));
      return;
    }
    const payload = buttonClickPayload({
      actionId,
      value: control.value,
      userId: options.userId,
      channelId: message.channel,
      responseUrl: feed.responseUrl(message.id),
      messageBlocks: [...message.blocks],
      isEphemeral: message.kind !== 'channel',
      ...(message.ts === null ? {} : { messageTs: message.ts }),
      ...(label === undefined || picked === undefined ? {} : { selected: { text: label, value: picked } }),
    });
    await toBot(blockActionBody(payload));
  };

  const events = (res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const push = (item: unknown): void => {
      res.write(`data: ${JSON.stringify(item)}\n\n`);
    };
    for (const item of feed.items()) push(item);
    const unsubscribe = feed.subscribe(push);
    // The response's close, not the request's: a GET's request side closes as soon as it has been read.
    res.on('close', unsubscribe);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = req.headers.host ?? '';
    if (!hosts.includes(host)) throw new RequestError(421, 'open the demo at the address it printed');
    const path = new URL(req.url ?? '/', origin).pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      if (path === '/') send(res, 200, 'text/html; charset=utf-8', PAGE_HTML);
      else if (path === '/client.js') send(res, 200, 'text/javascript; charset=utf-8', CLIENT_JS);
      else if (path === '/style.css') send(res, 200, 'text/css; charset=utf-8', STYLE_CSS);
      else if (path === '/events') events(res);
      else if (path === '/favicon.ico') send(res, 204, 'image/x-icon', '');
      else send(res, 404, 'text/plain; charset=utf-8', 'not found');
      return;
    }
    const sameOrigin = req.headers.origin === undefined || req.headers.origin === `http://${host}`;
    const json = (req.headers['content-type'] ?? '').startsWith('application/json');
    if (req.method !== 'POST' || !sameOrigin || !json) throw new RequestError(403, 'not allowed');
    const body = await readJson(req);
    if (path === '/command') await command(body);
    else if (path === '/action') await action(body);
    else throw new RequestError(404, 'not found');
    answer(res, 200, { ok: true });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof RequestError) {
        req.resume();
        answer(res, error.status, { ok: false, error: error.message });
        return;
      }
      log.warn('demo: a request from the page failed', { error });
      answer(res, 500, { ok: false, error: 'the demo could not pass that on to the bot; see its terminal' });
    });
  });
  const bound = await listen(server, port).catch((error: unknown) => {
    // The usual port is taken (another demo?): any free one will do, the address is printed anyway.
    if (port !== 0 && error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      return listen(server, 0);
    }
    throw error;
  });
  origin = `http://127.0.0.1:${bound}`;
  hosts = [`127.0.0.1:${bound}`, `localhost:${bound}`];
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
