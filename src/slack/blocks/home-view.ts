/**
 * The App Home tab: the bot's health, each connected Halo account's health (a key Halo refused stands out),
 * each channel's subscriptions and mutes (named by account when the workspace has several), and the last actions
 * people took. Pure: the listener gathers the data and publishes what this returns. Admins get an Unmute or
 * Unsubscribe button beside each row; everyone else sees the same page read-only.
 */
import type { UnratedType } from '../../domain/severity.ts';
import type { Route } from '../../pipeline/routes.ts';
import { NONE_HELD, type AssumedHeld } from '../../domain/severity.ts';
import {
  ACTION_IDS,
  code,
  LIMITS,
  mentionUser,
  mrkdwn,
  mrkdwnText,
  plainText,
  slackDate,
  type Block,
  type ButtonElement,
} from './index.ts';
import { decodeSubscriptionRef, encodeEditValue, encodeHomePage, encodeSubscriptionRef } from './payloads.ts';
import type { AuditEntry, Mute, Subscription } from '../../pipeline/store-port.ts';
import { channelRef, describeRoute, heldHeadline, muteLine, severityNotes } from './answer-message.ts';
import type { AccountLineView } from './accounts-message.ts';
import { accountBlocks } from './home-accounts.ts';

export const HOME_UNMUTE_ACTION_ID = ACTION_IDS.homeUnmute;
export const HOME_UNSUBSCRIBE_ACTION_ID = ACTION_IDS.homeUnsubscribe;
/** A Home tab holds at most 100 blocks. */
const MAX_HOME_BLOCKS = 100;
/** Blocks kept for the health and audit sections (with up to two severity notes) and the headers around the channel rows. */
const RESERVED_BLOCKS = 14;

export interface HomeHealth {
  readonly lastSuccessAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly pending: number;
  readonly failed: number;
  readonly muted: number;
  readonly connection: string;
  /** Halo's event types that nothing rates, and what a minimum severity held back on their guesses. */
  readonly unrated?: readonly UnratedType[];
  readonly assumedHeld?: AssumedHeld;
}

/**
 * A row's account, named when the workspace has more than one (the same channel may hold several accounts'
 * subscriptions and mutes); absent otherwise.
 */
export interface OfAccount {
  readonly accountName?: string;
}

export interface HomeChannel {
  readonly channel: string;
  /** HALO_ALERT_CHANNEL's route, when this is that channel. */
  readonly fromSettings: Route | null;
  readonly subscriptions: readonly (Subscription & OfAccount)[];
  readonly mutes: readonly (Mute & OfAccount)[];
}

export interface HomeData {
  readonly isAdmin: boolean;
  readonly health: HomeHealth;
  /**
   * Each Halo account's health (from the fleet's book), shown when the workspace has connected accounts; absent
   * or empty: the section is left out (the single shape's one account is the health section above).
   */
  readonly accounts?: readonly AccountLineView[];
  readonly channels: readonly HomeChannel[];
  readonly audit: readonly AuditEntry[];
}

export interface HomeView {
  readonly type: 'home';
  readonly blocks: Block[];
}

/** The Unmute button's value: the mute's ID. */
export function encodeUnmuteValue(muteId: number): string {
  return String(muteId);
}

export function decodeUnmuteValue(value: string | undefined): number | null {
  return value !== undefined && /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : null;
}

/** The Unsubscribe button's value: `channel:subscription ID`, as Edit's. */
export const encodeUnsubscribeValue = encodeSubscriptionRef;
export const decodeUnsubscribeValue = decodeSubscriptionRef;

const date = (ms: number | null): string => (ms === null ? 'never' : (slackDate(new Date(ms)) ?? 'unknown'));

const VERBS: Readonly<Record<AuditEntry['action'], string>> = {
  delete: 'deleted',
  acknowledge: 'acknowledged',
  mute: 'muted',
  unmute: 'unmuted',
  mute_expired: 'mute ended:',
  subscribe: 'subscribed',
  unsubscribe: 'unsubscribed',
  summary: 'set the summary:',
  connect: 'connected the Halo account',
  disconnect: 'disconnected the Halo account',
};

