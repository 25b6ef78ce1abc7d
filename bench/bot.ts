/**
 * The bot as a separate process, started exactly as `npm start` starts it: package.json's "start" script is read
 * at run time and its node flags are passed to this node binary with `dist/main.js` (built first if missing or
 * stale, as `npm start`'s prestart does), so the two cannot drift. That one process is the bot: its memory is what
 * is measured, and its process group is what is cleaned up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeHalo } from '../fakes/halo.ts';
import type { FakeSlack } from '../fakes/slack.ts';

export const ROOT = join(import.meta.dirname, '..');
/** The checkout whose bot is started: this one, or another given by bench/store.ts (HALO_BENCH_ROOT). */
const botRoot = (): string => process.env.HALO_BENCH_ROOT ?? ROOT;
export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const ENTRY = 'dist/main.js';

/**
 * The node flags of package.json's "start" script (`node <flags> dist/main.js`), read now rather than copied, so
 * that the bench always starts the bot the way `npm start` does. Throws if the script is not of that shape.
 */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(botRoot(), 'package.json'), 'utf8')) as {
    scripts?: { start?: unknown };
  };
  const script = pkg.scripts?.start;
  if (typeof script !== 'string') throw new Error('package.json has no "start" script');
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== ENTRY || /["'`$\\;&|<>]/.test(script)) {
    throw new Error(`package.json's "start" is not \`node <flags> ${ENTRY}\`: ${script}`);
  }
  return words.slice(1, -1);
}

/** The node arguments that start the bot: `npm start`'s (compiled), or its earlier TypeScript loaded by tsx. */
export function startArgs(how: 'dist' | 'tsx' = 'dist'): string[] {
  if (how === 'tsx') return [...startFlags(), '--import', 'tsx', 'src/main.ts'];
  ensureBuilt();
  return [...startFlags(), ENTRY];
}

/** The checkouts whose `dist/` is known to be current in this process. */
const built = new Set<string>();

