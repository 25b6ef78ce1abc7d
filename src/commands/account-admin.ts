/**
 * The workspace's Halo accounts, as admins manage them from Slack: `/halo connect` (the modal's submission),
 * `/halo accounts`, `/halo disconnect NAME` and its confirmation. A key is checked with Halo (one `types.json`
 * call) before it is saved, and never shown again: answers carry an {@link AccountView}, which has no key.
 */
import type { Clock } from '../clock.ts';
import { accountNameProblem } from '../domain/account-name.ts';
import type { Logger } from '../log.ts';
import { HaloAuthError, HaloError } from '../pipeline/halo-errors.ts';
import type { NewAuditEntry } from '../pipeline/store-port.ts';
import { ENV_ACCOUNT, type Scope, type TenantStore } from '../pipeline/tenancy-port.ts';
import { notice, type Answer } from './answers.ts';
import { withoutKey, type AccountView, type TenantWorkspace } from './workspace-accounts.ts';

/** What the connect modal sends: `apiUrl` null when left empty (the deployment's HALO_API_URL). */
export interface ConnectRequest {
  readonly name: string;
  readonly apiKey: string;
  readonly apiUrl: string | null;
  readonly userId: string;
}

/** Saved, or refused with the modal field to show the reason on. Nothing is saved when refused. */
export type ConnectOutcome =
  | { readonly ok: true; readonly account: AccountView; readonly created: boolean }
  | { readonly ok: false; readonly field: 'name' | 'key' | 'url'; readonly error: string };

export interface AccountAdminOptions {
  readonly registry: Pick<TenantStore, 'connectAccount' | 'disconnectAccount'>;
  /** One `types.json` call with the candidate key at the candidate URL; a refused key throws {@link HaloAuthError}. */
  readonly checkKey: (candidate: { readonly apiUrl: string; readonly apiKey: string }) => Promise<void>;
  /** HALO_API_URL (used when the modal names none), and the other URLs HALO_ALLOWED_API_URLS allows. */
  readonly apiUrls: { readonly default: string; readonly allowed: readonly string[] };
  /** Why keys cannot be saved in this deployment (no HALO_ENCRYPTION_KEYS), or null when they can. */
  readonly refusal: string | null;
  /** Records an entry in the workspace's audit trail (not an account's: a disconnect removes that one's). */
  readonly audit: (workspace: string, entry: NewAuditEntry) => Promise<void>;
  /** The account's services are dropped: its key changed, or it is gone. */
  readonly forget: (scope: Scope) => void;
  /** An account's health where the registry does not keep it (the env account's is its pipeline's). */
  readonly health?: (account: AccountView) => Promise<AccountView>;
  readonly clock: Clock;
  readonly log: Logger;
}

export const ENV_ACCOUNT_FIXED =
  'That account is the one set by HALO_API_KEY in the bot’s environment: it is changed there, not from Slack.';

export class AccountAdmin {
  constructor(private readonly options: AccountAdminOptions) {}

  /** Why `/halo connect` cannot open here, or null. */
  connectRefusal(): string | null {
    return this.options.refusal;
  }

  /** Checks the key with Halo, then saves the account (or the named account's new key). */
  async connect(workspace: TenantWorkspace, request: ConnectRequest): Promise<ConnectOutcome> {
    const { registry, clock, log } = this.options;
    if (this.options.refusal !== null) return { ok: false, field: 'key', error: this.options.refusal };
    const name = request.name.trim();
    const nameProblem = accountNameProblem(name);
    if (nameProblem !== null) return { ok: false, field: 'name', error: nameProblem };
    const existing = await workspace.named(name);
    if (existing?.account.id === ENV_ACCOUNT) return { ok: false, field: 'name', error: ENV_ACCOUNT_FIXED };
    const apiUrl = this.apiUrl(request.apiUrl);
    if (!apiUrl.ok) return { ok: false, field: 'url', error: apiUrl.error };
    const apiKey = request.apiKey.trim();
    if (apiKey.length < 8 || /[\s\p{Cc}]/u.test(apiKey))
      return { ok: false, field: 'key', error: 'Paste the whole API key (Halo: Account → API).' };
    try {
      await this.options.checkKey({ apiUrl: apiUrl.value, apiKey });
    } catch (error) {
      log.info('connect: the key was refused or could not be checked', {
        workspace: workspace.key,
        name,
        error: error instanceof HaloError ? error.message : String(error),
      });
      return { ok: false, field: 'key', error: keyProblem(error) };
    }
    const { account, created } = await registry.connectAccount({
      workspace: workspace.key,
      name: existing?.account.name ?? name,
      apiUrl: apiUrl.value,
      apiKey,
      createdBy: request.userId,
      createdAt: clock.now(),
    });
    this.options.forget({ workspace: workspace.key, account: account.id });
    await this.options.audit(workspace.key, {
      at: clock.now(),
      userId: request.userId,
      action: 'connect',
      channel: null,
      detail: `${created ? 'connected' : 'new key for'} ${account.name} (key …${account.keyHint})`,
    });
    log.info(created ? 'account connected' : 'account given a new key', {
      workspace: workspace.key,
      account: account.id,
      by: request.userId,
    });
    const view = withoutKey(account);
    return { ok: true, account: view, created };
  }

