/**
 * The store-level isolation suite (issue 19): 3 workspaces × 2 Halo accounts on one TenantStore, and a seeded run
 * of random steps, honest and forged, over the scoped views and the registry. After each step the acting scope's
 * state is read back and compared with its model, and other scopes' with what they were: the victim's after a
 * forged step, and every scope's every 10 steps (or after every step, with `everyStep`).
 * Every difference is a violation; the goal is none.
 */
import type { TenantStore } from '../../src/pipeline/tenancy-port.ts';
import { modelFingerprint, readFingerprint, type RegistryView } from './fingerprint.ts';
import { forgedSteps, type ForgedStep } from './forged-steps.ts';
import { honestSteps } from './honest-steps.ts';
import { registrySteps } from './registry-steps.ts';
import { ACCOUNT_NAMES, WORKSPACES, World, type Tenant, type Violation } from './world.ts';

export interface IsolationRun {
  readonly seed: number;
  readonly steps: number;
  readonly forged: number;
  readonly violations: readonly Violation[];
  /** Steps run per kind, to see that every kind ran. */
  readonly ran: Readonly<Record<string, number>>;
}

function weighted<T extends { weight: number }>(w: World, items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let roll = (w.int(1_000_000) / 1_000_000) * total;
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1]!;
}

/** Which parts of two fingerprints differ, for the violation's text. */
function differences(got: string, expected: string): string {
  if (got === '' || expected === '') return `got ${got.slice(0, 300)}, expected ${expected.slice(0, 300)}`;
  const [g, e] = [
    JSON.parse(got) as Record<string, unknown>,
    JSON.parse(expected) as Record<string, unknown>,
  ];
  return Object.keys(e)
    .filter((key) => JSON.stringify(g[key]) !== JSON.stringify(e[key]))
    .map(
      (key) =>
        `${key}: got ${JSON.stringify(g[key]).slice(0, 300)}, expected ${JSON.stringify(e[key]).slice(0, 300)}`,
    )
    .join('; ');
}

export async function runIsolation(
  tenants: TenantStore,
  options: { steps: number; seed: number; everyStep?: boolean },
): Promise<IsolationRun> {
  const w = new World(tenants, options.seed);
  const ran: Record<string, number> = {};
  const honest = [...honestSteps, ...registrySteps];
  let forgedCount = 0;

  let registry: (scope: Tenant['scope']) => RegistryView = () => ({ account: null, installation: null });
  const read = (t: Tenant) => readFingerprint(w.view(t), registry(t.scope));
  const verify = async (t: Tenant) => {
    const got = await read(t);
    const expected = modelFingerprint(t.model, w.expectedRegistry(t.scope));
    if (got !== expected)
      w.fail(
        `slot ${t.slot} (${t.workspace}/${t.name}) differs from its model: ${differences(got, expected)}`,
      );
    t.cached = got;
  };
  const unchanged = async (t: Tenant, actor: Tenant) => {
    const got = await read(t);
    if (got !== t.cached)
      w.fail(
        `slot ${t.slot} (${t.workspace}/${t.name}) changed when slot ${actor.slot} (${actor.workspace}/${actor.name}) acted: ${differences(got, t.cached)}`,
      );
    t.cached = got;
  };

  let slot = 0;
  for (const workspace of WORKSPACES) {
    await w.install(workspace);
    for (const name of ACCOUNT_NAMES) await w.connect(slot++, workspace, name);
  }
  registry = await w.readRegistries();
  for (const t of w.slots) await verify(t);

  for (w.step = 1; w.step <= options.steps; w.step++) {
    const a = w.pick(w.slots);
    let affected: Tenant[] = [a];
    let victim: Tenant | null = null;
    w.forged = w.chance(0.5);
    let done = false;
    if (w.forged) {
      const sameWorkspace = w.chance(1 / 3);
      const others = w.slots.filter((t) => t !== a && (t.workspace === a.workspace) === sameWorkspace);
      const b = w.pick(others);
      victim = b;
      for (let tries = 0; tries < 4 && !done; tries++) {
        const step: ForgedStep = weighted(w, forgedSteps);
        w.op = `${step.name} (slot ${a.slot} at slot ${b.slot})`;
        done = (await step.run(w, a, b)) !== false;
        if (done) ran[step.name] = (ran[step.name] ?? 0) + 1;
      }
      if (done) forgedCount++;
      w.forged = done;
    }
    while (!done) {
      const step = weighted(w, honest);
      w.op = `${step.name} (slot ${a.slot})`;
      const result = await step.run(w, a);
      done = result !== false;
      if (done) ran[step.name] = (ran[step.name] ?? 0) + 1;
      if (Array.isArray(result)) affected = result as Tenant[];
    }
    registry = await w.readRegistries();
    for (const t of affected) await verify(t);
    // Every other scope after every step would be 5 more reads of ~20 queries a step (SQLite prepares each
    // statement anew: minutes for 10,000 steps). So: the victim after a forged step, and every scope every 10
    // steps; with `everyStep`, every scope after every step, to name the very step of a leak when replaying.
    const bystanders = w.slots.filter((t) => !affected.includes(t));
    const check =
      options.everyStep === true || w.step % 10 === 0 ? bystanders : bystanders.filter((t) => t === victim);
    for (const t of check) await unchanged(t, a);
  }
  return { seed: options.seed, steps: options.steps, forged: forgedCount, violations: w.violations, ran };
}
