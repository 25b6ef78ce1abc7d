import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.ts';

/** Bolt and the WebClient log through ours, so that their lines get the same format and redaction. */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const join = (parts: unknown[]): string =>
    parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
  return {
    debug: (...parts: unknown[]) => log.debug(`slack: ${join(parts)}`),
    info: (...parts: unknown[]) => log.info(`slack: ${join(parts)}`),
    warn: (...parts: unknown[]) => log.warn(`slack: ${join(parts)}`),
    error: (...parts: unknown[]) => log.error(`slack: ${join(parts)}`),
    setLevel: (next: LogLevel) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}
