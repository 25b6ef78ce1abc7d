/**
 * What every fault test shares: the fakes and bots of one test (closed after it), signed commands and clicks,
 * alert counting for the report, the mrkdwn safety check, and the secret scan run after every test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, type TestContext } from 'vitest';
import type { StartOptions } from '../../src/app.ts';
import { decodeDeleteValue, DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { DEFAULT_API_KEY, type FakeHaloOptions, type HaloFault, type HaloRequest } from '../../fakes/halo.ts';
import { DEFAULT_BOT_TOKEN, type SlackPost } from '../../fakes/slack.ts';
import { blockActionBody, buttonClickPayload, postToBot, slashCommandBody } from '../../fakes/sign.ts';
import {
  botEnv,
  inProcessBot,
  runBotToExit,
  SIGNING_SECRET,
  spawnBot,
  startFakes,
  waitFor,
  type ChildBot,
  type Fakes,
  type InProcessBot,
  type SpawnOptions,
} from '../harness.ts';
import type { FaultRow } from './row.ts';
import { startSlackProxy, type SlackProxy } from './slack-proxy.ts';

/**
 * Fault tests wait on real timeouts and backoffs (a 10 s Slack timeout, child processes starting); the run's
 * 30 s default is a speed limit they should not be judged by on a busy 2-core machine.
 */
export const ROOMY = { timeout: 90_000 } as const;

export const ADMIN = 'UADMIN';
export const ALERTS = 'CALERTS';
export const OTHER = 'COTHER';

type Bot = InProcessBot | ChildBot;

export interface Reply {
  readonly ack: { status: number; text: string };
  readonly body: Record<string, unknown>;
}

/** The fakes, bots and everything the bot said during one test. */
export class Scenario {
  private started: Fakes | undefined;
  readonly bots: InProcessBot[] = [];
  readonly children: ChildBot[] = [];
  readonly proxies: SlackProxy[] = [];
  /** Output of bots run to exit, and every HTTP answer the bot gave the test. */
  readonly said: string[] = [];
  /** Secrets beyond the three defaults (e.g. a rejected token a test passes). */
  readonly extraSecrets: string[] = [];
  private sequence = 0;

  get fakes(): Fakes {
    if (this.started === undefined) throw new Error('Scenario.start() first');
    return this.started;
  }

  async start(options: { halo?: FakeHaloOptions; rateLimitPerChannelMs?: number } = {}): Promise<Fakes> {
    this.started = await startFakes(options);
    return this.started;
  }

  env(overrides: Record<string, string> = {}): Record<string, string> {
    return botEnv(this.fakes, overrides);
  }

  async bot(env: Record<string, string>, options: Omit<StartOptions, 'log'> = {}): Promise<InProcessBot> {
    const bot = await inProcessBot(env, options);
    this.bots.push(bot);
    return bot;
  }

  async spawn(env: Record<string, string>): Promise<ChildBot> {
    const child = await spawnBot(env);
    this.children.push(child);
    return child;
  }

  /** Runs `npm start`'s command to completion (start-up failures), killing it if it hangs. */
  async runToExit(
    env: Record<string, string>,
    timeoutMs = 20_000,
    options: SpawnOptions = {},
  ): Promise<{ code: number | string; output: string }> {
    const { code, output } = await runBotToExit(env, timeoutMs, options);
    this.said.push(output);
    return { code: code === 'SIGKILL' ? `killed after ${timeoutMs} ms (hung)` : code, output };
  }

  async proxy(): Promise<SlackProxy> {
    const proxy = await startSlackProxy(this.fakes.slack);
    this.proxies.push(proxy);
    return proxy;
  }

