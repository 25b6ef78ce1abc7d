/**
 * The isolation suite's world: 3 workspaces × 2 Halo accounts on one TenantStore, each scope with its model, and
 * the helpers a step uses (seeded randomness, the logical clock, expectations).
 */
import type { HaloEvent } from '../../src/domain/event.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import type {
  AccountRecord,
  InstallationRecord,
  Scope,
  TenantStore,
} from '../../src/pipeline/tenancy-port.ts';
import { canonical, EVENT_POOL, LATER, type RegistryView } from './fingerprint.ts';
import { ScopeModel } from './model.ts';

export const WORKSPACES = ['T0001', 'T0002', 'E0003'] as const;
export const ACCOUNT_NAMES = ['one', 'two'] as const;
export const KEYS = ['target-scan-start', 'target-scan-end', 'port-open'] as const;
export const USERS = ['U1', 'U2', 'U3'] as const;

/** mulberry32: small, seedable, the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same event for an ID whatever the scope: a forged step's ID then names the very event another holds. */
export function poolEvent(eventId: string): HaloEvent {
  const i = Number(eventId.slice(3));
  return {
    eventId,
    subject: `Subject ${eventId}`,
    dateCreated: `2024-05-01 12:0${i % 7}`,
    key: KEYS[i % KEYS.length]!,
    url: `https://www.halosecurity.com/link?q=user-event&id=${eventId}`,
    target: { name: '', id: 1 + (i % 4), host: `host${i % 4}.example.com` },
  };
}

export interface Tenant {
  readonly slot: number;
  readonly workspace: string;
  readonly name: string;
  scope: Scope;
  model: ScopeModel;
  registry: NonNullable<RegistryView['account']>;
  /** Its fingerprint when last read. */
  cached: string;
}

/** One kind of honest step of a scope's view. */
export interface Step {
  readonly name: string;
  readonly weight: number;
  /** False: it could not run (nothing to act on); an array of tenants: the slots it changed, instead of the actor. */
  run(w: World, a: Tenant): Promise<unknown>;
}

export interface Violation {
  readonly step: number;
  readonly op: string;
  readonly forged: boolean;
  readonly what: string;
}

export class World {
  readonly slots: Tenant[] = [];
  readonly installs = new Map<string, NonNullable<RegistryView['installation']>>();
  /** Scopes of disconnected or purged accounts: their views must read nothing, ever. */
  readonly dead: Scope[] = [];
  readonly violations: Violation[] = [];
  step = 0;
  op = '';
  forged = false;
  private readonly random: () => number;

  constructor(
    readonly tenants: TenantStore,
    readonly seed: number,
  ) {
    this.random = prng(seed);
  }

