/**
 * The soak row of issue 13: resident memory after 1,000 polls against after 100, at 100,000 events. Each side is
 * the lowest RSS read after each of the 50 polls up to it (polls 51-100 and 951-1000): the bot forces no
 * collection, so RSS after one poll is a point on V8's sawtooth, up to 10 % above its floor, while a leak raises
 * the floor itself. The medians of the same windows are kept beside. A 1 s
 * interval would take 17 minutes, so the polls run back to back (`TEST_DELAYS=pollInterval=0`): the same polls,
 * with no idle time between them. Takes about ten minutes, so `npm run bench` runs it only with `--soak`, and
 * otherwise prints the last figures `--soak` measured (kept in bench/soak-last.json, with when, on which commit
 * and at which load). Run alone with `npx tsx bench/soak.ts [polls]`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeEvents, startFakeHalo } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { BenchBot, benchEnv, ROOT } from './bot.ts';

export interface SoakResult {
  readonly measuredAt: string;
  readonly commit: string;
  /** Load averages (1, 5, 15 min), as text: one line in the JSON file, as prettier keeps it. */
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly events: number;
  readonly polls: number;
  /** Bot VmRSS in MB: the lowest read after each of polls 51-100, and after each of the last 50 polls. */
  readonly rssEarlyMb: number;
  readonly rssLastMb: number;
  /** The medians of the same windows (absent from runs before they were kept). */
  readonly rssEarlyMedianMb?: number;
  readonly rssLastMedianMb?: number;
  /** The bot's own breakdown (`poll: memory`) at both points. */
  readonly memoryEarly: string;
  readonly memoryLast: string;
  readonly seconds: number;
}

export const SOAK_FILE = join(ROOT, 'bench', 'soak-last.json');
const EARLY = 100;
/** Polls per window: each side of the comparison is the 50 polls up to it. */
const WINDOW = 50;

interface Sample {
  readonly rss: number;
  readonly memory: string;
}

/** The window's lowest RSS (with the bot's breakdown at that poll) and its median. */
function floorOf(window: readonly Sample[]): { low: Sample; median: number } {
  const sorted = [...window].sort((a, b) => a.rss - b.rss);
  return { low: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!.rss };
}

export async function measureSoak(
  polls = 1000,
  say: (text: string) => void = () => undefined,
): Promise<SoakResult> {
  const events = 100_000;
  const loadBefore = loadavg();
  // The last commit that changed the bot (not the bench), taken now: the bot runs the code as it is now.
  const commit = execFileSync('git', ['log', '-1', '--format=%h', '--', 'src', 'package.json'], { cwd: ROOT })
    .toString()
    .trim();
  const began = Date.now();
  const halo = await startFakeHalo({ events: makeEvents(events), latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  let bot: BenchBot | undefined;
  try {
    ({ bot } = await BenchBot.start((db) => benchEnv(halo, slack, db, { TEST_DELAYS: 'pollInterval=0' })));
    let from = (await bot.nextPoll(0, 60_000)).index + 1;
    let early: { low: Sample; median: number } | undefined;
    const window: Sample[] = [];
    for (let i = 1; i <= polls; i++) {
      const poll = await bot.nextPoll(from, 60_000);
      const collected = await bot.waitForLine(/poll: memory /, poll.index, 10_000);
      from = collected.index + 1;
      // Read now, between this poll's memory line and the next poll's first page.
      const sample = {
        rss: BenchBot.memoryMb(bot.pid).rss,
        memory: (collected.text.match(/\b\w+Mb=[\d.]+/g) ?? []).join(' '),
      };
      window.push(sample);
      if (window.length > WINDOW) window.shift();
      if (i === EARLY) early = floorOf(window);
      if (i % 100 === 0)
        say(
          `soak: ${i} polls, RSS ${sample.rss.toFixed(0)} MB (lowest of the last ${WINDOW} ${floorOf(window).low.rss.toFixed(0)} MB)`,
        );
      // Keep the bench's own memory flat: the bot's lines are not needed once read.
      if (i % 50 === 0) {
        bot.lines.splice(0, from);
        from = 0;
      }
    }
    if (early === undefined || polls < EARLY + WINDOW)
      throw new Error(`the soak needs at least ${EARLY + WINDOW} polls`);
    const last = floorOf(window);
    const result: SoakResult = {
      measuredAt: new Date().toISOString(),
      commit,
      loadBefore: loadBefore.map((l) => l.toFixed(2)).join(' '),
      loadAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      events,
      polls,
      rssEarlyMb: Number(early.low.rss.toFixed(1)),
      rssLastMb: Number(last.low.rss.toFixed(1)),
      rssEarlyMedianMb: Number(early.median.toFixed(1)),
      rssLastMedianMb: Number(last.median.toFixed(1)),
      memoryEarly: early.low.memory,
      memoryLast: last.low.memory,
      seconds: Math.round((Date.now() - began) / 1000),
    };
    return result;
  } finally {
    await bot?.stop();
    await Promise.all([halo.close(), slack.close()]);
  }
}

export function lastSoak(): SoakResult | undefined {
  try {
    return JSON.parse(readFileSync(SOAK_FILE, 'utf8')) as SoakResult;
  } catch {
    return undefined;
  }
}

export function saveSoak(result: SoakResult): void {
  writeFileSync(SOAK_FILE, `${JSON.stringify(result, null, 2)}\n`);
}

function medians(result: SoakResult): string {
  if (result.rssEarlyMedianMb === undefined || result.rssLastMedianMb === undefined) return '';
  return `, medians ${result.rssEarlyMedianMb.toFixed(0)} → ${result.rssLastMedianMb.toFixed(0)} MB`;
}

/** The row: RSS growth from poll 100 to the last, as a share of poll 100's. */
export function soakRow(result: SoakResult | undefined, fresh: boolean) {
  const figure = `soak: RSS after ${result?.polls ?? 1000} polls vs after ${EARLY} (lowest of the ${WINDOW} polls up to each), 100,000 events, polls back to back`;
  const target = '≤ +5 %';
  if (result === undefined) {
    return { figure, measured: 'never measured: run `npm run bench -- --soak`', target, ok: undefined };
  }
  const growth = (100 * (result.rssLastMb - result.rssEarlyMb)) / result.rssEarlyMb;
  const when = fresh
    ? `this run, ${result.seconds} s`
    : `not run now (\`--soak\`); last run ${result.measuredAt.slice(0, 16)}Z, bot at ${result.commit}, load ${result.loadBefore} → ${result.loadAfter}`;
  return {
    figure,
    measured: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (${result.rssEarlyMb.toFixed(0)} → ${result.rssLastMb.toFixed(0)} MB${medians(result)}; ${when})`,
    target,
    ok: growth <= 5,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const polls = Number(process.argv[2] ?? 1000);
  const result = await measureSoak(polls, (text) => process.stderr.write(`[soak] ${text}\n`));
  if (polls === 1000) saveSoak(result);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
