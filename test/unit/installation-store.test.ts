import type { Installation } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { InstallationRecord, Purged } from '../../src/pipeline/tenancy-port.ts';
import {
  candidateWorkspaces,
  createInstallationStore,
  fromRecord,
  InstallationRefusedError,
  NotInstalledError,
  toRecord,
  type InstallationRegistry,
} from '../../src/slack/installation-store.ts';
import { ORG_INSTALL, QUIET, TEAM_INSTALL } from '../fixtures/installations.ts';

const TEAM = TEAM_INSTALL;
const ORG = ORG_INSTALL;
const silent = QUIET;

function memoryRegistry(): InstallationRegistry & {
  rows: Map<string, InstallationRecord>;
  purged: string[];
} {
  const rows = new Map<string, InstallationRecord>();
  const purged: string[] = [];
  return {
    rows,
    purged,
    saveInstallation: (record) => {
      rows.set(record.workspace, record);
      return Promise.resolve();
    },
    installation: (workspace) => Promise.resolve(rows.get(workspace) ?? null),
    purgeWorkspace: (workspace): Promise<Purged> => {
      purged.push(workspace);
      const had = rows.delete(workspace);
      return Promise.resolve({ rows: had ? { installations: 1 } : {} });
    },
  };
}

describe('installation store: the mapping', () => {
  it('keeps a team install under its team ID, the whole installation in raw', () => {
    expect(toRecord(TEAM, 1_700_000_000_000)).toEqual({
      workspace: 'T1',
      teamId: 'T1',
      enterpriseId: null,
      isEnterpriseInstall: false,
      botUserId: 'UB1',
      botId: 'B1',
      botToken: 'xoxb-team-token-0001',
      raw: JSON.stringify(TEAM),
      installedBy: 'U1',
      installedAt: 1_700_000_000_000,
    });
  });

  it('keeps an org-wide install (Enterprise Grid) under its organisation ID', () => {
    expect(toRecord(ORG, 5)).toEqual({
      workspace: 'E1',
      teamId: null,
      enterpriseId: 'E1',
      isEnterpriseInstall: true,
      botUserId: 'UB2',
      botId: 'B2',
      botToken: 'xoxb-org-token-0002',
      raw: JSON.stringify(ORG),
      installedBy: 'W1',
      installedAt: 5,
    });
  });

  it('keeps a team install inside an organisation (not org-wide) under its team', () => {
    const inGrid: Installation = { ...TEAM, enterprise: { id: 'E1', name: 'Grid' } };
    expect(toRecord(inGrid, 0)).toMatchObject({ workspace: 'T1', teamId: 'T1', enterpriseId: 'E1' });
  });

  it('refuses an installation without a bot token or without its key', () => {
    const noBot: Installation = { ...TEAM };
    delete noBot.bot;
    expect(() => toRecord(noBot, 0)).toThrow(
      new InstallationRefusedError('an installation without a bot token (were the bot scopes granted?)'),
    );
    expect(() => toRecord({ ...ORG, enterprise: { id: '' } }, 0)).toThrow(
      new InstallationRefusedError('an org-wide installation without its organisation ID'),
    );
  });

  it('gives the installation back, the record columns winning over raw', () => {
    const record = { ...toRecord(TEAM, 0), botToken: 'xoxb-rotated' };
    expect(fromRecord(record)).toEqual({
      ...TEAM,
      bot: { token: 'xoxb-rotated', scopes: ['commands', 'chat:write'], id: 'B1', userId: 'UB1' },
    });
  });

  it('looks a request up by its organisation when it says org-wide, else by its team then organisation', () => {
    expect(
      candidateWorkspaces({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false }),
    ).toEqual(['T1']);
    expect(candidateWorkspaces({ teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: false })).toEqual([
      'T1',
      'E1',
    ]);
    expect(candidateWorkspaces({ teamId: undefined, enterpriseId: 'E1', isEnterpriseInstall: true })).toEqual(
      ['E1'],
    );
  });
});

