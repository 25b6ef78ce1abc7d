/**
 * `npm run demo`, minus the terminal: the real bot, built by the composition root exactly as `npm start` builds
 * it (`startBot(parseConfig(env))`), against a simulated Halo account and a local stand-in for Slack, with a web
 * page to watch and drive it. The demo writes the bot's whole environment itself (fresh fake tokens, a temporary
 * SQLite database, everything on 127.0.0.1), so no `.env` and no network are involved.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createRedactor } from '../src/redact.ts';
import { startFakeHalo } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { Feed } from './feed.ts';
import { startPageServer } from './server.ts';
import { seedHistory, startSimulator } from './simulator.ts';

export interface DemoOptions {
  /** The page's port; 0 for any free one. When it is taken, any free one is used (the URL is printed). */
  readonly port: number;
  /** Time between two steps of the simulated account's story. */
  readonly stepMs: number;
}

export interface RunningDemo {
  /** The page, e.g. `http://127.0.0.1:3030`. */
  readonly url: string;
  /** Stops the story, the page, the bot (posts in flight finish), the stand-ins; removes the database. */
  stop(): Promise<void>;
}

/** The person watching, as Slack would name them; they may delete events (`HALO_ADMIN_USERS`). */
export const DEMO_USER = { id: 'UDEMO', name: 'you' } as const;
export const DEMO_CHANNEL = 'CHALODEMO';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  // Fake, but treated as secrets all the same: the bot's logger redacts them, and so does the demo's.
  const secrets = { botToken: `xoxb-demo-${hex(12)}`, signingSecret: hex(16), haloKey: `demo-${hex(16)}` };
  const log = createLogger({ level: 'info', secrets: Object.values(secrets) });
  const redact = createRedactor(Object.values(secrets));
  const undo: (() => Promise<void> | void)[] = [];
  /** Never fails: each step that does is logged (redacted), and the rest still run. */
  const stop = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        log.error('demo: a part did not stop cleanly', { error });
      }
    }
    undo.length = 0;
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'halo-slack-demo-'));
    undo.push(() => rmSync(dir, { recursive: true, force: true }));
    const halo = await startFakeHalo({ apiKey: secrets.haloKey });
    undo.push(() => halo.close());
    const slack = await startFakeSlack({ token: secrets.botToken });
    undo.push(() => slack.close());
    const feed = new Feed(slack, {
      botName: 'Halo',
      userName: DEMO_USER.name,
      channel: DEMO_CHANNEL,
      people: { [DEMO_USER.id]: DEMO_USER.name },
      channels: { [DEMO_CHANNEL]: 'halo-alerts' },
    });
    seedHistory(halo, Date.now());

    const bot = await startBot(
      parseConfig({
        SLACK_BOT_TOKEN: secrets.botToken,
        SLACK_SIGNING_SECRET: secrets.signingSecret,
        SLACK_API_URL: slack.apiUrl,
        HALO_API_KEY: secrets.haloKey,
        HALO_API_URL: halo.url,
        HALO_POLL_INTERVAL_SECONDS: '1',
        HALO_ALERT_CHANNEL: DEMO_CHANNEL,
        HALO_ADMIN_USERS: DEMO_USER.id,
        // Something to see at once: the two newest events of the account's history.
        HALO_BACKFILL: '2',
        // Low enough that the story's bursts of seven become a digest.
        HALO_DIGEST_THRESHOLD: '5',
        DATABASE_URL: `sqlite:${join(dir, 'demo.db')}`,
        PORT: '0',
        HOST: '127.0.0.1',
        // Warnings and errors only: an info line a poll would scroll the page's address out of sight.
        LOG_LEVEL: 'warn',
      }),
    );
    undo.push(() => bot.stop());
    const botUrl = `http://127.0.0.1:${bot.port}`;
    // Its own start-up line is below the bot's log level here; this one says the bot is up, the page not yet.
    log.info('demo: the bot is up; the page follows its first poll', { port: bot.port });
    // Events added before the first poll would join the silent baseline: the story starts after it.
    await firstPoll(botUrl);

    const page = await startPageServer(options.port, {
      feed,
      botUrl,
      signingSecret: secrets.signingSecret,
      userId: DEMO_USER.id,
      userName: DEMO_USER.name,
      channel: DEMO_CHANNEL,
      log,
    });
    undo.push(() => page.close());
    const simulator = startSimulator(halo, { stepMs: options.stepMs });
    undo.push(() => simulator.stop());
    return { url: page.url, stop };
  } catch (error) {
    await stop();
    throw new Error(redact(error instanceof Error ? error.message : String(error)));
  }
}

/** Waits until the bot's `/healthz` reports a finished poll, as a monitor would see it. */
async function firstPoll(botUrl: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${botUrl}/healthz`);
    const body = (await response.json()) as { lastPollAt?: unknown };
    if (body.lastPollAt !== null && body.lastPollAt !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the bot did not finish its first poll of the simulated Halo within ${timeoutMs / 1000} s`);
}
