/**
 * `/halo mute`, `/halo mutes`, `/halo unmute`, and the alert's mute menu: one place that makes and ends mutes,
 * checks permission, and writes the audit log.
 */
import type { Clock } from '../clock.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import type { Logger } from '../log.ts';
import type { Mute, Store } from '../pipeline/store-port.ts';
import { notice, type Answer } from './answers.ts';
import { formatDuration } from '../domain/duration.ts';

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

  async mute(request: MuteRequest): Promise<Answer> {
    const { store, clock, log } = this.options;
    if (!(await this.options.canManage(request.userId))) return notice(NOT_ALLOWED_MUTE);
    const unknownKey = request.key !== null && (await this.isUnknownKey(request.key));
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
    return { kind: 'muted', mute, durationMs: request.durationMs, unknownKey };
  }

  async unmute(id: number, userId: string, channel?: string): Promise<Answer> {
    const { store, clock, log } = this.options;
    if (!(await this.options.canManage(userId))) return notice(NOT_ALLOWED_MUTE);
    const now = clock.now();
    const mute = await store.removeMute(id, now, channel);
    if (mute === null) {
      return notice(
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
    return { kind: 'unmuted', mute };
  }

  async list(channel: string): Promise<Answer> {
    const mutes = await this.options.store.activeMutes(this.options.clock.now(), channel);
    return { kind: 'mutes', channel, mutes };
  }

  /** A warning, not a refusal (as for subscriptions): Halo may add types the catalogue does not list yet. */
  private async isUnknownKey(key: string): Promise<boolean> {
    try {
      const types = await this.options.halo.listTypes();
      return !types.some((type) => type.key === key);
    } catch (error) {
      this.options.log.debug('mute: event types could not be read to check the key', { error });
      return false;
    }
  }
}
