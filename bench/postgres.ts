/**
 * A PostgreSQL schema of its own for one bench run (the failover bench does the same), at TEST_DATABASE_URL;
 * dropped afterwards. Without a server the run is skipped loudly: the table says so, and the exit code is 1.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DATABASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The database URL as shown: never its password. */
export const shownDatabase = (): string => DATABASE.replace(/:[^/:@]*@/, ':[redacted]@');

/** Runs `fn` with the URL of a fresh schema; throws, saying so, when no PostgreSQL answers. */
export async function withSchema<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const schema = `halo_bench_${randomBytes(4).toString('hex')}`;
  try {
    await admin(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`SKIPPED: no PostgreSQL answers at TEST_DATABASE_URL=${shownDatabase()} (${reason})`);
  }
  try {
    const url = new URL(DATABASE);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return await fn(url.toString());
  } finally {
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  }
}
