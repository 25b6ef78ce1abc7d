/**
 * Tenancy: one deployment serves many Slack workspaces, each with one or more Halo accounts. Every stored row
 * belongs to a {@link Scope}; the {@link Store} the pipeline and the commands use is a view of one scope, so that
 * code written for one workspace and one account (all of it, before tenancy) cannot reach another's rows: the
 * scoping is done once, in the store, not remembered at every call site.
 *
 * The registry (installations and connected accounts) sits beside the scoped views: it is what decides which
 * scopes exist. Secrets (bot tokens, Halo API keys) cross this port in clear and are encrypted by the store
 * (AES-256-GCM under HALO_ENCRYPTION_KEYS); nothing else ever sees them encrypted or stores them.
 */
import type { Store } from './store-port.ts';

/**
 * What a row belongs to. `workspace`: the Slack team ID, or the Enterprise Grid organisation's ID for an
 * org-wide install, or {@link ENV_WORKSPACE} in the single-workspace shape. `account`: the Halo account's opaque
 * ID within the workspace ({@link ENV_ACCOUNT} for the key from the environment), never its key.
 */
export interface Scope {
  readonly workspace: string;
  readonly account: string;
}

/** The workspace of the single-workspace shape (SLACK_BOT_TOKEN): the one every row of an earlier release had. */
export const ENV_WORKSPACE = 'env';
/** The account of HALO_API_KEY in the single-workspace shape. */
export const ENV_ACCOUNT = 'env';
export const ENV_SCOPE: Scope = { workspace: ENV_WORKSPACE, account: ENV_ACCOUNT };

/** One installation of the app ("Add to Slack"), as the store keeps it. */
export interface InstallationRecord {
  /** Its {@link Scope.workspace}: the enterprise ID for an org-wide install, the team ID otherwise. */
  readonly workspace: string;
  readonly teamId: string | null;
  readonly enterpriseId: string | null;
  readonly isEnterpriseInstall: boolean;
  readonly botUserId: string;
  readonly botId: string;
  /** In clear in memory; encrypted at rest. */
  readonly botToken: string;
  /** The whole installation as Slack's OAuth library gave it (JSON); encrypted at rest, as it holds tokens. */
  readonly raw: string;
  readonly installedBy: string;
  readonly installedAt: number;
}

/** `needs_key`: Halo refused its key (401/403); it is polled hourly until `/halo connect` gives a new one. */
export type AccountStatus = 'active' | 'needs_key';

/** A Halo account connected to a workspace. */
export interface AccountRecord {
  readonly workspace: string;
  /** Opaque and stable: `/halo connect` with the same name and a new key keeps it (and so the baseline). */
  readonly id: string;
  /** Unique within the workspace; what `account:NAME` names. */
  readonly name: string;
  readonly apiUrl: string;
  /** In clear in memory; encrypted at rest. Shown nowhere: only {@link keyHint}. */
  readonly apiKey: string;
  /** The key's last 4 characters: all that is ever shown of it. */
  readonly keyHint: string;
  readonly status: AccountStatus;
  readonly lastPollAt: number | null;
  /** The last poll's error code (e.g. `halo_unauthorized`), null after a good poll. */
  readonly lastError: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
}

export type NewAccount = Pick<
  AccountRecord,
  'workspace' | 'name' | 'apiUrl' | 'apiKey' | 'createdBy' | 'createdAt'
>;

/**
 * A secret (a bot token, a Halo key) was to be saved, and no encryption key is configured: secrets are never stored
 * in clear. Thrown by {@link TenantStore.saveInstallation} and {@link TenantStore.connectAccount}.
 */
export class EncryptionKeyMissingError extends Error {
  override name = 'EncryptionKeyMissingError' as const;
  constructor() {
    super(
      'Secrets are encrypted at rest, and no encryption key is set. Set HALO_ENCRYPTION_KEYS to a key made with `openssl rand -base64 32` and restart.',
    );
  }
}

/** What a purge removed, for the answer that says so. */
export interface Purged {
  /** Rows removed, by table (without the `halo_` prefix), tables with none left out. */
  readonly rows: Readonly<Record<string, number>>;
}

/** The store of a deployment: the registry, and a scoped {@link Store} view per workspace and account. */
export interface TenantStore {
  /** The view of one scope: every read and write it makes is of that scope's rows only. Cheap; not cached. */
  scoped(scope: Scope): Store;

  saveInstallation(installation: InstallationRecord): Promise<void>;
  installation(workspace: string): Promise<InstallationRecord | null>;
  installations(): Promise<InstallationRecord[]>;

  /**
   * Connects an account, or gives a new key (and URL) to the workspace's account of that name: it keeps its ID,
   * and so its baseline, and becomes `active` again.
   */
  connectAccount(account: NewAccount): Promise<{ account: AccountRecord; created: boolean }>;
  /** Every account of a workspace, or of every workspace; by name. */
  accounts(workspace?: string): Promise<AccountRecord[]>;
  /** A poll's outcome: status, when, and the error code (null for a good poll). */
  setAccountHealth(
    scope: Scope,
    health: Pick<AccountRecord, 'status' | 'lastPollAt' | 'lastError'>,
  ): Promise<void>;
  /**
   * A mark of every account's subscriptions together: a few numbers (count, highest ID, sums of IDs and creation
   * times) that change when one is added or removed. One short read, asked every heartbeat by each replica that
   * polls (see subscription-watch.ts) instead of every account's subscriptions.
   */
  subscriptionsMark(): Promise<string>;
  /** The same mark per account that has subscriptions: read only when {@link subscriptionsMark} changed. */
  subscriptionMarks(): Promise<{ scope: Scope; mark: string }[]>;
  /** Removes the account, its key and every row of its scope at once. Null when there was none. */
  disconnectAccount(scope: Scope): Promise<Purged | null>;
  /** Removes the installation, every account of the workspace and every row of it (uninstall, tokens revoked). */
  purgeWorkspace(workspace: string): Promise<Purged>;
  /**
   * The scopes with an outbox row due at `now` (pending, its next attempt reached): those whose view's
   * `dueChannels(now)` is not empty, found in one read over every scope. What the due sweep asks (see
   * pipeline/due-sweep.ts), instead of each account's delivery asking its own view.
   */
  dueScopes(now: number): Promise<Scope[]>;
  /** Re-encrypts every secret under the newest encryption key; returns how many it rewrote. */
  reencryptSecrets(): Promise<number>;

  close(): Promise<void>;
}
