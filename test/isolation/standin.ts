/**
 * A stand-in TenantStore: one in-memory SQLite store per scope and the registry in maps. Isolated by
 * construction, so the suite run against it checks the suite itself (its model and its steps); the real
 * TenantStore (src/store) is what the suite is for.
 */
import { randomUUID } from 'node:crypto';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import type {
  AccountRecord,
  InstallationRecord,
  NewAccount,
  Purged,
  Scope,
  TenantStore,
} from '../../src/pipeline/tenancy-port.ts';

export function standInTenants(): TenantStore {
  const views = new Map<string, Store>();
  const installs = new Map<string, InstallationRecord>();
  const accounts = new Map<string, AccountRecord>();
  const where = (scope: Scope) => `${scope.workspace}|${scope.account}`;
  const drop = async (scope: Scope) => {
    await views.get(where(scope))?.close();
    views.delete(where(scope));
  };
  return {
    scoped(scope) {
      let view = views.get(where(scope));
      if (view === undefined) views.set(where(scope), (view = openSqliteStore(':memory:')));
      return view;
    },
    saveInstallation(installation) {
      installs.set(installation.workspace, installation);
      return Promise.resolve();
    },
    installation: (workspace) => Promise.resolve(installs.get(workspace) ?? null),
    installations: () => Promise.resolve([...installs.values()]),
    connectAccount(account: NewAccount) {
      const same = [...accounts.values()].find(
        (a) => a.workspace === account.workspace && a.name === account.name,
      );
      const keyHint = account.apiKey.slice(-4);
      const record: AccountRecord = same
        ? { ...same, apiKey: account.apiKey, apiUrl: account.apiUrl, keyHint, status: 'active' }
        : { ...account, id: randomUUID(), keyHint, status: 'active', lastPollAt: null, lastError: null };
      accounts.set(`${record.workspace}|${record.id}`, record);
      return Promise.resolve({ account: record, created: same === undefined });
    },
    accounts: (workspace) =>
      Promise.resolve(
        [...accounts.values()]
          .filter((a) => workspace === undefined || a.workspace === workspace)
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      ),
    setAccountHealth(scope, health) {
      const account = accounts.get(where(scope));
      if (account !== undefined) accounts.set(where(scope), { ...account, ...health });
      return Promise.resolve();
    },
    async disconnectAccount(scope): Promise<Purged | null> {
      if (!accounts.delete(where(scope))) return null;
      await drop(scope);
      return { rows: { accounts: 1 } };
    },
    async purgeWorkspace(workspace): Promise<Purged> {
      installs.delete(workspace);
      for (const account of [...accounts.values()].filter((a) => a.workspace === workspace)) {
        accounts.delete(`${workspace}|${account.id}`);
        await drop({ workspace, account: account.id });
      }
      return { rows: {} };
    },
    reencryptSecrets: () => Promise.resolve(0),
    async close() {
      for (const view of views.values()) await view.close();
    },
  };
}
