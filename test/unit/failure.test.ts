import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifySlackError,
  failureFix,
  failureHint,
  type SlackFailure,
} from '../../src/slack/blocks/slack-errors.ts';

/** What @slack/web-api 8 throws, written out field by field (see its dist/errors.js). */
function platformError(error: string): unknown {
  return Object.assign(new Error(`An API error occurred: ${error}`), {
    name: 'WebAPIPlatformError',
    code: 'slack_webapi_platform_error',
    data: { ok: false, error, response_metadata: {} },
  });
}

function rateLimitedError(retryAfter: number): unknown {
  return Object.assign(
    new Error(`A rate-limit has been reached, you may retry this request in ${retryAfter} seconds`),
    {
      name: 'WebAPIRateLimitedError',
      code: 'slack_webapi_rate_limited_error',
      retryAfter,
    },
  );
}

function httpError(statusCode: number): unknown {
  return Object.assign(new Error(`An HTTP protocol error occurred: statusCode = ${statusCode}`), {
    name: 'WebAPIHTTPError',
    code: 'slack_webapi_http_error',
    statusCode,
    statusMessage: 'Bad Gateway',
    headers: { 'content-type': 'text/html' },
    body: '<html>Bad Gateway</html>',
  });
}

function requestError(original: Error): unknown {
  return Object.assign(new Error(`A request error occurred: ${original.message}`, { cause: original }), {
    name: 'WebAPIRequestError',
    code: 'slack_webapi_request_error',
    original,
  });
}

describe('classifySlackError: platform errors', () => {
  it.each([
    ['channel_not_found', 'channel'],
    ['not_in_channel', 'channel'],
    ['is_archived', 'channel'],
    ['restricted_action', 'channel'],
    ['restricted_action_read_only_channel', 'channel'],
    ['team_access_not_granted', 'channel'],
    ['ekm_access_denied', 'channel'],
    ['invalid_auth', 'revoked'],
    ['not_authed', 'revoked'],
    ['account_inactive', 'revoked'],
    ['token_revoked', 'revoked'],
    ['token_expired', 'revoked'],
    ['missing_scope', 'auth'],
    ['not_allowed_token_type', 'auth'],
    ['invalid_blocks', 'message'],
    ['invalid_blocks_format', 'message'],
    ['msg_too_long', 'message'],
    ['no_text', 'message'],
    ['too_many_attachments', 'message'],
    ['invalid_arguments', 'message'],
    ['internal_error', 'transient'],
    ['fatal_error', 'transient'],
    ['service_unavailable', 'transient'],
    ['request_timeout', 'transient'],
    ['some_future_error', 'transient'],
  ] as const)('%s is %s', (error, kind) => {
    expect(classifySlackError(platformError(error))).toEqual({ kind, error });
  });

  it('treats a platform "ratelimited" as a one-second pause', () => {
    expect(classifySlackError(platformError('ratelimited'))).toEqual({
      kind: 'rate_limited',
      error: 'ratelimited',
      retryAfterMs: 1000,
    });
  });

  it('names a platform error without a code unknown_error', () => {
    const error = Object.assign(new Error('An API error occurred: undefined'), {
      code: 'slack_webapi_platform_error',
      data: { ok: false },
    });
    expect(classifySlackError(error)).toEqual({ kind: 'transient', error: 'unknown_error' });
  });
});

describe('classifySlackError: other errors', () => {
  it('takes Retry-After from a rate-limited error, at least 1 s and at most 5 min', () => {
    expect(classifySlackError(rateLimitedError(7))).toEqual({
      kind: 'rate_limited',
      error: 'ratelimited',
      retryAfterMs: 7000,
    });
    expect(classifySlackError(rateLimitedError(0))).toMatchObject({ retryAfterMs: 1000 });
    expect(classifySlackError(rateLimitedError(-3))).toMatchObject({ retryAfterMs: 1000 });
    expect(classifySlackError(rateLimitedError(86_400))).toMatchObject({ retryAfterMs: 300_000 });
  });

  it('treats HTTP errors as transient, 429 as a pause', () => {
    expect(classifySlackError(httpError(502))).toEqual({ kind: 'transient', error: 'http_502' });
    expect(classifySlackError(httpError(429))).toEqual({
      kind: 'rate_limited',
      error: 'http_429',
      retryAfterMs: 1000,
    });
  });

  it('names the system error of a failed request, which Node fetch puts on `cause`', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(classifySlackError(requestError(refused))).toEqual({
      kind: 'transient',
      error: 'request_error: ECONNREFUSED',
      detail: 'fetch failed',
    });
    const axiosStyle = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifySlackError(requestError(axiosStyle))).toEqual({
      kind: 'transient',
      error: 'request_error: ECONNRESET',
      detail: 'socket hang up',
    });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifySlackError(requestError(timeout))).toEqual({
      kind: 'transient',
      error: 'request_error: TimeoutError',
      detail: 'The operation was aborted due to timeout',
    });
  });

  it('keeps free text out of the error code, for the logs only: a request error without a code', () => {
    const text = `proxy said: <html>${'x'.repeat(500)}</html>`;
    expect(classifySlackError(requestError(new Error(text)))).toEqual({
      kind: 'transient',
      error: 'request_error',
      detail: text,
    });
    const odd = Object.assign(new Error('weird'), { code: 'not a code: xoxb-123' });
    expect(classifySlackError(requestError(odd))).toEqual({
      kind: 'transient',
      error: 'request_error',
      detail: 'weird',
    });
  });

  it('keeps free text out of the error code: a platform "error" that is not one of Slack\'s words', () => {
    for (const text of ['not_authed (token xoxb-1-2-abc)', 'Invalid_Auth', '<b>oops</b>', 'x'.repeat(81)]) {
      expect(classifySlackError(platformError(text))).toEqual({
        kind: 'transient',
        error: 'unknown_error',
        detail: text,
      });
    }
  });

  it('treats anything else as transient, its message for the logs only', () => {
    expect(classifySlackError(new Error('Retry header did not contain a valid timeout'))).toEqual({
      kind: 'transient',
      error: 'unknown_error',
      detail: 'Error: Retry header did not contain a valid timeout',
    });
    for (const thrown of [undefined, null, 'oops', 42, {}]) {
      expect(classifySlackError(thrown)).toEqual({ kind: 'transient', error: 'unknown_error' });
    }
  });

  it("classifies @slack/web-api's own error classes the same way", () => {
    expect(classifySlackError(new webApi.WebAPIPlatformError({ ok: false, error: 'is_archived' }))).toEqual({
      kind: 'channel',
      error: 'is_archived',
    });
    expect(classifySlackError(new webApi.WebAPIRateLimitedError(3))).toEqual({
      kind: 'rate_limited',
      error: 'ratelimited',
      retryAfterMs: 3000,
    });
    expect(classifySlackError(new webApi.WebAPIHTTPError(503, 'Service Unavailable', {}, ''))).toEqual({
      kind: 'transient',
      error: 'http_503',
    });
  });
});

