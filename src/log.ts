import type { LogLevel } from './config.ts';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One line per event: `<ISO time> <LEVEL> <message> key=value …`. Every known secret is replaced by `[redacted]`
 * in the finished line, whatever field or error message carried it: redacting at the last step is the only
 * place that cannot be forgotten. Each text is also redacted before it is cut to length or JSON-escaped, either
 * of which would leave a secret the last step no longer recognises.
 */
export function createLogger(options: {
  level: LogLevel;
  secrets: readonly string[];
  now?: () => Date;
  write?: (line: string) => void;
}): Logger {
  const now = options.now ?? (() => new Date());
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  // Short strings would redact innocent text; real tokens and keys are long. Longest first, so that a secret
  // containing another is not left half redacted.
  const secrets = options.secrets.filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
  const redact = (text: string): string =>
    secrets.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
  const min = ORDER[options.level];

  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (ORDER[level] < min) return;
    let line = `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(redact(message))}`;
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value === undefined) continue;
      line += ` ${key}=${formatValue(value, redact)}`;
    }
    line = redact(line);
    try {
      write(line);
    } catch {
      // A closed stdout (a pipe whose reader went away) must not take the bot down.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function formatValue(value: unknown, redact: (text: string) => string): string {
  if (value instanceof Error) return JSON.stringify(oneLine(redact(`${value.name}: ${value.message}`)));
  if (typeof value === 'string')
    return /^[\w.:/@-]+$/.test(value) ? value : JSON.stringify(oneLine(redact(value)));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? redact(v) : v));
  } catch {
    return '"[unserialisable]"';
  }
}

function oneLine(text: string): string {
  // Newlines from remote error bodies would split one event over several lines.
  return text.replace(/[\r\n]+/g, ' ').slice(0, 2000);
}
