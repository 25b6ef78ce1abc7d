import { createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import {
  botEnv,
  inProcessBot,
  runBotToExit,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser } from './user.ts';

let fakes: Fakes | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  await fakes?.close();
  [bot, fakes] = [undefined, undefined];
});

/** Prometheus text to `name{labels}` → value, checking that each sample line parses. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_][a-z0-9_]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(match, line).not.toBeNull();
    samples.set(match![1]!, Number(match![2]));
  }
  return samples;
}

const polls = (running: InProcessBot): number =>
  running.logs.filter((l) => / poll: (done|baseline recorded) /.test(l)).length;

it('serves Prometheus metrics on the /healthz port whose counters match what the bot did', async () => {
  // A channel limit of 1 post a second: posting two alerts 100 ms apart meets one 429.
  fakes = await startFakes({ rateLimitPerChannelMs: 1000 });
  const f = fakes;
  f.halo.addEvent();
  bot = await inProcessBot(botEnv(f, { HALO_ADMIN_USERS: 'UADMIN' }));
  const running = bot;
  await waitFor('a baseline', () => polls(running) >= 1);
  f.halo.addEvent();
  f.halo.addEvent();
  await f.slack.waitFor(() => f.slack.postsTo('CALERTS')[1], 15_000);
  await slackUser(f, running, 'UADMIN').slash('help');

  const response = await fetch(`${running.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parse(await response.text());
  const logged = polls(running);
  const rateLimited = f.slack.calls.filter(
    (c) => c.method === 'chat.postMessage' && c.error === 'ratelimited',
  ).length;

  expect(samples.get('halo_slack_alerts_posted_total{kind="alert"}')).toBe(2);
  // The first start's "connected" message; it is not an event, so it has no event-to-post latency.
  expect(samples.get('halo_slack_alerts_posted_total{kind="notice"}')).toBe(1);
  expect(samples.get('halo_slack_event_to_post_seconds_count')).toBe(2);
  expect(samples.get('halo_slack_command_ack_seconds_count')).toBe(1);
  expect(samples.get('halo_slack_outbox_pending')).toBe(0);
  expect(samples.get('halo_slack_is_leader')).toBe(1);
  // One process (SQLite) holds the one account; it claimed it once, and no lease moved since.
  expect(samples.get('halo_slack_accounts_held')).toBe(1);
  expect(samples.get('halo_slack_replicas_seen')).toBe(1);
  expect(samples.get('halo_slack_lease_moves_total{move="claimed"}')).toBe(1);
  expect(samples.get('halo_slack_lease_moves_total{move="lost"}')).toBeUndefined();
  expect(samples.get('halo_slack_slack_rate_limited_total')).toBe(rateLimited);
  expect(rateLimited).toBeGreaterThan(0);
  // A poll may finish between the scrape and the count of log lines.
  const ok = samples.get('halo_slack_polls_total{result="ok"}')!;
  expect(ok).toBeGreaterThanOrEqual(logged - 1);
  expect(ok).toBeLessThanOrEqual(logged);
  expect(samples.get('halo_slack_poll_duration_seconds_count')).toBe(ok);
  expect(samples.get('halo_slack_halo_requests_total{outcome="ok"}')).toBeGreaterThanOrEqual(ok);
  expect(samples.get('halo_slack_events_seen_total')).toBeGreaterThanOrEqual(3);
  const lastPoll = samples.get('halo_slack_last_successful_poll_timestamp_seconds')!;
  expect(Math.abs(lastPoll - Date.now() / 1000)).toBeLessThan(10);
  expect(samples.has('halo_slack_process_cpu_seconds_total')).toBe(true);
  expect(samples.has('halo_slack_alerts_failed_total{reason="message"}')).toBe(false);
  // No label takes an unbounded value: event IDs, channels and users never appear.
  expect([...samples.keys()].join('\n')).not.toMatch(/ev-|CALERTS|UADMIN/);
});

it('counts the outbox’s pending alerts at most every 5 s of the bot’s clock, however often it is scraped', async () => {
  fakes = await startFakes();
  const f = fakes;
  // The bot's clock moves only when the test moves it: a failed post's retry comes due only then, too.
  let now = Date.now();
  const clock = { now: () => now };
  bot = await inProcessBot(botEnv(f), { clock });
  const running = bot;
  await waitFor('a baseline', () => polls(running) >= 1);
  // The first start's "connected" message has left the outbox.
  await f.slack.waitFor(() => f.slack.connected[0]);
  const pending = async (): Promise<number | undefined> =>
    parse(await (await fetch(`${running.url}/metrics`)).text()).get('halo_slack_outbox_pending');
  expect(await pending()).toBe(0);

  // Slack fails the first post: both alerts wait in the outbox, the first for a retry that is not due yet.
  f.slack.fault = (call) =>
    call.method === 'chat.postMessage' ? { kind: 'status', status: 503 } : undefined;
  const earlier = f.slack.calls.length;
  f.halo.addEvent();
  f.halo.addEvent();
  await waitFor('a failed post', () =>
    f.slack.calls.slice(earlier).some((c) => c.method === 'chat.postMessage'),
  );
  // The count made a moment ago still stands: no scrape, however many, counts again within 5 s.
  for (let i = 0; i < 5; i++) expect(await pending()).toBe(0);
  now += 4999;
  expect(await pending()).toBe(0);
  now += 1;
  expect(await pending()).toBe(2);

  f.slack.fault = undefined;
  now += 1000;
  await f.slack.waitFor(() => f.slack.postsTo('CALERTS')[1], 10_000);
  expect(await pending()).toBe(2);
  now += 5000;
  expect(await pending()).toBe(0);
});

it('serves /metrics apart with METRICS_PORT, on loopback, leaving the public port /healthz and Slack only', async () => {
  fakes = await startFakes();
  bot = await inProcessBot(botEnv(fakes, { METRICS_PORT: '0' }));
  const running = bot;
  const metricsPort = running.bot.metricsPort;
  expect(metricsPort).not.toBeNull();
  await waitFor('a baseline', () => polls(running) >= 1);

  // The public port: /healthz answers, /metrics is not there.
  expect((await fetch(`${running.url}/metrics`)).status).toBe(404);
  expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  // The metrics port, on 127.0.0.1 (METRICS_HOST's default): /metrics only.
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(metrics.status).toBe(200);
  expect(parse(await metrics.text()).get('halo_slack_is_leader')).toBe(1);
  expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
  expect((await fetch(`http://127.0.0.1:${metricsPort}/slack/events`, { method: 'POST' })).status).toBe(404);
  expect(running.logs.find((l) => l.includes('halo-slack started'))).toContain(
    `metrics=127.0.0.1:${metricsPort}/metrics`,
  );
});

it('names METRICS_PORT, not PORT, when the metrics port is the one taken', async () => {
  fakes = await startFakes();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const result = await runBotToExit(botEnv(fakes, { METRICS_PORT: String(port) }));
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      `Port ${port} is already in use: stop the other program or set METRICS_PORT.`,
    );
  } finally {
    taken.close();
  }
});
