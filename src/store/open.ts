import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/** The store DATABASE_URL names. Throws a StoreError saying what to fix when it cannot be opened. */
export async function openStore(database: DatabaseConfig, log: Logger): Promise<Store> {
  return database.kind === 'sqlite' ? openSqliteStore(database.path) : openPostgresStore(database.url, log);
}
