/**
 * Tells the pollers of this replica when their account's subscriptions changed, so that a subscription made by a
 * command on another replica gets its starting point from the holder within a heartbeat or so (see
 * route-start.ts), without every account reading its subscriptions and started set every heartbeat. Each
 * heartbeat reads one mark of the whole table; only when it moved, the marks per account; and only the pollers
 * whose account's mark moved (or that have not been told yet) look for subscriptions without a starting point.
 * A command answered on this replica starts its subscription directly (Poller.startSubscription).
 */
import type { Logger } from '../log.ts';
import { scopeKey } from './fleet-plan.ts';
import type { Scope, TenantStore } from './tenancy-port.ts';

/** A poller of this replica, told when its account's subscriptions changed. */
export interface StartTarget {
  readonly scope: Scope;
  subscriptionsChanged(): void;
}

export interface SubscriptionWatchOptions {
  readonly marks: Pick<TenantStore, 'subscriptionsMark' | 'subscriptionMarks'>;
  /** The pollers of the accounts this replica polls now. */
  readonly targets: () => Iterable<StartTarget>;
  readonly log: Logger;
}

export class SubscriptionWatch {
  /** The whole table's mark at the last look; null: look per account. */
  private total: string | null = null;
  /** Each told account's mark when it was last told (or found unchanged). */
  private readonly told = new Map<string, string>();
  private looking: Promise<void> | undefined;

  constructor(private readonly options: SubscriptionWatchOptions) {}

  /** One look (or the one in progress): never two at once. Its failure is logged, and the next look retries. */
  tick(): Promise<void> {
    this.looking ??= this.look()
      .catch((error: unknown) => {
        // Nothing is lost: the table's mark is read again at the next heartbeat, as if it had moved.
        this.total = null;
        this.options.log.warn(
          'subscriptions: could not look for new ones; trying again at the next heartbeat',
          {
            error,
          },
        );
      })
      .finally(() => (this.looking = undefined));
    return this.looking;
  }

  /** Forgets every mark: after the replica stopped polling, every poller is told again when it polls again. */
  reset(): void {
    this.total = null;
    this.told.clear();
  }

  private async look(): Promise<void> {
    const targets = [...this.options.targets()];
    const untold = targets.some((target) => !this.told.has(scopeKey(target.scope)));
    const total = await this.options.marks.subscriptionsMark();
    if (total === this.total && !untold) return;
    const marks = new Map(
      (await this.options.marks.subscriptionMarks()).map(({ scope, mark }) => [scopeKey(scope), mark]),
    );
    const current = new Set<string>();
    for (const target of targets) {
      const key = scopeKey(target.scope);
      current.add(key);
      const mark = marks.get(key) ?? '';
      if (this.told.get(key) === mark) continue;
      this.told.set(key, mark);
      target.subscriptionsChanged();
    }
    // An account no longer polled here is told again if it comes back.
    for (const key of [...this.told.keys()]) if (!current.has(key)) this.told.delete(key);
    this.total = total;
  }
}