  get now(): number {
    return 1_000_000 + this.step * 1000;
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  some<T>(items: readonly T[], max: number): T[] {
    const n = 1 + this.int(max);
    return Array.from({ length: n }, () => this.pick(items));
  }

  eventIds(max: number): string[] {
    return this.some(EVENT_POOL, max);
  }

  channels(t: Tenant): string[] {
    return [`C${t.workspace}A`, `C${t.workspace}B`];
  }

  view(t: Tenant): Store {
    return this.tenants.scoped(t.scope);
  }

  /** Records a violation when `actual` is not `expected`. */
  expect(label: string, actual: unknown, expected: unknown): void {
    const [a, e] = [canonical(actual ?? null), canonical(expected ?? null)];
    if (a !== e) this.fail(`${label}: got ${a.slice(0, 400)}, expected ${e.slice(0, 400)}`);
  }

  fail(what: string): void {
    this.violations.push({ step: this.step, op: this.op, forged: this.forged, what });
  }

  async install(workspace: string): Promise<void> {
    const enterprise = workspace.startsWith('E');
    const install = {
      botId: `B${workspace}`,
      botToken: `xoxb-${workspace}-${this.step}`,
      teamId: enterprise ? null : workspace,
    };
    await this.tenants.saveInstallation({
      workspace,
      teamId: install.teamId,
      enterpriseId: enterprise ? workspace : null,
      isEnterpriseInstall: enterprise,
      botUserId: `UB${workspace}`,
      botId: install.botId,
      botToken: install.botToken,
      raw: JSON.stringify({ team: workspace }),
      installedBy: 'U1',
      installedAt: this.now,
    });
    this.installs.set(workspace, install);
  }

  /** Connects (or reconnects, with a new key) the account of a slot; a new account starts with an empty model. */
  async connect(slot: number, workspace: string, name: string): Promise<Tenant> {
    const apiKey = `halo-key-${workspace}-${name}-${this.step}-${this.int(1e6)}`;
    const { account, created } = await this.tenants.connectAccount({
      workspace,
      name,
      apiUrl: 'http://127.0.0.1:1/api',
      apiKey,
      createdBy: 'U1',
      createdAt: this.now,
    });
    const old = this.slots[slot];
    if (old !== undefined && !created) {
      this.expect('reconnect keeps the account ID', account.id, old.scope.account);
      old.registry = { ...old.registry, apiKey, keyHint: apiKey.slice(-4), status: 'active' };
      // Whether a reconnect clears the last poll's health is the store's choice: take it from the acting scope.
      old.registry.lastPollAt = account.lastPollAt;
      old.registry.lastError = account.lastError;
      return old;
    }
    const scope = { workspace, account: account.id };
    const registry = {
      name,
      keyHint: apiKey.slice(-4),
      apiKey,
      status: 'active',
      lastPollAt: null,
      lastError: null,
    };
    const tenant: Tenant = { slot, workspace, name, scope, model: new ScopeModel(), registry, cached: '' };
    this.slots[slot] = tenant;
    return tenant;
  }

  /** What the registry should show of a scope. */
  expectedRegistry(scope: Scope): RegistryView {
    const tenant = this.slots.find(
      (t) => t.scope.workspace === scope.workspace && t.scope.account === scope.account,
    );
    return { account: tenant?.registry ?? null, installation: this.installs.get(scope.workspace) ?? null };
  }

  /** What the registry shows of a scope. */
  async readRegistry(scope: Scope): Promise<RegistryView> {
    const account = (await this.tenants.accounts(scope.workspace)).find((a) => a.id === scope.account);
    return registryView(account, await this.tenants.installation(scope.workspace));
  }

  /** What the registry shows of every scope, read once (two queries) for all the scopes a step checks. */
  async readRegistries(): Promise<(scope: Scope) => RegistryView> {
    const [accounts, installs] = [await this.tenants.accounts(), await this.tenants.installations()];
    return (scope) =>
      registryView(
        accounts.find((a) => a.workspace === scope.workspace && a.id === scope.account),
        installs.find((i) => i.workspace === scope.workspace) ?? null,
      );
  }

  /**
   * Reads back the IDs of a scope's new outbox rows in a channel (and checks what it reads). `unattemptedAlerts`
   * is the only read that lists a channel's rows with their IDs, so the suite makes every row it adds (digests,
   * summaries, gone updates included) of kind `alert`: the store treats kinds alike but for that read.
   */
  async learnIds(t: Tenant, channel: string): Promise<void> {
    const view = this.view(t);
    const alerts = await view.unattemptedAlerts(channel);
    const expected = t.model.unattemptedAlerts(channel);
    this.expect(
      `unattemptedAlerts(${channel})`,
      alerts.map((r) => r.dedupKey),
      expected.map((r) => r.dedupKey),
    );
    for (const [i, row] of alerts.entries())
      if (expected[i]?.dedupKey === row.dedupKey) expected[i].id = row.id;
    const next = await view.nextDue(channel, LATER);
    const first = t.model.nextDue(channel, LATER);
    this.expect(`nextDue(${channel})`, next?.dedupKey, first?.dedupKey);
    if (next !== null && first !== null && first.dedupKey === next.dedupKey) first.id = next.id;
  }
}

function registryView(account: AccountRecord | undefined, install: InstallationRecord | null): RegistryView {
  return {
    account:
      account === undefined
        ? null
        : {
            name: account.name,
            keyHint: account.keyHint,
            apiKey: account.apiKey,
            status: account.status,
            lastPollAt: account.lastPollAt,
            lastError: account.lastError,
          },
    installation:
      install === null ? null : { botId: install.botId, botToken: install.botToken, teamId: install.teamId },
  };
}
