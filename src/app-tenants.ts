/**
 * The composition root's tenancy half: the seam every Slack request goes through (commands/workspace-accounts.ts), built
 * from factories: which workspace a request is, that workspace's accounts (the env account of HALO_API_KEY in
 * the single shape, and those connected with `/halo connect`), and each account's services on its own scoped
 * store view and its own Halo client. And the account administration (`/halo connect` …). Wiring only.
 */
import type { Clock } from './clock.ts';
import { AccountAdmin } from './commands/account-admin.ts';
import { Acknowledger } from './commands/acknowledge.ts';
import { EventDeleter } from './commands/delete.ts';
import { CommandService, DEFAULT_LIMITS, type CommandServiceOptions } from './commands/service.ts';
import { UserRateLimit } from './commands/rate-limit.ts';
import { SubscribeDialog } from './commands/subscribe-dialog.ts';
import {
  singleWorkspace,
  Tenants,
  type AccountServices,
  type RequestWorkspace,
} from './commands/workspace-accounts.ts';
import type { Config } from './config.ts';
import { accountClient } from './app-accounts.ts';
import type { Pipeline } from './app-pipeline.ts';
import { boundedHaloClient } from './halo/bounded.ts';
import { createHaloClient } from './halo/client.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { AccountBounds, HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import type { Store } from './pipeline/store-port.ts';
import {
  ENV_ACCOUNT,
  ENV_WORKSPACE,
  type AccountRecord,
  type Scope,
  type TenantStore,
} from './pipeline/tenancy-port.ts';
import type { BotIdentity } from './slack/web-client.ts';

/** What an account's pipeline offers the commands: `/halo status`, a new subscription's start, the ratings. */
export type AccountPipeline = Pick<Pipeline, 'ratings' | 'poller' | 'views'>;

export interface TenancyParts {
  readonly config: Config;
  /** The env account's store (ENV_SCOPE's view) and Halo client, as the env pipeline uses them. */
  readonly store: Store;
  readonly halo: HaloClient;
  readonly pipeline: Pipeline;
  /** The registry; null when this deployment keeps none (then only the env account exists). */
  readonly registry: TenantStore | null;
  /** Whether keys can be saved (HALO_ENCRYPTION_KEYS is set). */
  readonly canStoreKeys: boolean;
  /** A connected account's pipeline, once the fleet runs one for it; null: none (yet). */
  readonly pipelineFor?: (scope: Scope) => AccountPipeline | null;
  /** The workspace of a request; default: the single shape's (the bot's own team is the env workspace). */
  readonly workspaceOf?: ((request: RequestWorkspace) => string | null) | undefined;
  /** The environment's account's bound on Halo requests in flight (its polls' too). */
  readonly haloRequests: HaloBound;
  /**
   * A connected account's bound, the one its polls take (Halo's limits are per key: its commands count against it
   * too); default: `haloRequests`.
   */
  readonly bounds?: Pick<AccountBounds, 'of' | 'forget'>;
  readonly metrics: Metrics;
  readonly identity: BotIdentity;
  /** The options every account's CommandService shares (the per-account ones are set here). */
  readonly commandOptions: Omit<
    CommandServiceOptions,
    | 'halo'
    | 'store'
    | 'account'
    | 'status'
    | 'startSubscription'
    | 'ratings'
    | 'defaultRoute'
    | 'perUser'
    | 'postTest'
    | 'canManage'
  >;
  /** The admin rule of a workspace: its own admins (or HALO_ADMIN_USERS), asked with its own token. */
  readonly canManageIn: (workspace: string, userId: string) => Promise<boolean>;
  /** `/halo test`'s post, through the workspace's own bot token. */
  readonly postTestFor: (workspace: string) => CommandServiceOptions['postTest'];
  readonly defaultRoute: CommandServiceOptions['defaultRoute'];
  readonly clock: Clock;
  readonly log: Logger;
}

export const NO_ENCRYPTION =
  'Connecting accounts from Slack needs an encryption key for the keys at rest: set HALO_ENCRYPTION_KEYS (a base64 32-byte key, e.g. from `openssl rand -base64 32`) and restart the bot.';

