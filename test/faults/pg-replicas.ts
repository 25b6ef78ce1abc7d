/**
 * What the database fault tests share: two real bot processes (`npm start`'s command) on a PostgreSQL server of
 * the test file's own (test/pg-server.ts), new Halo events made through the fault, and what a user or a monitor
 * can observe of them: posts in the fake Slack, `/healthz`, command answers, live processes. Nothing here reads
 * the bot's tables, so the tests hold whatever shape the leases take.
 */
import { expect } from 'vitest';
import type { FakeHaloEvent } from '../../fakes/halo.ts';
import { waitFor, type ChildBot } from '../harness.ts';
import { alertEventId, ALERTS, logMatch, type Scenario } from './scenario.ts';

export interface Replicas {
  readonly bots: readonly ChildBot[];
  /** The env each replica was started with (REPLICA_ID differs). */
  readonly env: (id: string) => Record<string, string>;
  /** Every event made through {@link add}, in order. */
  readonly created: FakeHaloEvent[];
  /** A new Halo event, to be posted once to the alert channel. */
  readonly add: () => FakeHaloEvent;
}

/** What the image's HEALTHCHECK waits for an answer (Dockerfile). */
export const MONITOR_WAITS_MS = 4000;

export const REPLICA_IDS = ['replica-a', 'replica-b'] as const;

/**
 * Starts two replicas on `url` (each with `overrides(its ID)`) and waits for one of them to have recorded Halo's baseline (the events that
 * were there before the bot first looked, which it does not post).
 */
export async function startReplicas(
  s: Scenario,
  url: string,
  overrides: (id: string) => Record<string, string> = () => ({}),
): Promise<Replicas> {
  const env = (id: string): Record<string, string> =>
    s.env({ DATABASE_URL: url, REPLICA_ID: id, ...overrides(id) });
  const bots: ChildBot[] = [];
  for (const id of REPLICA_IDS) bots.push(await s.spawn(env(id)));
  await Promise.any(bots.map((bot) => logMatch(bot, /poll: baseline recorded/)));
  const created: FakeHaloEvent[] = [];
  return {
    bots,
    env,
    created,
    add: () => {
      const event = s.fakes.halo.addEvent();
      created.push(event);
      return event;
    },
  };
}

/**
 * `/healthz` of a replica as a monitor reads it, or the reason it did not answer: the Dockerfile's HEALTHCHECK
 * gives up after 4 s, and so does this.
 */
export async function healthOf(bot: ChildBot): Promise<Record<string, unknown> | string> {
  try {
    const response = await fetch(`${bot.url}/healthz`, { signal: AbortSignal.timeout(MONITOR_WAITS_MS) });
    return (await response.json()) as Record<string, unknown>;
  } catch (error) {
    return `no answer: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** When the alert for `event` reached the alert channel (the first post of it), or undefined. */
export function postedAt(s: Scenario, event: FakeHaloEvent): number | undefined {
  return s.fakes.slack.postsTo(ALERTS).find((p) => alertEventId(p) === event.event_id)?.at;
}

export async function waitPosted(
  s: Scenario,
  events: readonly FakeHaloEvent[],
  timeoutMs = 60_000,
): Promise<number> {
  await waitFor(
    `${events.map((e) => e.event_id).join(', ')} posted to ${ALERTS}`,
    () => events.every((e) => postedAt(s, e) !== undefined),
    timeoutMs,
  );
  return Math.max(...events.map((e) => postedAt(s, e)!));
}

/**
 * Waits until no replica has anything left to post (`alertsPending: 0` on every `/healthz`), then a little
 * longer, so that a duplicate on its way would be counted.
 */
export async function settle(s: Scenario, bots: readonly ChildBot[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const bodies = await Promise.all(bots.map(healthOf));
    if (bodies.every((b) => typeof b === 'object' && b.alertsPending === 0)) break;
    if (Date.now() > deadline) throw new Error(`alerts still pending: ${JSON.stringify(bodies)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = s.fakes.slack.posts.length;
  await new Promise((r) => setTimeout(r, 1500));
  expect(s.fakes.slack.posts.length, 'posts after every replica said nothing was pending').toBe(before);
}

/** Every replica still runs (none crashed or exited). */
export function expectAlive(bots: readonly ChildBot[]): void {
  for (const bot of bots)
    expect(
      { exitCode: bot.child.exitCode, signal: bot.child.signalCode },
      `a replica exited:\n${bot.output().slice(-3000)}`,
    ).toEqual({ exitCode: null, signal: null });
}

/** `/halo help`, which needs no database, answered through `bot`. */
export async function expectHelpAnswered(s: Scenario, bot: ChildBot): Promise<void> {
  const reply = await s.command(bot, 'help');
  expect(reply.ack.status).toBe(200);
  expect(JSON.stringify(reply.body)).toContain('/halo status');
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
