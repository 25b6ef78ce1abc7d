/**
 * The seam every Slack request goes through before anything runs: which workspace it comes from (as Bolt's
 * `authorize` resolved it), and that workspace's Halo accounts, each with its services (commands, buttons, the
 * subscribe dialog) built on its own scoped store view and its own Halo client. A request acts only through the
 * services of its own workspace's accounts: whatever it names (an event ID, a button's account, a channel, a
 * `team_id` in its payload), it cannot reach another workspace's rows or keys, because it is never given them.
 *
 * Services are built on first use, kept, and rebuilt when the account's key or URL changes (`/halo connect`
 * again); `forget` drops them when the account is disconnected.
 */
import type PQueue from 'p-queue';
import { timely } from '../clock.ts';
import { accountFilter, findNamed } from '../domain/account-name.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import type { Store } from '../pipeline/store-port.ts';
import { ENV_ACCOUNT, type AccountRecord, type Scope } from '../pipeline/tenancy-port.ts';
import type { Acknowledger } from './acknowledge.ts';
import type { EventDeleter } from './delete.ts';
import type { CommandService } from './service.ts';
import type { SubscribeDialog } from './subscribe-dialog.ts';

/** A request's workspace as Bolt's `authorize` left it in the listener's context. */
export interface RequestWorkspace {
  readonly teamId?: string | undefined;
  readonly enterpriseId?: string | undefined;
  readonly isEnterpriseInstall?: boolean | undefined;
}

/** An account as answers may show it: everything but its key (of which only `keyHint` is ever shown). */
export type AccountView = Omit<AccountRecord, 'apiKey'>;

/** What one account's requests are served by. */
export interface AccountServices {
  readonly halo: HaloClient;
  /** The account's bound on Halo requests in flight (the one its polls take): a scan queues its pages on it. */
  readonly haloRequests: PQueue;
  readonly store: Store;
  readonly commands: CommandService;
  readonly acknowledger: Acknowledger;
  readonly deleter: EventDeleter;
  readonly dialog: SubscribeDialog;
}

/** One account of the request's workspace, with its services. */
export interface TenantAccount extends AccountServices {
  readonly scope: Scope;
  readonly account: AccountView;
}

export interface TenantsOptions {
  /** The request's workspace key ({@link Scope.workspace}), or null when this deployment serves no such workspace. */
  readonly workspaceOf: (request: RequestWorkspace) => string | null;
  /** The workspace's accounts with their keys, by name (the env account included in the single shape). */
  readonly accounts: (workspace: string) => Promise<readonly AccountRecord[]>;
  /**
   * What is known of a workspace's accounts without the database (the environment's account), served when the
   * database does not answer before any read of it succeeded.
   */
  readonly offline?: (workspace: string) => readonly AccountRecord[] | undefined;
  /** Builds one account's services on `scope`'s store view and the account's own Halo client. */
  readonly build: (scope: Scope, account: AccountRecord) => AccountServices;
  /** May this user manage this workspace's subscriptions and accounts (its admins, or HALO_ADMIN_USERS)? */
  readonly canManage: (workspace: string, userId: string) => Promise<boolean>;
}

/** The account chosen, with all the workspace's as read to choose it (by name); or what to say. */
export type AccountChoice =
  | { readonly ok: true; readonly account: TenantAccount; readonly all: readonly TenantAccount[] }
  | { readonly ok: false; readonly error: string };

export const NO_ACCOUNTS =
  'This workspace has no Halo Security account connected: an admin connects one with /halo connect.';
export const NOT_SERVED = 'This workspace is not served by this Halo Security bot.';

interface Built {
  readonly apiKey: string;
  readonly apiUrl: string;
  readonly services: AccountServices;
}

/**
 * How long a request waits for its workspace's accounts before it is served from the list as last read: the
 * database slow or away must not silence the commands that need none of it (`/halo help`, `/halo status`).
 */
export const ACCOUNTS_LOOKUP_WAIT_MS = 2000;

export class Tenants {
  private readonly built = new Map<string, Built>();
  /** Each workspace's accounts as last read, for when the database does not answer in time. */
  private readonly known = new Map<string, readonly AccountRecord[]>();

  constructor(private readonly options: TenantsOptions) {}

  /** The request's workspace, or null (the request then gets nothing of any workspace). */
  workspace(request: RequestWorkspace): TenantWorkspace | null {
    const key = this.options.workspaceOf(request);
    return key === null ? null : new TenantWorkspace(key, this);
  }

  /** Drops an account's services (it was disconnected): the next request builds none for it. */
  forget(scope: Scope): void {
    this.built.delete(cacheKey(scope));
    const known = this.known.get(scope.workspace);
    if (known !== undefined)
      this.known.set(
        scope.workspace,
        known.filter((record) => record.id !== scope.account),
      );
  }

  /** Drops every account's services of a workspace (uninstalled). */
  forgetWorkspace(workspace: string): void {
    for (const key of [...this.built.keys()]) if (key.startsWith(`${workspace}\n`)) this.built.delete(key);
    this.known.delete(workspace);
  }

  /** @internal The admin rule, asked in `workspace`. */
  canManageIn(workspace: string, userId: string): Promise<boolean> {
    return this.options.canManage(workspace, userId);
  }

