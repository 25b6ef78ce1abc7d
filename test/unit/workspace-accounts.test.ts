import { describe, expect, it } from 'vitest';
import { AccountAdmin, describeRows } from '../../src/commands/account-admin.ts';
import {
  installedWorkspace,
  NO_ACCOUNTS,
  singleWorkspace,
  Tenants,
  type AccountServices,
} from '../../src/commands/workspace-accounts.ts';
import { createLogger } from '../../src/log.ts';
import { HaloAuthError } from '../../src/pipeline/halo-errors.ts';
import type { NewAuditEntry } from '../../src/pipeline/store-port.ts';
import type { AccountRecord, NewAccount, Purged, Scope } from '../../src/pipeline/tenancy-port.ts';

const log = createLogger({ level: 'error', secrets: [], write: () => undefined });

function record(workspace: string, id: string, name: string, apiKey = `key-${id}-abcd`): AccountRecord {
  return {
    workspace,
    id,
    name,
    apiUrl: 'https://api.example/api/v1',
    apiKey,
    keyHint: apiKey.slice(-4),
    status: 'active',
    lastPollAt: null,
    lastError: null,
    createdBy: 'U1',
    createdAt: 0,
  };
}

/** A registry in memory, and Tenants over it whose services say which scope and key built them. */
function fixture() {
  const rows: AccountRecord[] = [
    record('env', 'env', 'Halo', 'env-key-0001'),
    record('T1', 'a1', 'Prod'),
    record('T1', 'a2', 'Client B'),
    record('T2', 'b1', 'Prod'),
  ];
  const built: string[] = [];
  const tenants = new Tenants({
    workspaceOf: installedWorkspace,
    accounts: (workspace) => Promise.resolve(rows.filter((r) => r.workspace === workspace)),
    build: (scope, account) => {
      built.push(`${scope.workspace}/${scope.account}/${account.apiKey}`);
      return { halo: { key: account.apiKey } } as unknown as AccountServices;
    },
    canManage: (workspace, userId) => Promise.resolve(workspace === 'T1' && userId === 'UADMIN'),
  });
  return { rows, built, tenants };
}

