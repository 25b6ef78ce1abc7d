// Slack refusing for now: 429 with Retry-After, a burst over its per-channel pace, 5xx, a rejected token; and
// a long outage, after which every alert arrives once (the backlog as one digest).
import { describe, expect, it, type TestContext } from 'vitest';
import type { FakeHaloEvent } from '../../fakes/halo.ts';
import { isConnectedNotice, type SlackFault } from '../../fakes/slack.ts';
import { FAST, FAST_DELAYS, waitFor } from '../harness.ts';
import {
  alertEventId,
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  logMatch,
  record,
  ROOMY,
  scenarioPerTest,
  to,
  type Scenario,
} from './scenario.ts';

const scenario = scenarioPerTest();

async function running(s: Scenario, options: { rateLimitPerChannelMs?: number } = {}) {
  const fakes = await s.start(options);
  fakes.halo.addEvent();
  const bot = await s.bot(s.env());
  await logMatch(bot, /poll: baseline recorded/);
  // The first start's "connected" message goes out before any fault is set: the faults are for the alerts.
  await fakes.slack.waitFor(() => fakes.slack.connected.length === 1);
  return { ...fakes, bot };
}

/** The alert posts tried in `channel`, failed or not (the first start's "connected" message is not one). */
const postsTo = (s: Scenario, channel: string) =>
  s.fakes.slack.calls.filter(
    (c) =>
      c.method === 'chat.postMessage' && c.args.channel === channel && !isConnectedNotice(c.args.metadata),
  );

/** Fails the first `times` chat.postMessage calls with `fault`. */
function failFirst(s: Scenario, times: number, fault: (n: number) => SlackFault): void {
  let n = 0;
  s.fakes.slack.fault = ({ method }) => (method === 'chat.postMessage' && n < times ? fault(n++) : undefined);
}

/**
 * Fails chat.postMessage with `fault(n)` for the n-th call, for at least `times` calls and then until the
 * returned `release` is called: with backoffs of a few hundred ms, a check made meanwhile (/halo status) must
 * not race the retry that succeeds.
 */
function failUntilReleased(s: Scenario, times: number, fault: (n: number) => SlackFault): () => void {
  let n = 0;
  let released = false;
  s.fakes.slack.fault = ({ method }) =>
    method === 'chat.postMessage' && (n < times || !released) ? fault(n++) : undefined;
  return () => (released = true);
}

