import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventListFilter } from '../../src/domain/event.ts';
import {
  parseCommand,
  tokenize,
  type HaloCommand,
  type ParseResult,
} from '../../src/commands/command-parse.ts';
import { formatEventsCommand, formatSubscribeCommand } from '../../src/domain/command-text.ts';
import { USAGE } from '../../src/commands/usage.ts';

const MAX_ID = 2 ** 31 - 1;
const USAGE_LINES = new Set(Object.values(USAGE));
// What must never reach Slack from an echo of user input: it could reflow or visually reorder the message.
const UNSAFE = /[\p{Cc}\p{Cs}\u2028\u2029\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const codePoints = (text: string): number => Array.from(text).length;

// What Slack does to command text before sending it; parseCommand undoes it.
const slackEscape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

// Pieces the parser reacts to, so that random text reaches its deeper branches, not just "unknown subcommand".
const fragment = fc.oneof(
  fc.constantFrom(
    ...['key:', 'KEY=', 'target:', 'subject:', 'detail=', 'limit:', ':', '=', 'all', 'x'],
    ...['"', '“', '”', "'", '‘', '’', '&amp;', '&lt;', '&gt;', '&', '<!channel>'],
    ...[' ', '\u00a0', '\t', '\n', '\r\n', '\u3000', '\u2028'],
    ...['\u0000', '\u0007', '\u007f', '\u202e', '\u2066', '\u200f', '\ufeff'],
    ...['0', '1', '20', '21', '-1', '1.5', '2147483647', '2147483648', '99999999999'],
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
  loneSurrogate,
);
const subcommandWord = fc.constantFrom(
  ...['events', 'EVENTS', 'event', 'types', 'Subscribe', 'subscribe', 'unsubscribe', 'subscriptions'],
  ...['status', 'help', '', 'frobnicate'],
);
const commandLike = fc
  .tuple(subcommandWord, fc.array(fragment, { maxLength: 40 }))
  .map(([word, parts]) => `${word} ${parts.join('')}`);
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  commandLike,
);

function isValidKey(value: string): boolean {
  return value !== '' && codePoints(value) <= 200 && !/\p{Cc}/u.test(value);
}

function isValidId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}

/** Every invariant a caller may rely on, whatever the input. */
function expectWellFormed(result: ParseResult): void {
  if (!result.ok) {
    expect(result.error).toMatch(/^\S/);
    // Echoed input is clipped and neutralised, so an error is one short line without bidi overrides.
    expect(result.error.length).toBeLessThan(400);
    expect(result.error).not.toMatch(UNSAFE);
    expect(USAGE_LINES.has(result.usage)).toBe(true);
    return;
  }
  const command: HaloCommand = result.command;
  switch (command.kind) {
    case 'events': {
      expect(Number.isInteger(command.limit) && command.limit >= 1 && command.limit <= 20).toBe(true);
      const { key, target_id, subject, detail, ...others } = command.filter;
      expect(others).toEqual({});
      if (key !== undefined) expect(isValidKey(key)).toBe(true);
      if (target_id !== undefined) expect(isValidId(target_id)).toBe(true);
      for (const text of [subject, detail]) {
        if (text !== undefined) expect(text !== '' && codePoints(text) <= 200).toBe(true);
      }
      break;
    }
    case 'event':
      expect(isValidKey(command.eventId)).toBe(true);
      break;
    case 'types':
      expect(codePoints(command.query)).toBeLessThanOrEqual(200);
      expect(command.query).toBe(command.query.trim());
      break;
    case 'subscribe':
      expect(command.keys.length).toBeLessThanOrEqual(20);
      expect(command.targetIds.length).toBeLessThanOrEqual(20);
      expect(new Set(command.keys).size).toBe(command.keys.length);
      expect(new Set(command.targetIds).size).toBe(command.targetIds.length);
      expect(command.keys.every(isValidKey)).toBe(true);
      expect(command.targetIds.every(isValidId)).toBe(true);
      break;
    case 'unsubscribe':
      if (command.target !== 'all') expect(isValidId(command.target.id)).toBe(true);
      break;
    case 'help':
      if (command.unknown !== undefined) {
        expect(command.unknown).not.toBe('');
        expect(codePoints(command.unknown)).toBeLessThanOrEqual(50);
        expect(command.unknown).not.toMatch(UNSAFE);
      }
      break;
    case 'subscriptions':
    case 'status':
      expect(Object.keys(command)).toEqual(['kind']);
      break;
  }
}

