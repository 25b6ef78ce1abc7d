/**
 * A TCP proxy that can cut every connection and refuse new ones, or go silent (a network partition: connections
 * stay open but nothing gets through, and new ones are accepted and then hear nothing), then let them through
 * again: "the database went away mid-run" without stopping a PostgreSQL server that other people's tests share.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Destroys every open connection; new ones are closed at once until {@link restore}. */
  cut(): void;
  /**
   * Lets nothing through either way, on open connections and new ones alike, until {@link restore}: what a
   * client sees when the network between it and the server drops every packet.
   */
  silence(): void;
  /** Lets new connections through again; those open during a silence are closed, as a long partition would. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let mode: 'open' | 'refuse' | 'silent' = 'open';
  const track = (socket: Socket, onError: () => void): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', onError);
  };
  const server = createServer((client) => {
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'silent') {
      // Accepted, and never answered: the client's connect or first query hangs until its own timeout.
      track(client, () => client.destroy());
      client.pause();
      return;
    }
    const upstream = createConnection(target);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    track(client, end);
    track(upstream, end);
    client.on('close', () => pairs.delete(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      mode = 'refuse';
      for (const socket of sockets) socket.destroy();
    },
    silence: () => {
      mode = 'silent';
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore: () => {
      if (mode === 'silent') for (const socket of sockets) socket.destroy();
      mode = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
