// A stand-in for Slack's Web API (point the WebClient at `apiUrl`) and for `response_url` endpoints.
// Plain node:http on 127.0.0.1, no dependencies.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { createFakeOAuth, type FakeOAuth } from './slack-oauth.ts';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  at: number;
  ok: boolean;
  error?: string;
}

export interface SlackPost {
  channel: string;
  text: string;
  /** The blocks a reader sees: the top-level ones, or those inside the first attachment. */
  blocks: unknown[];
  /** The legacy attachments as sent (a colour bar wraps the blocks in one). */
  attachments?: unknown[];
  /** The first attachment's `color`: the bar beside the message. */
  color?: string;
  ts: string;
  at: number;
  /** The message metadata the post carried, as decoded from the call. */
  metadata?: unknown;
  /** Set for a reply: the parent's ts. */
  threadTs?: string;
  /** A reply also shown in the channel. */
  broadcast?: boolean;
  /** The latest `chat.update` of this message, if any: what readers see now. */
  updated?: { text: string; blocks: unknown[]; color?: string };
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: number;
  /** False when `responseFault` made the post fail. */
  ok: boolean;
}

/** A link preview as Slack shows it under the message: one `chat.unfurl` call's card for one URL. */
export interface SlackUnfurl {
  /** The message's channel and ts, or the composer's `unfurl_id` and `source`. */
  channel?: string;
  ts?: string;
  unfurlId?: string;
  source?: string;
  url: string;
  /** The card: its blocks and colour, as `unfurls[url]` carried them. */
  card: { blocks: unknown[]; color?: string };
  at: number;
}

/** A custom step's (function's) end: `functions.completeSuccess` with outputs or `functions.completeError`. */
export type FunctionCompletion =
  | { executionId: string; ok: true; outputs: Record<string, unknown>; at: number }
  | { executionId: string; ok: false; error: string; at: number };

export interface SlackUser {
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  /** Another organisation's user (Slack Connect) has another team; the default is the bot's own, TEAM_ID. */
  team_id?: string;
  /** Enterprise Grid: `enterprise_user.enterprise_id`. */
  enterprise_user?: { id: string; enterprise_id: string };
  /** To play a broken or hostile answer about someone else. */
  id?: string;
}

/** What a reader of the workspace would notice, as it happens: `npm run demo` shows these on its page. */
export type SlackChange =
  | { readonly kind: 'post'; readonly post: SlackPost }
  | { readonly kind: 'update'; readonly post: SlackPost }
  | { readonly kind: 'ephemeral'; readonly call: SlackCall }
  | { readonly kind: 'response'; readonly response: ResponseUrlPost }
  | { readonly kind: 'unfurl'; readonly unfurl: SlackUnfurl }
  /** A modal opened or redrawn (views.open, views.update, views.push): its view ID and what it shows. */
  | { readonly kind: 'modal'; readonly id: string; readonly view: Record<string, unknown> };

export type SlackFault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'error'; error: string }
  | { kind: 'hang' }
  | { kind: 'reset' };