function auditLine(entry: AuditEntry): string {
  const who = entry.userId === 'halo-slack' ? 'halo' : mentionUser(entry.userId);
  const where = entry.channel === null ? '' : ` in ${channelRef(entry.channel)}`;
  return `• ${date(entry.at)} ${who} ${VERBS[entry.action]} ${code(entry.detail, 300)}${where}`;
}

function healthText(health: HomeHealth): string {
  const held = health.assumedHeld ?? NONE_HELD;
  const state =
    (health.consecutiveFailures > 0
      ? `:warning: Halo polls are failing (${health.consecutiveFailures} in a row)`
      : health.lastSuccessAt === null
        ? ':hourglass: Starting: no poll has completed yet'
        : ':white_check_mark: Polling normally') + heldHeadline(held);
  const lines = [
    `*${state}*`,
    `Last successful poll: ${date(health.lastSuccessAt)}`,
    `Alerts waiting to be posted: ${health.pending} · could not be posted: ${health.failed}`,
    `Events muted (counted, not posted): ${health.muted}`,
    `Connection to Slack: ${mrkdwn(health.connection, 100)}`,
  ];
  if (health.lastError !== null) lines.push(`Last error: ${mrkdwn(health.lastError, 500)}`);
  return lines.join('\n');
}

/** ` (account *NAME*)` when the row names its account. */
function ofAccount(row: OfAccount): string {
  return row.accountName === undefined ? '' : ` (account *${mrkdwn(row.accountName, 60)}*)`;
}

function row(text: string, button: ButtonElement | undefined): Block {
  return button === undefined
    ? { type: 'section', text: mrkdwnText(text) }
    : { type: 'section', text: mrkdwnText(text), accessory: button };
}

/**
 * A channel's rows, each with the blocks that belong together (a subscription and its Edit button), so that a
 * page never splits them.
 */
function channelGroups(channel: HomeChannel, isAdmin: boolean): Block[][] {
  const rows: Block[][] = [];
  if (channel.fromSettings !== null) {
    rows.push([
      row(
        `From the bot's settings (HALO_ALERT_CHANNEL): ${describeRoute(channel.fromSettings.keys, channel.fromSettings.targetIds)}`,
        undefined,
      ),
    ]);
  }
  for (const sub of channel.subscriptions) {
    const button: ButtonElement | undefined = isAdmin
      ? {
          type: 'button',
          text: plainText('Remove'),
          action_id: HOME_UNSUBSCRIBE_ACTION_ID,
          value: encodeUnsubscribeValue(sub.channel, sub.id),
          confirm: {
            title: plainText('Remove this subscription?'),
            text: plainText(`Subscription #${sub.id} stops posting to this channel.`),
            confirm: plainText('Remove'),
            deny: plainText('Cancel'),
          },
        }
      : undefined;
    const group: Block[] = [
      row(
        `Subscription *#${sub.id}*${ofAccount(sub)}: ${describeRoute(sub.keys, sub.targetIds)}, by ${mentionUser(sub.createdBy)}`,
        button,
      ),
    ];
    // Edit opens the subscribe dialog filled in; a section has room for one button, so it has a block of its own.
    if (isAdmin)
      group.push({
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: plainText(`Edit #${sub.id}`),
            action_id: ACTION_IDS.homeEditSubscription,
            value: encodeEditValue(sub.channel, sub.id),
          },
        ],
      });
    rows.push(group);
  }
  for (const mute of channel.mutes) {
    const button: ButtonElement | undefined = isAdmin
      ? {
          type: 'button',
          text: plainText('Unmute'),
          action_id: HOME_UNMUTE_ACTION_ID,
          value: encodeUnmuteValue(mute.id),
        }
      : undefined;
    rows.push([row(`:mute: Mute${ofAccount(mute)} ${muteLine(mute)}`, button)]);
  }
  return rows;
}

/**
 * The channels' rows cut into pages of at most `room` blocks. A channel's name heads its first row; a page that
 * goes on with a channel names it again.
 */
function homePages(channels: readonly HomeChannel[], isAdmin: boolean, room: number): Block[][] {
  const pages: Block[][] = [[]];
  for (const channel of channels) {
    const name = (suffix: string): Block => ({
      type: 'section',
      text: mrkdwnText(`*${channelRef(channel.channel)}*${suffix}`),
    });
    channelGroups(channel, isAdmin).forEach((group, i) => {
      const rows = i === 0 ? [name(''), ...group] : group;
      let page = pages.at(-1)!;
      if (page.length > 0 && page.length + rows.length > room) {
        page = i === 0 ? [] : [name(' (continued)')];
        pages.push(page);
      }
      page.push(...rows);
    });
  }
  return pages;
}

