/**
 * Each account's health after each poll: when it was polled, the last error's code, and whether Halo refused its
 * key. A refused key (401/403) turns the account `needs_key` and sends one notice to its alert channel; the
 * poller then asks Halo hourly (PollerOptions.authRetryMs) until `/halo connect` gives a new key.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { FleetAccount } from './fleet-plan.ts';
import { scopeKey } from './fleet-plan.ts';
import {
  HaloApiError,
  HaloAuthError,
  HaloHttpError,
  HaloNetworkError,
  HaloOversizeError,
  HaloResponseError,
} from './halo-errors.ts';
import { needsKeyItem } from './notice-payloads.ts';
import { LAST_SUCCESS_SHARE_MS } from './poller.ts';
import type { Route } from './routes.ts';
import type { Store } from './store-port.ts';
import type { AccountRecord, AccountStatus, Scope, TenantStore } from './tenancy-port.ts';

/** What `/halo accounts` and the App Home show of an account. */
export interface AccountHealth {
  readonly scope: Scope;
  readonly name: string;
  readonly status: AccountStatus;
  readonly lastPollAt: number | null;
  readonly lastError: string | null;
}

type Polled = Pick<AccountRecord, 'status' | 'lastPollAt' | 'lastError'>;

/** A poll's failure as a short stable code (stored, shown, and counted): never text Halo wrote. */
export function pollErrorCode(error: unknown): string {
  if (error instanceof HaloAuthError) return error.status === 403 ? 'halo_forbidden' : 'halo_unauthorized';
  if (error instanceof HaloHttpError) return `halo_http_${error.status}`;
  if (error instanceof HaloApiError) return `halo_error_${error.code}`;
  if (error instanceof HaloNetworkError) return error.timedOut ? 'halo_timeout' : 'halo_unreachable';
  if (error instanceof HaloResponseError) return 'halo_bad_response';
  if (error instanceof HaloOversizeError) return 'halo_oversize';
  return 'internal_error';
}

/**
 * How often an unchanged account's poll time is saved to the registry (what other replicas show in `/halo
 * accounts`): as rarely as its last success is shared (poller.ts), so that a steady poll writes no row. A change
 * of status or error is saved at once.
 */
export const HEALTH_SAVE_MS = LAST_SUCCESS_SHARE_MS;

/**
 * The health of every account this process polls, as last recorded. Kept in memory as well as in the store: the
 * environment's account (single-workspace shape) has no row of the registry to record it in.
 */
export class HealthBook {
  private readonly polled = new Map<string, Polled>();
  /** When each account's poll time was last saved to the registry. */
  private readonly saved = new Map<string, number>();

  constructor(
    private readonly tenants: Pick<TenantStore, 'setAccountHealth'>,
    private readonly log: Logger,
  ) {}

  async record(scope: Scope, health: Polled): Promise<void> {
    const before = this.polled.get(scopeKey(scope));
    this.polled.set(scopeKey(scope), health);
    // A steady poll changes only the time: saved every HEALTH_SAVE_MS, not at every poll (this replica's view has it).
    const saved = this.saved.get(scopeKey(scope));
    if (
      before !== undefined &&
      saved !== undefined &&
      before.status === health.status &&
      before.lastError === health.lastError &&
      health.lastPollAt !== null &&
      health.lastPollAt - saved < HEALTH_SAVE_MS &&
      health.lastPollAt >= saved
    )
      return;
    if (health.lastPollAt !== null) this.saved.set(scopeKey(scope), health.lastPollAt);
    try {
      await this.tenants.setAccountHealth(scope, health);
    } catch (error) {
      this.log.warn('account: its health could not be saved', { ...scope, error });
    }
  }

  /** `accounts` with the health recorded since they were listed laid over theirs. */
  view(accounts: readonly (FleetAccount & Partial<Polled>)[]): AccountHealth[] {
    return accounts.map((account) => {
      const mine = this.polled.get(scopeKey(account.scope));
      // What this replica recorded, unless the listing is newer: the account moved to another replica since, and
      // that one has saved its polls (every HEALTH_SAVE_MS) after this one's last.
      const listedAt = account.lastPollAt ?? null;
      const polled =
        mine !== undefined && listedAt !== null && listedAt > (mine.lastPollAt ?? 0) ? undefined : mine;
      return {
        scope: account.scope,
        name: account.name,
        status: polled?.status ?? account.status,
        lastPollAt: polled?.lastPollAt ?? account.lastPollAt ?? null,
        lastError: polled === undefined ? (account.lastError ?? null) : polled.lastError,
      };
    });
  }
}

export interface AccountHealthOptions {
  readonly account: FleetAccount;
  readonly book: HealthBook;
  /** The account's scoped view: where its notice is queued, and its subscriptions read. */
  readonly store: Store;
  /** HALO_ALERT_CHANNEL's route, for the environment's account; null for connected accounts. */
  readonly defaultRoute: Route | null;
  /** How a refused key is replaced: `/halo connect`, or HALO_API_KEY for the environment's account. */
  readonly fix: 'connect' | 'env';
  readonly clock: Clock;
  readonly log: Logger;
  /** Called when the notice is in the outbox: post it now. */
  readonly onRouted: () => void;
}

/** One account's poll outcomes into its health (the Poller's `onOutcome`). */
export class AccountHealthRecorder {
  private status: AccountStatus;

  constructor(private readonly options: AccountHealthOptions) {
    this.status = options.account.status;
  }

  /** `error` null: the poll succeeded. */
  async record(error: unknown): Promise<void> {
    const { account, book, clock, log } = this.options;
    const now = clock.now();
    if (error === null) {
      this.status = 'active';
      await book.record(account.scope, { status: 'active', lastPollAt: now, lastError: null });
      return;
    }
    const lastError = pollErrorCode(error);
    if (!(error instanceof HaloAuthError)) {
      await book.record(account.scope, { status: this.status, lastPollAt: now, lastError });
      return;
    }
    const first = this.status !== 'needs_key';
    this.status = 'needs_key';
    // The notice first: a crash before the status is saved repeats it, and its dedup key makes that a no-op.
    if (first) await this.notify();
    await book.record(account.scope, { status: 'needs_key', lastPollAt: now, lastError });
    if (first)
      log.error('account: Halo refused its key; polling it hourly until it is given a new one', {
        ...account.scope,
        name: account.name,
        keyHint: account.keyHint,
      });
  }

  /**
   * One notice, to the account's alert channel: HALO_ALERT_CHANNEL for the environment's account, otherwise the
   * channel of its oldest subscription (the first channel someone asked for its alerts in). None: no channel
   * notice; `/halo accounts` and the App Home still show the status.
   */
  private async notify(): Promise<void> {
    const { account, store, defaultRoute, fix, clock } = this.options;
    const channel = defaultRoute?.channel ?? oldest(await store.subscriptions())?.channel ?? null;
    if (channel === null) return;
    const item = needsKeyItem(channel, { account: account.name, keyHint: account.keyHint, fix });
    await store.route([item], [], clock.now());
    this.options.onRouted();
  }
}

function oldest<T extends { readonly id: number }>(rows: readonly T[]): T | undefined {
  return rows.reduce<T | undefined>(
    (first, row) => (first === undefined || row.id < first.id ? row : first),
    undefined,
  );
}