/** What `npm start`'s prestart does: compile src/ to dist/ when dist/ is missing or older than src/. */
function ensureBuilt(root = botRoot()): void {
  if (built.has(root)) return;
  const result = spawnSync(process.execPath, [join(root, 'build.js'), '--if-stale'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`node build.js --if-stale failed (${String(result.status)})`);
  built.add(root);
}

/**
 * The node arguments of the bot's start script: `npm start`'s (`<flags> dist/main.js`, built first), or, for an
 * earlier revision that bench/store.ts starts (HALO_BENCH_ROOT), its `<flags> --import tsx src/main.ts`.
 * `extraFlags` go before the entry point.
 */
function botArgs(extraFlags: readonly string[]): string[] {
  const pkg = JSON.parse(readFileSync(join(botRoot(), 'package.json'), 'utf8')) as {
    scripts?: { start?: unknown };
  };
  const words = typeof pkg.scripts?.start === 'string' ? pkg.scripts.start.trim().split(/\s+/) : [];
  if (words.at(-1) !== ENTRY && words.at(-1) === 'src/main.ts' && words.at(-3) === '--import') {
    return [...words.slice(1, -3), ...extraFlags, ...words.slice(-3)];
  }
  ensureBuilt();
  return [...startFlags(), ...extraFlags, ENTRY];
}

export interface LogLine {
  readonly text: string;
  /** `Date.now()` when the bench read the line. */
  readonly at: number;
}

/** The fields of one `poll: done` / `poll: baseline recorded` line. */
export interface PollLine {
  readonly baseline: boolean;
  readonly requests: number;
  readonly events: number;
  readonly routed: number;
  readonly ms: number;
  readonly at: number;
}

export function benchEnv(
  halo: FakeHalo,
  slack: FakeSlack,
  databaseUrl: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    HALO_API_KEY: halo.apiKey,
    HALO_API_URL: halo.url,
    HALO_POLL_INTERVAL_SECONDS: '1',
    HALO_TIMEOUT_SECONDS: '10',
    HALO_ALERT_CHANNEL: 'CALERTS',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    LOG_LEVEL: 'debug',
    // `BENCH_HALO_HTTP=transport npm run bench`: every row with the bot's Halo requests off ky, for comparison.
    BENCH_HALO_HTTP: process.env.BENCH_HALO_HTTP,
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Every bot started and not yet stopped, so that an interrupted bench still cleans up. */
const live = new Set<BenchBot>();

export class BenchBot {
  readonly lines: LogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private exitedWith: number | string | undefined;
  private readonly exited: Promise<number | string>;
  private stopping: Promise<void> | undefined;
  private partial = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly tempDir: string,
  ) {
    const onData = (chunk: Buffer): void => {
      this.partial += chunk.toString();
      const parts = this.partial.split('\n');
      this.partial = parts.pop() ?? '';
      const at = Date.now();
      for (const text of parts) if (text !== '') this.lines.push({ text, at });
      this.notify();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exitedWith = code ?? signal ?? 'unknown';
        this.notify();
        resolve(this.exitedWith);
      }),
    );
  }

  /** Starts the bot with a fresh temporary database; resolves once it listens. */
  static async start(
    env: (databaseUrl: string) => Record<string, string>,
    startTimeoutMs = 30_000,
    /** Node flags added to npm start's (`--cpu-prof` for a profile). */
    extraFlags: readonly string[] = [],
    /** Run on the fresh database's path before the bot opens it (bench/fleet.ts connects accounts there). */
    prepare?: (databasePath: string) => Promise<void>,
  ): Promise<{ bot: BenchBot; port: number }> {
    const tempDir = mkdtempSync(join(tmpdir(), 'halo-slack-bench-'));
    await prepare?.(join(tempDir, 'bot.db'));
    // --no-env-file: the bench gets exactly the environment it sets, whatever the user's .env holds.
    const child = spawn(process.execPath, [...botArgs(extraFlags), '--no-env-file'], {
      cwd: botRoot(),
      env: { PATH: process.env.PATH ?? '', ...env(`sqlite:${join(tempDir, 'bot.db')}`) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that anything the bot may start is ended with it.
      detached: true,
    });
    const bot = new BenchBot(child, tempDir);
    live.add(bot);
    try {
      const line = await bot.waitForLine(/halo-slack started port=(\d+)/, 0, startTimeoutMs);
      const port = Number(/port=(\d+)/.exec(line.text)![1]);
      return { bot, port };
    } catch (error) {
      await bot.stop();
      throw error;
    }
  }

  /** The bot's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** `VmRSS` and `VmHWM` of a process in MB, from /proc/<pid>/status. */
  static memoryMb(pid: number): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      if (match === null) throw new Error(`/proc/${pid}/status has no ${name}`);
      return Number(match[1]) / 1024;
    };
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  }

  /** User + system CPU time of a process (all its threads) in ms, from /proc/<pid>/stat (100 ticks a second). */
  static cpuMs(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields that follow start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  output(lastLines = 30): string {
    return this.lines
      .slice(-lastLines)
      .map((l) => l.text)
      .join('\n');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** The first line at index ≥ `from` matching `pattern`; rejects on timeout or if the bot exits. */
  waitForLine(pattern: RegExp, from: number, timeoutMs: number): Promise<LogLine & { index: number }> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const check = (): void => {
        for (; scanned < this.lines.length; scanned++) {
          const line = this.lines[scanned]!;
          if (pattern.test(line.text)) {
            done();
            resolve({ ...line, index: scanned });
            return;
          }
        }
        if (this.exitedWith !== undefined) {
          done();
          reject(
            new Error(`the bot exited (${this.exitedWith}) while waiting for ${pattern}:\n${this.output()}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${this.output()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the next poll report at or after line `from`. */
  async nextPoll(from: number, timeoutMs: number): Promise<PollLine & { index: number }> {
    const line = await this.waitForLine(/ poll: (done|baseline recorded) /, from, timeoutMs);
    return { ...parsePollLine(line.text, line.at), index: line.index };
  }

  polls(): PollLine[] {
    return this.lines.flatMap((l) =>
      / poll: (done|baseline recorded) /.test(l.text) ? [parsePollLine(l.text, l.at)] : [],
    );
  }

  /** SIGTERM (graceful, as a service manager would), then SIGKILL to the whole group; removes the database. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exitedWith === undefined) {
        signal(this.pid, 'SIGTERM');
        const timer = new Promise<'timeout'>((resolve) => {
          const t = setTimeout(() => resolve('timeout'), 12_000);
          void this.exited.then(() => clearTimeout(t));
        });
        await Promise.race([this.exited, timer]);
      }
      // Whatever is left of the group (the bot, if SIGTERM did not end it in time) goes too.
      signal(-this.pid, 'SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
      rmSync(this.tempDir, { recursive: true, force: true });
      live.delete(this);
    })();
    return this.stopping;
  }

  static async stopAll(): Promise<void> {
    await Promise.all([...live].map((bot) => bot.stop()));
  }

  /** Last resort from an exit handler: synchronous. */
  static killAllNow(): void {
    for (const bot of live) {
      signal(-bot.pid, 'SIGKILL');
      rmSync(bot.tempDir, { recursive: true, force: true });
    }
    live.clear();
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  if (pid === -1 || pid === 1) return;
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

export function parsePollLine(text: string, at: number): PollLine {
  const field = (name: string): number => {
    const match = new RegExp(` ${name}=(\\d+)`).exec(text);
    return match === null ? NaN : Number(match[1]);
  };
  return {
    baseline: text.includes('poll: baseline recorded'),
    requests: field('requests'),
    events: field('events'),
    routed: field('routed'),
    ms: field('ms'),
    at,
  };
}