export function buildTenancy(parts: TenancyParts): { tenants: Tenants; admin: AccountAdmin } {
  const { config, registry, clock, log, haloRequests } = parts;
  const isEnv = (scope: Scope): boolean => scope.workspace === ENV_WORKSPACE && scope.account === ENV_ACCOUNT;

  const client = accountClient(config, { metrics: parts.metrics, clock });

  // One share of commands per user, whichever account each command acts in.
  const perUser = new UserRateLimit(
    parts.commandOptions.limits?.commandsPerMinute ?? DEFAULT_LIMITS.commandsPerMinute,
    clock,
  );
  const build = (scope: Scope, record: AccountRecord): AccountServices => {
    const env = isEnv(scope);
    const store = env ? parts.store : registry!.scoped(scope);
    const bound = env ? haloRequests : (parts.bounds?.of(scope) ?? haloRequests);
    const halo = env ? parts.halo : boundedHaloClient(client(record), bound);
    // Asked at each use, not once: these services may be built before the fleet first runs the account.
    const pipelineNow = (): AccountPipeline | null =>
      env ? parts.pipeline : (parts.pipelineFor?.(scope) ?? null);
    const commands = new CommandService({
      ...parts.commandOptions,
      haloRequests: bound,
      postTest: parts.postTestFor(scope.workspace),
      canManage: (userId) => parts.canManageIn(scope.workspace, userId),
      perUser,
      halo,
      store,
      account: scope.account,
      defaultRoute: env ? parts.defaultRoute : null,
      ratings: parts.pipeline.ratings,
      status: () => (pipelineNow() ?? parts.pipeline).views.status(),
      // Without a pipeline of its own yet, the account's poll sets the start when the fleet begins it.
      startSubscription: (subscription) => {
        const pipeline = pipelineNow();
        return pipeline === null
          ? Promise.resolve('pending')
          : pipeline.poller.startSubscription(subscription);
      },
    });
    return {
      halo,
      haloRequests: bound,
      store,
      commands,
      acknowledger: new Acknowledger(store, clock, log),
      deleter: new EventDeleter(halo, store, clock, log, (eventId) => commands.eventDeleted(eventId)),
      dialog: new SubscribeDialog({
        halo,
        store,
        clock,
        log,
        haloRequests: bound,
        severityOf: parts.pipeline.ratings.severityOf,
        run: (command, context) => commands.run(command, context),
      }),
    };
  };

  // The env account: HALO_API_KEY, in the env workspace only. Its health is the env pipeline's.
  const envAccount: AccountRecord = {
    workspace: ENV_WORKSPACE,
    id: ENV_ACCOUNT,
    name: config.halo.accountName,
    apiUrl: config.halo.apiUrl,
    apiKey: config.halo.apiKey,
    keyHint: config.halo.apiKey.slice(-4),
    status: 'active',
    lastPollAt: null,
    lastError: null,
    createdBy: 'HALO_API_KEY',
    createdAt: 0,
  };
  const accounts = async (workspace: string): Promise<AccountRecord[]> => {
    const connected = registry === null ? [] : await registry.accounts(workspace);
    const own = connected.filter((a) => a.workspace === workspace && a.id !== ENV_ACCOUNT);
    return workspace === ENV_WORKSPACE && config.halo.apiKey !== '' ? [envAccount, ...own] : own;
  };

  const tenants = new Tenants({
    workspaceOf: parts.workspaceOf ?? singleWorkspace(parts.identity.team, ENV_WORKSPACE),
    accounts,
    offline: (workspace) =>
      workspace === ENV_WORKSPACE && config.halo.apiKey !== '' ? [envAccount] : undefined,
    build,
    canManage: parts.canManageIn,
  });

  const admin = new AccountAdmin({
    registry:
      registry === null
        ? {
            connectAccount: () => Promise.reject(new Error('no accounts registry')),
            disconnectAccount: () => Promise.resolve(null),
          }
        : {
            connectAccount: (account) => registry.connectAccount(account),
            // Its polling stopped here first, so that nothing of it is written again after the purge.
            disconnectAccount: (scope) =>
              parts.pipeline.fleet.whileRetired(
                (other) => other.workspace === scope.workspace && other.account === scope.account,
                () => registry.disconnectAccount(scope),
              ),
          },
    // One `types.json` call, no retry: a wrong key is told at once, within the modal's 3 s.
    checkKey: async ({ apiUrl, apiKey }) => {
      await createHaloClient({
        apiUrl,
        apiKey,
        timeoutMs: Math.min(config.halo.timeoutMs, 2000),
        attempts: 1,
        clock,
      }).listTypes();
    },
    apiUrls: { default: config.halo.apiUrl, allowed: config.halo.allowedApiUrls },
    refusal: registry === null || !parts.canStoreKeys ? NO_ENCRYPTION : null,
    // The workspace's own trail (its env-account scope), which a disconnect of another account leaves alone.
    audit: (workspace, entry) =>
      (workspace === ENV_WORKSPACE || registry === null
        ? parts.store
        : registry.scoped({ workspace, account: ENV_ACCOUNT })
      ).audit(entry),
    forget: (scope) => {
      tenants.forget(scope);
      parts.bounds?.forget(scope);
    },
    // The fleet's book of each account's polls: fresher than the registry's, and the env account's only source.
    health: async (account) => {
      const polled = (await parts.pipeline.accountHealth(account.workspace)).find(
        (h) => h.scope.account === account.id,
      );
      return polled === undefined
        ? account
        : { ...account, status: polled.status, lastPollAt: polled.lastPollAt, lastError: polled.lastError };
    },
    clock,
    log,
  });
  return { tenants, admin };
}
