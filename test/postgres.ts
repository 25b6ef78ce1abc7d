/**
 * Tests that need the real PostgreSQL. Each test file gets schemas of its own, named with a random suffix,
 * because other people run the same tests against the same server at the same time. When no server answers,
 * the tests fail under CI=true (CI promises a server) and are skipped elsewhere with one loud line.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe } from 'vitest';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await reachable();
if (problem !== null) {
  const where = TEST_DATABASE_URL.replace(/:[^/:@]*@/, ':[redacted]@');
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL at TEST_DATABASE_URL=${where} is unreachable (${problem}); CI needs it.`);
  process.stderr.write(
    `\n!!! SKIPPING PostgreSQL tests: nothing answers at TEST_DATABASE_URL=${where} (${problem}). Start PostgreSQL or set TEST_DATABASE_URL to run them.\n\n`,
  );
}

/** `describe` when PostgreSQL answers, `describe.skip` otherwise. */
export const describePg = problem === null ? describe : describe.skip;

const made: string[] = [];

/** A new, empty schema and a URL whose connections use it; dropped when the test file ends. */
export async function freshSchema(label: string): Promise<{ schema: string; url: string }> {
  const schema = `halo_test_${label}_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  made.push(schema);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: url.toString() };
}

/** Runs SQL on its own short-lived connection. */
export async function admin<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  if (problem !== null) return;
  for (const schema of made.splice(0)) await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});
