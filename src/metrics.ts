/**
 * `GET /metrics`: Prometheus text through prom-client, on the same port as `/healthz`. Names follow Prometheus'
 * conventions (a `halo_slack_` prefix, base units, `_total` counters); every label has a short fixed set of values.
 * Gauges that describe shared state (outbox, leadership, last poll) are read when scraped; the outbox count at
 * most every {@link OUTBOX_PENDING_MAX_AGE_MS}.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.ts';
import type { PipelineMetrics } from './pipeline/telemetry.ts';

export interface MetricsSources {
  /** Alerts waiting in the outbox; throws when the database cannot be read. */
  readonly pending: () => Promise<number>;
  /** Whether this replica polls any account. */
  readonly isLeader: () => boolean;
  /** How many accounts this replica holds a lease on, and how many live replicas it sees. */
  readonly sharing: () => { accountsHeld: number; replicasSeen: number };
  /** Milliseconds since the epoch of the last successful poll (by any replica), null before the first. */
  readonly lastSuccessAt: () => Promise<number | null>;
}

export interface Metrics extends PipelineMetrics {
  /** An account's lease changed hands here: claimed, released (handed over), or lost to another replica. */
  leaseMoved(move: 'claimed' | 'released' | 'lost', count: number): void;
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * How old the outbox-pending count may be when scraped. A count reads the outbox's pending rows: scrapes every
 * second by several Prometheus servers, on every replica, must not each cost one.
 */
export const OUTBOX_PENDING_MAX_AGE_MS = 5000;

/**
 * `read`, called at most once per `maxAgeMs` of `clock`; callers meanwhile share its last answer, the one in
 * flight included. A failure is kept as long as a value: a database that is down is not asked on every scrape.
 */
export function cachedRead<T>(read: () => Promise<T>, maxAgeMs: number, clock: Clock): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = clock.now();
    // A clock set back is no reason to keep a value for longer.
    if (last === undefined || now - last.at >= maxAgeMs || now < last.at) {
      // Through a promise, so that a store that throws at once (SQLite is synchronous) fails this value only.
      const value = Promise.resolve().then(read);
      value.catch(() => undefined);
      last = { at: now, value };
    }
    return last.value;
  };
}

export function createMetrics(sources: MetricsSources, clock: Clock = systemClock): Metrics {
  const pending = cachedRead(sources.pending, OUTBOX_PENDING_MAX_AGE_MS, clock);
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'halo_slack_' });
  const polls = new Counter({
    name: 'halo_slack_polls_total',
    help: 'Polls of Halo, by result (ok, error).',
    labelNames: ['result'],
    registers: [register],
  });
  const pollDuration = new Histogram({
    name: 'halo_slack_poll_duration_seconds',
    help: 'Time one poll took: scan, record, route.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [register],
  });
  const haloRequests = new Counter({
    name: 'halo_slack_halo_requests_total',
    help: 'Requests to the Halo API, by outcome (ok, auth_error, http_error, error), retries included.',
    labelNames: ['outcome'],
    registers: [register],
  });
  const eventsSeen = new Counter({
    name: 'halo_slack_events_seen_total',
    help: 'Events read from Halo by polls.',
    registers: [register],
  });
  const posted = new Counter({
    name: 'halo_slack_alerts_posted_total',
    help: 'Messages posted to Slack, by kind (alert, digest, notice), and messages updated because their event is gone (gone).',
    labelNames: ['kind'],
    registers: [register],
  });
  const failed = new Counter({
    name: 'halo_slack_alerts_failed_total',
    help: 'Alerts recorded as failed for good, by reason (channel, message, attempts, render).',
    labelNames: ['reason'],
    registers: [register],
  });
  const rateLimited = new Counter({
    name: 'halo_slack_slack_rate_limited_total',
    help: 'Slack answers of 429 (rate limited).',
    registers: [register],
  });
  const eventToPost = new Histogram({
    name: 'halo_slack_event_to_post_seconds',
    help: 'From an alert entering the outbox (its event found) to its post.',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [register],
  });
  const commandAck = new Histogram({
    name: 'halo_slack_command_ack_seconds',
    help: 'From a /halo command reaching its listener to its acknowledgement.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 3],
    registers: [register],
  });
  new Gauge({
    name: 'halo_slack_outbox_pending',
    help: 'Alerts waiting to be posted, counted at most every 5 s (absent while the database cannot be read).',
    registers: [register],
    async collect() {
      this.reset();
      // A scrape while the database is down still serves every other metric.
      const count = await pending().catch(() => null);
      if (count !== null) this.set(count);
    },
  });
  const leaseMoves = new Counter({
    name: 'halo_slack_lease_moves_total',
    help: 'Account leases that changed hands at this replica, by move (claimed, released, lost).',
    labelNames: ['move'],
    registers: [register],
  });
  new Gauge({
    name: 'halo_slack_accounts_held',
    help: 'Halo accounts this replica holds a lease on (polls and posts for).',
    registers: [register],
    collect() {
      this.set(sources.sharing().accountsHeld);
    },
  });
  new Gauge({
    name: 'halo_slack_replicas_seen',
    help: 'Live replicas this one saw at its last heartbeat, itself included.',
    registers: [register],
    collect() {
      this.set(sources.sharing().replicasSeen);
    },
  });
  new Gauge({
    name: 'halo_slack_is_leader',
    help: '1 while this replica polls and posts for at least one account, 0 otherwise.',
    registers: [register],
    collect() {
      this.set(sources.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'halo_slack_last_successful_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll by any replica (absent before the first).',
    registers: [register],
    async collect() {
      this.reset();
      const at = await sources.lastSuccessAt().catch(() => null);
      if (at !== null) this.set(at / 1000);
    },
  });

  return {
    contentType: register.contentType,
    render: () => register.metrics(),
    pollFinished(result, seconds, events) {
      polls.inc({ result });
      pollDuration.observe(seconds);
      eventsSeen.inc(events);
    },
    haloRequest: (outcome) => haloRequests.inc({ outcome }),
    posted(kind, secondsSinceQueued) {
      posted.inc({ kind });
      // A notice (the connected message, a mute's end) reports on the bot, not on a Halo event; a gone update
      // reports an event's end, not its arrival; a summary, a period.
      if (kind === 'alert' || kind === 'digest') eventToPost.observe(Math.max(0, secondsSinceQueued));
    },
    failed: (reason, count) => failed.inc({ reason }, count),
    rateLimited: () => rateLimited.inc(),
    leaseMoved: (move, count) => leaseMoves.inc({ move }, count),
    commandAcked: (seconds) => commandAck.observe(seconds),
  };
}