  /** @internal The workspace's accounts, each with its services. */
  async accountsOf(workspace: string): Promise<TenantAccount[]> {
    const records = await this.records(workspace);
    return records
      .filter((record) => record.workspace === workspace)
      .map((record) => this.serve({ workspace, account: record.id }, record));
  }

  /** The workspace's accounts, read now; the list as last read when the read fails or takes too long. */
  private async records(workspace: string): Promise<readonly AccountRecord[]> {
    const lookup = this.options.accounts(workspace).then((records) => {
      this.known.set(workspace, records);
      return records;
    });
    const last = this.known.get(workspace) ?? this.options.offline?.(workspace);
    if (last === undefined) return lookup;
    const answer = await timely(lookup, ACCOUNTS_LOOKUP_WAIT_MS);
    return answer.ok ? answer.value : last;
  }

  private serve(scope: Scope, record: AccountRecord): TenantAccount {
    const key = cacheKey(scope);
    let built = this.built.get(key);
    // A new key or URL (`/halo connect` again): services built on the old one would speak with it.
    if (built === undefined || built.apiKey !== record.apiKey || built.apiUrl !== record.apiUrl) {
      built = {
        apiKey: record.apiKey,
        apiUrl: record.apiUrl,
        services: this.options.build(scope, record),
      };
      this.built.set(key, built);
    }
    const account = withoutKey(record);
    return { ...built.services, scope, account };
  }
}

/** The accounts of one request's workspace: the only ones that request can reach. */
export class TenantWorkspace {
  constructor(
    readonly key: string,
    private readonly tenants: Tenants,
  ) {}

  /** May this user change subscriptions, delete events and connect accounts here? Asked of this workspace. */
  canManage(userId: string): Promise<boolean> {
    return this.tenants.canManageIn(this.key, userId);
  }

  /** Its accounts, by name. */
  async accounts(): Promise<TenantAccount[]> {
    const accounts = await this.tenants.accountsOf(this.key);
    return accounts.sort((a, b) => a.account.name.localeCompare(b.account.name));
  }

  /**
   * The account a button names by ID (`undefined`: a button from before accounts, which means the env account);
   * null when this workspace has none such, whatever another workspace has.
   */
  async byId(id: string | undefined): Promise<TenantAccount | null> {
    const wanted = id ?? ENV_ACCOUNT;
    return (await this.tenants.accountsOf(this.key)).find((a) => a.account.id === wanted) ?? null;
  }

  /**
   * The account `account:NAME` names, or the only one when none is named; else what to say. `anyOne`: when none
   * is named, any account does (the first by name), for what is the same in all (`/halo test`'s sample alert).
   */
  async choose(name: string | undefined, anyOne = false): Promise<AccountChoice> {
    const accounts = await this.accounts();
    const names = accounts.map((a) => a.account.name);
    if (accounts.length === 0) return { ok: false, error: NO_ACCOUNTS };
    if (name === undefined) {
      if (accounts.length === 1 || anyOne) return { ok: true, account: accounts[0]!, all: accounts };
      return {
        ok: false,
        error: `This workspace has ${accounts.length} Halo accounts: say which with account:NAME (${listNames(names)}).`,
      };
    }
    const found = findByName(accounts, name);
    if (found !== undefined) return { ok: true, account: found, all: accounts };
    return {
      ok: false,
      error: `This workspace has no Halo account named “${name}”; its accounts: ${listNames(names)}.`,
    };
  }

  /** The account of that name, if any (exactly, or ignoring ASCII case when only one matches so). */
  async named(name: string): Promise<TenantAccount | undefined> {
    return findByName(await this.accounts(), name);
  }
}

function findByName(accounts: readonly TenantAccount[], name: string): TenantAccount | undefined {
  return findNamed(accounts, name, (a) => a.account.name);
}

function listNames(names: readonly string[]): string {
  return names.map(accountFilter).join(', ');
}

function cacheKey(scope: Scope): string {
  return `${scope.workspace}\n${scope.account}`;
}

/**
 * The single-workspace shape's answer to "which workspace": the bot's own team (or Enterprise Grid organisation)
 * is the env workspace; any other is served nothing. When the bot's team is unknown (Slack unreachable at
 * start-up), a signed request can only come from the one installation.
 */
export function singleWorkspace(
  own: { readonly teamId: string; readonly enterpriseId?: string | undefined } | undefined,
  workspace: string,
): (request: RequestWorkspace) => string | null {
  return ({ teamId, enterpriseId }) => {
    if (own === undefined) return workspace;
    const sameTeam = teamId !== undefined && teamId === own.teamId;
    const sameOrg = own.enterpriseId !== undefined && enterpriseId === own.enterpriseId;
    return sameTeam || sameOrg ? workspace : null;
  };
}

/** The distributed shape: an org-wide install's key is its enterprise ID, any other's its team ID. */
export function installedWorkspace(request: RequestWorkspace): string | null {
  const key = request.isEnterpriseInstall === true ? request.enterpriseId : request.teamId;
  return key === undefined || key === '' ? null : key;
}

/** The account as answers may carry it: its key left behind. */
export function withoutKey(record: AccountRecord): AccountView {
  const view: { -readonly [K in keyof AccountRecord]?: AccountRecord[K] } = { ...record };
  delete view.apiKey;
  return view as AccountView;
}