export interface FakeSlack {
  url: string;
  apiUrl: string;
  /** The default installation's bot token (team {@link TEAM_ID}); `oauth` issues and revokes others. */
  token: string;
  /**
   * Installations: `oauth.v2.access` exchanges a code from `oauth.grant(workspace)` for a new bot token of that
   * team or organisation, `auth.test` answers per token, and `oauth.revoke(token)` makes Slack refuse it.
   */
  oauth: FakeOAuth;
  calls: SlackCall[];
  /** Accepted chat.postMessage calls, but for the first start's "connected" message: see {@link connected}. */
  posts: SlackPost[];
  /**
   * The "connected" messages a first start posts to HALO_ALERT_CHANNEL (their metadata's dedup key ends in
   * `:connected`). Kept apart from `posts` so that a test of alerts counts alerts; first-run.test.ts checks these.
   * The channel's history, threads and chat.update see both.
   */
  connected: SlackPost[];
  updates: SlackCall[];
  /** Successful chat.postEphemeral calls. */
  ephemerals: SlackCall[];
  /** Successful views.publish calls (App Home tabs), `args.view` decoded. */
  views: SlackCall[];
  /** Successful views.open, views.update and views.push calls (modals), `args.view` decoded, oldest first. */
  modals: SlackCall[];
  /** Each modal open now, by view ID: what it shows and its hash (an update with another hash is refused). */
  openModals: Map<string, { view: Record<string, unknown>; hash: string }>;
  responses: ResponseUrlPost[];
  /** Each card of each accepted `chat.unfurl`, oldest first (a redrawn preview is a later entry). */
  unfurls: SlackUnfurl[];
  /** Completions of the function executions {@link functionExecuted} started; a second one is refused. */
  completions: FunctionCompletion[];
  users: Map<string, SlackUser>;
  channelErrors: Map<string, string>;
  rateLimitPerChannelMs: number;
  /**
   * Workspaces Slack is rate limiting now, by bot token, team ID or organisation ID: every Web API call made with
   * such a token is answered HTTP 429 with this `Retry-After` (seconds), for as long as the entry stays.
   */
  rateLimited: Map<string, number>;
  fault: ((call: { method: string; args: Record<string, unknown> }) => SlackFault | undefined) | undefined;
  /** Consulted for each POST to a response_url; `error` answers HTTP 400 with the error as text. */
  responseFault:
    ((post: { id: string; body: Record<string, unknown> }) => SlackFault | undefined) | undefined;
  /**
   * Web API methods answered with another token than the bot's (`apps.connections.open` takes the app-level
   * token): consulted after `fault`, before the bot-token check. The Socket Mode stand-in registers here.
   */
  extraMethods: Map<
    string,
    (call: { args: Record<string, unknown>; token: string | undefined }) => ExtraAnswer
  >;
  /** Told of each accepted post, update, ephemeral message and response_url answer, after it is recorded. */
  onChange: ((change: SlackChange) => void) | undefined;
  responseUrl(id?: string): string;
  /**
   * A `function_executed` event, as Slack sends when a workflow reaches one of the app's custom steps; deliver it
   * with `eventCallbackBody` (HTTP) or the Socket Mode stand-in's `event()`. Its `bot_access_token` (a workflow
   * token) is the one `functions.completeSuccess` and `functions.completeError` accept for its execution.
   */
  functionExecuted(callbackId: string, inputs: Record<string, unknown>): Record<string, unknown>;
  /** The completion of execution `executionId`, once there is one. */
  completion(executionId: string): Promise<FunctionCompletion>;
  postsTo(channel: string): SlackPost[];
  /** The posts of the thread under `parentTs` (the replies, oldest first). */
  replies(channel: string, parentTs: string): SlackPost[];
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export type ExtraAnswer = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

export interface FakeSlackOptions {
  token?: string | undefined;
  rateLimitPerChannelMs?: number | undefined;
}

export const DEFAULT_BOT_TOKEN = 'xoxb-test-token';
export const BOT_USER_ID = 'UBOT';
export const TEAM_ID = 'T1';
export const BOT_ID = 'B1';

// The WebClient form-encodes object arguments as JSON strings; these are decoded back.
const JSON_ARGS = ['blocks', 'attachments', 'metadata', 'view', 'unfurls', 'outputs'];
const TS_BASE_SECONDS = 1_700_000_000;

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

type Outcome = { answer: Answer; ok: true } | { answer: Answer; ok: false; error: string };

function okAnswer(result: Record<string, unknown>): Outcome {
  return { ok: true, answer: { status: 200, body: JSON.stringify({ ok: true, ...result }) } };
}

function errorAnswer(error: string, status = 200, headers?: Record<string, string>): Outcome {
  const answer: Answer = { status, body: JSON.stringify({ ok: false, error }) };
  if (headers) answer.headers = headers;
  return { ok: false, error, answer };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON or form body into arguments; undefined when a JSON body is not an object. */
function parseArgs(contentType: string, text: string): Record<string, unknown> | undefined {
  if (contentType.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  const args: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    args[name] = value;
    if (JSON_ARGS.includes(name)) {
      try {
        args[name] = JSON.parse(value) as unknown;
      } catch {
        // Left as the raw string; chat.postMessage then answers invalid_blocks.
      }
    }
  }
  return args;
}

/** What a reader sees of a message: its top-level blocks, or those of its first attachment, and that colour. */
export function visible(args: Record<string, unknown>): { blocks: unknown[]; color?: string } {
  if (Array.isArray(args.blocks) && args.blocks.length > 0) return { blocks: args.blocks };
  const first: unknown = Array.isArray(args.attachments) ? args.attachments[0] : undefined;
  if (!isRecord(first)) return { blocks: [] };
  const blocks = Array.isArray(first.blocks) ? first.blocks : [];
  return typeof first.color === 'string' ? { blocks, color: first.color } : { blocks };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const hanging = new Set<ServerResponse>();
  const lastAcceptedPost = new Map<string, number>();
  /** Every accepted post, the channels' history: `posts` and `connected` together, oldest first. */
  const accepted = (): SlackPost[] =>
    fake.connected.length === 0 ? fake.posts : [...fake.posts, ...fake.connected].sort((a, b) => a.at - b.at);
  let tsCounter = 100;
  let responseCounter = 0;
  let closed: Promise<void> | undefined;

  const nextTs = (): string => {
    const n = tsCounter++;
    return `${TS_BASE_SECONDS + Math.floor(n / 1_000_000)}.${String(n % 1_000_000).padStart(6, '0')}`;
  };

  const send = (
    res: ServerResponse,
    answer: Answer,
    contentType = 'application/json; charset=utf-8',
  ): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(answer.body),
      ...answer.headers,
    });
    res.end(answer.body);
  };

  /** Applies a fault; returns the error to record, the answer having been sent (or withheld). */
  const applyFault = (
    fault: SlackFault,
    req: IncomingMessage,
    res: ServerResponse,
    asText: boolean,
  ): string => {
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = { ...fault.headers };
        const hasRetryAfter = Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after');
        if (fault.status === 429 && !hasRetryAfter) headers['retry-after'] = '1';
        const error = fault.status === 429 ? 'ratelimited' : `http_${fault.status}`;
        const body = fault.body ?? (asText ? error : JSON.stringify({ ok: false, error }));
        const type = body.trimStart().startsWith('<') ? 'text/html; charset=utf-8' : undefined;
        send(res, { status: fault.status, body, headers }, type);
        return error;
      }
      case 'error':
        if (asText) send(res, { status: 400, body: fault.error }, 'text/plain; charset=utf-8');
        else send(res, { status: 200, body: JSON.stringify({ ok: false, error: fault.error }) });
        return fault.error;
      case 'reset':
        req.socket.destroy();
        return 'reset';
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return 'hang';
    }
  };

  const postMessage = (args: Record<string, unknown>, at: number): Outcome => {
    const channel = nonEmptyString(args.channel);
    if (channel === undefined) return errorAnswer('channel_not_found');
    const { blocks } = args;
    if (blocks !== undefined && !Array.isArray(blocks)) return errorAnswer('invalid_blocks');
    const text = typeof args.text === 'string' ? args.text : '';
    const hasAttachments = Array.isArray(args.attachments) && args.attachments.length > 0;
    if (text === '' && (blocks === undefined || blocks.length === 0) && !hasAttachments) {
      return errorAnswer('no_text');
    }
    const threadTs = nonEmptyString(args.thread_ts);
    if (threadTs !== undefined && !accepted().some((p) => p.channel === channel && p.ts === threadTs)) {
      return errorAnswer('thread_not_found');
    }
    const channelError = fake.channelErrors.get(channel);
    if (channelError !== undefined) return errorAnswer(channelError);
    const now = performance.now();
    const last = lastAcceptedPost.get(channel);
    if (fake.rateLimitPerChannelMs > 0 && last !== undefined && now - last < fake.rateLimitPerChannelMs) {
      const retryAfter = Math.max(1, Math.ceil((fake.rateLimitPerChannelMs - (now - last)) / 1000));
      return errorAnswer('ratelimited', 429, { 'retry-after': String(retryAfter) });
    }
    lastAcceptedPost.set(channel, now);
    const ts = nextTs();
    const shown = visible(args);
    const post: SlackPost = { channel, text, blocks: shown.blocks, ts, at };
    if (shown.color !== undefined) post.color = shown.color;
    if (Array.isArray(args.attachments)) post.attachments = args.attachments;
    if (args.metadata !== undefined) post.metadata = args.metadata;
    if (threadTs !== undefined) {
      post.threadTs = threadTs;
      post.broadcast = args.reply_broadcast === true || args.reply_broadcast === 'true';
    }
    (isConnectedNotice(post.metadata) ? fake.connected : fake.posts).push(post);
    fake.onChange?.({ kind: 'post', post });
    const message = { type: 'message', text, user: BOT_USER_ID, bot_id: BOT_ID, ts, blocks: post.blocks };
    return okAnswer({ channel, ts, message });
  };

  /**
   * The channel's accepted posts, newest first, a page at a time (`cursor` is the offset of the page). The fake's
   * ts are synthetic (fixed base), so `oldest` and `latest` are compared with the time each post was accepted.
   */
  const history = (method: string, args: Record<string, unknown>): Outcome => {
    const channel = nonEmptyString(args.channel);
    if (channel === undefined) return errorAnswer('channel_not_found');
    const channelError = fake.channelErrors.get(channel);
    if (channelError !== undefined) return errorAnswer(channelError);
    const bound = (value: unknown, otherwise: number): number =>
      typeof value === 'string' && value !== '' && Number.isFinite(Number(value))
        ? Number(value) * 1000
        : otherwise;
    const oldest = bound(args.oldest, 0);
    const latest = bound(args.latest, Infinity);
    const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100) || 100));
    const offset = Math.max(0, Number(args.cursor ?? 0) || 0);
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
    // As in Slack: a channel's history holds its top-level messages and broadcast replies; a thread's replies
    // are read with conversations.replies.
    const parent = method === 'conversations.replies' ? nonEmptyString(args.ts) : undefined;
    if (method === 'conversations.replies' && parent === undefined) return errorAnswer('thread_not_found');
    const inThread = (p: SlackPost): boolean =>
      parent === undefined ? p.threadTs === undefined || p.broadcast === true : p.threadTs === parent;
    const inRange = accepted()
      .filter((p) => p.channel === channel && p.at >= oldest && p.at <= latest && inThread(p))
      .reverse();
    const page = inRange.slice(offset, offset + limit).map((p) => ({
      type: 'message',
      ts: p.ts,
      text: p.text,
      user: BOT_USER_ID,
      bot_id: BOT_ID,
      ...(withMetadata && p.metadata !== undefined ? { metadata: p.metadata } : {}),
    }));
    const more = offset + limit < inRange.length;
    return okAnswer({
      messages: page,
      has_more: more,
      response_metadata: { next_cursor: more ? String(offset + limit) : '' },
    });
  };

  /** Workflow tokens by the execution they were issued for; a completion uses its execution's token up. */
  const functionTokens = new Map<string, string>();
  let executionCounter = 0;

  const unfurl = (args: Record<string, unknown>, at: number): Outcome => {
    const channel = nonEmptyString(args.channel);
    const ts = nonEmptyString(args.ts);
    const unfurlId = nonEmptyString(args.unfurl_id);
    const source = nonEmptyString(args.source);
    let where: Pick<SlackUnfurl, 'channel' | 'ts' | 'unfurlId' | 'source'>;
    if (channel !== undefined && ts !== undefined) {
      const channelError = fake.channelErrors.get(channel);
      if (channelError !== undefined) return errorAnswer(channelError);
      where = { channel, ts };
    } else if (unfurlId !== undefined && source !== undefined) where = { unfurlId, source };
    else return errorAnswer('invalid_arguments');
    if (!isRecord(args.unfurls) || Object.keys(args.unfurls).length === 0)
      return errorAnswer('invalid_unfurls');
    const cards: SlackUnfurl[] = [];
    for (const [url, card] of Object.entries(args.unfurls)) {
      if (!isRecord(card) || !Array.isArray(card.blocks)) return errorAnswer('invalid_unfurls');
      const shown: SlackUnfurl['card'] = { blocks: card.blocks };
      if (typeof card.color === 'string') shown.color = card.color;
      cards.push({
        ...where,
        url,
        card: shown,
        at,
      });
    }
    for (const card of cards) {
      fake.unfurls.push(card);
      fake.onChange?.({ kind: 'unfurl', unfurl: card });
    }
    return okAnswer({});
  };

  /** `functions.completeSuccess` / `completeError`, answered for the execution whose workflow token came. */
  const complete = (
    method: string,
    args: Record<string, unknown>,
    token: string | undefined,
    at: number,
  ): Outcome => {
    const executionId = nonEmptyString(args.function_execution_id);
    if (executionId === undefined) return errorAnswer('invalid_arguments');
    if (token === undefined || functionTokens.get(executionId) !== token) return errorAnswer('invalid_auth');
    if (fake.completions.some((c) => c.executionId === executionId))
      return errorAnswer('function_execution_already_completed');
    if (method === 'functions.completeSuccess') {
      if (!isRecord(args.outputs)) return errorAnswer('invalid_arguments');
      fake.completions.push({ executionId, ok: true, outputs: args.outputs, at });
    } else {
      const error = nonEmptyString(args.error);
      if (error === undefined) return errorAnswer('invalid_arguments');
      fake.completions.push({ executionId, ok: false, error, at });
    }
    return okAnswer({});
  };

  let modalCounter = 0;
  let hashCounter = 0;
  const nextModalId = (): string => `VM${++modalCounter}`;
  /** A modal as Slack checks it: a title, at most 100 blocks, and a new hash for each version. */
  const showModal = (id: string, view: unknown): Outcome => {
    if (!isRecord(view) || view.type !== 'modal' || !Array.isArray(view.blocks) || !isRecord(view.title))
      return errorAnswer('invalid_arguments');
    if (view.blocks.length > 100) return errorAnswer('invalid_arguments');
    const hash = `${Date.now()}.h${++hashCounter}`;
    fake.openModals.set(id, { view, hash });
    fake.onChange?.({ kind: 'modal', id, view });
    return okAnswer({ view: { ...view, id, hash, state: { values: {} } } });
  };

  const callMethod = (method: string, args: Record<string, unknown>, at: number, token: string): Outcome => {
    switch (method) {
      case 'auth.test':
        return okAnswer(fake.oauth.authTest(token));
      case 'chat.postMessage':
        return postMessage(args, at);
      case 'chat.unfurl':
        return unfurl(args, at);
      case 'conversations.history':
      case 'conversations.replies':
        return history(method, args);
      case 'chat.update': {
        const channel = nonEmptyString(args.channel);
        const ts = nonEmptyString(args.ts);
        if (channel === undefined) return errorAnswer('channel_not_found');
        if (ts === undefined) return errorAnswer('message_not_found');
        const text = typeof args.text === 'string' ? args.text : '';
        const target = accepted().find((p) => p.channel === channel && p.ts === ts);
        if (target === undefined) return errorAnswer('message_not_found');
        const shown = visible(args);
        target.updated = { text, blocks: shown.blocks };
        if (shown.color !== undefined) target.updated.color = shown.color;
        fake.onChange?.({ kind: 'update', post: target });
        return okAnswer({ channel, ts, text, message: { text, blocks: shown.blocks } });
      }
      case 'views.publish': {
        if (nonEmptyString(args.user_id) === undefined) return errorAnswer('invalid_arguments');
        const view = args.view;
        if (!isRecord(view) || view.type !== 'home' || !Array.isArray(view.blocks))
          return errorAnswer('invalid_arguments');
        if (view.blocks.length > 100) return errorAnswer('invalid_arguments');
        return okAnswer({ view: { id: 'V1', type: 'home', blocks: view.blocks } });
      }
      case 'views.open':
      case 'views.push': {
        // A trigger ID is Slack's, good for 3 s and once; the stand-in asks only that there be one.
        if (nonEmptyString(args.trigger_id) === undefined) return errorAnswer('invalid_trigger_id');
        return showModal(nextModalId(), args.view);
      }
      case 'views.update': {
        const id = nonEmptyString(args.view_id);
        const shown = id === undefined ? undefined : fake.openModals.get(id);
        if (id === undefined || shown === undefined) return errorAnswer('not_found');
        if (args.hash !== undefined && args.hash !== shown.hash) return errorAnswer('hash_conflict');
        return showModal(id, args.view);
      }
      case 'chat.postEphemeral': {
        if (nonEmptyString(args.channel) === undefined) return errorAnswer('channel_not_found');
        if (nonEmptyString(args.user) === undefined) return errorAnswer('user_not_found');
        return okAnswer({ message_ts: nextTs() });
      }
      case 'users.info': {
        const id = nonEmptyString(args.user);
        const user = id === undefined ? undefined : fake.users.get(id);
        if (id === undefined || user === undefined) return errorAnswer('user_not_found');
        return okAnswer({
          user: {
            id,
            team_id: TEAM_ID,
            name: id.toLowerCase(),
            deleted: false,
            is_bot: false,
            is_admin: false,
            is_owner: false,
            is_primary_owner: false,
            ...user,
          },
        });
      }
      default:
        return errorAnswer('unknown_method');
    }
  };

  /** The Retry-After of a call with `token`, when its token, team or organisation is rate limited. */
  const rateLimitOf = (token: string | undefined): number | undefined => {
    if (token === undefined || fake.rateLimited.size === 0) return undefined;
    const install = fake.oauth.installs.get(token);
    for (const key of [token, install?.teamId, install?.enterpriseId]) {
      const seconds = key === undefined ? undefined : fake.rateLimited.get(key);
      if (seconds !== undefined) return seconds;
    }
    return undefined;
  };

  const onApiCall = async (method: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const text = await readBody(req);
    const args = parseArgs(req.headers['content-type'] ?? '', text);
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length) : undefined;
    const token = bearer ?? (typeof args?.token === 'string' ? args.token : undefined);
    const call: SlackCall = { method, args: args ?? {}, token, at, ok: false };
    fake.calls.push(call);
    const fault = fake.fault?.({ method, args: call.args });
    if (fault !== undefined) {
      call.error = applyFault(fault, req, res, false);
      return;
    }
    let outcome: Outcome;
    const extra = fake.extraMethods.get(method);
    if (args === undefined) outcome = errorAnswer('invalid_json');
    else if (extra !== undefined) {
      const answer = extra({ args, token });
      outcome = answer.ok ? okAnswer(answer.result) : errorAnswer(answer.error);
    } else if (method === 'functions.completeSuccess' || method === 'functions.completeError') {
      outcome = complete(method, args, token, at);
    } else if (method === 'oauth.v2.access') {
      // Authenticated by the app's client ID and secret, not a token.
      const answer = fake.oauth.access(args);
      outcome = answer.ok ? okAnswer(answer.result) : errorAnswer(answer.error);
    } else {
      const refusal = fake.oauth.refusal(token);
      const retryAfter = rateLimitOf(token);
      outcome =
        refusal !== undefined || token === undefined
          ? errorAnswer(refusal ?? 'not_authed')
          : retryAfter !== undefined
            ? errorAnswer('ratelimited', 429, { 'retry-after': String(retryAfter) })
            : callMethod(method, args, at, token);
    }
    call.ok = outcome.ok;
    if (!outcome.ok) call.error = outcome.error;
    else if (method === 'chat.update') fake.updates.push(call);
    else if (method === 'chat.postEphemeral') {
      fake.ephemerals.push(call);
      fake.onChange?.({ kind: 'ephemeral', call });
    } else if (method === 'views.publish') fake.views.push(call);
    else if (method.startsWith('views.')) fake.modals.push(call);
    send(res, outcome.answer);
  };

  const onResponseUrl = async (id: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    // The demo runs this stand-in on the user's machine, where any web page can POST to 127.0.0.1: a form or a
    // `fetch` of another site may send text/plain without a preflight, and would put its own message (a phishing
    // link, a Delete button labelled "Acknowledge") in the demo's channel. Slack's callers (the bot's `respond`)
    // send JSON and no Origin; the demo page's own checks (demo/server.ts) are applied here too.
    const json = (req.headers['content-type'] ?? '').startsWith('application/json');
    if (req.headers.origin !== undefined || !json) {
      req.resume();
      send(
        res,
        { status: 403, body: 'a response_url takes JSON, and no request from a web page' },
        'text/plain',
      );
      return;
    }
    const text = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      body = isRecord(parsed) ? parsed : { raw: text };
    } catch {
      body = { raw: text };
    }
    const post: ResponseUrlPost = { id, body, at, ok: false };
    fake.responses.push(post);
    const fault = fake.responseFault?.({ id, body });
    if (fault !== undefined) {
      applyFault(fault, req, res, true);
      return;
    }
    post.ok = true;
    fake.onChange?.({ kind: 'response', response: post });
    send(res, { status: 200, body: 'ok' }, 'text/plain; charset=utf-8');
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && pathname.startsWith('/api/')) {
      await onApiCall(decodeURIComponent(pathname.slice('/api/'.length)), req, res);
    } else if (req.method === 'POST' && pathname.startsWith('/response/')) {
      await onResponseUrl(decodeURIComponent(pathname.slice('/response/'.length)), req, res);
    } else {
      req.resume();
      send(res, { status: 404, body: JSON.stringify({ ok: false, error: 'not_found' }) });
    }
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      send(res, {
        status: 500,
        body: JSON.stringify({ ok: false, error: `fake_slack_failed: ${String(error)}` }),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const token = options.token ?? DEFAULT_BOT_TOKEN;
  const fake: FakeSlack = {
    url,
    apiUrl: `${url}/api/`,
    token,
    oauth: createFakeOAuth({ token, teamId: TEAM_ID, botUserId: BOT_USER_ID, botId: BOT_ID }),
    calls: [],
    posts: [],
    connected: [],
    updates: [],
    ephemerals: [],
    views: [],
    modals: [],
    openModals: new Map(),
    responses: [],
    unfurls: [],
    completions: [],
    users: new Map(),
    channelErrors: new Map(),
    rateLimitPerChannelMs: options.rateLimitPerChannelMs ?? 0,
    rateLimited: new Map(),
    fault: undefined,
    responseFault: undefined,
    extraMethods: new Map(),
    onChange: undefined,
    responseUrl(id) {
      responseCounter += 1;
      return `${url}/response/${encodeURIComponent(id ?? `r${responseCounter}`)}`;
    },
    functionExecuted(callbackId, inputs) {
      executionCounter += 1;
      const executionId = `Fx${String(executionCounter).padStart(6, '0')}`;
      const token = `xwfp-fake-workflow-token-${executionCounter}`;
      functionTokens.set(executionId, token);
      return {
        type: 'function_executed',
        function: {
          id: `Fn${callbackId.length}${executionCounter}`,
          callback_id: callbackId,
          title: callbackId,
          type: 'app',
          input_parameters: [],
          output_parameters: [],
          app_id: 'A1',
          date_created: 1_700_000_000,
          date_updated: 1_700_000_000,
          date_deleted: 0,
        },
        inputs,
        function_execution_id: executionId,
        workflow_execution_id: `Wx${String(executionCounter).padStart(6, '0')}`,
        bot_access_token: token,
      };
    },
    completion(executionId) {
      return fake.waitFor(() => fake.completions.find((c) => c.executionId === executionId));
    },
    postsTo(channel) {
      return fake.posts.filter((p) => p.channel === channel);
    },
    replies(channel, parentTs) {
      return fake.posts.filter((p) => p.channel === channel && p.threadTs === parentTs);
    },
    waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
      const deadline = performance.now() + timeoutMs;
      return new Promise<T>((resolve, reject) => {
        let lastError: unknown;
        const poll = (): void => {
          try {
            const value = predicate();
            if (value !== undefined && value !== false) {
              resolve(value);
              return;
            }
            lastError = undefined;
          } catch (error) {
            lastError = error;
          }
          if (performance.now() >= deadline) {
            const recent = fake.calls
              .slice(-5)
              .map((c) => `${c.method}${c.ok ? '' : ` (${c.error ?? 'failed'})`}`)
              .join(', ');
            const thrown = lastError === undefined ? '' : `; the predicate last threw: ${inspect(lastError)}`;
            reject(
              new Error(
                `FakeSlack.waitFor timed out after ${timeoutMs} ms${thrown}. Seen ${fake.calls.length} calls, ` +
                  `${fake.posts.length} posts, ${fake.responses.length} response_url posts; last calls: ${recent || 'none'}`,
              ),
            );
            return;
          }
          setTimeout(poll, 20);
        };
        poll();
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return fake;
}

/** The bot marks each outbox post with its dedup key; the first start's message has `CHANNEL:connected`. */
export function isConnectedNotice(metadata: unknown): boolean {
  if (!isRecord(metadata) || !isRecord(metadata.event_payload)) return false;
  const key = metadata.event_payload.key;
  return typeof key === 'string' && key.endsWith(':connected');
}
