// Builds and signs requests to the bot exactly as Slack sends them (slash commands and button clicks).
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`. */
export function signRequest(
  signingSecret: string,
  body: string,
  /** A string is sent (and signed) as it is: a test can stamp `Infinity` or `1e400`. */
  timestampSec: number | string,
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSec) };
}

/** A slash-command body, form-encoded with Slack's field order; `command` defaults to `/halo`. */
export function slashCommandBody(fields: {
  text: string;
  user_id?: string;
  channel_id?: string;
  response_url: string;
  command?: string;
  team_id?: string;
  /** Enterprise Grid: the organisation, and whether the app is installed org-wide. */
  enterprise_id?: string;
  is_enterprise_install?: boolean;
  user_name?: string;
  trigger_id?: string;
}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fields.team_id ?? 'T1',
    ...(fields.enterprise_id === undefined ? {} : { enterprise_id: fields.enterprise_id }),
    team_domain: 'fake-team',
    channel_id: fields.channel_id ?? 'C123',
    channel_name: 'halo-alerts',
    user_id: fields.user_id ?? 'U123',
    user_name: fields.user_name ?? 'alice',
    command: fields.command ?? '/halo',
    text: fields.text,
    api_app_id: 'A1',
    is_enterprise_install: String(fields.is_enterprise_install ?? false),
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? '1234567890.1234567890.abcdef0123456789abcdef0123456789',
  }).toString();
}

/** An interactivity body: Slack sends the payload JSON as one form field. */
export function blockActionBody(payload: Record<string, unknown>): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

function findButton(blocks: unknown[], actionId: string): { blockId: string; text: unknown } | undefined {
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) continue;
    const { block_id: blockId, elements, accessory } = block as Record<string, unknown>;
    const candidates = [...(Array.isArray(elements) ? (elements as unknown[]) : []), accessory];
    for (const element of candidates) {
      if (typeof element !== 'object' || element === null) continue;
      const { action_id: id, text } = element as Record<string, unknown>;
      if (id === actionId) return { blockId: typeof blockId === 'string' ? blockId : 'actions', text };
    }
  }
  return undefined;
}

/** A realistic `block_actions` payload for a click on a button. */
export function buttonClickPayload(opts: {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  responseUrl: string;
  messageTs?: string;
  messageBlocks?: unknown[];
  /**
   * The message's colour bar, if it was sent with one: Slack then hands the message back as it keeps it, the
   * blocks inside one legacy attachment whose `color` has no `#`.
   */
  messageColor?: string;
  isEphemeral?: boolean;
  /** A select menu's picked option: the action is then a `static_select` with no `value`. */
  selected?: { text: string; value: string };
}): Record<string, unknown> {
  const messageTs = opts.messageTs ?? '1700000000.000100';
  const isEphemeral = opts.isEphemeral ?? false;
  const blocks = opts.messageBlocks ?? [];
  const button = findButton(blocks, opts.actionId);
  const actionTs = (Date.now() / 1000).toFixed(6);
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: opts.userId, username: 'alice', name: 'alice', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: opts.channelId,
      is_ephemeral: isEphemeral,
    },
    trigger_id: '1234567890.1234567890.abcdef0123456789abcdef0123456789',
    team: { id: 'T1', domain: 'fake-team' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: opts.channelId, name: 'halo-alerts' },
    state: { values: {} },
    response_url: opts.responseUrl,
    actions: [
      opts.selected === undefined
        ? {
            type: 'button',
            action_id: opts.actionId,
            block_id: button?.blockId ?? 'actions',
            text: button?.text ?? { type: 'plain_text', text: 'Button', emoji: true },
            value: opts.value,
            action_ts: actionTs,
          }
        : {
            type: 'static_select',
            action_id: opts.actionId,
            block_id: button?.blockId ?? 'actions',
            selected_option: {
              text: { type: 'plain_text', text: opts.selected.text },
              value: opts.selected.value,
            },
            action_ts: actionTs,
          },
    ],
  };
  if (!isEphemeral) {
    // Slack puts this fallback text on messages that were sent with blocks only.
    payload.message = {
      type: 'message',
      user: 'UBOT',
      bot_id: 'B1',
      ts: messageTs,
      text: "This content can't be displayed.",
      ...(opts.messageColor === undefined
        ? { blocks }
        : {
            attachments: [
              {
                id: 1,
                color: opts.messageColor.replace(/^#/, ''),
                blocks,
                fallback: '[no preview available]',
              },
            ],
          }),
    };
  }
  return payload;
}

/**
 * POSTs a body to `${baseUrl}/slack/events`, signed as Slack would. The content type defaults to exactly
 * `application/x-www-form-urlencoded`: Bolt compares it exactly, so `; charset=utf-8` would be rejected.
 */
