/**
 * A PostgreSQL server of a test file's own, for the database's faults (restart, stop, killed connections):
 * `initdb` into a temporary folder, a free port on 127.0.0.1, trust authentication. The machine's shared server
 * (127.0.0.1:5432, test/postgres.ts) is never touched: restarting it would break everyone else's tests.
 *
 * initdb and postgres refuse to run as root, and the tests run as root here and in CI: as root, every server
 * command runs as the `postgres` OS user (`runuser`), which owns the folder. When the binaries (or that user)
 * are missing, the tests fail under CI=true (CI promises them) and are skipped elsewhere with one loud line.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';

/** The newest installed server's binaries (Debian's layout), or PG_BIN. */
function findBin(): string | null {
  const candidates = process.env.PG_BIN !== undefined ? [process.env.PG_BIN] : debianBins();
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

function debianBins(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

const isRoot = process.getuid?.() === 0;

/** The uid and gid of the `postgres` OS user, when this process is root (null otherwise, or when missing). */
function postgresUser(): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (line === undefined) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

const BIN = findBin();
const OWNER = isRoot ? postgresUser() : null;
const missing =
  BIN === null
    ? 'no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin; set PG_BIN to their folder'
    : isRoot && OWNER === null
      ? 'running as root, and there is no `postgres` OS user to run initdb and postgres as'
      : null;
if (missing !== null) {
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL fault tests cannot run: ${missing}; CI needs them.`);
  process.stderr.write(`\n!!! SKIPPING PostgreSQL fault tests: ${missing}.\n\n`);
}

/** `describe` when a server of the test's own can be started, `describe.skip` otherwise. */
export const describePgServer = missing === null ? describe : describe.skip;

/** One row of pg_stat_activity, for {@link PgServer.terminateBackends}'s filter. */
export interface Backend {
  readonly pid: number;
  readonly applicationName: string;
  readonly state: string | null;
  readonly query: string;
}

export interface PgServer {
  /** A URL for the `postgres` database as the `postgres` user (trust authentication: no password). */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart`: every connection is cut; resolves when the server accepts connections again. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`: connections cut, the port refuses until {@link start}. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends, with `pg_terminate_backend`, every client backend `filter` picks; resolves with those it ended. */
  terminateBackends(filter: (backend: Backend) => boolean): Promise<Backend[]>;
  /** A new, empty database on this server; resolves with its URL (one per test, when a file has several). */
  createDatabase(name: string): Promise<string>;
  /** Client backends now connected (not this helper's own). */
  backends(): Promise<Backend[]>;
  /** The server's log so far, for a failing test's message. */
  log(): string;
  /** Stops the server, whatever state it is in, and removes its folder. */
  close(): Promise<void>;
}

const ADMIN_APP = 'pg-server-test-admin';

/** A port nothing listens on just now (the kernel's pick; the server binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server binary's command line, as `postgres` when this process is root. */
function commandLine(bin: string, args: readonly string[]): [string, string[]] {
  return isRoot
    ? ['runuser', ['-u', 'postgres', '--', join(BIN!, bin), ...args]]
    : [join(BIN!, bin), [...args]];
}

function run(bin: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = commandLine(bin, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${bin} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
    });
  });
}

function runSync(bin: string, args: readonly string[]): void {
  const [file, argv] = commandLine(bin, args);
  execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
}

/** Starts a new server in a new folder. Prefer {@link pgServerForFile}, which also tears it down. */
export async function startPgServer(): Promise<PgServer> {
  if (missing !== null) throw new Error(`cannot start a PostgreSQL server: ${missing}`);
  const folder = mkdtempSync(join(tmpdir(), 'halo-pg-'));
  if (OWNER !== null) chownSync(folder, OWNER.uid, OWNER.gid);
  const data = join(folder, 'data');
  const logFile = join(folder, 'server.log');
  const port = await freePort();
  let closed = false;
  // A worker that exits without running afterAll (an uncaught error) must not leave a server behind.
  const onExit = (): void => {
    try {
      runSync('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    } catch {
      // not running
    }
    rmSync(folder, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    process.off('exit', onExit);
    await run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  };

  try {
    await run('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    // In the server's own configuration, so that `pg_ctl start` and `restart` need no options. No Unix
    // socket: TCP on 127.0.0.1 only, like every test. fsync off: a test's data need not survive a power cut.
    const settings = [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = ''`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 60',
      'shared_buffers = 16MB',
    ];
    appendFileSync(join(data, 'postgresql.conf'), `${settings.join('\n')}\n`);
  } catch (error) {
    await close();
    throw error;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async (): Promise<void> => {
    await run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60']);
  };
  const admin = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({
      connectionString: url,
      application_name: ADMIN_APP,
      connectionTimeoutMillis: 5000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const backends = async (): Promise<Backend[]> => {
    const rows = await admin<{ pid: number; application_name: string; state: string | null; query: string }>(
      `SELECT pid, application_name, state, query FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $1`,
      [ADMIN_APP],
    );
    return rows.map((r) => ({
      pid: r.pid,
      applicationName: r.application_name,
      state: r.state,
      query: r.query,
    }));
  };

  try {
    await start();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url,
    port,
    restart: async () => {
      await run('pg_ctl', ['restart', '-D', data, '-l', logFile, '-m', 'fast', '-w', '-t', '60']);
    },
    stop: async () => {
      await run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']);
    },
    start,
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await admin(`CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    backends,
    terminateBackends: async (filter) => {
      const chosen = (await backends()).filter(filter);
      if (chosen.length > 0)
        await admin('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [
          chosen.map((b) => b.pid),
        ]);
      return chosen;
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '(no server log)';
      }
    },
    close,
  };
}

/**
 * A server for the calling test file: started before its tests, stopped and removed after them (whether they
 * passed or not). Read `.current` inside a test.
 */
export function pgServerForFile(): { readonly current: PgServer } {
  let server: PgServer | undefined;
  beforeAll(async () => {
    if (missing === null) server = await startPgServer();
  }, 90_000);
  // What the server said is often why a test failed: its last lines go with the failure.
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      if (server !== undefined)
        process.stderr.write(`\nPostgreSQL server log (end):\n${server.log().slice(-4000)}\n`);
    });
  });
  afterAll(async () => {
    await server?.close();
  }, 90_000);
  return {
    get current(): PgServer {
      if (server === undefined) throw new Error('the PostgreSQL server of this file did not start');
      return server;
    },
  };
}
