import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';

export const SLACK_PATH = '/slack/events';

/**
 * Limits on inbound connections. Slack's requests are small and quick, so a few seconds covers them; idle,
 * half-sent or dripped connections are cut instead of piling up until the process runs out of file descriptors
 * (which would also break the bot's own calls to Slack and Halo: `maxConnections` leaves them the rest).
 */
export interface HttpLimits {
  readonly maxConnections: number;
  /** Time to receive a request's headers (also an idle connection's first bytes). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** Time an idle keep-alive connection is kept after an answer. */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above; its default, 30 s, would stretch them. */
  readonly checkIntervalMs: number;
}

/** The production values; the README's Operations section states them. */
export const HTTP_LIMITS: HttpLimits = {
  maxConnections: 256,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  checkIntervalMs: 1000,
};

/** Connections dropped at the cap are logged at most this often. */
const DROP_LOG_INTERVAL_MS = 60_000;

export interface ServerOptions {
  /** Handles `POST /slack/events`; absent in Socket Mode, where Slack's requests come over the WebSocket. */
  readonly slack?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The distributed shape's GET /slack/install and /slack/oauth_redirect; true when it took the request. */
  readonly installs?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  readonly log: Logger;
  readonly limits: HttpLimits;
  /** The `/healthz` body; absent on the metrics server of its own (METRICS_PORT), which serves `/metrics` only. */
  readonly health?: () => Promise<Record<string, unknown>>;
  /** Prometheus text for `GET /metrics`; absent on the public server when METRICS_PORT serves it apart. */
  readonly metrics?: { readonly contentType: string; render(): Promise<string> };
}

/**
 * The HTTP server: `/healthz`, and Slack's requests handed to the receiver, and `/metrics` unless METRICS_PORT
 * serves it on a second one of these (on loopback or an internal address: it says more than `/healthz`). Owning
 * the server (rather than `app.start()`) lets shutdown close it on our schedule and serves `/healthz` in both modes.
 */
export function createHttpServer(options: ServerOptions): Server {
  const { log, limits } = options;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const health = options.health;
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD') && health !== undefined) {
        req.resume();
        health().then(
          (body) => send(res, 200, body),
          (error: unknown) => {
            log.error('healthz failed', { error });
            send(res, 500, { status: 'error' });
          },
        );
        return;
      }
      const metrics = options.metrics;
      if (path === '/metrics' && req.method === 'GET' && metrics !== undefined) {
        req.resume();
        metrics.render().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          (error: unknown) => {
            log.error('metrics failed', { error });
            res.writeHead(500).end();
          },
        );
        return;
      }
      if (path === SLACK_PATH && req.method === 'POST' && options.slack !== undefined) {
        options.slack(req, res);
        return;
      }
      if (options.installs?.(req, res) === true) {
        req.resume();
        return;
      }
      send(res, 404, { error: 'not found' });
      req.resume();
    },
  );
  server.maxConnections = limits.maxConnections;
  let lastDropLog = -Infinity;
  let dropped = 0;
  server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    lastDropLog = now;
    log.warn('inbound connections refused: the connection cap is reached', {
      maxConnections: limits.maxConnections,
      refusedSoFar: dropped,
    });
  });
  return server;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Listens on `port` (0: any free one) at `host` (null: every interface); resolves with the port. */
export function listen(server: Server, port: number, host: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const listening = (): void => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    };
    if (host === null) server.listen(port, listening);
    else server.listen(port, host, listening);
  });
}

export interface Serving {
  readonly port: number;
  /** The port `/metrics` is served on apart, or null when it shares `port`. */
  readonly metricsPort: number | null;
  /** Stops accepting connections (those open finish). */
  close(): void;
  /** Ends the connections still open: the last step of a stop. */
  closeAll(): void;
}

/**
 * The public server (Slack's requests, `/healthz`, and `/metrics` unless it is served apart), and the metrics
 * server when `metricsAt` says where. A second listen that fails closes the first before it throws.
 */
export async function serveHttp(
  options: Omit<ServerOptions, 'metrics'> & {
    readonly metrics: NonNullable<ServerOptions['metrics']>;
    readonly at: { readonly port: number; readonly host: string | null };
    readonly metricsAt: { readonly port: number; readonly host: string } | null;
  },
): Promise<Serving> {
  const { metrics, at, metricsAt, ...rest } = options;
  const metricsServer =
    metricsAt === null ? null : createHttpServer({ metrics, log: rest.log, limits: rest.limits });
  const server = createHttpServer({ ...rest, ...(metricsServer === null ? { metrics } : {}) });
  const servers = metricsServer === null ? [server] : [server, metricsServer];
  const close = (): void => servers.forEach((s) => s.close());
  const closeAll = (): void => servers.forEach((s) => s.closeAllConnections());
  try {
    const port = await listen(server, at.port, at.host);
    const metricsPort =
      metricsServer === null || metricsAt === null
        ? null
        : await listen(metricsServer, metricsAt.port, metricsAt.host);
    return { port, metricsPort, close, closeAll };
  } catch (error) {
    close();
    closeAll();
    throw error;
  }
}
