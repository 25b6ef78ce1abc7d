import { LAST_SUCCESS_SHARE_MS, type PollReport, type PollStatus } from './poller.ts';
import type { Refusal } from './refusals.ts';

export interface HealthInput extends Pick<
  PollStatus,
  'lastSuccessAt' | 'lastErrorAt' | 'consecutiveFailures'
> {
  /** Null when the database could not be read. */
  readonly pending: number | null;
  readonly failed: number | null;
  readonly seen: number | null;
  /** The last poll, for the scans it cut short. */
  readonly lastPoll?: Pick<PollReport, 'cutShort'> | null;
  /** False when the database could not be read just now. */
  readonly databaseReachable?: boolean;
  /** Channels whose last post was refused for good (see refusals.ts). */
  readonly refusing?: readonly Refusal[];
  /** How many accounts this replica holds a lease on, and how many live replicas it sees. */
  readonly sharing?: { readonly accountsHeld: number; readonly replicasSeen: number };
  /** Whether this replica polls the account the status is of, which replica does, and its own name. */
  readonly leadership?: {
    readonly role: 'leader' | 'standby';
    readonly leader: string | null;
    readonly self: string;
  };
}

/**
 * The `/healthz` body. `degraded` when polls are failing, the database cannot be read (`database: unreachable`),
 * a channel refuses posts for good (`channelsRefusing`, each channel with the chat service's error code), the
 * last success is older than three intervals (plus the 30 s failure backoff; on a standby, plus the 5 minutes
 * between the holder's shares of it, see poller.ts LAST_SUCCESS_SHARE_MS), or the last poll cut a scan short
 * (`scansCutShort` names why: `request-cap`, `repeated-page`, `past-promise`; events past the cut were not read):
 * a monitor should page someone before alerts go missing, not after.
 *
 * Anyone who can reach the port can read it, so it holds status words, times and counts, each picked by name:
 * never text from Halo or Slack (an error message can quote a URL, a body or worse). The error itself is in
 * `/halo status` and the logs. A field added here must be of those kinds too.
 */
export function healthBody(input: HealthInput, now: number, pollIntervalMs: number): Record<string, unknown> {
  // A standby knows the holder's last success as shared every LAST_SUCCESS_SHARE_MS: that much older at most.
  const shared = input.leadership?.role === 'standby' ? LAST_SUCCESS_SHARE_MS : 0;
  const stale =
    input.lastSuccessAt !== null && now - input.lastSuccessAt > 3 * pollIntervalMs + 30_000 + shared;
  const reachable = input.databaseReachable !== false;
  // Reason codes only: the details quote event IDs, which are Halo's text.
  const cutShort = [...new Set((input.lastPoll?.cutShort ?? []).map((cut) => cut.reason))];
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  // Only what has the shape of a channel ID and an error code: nothing that could carry free text.
  const refusing = (input.refusing ?? []).filter(
    (r) => /^[CGD][A-Z0-9]{2,30}$/.test(r.channel) && /^[a-z][a-z0-9_]{0,79}$/.test(r.error),
  );
  return {
    status:
      input.consecutiveFailures > 0 || stale || !reachable || refusing.length > 0 || cutShort.length > 0
        ? 'degraded'
        : input.lastSuccessAt === null
          ? 'starting'
          : 'ok',
    lastPollAt: iso(input.lastSuccessAt),
    lastErrorAt: iso(input.lastErrorAt),
    consecutiveFailures: input.consecutiveFailures,
    alertsPending: input.pending,
    alertsFailed: input.failed,
    eventsSeen: input.seen,
    ...(cutShort.length === 0 ? {} : { scansCutShort: cutShort }),
    ...(reachable ? {} : { database: 'unreachable' }),
    ...(refusing.length === 0 ? {} : { channelsRefusing: refusing }),
    ...(input.leadership === undefined
      ? {}
      : { role: input.leadership.role, leader: input.leadership.leader, replica: input.leadership.self }),
    ...(input.sharing === undefined
      ? {}
      : { accountsHeld: input.sharing.accountsHeld, replicasSeen: input.sharing.replicasSeen }),
  };
}
