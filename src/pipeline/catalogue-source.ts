/**
 * Where Halo's catalogue of event types (`types.json`) is read from. It is Halo's, the same for every account,
 * so one read serves them all. The single shape reads it with the environment's key; the distributed shape has
 * none, and reads it with a connected account's client: any whose key Halo last accepted.
 */
import type { HaloEventType } from '../domain/event.ts';
import type { FleetAccount } from './fleet-plan.ts';
import type { HaloClient } from './halo-port.ts';

export type CatalogueClient = Pick<HaloClient, 'listTypes'>;

/** No account to read the catalogue with: none is connected yet, or Halo refused every one's key. */
export class NoCatalogueAccountError extends Error {
  override name = 'NoCatalogueAccountError' as const;
  constructor() {
    super(
      'No Halo account with a working key is connected yet to read the event types with: they are read once one is (/halo connect).',
    );
  }
}

export interface AccountsCatalogueOptions {
  /** The accounts this process polls ("which accounts do I poll"). */
  readonly accounts: () => Promise<readonly FleetAccount[]>;
  /** An account's Halo client (the one its pipeline polls with, when it has one: the same bound). */
  readonly clientOf: (account: FleetAccount) => CatalogueClient;
}

/** The catalogue as any active account reads it, asked anew at each read (accounts come and go). */
export function accountsCatalogue(options: AccountsCatalogueOptions): CatalogueClient {
  return {
    async listTypes(signal?: AbortSignal): Promise<HaloEventType[]> {
      const account = (await options.accounts()).find((listed) => listed.status === 'active');
      if (account === undefined) throw new NoCatalogueAccountError();
      return options.clientOf(account).listTypes(signal);
    },
  };
}
