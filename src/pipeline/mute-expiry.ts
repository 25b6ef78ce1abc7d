import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Mute, NewOutboxItem, Store } from './store-port.ts';
import { PeriodicJob } from './periodic.ts';
import type { Timers } from './ticker.ts';

/** The outbox payload of the line that says a mute has ended. */
export interface MuteEndedNotice {
  readonly notice: 'mute_ended';
  readonly mute: Mute;
}

/** The outbox row announcing that `mute` ended; its dedup key makes announcing twice a no-op. */
export function muteEndedItem(mute: Mute): NewOutboxItem {
  const payload: MuteEndedNotice = { notice: 'mute_ended', mute };
  return {
    channel: mute.channel,
    kind: 'notice',
    payload: JSON.stringify(payload),
    dedupKey: `${mute.channel}:mute-ended:${mute.id}`,
  };
}

/**
 * Ends mutes whose time is up: each gets one line in its channel, through the outbox like an alert (so a
 * Slack outage or a restart delays it but never loses or repeats it), and a row in the audit log.
 */
export class MuteExpiry extends PeriodicJob {
  constructor(
    private readonly options: {
      readonly store: Store;
      readonly clock: Clock;
      readonly log: Logger;
      readonly intervalMs: number;
      readonly onRouted: () => void;
      readonly timers?: Timers;
    },
  ) {
    super({ ...options, failure: 'mutes: could not end expired mutes' });
  }

  protected async sweepOnce(): Promise<void> {
    const { store, clock, log } = this.options;
    const now = clock.now();
    const expired = await store.expiredMutes(now);
    if (expired.length === 0) return;
    // Routed before being ended: a crash in between announces again, and the dedup key makes that a no-op.
    await store.route(expired.map(muteEndedItem), [], now);
    await store.endMutes(
      expired.map((mute) => mute.id),
      now,
    );
    for (const mute of expired) {
      await store.audit({
        at: now,
        userId: 'halo-slack',
        action: 'mute_expired',
        channel: mute.channel,
        detail: `#${mute.id}${mute.key === null ? '' : ` key:${mute.key}`}${mute.targetId === null ? '' : ` target:${mute.targetId}`}, held back ${mute.held}`,
      });
      log.info('mute ended', { id: mute.id, channel: mute.channel, held: mute.held });
    }
    this.options.onRouted();
  }
}
