import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Compilable, type SqliteDatabase } from 'kysely';
import { migrationsFrom, SCHEMA_VERSION, type Db, type Dialect, type Tables } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import { scopeColumns, type Engine } from './sql-rows.ts';
import { SqlTenantStore } from './tenants.ts';
import { StoreError } from '../pipeline/store-port.ts';
import { ENV_SCOPE } from '../pipeline/tenancy-port.ts';

/** SQLite's spellings: lists travel as one JSON parameter, read back with `json_each`. */
const sqlite: Dialect = {
  oneOf: (column, values) =>
    sql`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
  // `WHERE true`: SQLite's parser needs it between `INSERT … SELECT` and an `ON CONFLICT` clause.
  rows: (values) => sql`SELECT value FROM json_each(${JSON.stringify(values)}) WHERE true`,
  positions: (values) => sql`(SELECT key AS i, value FROM json_each(${JSON.stringify(values)}))`,
  bytewise: (column) => sql`${sql.ref(column)}`,
  addCount: (key, count) =>
    sql`json_set(counts, '$.' || json_quote(${key}), coalesce(json_extract(counts, '$.' || json_quote(${key})), 0) + ${count})`,
  carrySequence: (from, to) => [
    sql`DELETE FROM sqlite_sequence WHERE name = ${to}`,
    sql`INSERT INTO sqlite_sequence (name, seq) SELECT ${to}, seq FROM sqlite_sequence WHERE name = ${from}`,
  ],
  // AUTOINCREMENT's counter follows the table's rename; SQLite's own key index has no name to keep.
  renamed: () => [],
  ddl: { serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', json: 'TEXT', clustered: 'WITHOUT ROWID' },
  unprefixedBefore: true,
  // One connection, one process: transactions cannot interleave.
  exclusive: () => null,
};

/**
 * Opens (creating if needed) the SQLite store and takes it for this process alone. `keys`: HALO_ENCRYPTION_KEYS,
 * newest first (none: secrets cannot be saved).
 */
export function openSqliteTenants(path: string, keys: readonly Uint8Array[] = []): SqlTenantStore {
  const file = path === ':memory:' ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') makeFolder(dirname(file));
    db = new Database(file, { timeout: 2000 });
    // Exclusive locking: a second bot on the same file would post every alert twice. The lock is taken by the
    // first write below and held until close; the OS releases it if the process dies.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses at most the last transactions on power loss, never on a process crash.
    db.pragma('synchronous = NORMAL');
    const kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: reusingStatements(db) }) });
    migrate(db, kysely, file);
    run(
      db,
      kysely
        .insertInto('halo_state')
        .values({ ...scopeColumns(ENV_SCOPE), key: 'opened_at', value: String(Date.now()) })
        .onConflict((c) =>
          c.columns(['workspace_id', 'account_id', 'key']).doUpdateSet({ value: String(Date.now()) }),
        ),
    );
    const handle = db;
    let closed = false;
    return new SqlTenantStore(sqliteEngine(kysely), new SecretBox(keys), async () => {
      if (closed) return;
      closed = true;
      await kysely.destroy();
      // Kysely opens its side lazily: a store that never queried through it must still let the file go.
      if (handle.open) handle.close();
    });
  } catch (error) {
    db?.close();
    throw error instanceof StoreError ? error : new StoreError(describeOpenError(file, error));
  }
}

/** How many prepared statements a store keeps for reuse: every query the bot makes, with room to spare. */
export const STATEMENTS_KEPT = 500;

/**
 * The database as Kysely sees it, with its prepared statements reused: Kysely prepares every query afresh, and
 * better-sqlite3 frees a statement's compiled program (a few kB to tens of kB of native memory, which V8 does
 * not count) only when a collection finds its JavaScript object. A hundred accounts' polls, deliveries and
 * sweeps made thousands a second, and the process held tens of MB of them between collections
 * (bench/fleet-memory.ts). The queries' text is fixed (lists travel as one JSON parameter), so a few hundred
 * statements serve them all; the least recently used goes past {@link STATEMENTS_KEPT}. One still being
 * iterated (a streamed query) is busy and cannot run again: a fresh one is prepared for that call.
 */
export function reusingStatements(db: Database.Database, kept = STATEMENTS_KEPT): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare: (text) => {
      const found = statements.get(text);
      if (found !== undefined) {
        if (found.busy) return db.prepare(text);
        statements.delete(text);
        statements.set(text, found);
        return found;
      }
      const statement = db.prepare(text);
      statements.set(text, statement);
      if (statements.size > kept) statements.delete(statements.keys().next().value!);
      return statement;
    },
  };
}

/** Runs a query now: the file is migrated before `openSqliteStore` returns, with its lock taken. */
function run(db: Database.Database, query: Compilable): void {
  const compiled = query.compile();
  db.prepare(compiled.sql).run(...compiled.parameters);
}

/**
 * Brings the file to {@link SCHEMA_VERSION} in one transaction: a crash mid-way leaves the old schema whole. The
 * version is SQLite's `user_version`, where earlier releases look for it (and refuse a file newer than they know).
 */
function migrate(db: Database.Database, kysely: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
  const columns = new Map(
    tables.map((table) => {
      const info = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];
      return [table, new Set(info)];
    }),
  );
  const queries = migrationsFrom(version, file, { db: kysely, d: sqlite, columns });
  db.transaction(() => {
    for (const query of queries) db.prepare(query.sql).run(...query.parameters);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * `mkdir -p` one level at a time. Node's recursive mkdir retries for ever, synchronously, where creating a folder
 * says "no such file" although its parent exists (procfs): the process would hang before it could say anything.
 */
function makeFolder(folder: string): void {
  const missing: string[] = [];
  let current = folder;
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (!statSync(current).isDirectory())
    throw Object.assign(new Error(`${current} is a file`), { code: 'ENOTDIR' });
  for (const level of missing) mkdirSync(level);
}

function describeOpenError(file: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || /locked|busy/i.test(detail)) {
    return `The database ${file} is in use by another process (is another halo-slack running?). Stop it, or set DATABASE_URL to another file.`;
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS') {
    return `The database ${file} cannot be written (${detail}). Make its folder writable by this user, or set DATABASE_URL to a writable path.`;
  }
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    return `The database ${file} cannot be created: part of its folder path is a file, not a folder. Set DATABASE_URL to a path in a folder.`;
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return `The file ${file} is not a halo-slack database (${detail}). Set DATABASE_URL to another file.`;
  }
  return `The database ${file} could not be opened: ${detail}. Check DATABASE_URL.`;
}

/** One process holds the file: its writes need no fence, and a pending row is always this process's to post. */
function sqliteEngine(db: Db): Engine {
  return {
    db,
    d: sqlite,
    fenceOf: () => ({ token: null }),
    fenced: (_scope, work) => db.transaction().execute(work),
    markSending: async (scope, id, now) => {
      const result = await db
        .updateTable('halo_outbox')
        .set({ sent_at: now })
        .where((eb) => eb.and({ ...scopeColumns(scope), id, state: 'pending' }))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
