/**
 * What a failed Web API call means for delivery. Pure: tested against literal error shapes.
 * - `channel`: this channel can never receive until a person acts (bot removed, channel archived).
 * - `auth`: the token is bad everywhere; retrying may succeed once someone fixes SLACK_BOT_TOKEN and restarts.
 * - `message`: Slack rejects this message itself (too long, bad blocks): retrying the same message cannot help.
 * - `rate_limited`: wait `retryAfterMs`, then the same call will do.
 * - `transient`: network, timeout, 5xx, Slack's own hiccups.
 */
export type SlackFailureKind = 'channel' | 'auth' | 'message' | 'rate_limited' | 'transient';

export interface SlackFailure {
  readonly kind: SlackFailureKind;
  /** Slack's error code, or a short description; never contains the token. */
  readonly error: string;
  readonly retryAfterMs?: number;
}

const CHANNEL_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_access_not_granted',
  'ekm_access_denied',
]);
const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'org_login_required',
]);
const MESSAGE_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_arguments',
  'invalid_arg_name',
  'invalid_array_arg',
  'duplicate_message_not_found',
]);

export function classifySlackError(error: unknown): SlackFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    data?: { error?: unknown };
    retryAfter?: unknown;
    statusCode?: unknown;
    original?: { message?: unknown; code?: unknown; cause?: unknown };
  };
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const seconds = typeof e.retryAfter === 'number' && e.retryAfter > 0 ? e.retryAfter : 1;
      // A hostile or broken Retry-After must not park a channel for hours.
      return { kind: 'rate_limited', error: 'ratelimited', retryAfterMs: Math.min(seconds, 300) * 1000 };
    }
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      if (code === 'ratelimited') return { kind: 'rate_limited', error: code, retryAfterMs: 1000 };
      if (CHANNEL_ERRORS.has(code)) return { kind: 'channel', error: code };
      if (AUTH_ERRORS.has(code)) return { kind: 'auth', error: code };
      if (MESSAGE_ERRORS.has(code)) return { kind: 'message', error: code };
      return { kind: 'transient', error: code };
    }
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      if (status === 429) return { kind: 'rate_limited', error: 'http_429', retryAfterMs: 1000 };
      return { kind: 'transient', error: `http_${status}` };
    }
    case 'slack_webapi_request_error': {
      // @slack/web-api 8 uses fetch, whose error is a bare "fetch failed" with the system code on `cause`.
      const cause = e.original?.cause;
      const causeCode =
        typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
      const code =
        typeof e.original?.code === 'string'
          ? e.original.code
          : typeof causeCode === 'string'
            ? causeCode
            : '';
      const message = typeof e.original?.message === 'string' ? e.original.message : 'request failed';
      return { kind: 'transient', error: `request_error: ${code === '' ? message : code}`.slice(0, 200) };
    }
    default:
      return {
        kind: 'transient',
        error: error instanceof Error ? error.message.slice(0, 200) : 'unknown_error',
      };
  }
}

/** The sentence an operator needs, per kind; logged beside the error code. */
export function failureHint(failure: SlackFailure, channel: string): string {
  switch (failure.kind) {
    case 'channel':
      return `Slack will not accept posts to channel ${channel} (${failure.error}): invite the bot with /invite @halo there, or change the subscription or HALO_ALERT_CHANNEL.`;
    case 'auth':
      return `Slack rejected the bot token (${failure.error}): reinstall the app and set SLACK_BOT_TOKEN.`;
    case 'message':
      return `Slack rejected the message itself (${failure.error}).`;
    case 'rate_limited':
      return `Slack asked the bot to slow down in ${channel}.`;
    case 'transient':
      return `Posting to ${channel} failed for now (${failure.error}); it will be retried.`;
  }
}
