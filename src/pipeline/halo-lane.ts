/**
 * The one bound on Halo requests in flight (HALO_SCAN_CONCURRENCY) is shared by polls and `/halo` commands.
 * First in, first out, a flood of commands queued a poll's pages behind thousands of theirs, and a new alert
 * waited for all of them. Here the poll's requests come first: whatever a poll (or a subscription's start, in
 * the background) adds to the bound jumps every command's request still waiting. Neither the Halo client nor
 * the scan needs to know: the lane travels with the poll's async context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import PQueue from 'p-queue';

const lane = new AsyncLocalStorage<number>();

/** p-queue runs higher priorities first; commands keep p-queue's default, 0. */
const POLL_PRIORITY = 1;

/** Runs `poll` with every Halo request it makes ahead of the commands' requests still waiting. */
export function inPollLane<T>(poll: () => Promise<T>): Promise<T> {
  return lane.run(POLL_PRIORITY, poll);
}

type AddOptions = NonNullable<Parameters<PQueue['add']>[1]>;
type TaskOptions = Parameters<Parameters<PQueue['add']>[0]>[0];

/** The bound, giving each request its lane's priority unless the caller set one. */
export class HaloBound extends PQueue {
  override add<T>(task: (options: TaskOptions) => PromiseLike<T>, options: AddOptions = {}): Promise<T> {
    const priority = lane.getStore();
    return super.add<T>(task, priority === undefined ? options : { priority, ...options });
  }
}

/**
 * One account's bound (Halo's limits are per key), whose requests also take a slot of the process's `total`:
 * an account with a million events holds at most its own concurrency of the total's slots, and waits in the
 * total's line like every other account, so a small account's poll is never stuck behind the whole of a large
 * one's scan. Polls still go before commands, in both bounds.
 */
export class AccountBound extends HaloBound {
  constructor(
    options: { readonly concurrency: number },
    private readonly total: PQueue,
  ) {
    super(options);
  }

  override add<T>(task: (options: TaskOptions) => PromiseLike<T>, options: AddOptions = {}): Promise<T> {
    const priority = options.priority ?? lane.getStore() ?? 0;
    const { signal } = options;
    return super.add<T>(
      (taskOptions) =>
        this.total.add<T>(
          () => task(taskOptions),
          signal === undefined ? { priority } : { priority, signal },
        ),
      { priority, ...options },
    );
  }
}

/**
 * Each account's one bound in this process, by its scope: its polls (the fleet's pipeline, rebuilt at each lease
 * move) and its commands (the services a Slack request acts through, built apart and kept) take the same one, so
 * that Halo's per-key limits see the account's requests together, whichever side made them.
 */
export class AccountBounds {
  private readonly bounds = new Map<string, AccountBound>();

  constructor(
    private readonly concurrency: number,
    private readonly total: PQueue,
  ) {}

  /** The account's bound, made on first use. */
  of(scope: { readonly workspace: string; readonly account: string }): AccountBound {
    const key = `${scope.workspace}\n${scope.account}`;
    let bound = this.bounds.get(key);
    if (bound === undefined) {
      bound = new AccountBound({ concurrency: this.concurrency }, this.total);
      this.bounds.set(key, bound);
    }
    return bound;
  }

  /** The account was disconnected: what still holds its bound keeps it, the next user gets a new one. */
  forget(scope: { readonly workspace: string; readonly account: string }): void {
    this.bounds.delete(`${scope.workspace}\n${scope.account}`);
  }
}
