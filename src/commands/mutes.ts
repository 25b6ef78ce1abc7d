/**
 * `/halo mute`, `/halo mutes`, `/halo unmute`, and the alert's mute menu: one place that makes and ends mutes,
 * checks permission, and writes the audit log.
 */
import type { Clock } from '../clock.ts';
import type { HaloClient } from '../halo/client.ts';
import type { Logger } from '../log.ts';
import {
  code,
  describeMute,
  heldText,
  mentionUser,
  mrkdwnText,
  slackDate,
  type MuteView,
  type SlackMessage,
} from '../slack/blocks/index.ts';
import type { Mute, Store } from '../store/store.ts';
import { formatDuration } from './duration.ts';
import { channelRef, renderMrkdwn, renderNotice } from './render.ts';

export interface MuteRequest {
  readonly channel: string;
  readonly userId: string;
  readonly key: string | null;
  readonly targetId: number | null;
  readonly targetLabel?: string;
  readonly durationMs: number;
}

export const NOT_ALLOWED_MUTE =
  'You are not allowed to do that: only the users in HALO_ADMIN_USERS (or, when it is empty, workspace admins and owners) may mute or unmute, as for subscriptions.';

/** Plain text naming a mute for the audit log, e.g. `#3 key:target-scan-start target:42 for 24h`. */
export function muteAuditDetail(mute: Mute): string {
  const parts = [`#${mute.id}`];
  if (mute.key !== null) parts.push(`key:${mute.key}`);
  if (mute.targetId !== null) parts.push(`target:${mute.targetId}`);
  return parts.join(' ');
}

/** One mute as a line of a list: ID, what, until when, who, held back. */
export function muteLine(mute: MuteView): string {
  const until = slackDate(new Date(mute.expiresAt)) ?? 'unknown';
  return `*#${mute.id}*: ${describeMute(mute)} until ${until}, by ${mentionUser(mute.createdBy)}, held back ${heldText(mute.held)}`;
}

export class Mutes {
  constructor(
    private readonly options: {
      readonly store: Store;
      readonly halo: HaloClient;
      readonly clock: Clock;
      readonly log: Logger;
      readonly canManage: (userId: string) => Promise<boolean>;
    },
  ) {}

  async mute(request: MuteRequest): Promise<SlackMessage> {
    const { store, clock, log } = this.options;
    if (!(await this.options.canManage(request.userId))) return renderNotice(NOT_ALLOWED_MUTE);
    const warning = request.key === null ? '' : await this.unknownKeyWarning(request.key);
    const now = clock.now();
    const mute = await store.addMute({
      channel: request.channel,
      key: request.key,
      targetId: request.targetId,
      targetLabel: request.targetLabel ?? '',
      createdBy: request.userId,
      createdAt: now,
      expiresAt: now + request.durationMs,
    });
    await store.audit({
      at: now,
      userId: request.userId,
      action: 'mute',
      channel: request.channel,
      detail: `${muteAuditDetail(mute)} for ${formatDuration(request.durationMs)}`,
    });
    log.info('mute added', { id: mute.id, channel: mute.channel, by: request.userId });
    const until = slackDate(new Date(mute.expiresAt)) ?? '';
    const critical =
      mute.key === null
        ? ' Critical events still come through: only a mute with key: naming their type holds them back.'
        : '';
    const text =
      `${warning}:mute: Muted ${describeMute(mute)} in ${channelRef(mute.channel)} for ` +
      `${formatDuration(request.durationMs)}, until ${until} (mute #${mute.id}). Matching events are counted, not posted.` +
      `${critical} ${code(`/halo unmute ${mute.id}`, 40)} ends it early.`;
    return {
      text: `Muted for ${formatDuration(request.durationMs)} (mute #${mute.id})`,
      blocks: [{ type: 'section', text: mrkdwnText(text) }],
    };
  }

  async unmute(id: number, userId: string, channel?: string): Promise<SlackMessage> {
    const { store, clock, log } = this.options;
    if (!(await this.options.canManage(userId))) return renderNotice(NOT_ALLOWED_MUTE);
    const now = clock.now();
    const mute = await store.removeMute(id, now, channel);
    if (mute === null) {
      return renderNotice(
        channel === undefined
          ? `There is no mute #${id} in force.`
          : `This channel has no mute #${id} in force. /halo mutes lists them.`,
      );
    }
    await store.audit({
      at: now,
      userId,
      action: 'unmute',
      channel: mute.channel,
      detail: muteAuditDetail(mute),
    });
    log.info('mute removed', { id, channel: mute.channel, by: userId });
    return renderMrkdwn(
      `:loud_sound: Unmuted ${describeMute(mute)} in ${channelRef(mute.channel)} (mute #${mute.id}); it had held back ${heldText(mute.held)}.`,
      `Unmuted (mute #${mute.id})`,
    );
  }

  async list(channel: string): Promise<SlackMessage> {
    const mutes = await this.options.store.activeMutes(this.options.clock.now(), channel);
    if (mutes.length === 0) {
      return renderMrkdwn(
        `${channelRef(channel)} has no mutes. Add one with ${code('/halo mute key:KEY for:24h', 60)}.`,
        'No mutes',
      );
    }
    const lines = mutes.map((mute) => `• ${muteLine(mute)}`);
    return renderMrkdwn(
      `*Mutes of ${channelRef(channel)}*\n${lines.join('\n')}\nEnd one with ${code('/halo unmute ID', 40)}.`,
      `${mutes.length} mute${mutes.length === 1 ? '' : 's'}`,
    );
  }

  /** A warning, not a refusal (as for subscriptions): Halo may add types the catalogue does not list yet. */
  private async unknownKeyWarning(key: string): Promise<string> {
    try {
      const types = await this.options.halo.listTypes();
      if (types.some((type) => type.key === key)) return '';
      return `:warning: Halo lists no event type ${code(key, 200)} (${code('/halo types', 20)} lists them); the mute is added anyway.\n`;
    } catch (error) {
      this.options.log.debug('mute: event types could not be read to check the key', { error });
      return '';
    }
  }
}
