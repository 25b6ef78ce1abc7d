/**
 * Stores for tests that use one scope: the env scope's view of a database (every row of the single-workspace
 * shape), whose `close()` closes the database too. Tests of tenancy itself open the tenant store directly
 * (src/store/sqlite.ts, src/store/postgres.ts) and take views of several scopes.
 */
import type { Logger } from '../src/log.ts';
import type { Store } from '../src/pipeline/store-port.ts';
import { ENV_SCOPE } from '../src/pipeline/tenancy-port.ts';
import { openPostgresTenants } from '../src/store/postgres.ts';
import { openSqliteTenants } from '../src/store/sqlite.ts';

export function openSqliteStore(path: string): Store {
  return openSqliteTenants(path).owned(ENV_SCOPE);
}

/** The env scope's view of a PostgreSQL database; `setFence` is the leadership's (see pg-leader.ts). */
export type PostgresStore = Store & { setFence(token: number): void };

export async function openPostgresStore(url: string, log: Logger): Promise<PostgresStore> {
  const tenants = await openPostgresTenants(url, log);
  return Object.assign(tenants.owned(ENV_SCOPE), { setFence: (token: number) => tenants.setFence(token) });
}

/** An encryption key for tests (HALO_ENCRYPTION_KEYS), fixed: 32 bytes. */
export const TEST_KEYS: readonly Uint8Array[] = [Buffer.from('halo-slack test key, 32 bytes!!!')];
