/**
 * The fields of the `halo-slack started` log line: what this process runs as, so that a first look at the log
 * answers "which mode, which database, which Halo, how often" without reading the settings. Nothing secret: a
 * database password is replaced, and URLs lose their query (a query can carry a token).
 */
import { resolve } from 'node:path';
import type { Config } from './config.ts';

export interface Listening {
  readonly port: number;
  /** The port of `/metrics`' own server; null: served on `port`. */
  readonly metricsPort: number | null;
  /** The way Slack's requests arrive, as the ingress describes it ("Socket Mode, connected"). */
  readonly connection: string;
}

export function startupFields(config: Config, listening: Listening): Record<string, string | number> {
  const host = config.host ?? '0.0.0.0';
  return {
    port: listening.port,
    mode: config.slack.appToken === null ? 'http' : 'socket',
    connection:
      config.slack.appToken === null
        ? `${listening.connection}, listening on ${address(host, listening.port)}${config.host === null ? ' (every interface)' : ''}`
        : listening.connection,
    database: describeDatabase(config.database),
    haloUrl: withoutQuery(config.halo.apiUrl),
    pollIntervalSeconds: config.halo.pollIntervalMs / 1000,
    alertChannel: config.alerts.channel ?? 'none',
    metrics:
      config.metrics === null || listening.metricsPort === null
        ? `${address(host, listening.port)}/metrics (the public port)`
        : `${address(config.metrics.host, listening.metricsPort)}/metrics`,
  };
}

function address(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeDatabase(database: Config['database']): string {
  if (database.kind === 'sqlite')
    return database.path === ':memory:' ? 'sqlite in memory' : `sqlite ${resolve(database.path)}`;
  const url = new URL(database.url);
  const user = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':***'}@`;
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

function withoutQuery(raw: string): string {
  const url = new URL(raw);
  return `${url.origin}${url.pathname}`;
}
