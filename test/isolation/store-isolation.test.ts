/**
 * Issue 19's isolation suite at the store level: one database, 3 workspaces × 2 Halo accounts, 10,000 random
 * steps (honest and forged) over the scoped views and the registry, and not one leak. The seed is random unless
 * ISOLATION_SEED sets it; a failure prints it, so `ISOLATION_SEED=<seed> vitest run test/isolation` replays it.
 * ISOLATION_STEPS overrides the number of steps (test/isolation/mutate.ts uses it).
 */
import { describe, expect, it } from 'vitest';
import { standInTenants } from './standin.ts';
import { runIsolation, type IsolationRun } from './suite.ts';

const seed =
  process.env.ISOLATION_SEED !== undefined
    ? Number(process.env.ISOLATION_SEED)
    : Math.floor(Math.random() * 2 ** 31);
const steps = (fallback: number) =>
  process.env.ISOLATION_STEPS !== undefined ? Number(process.env.ISOLATION_STEPS) : fallback;

function report(label: string, run: IsolationRun): void {
  const kinds = Object.entries(run.ran)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  process.stdout.write(
    `isolation ${label}: seed ${run.seed}, ${run.steps} steps (${run.forged} forged), ${run.violations.length} leaks\n  steps run: ${kinds}\n`,
  );
  for (const v of run.violations.slice(0, 10))
    process.stdout.write(`  LEAK at step ${v.step} [${v.forged ? 'forged' : 'honest'}] ${v.op}: ${v.what}\n`);
}

describe('store isolation', () => {
  it('no scope sees or changes another scope, whatever IDs it is handed (SQLite)', async () => {
    const tenants = standInTenants();
    try {
      const run = await runIsolation(tenants, { steps: steps(10_000), seed });
      report('SQLite', run);
      expect(run.violations.length, `leaks with ISOLATION_SEED=${seed}`).toBe(0);
    } finally {
      await tenants.close();
    }
  }, 120_000);
});
