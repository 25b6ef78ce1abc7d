/**
 * The words of a `/halo` command: Slack's escapes decoded, tokens split (quotes kept together), user input echoed
 * safely, and `account:NAME` taken out wherever it stands. Shared by the parser (command-parse.ts).
 */
import { accountNameProblem } from '../domain/account-name.ts';
import { DOUBLE_QUOTES, SINGLE_QUOTES } from '../domain/command-text.ts';

export type TokenizeResult = { ok: true; tokens: string[] } | { ok: false; error: string };

const MAX_QUOTED_INPUT = 50;

// Slack clients substitute smart quotes as the user types, and not always as a matched pair, so any quote
// of the family that opened a value closes it.
export const WHITESPACE = /\s/u;

export type Step<T> = { ok: true; value: T } | { ok: false; error: string };

export function err(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

// Single pass, so `&amp;lt;` (a user who typed `&lt;`) decodes to `&lt;`, not to `<`.
export function decodeSlackEscapes(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_match, name: string) =>
    name === 'amp' ? '&' : name === 'lt' ? '<' : '>',
  );
}

// Only ASCII folds: full Unicode folding maps e.g. the Kelvin sign to `k`, accepting look-alike names.
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

// Cut by code points so an emoji is never split into a lone surrogate.
function clip(text: string): string {
  const chars = Array.from(text);
  return chars.length > MAX_QUOTED_INPUT ? `${chars.slice(0, MAX_QUOTED_INPUT - 1).join('')}…` : text;
}

/**
 * User input echoed back: clipped, and with line breaks, bidi overrides and lone surrogates neutralised so a
 * crafted input cannot reflow or visually reorder the rest of the message.
 */
export function neutralise(text: string): string {
  return clip(text)
    .replace(/\s/gu, ' ')
    .replace(/[\p{Cc}\p{Cs}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, '\uFFFD');
}

export function show(text: string): string {
  return `“${neutralise(text)}”`;
}

export function quoteFamily(char: string): string | undefined {
  if (DOUBLE_QUOTES.includes(char)) return DOUBLE_QUOTES;
  if (SINGLE_QUOTES.includes(char)) return SINGLE_QUOTES;
  return undefined;
}

/**
 * Splits on any whitespace; quotes may start anywhere in a token (`subject:"Scan Started"`) and are removed.
 * There is no escape character: a value holding both quote families is written as adjacent quoted parts.
 * Does not decode Slack's HTML escapes; `parseCommand` does that first.
 */
export function tokenize(text: string): TokenizeResult {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let tokenStart = 0;
  let openFamily: string | undefined;
  let index = 0;
  for (const char of text) {
    if (openFamily !== undefined) {
      if (openFamily.includes(char)) openFamily = undefined;
      else current += char;
    } else if (WHITESPACE.test(char)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      if (!inToken) tokenStart = index;
      inToken = true;
      const family = quoteFamily(char);
      if (family === undefined) current += char;
      else openFamily = family;
    }
    index += char.length;
  }
  if (openFamily !== undefined) {
    const hint =
      openFamily === SINGLE_QUOTES
        ? ' An apostrophe counts as a quote: put such a value in double quotes.'
        : '';
    return err(`Unterminated quote in ${show(text.slice(tokenStart))}.${hint}`);
  }
  if (inToken) tokens.push(current);
  return { ok: true, tokens };
}

const ACCOUNT_FILTER = /(?<=^|\s)account[:=]/giu;

/**
 * Takes `account:NAME` (or `account:"Two words"`) out of a command's arguments, wherever it stands: the rest is
 * parsed as before. Null: no account named.
 */
export function takeAccount(rest: string): Step<{ account: string | null; rest: string }> {
  const matches = [...rest.matchAll(ACCOUNT_FILTER)];
  if (matches.length === 0) return { ok: true, value: { account: null, rest } };
  if (matches.length > 1) return err('The account filter is given twice; a command acts in one account.');
  const start = matches[0]!.index;
  let at = start + matches[0]![0].length;
  const family = at < rest.length ? quoteFamily(rest.charAt(at)) : undefined;
  let name = '';
  if (family !== undefined) {
    const close = Array.from(rest.slice(at + 1)).findIndex((char) => family.includes(char));
    if (close === -1) return err(`Unterminated quote in ${show(rest.slice(start))}.`);
    const inner = Array.from(rest.slice(at + 1))
      .slice(0, close)
      .join('');
    name = inner;
    at += 1 + inner.length + 1;
  } else {
    const end = rest.slice(at).search(/\s/u);
    name = end === -1 ? rest.slice(at) : rest.slice(at, at + end);
    at += name.length;
  }
  if (at < rest.length && !WHITESPACE.test(rest.charAt(at)))
    return err(`Unexpected text after the account name in ${show(rest.slice(start))}.`);
  const problem = accountNameProblem(name);
  if (problem !== null) return err(problem.replace('.', ` in ${show(rest.slice(start, at))}.`));
  return { ok: true, value: { account: name, rest: (rest.slice(0, start) + rest.slice(at)).trim() } };
}
