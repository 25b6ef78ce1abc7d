/**
 * Bolt's InstallationStore (src/slack/installation-store.ts) on the real tenant store of both databases: what the
 * OAuth flow hands over comes back whole, an org-wide install serves its organisation's teams, and an uninstall
 * removes the workspace and its accounts and leaves the others.
 */
import type { Installation, InstallationStore } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantStore } from '../../src/pipeline/tenancy-port.ts';
import { createInstallationStore, NotInstalledError } from '../../src/slack/installation-store.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { TEST_KEYS } from '../stores.ts';
import { ORG_INSTALL, QUIET, TEAM_INSTALL } from '../fixtures/installations.ts';

const TEAM = TEAM_INSTALL;
const ORG = ORG_INSTALL;
const quiet = QUIET;

/** JSON drops `undefined`: what Bolt gets back is the installation as stored. */
const asStored = (installation: Installation): unknown => JSON.parse(JSON.stringify(installation));

function suite(open: () => Promise<TenantStore>): void {
  let tenants: TenantStore | undefined;
  let store: InstallationStore;
  const changed: string[] = [];

  afterEach(async () => {
    await tenants?.close();
    tenants = undefined;
    changed.length = 0;
  });

  const start = async (): Promise<TenantStore> => {
    tenants = await open();
    store = createInstallationStore({
      registry: tenants,
      clock: { now: () => 1_700_000_000_000 },
      log: quiet,
      changed: (workspace) => changed.push(workspace),
    });
    return tenants;
  };

  it('gives back what it stored, org-wide installs under their organisation', async () => {
    const registry = await start();
    await store.storeInstallation(TEAM);
    await store.storeInstallation(ORG);
    expect(
      (await registry.installations()).map((i) => [i.workspace, i.isEnterpriseInstall, i.botToken]),
    ).toEqual([
      ['E1', true, 'xoxb-org-token-0002'],
      ['T1', false, 'xoxb-team-token-0001'],
    ]);
    expect(
      asStored(
        await store.fetchInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false }),
      ),
    ).toEqual(asStored(TEAM));
    // A team of the organisation: the org-wide install serves it.
    expect(
      asStored(
        await store.fetchInstallation({ teamId: 'T7', enterpriseId: 'E1', isEnterpriseInstall: false }),
      ),
    ).toEqual(asStored(ORG));
    await expect(
      store.fetchInstallation({ teamId: 'T9', enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toBeInstanceOf(NotInstalledError);
  });

  it('keeps the newest installation of a workspace installed again', async () => {
    const registry = await start();
    await store.storeInstallation(TEAM);
    await store.storeInstallation({ ...TEAM, bot: { ...TEAM.bot!, token: 'xoxb-team-token-0003' } });
    expect((await registry.installations()).map((i) => i.botToken)).toEqual(['xoxb-team-token-0003']);
    expect(changed).toEqual(['T1', 'T1']);
  });

  it('removes an uninstalled workspace, its accounts with it, and leaves the other', async () => {
    const registry = await start();
    await store.storeInstallation(TEAM);
    await store.storeInstallation(ORG);
    for (const workspace of ['T1', 'E1'])
      await registry.connectAccount({
        workspace,
        name: 'prod',
        apiUrl: 'https://halo.example.org/api/v1',
        apiKey: `key-of-${workspace}`,
        createdBy: 'U1',
        createdAt: 1,
      });
    await store.deleteInstallation!({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false });
    expect((await registry.installations()).map((i) => i.workspace)).toEqual(['E1']);
    expect(await registry.accounts('T1')).toEqual([]);
    expect((await registry.accounts('E1')).map((a) => a.name)).toEqual(['prod']);
    expect(changed).toEqual(['T1', 'E1', 'T1']);
  });
}

describe('installation store on SQLite', () => {
  suite(() => Promise.resolve(openSqliteTenants(':memory:', TEST_KEYS)));
});

describePg('installation store on PostgreSQL', () => {
  suite(async () => {
    const { url } = await freshSchema('installs');
    return openPostgresTenants(url, quiet, TEST_KEYS);
  });
});
