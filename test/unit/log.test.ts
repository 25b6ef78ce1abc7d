import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';

const AT = new Date('2024-05-01T12:30:00.000Z');
const TOKEN = 'xoxb-1111-2222-abcdefghijklmnop';
const API_KEY = 'halo-api-key-0123456789abcdef';

function logger(level: LogLevel = 'debug', secrets: readonly string[] = [TOKEN, API_KEY]) {
  const lines: string[] = [];
  const log: Logger = createLogger({ level, secrets, now: () => AT, write: (line) => lines.push(line) });
  return { log, lines };
}

describe('createLogger: format', () => {
  it('writes `<ISO time> <LEVEL padded to 5> <message>` with key=value fields', () => {
    const { log, lines } = logger();
    log.debug('poll: done', { scopes: 2, baseline: false });
    log.info('alert posted', { channel: 'C0123ABCD', key: 'C0123ABCD:event:ev-1', ts: '1714566600.000100' });
    log.warn('delivery: rate limited', { retryAfterMs: null });
    log.error('boom');
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z DEBUG poll: done scopes=2 baseline=false',
      '2024-05-01T12:30:00.000Z INFO  alert posted channel=C0123ABCD key=C0123ABCD:event:ev-1 ts=1714566600.000100',
      '2024-05-01T12:30:00.000Z WARN  delivery: rate limited retryAfterMs=null',
      '2024-05-01T12:30:00.000Z ERROR boom',
    ]);
  });

  it('quotes strings with spaces or symbols, formats errors as "Name: message" and objects as JSON', () => {
    const { log, lines } = logger();
    log.info('m', {
      text: 'two words',
      empty: '',
      quote: 'say "hi"',
      error: new TypeError('fetch failed'),
      nested: { a: [1, 'b'], c: null },
      skipped: undefined,
    });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z INFO  m text="two words" empty="" quote="say \\"hi\\"" error="TypeError: fetch failed" nested={"a":[1,"b"],"c":null}',
    ]);
  });

  it('does not throw on values JSON cannot write', () => {
    const { log, lines } = logger();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.info('m', { circular, big: 10n });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z INFO  m circular="[unserialisable]" big="[unserialisable]"',
    ]);
  });

  it('folds newlines in the message, in string fields and in error messages', () => {
    const { log, lines } = logger();
    log.error('first\nsecond\r\nthird', {
      body: '<html>\r\n<body>Bad Gateway</body>\n</html>',
      error: new Error('line one\nline two'),
      nested: { text: 'a\nb' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      '2024-05-01T12:30:00.000Z ERROR first second third body="<html> <body>Bad Gateway</body> </html>" error="Error: line one line two" nested={"text":"a\\nb"}',
    );
    expect(lines[0]).not.toMatch(/[\r\n]/);
  });

  it('cuts a very long message or field to 2000 characters', () => {
    const { log, lines } = logger();
    log.info('x'.repeat(5000), { body: 'y '.repeat(3000) });
    const [line] = lines;
    expect(line).toBe(
      `2024-05-01T12:30:00.000Z INFO  ${'x'.repeat(2000)} body=${JSON.stringify('y '.repeat(1000))}`,
    );
  });

  it('survives a write that throws (a closed stdout)', () => {
    const log = createLogger({
      level: 'info',
      secrets: [],
      now: () => AT,
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => log.error('still alive')).not.toThrow();
  });
});

describe('createLogger: injection', () => {
  it('writes control and format characters as \\uXXXX in the message, strings, errors and nested fields', () => {
    const { log, lines } = logger();
    const hostile =
      'a\u001B[31mred\u001B[0m \u0085b\u2028c\u2029d \u202Eevil\u202C \u200Bzw\uFEFF \u0007\t\u009B';
    log.error(`poll failed: ${hostile}`, {
      text: hostile,
      error: new Error(hostile),
      nested: { s: hostile },
      astral: 'tag\u{E0041}',
      lone: 'half\uD800',
    });
    const escaped =
      'a\\u001B[31mred\\u001B[0m \\u0085b\\u2028c\\u2029d \\u202Eevil\\u202C \\u200Bzw\\uFEFF \\u0007\\u0009\\u009B';
    const json =
      'a\\u001b[31mred\\u001b[0m \\u0085b\\u2028c\\u2029d \\u202Eevil\\u202C \\u200Bzw\\uFEFF \\u0007\\t\\u009B';
    expect(lines).toEqual([
      `2024-05-01T12:30:00.000Z ERROR poll failed: ${escaped} text="${json}" error="Error: ${json}" nested={"s":"${json}"} astral="tag\\uDB40\\uDC41" lone="half\\ud800"`,
    ]);
    // Nothing a terminal or log viewer would act on is left, and the line still parses field by field.
    expect(lines[0]).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
  });
});

describe('createLogger: levels', () => {
  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('at %s writes only %j', (level, expected) => {
    const { log, lines } = logger(level);
    log.debug('debug');
    log.info('info');
    log.warn('warn');
    log.error('error');
    expect(lines.map((line) => line.split(' ').at(-1))).toEqual(expected);
  });
});

describe('createLogger: secrets', () => {
  it('redacts a secret anywhere in the line: message, strings, errors, nested fields, keys', () => {
    const { log, lines } = logger();
    log.error(`token ${TOKEN} in the message`, {
      plain: API_KEY,
      sentence: `key=${API_KEY} was rejected`,
      error: new Error(`request to https://x/?token=${TOKEN} failed`),
      nested: { headers: { 'x-apikey': API_KEY }, list: [TOKEN] },
      [TOKEN]: 1,
    });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z ERROR token [redacted] in the message plain=[redacted] sentence="key=[redacted] was rejected" error="Error: request to https://x/?token=[redacted] failed" nested={"headers":{"x-apikey":"[redacted]"},"list":["[redacted]"]} [redacted]=1',
    ]);
  });

  it("redacts a secret in an Error's name", () => {
    const { log, lines } = logger();
    const error = new Error('no');
    error.name = `Weird ${API_KEY}`;
    log.warn('m', { error });
    expect(lines).toEqual(['2024-05-01T12:30:00.000Z WARN  m error="Weird [redacted]: no"']);
  });

  it('redacts a secret that JSON would escape', () => {
    const secret = 'pa"ss\\word-123';
    const { log, lines } = logger('info', [secret]);
    log.info(`m ${secret}`, { text: `a ${secret}`, nested: { s: secret } });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z INFO  m [redacted] text="a [redacted]" nested={"s":"[redacted]"}',
    ]);
  });

  it('leaves no part of a secret that straddles the 2000-character cut', () => {
    const { log, lines } = logger();
    log.info('x'.repeat(1990) + TOKEN, { body: `${'y'.repeat(1985)} ${API_KEY}` });
    const [line = ''] = lines;
    expect(line).not.toContain(TOKEN.slice(0, 10));
    expect(line).not.toContain(API_KEY.slice(0, 4));
    expect(line).toBe(
      `2024-05-01T12:30:00.000Z INFO  ${'x'.repeat(1990)}[redacted] body=${JSON.stringify(`${'y'.repeat(1985)} [redacted]`)}`,
    );
  });

  it('redacts the longer of two overlapping secrets whole', () => {
    const short = 'abcdef123';
    const long = 'abcdef123-and-more';
    const { log, lines } = logger('info', [short, long]);
    log.info(`${long} ${short}`);
    expect(lines).toEqual(['2024-05-01T12:30:00.000Z INFO  [redacted] [redacted]']);
  });

  it('redacts 8 or more leading characters of a secret that someone else cut short', () => {
    const { log, lines } = logger();
    log.warn(`Halo said: key ${API_KEY.slice(0, 12)}…`, {
      body: `token=${TOKEN.slice(0, 8)}`,
      short: `${TOKEN.slice(0, 7)} is just the start of any token`,
    });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z WARN  Halo said: key [redacted]… body="token=[redacted]" short="xoxb-11 is just the start of any token"',
    ]);
  });

  it('redacts a secret in any letter case', () => {
    const { log, lines } = logger();
    log.error(`LOG_LEVEL got ${API_KEY.toUpperCase()}`, { lower: TOKEN.toLowerCase() });
    expect(lines).toEqual(['2024-05-01T12:30:00.000Z ERROR LOG_LEVEL got [redacted] lower=[redacted]']);
  });

  it("removes a URL's user info wherever it appears", () => {
    const { log, lines } = logger();
    log.warn('fetch https://bot:hunter2@halo.example/api failed', {
      error: new TypeError(
        'Request cannot be constructed from a URL that includes credentials: https://u:p@h/x',
      ),
    });
    expect(lines).toEqual([
      '2024-05-01T12:30:00.000Z WARN  fetch https://[redacted]@halo.example/api failed error="TypeError: Request cannot be constructed from a URL that includes credentials: https://[redacted]@h/x"',
    ]);
  });

  it('ignores secrets shorter than 6 characters, which would redact innocent words', () => {
    const { log, lines } = logger('info', ['', 'info', 'abc12']);
    log.info('info abc12');
    expect(lines).toEqual(['2024-05-01T12:30:00.000Z INFO  info abc12']);
  });
});

