/**
 * Each Slack user may run so many `/halo` commands a minute (HALO_COMMANDS_PER_MINUTE): one user's flood must
 * not take Halo's capacity from everyone else's commands and from the polls. Sliding window: the times of each
 * user's last commands are kept, at most `perMinute` of them.
 */
import type { Clock } from '../clock.ts';

const MINUTE_MS = 60_000;

export type RateDecision =
  { readonly ok: true } | { readonly ok: false; readonly asked: number; readonly retryInSeconds: number };

export class UserRateLimit {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1)
      throw new TypeError(`Expected \`perMinute\` to be a whole number >= 1, got ${perMinute}`);
  }

  /** Counts a command of `userId`, unless they have had their share of the last minute. */
  take(userId: string): RateDecision {
    const now = this.clock.now();
    const times = (this.recent.get(userId) ?? []).filter((at) => at > now - MINUTE_MS && at <= now);
    if (times.length >= this.perMinute) {
      this.recent.set(userId, times);
      return {
        ok: false,
        asked: times.length,
        retryInSeconds: Math.ceil((times[0]! + MINUTE_MS - now) / 1000),
      };
    }
    times.push(now);
    this.recent.set(userId, times);
    this.forgetIdle(now);
    return { ok: true };
  }

  /** Users idle for a minute are forgotten, so the map holds only the last minute's users. */
  private forgetIdle(now: number): void {
    if (this.recent.size < 1000) return;
    for (const [user, times] of this.recent) if (times.at(-1)! <= now - MINUTE_MS) this.recent.delete(user);
  }
}

/** The answer to a user over their share: how many, and when to try again. */
export function rateLimited(asked: number, retryInSeconds: number): string {
  return `You asked ${asked} times in a minute, the most this bot takes from one person (HALO_COMMANDS_PER_MINUTE); try again in ${retryInSeconds} s.`;
}
