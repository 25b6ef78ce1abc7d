/**
 * What a failed Web API call means for delivery, as the pipeline's port names it (see `pipeline/chat-port.ts`).
 * Pure: tested against literal error shapes.
 */
import type { ChatFailure } from '../../pipeline/chat-port.ts';

export type SlackFailure = ChatFailure;

/** Slack's error codes are lower-case words joined by `_`; anything else came from somewhere else. */
const SLACK_CODE = /^[a-z][a-z0-9_]{0,79}$/;
/** A system error code (`ECONNRESET`, `UND_ERR_SOCKET`), or the DOM name of a timeout or abort. */
const SYSTEM_CODE = /^(?:[A-Z][A-Z0-9_]{1,39}|TimeoutError|AbortError)$/;

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
/** The token itself is dead: uninstalled, revoked, expired, or its workspace deactivated. */
const REVOKED_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  // Ours: the workspace has no installation (it was uninstalled) and so no token to post with.
  'not_installed',
]);
const AUTH_ERRORS = new Set([
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'org_login_required',
]);
const THREAD_ERRORS = new Set(['thread_not_found', 'cannot_reply_to_message']);
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
  // chat.update: the message was deleted, or the workspace no longer lets it be edited.
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
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
      const raw = e.data?.error;
      if (typeof raw === 'string' && !SLACK_CODE.test(raw))
        return { kind: 'transient', error: 'unknown_error', detail: raw };
      const code = typeof raw === 'string' ? raw : 'unknown_error';
      if (code === 'ratelimited') return { kind: 'rate_limited', error: code, retryAfterMs: 1000 };
      if (CHANNEL_ERRORS.has(code)) return { kind: 'channel', error: code };
      if (REVOKED_ERRORS.has(code)) return { kind: 'revoked', error: code };
      if (AUTH_ERRORS.has(code)) return { kind: 'auth', error: code };
      if (MESSAGE_ERRORS.has(code)) return { kind: 'message', error: code };
      if (THREAD_ERRORS.has(code)) return { kind: 'thread', error: code };
      return { kind: 'transient', error: code };
    }
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      if (status === 429) return { kind: 'rate_limited', error: 'http_429', retryAfterMs: 1000 };
      return { kind: 'transient', error: `http_${status}` };
    }
    case 'slack_webapi_request_error': {
      // @slack/web-api 8 uses fetch, whose error is a bare "fetch failed" with the system code on `cause`.
      const original = e.original as { code?: unknown; name?: unknown; cause?: unknown } | undefined;
      const cause = original?.cause as { code?: unknown } | undefined;
      const code = [original?.code, typeof cause === 'object' ? cause.code : undefined, original?.name].find(
        (c): c is string => typeof c === 'string' && SYSTEM_CODE.test(c),
      );
      const message = typeof e.original?.message === 'string' ? e.original.message : undefined;
      return {
        kind: 'transient',
        error: code === undefined ? 'request_error' : `request_error: ${code}`,
        ...(message === undefined ? {} : { detail: message }),
      };
    }
    default:
      return {
        kind: 'transient',
        error: 'unknown_error',
        ...(error instanceof Error ? { detail: `${error.name}: ${error.message}` } : {}),
      };
  }
}

/**
 * The sentence an operator needs, per kind, for the log (which redacts and escapes it); it ends with whatever
 * free text came with the failure.
 */
export function failureHint(failure: SlackFailure, channel: string): string {
  const hint = hintFor(failure, channel);
  return failure.detail === undefined ? hint : `${hint} Detail: ${failure.detail}`;
}

function hintFor(failure: SlackFailure, channel: string): string {
  switch (failure.kind) {
    case 'channel':
      return `Slack will not accept posts to channel ${channel} (${failure.error}): ${failureFix(failure.error)}.`;
    case 'auth':
      return `Slack rejected the bot token (${failure.error}): reinstall the app and set SLACK_BOT_TOKEN.`;
    case 'revoked':
      return `Slack no longer accepts the workspace's bot token (${failure.error}): its alerts wait in the outbox until the app is installed again (one workspace: set SLACK_BOT_TOKEN to the new token and restart).`;
    case 'message':
      return `Slack rejected the message itself (${failure.error}).`;
    case 'thread':
      return `The scan thread in ${channel} is gone (${failure.error}); the alert is posted in the channel instead.`;
    case 'rate_limited':
      return `Slack asked the bot to slow down in ${channel}.`;
    case 'transient':
      return `Posting to ${channel} failed for now (${failure.error}); it will be retried.`;
  }
}

/** What a person does about a post Slack refused for good, by its error code: shown in `/halo status`. */
export function failureFix(error: string): string {
  if (error === 'not_in_channel')
    return 'invite the bot: /invite @halo in that channel (or remove its subscription, or change HALO_ALERT_CHANNEL)';
  // Slack knows no channel by that ID that the bot may see: a mistyped or deleted ID, another workspace's, or a
  // private channel the bot was never added to (Slack does not tell those apart).
  if (error === 'channel_not_found')
    return 'check the channel ID (channel details, at the bottom) in HALO_ALERT_CHANNEL or the subscription; a private channel must add the bot first (/invite @halo there)';
  if (error === 'is_archived')
    return 'unarchive the channel, or remove its subscriptions with /halo unsubscribe all there';
  if (CHANNEL_ERRORS.has(error))
    return 'let the bot post in that channel (its posting permissions), or remove its subscriptions';
  if (REVOKED_ERRORS.has(error))
    return 'install the app again (Add to Slack; one workspace: set SLACK_BOT_TOKEN to its new bot token and restart): the alerts wait until then';
  if (AUTH_ERRORS.has(error)) return 'reinstall the app and set SLACK_BOT_TOKEN to its new bot token';
  if (MESSAGE_ERRORS.has(error)) return 'Slack refused the alert itself; the bot’s log has the details';
  return 'check the bot’s log; alerts are retried while Slack answers with this';
}
