import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { singleProcess, type LeaderElection } from '../pipeline/leadership.ts';
import { PgLeaderElection } from './pg-leader.ts';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/**
 * The store DATABASE_URL names, and how this process learns whether it leads: always with SQLite (one process),
 * by election with PostgreSQL. Throws a StoreError saying what to fix when the store cannot be opened.
 */
export async function openStore(
  database: DatabaseConfig,
  options: { log: Logger; replicaId: string; heartbeatMs: number },
): Promise<{ store: Store; election: LeaderElection }> {
  if (database.kind === 'sqlite')
    return { store: openSqliteStore(database.path), election: singleProcess(options.replicaId) };
  const store = await openPostgresStore(database.url, options.log);
  return {
    store,
    election: new PgLeaderElection(database.url, store, options.replicaId, options.heartbeatMs, options.log),
  };
}
