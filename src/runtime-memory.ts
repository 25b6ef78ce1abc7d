/**
 * Runtime tuning after polls, kept out of the core: each poller only tells how many events a poll read
 * (`PollerOptions.afterPoll`), and the composition root hands every account's poller the process's one hook. The forced collection and the
 * memory reads are about this process and its V8 flags, not about polling Halo.
 */
import type { Logger } from './log.ts';

/** Polls that read this many events in all (one account's, or many's) are worth a look at the memory after them. */
export const LARGE_POLL_EVENTS = 10_000;
/** Garbage the polls must have left since the last collection for a full one to be worth its cost. */
const GARBAGE_WORTH_COLLECTING = 16 * 1024 * 1024;
/**
 * The least time between two forced collections. A fleet of many small accounts reads its pages without pause
 * (100 accounts of 1,000 events: 30 MB a second), and each forced collection is a whole, atomic one (35 ms of
 * CPU at 25 MB of live heap), where V8's own are incremental: collecting every 16 MB of garbage made two a
 * second and cost a steady poll 40 % more CPU; one a second keeps the fleet's RSS within 10-15 MB of that at half
 * the cost. A single large account is not held back by it: its polls take longer than this.
 */
export const MS_BETWEEN_COLLECTIONS = 1000;

export interface MemoryProbe {
  /** `globalThis.gc` when the process runs with `--expose-gc`. */
  readonly gc: (() => void) | undefined;
  readonly usage: () => NodeJS.MemoryUsage;
  /** A monotonic time in ms. */
  readonly now: () => number;
}

const processProbe = (): MemoryProbe => ({
  gc: (globalThis as { gc?: () => void }).gc,
  usage: () => process.memoryUsage(),
  now: () => performance.now(),
});

/**
 * After the polls of this process: once they have read `LARGE_POLL_EVENTS` events or more since the last look
 * (one large poll, or many small ones of many accounts: the hook is the process's, shared by every account's
 * poller), a full collection when they left at least `GARBAGE_WORTH_COLLECTING` more memory (heap and external)
 * than the last collection kept and the last was at least `MS_BETWEEN_COLLECTIONS` ago, then a line, at debug level, on where the memory is (MB).
 *
 * Why the process's and not each account's: the garbage is the process's. A hundred accounts of 1,000 events
 * polled every second read as much as one account of 100,000 (a 300 kB page each, whose chunks are external
 * memory that only a full collection gives back), yet none of them alone ever read 10,000 events: with a hook
 * per account nothing collected, V8 let 20-30 MB of read pages and 10-20 MB of heap garbage pile up, and the
 * fleet's RSS went past 200 MB (docs/performance.md, "100 accounts").
 *
 * Why not a collection after every large poll: each one also throws away the optimised code of the HTTP and
 * stream functions ("deopt: weak objects"), which the next poll recompiles, so it is skipped when there is
 * little to give back. Why not none: V8 lets a bot polling back to back hold 40-50 MB of garbage, enough to
 * take a 100,000-event account's RSS past 200 MB. A 1,000,000-event poll leaves more than 16 MB (read buffers
 * count too), so it still collects after each; a 100,000-event one, about every fifth poll. `npm start` passes
 * `--expose-gc` for it, and V8 flags that keep scans cheap (README → Performance).
 */
export function memoryAfterPolls(
  log: Logger,
  probe: () => MemoryProbe = processProbe,
): (events: number) => void {
  /** Heap and external memory (bytes) that the last forced collection kept; undefined before the first. */
  let keptAfterCollection: number | undefined;
  /** When the last forced collection ended (`MemoryProbe.now`). */
  let lastCollection: number | undefined;
  /** Events the polls read since the last look. */
  let sinceLook = 0;
  return (events) => {
    sinceLook += events;
    if (sinceLook < LARGE_POLL_EVENTS) return;
    sinceLook = 0;
    const { gc, usage, now } = probe();
    let memory = usage();
    let collectedMs: number | undefined;
    let collectedCpuMs: number | undefined;
    const held = memory.heapUsed + memory.external;
    if (
      gc !== undefined &&
      (keptAfterCollection === undefined || held - keptAfterCollection >= GARBAGE_WORTH_COLLECTING) &&
      (lastCollection === undefined || now() - lastCollection >= MS_BETWEEN_COLLECTIONS)
    ) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      gc();
      collectedMs = Math.round(performance.now() - started);
      const spent = process.cpuUsage(cpu);
      collectedCpuMs = Math.round((spent.user + spent.system) / 1000);
      memory = usage();
      keptAfterCollection = memory.heapUsed + memory.external;
      lastCollection = now();
    }
    const mb = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;
    log.debug('poll: memory', {
      ...(collectedMs === undefined ? {} : { collectedMs, collectedCpuMs }),
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      heapTotalMb: mb(memory.heapTotal),
      externalMb: mb(memory.external),
      arrayBuffersMb: mb(memory.arrayBuffers),
    });
  };
}
