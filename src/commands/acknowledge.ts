import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Acknowledgement, Store } from '../pipeline/store-port.ts';

/**
 * Acknowledge: anyone in the channel may press it. Each person is recorded once per message (their first
 * press), and the audit log gets one row per person; the answer is everyone who acknowledged that message.
 */
export class Acknowledger {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async acknowledge(press: Omit<Acknowledgement, 'at'>): Promise<Acknowledgement[]> {
    const at = this.clock.now();
    const acks = await this.store.acknowledge({ ...press, at });
    const mine = acks.find((ack) => ack.userId === press.userId);
    if (mine?.at === at) {
      await this.store.audit({
        at,
        userId: press.userId,
        action: 'acknowledge',
        channel: press.channel,
        detail: `event ${press.eventId}`,
      });
      this.log.info('alert acknowledged', {
        event: press.eventId,
        channel: press.channel,
        user: press.userId,
      });
    }
    return acks;
  }
}
