/**
 * The store's bench rows beside another revision's, measured in one sitting: the steady poll over 100,000 events on
 * PostgreSQL, and the bot's CPU per steady poll over 1,000,000 events (SQLite). Each round runs both sides, this
 * checkout first, so that the machine's load falls on both alike; the load average is printed beside each run.
 *
 *   node --import tsx bench/store.ts --rev 231e662 [--rounds 2]
 *
 * The other revision is checked out in a temporary git worktree (sharing this node_modules) and removed after.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchBot, ROOT } from './bot.ts';
import { withSchema } from './postgres.ts';
import { runSize } from './run.ts';

const { values } = parseArgs({
  options: { rev: { type: 'string' }, rounds: { type: 'string', default: '2' } },
});
if (values.rev === undefined) throw new Error('Usage: bench/store.ts --rev <git revision> [--rounds n]');
const say = (text: string): void => void process.stderr.write(`[store bench] ${text}\n`);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const other = join(mkdtempSync(join(tmpdir(), 'halo-store-bench-')), 'checkout');
execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', other, values.rev], { stdio: 'ignore' });
symlinkSync(join(ROOT, 'node_modules'), join(other, 'node_modules'));
const sides = [
  { name: 'this checkout', root: ROOT },
  { name: values.rev, root: other },
];
const results: string[] = [];
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const side of sides) {
      process.env.HALO_BENCH_ROOT = side.root;
      const before = load();
      const pg = await withSchema((databaseUrl) => runSize(100_000, { steady: 3, databaseUrl }));
      const million = await runSize(1_000_000, { steady: 2 });
      const line =
        `round ${round}, ${side.name} (load ${before} → ${load()}): ` +
        `PostgreSQL 100k steady polls ${pg.scan.pollMs.join(', ')} ms (bot CPU ${pg.scan.cpuMsPerPoll.toFixed(0)} ms/poll); ` +
        `1M steady polls ${million.scan.pollMs.join(', ')} ms, bot CPU ${million.scan.cpuMsPerPoll.toFixed(0)} ms/poll` +
        ` (${(million.scan.cpuMsPerPoll / 1000).toFixed(2)} ms per 1k events)`;
      say(line);
      results.push(line);
    }
  }
} finally {
  delete process.env.HALO_BENCH_ROOT;
  await BenchBot.stopAll();
  execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', other], { stdio: 'ignore' });
  rmSync(join(other, '..'), { recursive: true, force: true });
}
process.stdout.write(`${results.join('\n')}\n`);