/** Page `page` of the Home tab (the last when past it): `views.publish` takes at most 100 blocks. */
export function renderHome(data: HomeData, page = 0): HomeView {
  const blocks: Block[] = [
    { type: 'header', text: plainText('Halo Security') },
    { type: 'section', text: mrkdwnText(healthText(data.health)) },
    // A section of its own: with every key named, it may be as long as the health section's limit allows.
    ...severityNotes(data.health.unrated ?? [], data.health.assumedHeld ?? NONE_HELD).map((note): Block => ({
      type: 'section',
      text: mrkdwnText(note),
    })),
    ...accountBlocks(data.accounts ?? []),
    { type: 'divider' },
    { type: 'header', text: plainText('Channels') },
  ];
  if (data.isAdmin)
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: plainText('New subscription'),
          style: 'primary',
          action_id: ACTION_IDS.homeNewSubscription,
        },
      ],
    });
  // Two blocks for the page buttons and the page number, when there are several pages.
  const pages = homePages(data.channels, data.isAdmin, MAX_HOME_BLOCKS - RESERVED_BLOCKS - blocks.length - 2);
  const shown = Math.min(Math.max(0, page), pages.length - 1);
  blocks.push(...pages[shown]!);
  if (data.channels.length === 0) {
    blocks.push({
      type: 'section',
      text: mrkdwnText(
        'No channel receives alerts yet: type `/halo subscribe` in one, or set HALO_ALERT_CHANNEL.',
      ),
    });
  }
  if (pages.length > 1) {
    const turn = (label: string, to: number): ButtonElement => ({
      type: 'button',
      text: plainText(label),
      action_id: ACTION_IDS.homePage,
      value: encodeHomePage(to),
    });
    blocks.push(
      {
        type: 'actions',
        elements: [
          ...(shown > 0 ? [turn('Previous', shown - 1)] : []),
          ...(shown < pages.length - 1 ? [turn('Next', shown + 1)] : []),
        ],
      },
      { type: 'context', elements: [mrkdwnText(`Channels, page ${shown + 1} of ${pages.length}`)] },
    );
  }
  blocks.push({ type: 'divider' }, { type: 'header', text: plainText('Recent actions') });
  const lines = data.audit.map(auditLine);
  blocks.push({
    type: 'section',
    text: mrkdwnText(lines.length === 0 ? 'Nothing yet.' : fit(lines, LIMITS.sectionText)),
  });
  if (!data.isAdmin) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwnText(
          'Read-only: only the users in HALO_ADMIN_USERS (or workspace admins and owners) can unmute and unsubscribe here.',
        ),
      ],
    });
  }
  return { type: 'home', blocks };
}

/** As many whole lines as fit in `max` characters. */
function fit(lines: readonly string[], max: number): string {
  let text = '';
  for (const line of lines) {
    const next = text === '' ? line : `${text}\n${line}`;
    if (next.length > max) break;
    text = next;
  }
  return text;
}

/** Every channel that receives alerts or has a mute, with its rows, in a stable order (settings first). */
export function homeChannels(
  subscriptions: readonly (Subscription & OfAccount)[],
  mutes: readonly (Mute & OfAccount)[],
  defaultRoute: Route | null,
): HomeChannel[] {
  const channels = new Map<
    string,
    { subscriptions: (Subscription & OfAccount)[]; mutes: (Mute & OfAccount)[] }
  >();
  const entry = (channel: string) => {
    let found = channels.get(channel);
    if (found === undefined) {
      found = { subscriptions: [], mutes: [] };
      channels.set(channel, found);
    }
    return found;
  };
  if (defaultRoute !== null) entry(defaultRoute.channel);
  for (const sub of subscriptions) entry(sub.channel).subscriptions.push(sub);
  for (const mute of mutes) entry(mute.channel).mutes.push(mute);
  return [...channels].map(([channel, rows]) => ({
    channel,
    fromSettings: defaultRoute?.channel === channel ? defaultRoute : null,
    subscriptions: rows.subscriptions,
    mutes: rows.mutes,
  }));
}