describe('parseCommand on arbitrary text', () => {
  it('never throws and always returns a well-formed result', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expectWellFormed(parseCommand(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('copes with very long text', () => {
    const long = fc.oneof(
      fc.string({ unit: 'binary', minLength: 2000, maxLength: 10_000 }),
      fc.array(fragment, { minLength: 500, maxLength: 2000 }).map((parts) => parts.join('').slice(0, 10_000)),
    );
    const prefixed = fc.tuple(fc.constantFrom('', 'events ', 'types ', 'subscribe ', 'event '), long);
    fc.assert(
      fc.property(prefixed, ([prefix, text]) => {
        expectWellFormed(parseCommand(prefix + text));
      }),
      { numRuns: 60 },
    );
  });
});

// Characters that make quoting and tokenizing work: quotes of both families, separators, whitespace, escapes.
const valueChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '"',
      '“',
      '”',
      "'",
      '‘',
      '’',
      ':',
      '=',
      ' ',
      '\u00a0',
      '\t',
      '\n',
      '&',
      '<',
      '>',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('&amp;', '&lt;', '&gt;', '&quot;') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
);
const text200 = fc
  .array(valueChar, { minLength: 1, maxLength: 60 })
  .map((chars) => chars.join(''))
  .filter((text) => codePoints(text) <= 200);
const key = text200.filter(isValidKey);
const id = fc.integer({ min: 1, max: MAX_ID });

describe('formatEventsCommand', () => {
  const filter: fc.Arbitrary<EventListFilter> = fc.record(
    { key, target_id: id, subject: text200, detail: text200 },
    { requiredKeys: [], noNullPrototype: true },
  );

  it('round-trips through parseCommand, as Slack sends it and as typed', () => {
    fc.assert(
      fc.property(filter, (generated) => {
        const typed = formatEventsCommand(generated);
        expect(typed.startsWith('/halo events')).toBe(true);
        const text = typed.slice('/halo '.length);
        const expected = { ok: true, command: { kind: 'events', filter: generated, limit: 20 } };
        expect(parseCommand(slackEscape(text))).toEqual(expected);
        // Unescaped text is ambiguous only where it already looks like one of Slack's escapes.
        if (!/&(amp|lt|gt);/.test(text)) expect(parseCommand(text)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('subscribe', () => {
  it('round-trips generated commands, removing duplicates in first-seen order', () => {
    const keys = fc.array(fc.oneof(key, fc.constantFrom('a', 'b')), { maxLength: 20 });
    const targets = fc.array(fc.oneof(id, fc.constantFrom(1, 2)), { maxLength: 20 });
    fc.assert(
      fc.property(keys, targets, (keyList, targetList) => {
        const text = formatSubscribeCommand(keyList, targetList).slice('/halo '.length);
        expect(parseCommand(slackEscape(text))).toEqual({
          ok: true,
          command: {
            kind: 'subscribe',
            keys: [...new Set(keyList)],
            targetIds: [...new Set(targetList)],
            minSeverity: null,
          },
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('unmatched quotes', () => {
  const plain = fc.string({
    unit: fc.constantFrom('a', 'Z', '0', '-', ':', '=', 'é', '🙂', '&'),
    maxLength: 6,
  });
  // A token holding quotes of one family only, an odd number of them: the last one is never closed.
  const oddToken = fc
    .tuple(
      fc.constantFrom('"“”', "'‘’"),
      fc.integer({ min: 0, max: 3 }).map((pairs) => pairs * 2 + 1),
      fc.array(plain, { minLength: 8, maxLength: 8 }),
      fc.array(fc.nat(2), { minLength: 7, maxLength: 7 }),
    )
    .map(([family, count, pieces, picks]) => {
      let token = pieces[0] ?? '';
      for (let i = 0; i < count; i++) token += (family[picks[i] ?? 0] ?? '"') + (pieces[i + 1] ?? '');
      return token;
    });

  it('make tokenize and every tokenized subcommand fail', () => {
    const subcommand = fc.constantFrom('events', 'event', 'subscribe', 'unsubscribe');
    const before = fc.constantFrom('', 'key:a ', 'target:1 ');
    const after = fc.constantFrom('', ' key:b', ' limit:2 x');
    fc.assert(
      fc.property(oddToken, subcommand, before, after, (token, name, head, tail) => {
        const tokenized = tokenize(`${head}${token}${tail}`);
        expect(tokenized.ok).toBe(false);
        const result = parseCommand(`${name} ${head}${token}${tail}`);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error).toMatch(/^Unterminated quote in /);
      }),
      { numRuns: 500 },
    );
  });
});