describe('installation store: Bolt’s InstallationStore on the registry', () => {
  it('stores, fetches and deletes; an org-wide install serves its teams; an unknown team is refused', async () => {
    const registry = memoryRegistry();
    const changed: string[] = [];
    const store = createInstallationStore({
      registry,
      clock: { now: () => 42 },
      log: silent,
      changed: (workspace) => changed.push(workspace),
    });
    await store.storeInstallation(TEAM);
    await store.storeInstallation(ORG);
    expect([...registry.rows.keys()]).toEqual(['T1', 'E1']);
    expect(changed).toEqual(['T1', 'E1']);

    const team = await store.fetchInstallation({
      teamId: 'T1',
      enterpriseId: undefined,
      isEnterpriseInstall: false,
    });
    expect(team.bot?.token).toBe('xoxb-team-token-0001');
    // A team of the organisation that did not install the app itself: the org-wide install serves it.
    const ofOrg = await store.fetchInstallation({
      teamId: 'T7',
      enterpriseId: 'E1',
      isEnterpriseInstall: false,
    });
    expect(ofOrg.bot?.token).toBe('xoxb-org-token-0002');
    await expect(
      store.fetchInstallation({ teamId: 'T9', enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(new NotInstalledError('T9').message);

    await store.deleteInstallation!({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false });
    expect(registry.purged).toEqual(['T1']);
    expect(changed).toEqual(['T1', 'E1', 'T1']);
    await expect(
      store.fetchInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toBeInstanceOf(NotInstalledError);
  });

  it('never lets an organisation key serve a team through a team-level install of that ID', async () => {
    const registry = memoryRegistry();
    // A team-level record filed under what a request calls its organisation: not an org-wide install.
    registry.rows.set('E5', { ...toRecord(TEAM, 0), workspace: 'E5' });
    const store = createInstallationStore({
      registry,
      clock: { now: () => 0 },
      log: silent,
      changed: () => 0,
    });
    await expect(
      store.fetchInstallation({ teamId: 'T8', enterpriseId: 'E5', isEnterpriseInstall: false }),
    ).rejects.toBeInstanceOf(NotInstalledError);
  });
});

describe('installation store: the database slow or away', () => {
  const T1 = { teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false } as const;
  const T2 = { teamId: 'T2', enterpriseId: undefined, isEnterpriseInstall: false } as const;
  /** The memory registry, with its reads made to fail or hang at will. */
  function flakyRegistry() {
    const registry = memoryRegistry();
    const state = { mode: 'up' as 'up' | 'down' | 'hung', reads: 0 };
    const read = registry.installation;
    registry.installation = (workspace) => {
      state.reads += 1;
      if (state.mode === 'down') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      if (state.mode === 'hung') return new Promise(() => undefined);
      return read(workspace);
    };
    return { registry, state };
  }
  const storeOn = (registry: InstallationRegistry) =>
    createInstallationStore({
      registry,
      clock: { now: () => 42 },
      log: silent,
      changed: () => undefined,
      lookupWaitMs: 50,
    });

  it('answers from the installation last read when the database fails or is late, and only then', async () => {
    const { registry, state } = flakyRegistry();
    registry.rows.set('T1', toRecord(TEAM, 1));
    registry.rows.set('T2', { ...toRecord(TEAM, 1), workspace: 'T2', teamId: 'T2' });
    const store = storeOn(registry);
    expect((await store.fetchInstallation(T1)).bot?.token).toBe('xoxb-team-token-0001');

    state.mode = 'down';
    expect((await store.fetchInstallation(T1)).bot?.token).toBe('xoxb-team-token-0001');
    state.mode = 'hung';
    const asked = Date.now();
    expect((await store.fetchInstallation(T1)).bot?.token).toBe('xoxb-team-token-0001');
    expect(Date.now() - asked).toBeLessThan(5000);
    // Never read by this process: nothing to answer from, so the database's own failure.
    state.mode = 'down';
    await expect(store.fetchInstallation(T2)).rejects.toThrow('ECONNREFUSED');
    // Each read asked the database first.
    expect(state.reads).toBe(4);
  });

  it('never answers from memory for a workspace read as uninstalled, or uninstalled here', async () => {
    const { registry, state } = flakyRegistry();
    const store = storeOn(registry);
    await store.storeInstallation(TEAM);
    await store.storeInstallation({ ...TEAM, team: { id: 'T2', name: 'Other' } });
    // Uninstalled by another replica: this one reads it as gone, and forgets it.
    registry.rows.delete('T1');
    await expect(store.fetchInstallation(T1)).rejects.toThrow(new NotInstalledError('T1').message);
    // Uninstalled through this process.
    await store.deleteInstallation!(T2);
    state.mode = 'down';
    for (const query of [T1, T2])
      await expect(store.fetchInstallation(query)).rejects.toThrow('ECONNREFUSED');
  });
});
