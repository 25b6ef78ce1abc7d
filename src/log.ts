import type { LogLevel } from './config.ts';
import { createRedactor } from './redact.ts';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One line per event: `<ISO time> <LEVEL> <message> key=value …`. Every known secret (and any run of 8+ of its
 * leading characters, and a URL's user info) is replaced by `[redacted]` in the finished line, whatever field or
 * error message carried it: redacting at the last step is the only place that cannot be forgotten. Each text is
 * also redacted before it is cut to length or JSON-escaped, either of which would leave a secret the last step no
 * longer recognises. Control and format characters are written as `\uXXXX`, so that no upstream text can move
 * the cursor, colour the terminal, break a line or reorder what a reader sees.
 */
export function createLogger(options: {
  level: LogLevel;
  secrets: readonly string[];
  /** `json`: one object a line, `{time, level, msg, fields}`, for log shippers. Redacted the same way. */
  format?: LogFormat;
  now?: () => Date;
  write?: (line: string) => void;
}): Logger {
  const now = options.now ?? (() => new Date());
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const redact = createRedactor(options.secrets);
  const min = ORDER[options.level];

  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (ORDER[level] < min) return;
    let line =
      options.format === 'json'
        ? jsonLine(now(), level, message, fields, redact)
        : `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(redact(message))}`;
    if (options.format !== 'json') {
      for (const [key, value] of Object.entries(fields ?? {})) {
        if (value === undefined) continue;
        line += ` ${key}=${formatValue(value, redact)}`;
      }
    }
    // In JSON too: `\uXXXX` is a valid escape inside a JSON string, and a key never holds a control.
    line = escapeControls(redact(line));
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

export type LogFormat = 'text' | 'json';

/** One JSON object: every string redacted and cut before it is escaped, as in the text format. */
function jsonLine(
  at: Date,
  level: LogLevel,
  message: string,
  fields: LogFields | undefined,
  redact: (text: string) => string,
): string {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    clean[key] = value instanceof Error ? oneLine(redact(`${value.name}: ${value.message}`)) : value;
  }
  const record = { time: at.toISOString(), level, msg: oneLine(redact(message)), fields: clean };
  try {
    return JSON.stringify(record, (_key, v: unknown) => (typeof v === 'string' ? oneLine(redact(v)) : v));
  } catch {
    return JSON.stringify({ ...record, fields: '[unserialisable]' });
  }
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

/**
 * C0 and C1 controls (ESC, U+0085 …), format characters (bidi overrides such as U+202E, zero-width characters,
 * U+FEFF), the line and paragraph separators U+2028 and U+2029, and unpaired surrogate halves.
 */
const UNSAFE_IN_LOG = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * Writes every control or format character as `\uXXXX` (one per UTF-16 unit): readable, still valid inside a
 * JSON string, and inert on a terminal or in a log viewer.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE_IN_LOG, (char) => {
    let escaped = '';
    for (let i = 0; i < char.length; i++)
      escaped += `\\u${char.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
    return escaped;
  });
}

/** `log` with `fields` added to every line (an account's name on its pipeline's lines); a line's own win. */
export function withFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (message, own) => log.debug(message, { ...fields, ...own }),
    info: (message, own) => log.info(message, { ...fields, ...own }),
    warn: (message, own) => log.warn(message, { ...fields, ...own }),
    error: (message, own) => log.error(message, { ...fields, ...own }),
  };
}
