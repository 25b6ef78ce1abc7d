import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log.ts';
import { singleProcess, type LeaderElection } from '../pipeline/leadership.ts';
import { PgLeaderElection } from './pg-leader.ts';
import { openPostgresTenants } from './postgres.ts';
import { openSqliteTenants } from './sqlite.ts';
import { StoreError } from '../pipeline/store-port.ts';
import type { TenantStore } from '../pipeline/tenancy-port.ts';

/** Where the data lives, as DATABASE_URL says (the configuration's `database`, handed over by the root). */
export type StoreLocation =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * The store DATABASE_URL names (the registry, and a view per scope), and how this process learns whether it leads: always with SQLite (one process),
 * by election with PostgreSQL. Throws a StoreError saying what to fix when the store cannot be opened.
 */
export async function openStore(
  database: StoreLocation,
  options: {
    log: Logger;
    replicaId: string;
    heartbeatMs: number;
    /** HALO_ENCRYPTION_KEYS, newest first; none: secrets cannot be saved (see secret-box.ts). */
    encryptionKeys?: readonly Uint8Array[];
  },
): Promise<{ tenants: TenantStore; election: LeaderElection }> {
  const keys = options.encryptionKeys ?? [];
  if (database.kind === 'sqlite') {
    refuseDeepFolder(database.path);
    return { tenants: openSqliteTenants(database.path, keys), election: singleProcess(options.replicaId) };
  }
  const tenants = await openPostgresTenants(database.url, options.log, keys, options.replicaId);
  return {
    tenants,
    election: new PgLeaderElection(
      database.url,
      tenants,
      options.replicaId,
      options.heartbeatMs,
      options.log,
    ),
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
