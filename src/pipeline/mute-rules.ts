/**
 * Pure mute rules. A mute holds back a channel's events that match its key and target (both, when both are
 * given). A critical event is held back only by a mute whose key names that exact type: muting a noisy target
 * must never hide a critical finding on it.
 */
import type { HaloEvent } from '../domain/event.ts';
import type { Mute } from './store-port.ts';

export type MuteRule = Pick<Mute, 'id' | 'channel' | 'key' | 'targetId'>;

export function muteMatches(mute: MuteRule, event: HaloEvent, critical: boolean): boolean {
  if (mute.key !== null && mute.key !== event.key) return false;
  if (mute.targetId !== null && event.target?.id !== mute.targetId) return false;
  return !critical || mute.key === event.key;
}

/**
 * Each channel's events without the muted ones, and how many each mute held back. An event matched by several
 * mutes is counted once, by the oldest (the lowest ID).
 */
export function withoutMuted(
  byChannel: ReadonlyMap<string, readonly HaloEvent[]>,
  mutes: readonly MuteRule[],
  isCritical: (event: HaloEvent) => boolean,
): { byChannel: Map<string, HaloEvent[]>; held: Map<number, number> } {
  const kept = new Map<string, HaloEvent[]>();
  const held = new Map<number, number>();
  const sorted = [...mutes].sort((a, b) => a.id - b.id);
  for (const [channel, events] of byChannel) {
    const here = sorted.filter((mute) => mute.channel === channel);
    const posted: HaloEvent[] = [];
    for (const event of events) {
      const critical = here.length > 0 && isCritical(event);
      const mute = here.find((m) => muteMatches(m, event, critical));
      if (mute === undefined) posted.push(event);
      else held.set(mute.id, (held.get(mute.id) ?? 0) + 1);
    }
    if (posted.length > 0) kept.set(channel, posted);
  }
  return { byChannel: kept, held };
}
