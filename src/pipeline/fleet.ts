/**
 * One process polling many Halo accounts, each on today's pipeline (poller, routing, outbox, delivery) over its
 * own scoped store view. The sharing loop (sharing.ts) runs it: at every heartbeat, the fleet asks `accounts()`
 * (the single question "which accounts do I poll": those this replica holds a lease on) and reconciles: a new
 * account starts, a removed or handed-over one stops (after its poll in flight ends) within a heartbeat, a new
 * key or URL restarts it on a new client.
 *
 * Timers: each account's pipeline waits four ways (the poller's wait between polls and its start check, the
 * mute sweep, the summary sweep), and the process twice (this reconcile, and the one due sweep that wakes the
 * deliveries: due-sweep.ts; a delivery has no tick of its own). Given a shared Ticker (`timers`, see ticker.ts),
 * all of them are entries of its one timer: the process holds one timer, not four per account (plus a transient
 * one per channel waiting out Slack's pace or a retry, as before).
 */
import type { Logger } from '../log.ts';
import type { LedWork } from './account-work.ts';
import { planFleet, scopeKey, type FleetAccount } from './fleet-plan.ts';
import type { Scope } from './tenancy-port.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';

export interface FleetOptions<P extends LedWork> {
  /** Every account this process polls now: those it holds a lease on (sharing.ts `held`). */
  readonly accounts: () => Promise<FleetAccount[]>;
  /** One account's pipeline on its scoped view, Halo client and Slack poster (built by the composition root). */
  readonly build: (account: FleetAccount) => P;
  /** How often the fleet reconciles on its own too (the sharing loop asks it every heartbeat): the poll interval. */
  readonly intervalMs: number;
  readonly log: Logger;
  /** The shared Ticker the accounts' pipelines wait on too (see ticker.ts). Default: Node's timers. */
  readonly timers?: Timers;
}

interface Running<P> {
  account: FleetAccount;
  readonly pipeline: P;
  led: boolean;
}

export class Fleet<P extends LedWork> implements LedWork {
  private readonly running = new Map<string, Running<P>>();
  /** What purges under way remove (see {@link whileRetired}): not started again, whatever a listing says. */
  private readonly retiring = new Set<(scope: Scope) => boolean>();
  /**
   * The accounts a purge removed (scope keys): not started again while a listing still has them. The listing may
   * lag the purge (the sharing loop's, read at its last heartbeat); a purged account's ID is never given again.
   */
  private readonly retired = new Set<string>();
  private leading = false;
  private stopTimer: (() => void) | undefined;
  private reconciling: Promise<void> | undefined;

  constructor(private readonly options: FleetOptions<P>) {}

  /** The accounts as last listed (running, or built while this replica follows). */
  accounts(): FleetAccount[] {
    return [...this.running.values()].map((entry) => entry.account);
  }

  /** The pipeline of `scope`, when the fleet has one. */
  pipelineOf(scope: Scope): P | undefined {
    return this.running.get(scopeKey(scope))?.pipeline;
  }

  /** Whether `workspace` has more than one account: its alerts and digests then name theirs. */
  severalIn(workspace: string): boolean {
    let count = 0;
    for (const entry of this.running.values()) if (entry.account.scope.workspace === workspace) count++;
    return count > 1;
  }

  async lead(): Promise<void> {
    this.leading = true;
    await this.reconcile();
    this.stopTimer = (this.options.timers ?? OWN_TIMERS).every(
      this.options.intervalMs,
      () => void this.reconcile(),
    );
  }

  async follow(): Promise<void> {
    this.leading = false;
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.reconciling;
    await Promise.all([...this.running.values()].map((entry) => this.stopEntry(entry)));
  }

  kick(): void {
    for (const entry of this.running.values()) entry.pipeline.kick();
  }

  /** `workspace` was installed again: its accounts' deliveries stop waiting for its token. */
  resumeWorkspace(workspace: string): void {
    for (const entry of this.running.values())
      if (entry.account.scope.workspace === workspace) entry.pipeline.resume?.();
  }

