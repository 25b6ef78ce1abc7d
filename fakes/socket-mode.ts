// A stand-in for Slack's Socket Mode: `apps.connections.open` on the fake Web API hands out a ws://127.0.0.1
// URL, and a WebSocket server there says hello, delivers envelopes (slash_commands, interactive, events_api),
// records the acks, answers pings, and can ask the client to reconnect or drop it.
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeSlack } from './slack.ts';
import { BOT_USER_ID, TEAM_ID } from './slack.ts';

export const DEFAULT_APP_TOKEN = 'xapp-1-A1-1234567890-fake0app0level0token0do0not0log';
export const APP_ID = 'A1';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Envelope {
  readonly envelope_id: string;
  readonly type: EnvelopeType;
  readonly payload: Record<string, unknown>;
  readonly accepts_response_payload: boolean;
  readonly retry_attempt?: number;
  readonly retry_reason?: string;
}

export interface SocketAck {
  readonly envelopeId: string;
  /** The ack's `payload` (a response body, when the app gives one). */
  readonly payload: unknown;
  /** Milliseconds from sending the envelope to receiving its ack. */
  readonly ms: number;
  /** Which connection (1, 2, …) carried it. */
  readonly connection: number;
}

export interface FakeSocketMode {
  readonly appToken: string;
  /** Successful `apps.connections.open` calls. */
  opens: number;
  /** WebSocket connections accepted (each greeted with hello). */
  connections: number;
  /** Pings received from the client (each answered with a pong). */
  pings: number;
  readonly acks: SocketAck[];
  /** Acks naming no envelope that was delivered and not yet acked (should stay empty). */
  readonly strayAcks: unknown[];
  /** Messages from the client that were not acks (should stay empty). */
  readonly otherMessages: unknown[];
  /** Whether a connection is open and greeted (envelopes, `disconnect()` and `drop()` go to the newest). */
  connected(): boolean;
  /** Waits for the `n`-th connection (default: any open one). */
  waitForConnection(n?: number, timeoutMs?: number): Promise<void>;
  /**
   * Sends an envelope once a connection is open (as Slack holds it while the app reconnects) and resolves with its
   * ack; rejects if no ack comes within `timeoutMs`.
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs?: number): Promise<SocketAck>;
  /** A slash command with Slack's fields (the payload is the HTTP form's fields as an object). */
  slashCommand(fields: Record<string, string>, timeoutMs?: number): Promise<SocketAck>;
  /** An interactive payload (block_actions, view_submission …) as sent over HTTP in `payload=`. */
  interactive(payload: Record<string, unknown>, timeoutMs?: number): Promise<SocketAck>;
  /** An Events API event (`{type: 'app_home_opened', user, …}`) wrapped in its event_callback. */
  event(event: Record<string, unknown>, timeoutMs?: number): Promise<SocketAck>;
  /** Slack's `disconnect` message: `refresh_requested` every few hours, `warning` shortly before a close. */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  /** Drops the TCP connection without a close frame. */
  drop(): void;
  close(): Promise<void>;
}

