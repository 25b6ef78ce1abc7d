/**
 * The poll's state in the store (`halo_state`: the scan plan, the totals per scope, the subscriptions that have a
 * starting point, the last success), kept in memory by the replica that polls the account: only that replica
 * writes those keys (fenced), so what changed is known without reading them again, and an unchanged value is not
 * written. A steady poll writes no row. Split from poller.ts.
 */
import { LAST_SUCCESS_SHARE_MS } from '../domain/last-success.ts';
import type { Logger } from '../log.ts';
import { STARTED_STATE } from './route-start.ts';
import type { Scope } from './routes.ts';
import { FencedError, type Store } from './store-port.ts';

export const STATE = { plan: 'last_plan', totals: 'scan_totals', lastSuccess: 'last_success_at' } as const;

/** An object's keys in order: the same totals are the same text, whichever scan ended first. */
export function sortedJson(record: Readonly<Record<string, number>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))));
}

export class PollState {
  /** The values as last read or written by this process; undefined: read at the next need. */
  private saved: Map<string, string | null> | undefined;
  /** When this process last wrote `last_success_at`; null: not since it started polling. */
  private sharedAt: number | null = null;

  constructor(
    private readonly store: Pick<Store, 'getState' | 'setState'>,
    private readonly log: Logger,
  ) {}

  /** Forgets the values: at each start, since another replica may have polled the account meanwhile. */
  reset(): void {
    this.saved = undefined;
    this.sharedAt = null;
  }

  async get(key: string): Promise<string | null> {
    return (await this.values()).get(key) ?? null;
  }

  /** The scans of the last successful poll (null before the first) and the totals they found per scope. */
  async lastPlan(): Promise<{ lastPlan: Scope[] | null; totals: Record<string, number> }> {
    const [plan, totals] = [await this.get(STATE.plan), await this.get(STATE.totals)];
    return {
      lastPlan: plan === null ? null : (JSON.parse(plan) as Scope[]),
      totals: JSON.parse(totals ?? '{}') as Record<string, number>,
    };
  }

  /** The subscriptions (start keys, route-start.ts) that have their starting point. */
  async started(): Promise<Set<string>> {
    return new Set(JSON.parse((await this.get(STARTED_STATE)) ?? '[]') as string[]);
  }

  /** Writes `entries` (fenced) and remembers them. */
  async write(entries: Readonly<Record<string, string>>): Promise<void> {
    const saved = await this.values();
    await this.store.setState(entries);
    for (const [key, value] of Object.entries(entries)) saved.set(key, value);
  }

  /**
   * After a successful poll at `now`: writes the values of `entries` that changed, with `last_success_at` when
   * anything else is written, on the first success since the start or after failures (`recovered`), and otherwise
   * every {@link LAST_SUCCESS_SHARE_MS}. A steady poll writes nothing.
   */
  async afterSuccess(
    entries: Readonly<Record<string, string>>,
    now: number,
    recovered: boolean,
  ): Promise<void> {
    const saved = await this.values();
    const changed = Object.entries(entries).filter(([key, value]) => saved.get(key) !== value);
    const share =
      changed.length > 0 ||
      recovered ||
      this.sharedAt === null ||
      now - this.sharedAt >= LAST_SUCCESS_SHARE_MS;
    if (!share) return;
    await this.write(Object.fromEntries([...changed, [STATE.lastSuccess, String(now)]]));
    this.sharedAt = now;
  }

  /**
   * Writes `last` as the last success if the other replicas have not seen it yet: when this replica stops polling
   * the account. Refused once another replica holds it (whose polls then say when it was last polled).
   */
  async shareOnStop(last: number | null): Promise<void> {
    if (this.saved === undefined || last === null || this.saved.get(STATE.lastSuccess) === String(last))
      return;
    try {
      await this.write({ [STATE.lastSuccess]: String(last) });
    } catch (error) {
      if (!(error instanceof FencedError))
        this.log.warn('poll: the last success could not be shared with the other replicas', { error });
    }
  }

  private async values(): Promise<Map<string, string | null>> {
    if (this.saved !== undefined) return this.saved;
    const keys = [STATE.plan, STATE.totals, STARTED_STATE, STATE.lastSuccess];
    const values = await Promise.all(keys.map((key) => this.store.getState(key)));
    this.saved = new Map(keys.map((key, i) => [key, values[i] ?? null]));
    return this.saved;
  }
}