  async health(bot: Bot): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${bot.url}/healthz`);
    const text = await response.text();
    this.said.push(text);
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  }

  /**
   * A signed `/halo` command; resolves with the acknowledgement and the answer posted to its response_url.
   */
  async command(bot: Bot, text: string, from: { user?: string; channel?: string } = {}): Promise<Reply> {
    const id = `cmd-${++this.sequence}`;
    const body = slashCommandBody({
      text,
      user_id: from.user ?? 'U123',
      channel_id: from.channel ?? 'C123',
      response_url: this.fakes.slack.responseUrl(id),
    });
    const ack = await this.post(bot, body);
    const reply = await this.fakes.slack.waitFor(
      () => this.fakes.slack.responses.find((r) => r.id === id),
      15_000,
    );
    return { ack, body: reply.body };
  }

  /**
   * A signed button click, from an admin in the alert channel unless told; read its answer with `response()`.
   */
  async click(
    bot: Bot,
    options: { actionId: string; value: string; user?: string; channel?: string; post?: SlackPost },
  ): Promise<{ ack: { status: number; text: string }; responseId: string }> {
    const responseId = `click-${++this.sequence}`;
    const payload = buttonClickPayload({
      actionId: options.actionId,
      value: options.value,
      userId: options.user ?? ADMIN,
      channelId: options.channel ?? options.post?.channel ?? ALERTS,
      responseUrl: this.fakes.slack.responseUrl(responseId),
      ...(options.post === undefined
        ? {}
        : { messageTs: options.post.ts, messageBlocks: options.post.blocks }),
    });
    const ack = await this.post(bot, blockActionBody(payload));
    return { ack, responseId };
  }

  async response(id: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const post = await this.fakes.slack.waitFor(
      () => this.fakes.slack.responses.find((r) => r.id === id),
      timeoutMs,
    );
    return post.body;
  }

  /** Any signed body to /slack/events. */
  async post(bot: Bot, body: string): Promise<{ status: number; text: string }> {
    const answer = await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET });
    this.said.push(answer.text);
    return { status: answer.status, text: answer.text };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.bots.map((bot) => bot.stop()));
    await Promise.allSettled(
      this.children.map(async (child) => {
        if (child.child.exitCode === null && child.child.signalCode === null) killTree(child.child.pid!);
        await child.exited;
      }),
    );
    await Promise.allSettled(this.proxies.map((proxy) => proxy.close()));
    await this.started?.close();
  }

  /** Every place a secret could surface, as text. */
  sources(): { label: string; text: string }[] {
    const sources = [
      ...this.bots.map((bot, i) => ({ label: `log of in-process bot ${i + 1}`, text: bot.logs.join('\n') })),
      ...this.children.map((child, i) => ({ label: `output of child bot ${i + 1}`, text: child.output() })),
      { label: 'answers and exit output of the bot', text: this.said.join('\n') },
    ];
    if (this.started !== undefined) {
      const { slack, halo } = this.started;
      sources.push(
        {
          label: 'Slack Web API calls (arguments, messages)',
          // The token authenticates the call; anywhere else in it, it would be a leak.
          text: JSON.stringify(
            slack.calls.map(({ method, args }) => ({ method, args: { ...args, token: undefined } })),
          ),
        },
        { label: 'Slack messages posted', text: JSON.stringify(slack.posts) },
        { label: 'response_url bodies', text: JSON.stringify(slack.responses) },
        {
          label: 'Halo request URLs',
          text: halo.requests.map((r) => `${r.path}?${r.query.toString()}`).join('\n'),
        },
      );
    }
    return sources;
  }

  secrets(): string[] {
    return [
      SIGNING_SECRET,
      this.started?.halo.apiKey ?? DEFAULT_API_KEY,
      this.started?.slack.token ?? DEFAULT_BOT_TOKEN,
      ...this.extraSecrets,
    ];
  }

  /** `source: secret` for every secret found; empty when clean. */
  leaks(): { leaks: string[]; sources: number } {
    const leaks: string[] = [];
    const sources = this.sources();
    for (const { label, text } of sources) {
      for (const secret of this.secrets()) {
        const at = text.indexOf(secret);
        if (at !== -1)
          leaks.push(`${label} holds "${secret}": …${text.slice(Math.max(0, at - 120), at + 60)}…`);
      }
    }
    return { leaks, sources: sources.length };
  }
}

/**
 * A fresh Scenario per test, closed after it, then scanned for secrets: a secret anywhere fails the test,
 * whatever fault it was about.
 */
export function scenarioPerTest(): { readonly current: Scenario } {
  const holder = { current: new Scenario() };
  beforeEach(() => {
    holder.current = new Scenario();
  });
  afterEach(async ({ task }: TestContext) => {
    await holder.current.close();
    const { leaks, sources } = holder.current.leaks();
    if (task.meta.fault !== undefined) task.meta.fault.secrets = { sources, leaks: leaks.length };
    expect(leaks, 'a secret appeared where it must not').toEqual([]);
  });
  return holder;
}

export function record(context: TestContext, row: FaultRow): FaultRow {
  context.task.meta.fault = row;
  return row;
}

// -----------------------------------------------------------------------------------------------------------
// Processes

/** Every process below `pid`, children before grandchildren (from /proc: Linux only, like the CI). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last `)`.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const next = queue.flatMap((p) => children.get(p) ?? []);
    found.push(...next);
    queue = next;
  }
  return found;
}

/** SIGKILL for `pid` and everything below it, the bot itself first. */
export function killTree(pid: number): void {
  for (const p of [...descendants(pid).reverse(), pid]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** kill -9 of the bot, and of anything it started, so that nothing outlives it holding the store. */
export async function kill9(bot: ChildBot): Promise<void> {
  const tree = [bot.child.pid!, ...descendants(bot.child.pid!)];
  killTree(bot.child.pid!);
  await bot.exited;
  await waitFor('the killed bot to be gone', () => tree.every((p) => !alive(p)));
}

/** The pids of the bot's process tree, to check afterwards that none outlived a stop. */
export function processTree(bot: ChildBot): number[] {
  return [bot.child.pid!, ...descendants(bot.child.pid!)];
}

export function stillAlive(pids: readonly number[]): number[] {
  return pids.filter(alive);
}

// -----------------------------------------------------------------------------------------------------------
// Logs and polls

export function logText(bot: Bot): string {
  return 'logs' in bot ? bot.logs.join('\n') : bot.output();
}

const POLL_DONE = /poll: (?:done|baseline recorded)/g;

export function pollsDone(bot: Bot): number {
  return logText(bot).match(POLL_DONE)?.length ?? 0;
}

/** Waits until `n` more polls have completed successfully than when called. */
export async function completedPolls(bot: Bot, n = 1, timeoutMs = 20_000): Promise<void> {
  const target = pollsDone(bot) + n;
  await waitFor(`${n} completed poll(s)`, () => pollsDone(bot) >= target, timeoutMs);
}

export async function logMatch(bot: Bot, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  return waitFor(`a log line matching ${String(pattern)}`, () => pattern.exec(logText(bot)), timeoutMs);
}

/** The times at which polls failed, by failure count (`failures=N` on the poll failure lines). */
export function failureTimes(bot: Bot): Map<number, number> {
  const times = new Map<number, number>();
  for (const line of logText(bot).split('\n')) {
    const match = /^(\S+) .*\sfailures=(\d+)/.exec(line);
    if (match === null || !/poll failed|rejected the API key/.test(line)) continue;
    if (!times.has(Number(match[2]))) times.set(Number(match[2]), Date.parse(match[1]!));
  }
  return times;
}

// -----------------------------------------------------------------------------------------------------------
// Halo fault helpers

export const LIST_PATH = '/event/list.json';

/** A fault on event/list.json only, so that commands reading other endpoints are not affected. */
export function onList(fault: HaloFault): (req: HaloRequest) => HaloFault | undefined {
  return (req) => (req.path.endsWith(LIST_PATH) ? fault : undefined);
}

// -----------------------------------------------------------------------------------------------------------
// Counting alerts

export interface Wanted {
  readonly channel: string;
  readonly eventId: string;
}

export interface AlertCounts {
  readonly expected: number;
  readonly delivered: number;
  readonly duplicated: number;
  readonly lost: number;
  /** Posts of alerts no one expected (a baseline event, an event for another channel). */
  readonly unexpected: string[];
}

/** The event an alert post is about: the Delete button carries the whole ID. */
export function alertEventId(post: SlackPost): string | undefined {
  for (const block of post.blocks) {
    const { type, elements } = block as { type?: unknown; elements?: unknown };
    if (type !== 'actions' || !Array.isArray(elements)) continue;
    for (const element of elements as { action_id?: unknown; value?: unknown }[]) {
      if (element.action_id === DELETE_ACTION_ID) return decodeDeleteValue(element.value)?.eventId;
    }
  }
  return undefined;
}

export function countAlerts(posts: readonly SlackPost[], wanted: readonly Wanted[]): AlertCounts {
  const key = (channel: string, id: string): string => `${channel} ${id}`;
  const want = new Set(wanted.map((w) => key(w.channel, w.eventId)));
  const seen = new Map<string, number>();
  const unexpected: string[] = [];
  for (const post of posts) {
    const id = alertEventId(post) ?? `(no event id: ${post.text.slice(0, 60)})`;
    const k = key(post.channel, id);
    if (!want.has(k)) {
      unexpected.push(k);
      continue;
    }
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  let duplicated = 0;
  for (const n of seen.values()) duplicated += n - 1;
  return { expected: want.size, delivered: seen.size, duplicated, lost: want.size - seen.size, unexpected };
}

export function to(channel: string, ...events: readonly { event_id: string }[]): Wanted[] {
  return events.map((e) => ({ channel, eventId: e.event_id }));
}

/** No alert lost, none unexpected, at most one repeat per kill -9. */
export function expectCounts(counts: AlertCounts, kills = 0): void {
  expect(counts.unexpected, 'posts nobody expected').toEqual([]);
  expect(counts.lost, 'alerts lost').toBe(0);
  expect(counts.duplicated, 'alerts posted twice').toBeLessThanOrEqual(kills);
}

export function countsRow(counts: AlertCounts): Pick<FaultRow, 'expected' | 'delivered' | 'duplicated'> {
  return { expected: counts.expected, delivered: counts.delivered, duplicated: counts.duplicated };
}

// -----------------------------------------------------------------------------------------------------------
// mrkdwn

/** The texts Slack reads as mrkdwn: a message's top-level `text` and every `mrkdwn` text object. */
export function mrkdwnTexts(message: unknown): string[] {
  const texts: string[] = [];
  if (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { text?: unknown }).text === 'string'
  )
    texts.push((message as { text: string }).text);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (record.type === 'mrkdwn' && typeof record.text === 'string') texts.push(record.text);
    for (const [name, child] of Object.entries(record))
      if (name !== 'text' || typeof child === 'object') walk(child);
  };
  walk((message as { blocks?: unknown }).blocks);
  return texts;
}

/**
 * The first piece of live markup in `text` that the bot did not mean: anything between `<` and `>` other than
 * a channel reference, a date, an http(s) link, or a mention of one of `mentions`. Null when there is none.
 */
export function liveMarkup(text: string, mentions: readonly string[] = []): string | null {
  const rest = text
    .replace(/<#[CGD][A-Z0-9]+>/g, '')
    .replace(/<!date\^\d+\^[^|<>]*\|[^<>]*>/g, '')
    .replace(/<https?:\/\/[^\s<>|]+(?:\|[^<>]*)?>/g, '')
    .replace(/<@([UW][A-Z0-9]+)>/g, (mention, id: string) => (mentions.includes(id) ? '' : mention));
  const at = rest.indexOf('<');
  return at === -1 ? null : rest.slice(at, at + 40);
}

/** Every mrkdwn text of a message, with the live markup found in it. */
export function markupProblems(message: unknown, mentions: readonly string[] = []): string[] {
  return mrkdwnTexts(message).flatMap((text) => {
    const found = liveMarkup(text, mentions);
    return found === null ? [] : [found];
  });
}
