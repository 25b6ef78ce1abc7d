/**
 * Stores for tests that use one scope: the env scope's view of a database (every row of the single-workspace
 * shape), whose `close()` closes the database too. Tests of tenancy itself open the tenant store directly
 * (src/store/sqlite.ts, src/store/postgres.ts) and take views of several scopes.
 */
import type { Logger } from '../src/log.ts';
import type { Store } from '../src/pipeline/store-port.ts';
import { ENV_SCOPE, type Scope } from '../src/pipeline/tenancy-port.ts';
import { admin } from './postgres.ts';
import { openPostgresTenants } from '../src/store/postgres.ts';
import { openSqliteTenants } from '../src/store/sqlite.ts';

export function openSqliteStore(path: string): Store {
  return openSqliteTenants(path).owned(ENV_SCOPE);
}

/** The env scope's view of a PostgreSQL database; `setFence` is the lease's (see pg-leases.ts). */
export type PostgresStore = Store & { setFence(token: number): void };

export async function openPostgresStore(url: string, log: Logger): Promise<PostgresStore> {
  const tenants = await openPostgresTenants(url, log);
  return Object.assign(tenants.owned(ENV_SCOPE), {
    setFence: (token: number) => tenants.setFence(ENV_SCOPE, token),
  });
}

/** The token of `scope`'s lease in the database, as a replica's claim leaves it (the env scope's by default). */
export async function setLeaseToken(schema: string, token: number, scope: Scope = ENV_SCOPE): Promise<void> {
  await admin(
    `INSERT INTO ${schema}.halo_leases (workspace_id, account_id, holder, token) VALUES ($1, $2, 'test', $3)
     ON CONFLICT (workspace_id, account_id) DO UPDATE SET token = EXCLUDED.token`,
    [scope.workspace, scope.account, token],
  );
}

/** An encryption key for tests (HALO_ENCRYPTION_KEYS), fixed: 32 bytes. */
export const TEST_KEYS: readonly Uint8Array[] = [Buffer.from('halo-slack test key, 32 bytes!!!')];
