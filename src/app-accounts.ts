/**
 * The composition root's account half: which Halo accounts this process polls (the environment's, in the single
 * shape, and the connected ones from the registry), and the Halo client each polls with. Wiring only.
 */
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { boundedHaloClient } from './halo/bounded.ts';
import { createHaloClient } from './halo/client.ts';
import type { Metrics } from './metrics.ts';
import type { FleetAccount } from './pipeline/fleet-plan.ts';
import { AccountBounds, HaloBound } from './pipeline/halo-lane.ts';
import type { HaloClient } from './pipeline/halo-port.ts';
import { ENV_SCOPE, type AccountRecord, type TenantStore } from './pipeline/tenancy-port.ts';

/** A listed account, with the health the registry last recorded for it (for `/halo accounts`). */
export type ListedAccount = FleetAccount & Partial<Pick<AccountRecord, 'lastPollAt' | 'lastError'>>;

/**
 * How many times one account's bound the process lets be in flight to Halo in total: a few large accounts
 * scanning at once cannot hold every slot, and a thousand accounts polling at once do not open a thousand
 * connections.
 */
export const TOTAL_HALO_REQUESTS_PER_ACCOUNT_BOUND = 4;

/** The process's bound on Halo requests in flight, which every account's bound sits inside. */
export function totalHaloBound(config: Config): HaloBound {
  return new HaloBound({ concurrency: config.halo.scanConcurrency * TOTAL_HALO_REQUESTS_PER_ACCOUNT_BOUND });
}

/** Each account's bound (HALO_SCAN_CONCURRENCY), inside the process's total: one per account, polls and commands. */
export function accountBounds(config: Config): AccountBounds {
  return new AccountBounds(config.halo.scanConcurrency, totalHaloBound(config));
}

/** The environment's account (HALO_API_KEY) in the single shape. */
export function envAccount(config: Config, name: string): FleetAccount {
  return {
    scope: ENV_SCOPE,
    name,
    apiUrl: config.halo.apiUrl,
    apiKey: config.halo.apiKey,
    keyHint: config.halo.apiKey.slice(-4),
    status: 'active',
  };
}

/**
 * Every account there is: what the sharing loop (pipeline/sharing.ts) spreads over the replicas. "Which accounts
 * do I poll" is its `held()`: those of these this replica holds a lease on.
 */
export function listAccounts(
  tenants: Pick<TenantStore, 'accounts'>,
  env: FleetAccount | null,
): () => Promise<ListedAccount[]> {
  return async () => {
    const connected = (await tenants.accounts()).map((record): ListedAccount => ({
      scope: { workspace: record.workspace, account: record.id },
      name: record.name,
      apiUrl: record.apiUrl,
      apiKey: record.apiKey,
      keyHint: record.keyHint,
      status: record.status,
      lastPollAt: record.lastPollAt,
      lastError: record.lastError,
    }));
    return env === null ? connected : [env, ...connected];
  };
}

export interface AccountHalo {
  readonly halo: HaloClient;
  readonly haloRequests: HaloBound;
}

/**
 * One account's Halo client, unbounded: its URL and key, the process's timeouts, and its requests counted in the
 * metrics. The clients share one keep-alive agent per Halo host (see halo/transport.ts).
 */
export function accountClient(
  config: Config,
  deps: { readonly metrics: Metrics; readonly clock: Clock },
): (account: Pick<FleetAccount, 'apiUrl' | 'apiKey'>) => HaloClient {
  return (account) =>
    createHaloClient({
      onRequest: (outcome) => deps.metrics.haloRequest(outcome),
      apiUrl: account.apiUrl,
      apiKey: account.apiKey,
      timeoutMs: config.halo.timeoutMs,
      backoffMs: config.delays.haloBackoffMs,
      ...(config.halo.bareTransport ? { bareTransport: true } : {}),
      clock: deps.clock,
    });
}

/**
 * One account's Halo client with its own bound (Halo's limits are per key) inside the process's total: the one
 * `bounds` keeps for its scope, which its commands take too.
 */
export function haloFor(
  config: Config,
  deps: { readonly bounds: AccountBounds; readonly metrics: Metrics; readonly clock: Clock },
): (account: Pick<FleetAccount, 'scope' | 'apiUrl' | 'apiKey'>) => AccountHalo {
  const client = accountClient(config, deps);
  return (account) => {
    const haloRequests = deps.bounds.of(account.scope);
    return { halo: boundedHaloClient(client(account), haloRequests), haloRequests };
  };
}

/** HALO_ACCOUNT_NAME's default: the environment's account's name. */
export const DEFAULT_ACCOUNT_NAME = 'Halo';
