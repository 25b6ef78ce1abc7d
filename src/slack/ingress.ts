import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Receiver } from '@slack/bolt';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { boltLogger } from './bolt-logger.ts';
import { SignedHttpReceiver } from './http-receiver.ts';
import { createSocketIngress, type SocketTimings } from './socket.ts';

/**
 * How Slack's commands, clicks and events reach Bolt. The listeners, the answers through `response_url` and the
 * permission checks are the same whichever way they arrive; only this part differs between the modes.
 */
export interface Ingress {
  readonly mode: 'http' | 'socket';
  /** Given to Bolt's `App`. */
  readonly receiver: Receiver;
  /** `POST /slack/events`, in HTTP mode only. */
  readonly httpHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Opens the way in (Socket Mode connects); resolves once it is usable or failing only for now. */
  start(): Promise<void>;
  /** One phrase for people (the Home tab): the mode and, in Socket Mode, the connection's state. */
  describe(): string;
  /** What `/healthz` shows about it; `degraded` when commands cannot currently arrive. */
  health(): { readonly degraded: boolean; readonly fields: Record<string, unknown> };
  stop(): Promise<void>;
}

export interface IngressDeps {
  readonly log: Logger;
  readonly socketTimings: SocketTimings;
}

/** Socket Mode when `SLACK_APP_TOKEN` is set, HTTP otherwise. */
export function createIngress(config: Config, deps: IngressDeps): Ingress {
  if (config.slack.appToken !== null) {
    return createSocketIngress(config.slack.appToken, {
      log: deps.log,
      slackApiUrl: config.slack.apiUrl,
      timings: deps.socketTimings,
    });
  }
  const receiver = new SignedHttpReceiver({
    signingSecret: config.slack.signingSecret,
    // Slack stamps requests with the real time: a clock a test moves forward (mute expiry) must not make every
    // request look stale.
    clock: systemClock,
    log: deps.log,
    boltLog: boltLogger(deps.log),
  });
  return {
    mode: 'http',
    receiver,
    httpHandler: (req, res) => receiver.handle(req, res),
    start: () => Promise.resolve(),
    describe: () => 'HTTP (Events API at /slack/events)',
    health: () => ({ degraded: false, fields: { slackMode: 'http' } }),
    stop: () => Promise.resolve(),
  };
}

/** The `/healthz` body with the way in's state added: a bot that cannot receive commands is degraded. */
export function withIngressHealth(
  body: Record<string, unknown>,
  ingress: ReturnType<Ingress['health']>,
): Record<string, unknown> {
  return { ...body, ...ingress.fields, ...(ingress.degraded ? { status: 'degraded' } : {}) };
}