/** Registers `apps.connections.open` on `slack` and starts the WebSocket server. */
export async function startFakeSocketMode(
  slack: FakeSlack,
  options: { appToken?: string } = {},
): Promise<FakeSocketMode> {
  const appToken = options.appToken ?? DEFAULT_APP_TOKEN;
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const tickets = new Set<string>();
  let ticketCounter = 0;
  let envelopeCounter = 0;
  /** Open connections, oldest first; envelopes go to the newest, as Slack spreads them over an app's connections. */
  const live: { socket: WebSocket; number: number }[] = [];
  const newest = (): { socket: WebSocket; number: number } | undefined => live[live.length - 1];
  const pending = new Map<
    string,
    { sentAt: number; connection: number; resolve: (ack: SocketAck) => void }
  >();

  slack.extraMethods.set('apps.connections.open', ({ token }) => {
    if (token !== appToken) return { ok: false, error: 'invalid_auth' };
    const ticket = `ticket-${++ticketCounter}`;
    tickets.add(ticket);
    fake.opens += 1;
    return { ok: true, result: { url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${APP_ID}` } };
  });

  server.on('connection', (socket, request) => {
    const ticket = new URL(request.url ?? '/', 'ws://127.0.0.1').searchParams.get('ticket') ?? '';
    // A URL is good for one connection, as Slack's are.
    if (!tickets.delete(ticket)) {
      socket.close(1008, 'invalid ticket');
      return;
    }
    fake.connections += 1;
    const number = fake.connections;
    const connection = { socket, number };
    live.push(connection);
    socket.on('ping', () => (fake.pings += 1));
    socket.on('message', (data: Buffer) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        fake.otherMessages.push(data.toString('utf8'));
        return;
      }
      const id = (message as { envelope_id?: unknown }).envelope_id;
      const waiting = typeof id === 'string' ? pending.get(id) : undefined;
      if (typeof id !== 'string') {
        fake.otherMessages.push(message);
        return;
      }
      if (waiting === undefined) {
        fake.strayAcks.push(message);
        return;
      }
      pending.delete(id);
      waiting.resolve({
        envelopeId: id,
        payload: (message as { payload?: unknown }).payload,
        ms: performance.now() - waiting.sentAt,
        connection: waiting.connection,
      });
    });
    socket.on('close', () => {
      const at = live.indexOf(connection);
      if (at !== -1) live.splice(at, 1);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake-socket-mode', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: APP_ID },
      }),
    );
  });

  const waitForConnection = async (n?: number, timeoutMs = 10_000): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const open = newest();
      if (open !== undefined && (n === undefined || open.number >= n)) return;
      if (performance.now() > deadline) {
        throw new Error(`FakeSocketMode: no connection ${n ?? ''} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const deliver = async (
    type: EnvelopeType,
    payload: Record<string, unknown>,
    timeoutMs = 10_000,
  ): Promise<SocketAck> => {
    await waitForConnection(undefined, timeoutMs);
    const envelope: Envelope = {
      envelope_id: `env-${++envelopeCounter}-${Math.random().toString(16).slice(2, 10)}`,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
    };
    const connection = newest()!;
    const ack = new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(envelope.envelope_id);
        reject(
          new Error(`FakeSocketMode: ${type} envelope ${envelope.envelope_id} not acked in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      pending.set(envelope.envelope_id, {
        sentAt: performance.now(),
        connection: connection.number,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
      });
    });
    connection.socket.send(JSON.stringify(envelope));
    return ack;
  };

  const fake: FakeSocketMode = {
    appToken,
    opens: 0,
    connections: 0,
    pings: 0,
    acks: [],
    strayAcks: [],
    otherMessages: [],
    connected: () => live.length > 0,
    waitForConnection,
    deliver: async (type, payload, timeoutMs) => {
      const ack = await deliver(type, payload, timeoutMs);
      fake.acks.push(ack);
      return ack;
    },
    slashCommand: (fields, timeoutMs) => fake.deliver('slash_commands', { ...fields }, timeoutMs),
    interactive: (payload, timeoutMs) => fake.deliver('interactive', payload, timeoutMs),
    event: (event, timeoutMs) =>
      fake.deliver(
        'events_api',
        {
          token: 'deprecated-verification-token',
          team_id: TEAM_ID,
          api_app_id: APP_ID,
          event: { event_ts: (Date.now() / 1000).toFixed(6), ...event },
          type: 'event_callback',
          event_id: `Ev${++envelopeCounter}`,
          event_time: Math.floor(Date.now() / 1000),
          authorizations: [
            {
              enterprise_id: null,
              team_id: TEAM_ID,
              user_id: BOT_USER_ID,
              is_bot: true,
              is_enterprise_install: false,
            },
          ],
          is_ext_shared_channel: false,
        },
        timeoutMs,
      ),
    disconnect: (reason = 'refresh_requested') => {
      newest()?.socket.send(
        JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-socket-mode' } }),
      );
    },
    drop: () => {
      const connection = live.pop();
      connection?.socket.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        slack.extraMethods.delete('apps.connections.open');
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** A slash command's fields as Slack sends them, for `slashCommand()`. */
export function slashCommandFields(fields: {
  text: string;
  response_url: string;
  user_id?: string;
  channel_id?: string;
  /** The command's name; `/halo` unless the manifest was changed. */
  command?: string;
}): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: TEAM_ID,
    team_domain: 'fake-team',
    channel_id: fields.channel_id ?? 'C123',
    channel_name: 'halo-alerts',
    user_id: fields.user_id ?? 'U123',
    user_name: 'alice',
    command: fields.command ?? '/halo',
    text: fields.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: '1234567890.1234567890.abcdef0123456789abcdef0123456789',
  };
}
