import { LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.ts';
import { SlackAuthError } from './web-client.ts';
import type { Ingress } from './ingress.ts';

/** Socket Mode's timings; tests inject short ones through `startBot`. */
export interface SocketTimings {
  /** A pong later than this ends the connection (Bolt's default); pings go out three times as often. */
  readonly clientPingTimeoutMs: number;
  /** No ping from Slack for this long ends the connection (Bolt's default). */
  readonly serverPingTimeoutMs: number;
  /** The first connection may take this long before start-up goes on without it. */
  readonly firstConnectMs: number;
  /** Retries after a failed connection attempt wait this long, doubling up to `retryMaxMs`. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export const SOCKET_TIMINGS: SocketTimings = {
  clientPingTimeoutMs: 5000,
  serverPingTimeoutMs: 30_000,
  firstConnectMs: 10_000,
  retryMinMs: 1000,
  retryMaxMs: 60_000,
};

const AUTH_ERRORS = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'not_allowed_token_type',
];

/**
 * The largest envelope taken: Slack's own payloads stay far below it (a message holds at most 40,000 characters
 * of text and 50 blocks, a view 100 blocks, a slash command's text 4,000 characters). A 20 MB envelope took the
 * bot from 130 to 831 MB and delayed the next ack by 2 s, all of it in decoding, logging and parsing.
 */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

/**
 * Drops a WebSocket message over {@link MAX_ENVELOPE_BYTES} before the client decodes, logs or parses it. The
 * client hands each message to its own listener through `emit('ws_message', data)`: the only point before the
 * parse that the library exposes.
 */
function refuseOversized(client: SocketModeReceiver['client'], log: Logger): void {
  const emit = client.emit.bind(client);
  client.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'ws_message') {
      const data = args[0];
      const bytes =
        typeof data === 'string'
          ? Buffer.byteLength(data)
          : data instanceof ArrayBuffer
            ? data.byteLength
            : 0;
      if (bytes > MAX_ENVELOPE_BYTES) {
        log.warn('Socket Mode: an envelope larger than Slack sends was refused unread', {
          bytes,
          maxBytes: MAX_ENVELOPE_BYTES,
        });
        return true;
      }
    }
    return emit(event, ...args);
  }) as typeof client.emit;
}

type State = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'stopped';

/**
 * Socket Mode through Bolt's own `SocketModeReceiver`: Slack's commands, clicks and events arrive over a
 * WebSocket the bot opens, so no inbound HTTPS is needed. Bolt's client reconnects by itself only until an
 * `apps.connections.open` call fails (its retry then ends in an unhandled rejection and the client stays down),
 * so here its auto-reconnect is off and this supervisor reconnects: at once after a `disconnect` or a dropped
 * socket, then with doubling delays while Slack refuses. Alerts do not depend on it: they use the Web API.
 */
