/**
 * Every wait the bot makes on its own account (timeouts, paces, backoffs, the shutdown drain), in one place.
 * Production uses {@link PRODUCTION_DELAYS}, which the README promises. Tests run the same code with the same
 * delays shortened, through `TEST_DELAYS` (read by `src/config.ts`), rather than with fake timers: a bot started
 * by a test, in-process or as `npm start`'s child process, is configured the way a user configures one.
 */
export interface Delays {
  /** Timeout of one Slack Web API call. */
  readonly slackTimeoutMs: number;
  /** Pause between two posts to one channel, counted from the previous answer: Slack allows ~1/s/channel. */
  readonly slackGapMs: number;
  /** First wait after a post failed for now (5xx, network, invalid_auth); doubles per attempt. */
  readonly slackBackoffMs: number;
  /** The longest wait between two attempts of one post: a Slack outage delays alerts by at most this. */
  readonly slackBackoffCapMs: number;
  /** How often the outbox is looked at for rows that came due (retries, rows left by a crash). */
  readonly deliveryTickMs: number;
  /** First wait after a failed poll; doubles per failure. */
  readonly pollBackoffMs: number;
  /** The longest wait after failed polls: polling resumes within this of Halo recovering. */
  readonly pollBackoffCapMs: number;
  /** First wait before retrying a failed Halo request within a poll or command; doubles per attempt. */
  readonly haloBackoffMs: number;
  /** Time allowed at shutdown for posts in flight; the whole stop stays well inside 10 s. */
  readonly drainMs: number;
  /** How long a `/halo events` listing is kept for its Next page buttons, from when it was read. */
  readonly listingCacheMs: number;
  /** How often an account whose key Halo refused (401/403) is tried again until it is given a new one. */
  readonly needsKeyPollMs: number;
}

export const PRODUCTION_DELAYS: Delays = {
  slackTimeoutMs: 10_000,
  slackGapMs: 1000,
  slackBackoffMs: 2000,
  slackBackoffCapMs: 60_000,
  deliveryTickMs: 1000,
  pollBackoffMs: 1000,
  pollBackoffCapMs: 30_000,
  haloBackoffMs: 300,
  drainMs: 6000,
  listingCacheMs: 300_000,
  needsKeyPollMs: 3_600_000,
};

/**
 * What `TEST_DELAYS` may set: the delays above, plus two settings whose production floor (1 s) is too slow for
 * a test suite: the poll interval and the Halo timeout.
 */
export interface DelayOverrides extends Partial<Delays> {
  readonly pollIntervalMs?: number;
  readonly haloTimeoutMs?: number;
}

const NAMES: Record<string, keyof DelayOverrides> = {
  slackTimeout: 'slackTimeoutMs',
  slackGap: 'slackGapMs',
  slackBackoff: 'slackBackoffMs',
  slackBackoffCap: 'slackBackoffCapMs',
  deliveryTick: 'deliveryTickMs',
  pollBackoff: 'pollBackoffMs',
  pollBackoffCap: 'pollBackoffCapMs',
  haloBackoff: 'haloBackoffMs',
  drain: 'drainMs',
  listingCache: 'listingCacheMs',
  needsKeyPoll: 'needsKeyPollMs',
  pollInterval: 'pollIntervalMs',
  haloTimeout: 'haloTimeoutMs',
};

/**
 * Parses `name=ms,name=ms` (e.g. `slackBackoff=20,drain=500`). Returns the overrides and the problems found;
 * an unknown name is a problem rather than ignored, so that a typo cannot leave a test on production delays.
 */
export function parseDelayOverrides(raw: string | undefined): {
  overrides: DelayOverrides;
  problems: string[];
} {
  const overrides: Record<string, number> = {};
  const problems: string[] = [];
  for (const part of (raw ?? '').split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const match = /^([A-Za-z]+)=(\d{1,7})$/.exec(entry);
    const name = match === null ? undefined : NAMES[match[1]!];
    if (match === null || name === undefined) {
      // Only the name is repeated: a value pasted here by mistake could be anything, a secret included.
      const shown = /^[A-Za-z]{1,30}(?==)/.exec(entry)?.[0];
      problems.push(
        `TEST_DELAYS must be a comma list of name=milliseconds (0-9999999) with names from ` +
          `${Object.keys(NAMES).join(', ')}${shown === undefined ? '' : `; check "${shown}"`} ` +
          `(leave TEST_DELAYS unset outside tests)`,
      );
      continue;
    }
    overrides[name] = Number(match[2]);
  }
  return { overrides, problems };
}

/** Doubling from `first`, capped: the wait before attempt `failures + 1`. */
export function backoffMs(failures: number, first: number, cap: number): number {
  return Math.min(cap, first * 2 ** Math.max(0, failures - 1));
}
