/**
 * Starts the real bot against the local Halo and Slack stand-ins, configured through the same environment
 * variables a user sets. `inProcess` runs `startBot(parseConfig(env))`, the code path of `npm start` minus signal
 * handling; `spawnBot` runs the bot as a child process (one process, so a kill reaches the bot itself), for kill -9
 * and SIGTERM tests. It runs src/main.ts through tsx with `npm start`'s memory flags, so that the tests need no
 * build and see every edit at once; `npm start` runs the same code compiled (dist/main.js), which
 * test/e2e/deploy.test.ts starts exactly as `npm start` and the container image do (`SpawnOptions.args`).
 *
 * Neither reads `.env`: `parseConfig(env)` sees only `env`, and the child gets `--no-env-file` and exactly `env`
 * plus PATH, so a user's `.env` in the repository cannot change what a test runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBot, type RunningBot, type StartOptions } from '../src/app.ts';
import type { SocketTimings } from '../src/slack/socket.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startFakeHalo, type FakeHalo, type FakeHaloOptions } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import { startFakeSocketMode, type FakeSocketMode } from '../fakes/socket-mode.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const ROOT = join(import.meta.dirname, '..');

export interface Fakes {
  readonly halo: FakeHalo;
  readonly slack: FakeSlack;
  close(): Promise<void>;
}

export async function startFakes(
  options: { halo?: FakeHaloOptions; rateLimitPerChannelMs?: number } = {},
): Promise<Fakes> {
  const halo = await startFakeHalo(options.halo);
  const slack = await startFakeSlack({ rateLimitPerChannelMs: options.rateLimitPerChannelMs ?? 0 });
  return {
    halo,
    slack,
    close: async () => {
      await Promise.all([halo.close(), slack.close()]);
    },
  };
}

export function tempDatabase(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'halo-slack-test-')), 'bot.db')}`;
}

/**
 * The production delays shortened, so that the suite runs the same code in a fraction of the time: a poll every
 * 250 ms, Slack timing out after 2 s, backoffs from tens of ms, a 1 s shutdown drain. A test that needs one
 * delay otherwise appends it (`${FAST_DELAYS},slackGap=1000`: the last value of a name wins).
 */
/** Socket Mode in tests: production pings, a short first connection and short retries. */
export const TEST_SOCKET_TIMINGS: SocketTimings = {
  clientPingTimeoutMs: 5000,
  serverPingTimeoutMs: 30_000,
  firstConnectMs: 3000,
  retryMinMs: 50,
  retryMaxMs: 400,
};

export const FAST = {
  pollInterval: 250,
  haloBackoff: 30,
  pollBackoff: 100,
  pollBackoffCap: 1000,
  slackTimeout: 2000,
  slackGap: 100,
  slackBackoff: 100,
  slackBackoffCap: 1000,
  deliveryTick: 100,
  drain: 1000,
} as const;

export const FAST_DELAYS = Object.entries(FAST)
  .map(([name, ms]) => `${name}=${ms}`)
  .join(',');

/** The environment a user would write in `.env`, pointed at the fakes, with the delays shortened. */
export function botEnv(fakes: Fakes, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: fakes.slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fakes.slack.apiUrl,
    HALO_API_KEY: fakes.halo.apiKey,
    HALO_API_URL: fakes.halo.url,
    HALO_POLL_INTERVAL_SECONDS: '1',
    HALO_TIMEOUT_SECONDS: '2',
    HALO_ALERT_CHANNEL: 'CALERTS',
    DATABASE_URL: tempDatabase(),
    PORT: '0',
    // The tests' bots are reachable from this machine only, like everything else a test starts.
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    TEST_DELAYS: FAST_DELAYS,
    // One test user types far more than a person would: the per-user limit has tests of its own.
    HALO_COMMANDS_PER_MINUTE: '1000',
    ...overrides,
  };
}

export interface InProcessBot {
  readonly bot: RunningBot;
  readonly url: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** A clock the test can move forward (mute expiry, stale polls) while everything else runs in real time. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}

