/**
 * The steady poll alone, for working on it: `npx tsx bench/steady.ts [events] [polls] [--cpu-prof] [--insert]`.
 * Starts the bot as `npm start` does against the Halo stand-in (20 ms a request, pages of 1000), waits for the
 * baseline and prints each steady poll's time beside the network floor, the bot's CPU per poll and per 1,000
 * events, and where its memory is after the poll (the bot's `poll: memory` line). `--cpu-prof` writes
 * the bot's V8 CPU profile to bench/profiles/ when it stops (`npx tsx bench/profile-summary.ts <file>` reads it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeEvents, startFakeHalo } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { BenchBot, benchEnv, ROOT } from './bot.ts';
import { networkFloorMs } from './million.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const events = Number(args[0] ?? 1_000_000);
const polls = Number(args[1] ?? 3);
const profile = process.argv.includes('--cpu-prof');
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
const spawnedAt = Date.now();
const { bot } = await BenchBot.start((db) => benchEnv(halo, slack, db), 30_000, flags);
try {
  const loadBefore = load();
  const baseline = await bot.nextPoll(0, 30_000 + events / 5);
  const floor = networkFloorMs(events, 1000, 20, 4);
  process.stdout.write(
    `baseline ${baseline.ms} ms, ended ${baseline.at - spawnedAt} ms after the bot was started ` +
      `(profile-summary --after-ms); network floor ${floor} ms; load ${loadBefore}\n`,
  );
  let from = baseline.index + 1;
  for (let i = 0; i < polls; i++) {
    // `--insert`: a new event at the head of the list before each poll, so every page comes back shifted by one
    // (the worst case for the page memo: every page is read again).
    if (process.argv.includes('--insert')) halo.events.unshift(...makeEvents(1));
    const cpuBefore = BenchBot.cpuMs(bot.pid);
    const poll = await bot.nextPoll(from, 20_000 + events / 10);
    const cpu = BenchBot.cpuMs(bot.pid) - cpuBefore;
    from = poll.index + 1;
    const memory = await bot.waitForLine(/poll: memory /, poll.index, 5000).catch(() => undefined);
    const fields = (memory?.text.match(/\b\w+Mb=[\d.]+/g) ?? []).join(' ');
    process.stdout.write(
      `poll ${i + 1}: ${poll.ms} ms (${(poll.ms / floor).toFixed(2)} × floor), ` +
        `CPU ${cpu} ms (${(cpu / (events / 1000)).toFixed(2)} ms per 1k events); ${fields}\n`,
    );
  }
  process.stdout.write(`load ${load()} after\n`);
  const dump = process.argv.find((a) => a.startsWith('--log='))?.slice('--log='.length);
  if (dump !== undefined) writeFileSync(dump, bot.lines.map((l) => `${l.at} ${l.text}\n`).join(''));
} finally {
  await bot.stop();
  await Promise.all([halo.close(), slack.close()]);
}
