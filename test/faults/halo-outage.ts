/**
 * The shared course of a Halo fault test: a running bot with a recorded baseline; Halo goes wrong while two
 * new events wait; the bot must stay up, back off, say so in /healthz and /halo status, and post both events
 * exactly once when Halo is back.
 */
import { expect, type TestContext } from 'vitest';
import { failureDelayMs } from '../../src/pipeline/poller.ts';
import { FAST, waitFor } from '../harness.ts';
import {
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  failureTimes,
  logMatch,
  record,
  to,
  type Scenario,
} from './scenario.ts';

export interface HaloOutage {
  readonly fault: string;
  readonly apply: (s: Scenario) => void;
  readonly clear: (s: Scenario) => void;
  readonly env?: Record<string, string>;
  /** What /halo status must say (/healthz says only "degraded"); null for a fault that is no failure (slowness). */
  readonly lastError: RegExp | null;
  /** Failed polls to see before Halo recovers (default 1; more to watch the backoff grow). */
  readonly failures?: number;
  /** The one notice the bot posts of itself during the outage (a refused key's), if it posts one. */
  readonly notice?: RegExp;
}

export async function haloOutage(context: TestContext, s: Scenario, outage: HaloOutage): Promise<void> {
  const { halo, slack } = await s.start();
  for (let i = 0; i < 3; i++) halo.addEvent();
  const bot = await s.bot(s.env(outage.env));
  await logMatch(bot, /poll: baseline recorded/);

  outage.apply(s);
  const waiting = [halo.addEvent({ subject: 'Waiting one' }), halo.addEvent({ subject: 'Waiting two' })];
  const failures = outage.lastError === null ? 0 : (outage.failures ?? 1);
  const did: string[] = [];

  if (outage.lastError !== null) {
    await waitFor(`${failures} failed polls`, () => failureTimes(bot).size >= failures, 30_000);
    const health = await s.health(bot);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', alertsPending: 0 });
    // /healthz is public: status and counts, never the error's text.
    expect(health.body).not.toHaveProperty('lastError');
    expect(health.body.consecutiveFailures).toBeGreaterThanOrEqual(failures);
    const status = await s.command(bot, 'status');
    expect(status.ack.status).toBe(200);
    const said = JSON.stringify(status.body);
    expect(said).toContain('Halo polls are failing');
    expect(said).toMatch(outage.lastError);
    // No alert while Halo fails; at most the one notice of a refused key.
    const noticed = outage.notice === undefined ? 0 : 1;
    if (noticed > 0) await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    expect(slack.posts).toHaveLength(noticed);
    if (outage.notice !== undefined) expect(slack.posts[0]!.text).toMatch(outage.notice);

    // Backoff: each retry waits at least the doubling delay after the failure before it (shortened here;
    // production's 1 s, 2 s, … 30 s is checked by a unit test).
    const times = failureTimes(bot);
    const gaps: number[] = [];
    for (let k = 1; k < failures; k++) {
      const gap = times.get(k + 1)! - times.get(k)!;
      const wanted = failureDelayMs(k, FAST.pollBackoff, FAST.pollBackoffCap);
      expect(gap, `wait after failure ${k}`).toBeGreaterThanOrEqual(wanted - 5);
      gaps.push(wanted);
    }
    const lastError = /Last error \(.*?\): (.*?)(?:\\n|")/.exec(said)?.[1] ?? '?';
    const error = lastError.replace(/^Halo event\/list\.json /, '');
    did.push(
      `poll failed ("${error.length > 44 ? `${error.slice(0, 43)}…` : error}")` +
        (gaps.length > 0 ? `, retried after ${gaps.join(' ms, ')} ms (doubling)` : '') +
        '; /healthz degraded and /halo status said so',
    );
  } else {
    // Slow is not broken: the events get through while Halo is still slow, and nothing reports a failure.
    await slack.waitFor(() => slack.posts.length >= 2, 30_000);
    const health = await s.health(bot);
    expect(health.body).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    const status = await s.command(bot, 'status');
    expect(JSON.stringify(status.body)).toContain('Polling normally');
    did.push('polled at Halo’s pace, reported no failure (/healthz ok, /halo status normal)');
  }

  outage.clear(s);
  const notices = outage.notice === undefined ? 0 : 1;
  await slack.waitFor(() => slack.posts.length >= 2 + notices, 40_000);
  await completedPolls(bot, 2);
  const after = await s.health(bot);
  expect(after.body).toMatchObject({ status: 'ok', consecutiveFailures: 0, alertsPending: 0 });

  // The refused key's notice is the bot's own line, checked above: the alerts are counted without it.
  const alerts = outage.notice === undefined ? slack.posts : slack.posts.slice(1);
  const counts = countAlerts(alerts, to(ALERTS, ...waiting));
  if (outage.notice !== undefined)
    did.push('one notice that the key needs replacing, then asked hourly (shortened)');
  did.push(failures > 0 ? 'waiting events posted once on recovery' : 'each event posted once');
  record(context, { area: 'Halo', fault: outage.fault, behaviour: did.join('; '), ...countsRow(counts) });
  expectCounts(counts);
}