describe('Slack says "not now": retried, never posted twice', ROOMY, () => {
  it('429 with Retry-After: 2', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await running(s);
    // Slack's Retry-After is whole seconds; the channel's own pace here is FAST.slackGap (100 ms).
    failFirst(s, 1, () => ({ kind: 'status', status: 429, headers: { 'retry-after': '2' } }));
    const event = halo.addEvent();
    await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    await completedPolls(bot, 2);
    const [limited, retry] = postsTo(s, ALERTS);
    expect(limited?.error).toBe('ratelimited');
    const waited = retry!.at - limited!.at;
    expect(waited, 'the retry honoured Retry-After').toBeGreaterThanOrEqual(2000 - 50);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    record(context, {
      area: 'Slack',
      fault: '429 with Retry-After: 2',
      behaviour: `paused the channel ${(waited / 1000).toFixed(1)} s (costs no attempt), then posted`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });

  it('a burst against a 0.9 s per-channel rate limit', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await running(s, { rateLimitPerChannelMs: 900 });
    const events = [1, 2, 3].map((m) => halo.addEvent({ date_created: `2026-01-01 10:0${m}` }));
    await slack.waitFor(() => slack.posts.length >= 3, 30_000);
    await completedPolls(bot, 2);
    const calls = postsTo(s, ALERTS);
    const limited = calls.filter((c) => c.error === 'ratelimited');
    expect(limited.length, 'the fake did rate-limit the bot').toBeGreaterThan(0);
    for (const call of limited) {
      const next = calls.find((c) => c.at > call.at);
      expect(next!.at - call.at, 'waited Retry-After (at least 1 s)').toBeGreaterThanOrEqual(1000 - 50);
    }
    const counts = countAlerts(slack.posts, to(ALERTS, ...events));
    record(context, {
      area: 'Slack',
      fault: 'burst over a 1 post/0.9 s channel limit',
      behaviour: `paced 1 post/${FAST.slackGap} ms, honoured ${limited.length} × 429 Retry-After, posted all in order`,
      ...countsRow(counts),
    });
    expect(slack.posts.map(alertEventId), 'in the order Halo created them').toEqual(
      events.map((e) => e.event_id),
    );
    expectCounts(counts);
  });

  it('5xx: HTTP 503 with an HTML page, then HTTP 500', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await running(s);
    const release = failUntilReleased(s, 2, (n) =>
      n === 0
        ? { kind: 'status', status: 503, body: '<html><body>Service Unavailable</body></html>' }
        : { kind: 'status', status: 500 },
    );
    const event = halo.addEvent();
    await waitFor('a failed post', () => postsTo(s, ALERTS).length >= 1);
    const status = await s.command(bot, 'status');
    expect(JSON.stringify(status.body)).toContain('Alerts waiting to be posted: 1');
    release();
    await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    await completedPolls(bot, 2);
    const calls = postsTo(s, ALERTS);
    const outcomes = calls.map((c) => c.error ?? 'ok');
    expect(outcomes[0]).toBe('http_503');
    expect(outcomes.slice(1, -1), 'HTTP 500 until the check was made').toEqual(
      outcomes.slice(1, -1).map(() => 'http_500'),
    );
    expect(outcomes.at(-1)).toBe('ok');
    expect(outcomes.length).toBeGreaterThanOrEqual(3);
    // Shortened here; production's 2 s, 4 s, … 60 s is checked by a unit test.
    expect(calls[1]!.at - calls[0]!.at, 'first backoff').toBeGreaterThanOrEqual(FAST.slackBackoff - 20);
    expect(calls[2]!.at - calls[1]!.at, 'then doubled').toBeGreaterThanOrEqual(2 * FAST.slackBackoff - 20);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    record(context, {
      area: 'Slack',
      fault: 'HTTP 503 (HTML page), then HTTP 500',
      behaviour: `kept the alert pending (shown in /halo status), retried after ${FAST.slackBackoff} ms, ${2 * FAST.slackBackoff} ms, then posted`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });

  it('invalid_auth on chat.postMessage', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await running(s);
    const release = failUntilReleased(s, 1, () => ({ kind: 'error', error: 'invalid_auth' }));
    const event = halo.addEvent();
    await logMatch(bot, /Slack no longer accepts the workspace's bot token \(invalid_auth\)/);
    const status = await s.command(bot, 'status');
    expect(JSON.stringify(status.body)).toContain('Alerts waiting to be posted: 1');
    release();
    await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    await completedPolls(bot, 2);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    record(context, {
      area: 'Slack',
      fault: 'invalid_auth on chat.postMessage',
      behaviour: `logged "Slack no longer accepts the workspace's bot token", kept the alert pending (the workspace waits), tried again after ${FAST.slackBackoff} ms, posted`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });
});

describe('a long Slack outage: nothing fails, and afterwards everything arrives once', ROOMY, () => {
  // Production backs off 2 s, 4 s … at most 60 s (test/unit/delays.test.ts); here 20 ms doubling to at most
  // 60 ms, so that 30 attempts (the old bound of 8 gave up after 2+4+…+128 s) pass in two seconds.
  const outageDelays = `${FAST_DELAYS},slackBackoff=20,slackBackoffCap=60`;
  const cases: { fault: string; error: string; slack: SlackFault }[] = [
    { fault: 'HTTP 503 on every post', error: 'http_503', slack: { kind: 'status', status: 503 } },
    {
      fault: 'invalid_auth on every post (a token rotation)',
      error: 'invalid_auth',
      slack: { kind: 'error', error: 'invalid_auth' },
    },
  ];
  for (const c of cases) {
    it(c.fault, async (context: TestContext) => {
      const s = scenario.current;
      const { halo, slack } = await s.start();
      halo.addEvent();
      const bot = await s.bot(s.env({ HALO_DIGEST_THRESHOLD: '3', TEST_DELAYS: outageDelays }));
      await logMatch(bot, /poll: baseline recorded/);
      await slack.waitFor(() => slack.connected.length === 1);
      slack.fault = ({ method }) => (method === 'chat.postMessage' ? c.slack : undefined);

      // The first alert fails again and again; four more pile up behind it, over polls of at most the
      // threshold each (so that no poll makes a digest of its own).
      const first = halo.addEvent({ subject: 'First, failing' });
      await waitFor('a failed post', () => postsTo(s, ALERTS).length >= 1);
      const later: FakeHaloEvent[] = [];
      for (const round of [1, 2]) {
        later.push(halo.addEvent({ date_created: `2026-01-0${round} 10:01` }));
        later.push(halo.addEvent({ date_created: `2026-01-0${round} 10:02` }));
        await completedPolls(bot, 1);
      }
      await waitFor('30 attempts', () => postsTo(s, ALERTS).length >= 30, 30_000);
      const health = await s.health(bot);
      expect(health.body).toMatchObject({ alertsFailed: 0, alertsPending: 5 });
      const status = JSON.stringify((await s.command(bot, 'status')).body);
      expect(status).toContain('Alerts waiting to be posted: 5');
      expect(status).toContain('Alerts that could not be posted: 0');
      const attempts = postsTo(s, ALERTS).length;
      expect(new Set(postsTo(s, ALERTS).map((call) => call.error))).toEqual(new Set([c.error]));

      slack.fault = undefined;
      await slack.waitFor(() => slack.posts.length >= 2, 20_000);
      await completedPolls(bot, 2);
      expect(await s.health(bot)).toMatchObject({ body: { alertsFailed: 0, alertsPending: 0 } });
      const [alone, digest, ...more] = slack.posts;
      expect(more, 'no flood').toEqual([]);
      expect(alertEventId(alone!)).toBe(first.event_id);
      expect(digest!.text).toContain('4');
      const digestJson = JSON.stringify(digest!.blocks);
      const inDigest = later.filter((e) => digestJson.includes(e.event_id));
      expect(inDigest, 'the digest names each alert that waited').toHaveLength(later.length);
      await logMatch(bot, /Slack is answering again; the alerts that waited go as one digest/);

      record(context, {
        area: 'Slack',
        fault: `${c.fault}, ${attempts} attempts (backoff shortened)`,
        behaviour:
          'kept retrying (capped backoff), nothing failed; then the first alert, and the 4 that waited as one digest',
        expected: 5,
        delivered: 1 + inDigest.length,
        duplicated: 0,
        failed: 0,
      });
    });
  }
});