describe('Tenants: the seam every request goes through', () => {
  it('resolves a request to its workspace: the enterprise for an org-wide install, the team otherwise', () => {
    expect(installedWorkspace({ teamId: 'T1' })).toBe('T1');
    expect(installedWorkspace({ teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: true })).toBe('E1');
    expect(installedWorkspace({ teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: false })).toBe('T1');
    expect(installedWorkspace({})).toBeNull();
    const single = singleWorkspace({ teamId: 'T1', enterpriseId: 'E1' }, 'env');
    expect(single({ teamId: 'T1' })).toBe('env');
    expect(single({ teamId: 'T9', enterpriseId: 'E1' })).toBe('env');
    expect(single({ teamId: 'T2', enterpriseId: 'E2' })).toBeNull();
    expect(single({})).toBeNull();
    // The bot's team unknown (Slack unreachable at start-up): a signed request is the one installation's.
    expect(singleWorkspace(undefined, 'env')({ teamId: 'T2' })).toBe('env');
  });

  it('serves a workspace from its accounts as last read when the database does not answer', async () => {
    const rows = [record('T1', 'a1', 'Prod')];
    let answer: 'now' | 'never' | 'fail' = 'now';
    const tenants = new Tenants({
      workspaceOf: installedWorkspace,
      accounts: () =>
        answer === 'now'
          ? Promise.resolve(rows)
          : answer === 'fail'
            ? Promise.reject(new Error('database unreachable'))
            : new Promise<never>(() => undefined),
      build: () => ({}) as unknown as AccountServices,
      canManage: () => Promise.resolve(false),
    });
    const names = async () =>
      (await tenants.workspace({ teamId: 'T1' })!.accounts()).map((a) => a.account.name);
    expect(await names()).toEqual(['Prod']);
    answer = 'fail';
    expect(await names()).toEqual(['Prod']);
    answer = 'never';
    expect(await names()).toEqual(['Prod']);
    // A disconnected account is not served from the old list.
    tenants.forget({ workspace: 'T1', account: 'a1' });
    expect(await names()).toEqual([]);
  });

  it('chooses the named account, the only one, or says what to do', async () => {
    const { tenants, rows } = fixture();
    const t1 = tenants.workspace({ teamId: 'T1' })!;
    expect(await t1.choose(undefined)).toEqual({
      ok: false,
      error:
        'This workspace has 2 Halo accounts: say which with account:NAME (account:"Client B", account:Prod).',
    });
    const prod = await t1.choose('prod');
    expect(prod.ok && prod.account.scope).toEqual({ workspace: 'T1', account: 'a1' });
    expect(await t1.choose('Staging')).toEqual({
      ok: false,
      error:
        'This workspace has no Halo account named “Staging”; its accounts: account:"Client B", account:Prod.',
    });
    const t2 = tenants.workspace({ teamId: 'T2' })!;
    const only = await t2.choose(undefined);
    expect(only.ok && only.account.scope).toEqual({ workspace: 'T2', account: 'b1' });
    expect(await tenants.workspace({ teamId: 'T3' })!.choose(undefined)).toEqual({
      ok: false,
      error: NO_ACCOUNTS,
    });
    // An account never shows its key.
    expect(only.ok && 'apiKey' in only.account.account).toBe(false);
    expect(rows).toHaveLength(4);
  });

  it('finds a button’s account by ID in the request’s own workspace only; no account means the env one', async () => {
    const { tenants } = fixture();
    const t1 = tenants.workspace({ teamId: 'T1' })!;
    expect((await t1.byId('a1'))?.scope).toEqual({ workspace: 'T1', account: 'a1' });
    // Another workspace's account, named by a forged value: nothing.
    expect(await t1.byId('b1')).toBeNull();
    expect(await t1.byId(undefined)).toBeNull();
    const env = tenants.workspace({ teamId: 'env' })!;
    expect((await env.byId(undefined))?.scope).toEqual({ workspace: 'env', account: 'env' });
  });

  it('asks the admin rule of the request’s own workspace', async () => {
    const { tenants } = fixture();
    expect(await tenants.workspace({ teamId: 'T1' })!.canManage('UADMIN')).toBe(true);
    expect(await tenants.workspace({ teamId: 'T2' })!.canManage('UADMIN')).toBe(false);
  });

  it('builds an account’s services once, again for a new key, and anew after forget', async () => {
    const { tenants, built, rows } = fixture();
    const t1 = () => tenants.workspace({ teamId: 'T1' })!;
    await t1().byId('a1');
    await t1().byId('a1');
    expect(built).toEqual(['T1/a1/key-a1-abcd', 'T1/a2/key-a2-abcd']);
    rows[1] = { ...rows[1]!, apiKey: 'new-key-9999', keyHint: '9999' };
    expect((await t1().byId('a1'))?.halo).toEqual({ key: 'new-key-9999' });
    tenants.forget({ workspace: 'T1', account: 'a2' });
    await t1().byId('a2');
    expect(built.slice(2)).toEqual(['T1/a1/new-key-9999', 'T1/a2/key-a2-abcd']);
  });
});

