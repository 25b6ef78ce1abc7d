// SIGTERM: the bot finishes the post in flight, keeps the rest in the outbox, and is gone within 10 s.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { FAST_DELAYS, waitFor, type ChildBot } from '../harness.ts';
import {
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  LIST_PATH,
  logMatch,
  processTree,
  record,
  ROOMY,
  scenarioPerTest,
  stillAlive,
  to,
} from './scenario.ts';

const scenario = scenarioPerTest();

/** Sends SIGTERM as a process manager would (to the process `npm start` began) and times the exit. */
async function sigterm(bot: ChildBot): Promise<{ code: number | string; ms: number; orphans: number[] }> {
  const tree = processTree(bot);
  const started = performance.now();
  bot.child.kill('SIGTERM');
  const code = await bot.exited;
  const ms = performance.now() - started;
  // The bot runs in tsx's child process; it must be gone too, not only the process that got the signal.
  await waitFor('the bot process to exit', () => stillAlive(tree).length === 0, 15_000).catch(
    () => undefined,
  );
  return { code, ms, orphans: stillAlive(tree) };
}

describe('SIGTERM', ROOMY, () => {
  it('with a slow post in flight: finishes it, exits 0 within 10 s, the rest is posted after a restart', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    halo.addEvent();
    const proxy = await s.proxy();
    // The post is held 1 s; the drain (1 s in the suite's delays, 6 s in production) must cover it.
    const env = s.env({ SLACK_API_URL: proxy.apiUrl, TEST_DELAYS: `${FAST_DELAYS},drain=4000` });
    const first = await s.spawn(env);
    await logMatch(first, /poll: baseline recorded/);

    proxy.hold = ({ method }) => (method === 'chat.postMessage' ? 1000 : undefined);
    const events = [1, 2, 3].map((m) => halo.addEvent({ date_created: `2026-01-01 10:0${m}` }));
    await waitFor('a post in flight', () => slack.posts.length === 1 && proxy.holding() === 1);
    const stop = await sigterm(first);
    expect(stop.code).toBe(0);
    expect(stop.ms, 'SIGTERM to exit').toBeLessThan(10_000);
    expect(stop.orphans).toEqual([]);
    expect(first.output()).toMatch(/alert posted[\s\S]*stopped/);

    proxy.hold = undefined;
    const second = await s.spawn(env);
    await slack.waitFor(() => slack.posts.length >= 3, 20_000);
    await completedPolls(second, 2);
    const counts = countAlerts(slack.posts, to(ALERTS, ...events));
    record(context, {
      area: 'Process',
      fault: 'SIGTERM with a slow post in flight',
      behaviour: `finished the post, kept 2 in the outbox, exited 0 in ${(stop.ms / 1000).toFixed(1)} s; restart posted the rest`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });

  it('with Halo and Slack both hanging: exits within 10 s anyway, nothing lost', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    halo.addEvent();
    const env = s.env({ HALO_TIMEOUT_SECONDS: '60' });
    const first = await s.spawn(env);
    await logMatch(first, /poll: baseline recorded/);

    slack.fault = ({ method }) => (method === 'chat.postMessage' ? { kind: 'hang' } : undefined);
    const event = halo.addEvent();
    await waitFor('a hanging post', () => slack.calls.some((c) => c.method === 'chat.postMessage'));
    let hanging = 0;
    halo.fault = (req) => (req.path.endsWith(LIST_PATH) ? (hanging++, { kind: 'hang' }) : undefined);
    await waitFor('a hanging scan', () => hanging > 0);
    const stop = await sigterm(first);
    expect(stop.code).toBe(0);
    expect(stop.ms, 'SIGTERM to exit').toBeLessThan(10_000);
    expect(stop.orphans).toEqual([]);

    slack.fault = undefined;
    halo.fault = undefined;
    const second = await s.spawn(env);
    await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    await completedPolls(second, 2);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    record(context, {
      area: 'Process',
      fault: 'SIGTERM with Halo and Slack hanging',
      behaviour: `aborted the scan, gave the hung post its drain time, exited 0 in ${(stop.ms / 1000).toFixed(1)} s; restart posted it`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });
});