describe('createLogger: LOG_FORMAT=json', () => {
  const json = (level: LogLevel = 'debug') => {
    const lines: string[] = [];
    const log = createLogger({
      level,
      format: 'json',
      secrets: [TOKEN, API_KEY],
      now: () => AT,
      write: (line) => lines.push(line),
    });
    return { log, lines };
  };

  it('writes one object a line: time, level, msg, fields', () => {
    const { log, lines } = json('info');
    log.debug('hidden');
    log.info('alert posted', { channel: 'C1', ts: '1.2', skipped: undefined, n: 3, ok: true });
    log.error('boom', { error: new TypeError('fetch failed'), nested: { a: [1, 'b'] } });
    expect(lines).toEqual([
      '{"time":"2024-05-01T12:30:00.000Z","level":"info","msg":"alert posted","fields":{"channel":"C1","ts":"1.2","n":3,"ok":true}}',
      '{"time":"2024-05-01T12:30:00.000Z","level":"error","msg":"boom","fields":{"error":"TypeError: fetch failed","nested":{"a":[1,"b"]}}}',
    ]);
  });

  it('redacts secrets in the message, fields, nested values and errors, and keeps each record on one line', () => {
    const { log, lines } = json();
    log.warn(`token ${TOKEN}`, {
      error: new Error(`Halo said: bad key ${API_KEY}\nsecond line`),
      nested: { deep: [`x${TOKEN.toUpperCase()}y`] },
      bidi: 'a\u202eb',
    });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toMatch(/xoxb-1111|halo-api-key|abcdefghijklmnop/i);
    expect(line).not.toMatch(/[\n\u202e]/);
    const record = JSON.parse(line) as { msg: string; fields: Record<string, unknown> };
    expect(record.msg).toBe('token [redacted]');
    expect(record.fields.error).toBe('Error: Halo said: bad key [redacted] second line');
    expect(record.fields.nested).toEqual({ deep: ['x[redacted]y'] });
    expect(record.fields.bidi).toBe('a\u202eb');
  });
});