  /** `/halo accounts`. */
  async list(workspace: TenantWorkspace): Promise<Answer> {
    const { health = (account: AccountView) => Promise.resolve(account) } = this.options;
    const accounts = await Promise.all((await workspace.accounts()).map((a) => health(a.account)));
    return { kind: 'accounts', accounts };
  }

  /** `/halo disconnect NAME`: asks to confirm, naming what goes. */
  async ask(workspace: TenantWorkspace, name: string): Promise<Answer> {
    const found = await workspace.named(name);
    if (found === undefined) return notice(await this.unknown(workspace, name));
    if (found.account.id === ENV_ACCOUNT) return notice(ENV_ACCOUNT_FIXED);
    return { kind: 'disconnectConfirm', account: found.account };
  }

  /** The confirmation's button: the account (by ID, of this workspace only) goes, with everything of its scope. */
  async disconnect(workspace: TenantWorkspace, accountId: string, userId: string): Promise<Answer> {
    const { registry, clock, log } = this.options;
    const found = await workspace.byId(accountId);
    if (found === null) return notice('That account is not connected to this workspace (any more).');
    if (found.account.id === ENV_ACCOUNT) return notice(ENV_ACCOUNT_FIXED);
    const scope: Scope = { workspace: workspace.key, account: found.account.id };
    const purged = await registry.disconnectAccount(scope);
    this.options.forget(scope);
    if (purged === null) return notice('That account is not connected to this workspace (any more).');
    const removed = describeRows(purged.rows);
    await this.options.audit(workspace.key, {
      at: clock.now(),
      userId,
      action: 'disconnect',
      channel: null,
      detail: `${found.account.name} (key …${found.account.keyHint}): ${removed}`,
    });
    log.info('account disconnected', { workspace: workspace.key, account: scope.account, by: userId });
    return notice(
      `Disconnected ${found.account.name}: its key (…${found.account.keyHint}) is deleted and its polling stops. Removed ${removed}.`,
    );
  }

  private async unknown(workspace: TenantWorkspace, name: string): Promise<string> {
    const names = (await workspace.accounts()).map((a) => `“${a.account.name}”`);
    return names.length === 0
      ? 'This workspace has no Halo account connected.'
      : `This workspace has no Halo account named “${name}”; its accounts: ${names.join(', ')}.`;
  }

  /** The URL the modal names, checked against the allowed list; the default when it names none. */
  private apiUrl(
    given: string | null,
  ): { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string } {
    const { default: fallback, allowed } = this.options.apiUrls;
    const text = given?.trim() ?? '';
    if (text === '') return { ok: true, value: fallback };
    const url = normaliseUrl(text);
    if (url === null) return { ok: false, error: 'Give an https:// address, such as the default one.' };
    // Otherwise anyone with the modal could have the bot call an address inside its own network.
    if (url === fallback || allowed.includes(url)) return { ok: true, value: url };
    const listed = [fallback, ...allowed].join(', ');
    return {
      ok: false,
      error:
        `This bot calls only the Halo addresses its operator allows (HALO_ALLOWED_API_URLS): ${listed}. Leave the field empty for the first.`.slice(
          0,
          500,
        ),
    };
  }
}

/** Without a trailing `/`, as HALO_API_URL is kept; null for anything but an http(s) URL. */
export function normaliseUrl(text: string): string | null {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return null;
    return url.href.replace(/\/+$/, '');
  } catch {
    return null;
  }
}

function keyProblem(error: unknown): string {
  if (error instanceof HaloAuthError)
    return 'Halo refused this key: check it (Halo: Account → API) and paste it again.';
  if (error instanceof HaloError)
    return `The key could not be checked: ${error.userMessage.slice(0, 300)} Nothing was saved; try again.`;
  return 'The key could not be checked; nothing was saved. Try again.';
}

/** "3 subscriptions, 1 mute and 120 events seen", from a purge's counts by table. */
export function describeRows(rows: Readonly<Record<string, number>>): string {
  const parts = Object.entries(rows)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([table, n]) => `${n} ${table.replaceAll('_', ' ')} row${n === 1 ? '' : 's'}`);
  if (parts.length === 0) return 'nothing else (it had no stored rows)';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}