describe('AccountAdmin: connect, list, disconnect', () => {
  function admin(options: { refusal?: string | null; checkKey?: () => Promise<void> } = {}) {
    const { tenants, rows } = fixture();
    const checked: { apiUrl: string; apiKey: string }[] = [];
    const audits: (NewAuditEntry & { workspace: string })[] = [];
    const forgotten: Scope[] = [];
    const subject = new AccountAdmin({
      registry: {
        connectAccount: (account: NewAccount) => {
          const existing = rows.findIndex(
            (r) => r.workspace === account.workspace && r.name === account.name,
          );
          const id = existing === -1 ? `new${rows.length}` : rows[existing]!.id;
          const saved = {
            ...record(account.workspace, id, account.name, account.apiKey),
            apiUrl: account.apiUrl,
          };
          if (existing === -1) rows.push(saved);
          else rows[existing] = saved;
          return Promise.resolve({ account: saved, created: existing === -1 });
        },
        disconnectAccount: (scope: Scope): Promise<Purged | null> => {
          const at = rows.findIndex((r) => r.workspace === scope.workspace && r.id === scope.account);
          if (at === -1) return Promise.resolve(null);
          rows.splice(at, 1);
          return Promise.resolve({ rows: { subscriptions: 2, mutes: 1, seen_events: 0 } });
        },
      },
      checkKey: (candidate) => {
        checked.push(candidate);
        return options.checkKey?.() ?? Promise.resolve();
      },
      apiUrls: { default: 'https://api.example/api/v1', allowed: ['https://eu.example/api/v1'] },
      refusal: options.refusal ?? null,
      audit: (workspace, entry) => {
        audits.push({ workspace, ...entry });
        return Promise.resolve();
      },
      forget: (scope) => forgotten.push(scope),
      clock: { now: () => 1000 },
      log,
    });
    return { subject, tenants, rows, checked, audits, forgotten };
  }
  const request = { name: 'Staging', apiKey: 'stage-key-7777', apiUrl: null, userId: 'UADMIN' };

  it('checks the key once, then saves it; the answer and the audit show only its last 4 characters', async () => {
    const { subject, tenants, checked, audits } = admin();
    const t1 = tenants.workspace({ teamId: 'T1' })!;
    const outcome = await subject.connect(t1, request);
    expect(outcome).toEqual({
      ok: true,
      created: true,
      account: expect.objectContaining({ workspace: 'T1', name: 'Staging', keyHint: '7777' }) as unknown,
    });
    expect(outcome.ok && 'apiKey' in outcome.account).toBe(false);
    expect(checked).toEqual([{ apiUrl: 'https://api.example/api/v1', apiKey: 'stage-key-7777' }]);
    expect(audits).toEqual([
      {
        workspace: 'T1',
        at: 1000,
        userId: 'UADMIN',
        action: 'connect',
        channel: null,
        detail: 'connected Staging (key …7777)',
      },
    ]);
    expect((await t1.accounts()).map((a) => a.account.name)).toEqual(['Client B', 'Prod', 'Staging']);
  });

  it('refuses a rejected key, a URL not allowed and a taken env name, saving nothing', async () => {
    const rejected = admin({ checkKey: () => Promise.reject(new HaloAuthError('types.json', 401)) });
    const t1 = rejected.tenants.workspace({ teamId: 'T1' })!;
    expect(await rejected.subject.connect(t1, request)).toEqual({
      ok: false,
      field: 'key',
      error: 'Halo refused this key: check it (Halo: Account → API) and paste it again.',
    });
    expect(rejected.rows).toHaveLength(4);
    const { subject, tenants, checked, rows } = admin();
    const url = await subject.connect(tenants.workspace({ teamId: 'T1' })!, {
      ...request,
      apiUrl: 'http://169.254.169.254/latest',
    });
    expect(url).toMatchObject({ ok: false, field: 'url' });
    expect(
      await subject.connect(tenants.workspace({ teamId: 'T1' })!, {
        ...request,
        apiUrl: 'https://eu.example/api/v1/',
      }),
    ).toMatchObject({ ok: true, account: { apiUrl: 'https://eu.example/api/v1' } });
    expect(
      await subject.connect(tenants.workspace({ teamId: 'env' })!, { ...request, name: 'halo' }),
    ).toMatchObject({
      ok: false,
      field: 'name',
    });
    expect(checked).toHaveLength(1);
    expect(rows).toHaveLength(5);
  });

  it('refuses to connect without encryption keys, asking Halo nothing', async () => {
    const { subject, tenants, checked } = admin({ refusal: 'Set HALO_ENCRYPTION_KEYS.' });
    expect(subject.connectRefusal()).toBe('Set HALO_ENCRYPTION_KEYS.');
    expect(await subject.connect(tenants.workspace({ teamId: 'T1' })!, request)).toEqual({
      ok: false,
      field: 'key',
      error: 'Set HALO_ENCRYPTION_KEYS.',
    });
    expect(checked).toEqual([]);
  });

  it('disconnects an account of the workspace only, saying what it removed', async () => {
    const { subject, tenants, rows, forgotten, audits } = admin();
    const t1 = tenants.workspace({ teamId: 'T1' })!;
    expect(await subject.ask(t1, 'Prod')).toEqual({
      kind: 'disconnectConfirm',
      account: expect.objectContaining({ id: 'a1', name: 'Prod' }) as unknown,
    });
    // T2's account, by a forged button value: nothing.
    expect(await subject.disconnect(t1, 'b1', 'UADMIN')).toEqual({
      kind: 'notice',
      text: 'That account is not connected to this workspace (any more).',
    });
    expect(await subject.disconnect(t1, 'a1', 'UADMIN')).toEqual({
      kind: 'notice',
      text: 'Disconnected Prod: its key (…abcd) is deleted and its polling stops. Removed 1 mutes row and 2 subscriptions rows.',
    });
    expect(rows.map((r) => r.id)).toEqual(['env', 'a2', 'b1']);
    expect(forgotten).toEqual([{ workspace: 'T1', account: 'a1' }]);
    expect(audits.map((a) => a.detail)).toEqual(['Prod (key …abcd): 1 mutes row and 2 subscriptions rows']);
    expect(await subject.ask(tenants.workspace({ teamId: 'env' })!, 'Halo')).toMatchObject({
      kind: 'notice',
    });
  });

  it('describes a purge’s counts', () => {
    expect(describeRows({})).toBe('nothing else (it had no stored rows)');
    expect(describeRows({ outbox: 1 })).toBe('1 outbox row');
  });
});
