/**
 * `npx tsx bench/flood.ts`: issue 23, item 7, measured. The bot as `npm start` runs it, against the Halo
 * stand-in (9,500 events: 10 pages a listing; 20 ms a request) and the Slack one, on 127.0.0.1. A new alert's delay from event to
 * post, alone and under 300 `/halo events` sent at once: from one non-admin (identical listings; the per-user
 * share answers most), and from 300 users (distinct listings: the worst case for the Halo bound). Prints one
 * table with the target beside each figure: the alert within the poll interval + 2 s (3 s here), and at most
 * 10 Halo requests per distinct listing.
 */
import { makeEvents, startFakeHalo, type FakeHalo } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import { BenchBot, benchEnv } from './bot.ts';
import { SlashClient } from './slash.ts';

const INTERVAL_MS = 1000;
const FLOOD = 300;
const TARGET_MS = INTERVAL_MS + 2000;
/** The polls scan this key only, so that their requests are told from the commands'. */
const ALERT_KEY = 'target-scan-start';

const say = (text: string): void => void process.stderr.write(`[flood] ${text}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Time from a new event in Halo to its alert in Slack. */
async function alertDelay(halo: FakeHalo, slack: FakeSlack): Promise<number> {
  const event = halo.addEvent({ key: ALERT_KEY, target_id: 1 });
  const addedAt = Date.now();
  const post = await slack.waitFor(
    () =>
      slack.posts.find((p) => p.channel === 'CALERTS' && JSON.stringify(p.blocks).includes(event.event_id)),
    120_000,
  );
  return post.at - addedAt;
}

interface Row {
  readonly scenario: string;
  readonly alertMs: number;
  readonly listings: number;
  readonly requests: number;
  readonly answeredMs: number;
}

async function scenario(
  name: string,
  halo: FakeHalo,
  slack: FakeSlack,
  client: SlashClient,
  command: (i: number) => { text: string; userId: string },
): Promise<Row> {
  // Past the channel's 1 post/s pace and the last flood's fresh listings.
  await sleep(6000);
  const before = halo.requests.length;
  const responsesBefore = slack.responses.length;
  const started = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < FLOOD; i++) {
    const { text, userId } = command(i);
    sends.push(client.send(text, { userId, timeoutMs: 30_000 }));
  }
  await Promise.all(sends);
  const alertMs = await alertDelay(halo, slack);
  await slack.waitFor(() => slack.responses.length - responsesBefore >= FLOOD, 600_000);
  const answeredMs = Date.now() - started;
  // The polls scan by the alert key; everything else on event/list.json is a command's.
  const commandRequests = halo.requests
    .slice(before)
    .filter((r) => r.path.endsWith('list.json') && r.query.get('key') !== ALERT_KEY);
  const listings = new Set(
    commandRequests.map((r) => `${r.query.get('key') ?? ''} ${r.query.get('target_id') ?? ''}`),
  ).size;
  return { scenario: name, alertMs, listings, requests: commandRequests.length, answeredMs };
}

async function main(): Promise<void> {
  const halo = await startFakeHalo({ events: makeEvents(9500), latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  const { bot, port } = await BenchBot.start((db) =>
    benchEnv(halo, slack, db, { HALO_ALERT_KEYS: ALERT_KEY }),
  );
  const client = new SlashClient(port, () => slack.responseUrl());
  try {
    await bot.nextPoll(0, 60_000);
    say('baseline recorded; measuring');
    await sleep(1500);
    const quiet = await alertDelay(halo, slack);
    const rows = [
      await scenario('300 × /halo events (10 pages each), one non-admin', halo, slack, client, () => ({
        text: 'events',
        userId: 'UFLOOD',
      })),
      await scenario('300 × distinct listings, 300 users', halo, slack, client, (i) => ({
        text: `events key:port-open target:${i + 1}`,
        userId: `UUSER${i}`,
      })),
    ];
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      '| Scenario | New alert posted after | Target | Halo requests for commands | Per distinct listing (≤ 10) | All answers after |',
      '|---|---:|---:|---:|---:|---:|',
      `| no flood | ${s(quiet)} | ${s(TARGET_MS)} | – | – | – |`,
      ...rows.map(
        (r) =>
          `| ${r.scenario} | ${s(r.alertMs)}${r.alertMs > TARGET_MS ? ' MISSED' : ''} | ${s(TARGET_MS)} | ${r.requests} | ${(r.requests / Math.max(1, r.listings)).toFixed(1)} | ${s(r.answeredMs)} |`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    client.close();
    await bot.stop();
    await Promise.all([halo.close(), slack.close()]);
  }
}

await main();
