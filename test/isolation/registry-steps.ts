/**
 * The registry's steps: honest ones (a new key, health, disconnect and connect again, purge and install again)
 * and forged ones (B's account ID under A's workspace, a disconnected scope's view).
 */
import { modelFingerprint, readFingerprint } from './fingerprint.ts';
import type { ForgedStep } from './forged-steps.ts';
import { ScopeModel } from './model.ts';
import type { Step, Tenant } from './world.ts';

export const registrySteps: Step[] = [
  {
    name: 'reconnect with a new key',
    weight: 1,
    async run(w, a) {
      const t = await w.connect(a.slot, a.workspace, a.name);
      if (t !== a) w.fail(`a new key for ${a.workspace}/${a.name} made a new account: the old one was gone`);
      return [t];
    },
  },
  {
    name: 'account health',
    weight: 1,
    async run(w, a) {
      const bad = w.chance(0.5);
      const health = {
        status: bad ? ('needs_key' as const) : ('active' as const),
        lastPollAt: w.now,
        lastError: bad ? 'halo_unauthorized' : null,
      };
      await w.tenants.setAccountHealth(a.scope, health);
      a.registry = { ...a.registry, ...health };
    },
  },
  {
    name: 'disconnect and connect again',
    weight: 0.3,
    async run(w, a) {
      const purged = await w.tenants.disconnectAccount(a.scope);
      if (purged === null) w.fail(`disconnectAccount(${a.scope.account}) found no account`);
      w.dead.push(a.scope);
      return [await w.connect(a.slot, a.workspace, a.name)];
    },
  },
  {
    name: 'purge the workspace and install again',
    weight: 0.1,
    async run(w, a) {
      await w.tenants.purgeWorkspace(a.workspace);
      const mine = w.slots.filter((t) => t.workspace === a.workspace);
      w.installs.delete(a.workspace);
      for (const t of mine) {
        w.dead.push(t.scope);
      }
      await w.install(a.workspace);
      const fresh: Tenant[] = [];
      for (const t of mine) fresh.push(await w.connect(t.slot, t.workspace, t.name));
      return fresh;
    },
  },
];

export const forgedRegistrySteps: ForgedStep[] = [
  {
    name: "B's account under A's workspace",
    weight: 2,
    async run(w, a, b) {
      if (a.workspace === b.workspace) return false;
      const mixed = { workspace: a.workspace, account: b.scope.account };
      const how = w.int(3);
      if (how === 0)
        w.expect('disconnectAccount(mixed scope)', await w.tenants.disconnectAccount(mixed), null);
      if (how === 1)
        await w.tenants.setAccountHealth(mixed, {
          status: 'needs_key',
          lastPollAt: w.now,
          lastError: 'forged',
        });
      // A view of the mixed scope reads nothing: not B's rows, not A's.
      const got = await readFingerprint(w.tenants.scoped(mixed), await w.readRegistry(mixed));
      w.expect('view of a mixed scope', got, modelFingerprint(new ScopeModel(), w.expectedRegistry(mixed)));
    },
  },
  {
    name: 'a disconnected scope',
    weight: 1,
    async run(w) {
      if (w.dead.length === 0) return false;
      const scope = w.pick(w.dead);
      const got = await readFingerprint(w.tenants.scoped(scope), await w.readRegistry(scope));
      w.expect(
        'view of a disconnected scope',
        got,
        modelFingerprint(new ScopeModel(), w.expectedRegistry(scope)),
      );
    },
  },
];
