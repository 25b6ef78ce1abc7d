/**
 * The soak row of issue 13: resident memory after 1,000 polls against after 100, at 100,000 events. A 1 s
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
  /** Bot VmRSS in MB right after poll 100, and right after the last poll. */
  readonly rssEarlyMb: number;
  readonly rssLastMb: number;
  /** The bot's own breakdown (`poll: memory`) at both points. */
  readonly memoryEarly: string;
  readonly memoryLast: string;
  readonly seconds: number;
}

export const SOAK_FILE = join(ROOT, 'bench', 'soak-last.json');
const EARLY = 100;

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
    let early: { rss: number; memory: string } | undefined;
    let last = { rss: NaN, memory: '' };
    for (let i = 1; i <= polls; i++) {
      const poll = await bot.nextPoll(from, 60_000);
      const collected = await bot.waitForLine(/poll: memory /, poll.index, 10_000);
      from = collected.index + 1;
      // Read now, between this poll's memory line and the next poll's first page.
      last = {
        rss: BenchBot.memoryMb(bot.pid).rss,
        memory: (collected.text.match(/\b\w+Mb=[\d.]+/g) ?? []).join(' '),
      };
      if (i === EARLY) early = last;
      if (i % 100 === 0) say(`soak: ${i} polls, RSS ${last.rss.toFixed(0)} MB`);
      // Keep the bench's own memory flat: the bot's lines are not needed once read.
      if (i % 50 === 0) {
        bot.lines.splice(0, from);
        from = 0;
      }
    }
    if (early === undefined) throw new Error(`the soak needs more than ${EARLY} polls`);
    const result: SoakResult = {
      measuredAt: new Date().toISOString(),
      commit,
      loadBefore: loadBefore.map((l) => l.toFixed(2)).join(' '),
      loadAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      events,
      polls,
      rssEarlyMb: Number(early.rss.toFixed(1)),
      rssLastMb: Number(last.rss.toFixed(1)),
      memoryEarly: early.memory,
      memoryLast: last.memory,
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

/** The row: RSS growth from poll 100 to the last, as a share of poll 100's. */
export function soakRow(result: SoakResult | undefined, fresh: boolean) {
  const figure = `soak: RSS after ${result?.polls ?? 1000} polls vs after ${EARLY}, 100,000 events (polls back to back, not 1 s apart)`;
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
    measured: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (${result.rssEarlyMb.toFixed(0)} → ${result.rssLastMb.toFixed(0)} MB; ${when})`,
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