export function createSocketIngress(
  appToken: string,
  deps: { readonly log: Logger; readonly slackApiUrl: string; readonly timings: SocketTimings },
): Ingress {
  const { log, timings } = deps;
  const receiver = new SocketModeReceiver({
    appToken,
    logger: quietLogger(log),
    logLevel: LogLevel.INFO,
    autoReconnectEnabled: false,
    clientPingTimeout: timings.clientPingTimeoutMs,
    serverPingTimeout: timings.serverPingTimeoutMs,
    // `apps.connections.open` goes where every other Web API call goes; one try per attempt (retries are ours).
    installerOptions: {
      clientOptions: {
        slackApiUrl: deps.slackApiUrl,
        timeout: 10_000,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      },
    },
    // An envelope no listener could take is still acknowledged: Slack would otherwise send it again.
    processEventErrorHandler: ({ error }) => {
      log.warn('slack: a request could not be processed', { error: error.message });
      return Promise.resolve(true);
    },
  });
  const client = receiver.client;
  refuseOversized(client, log);

  let state: State = 'connecting';
  let failures = 0;
  let connects = 0;
  let timer: NodeJS.Timeout | undefined;

  const describe = (error: unknown): { text: string; auth: boolean } => {
    const code = (error as { data?: { error?: unknown } } | undefined)?.data?.error;
    if (typeof code === 'string') return { text: code, auth: AUTH_ERRORS.includes(code) };
    return { text: error instanceof Error ? error.message : 'the connection failed', auth: false };
  };

  /** One connection attempt; resolves when connected, rejects with what went wrong. */
  const attempt = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const limit = setTimeout(() => {
        reject(new Error(`no connection within ${timings.firstConnectMs} ms`));
        // Ends the attempt; its own rejection is then of no interest.
        void client.disconnect().catch(() => undefined);
      }, timings.firstConnectMs);
      client.start().then(
        () => {
          clearTimeout(limit);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(limit);
          // Bolt rejects with undefined when the socket closed before Slack said hello.
          reject(
            error instanceof Error
              ? error
              : new Error('the connection closed before Slack said hello', { cause: error }),
          );
        },
      );
    });

  /** `atStart`: a rejected token is start-up's to report (and fatal there), so it is neither logged nor retried. */
  const connect = async (atStart = false): Promise<void> => {
    timer = undefined;
    if (state === 'stopped') return;
    state = connects === 0 ? 'connecting' : 'reconnecting';
    try {
      await attempt();
    } catch (error) {
      if ((state as State) === 'stopped') return;
      failures += 1;
      const { text, auth } = describe(error);
      state = 'disconnected';
      if (atStart && auth) throw error;
      const wait = Math.min(timings.retryMaxMs, timings.retryMinMs * 2 ** (failures - 1));
      if (auth) {
        log.error('Slack rejected SLACK_APP_TOKEN; commands and buttons cannot arrive until it is replaced', {
          error: text,
          retryInSeconds: wait / 1000,
        });
      } else {
        log.warn('Socket Mode: could not connect; commands wait, alerts keep flowing', {
          error: text,
          failures,
          retryInSeconds: wait / 1000,
        });
      }
      timer = setTimeout(() => void connect().catch(() => undefined), wait);
      throw error;
    }
    if ((state as State) === 'stopped') return;
    connects += 1;
    if (failures > 0 || connects > 1) log.info('Socket Mode: connected again', { after: failures });
    failures = 0;
    state = 'connected';
  };

  // A live connection that ended (Slack's `disconnect` message, a dropped socket, a missed pong): reconnect now.
  client.on('disconnected', () => {
    if (state !== 'connected') return;
    state = 'reconnecting';
    log.info('Socket Mode: connection closed, reconnecting');
    timer = setTimeout(() => void connect().catch(() => undefined), 0);
  });

  return {
    mode: 'socket',
    receiver,
    httpHandler: undefined,
    async start() {
      try {
        await connect(true);
      } catch (error) {
        const { text, auth } = describe(error);
        if (auth) {
          state = 'stopped';
          throw new SlackAuthError(
            `Slack rejected SLACK_APP_TOKEN (${text}). Create an app-level token with the connections:write scope ` +
              `(your app's Basic Information page → App-Level Tokens) and put it in SLACK_APP_TOKEN.`,
          );
        }
        // Not fatal: alerts need only the Web API, and the supervisor keeps trying.
      }
    },
    describe: () => `Socket Mode, ${state}${failures > 0 ? ` (${failures} attempts failed)` : ''}`,
    health: () => ({
      degraded: state !== 'connected' && failures > 0,
      // The error text stays in the log: /healthz is public.
      fields: { slackMode: 'socket', socket: state, socketFailures: failures },
    }),
    async stop() {
      state = 'stopped';
      clearTimeout(timer);
      await Promise.race([
        client.disconnect().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
    },
  };
}

/**
 * Bolt's logger for the Socket Mode client, at info or above whatever LOG_LEVEL says: at debug the client logs
 * every raw envelope it receives and sends (user text, response URLs), which does not belong in an operator's log.
 */
function quietLogger(log: Logger): BoltLogger {
  const join = (parts: unknown[]): string =>
    parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
  return {
    debug: () => undefined,
    info: (...parts: unknown[]) => log.info(`slack socket: ${join(parts)}`),
    warn: (...parts: unknown[]) => log.warn(`slack socket: ${join(parts)}`),
    error: (...parts: unknown[]) => {
      const text = join(parts);
      // The supervisor reports failed connection attempts itself, once, with what to do.
      if (text.startsWith('Failed to retrieve a new WSS URL')) return;
      log.error(`slack socket: ${text}`);
    },
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
