/**
 * The steady poll alone, for working on it:
 * `npx tsx bench/steady.ts [events] [polls] [--cpu-prof] [--insert] [--http=ky|transport] [--compare=ROUNDS]`.
 * Starts the bot as `npm start` does against the Halo stand-in (20 ms a request, pages of 1000), waits for the
 * baseline and prints each steady poll's time beside the network floor, the bot's CPU per poll and per 1,000
 * events, and where its memory is after the poll (the bot's `poll: memory` line). `--cpu-prof` writes
 * the bot's V8 CPU profile to bench/profiles/ when it stops (`npx tsx bench/profile-summary.ts <file>` reads it).
 *
 * `--http=transport` runs the bot with its Halo requests straight on the node:http transport, without ky
 * (`BENCH_HALO_HTTP`); `--compare=ROUNDS` alternates a bot of each kind, ROUNDS times, in this one run and on
 * this one Halo stand-in, and prints ky's CPU per 1,000 events over the transport's (target ≤ 1.15).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeEvents, startFakeHalo } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { BenchBot, benchEnv, ROOT } from './bot.ts';
import { networkFloorMs } from './million.ts';

type Http = 'ky' | 'transport';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const events = Number(args[0] ?? 1_000_000);
const polls = Number(args[1] ?? 3);
const profile = process.argv.includes('--cpu-prof');
const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(option('compare') ?? 0);
const http = (option('http') ?? 'ky') as Http;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const halo = await startFakeHalo({ events: makeEvents(events), latencyMs: 20, pageCache: true });
const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
const profiles = join(ROOT, 'bench', 'profiles');
if (profile) mkdirSync(profiles, { recursive: true });
const flags = [
  ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []),
  // `--node=--trace-gc` and the like: more node flags for the bot.
  ...process.argv.filter((a) => a.startsWith('--node=')).map((a) => a.slice('--node='.length)),
];
const floor = networkFloorMs(events, 1000, 20, 4);

/** One bot's baseline and steady polls; returns the CPU (ms) per 1,000 events of each steady poll. */
async function run(kind: Http): Promise<number[]> {
  const spawnedAt = Date.now();
  const env = (db: string): Record<string, string> =>
    benchEnv(halo, slack, db, kind === 'transport' ? { BENCH_HALO_HTTP: 'transport' } : {});
  const { bot } = await BenchBot.start(env, 30_000, flags);
  const perThousand: number[] = [];
  try {
    const loadBefore = load();
    const baseline = await bot.nextPoll(0, 30_000 + events / 5);
    process.stdout.write(
      `[${kind}] baseline ${baseline.ms} ms, ended ${baseline.at - spawnedAt} ms after the bot was started ` +
        `(profile-summary --after-ms); network floor ${floor} ms; load ${loadBefore}\n`,
    );
    let from = baseline.index + 1;
    for (let i = 0; i < polls; i++) {
      // `--insert`: a new event at the head of the list before each poll, so every page comes back shifted by
      // one (the worst case for the page memo: every page is read again).
      if (process.argv.includes('--insert')) halo.events.unshift(...makeEvents(1));
      const cpuBefore = BenchBot.cpuMs(bot.pid);
      const poll = await bot.nextPoll(from, 20_000 + events / 10);
      const cpu = BenchBot.cpuMs(bot.pid) - cpuBefore;
      from = poll.index + 1;
      const memory = await bot.waitForLine(/poll: memory /, poll.index, 5000).catch(() => undefined);
      const fields = (memory?.text.match(/\b\w+Mb=[\d.]+/g) ?? []).join(' ');
      perThousand.push(cpu / (events / 1000));
      process.stdout.write(
        `[${kind}] poll ${i + 1}: ${poll.ms} ms (${(poll.ms / floor).toFixed(2)} × floor), ` +
          `CPU ${cpu} ms (${(cpu / (events / 1000)).toFixed(2)} ms per 1k events); ${fields}\n`,
      );
    }
    process.stdout.write(`[${kind}] load ${load()} after\n`);
    const dump = option('log');
    if (dump !== undefined) writeFileSync(dump, bot.lines.map((l) => `${l.at} ${l.text}\n`).join(''));
  } finally {
    await bot.stop();
  }
  return perThousand;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

try {
  if (rounds > 0) {
    const cpu: Record<Http, number[]> = { transport: [], ky: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternated, and each round in the other order, so that a change of machine load falls on both.
      const order: Http[] = round % 2 === 0 ? ['transport', 'ky'] : ['ky', 'transport'];
      for (const kind of order) cpu[kind].push(...(await run(kind)));
    }
    const [bare, ky] = [median(cpu.transport), median(cpu.ky)];
    process.stdout.write(
      `CPU per 1k events, median of ${cpu.ky.length} steady polls each: transport ${bare.toFixed(2)} ms, ` +
        `ky ${ky.toFixed(2)} ms: ky = ${(ky / bare).toFixed(3)} × transport (target ≤ 1.15); load ${load()}\n`,
    );
  } else await run(http);
} finally {
  await Promise.all([halo.close(), slack.close()]);
}
