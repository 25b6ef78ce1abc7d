/**
 * Issue 19's isolation suite at the app level: the real bot over HTTP in the distributed shape, 3 workspaces
 * (one an org-wide Enterprise Grid install) × 2 Halo accounts, and random signed slash commands, button clicks,
 * dialog submissions and App Home opens, honest and forged (app-steps.ts). After each step the oracles of
 * app-isolation.ts read the fakes and the store; the goal is 0 leaks.
 *
 * The seed is random unless ISOLATION_SEED sets it, and printed; ISOLATION_APP_STEPS sets the number of steps
 * (ISOLATION_APP_STEPS=10000 runs issue 19's full figure, 1.5 to 3.5 minutes on a loaded 2-core machine; the
 * default, 1,500, keeps `npm test` within its time); ISOLATION_HALO_LATENCY_MS slows every Halo answer while the
 * steps run. `node --import tsx test/isolation/mutate.ts app` shows this suite
 * failing when one check of the Slack seam is removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppIsolation } from './app-isolation.ts';
import { buildWorld, type AppWorld } from './app-world.ts';

const env = process.env;
const seed =
  env.ISOLATION_SEED !== undefined ? Number(env.ISOLATION_SEED) : Math.floor(Math.random() * 2 ** 31);
const steps = env.ISOLATION_APP_STEPS !== undefined ? Number(env.ISOLATION_APP_STEPS) : 1_500;
// A slow Halo stretches the work listeners do after acknowledging, as a loaded machine does: the step boundary
// must hold (ISOLATION_HALO_LATENCY_MS=100 found false leaks in a driver that ended a step at the first quiet).
const latency = Number(env.ISOLATION_HALO_LATENCY_MS ?? 0);

let world: AppWorld | undefined;

beforeAll(async () => {
  world = await buildWorld();
  world.fakes.halo.latencyMs = latency;
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

describe('app isolation (distributed shape over HTTP)', () => {
  it('no request of one workspace touches, shows or calls anything of another', async () => {
    const started = Date.now();
    // Any failure names its seed, a thrown one too: a rerun with ISOLATION_SEED makes the same steps.
    const run = await runAppIsolation(world!, { steps, seed }).catch((error: unknown) => {
      throw new Error(`app isolation failed with ISOLATION_SEED=${seed}`, { cause: error });
    });
    const kinds = Object.entries(run.ran)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
    process.stdout.write(
      `app isolation: seed ${run.seed}, ${run.steps} steps (${run.forged} forged) in ${Math.round((Date.now() - started) / 1000)} s, ${run.violations.length} leaks\n  steps run: ${kinds}\n`,
    );
    for (const v of run.violations.slice(0, 15))
      process.stdout.write(`  LEAK at step ${v.step} ${v.name}: ${v.what}\n`);
    expect(run.violations.length, `leaks with ISOLATION_SEED=${seed}`).toBe(0);
    expect(run.forged).toBeGreaterThan(steps / 3);
  }, 1_200_000);
});