export async function inProcessBot(
  env: Record<string, string>,
  options: Omit<StartOptions, 'log'> = {},
): Promise<InProcessBot> {
  const logs: string[] = [];
  const config = parseConfig(env);
  const log = createLogger({
    level: config.logLevel,
    secrets: [
      config.slack.botToken,
      config.slack.signingSecret,
      config.halo.apiKey,
      config.slack.appToken ?? '',
    ],
    write: (line) => logs.push(line),
  });
  const bot = await startBot(config, { ...options, log });
  return { bot, url: `http://127.0.0.1:${bot.port}`, logs, stop: () => bot.stop() };
}

/** The bot in Socket Mode, on a Socket Mode stand-in started for `fakes.slack`; `stop()` ends both. */
export async function inProcessSocketBot(
  fakes: Fakes,
  overrides: Record<string, string> = {},
): Promise<{ readonly socket: FakeSocketMode; readonly bot: InProcessBot; stop(): Promise<void> }> {
  const socket = await startFakeSocketMode(fakes.slack);
  const bot = await inProcessBot(
    botEnv(fakes, { SLACK_APP_TOKEN: socket.appToken, SLACK_SIGNING_SECRET: '', ...overrides }),
  );
  return {
    socket,
    bot,
    stop: async () => {
      await bot.stop();
      await socket.close();
    },
  };
}

export interface ChildBot {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

export interface SpawnOptions {
  /** Working directory of the bot, where `npm start` would look for `.env` (default: the repository root). */
  readonly cwd?: string;
  /** Read `.env` as a user's `npm start` does (default false: the bot gets `--no-env-file`). */
  readonly readEnvFile?: boolean;
  /** Modules node loads before the bot (`--import`), to inject a fault into the bot's own process. */
  readonly preload?: readonly string[];
  /**
   * Node's arguments, in place of the TypeScript start above: the compiled bot as `npm start` or the image runs
   * it (`<flags> dist/main.js --no-env-file`). The other options but `cwd` do not apply.
   */
  readonly args?: readonly string[];
}

// By absolute path, so that the bot also starts in a working directory outside the repository.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** What `npm start` runs (one node process), with exactly `env` plus PATH; stdout and stderr collected together. */
function spawnMain(
  env: Record<string, string>,
  options: SpawnOptions = {},
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
} {
  const preload = (options.preload ?? []).flatMap((file) => ['--import', pathToFileURL(file).href]);
  const args =
    options.args !== undefined
      ? [...options.args]
      : [
          '--max-semi-space-size=1',
          '--single-threaded-gc',
          '--initial-old-space-size=64',
          '--import',
          TSX_LOADER,
          ...preload,
          join(ROOT, 'src', 'main.ts'),
        ];
  if (options.args === undefined && options.readEnvFile !== true) args.push('--no-env-file');
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => out, exited };
}

/** Runs the bot as a child process; resolves once it is listening. */
export async function spawnBot(env: Record<string, string>, options: SpawnOptions = {}): Promise<ChildBot> {
  const { child, output, exited } = spawnMain(env, options);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A bot that never said it started is still a process: leave none behind to post or poll later.
      child.kill('SIGKILL');
      reject(new Error(`bot did not start in time:\n${output()}`));
    }, 20_000);
    const check = (): void => {
      const match = /halo-slack started port=(\d+)/.exec(output());
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited (${code}) before starting:\n${output()}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, output, exited };
}

/** Runs the bot to completion (for start-up failures): exit code and everything it printed. */
export async function runBotToExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
  options: SpawnOptions = {},
): Promise<{ code: number | string; output: string }> {
  const { child, output, exited } = spawnMain(env, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | null,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Everything the user would read: the fallback text and every text object in the blocks. */
export function visibleText(body: Record<string, unknown>): string {
  const texts: string[] = [typeof body.text === 'string' ? body.text : ''];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [name, value] of Object.entries(node)) {
        if (name === 'text' && typeof value === 'string') texts.push(value);
        else walk(value);
      }
    }
  };
  walk(body.blocks);
  // A message with a colour bar carries its blocks in one attachment.
  walk(body.attachments);
  return texts.join('\n');
}

/**
 * A message body as a reader sees it: a message with a colour bar carries its blocks in one attachment; this
 * puts them where a plain message has them, so that tests read both alike.
 */
export function shownBody(body: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(body.blocks) && body.blocks.length > 0) return body;
  const first: unknown = Array.isArray(body.attachments) ? body.attachments[0] : undefined;
  const blocks = (first as { blocks?: unknown } | undefined)?.blocks;
  return Array.isArray(blocks) ? { ...body, blocks } : body;
}