describe('classifySlackError: what a real WebClient throws', () => {
  let server: Server;
  let url: string;
  let answer: (res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function post(client?: webApi.WebClient): Promise<SlackFailure> {
    const web =
      client ??
      new webApi.WebClient('xoxb-test', {
        slackApiUrl: url,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: webApi.LogLevel.ERROR,
      });
    try {
      await web.chat.postMessage({ channel: 'C0123ABCD', text: 'hi' });
    } catch (error) {
      return classifySlackError(error);
    }
    throw new Error('expected the post to fail');
  }

  it('platform error, 429 with Retry-After, 5xx, and a refused connection', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'not_in_channel' }));
    };
    expect(await post()).toEqual({ kind: 'channel', error: 'not_in_channel' });

    answer = (res) => {
      res.writeHead(429, { 'retry-after': '12', 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
    };
    expect(await post()).toEqual({ kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 12_000 });

    answer = (res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>down</html>');
    };
    expect(await post()).toEqual({ kind: 'transient', error: 'http_503' });

    // A port that was just free: fetch refuses well-known ports such as 9 before connecting.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new webApi.WebClient('xoxb-test', {
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    expect(await post(refused)).toEqual({
      kind: 'transient',
      error: 'request_error: ECONNREFUSED',
      detail: 'fetch failed',
    });
  });
});

describe('failureHint', () => {
  it('tells the operator what to do, per kind', () => {
    const hint = (failure: SlackFailure) => failureHint(failure, 'C0123ABCD');
    expect(hint({ kind: 'channel', error: 'not_in_channel' })).toBe(
      'Slack will not accept posts to channel C0123ABCD (not_in_channel): invite the bot: /invite @halo in that channel (or remove its subscription, or change HALO_ALERT_CHANNEL).',
    );
    // Not an invitation first: the ID is the likelier mistake, and a channel that does not exist cannot invite.
    expect(hint({ kind: 'channel', error: 'channel_not_found' })).toBe(
      'Slack will not accept posts to channel C0123ABCD (channel_not_found): check the channel ID (channel details, at the bottom) in HALO_ALERT_CHANNEL or the subscription; a private channel must add the bot first (/invite @halo there).',
    );
    expect(hint({ kind: 'auth', error: 'missing_scope' })).toBe(
      'Slack rejected the bot token (missing_scope): reinstall the app and set SLACK_BOT_TOKEN.',
    );
    // Issue 19: a token that no longer works holds the workspace's alerts, which a reinstall posts.
    expect(hint({ kind: 'revoked', error: 'token_revoked' })).toBe(
      "Slack no longer accepts the workspace's bot token (token_revoked): its alerts wait in the outbox until the app is installed again (one workspace: set SLACK_BOT_TOKEN to the new token and restart).",
    );
    expect(failureFix('invalid_auth')).toBe(
      'install the app again (Add to Slack; one workspace: set SLACK_BOT_TOKEN to its new bot token and restart): the alerts wait until then',
    );
    expect(failureFix('missing_scope')).toBe(
      'reinstall the app and set SLACK_BOT_TOKEN to its new bot token',
    );
    expect(hint({ kind: 'message', error: 'invalid_blocks' })).toBe(
      'Slack rejected the message itself (invalid_blocks).',
    );
    expect(hint({ kind: 'rate_limited', error: 'ratelimited', retryAfterMs: 1000 })).toBe(
      'Slack asked the bot to slow down in C0123ABCD.',
    );
    expect(hint({ kind: 'transient', error: 'http_502' })).toBe(
      'Posting to C0123ABCD failed for now (http_502); it will be retried.',
    );
  });

  it('ends with the free text that came with the failure, for the log', () => {
    expect(
      failureHint({ kind: 'transient', error: 'unknown_error', detail: 'not_authed (token x)' }, 'C1'),
    ).toBe('Posting to C1 failed for now (unknown_error); it will be retried. Detail: not_authed (token x)');
  });
});
