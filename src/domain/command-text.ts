/**
 * The `/halo` command text the bot writes for people to copy: "list these events", "make this subscription".
 * Each round-trips through the command parser (commands/command-parse.ts), which shares the quote families.
 */
import type { EventListFilter } from './event.ts';
import type { Severity } from './severity.ts';

/** Longest filter value a command takes, in code points. */
export const MAX_VALUE_LENGTH = 200;

/**
 * What is wrong with a filter value (`key`, `subject` …), or null: the one rule for a value typed in a command
 * and one picked in the subscribe dialog (where anyone who can sign a request can forge it). Control characters
 * are refused where the value names something (a key) rather than searches text.
 */
export function valueProblem(label: string, value: string, allowControl: boolean): string | null {
  if (value === '') return `The ${label} is empty.`;
  if (Array.from(value).length > MAX_VALUE_LENGTH)
    return `The ${label} is longer than ${MAX_VALUE_LENGTH} characters.`;
  if (!allowControl && /\p{Cc}/u.test(value)) return `The ${label} contains control characters.`;
  return null;
}

export const DOUBLE_QUOTES = '"“”';
export const SINGLE_QUOTES = "'‘’";

/**
 * Quotes a value only when the tokenizer would otherwise split or strip it. A value holding quotes of both
 * families is written as adjacent parts, each quoted with the family it does not contain.
 */
function quoteValue(value: string): string {
  if (value !== '' && !/[\s"“”'‘’]/u.test(value)) return value;
  const prefer = /["“”]/u.test(value) && !/['‘’]/u.test(value) ? "'" : '"';
  let out = '';
  let open: string | undefined;
  for (const char of value) {
    const needed = DOUBLE_QUOTES.includes(char) ? "'" : SINGLE_QUOTES.includes(char) ? '"' : undefined;
    const quote = needed ?? open ?? prefer;
    if (quote !== open) {
      out += `${open ?? ''}${quote}`;
      open = quote;
    }
    out += char;
  }
  return open === undefined ? '""' : `${out}${open}`;
}

/** What a user would type to list these events; `parseCommand` of it (without `/halo `) gives the filter back. */
export function formatEventsCommand(filter: EventListFilter): string {
  const parts = ['/halo events'];
  if (filter.key !== undefined) parts.push(`key:${quoteValue(filter.key)}`);
  if (filter.target_id !== undefined) parts.push(`target:${filter.target_id}`);
  if (filter.subject !== undefined) parts.push(`subject:${quoteValue(filter.subject)}`);
  if (filter.detail !== undefined) parts.push(`detail:${quoteValue(filter.detail)}`);
  return parts.join(' ');
}

/** What a user would type to create this subscription; round-trips through `parseCommand` like the above. */
export function formatSubscribeCommand(
  keys: readonly string[],
  targetIds: readonly number[],
  minSeverity: Severity | null = null,
): string {
  return [
    '/halo subscribe',
    ...keys.map((key) => `key:${quoteValue(key)}`),
    ...targetIds.map((id) => `target:${id}`),
    ...(minSeverity === null ? [] : [`severity:${minSeverity}`]),
  ].join(' ');
}
