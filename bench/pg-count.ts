/**
 * A TCP proxy in front of PostgreSQL that counts the statements a bot sends, read off the wire (the frontend
 * protocol): each simple query (`Q`) and each parse (`P`, which the pg driver sends for every parameterised
 * statement: Kysely never names its statements) is one statement, classified by its first word. The shared server
 * has no pg_stat_statements, and pg_stat_database counts other people's tests too: this counts one bot's only.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface StatementCounts {
  /** By first word, upper-cased: SELECT, INSERT, UPDATE, DELETE, BEGIN, COMMIT, WITH … */
  readonly byKind: Map<string, number>;
  total(): number;
}

export interface CountingProxy {
  readonly port: number;
  readonly counts: StatementCounts;
  /** The counts since the last call, and a fresh start. */
  take(): Map<string, number>;
  /** The same by the statement's first 90 characters. */
  takeTexts(): Map<string, number>;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  let byKind = new Map<string, number>();
  let byText = new Map<string, number>();
  const count = (text: string): void => {
    const kind = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    const head = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    byText.set(head, (byText.get(head) ?? 0) + 1);
  };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let buffer: Buffer = Buffer.alloc(0);
    // The start-up message (and an SSL or GSS request before it) has no type byte.
    let untyped = true;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        if (untyped) {
          if (buffer.length < 8) break;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) break;
          const code = buffer.readInt32BE(4);
          untyped = code === SSL_REQUEST || code === GSS_REQUEST;
          buffer = buffer.subarray(length);
          continue;
        }
        if (buffer.length < 5) break;
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) break;
        const type = String.fromCharCode(buffer[0]!);
        if (type === 'Q') count(buffer.toString('utf8', 5, Math.min(1 + length, 5 + 160)));
        else if (type === 'P') {
          // Parse: a statement name (NUL-terminated), then its text.
          const nameEnd = buffer.indexOf(0, 5);
          count(buffer.toString('utf8', nameEnd + 1, Math.min(1 + length, nameEnd + 1 + 160)));
        }
        buffer = buffer.subarray(1 + length);
      }
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const counts: StatementCounts = {
    get byKind() {
      return byKind;
    },
    total: () => [...byKind.values()].reduce((a, b) => a + b, 0),
  };
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    take() {
      const taken = byKind;
      byKind = new Map();
      return taken;
    },
    takeTexts() {
      const taken = byText;
      byText = new Map();
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
