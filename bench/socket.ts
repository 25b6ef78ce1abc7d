/**
 * Socket Mode acknowledgement (issue 8): the bot as `npm start` runs it, with `SLACK_APP_TOKEN`, against the Socket
 * Mode stand-in; 50 `/halo types` envelopes one after another, each timed from sending the envelope to receiving
 * its ack on the WebSocket. Run alone with `npx tsx bench/socket.ts`; `npm run bench` includes it as one row.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startFakeHalo, makeEvents } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { slashCommandFields, startFakeSocketMode } from '../fakes/socket-mode.ts';
import { BenchBot, benchEnv } from './bot.ts';
import { inside, scanWindows } from './windows.ts';

export interface SocketAckResult {
  /** Envelope-to-ack times, ms, in the order sent. */
  readonly acks: number[];
  /** Commands whose answer reached their response_url. */
  readonly answered: number;
  readonly failures: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureSocketAcks(commands = 50): Promise<SocketAckResult> {
  const halo = await startFakeHalo({ events: makeEvents(1000), latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  const socket = await startFakeSocketMode(slack);
  let bot: BenchBot | undefined;
  try {
    ({ bot } = await BenchBot.start((db) =>
      benchEnv(halo, slack, db, {
        SLACK_APP_TOKEN: socket.appToken,
        SLACK_SIGNING_SECRET: undefined,
        LOG_LEVEL: 'info',
      }),
    ));
    await socket.waitForConnection(1, 30_000);
    // After the baseline poll, so that the figures are the steady state's.
    await bot.waitForLine(/poll: (?:done|baseline recorded)/, 0, 30_000);
    const acks: number[] = [];
    const ids: string[] = [];
    let failures = 0;
    for (let i = 0; i < commands; i++) {
      const id = `bench-socket-${i}`;
      try {
        const ack = await socket.slashCommand(
          slashCommandFields({ text: 'types', response_url: slack.responseUrl(id) }),
          5000,
        );
        acks.push(ack.ms);
        ids.push(id);
      } catch {
        failures++;
      }
      await sleep(15);
    }
    await slack
      .waitFor(() => ids.every((id) => slack.responses.some((r) => r.id === id)), 10_000)
      .catch(() => undefined);
    const answered = ids.filter((id) => slack.responses.some((r) => r.id === id)).length;
    return { acks, answered, failures };
  } finally {
    await bot?.stop();
    await socket.close();
    await Promise.all([halo.close(), slack.close()]);
  }
}

export interface SocketScanAcks {
  /** Envelope-to-ack times, ms, of the envelopes sent and acknowledged wholly inside a scan. */
  readonly inScan: number[];
  readonly sent: number;
  readonly failures: number;
}

/**
 * Socket Mode acknowledgements while the bot scans `events` events (issue 13): a bot in Socket Mode against a
 * Halo of that size, `/halo types` envelopes one after another for `durationMs` after the baseline poll, each
 * kept when it was sent and acknowledged inside a scan (see `windows.ts`).
 */
export async function measureSocketAcksDuringScans(
  events: number,
  durationMs: number,
  say: (text: string) => void,
): Promise<SocketScanAcks> {
  const halo = await startFakeHalo({ events: makeEvents(events), latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  const socket = await startFakeSocketMode(slack);
  let bot: BenchBot | undefined;
  try {
    ({ bot } = await BenchBot.start((db) =>
      // Debug: the `poll: done` lines mark the ends of the scans.
      benchEnv(halo, slack, db, { SLACK_APP_TOKEN: socket.appToken, SLACK_SIGNING_SECRET: undefined }),
    ));
    await socket.waitForConnection(1, 30_000);
    const baseline = await bot.nextPoll(0, 30_000 + events / 5);
    say(
      `Socket Mode, ${events.toLocaleString('en-US')} events: baseline ${baseline.ms} ms; envelopes for ${durationMs / 1000} s`,
    );
    const listFrom = halo.listRequests().length;
    const lineFrom = bot.lines.length;
    const timings: { sentAt: number; ms: number }[] = [];
    let failures = 0;
    const until = Date.now() + durationMs;
    for (let i = 0; Date.now() < until; i++) {
      const sentAt = Date.now();
      try {
        const ack = await socket.slashCommand(
          slashCommandFields({ text: 'types', response_url: slack.responseUrl(`bench-scan-${i}`) }),
          5000,
        );
        timings.push({ sentAt, ms: ack.ms });
      } catch {
        failures++;
      }
      await sleep(15);
    }
    // The poll in progress ends its window.
    await bot.nextPoll(bot.lines.length, 30_000).catch(() => undefined);
    const windows = scanWindows(halo, bot, listFrom, lineFrom);
    const inScan = timings.filter((t) => inside(windows, t.sentAt, t.ms)).map((t) => t.ms);
    return { inScan, sent: timings.length + failures, failures };
  } finally {
    await bot?.stop();
    await socket.close();
    await Promise.all([halo.close(), slack.close()]);
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `p50 / p99 / max (n, answered)`, the bench table's wording. */
export function describeSocketAcks(result: SocketAckResult): string {
  const { acks, answered, failures } = result;
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  return (
    `${ms(percentile(acks, 50))} / ${ms(percentile(acks, 99))} / ${ms(Math.max(...acks))} ` +
    `(n=${acks.length}, ${answered} answered${failures > 0 ? `, ${failures} not acked` : ''})`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const before = loadavg();
  const result = await measureSocketAcks();
  process.stdout.write(
    `Socket Mode envelope → ack, 50 × /halo types, p50 / p99 / max: ${describeSocketAcks(result)}\n` +
      `load average before ${before.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
  );
}