export async function postToBot(
  baseUrl: string,
  body: string,
  options: {
    signingSecret: string;
    timestampSec?: number | string;
    contentType?: string;
    signature?: string;
    omitSignature?: boolean;
  },
): Promise<{ status: number; text: string; json: unknown; ms: number }> {
  const timestampSec = options.timestampSec ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
  };
  if (options.omitSignature !== true) {
    const signed = signRequest(options.signingSecret, body, timestampSec);
    headers['x-slack-request-timestamp'] = signed['x-slack-request-timestamp'];
    headers['x-slack-signature'] = options.signature ?? signed['x-slack-signature'];
  }
  const started = performance.now();
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}/slack/events`, {
    method: 'POST',
    headers,
    body,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, ms };
}

/** An Events API `event_callback` body, JSON as Slack sends it; send with content type `application/json`. */
export function eventCallbackBody(
  event: Record<string, unknown>,
  /** The installation it is for (default: team T1's); an org-wide install names its organisation. */
  to: { teamId: string; enterpriseId?: string; isEnterpriseInstall?: boolean } = { teamId: 'T1' },
): string {
  const enterprise = to.enterpriseId === undefined ? {} : { enterprise_id: to.enterpriseId };
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: to.teamId,
    ...enterprise,
    api_app_id: 'A1',
    event: { event_ts: (Date.now() / 1000).toFixed(6), ...event },
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        ...enterprise,
        team_id: to.isEnterpriseInstall === true ? null : to.teamId,
        user_id: 'UBOT',
        is_bot: true,
        is_enterprise_install: to.isEnterpriseInstall === true,
      },
    ],
    is_ext_shared_channel: false,
  });
}

/** An `app_home_opened` event for `userId`'s Home tab. */
export function appHomeOpenedBody(userId: string, tab: 'home' | 'messages' = 'home'): string {
  return eventCallbackBody({ type: 'app_home_opened', user: userId, channel: 'DHOME', tab });
}

/** A `link_shared` event: `userId` posted `urls` in `channel` (message `ts`), as Slack sends it for the app's domains. */
export function linkSharedEvent(opts: {
  urls: readonly string[];
  channel: string;
  ts: string;
  userId: string;
}): Record<string, unknown> {
  return {
    type: 'link_shared',
    channel: opts.channel,
    is_bot_user_member: true,
    user: opts.userId,
    message_ts: opts.ts,
    unfurl_id: `C-${opts.ts}`,
    source: 'conversations_history',
    links: opts.urls.map((url) => ({ domain: new URL(url).hostname, url })),
  };
}

/** A click on a button of a link preview: Slack names the message the preview sits in, not a message of the app. */
export function unfurlClickPayload(opts: {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
}): Record<string, unknown> {
  const payload = buttonClickPayload(opts);
  payload.container = {
    type: 'message_attachment',
    message_ts: opts.messageTs,
    attachment_id: 1,
    channel_id: opts.channelId,
    is_ephemeral: false,
    is_app_unfurl: true,
  };
  // The message is the author's, with the preview as an attachment; the app sees it, but it is not the bot's.
  payload.message = { type: 'message', user: opts.userId, ts: opts.messageTs, text: 'see this' };
  return payload;
}

/** A modal as Slack hands it back in an interaction: what was shown, with its ID, hash and the fields' state. */
export interface ModalState {
  readonly id: string;
  readonly hash: string;
  readonly view: Record<string, unknown>;
  /** `values[block_id][action_id]`, as Slack reports each input's current value. */
  readonly values: Record<string, Record<string, Record<string, unknown>>>;
}

function viewPayload(modal: ModalState): Record<string, unknown> {
  return {
    ...modal.view,
    id: modal.id,
    hash: modal.hash,
    team_id: 'T1',
    app_id: 'A1',
    bot_id: 'B1',
    state: { values: modal.values },
  };
}

const user = (userId: string) => ({ id: userId, username: 'alice', name: 'alice', team_id: 'T1' });

/** A `block_actions` payload from an input of a modal whose `dispatch_action` is on: no channel, no response_url. */
export function modalActionPayload(opts: {
  userId: string;
  modal: ModalState;
  actionId: string;
  action: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: user(opts.userId),
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    container: { type: 'view', view_id: opts.modal.id },
    trigger_id: '1234567890.1234567890.abcdef0123456789abcdef0123456789',
    team: { id: 'T1', domain: 'fake-team' },
    enterprise: null,
    is_enterprise_install: false,
    view: viewPayload(opts.modal),
    actions: [
      {
        ...opts.action,
        action_id: opts.actionId,
        block_id: opts.actionId,
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
}

/** A `block_suggestion` payload: the user typed `value` into an external select of a modal. */
export function blockSuggestionPayload(opts: {
  userId: string;
  modal: ModalState;
  actionId: string;
  blockId: string;
  value: string;
}): Record<string, unknown> {
  return {
    type: 'block_suggestion',
    user: user(opts.userId),
    container: { type: 'view', view_id: opts.modal.id },
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    action_id: opts.actionId,
    block_id: opts.blockId,
    value: opts.value,
    team: { id: 'T1', domain: 'fake-team' },
    enterprise: null,
    is_enterprise_install: false,
    view: viewPayload(opts.modal),
  };
}

/** A `view_submission` payload: the user pressed the modal's submit button. */
export function viewSubmissionPayload(opts: { userId: string; modal: ModalState }): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'T1', domain: 'fake-team' },
    user: user(opts.userId),
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    trigger_id: '1234567890.1234567890.abcdef0123456789abcdef0123456789',
    view: viewPayload(opts.modal),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** A click on a button of the App Home (a view of type `home`): no channel, no message, no response_url. */
export function homeClickPayload(opts: {
  actionId: string;
  value: string;
  userId: string;
  blocks?: unknown[];
}): Record<string, unknown> {
  const blocks = opts.blocks ?? [];
  const payload = buttonClickPayload({ ...opts, channelId: 'DHOME', responseUrl: '', messageBlocks: blocks });
  delete payload.channel;
  delete payload.message;
  delete payload.response_url;
  payload.container = { type: 'view', view_id: 'V1' };
  payload.view = { id: 'V1', type: 'home', blocks };
  return payload;
}
