/**
 * Pure renderers for mutes: how one is described, the line posted when one ends, and the `/halo mutes` list.
 * Keys and host names come from Halo or a user: escaped here like everything else.
 */
import type { ListCommand } from './digest-message.ts';
import { code, mrkdwn } from './escape.ts';
import { mrkdwnText, oneLine } from './text.ts';
import type { SlackMessage } from './types.ts';

/** What a mute needs to be described; a stored `Mute` is one. */
export interface MuteView {
  readonly id: number;
  readonly channel: string;
  readonly key: string | null;
  readonly targetId: number | null;
  readonly targetLabel: string;
  readonly createdBy: string;
  readonly expiresAt: number;
  readonly held: number;
}

/** "`target-scan-start` on host42.example.com (target 42)", safe mrkdwn. */
export function describeMute(mute: Pick<MuteView, 'key' | 'targetId' | 'targetLabel'>): string {
  const label = mrkdwn(oneLine(mute.targetLabel), 200);
  const target =
    mute.targetId === null
      ? ''
      : label === ''
        ? `target ${mute.targetId}`
        : `${label} (target ${mute.targetId})`;
  if (mute.key === null) return target;
  const key = code(mute.key, 200);
  return target === '' ? key : `${key} on ${target}`;
}

export function heldText(held: number): string {
  return held === 0 ? 'no events' : held === 1 ? '1 event' : `${held} events`;
}

/** The one line posted in the channel when a mute's time is up. */
export function renderMuteEnded(mute: MuteView, listCommand: ListCommand): SlackMessage {
  const what = describeMute(mute);
  const filter = {
    ...(mute.key === null ? {} : { key: mute.key }),
    ...(mute.targetId === null ? {} : { target_id: mute.targetId }),
  };
  const list = mute.held === 0 ? '' : `: ${code(listCommand(filter), 300)} lists them`;
  const text = `:bell: The mute of ${what} in this channel has ended. It held back ${heldText(mute.held)}${list}.`;
  return {
    text: `The mute of ${what} has ended; it held back ${heldText(mute.held)}`,
    blocks: [{ type: 'section', text: mrkdwnText(text) }],
  };
}
