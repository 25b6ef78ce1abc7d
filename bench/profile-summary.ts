/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and prints where the time went: self time per function, and per
 * source file, largest first. `npx tsx bench/profile-summary.ts <file.cpuprofile> [rows]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [file, rowsArg] = positional;
if (file === undefined) {
  throw new Error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [rows] [--after-ms=N]');
}
const rows = Number(rowsArg ?? 30);
/** Samples in the first N ms of the profile are left out (`steady.ts` prints when the baseline poll ended). */
const afterMs = Number(
  /^--after-ms=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--after-ms=')) ?? '')?.[1] ?? 0,
);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let elapsedUs = 0;
for (const [i, id] of profile.samples.entries()) {
  elapsedUs += profile.timeDeltas[i] ?? 0;
  if (elapsedUs < afterMs * 1000) continue;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  total += us;
  const where = frame.url.replace(/^.*\/(node_modules\/[^/]+|src|bench|test)\//, '$1/') || '(native)';
  const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  if (frame.functionName !== '(idle)') byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const idle = [...byFunction].filter(([name]) => name.startsWith('(idle)')).reduce((s, [, us]) => s + us, 0);
const busy = total - idle;
const print = (title: string, entries: Map<string, number>): void => {
  process.stdout.write(`\n${title} (self time, % of ${(busy / 1000).toFixed(0)} ms busy)\n`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    if (name.startsWith('(idle)')) continue;
    process.stdout.write(
      `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}\n`,
    );
  }
};
process.stdout.write(
  `profile: ${(total / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle\n`,
);
print('by function', byFunction);
print('by file', byFile);
