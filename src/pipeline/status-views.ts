/**
 * What the bot says of itself: `/halo status`, the App Home's health and `/healthz` read the same numbers, from
 * the poller (this replica's view, or the holder's last success read from the store on another replica), the store,
 * the type ratings and the channels refusing posts.
 */
import { sleep } from '../clock.ts';
import type { HealthInput } from './health.ts';
import type { LeaseView } from './sharing.ts';
import type { PollStatus } from './poller.ts';
import type { ChannelRefusals } from './refusals.ts';
import type { Store } from './store-port.ts';
import { assumedHeld, type TypeRatings } from './type-ratings.ts';

export interface StatusSources {
  readonly store: Store;
  readonly poller: { getStatus(): PollStatus };
  /** Who holds the account's lease, and the holder's last poll when it is not this replica. */
  readonly work: { view(): LeaseView; refreshFollower(): Promise<void> };
  readonly ratings: Pick<TypeRatings, 'list'>;
  readonly refusals: Pick<ChannelRefusals, 'list'>;
  /** Error text shown in Slack gets the same redaction as the logs (each source also redacts its own). */
  readonly redact: (text: string) => string;
  readonly pollIntervalMs: number;
  /** How long /healthz waits for the database (default {@link HEALTH_READ_MS}). */
  readonly healthReadMs?: number;
}

/** Below the 4 s the image's HEALTHCHECK waits, with room for the rest of the answer. */
export const HEALTH_READ_MS = 2000;

export class StatusViews {
  constructor(private readonly sources: StatusSources) {}

  // Inferred: the poll status travels whole, for /healthz's and the App Home's extra fields.
  async status() {
    const { store, poller, work, ratings, redact, pollIntervalMs } = this.sources;
    const [stats, failures, muted, held] = await Promise.all([
      store.stats(),
      store.recentFailures(5),
      store.mutedTotal(),
      assumedHeld(store),
    ]);
    await work.refreshFollower();
    const poll = poller.getStatus();
    return {
      ...poll,
      lastError: poll.lastError === null ? null : redact(poll.lastError),
      ...stats,
      muted,
      pollIntervalMs,
      recentFailures: failures,
      unrated: ratings.list(),
      assumedHeld: held,
      leadership: work.view(),
    };
  }

  /** The last successful poll: this replica's, or on a standby the leader's, read from the store. */
  async lastSuccessAt(): Promise<number | null> {
    await this.sources.work.refreshFollower();
    return this.sources.poller.getStatus().lastSuccessAt;
  }

  /**
   * /healthz must answer when the database does not: that is when a monitor most needs it. A database that
   * refuses fails the read at once; one cut off by the network leaves it hanging until the store's own timeouts
   * (up to 15 s), longer than a monitor waits (the image's HEALTHCHECK gives up after 4 s). So the read gets
   * {@link HEALTH_READ_MS}, and a database that has not answered by then is reported unreachable.
   */
  async health(): Promise<HealthInput> {
    const { poller, work, refusals } = this.sources;
    const answered = new AbortController();
    try {
      const late = sleep(this.sources.healthReadMs ?? HEALTH_READ_MS, answered.signal).then(() => {
        throw new Error('the database did not answer in time');
      });
      return { ...(await Promise.race([this.status(), late])), refusing: refusals.list() };
    } catch {
      return {
        ...poller.getStatus(),
        refusing: refusals.list(),
        pending: null,
        failed: null,
        seen: null,
        databaseReachable: false,
        leadership: work.view(),
      };
    } finally {
      // Ends the timer; the read left behind, if any, settles on its own (the race has handled its outcome).
      answered.abort();
    }
  }
}
