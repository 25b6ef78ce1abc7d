/**
 * What the poller is given and what it tells: its options, its status and each poll's report, the backoff after
 * failed polls, and a failed poll as people see it. Split from poller.ts, which re-exports them.
 */
import type PQueue from 'p-queue';
import type { Clock } from '../clock.ts';
import type { HaloEvent } from '../domain/event.ts';
import { backoffMs, PRODUCTION_DELAYS } from '../delays.ts';
import type { SeverityOf } from '../domain/severity.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store-port.ts';
import type { HaloClient, ScanMemo } from './halo-port.ts';
import { HaloApiError, HaloError, HaloHttpError } from './halo-errors.ts';
import type { ScopeCutShort } from './poll-steps.ts';
import type { Redact } from './secrets.ts';
import type { PipelineMetrics } from './telemetry.ts';
import type { Timers } from './ticker.ts';
import type { Route } from './routes.ts';

export interface PollerOptions {
  readonly halo: HaloClient;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs: number;
  /** Wait after the first failed poll, doubling per failure up to the cap (see `failureDelayMs`). */
  readonly failureBackoffMs?: number;
  readonly failureBackoffCapMs?: number;
  /** HALO_MAX_REQUESTS_PER_POLL: list requests one poll may make; a scan past it is cut short. */
  readonly maxRequestsPerPoll?: number;
  /**
   * The one bound on Halo requests in flight, shared with commands (HALO_SCAN_CONCURRENCY). Required: a poll that
   * made its own would double the requests Halo sees while a command runs.
   */
  readonly haloRequests: PQueue;
  readonly pageSize: number;
  /** On the very first poll, how many existing events to post anyway. */
  readonly backfill: number;
  /** More new events than this for one channel in one poll become one digest. */
  readonly digestThreshold: number;
  /** The channel from HALO_ALERT_CHANNEL with its filters, if set. */
  readonly defaultRoute: Route | null;
  /** Critical events are held back only by a mute that names their exact key. */
  readonly isCritical: (event: HaloEvent) => boolean;
  /** Each event's severity (the built-in table with HALO_SEVERITY on top): routes may ask for a minimum. */
  readonly severityOf?: SeverityOf;
  /** Whether a key's severity is only guessed: a minimum severity holding such an event back counts it. */
  readonly isAssumed?: (key: string) => boolean;
  /** HALO_THREADS: a scan's events go into its thread, where they do not count towards a digest. */
  readonly threads?: boolean;
  /** Called when new rows are in the outbox. */
  readonly onRouted: () => void;
  /** Replaces known secrets in events' texts before they reach the outbox (see secrets.ts). */
  readonly redact?: Redact;
  /** Asked before each poll: a replica that cannot prove it leads does not poll. Absent: always leads. */
  readonly stillLeads?: () => Promise<boolean>;
  /**
   * While polling, how often a start check that is due (see `Poller.subscriptionsChanged`) runs or is
   * retried (the leadership heartbeat). Nothing is read unless one is due. Absent: only at each poll.
   */
  readonly startCheckMs?: number;
  readonly metrics?: PipelineMetrics;
  /**
   * Makes the memo of list pages already read (built by the composition root: the memo is the Halo client's
   * business). Absent: every page is read every poll.
   */
  readonly pageMemo?: () => ScanMemo;
  /**
   * Told the number of events after each successful poll of the loop: the composition root's runtime tuning
   * (a forced collection after a large poll, see src/runtime-memory.ts) lives at the edge, not here.
   */
  readonly afterPoll?: (events: number) => void;
  /**
   * Told each poll's outcome (null: it succeeded) before the loop waits for the next: an account's health is
   * recorded here (see fleet-health.ts). Its failure is logged, never the poll's.
   */
  readonly onOutcome?: (error: unknown) => Promise<void>;
  /**
   * After Halo refused the key (401/403), the wait before the next poll instead of the doubling backoff: a person
   * must give a new key, and asking every 30 s would only fill Halo's logs. Absent: the usual backoff.
   */
  readonly authRetryMs?: number;
  /**
   * How long after start the first poll waits: the fleet spreads its accounts' polls over the interval (see
   * fleet-plan.ts `pollOffsetMs`), so that a thousand accounts do not all poll, and hold their pages, at once.
   * Absent: at once.
   */
  readonly firstPollAfterMs?: number;
  /** Its waits between polls and start checks: on a Ticker shared by every account (see ticker.ts). Default: Node's. */
  readonly timers?: Timers;
}

export interface PollStatus {
  readonly lastSuccessAt: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastPoll: PollReport | null;
}

export interface PollReport {
  readonly scopes: number;
  readonly requests: number;
  readonly events: number;
  readonly invalid: number;
  readonly staged: number;
  readonly routed: number;
  readonly baseline: boolean;
  readonly ms: number;
  /** The scans that stopped before their end (see `ScanResult.cutShort`); empty when every one finished. */
  readonly cutShort: readonly ScopeCutShort[];
}

/**
 * Backoff after failed polls: doubling from 1 s, capped so that polling resumes within 30 s of Halo recovering
 * (production delays; tests shorten both).
 */
export function failureDelayMs(
  consecutiveFailures: number,
  first = PRODUCTION_DELAYS.pollBackoffMs,
  cap = PRODUCTION_DELAYS.pollBackoffCapMs,
): number {
  return backoffMs(consecutiveFailures, first, cap);
}

/**
 * A failed poll as `/halo status` and the App Home show it: never text Halo wrote (its error message, a
 * redirect's address), which may quote the API key in forms no redaction knows; the log keeps that, redacted.
 */
export function shownError(error: unknown): string {
  if (error instanceof HaloApiError)
    return `Halo ${error.endpoint} refused the request (error code ${error.code}, HTTP ${error.status}); Halo’s message is in the bot’s log`;
  if (error instanceof HaloHttpError && error.redirectedTo !== undefined)
    return `Halo ${error.endpoint} answered HTTP ${error.status}, a redirect the bot does not follow; set HALO_API_URL to the address in the bot’s log`;
  if (error instanceof HaloError) return error.message;
  return 'The poll failed on the bot’s side; the details are in its log';
}
