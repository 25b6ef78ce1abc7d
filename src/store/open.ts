import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log.ts';
import { singleProcessLeases, type AccountLeases, type SharedPace } from '../pipeline/lease-port.ts';
import { PgLeases, PgPace } from './pg-leases.ts';
import { openPostgresTenants } from './postgres.ts';
import { openSqliteTenants } from './sqlite.ts';
import { StoreError } from '../pipeline/store-port.ts';
import type { TenantStore } from '../pipeline/tenancy-port.ts';

/** Where the data lives, as DATABASE_URL says (the configuration's `database`, handed over by the root). */
export type StoreLocation =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * The store DATABASE_URL names (the registry, and a view per scope), and which accounts this process may poll:
 * every one with SQLite (one process), those it holds a lease on with PostgreSQL, whose channels also keep a
 * pace shared by the replicas. Throws a StoreError saying what to fix when the store cannot be opened.
 */
export async function openStore(
  database: StoreLocation,
  options: {
    log: Logger;
    replicaId: string;
    /** How long a replica's heartbeat lasts (PostgreSQL): its leases are free once it has expired. */
    leaseTtlMs: number;
    /** HALO_ENCRYPTION_KEYS, newest first; none: secrets cannot be saved (see secret-box.ts). */
    encryptionKeys?: readonly Uint8Array[];
  },
): Promise<{ tenants: TenantStore; leases: AccountLeases; pace: SharedPace | null }> {
  const keys = options.encryptionKeys ?? [];
  if (database.kind === 'sqlite') {
    refuseDeepFolder(database.path);
    return {
      tenants: openSqliteTenants(database.path, keys),
      leases: singleProcessLeases(options.replicaId),
      pace: null,
    };
  }
  const tenants = await openPostgresTenants(database.url, options.log, keys, options.replicaId);
  return {
    tenants,
    leases: new PgLeases(database.url, tenants, options.replicaId, options.leaseTtlMs, options.log),
    pace: new PgPace(tenants.sql.db),
  };
}

/**
 * The file's own folder is created when missing, but nothing above it: a mistyped path (`sqlite://data/x.db`
 * read as `/data/x.db`) would otherwise create folders anywhere on the disk, and the bot would remember its
 * events somewhere nobody looks.
 */
function refuseDeepFolder(path: string): void {
  if (path === ':memory:') return;
  const file = resolve(path);
  const folder = dirname(file);
  const parent = dirname(folder);
  if (existsSync(folder) || existsSync(parent)) return;
  throw new StoreError(
    `The database ${file} cannot be created: neither its folder ${folder} nor ${parent} exists, and the bot creates only the last folder of the path. Create ${parent}, or set DATABASE_URL to a file in an existing folder (sqlite:./data/halo-slack.db is relative to the working folder).`,
  );
}