  async refreshLastSuccess(): Promise<void> {
    await Promise.all([...this.running.values()].map((entry) => entry.pipeline.refreshLastSuccess()));
  }

  /**
   * Runs `purge` (a disconnect, an uninstall) with the accounts `matches` picks stopped first, and kept stopped
   * until a listing no longer has them: a poll in flight writes its rows, and a stop shares the account's last
   * success, so either after the purge would leave rows of an account or a workspace that no longer exists, and a
   * listing read before the purge would start them again. (Another replica's writes for them are refused by their
   * leases, purged too.)
   */
  async whileRetired<T>(matches: (scope: Scope) => boolean, purge: () => Promise<T>): Promise<T> {
    this.retiring.add(matches);
    try {
      await this.reconciling;
      const gone = this.accounts().filter((account) => matches(account.scope));
      for (const account of gone) this.retired.add(scopeKey(account.scope));
      await Promise.all(gone.map((account) => this.remove(account, 'removed')));
      return await purge();
    } finally {
      await this.reconciling;
      this.retiring.delete(matches);
    }
  }

  /** One reconcile, or the one in progress: never two at once. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const { log } = this.options;
    let listed: FleetAccount[] | null = null;
    try {
      listed = await this.options.accounts();
    } catch (error) {
      log.error('fleet: the accounts could not be listed; the running ones go on', { error });
    }
    if (listed !== null) {
      listed = this.notRetired(listed);
      const plan = planFleet(this.accounts(), listed);
      await Promise.all(plan.stop.map((account) => this.remove(account, 'removed')));
      await Promise.all(plan.restart.map((account) => this.remove(account, 'given a new key')));
      for (const account of [...plan.start, ...plan.restart]) this.add(account);
      for (const account of plan.keep) {
        const entry = this.running.get(scopeKey(account.scope));
        if (entry !== undefined) entry.account = account;
      }
    }
    if (!this.leading) return;
    await Promise.all(
      [...this.running.values()].filter((entry) => !entry.led).map((entry) => this.startEntry(entry)),
    );
  }

  /**
   * The listing without what purges removed: an account a purge under way matches is retired with those it
   * stopped, and one retired is forgotten once a listing no longer has it.
   */
  private notRetired(listed: FleetAccount[]): FleetAccount[] {
    const retiring = [...this.retiring];
    for (const account of listed)
      if (retiring.some((matches) => matches(account.scope))) this.retired.add(scopeKey(account.scope));
    const keys = new Set(listed.map((account) => scopeKey(account.scope)));
    for (const key of this.retired) if (!keys.has(key)) this.retired.delete(key);
    return listed.filter((account) => !this.retired.has(scopeKey(account.scope)));
  }

  private add(account: FleetAccount): void {
    try {
      this.running.set(scopeKey(account.scope), {
        account,
        pipeline: this.options.build(account),
        led: false,
      });
    } catch (error) {
      // Listed again next interval, and tried again then.
      this.options.log.error('fleet: the account’s pipeline could not be built', { ...account.scope, error });
    }
  }

  private async remove(account: FleetAccount, why: string): Promise<void> {
    const key = scopeKey(account.scope);
    const entry = this.running.get(key);
    if (entry === undefined) return;
    this.running.delete(key);
    await this.stopEntry(entry);
    this.options.log.info(`fleet: account ${why}; its polling stopped`, {
      ...account.scope,
      name: account.name,
    });
  }

  private async startEntry(entry: Running<P>): Promise<void> {
    const { account } = entry;
    try {
      entry.led = true;
      await entry.pipeline.lead();
      this.options.log.info('fleet: polling account', { ...account.scope, name: account.name });
    } catch (error) {
      entry.led = false;
      this.options.log.error('fleet: the account could not start; retrying next interval', {
        ...account.scope,
        error,
      });
    }
  }

  private async stopEntry(entry: Running<P>): Promise<void> {
    if (!entry.led) return;
    entry.led = false;
    try {
      await entry.pipeline.follow();
    } catch (error) {
      this.options.log.error('fleet: the account did not stop cleanly', { ...entry.account.scope, error });
    }
  }
}
