/**
 * One row of the fault report, carried from a test to the reporter in `task.meta` (serialised, so plain
 * data). Counts are per alert, an alert being one event meant for one channel.
 */
export interface FaultRow {
  /** Halo, Slack, Database, Process, Input or Secrets. */
  readonly area: string;
  readonly fault: string;
  /** What the bot did, in a phrase. */
  readonly behaviour: string;
  /** Alerts that should reach Slack; null where the fault involves no alerts. */
  readonly expected: number | null;
  /** Distinct expected alerts the fake Slack received. */
  readonly delivered: number | null;
  /** Extra posts of an alert already received. */
  readonly duplicated: number | null;
  /** Alerts recorded as failed (shown in `/halo status`) rather than delivered. */
  readonly failed?: number;
  /** `kill -9`s in the test: each may repeat at most the one post in flight. */
  readonly kills?: number;
  /**
   * Set by the secret scan after the test: how many sources were searched, and how many secrets were found.
   */
  secrets?: { sources: number; leaks: number };
}

declare module 'vitest' {
  interface TaskMeta {
    fault?: FaultRow;
  }
}
