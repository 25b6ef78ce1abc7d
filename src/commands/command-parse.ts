import { EVENTS_PAGE } from '../domain/paging.ts';
import { isSeverity, SEVERITIES, type Severity } from '../domain/severity.ts';
import type { EventListFilter } from '../domain/event.ts';
import { MAX_VALUE_LENGTH, valueProblem } from '../domain/command-text.ts';
import { parseDuration } from '../domain/duration.ts';
import { USAGE, type Subcommand } from './usage.ts';
import { accountNameProblem } from '../domain/account-name.ts';
import {
  asciiLower,
  decodeSlackEscapes,
  err,
  neutralise,
  quoteFamily,
  show,
  takeAccount,
  tokenize,
  type Step,
} from './command-tokens.ts';
import { parseClockTime, parseWeekday, type SummarySchedule } from '../domain/summary-schedule.ts';

export { takeAccount, tokenize, type TokenizeResult } from './command-tokens.ts';

export type HaloCommand =
  | { kind: 'events'; filter: EventListFilter; limit: number }
  | { kind: 'event'; eventId: string }
  | { kind: 'types'; query: string }
  | { kind: 'subscribe'; keys: string[]; targetIds: number[]; minSeverity: Severity | null }
  | { kind: 'unsubscribe'; target: { id: number } | 'all' }
  | { kind: 'subscriptions' }
  | { kind: 'mute'; key: string | null; targetId: number | null; durationMs: number }
  | { kind: 'mutes' }
  | { kind: 'unmute'; id: number }
  | { kind: 'status' }
  | { kind: 'test' }
  /** `show`: the channel's summary setting, changing nothing; `now`: the summary so far, to the one who asked. */
  | { kind: 'summary'; schedule: SummarySchedule | 'off' | 'show' | 'now' }
  | { kind: 'help'; unknown?: string }
  /** The workspace's Halo accounts: `connect` opens the modal, `disconnect` asks to confirm. */
  | { kind: 'connect' }
  | { kind: 'accounts' }
  | { kind: 'disconnect'; name: string };

/** `account`: the account `account:NAME` named, absent when none was (the workspace's only account then). */
export type ParseResult =
  { ok: true; command: HaloCommand; account?: string } | { ok: false; error: string; usage: string };

export const DEFAULT_PAGE_SIZE: number = EVENTS_PAGE.defaultSize;
const MAX_PAGE_SIZE = EVENTS_PAGE.maxSize;
export const MAX_SUBSCRIBE_FILTERS = 20;
const MAX_ID = 2 ** 31 - 1;
function fail(subcommand: Subcommand, error: string): ParseResult {
  return { ok: false, error, usage: USAGE[subcommand] };
}

function ok(command: HaloCommand): ParseResult {
  return { ok: true, command };
}

function checkText(label: string, value: string, allowControl: boolean): Step<string> {
  const problem = valueProblem(label, value, allowControl);
  return problem === null ? { ok: true, value } : err(problem);
}

function checkId(label: string, value: string): Step<number> {
  // Digits only: Number() would also take '1e3', '0x10', ' 7' and '1.0'.
  const id = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (id >= 1 && id <= MAX_ID) return { ok: true, value: id };
  return err(`The ${label} must be a whole number from 1 to ${MAX_ID}, got ${show(value)}.`);
}

function checkLimit(value: string): Step<number> {
  const limit = /^[0-9]{1,3}$/.test(value) ? Number(value) : NaN;
  if (limit >= 1 && limit <= MAX_PAGE_SIZE) return { ok: true, value: limit };
  return err(`The limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${show(value)}.`);
}

function splitFilter(
  token: string,
  subcommand: Subcommand,
  accepted: readonly string[],
): Step<{ name: string; value: string }> {
  const accepts = `${subcommand} accepts ${accepted.join(', ')}`;
  const at = token.search(/[:=]/);
  if (at === -1) return err(`Expected a filter like key:VALUE (${accepts}), got ${show(token)}.`);
  const name = asciiLower(token.slice(0, at));
  if (!accepted.includes(name)) return err(`Unknown filter ${show(token.slice(0, at))}: ${accepts}.`);
  return { ok: true, value: { name, value: token.slice(at + 1) } };
}

const EVENTS_FILTERS = ['key', 'target', 'subject', 'detail', 'limit'] as const;
const SUBSCRIBE_FILTERS = ['key', 'target', 'severity'] as const;
const MUTE_FILTERS = ['key', 'target', 'for'] as const;

function parseEvents(rest: string): ParseResult {
  const tokenized = tokenize(rest);
  if (!tokenized.ok) return fail('events', tokenized.error);
  const filter: { -readonly [K in keyof EventListFilter]: EventListFilter[K] } = {};
  let limit = DEFAULT_PAGE_SIZE;
  const seen = new Set<string>();
  for (const token of tokenized.tokens) {
    const split = splitFilter(token, 'events', EVENTS_FILTERS);
    if (!split.ok) return fail('events', split.error);
    const { name, value } = split.value;
    if (seen.has(name))
      return fail('events', `The ${name} filter is given twice; events takes each filter once.`);
    seen.add(name);
    if (name === 'target') {
      const id = checkId('target', value);
      if (!id.ok) return fail('events', id.error);
      filter.target_id = id.value;
    } else if (name === 'limit') {
      const checked = checkLimit(value);
      if (!checked.ok) return fail('events', checked.error);
      limit = checked.value;
    } else {
      const checked = checkText(name, value, name !== 'key');
      if (!checked.ok) return fail('events', checked.error);
      if (name === 'key') filter.key = checked.value;
      else if (name === 'subject') filter.subject = checked.value;
      else filter.detail = checked.value;
    }
  }
  return ok({ kind: 'events', filter, limit });
}

function parseSubscribe(rest: string): ParseResult {
  const tokenized = tokenize(rest);
  if (!tokenized.ok) return fail('subscribe', tokenized.error);
  const keys = new Set<string>();
  const targetIds = new Set<number>();
  let minSeverity: Severity | null = null;
  for (const token of tokenized.tokens) {
    const split = splitFilter(token, 'subscribe', SUBSCRIBE_FILTERS);
    if (!split.ok) return fail('subscribe', split.error);
    const { name, value } = split.value;
    if (name === 'severity') {
      const level = asciiLower(value);
      if (!isSeverity(level)) {
        return fail(
          'subscribe',
          `The severity must be one of ${SEVERITIES.join(', ')} (that level and more severe), got ${show(value)}.`,
        );
      }
      if (minSeverity !== null && minSeverity !== level) {
        return fail('subscribe', 'The severity filter is given twice; a subscription takes one minimum.');
      }
      minSeverity = level;
    } else if (name === 'target') {
      const id = checkId('target', value);
      if (!id.ok) return fail('subscribe', id.error);
      targetIds.add(id.value);
    } else {
      const key = checkText('key', value, false);
      if (!key.ok) return fail('subscribe', key.error);
      keys.add(key.value);
    }
  }
  if (keys.size > MAX_SUBSCRIBE_FILTERS) {
    return fail('subscribe', `At most ${MAX_SUBSCRIBE_FILTERS} keys per subscription, got ${keys.size}.`);
  }
  if (targetIds.size > MAX_SUBSCRIBE_FILTERS) {
    return fail(
      'subscribe',
      `At most ${MAX_SUBSCRIBE_FILTERS} targets per subscription, got ${targetIds.size}.`,
    );
  }
  return ok({ kind: 'subscribe', keys: [...keys], targetIds: [...targetIds], minSeverity });
}

function parseMute(rest: string): ParseResult {
  const tokenized = tokenize(rest);
  if (!tokenized.ok) return fail('mute', tokenized.error);
  let key: string | null = null;
  let targetId: number | null = null;
  let durationMs: number | null = null;
  const seen = new Set<string>();
  for (const token of tokenized.tokens) {
    const split = splitFilter(token, 'mute', MUTE_FILTERS);
    if (!split.ok) return fail('mute', split.error);
    const { name, value } = split.value;
    if (seen.has(name)) return fail('mute', `The ${name} filter is given twice; a mute takes each once.`);
    seen.add(name);
    if (name === 'target') {
      const id = checkId('target', value);
      if (!id.ok) return fail('mute', id.error);
      targetId = id.value;
    } else if (name === 'key') {
      const checked = checkText('key', value, false);
      if (!checked.ok) return fail('mute', checked.error);
      key = checked.value;
    } else {
      const duration = parseDuration(value);
      if (!duration.ok) return fail('mute', duration.error);
      durationMs = duration.ms;
    }
  }
  if (key === null && targetId === null) return fail('mute', 'Say what to mute: key:K, target:ID, or both.');
  if (durationMs === null) return fail('mute', 'Say for how long: for:30m, for:24h or for:7d (at most 30d).');
  return ok({ kind: 'mute', key, targetId, durationMs });
}

function parseUnmute(rest: string): ParseResult {
  const argument = singleArgument(rest, 'unmute', 'Missing the mute ID (/halo mutes lists them).');
  if (!argument.ok) return fail('unmute', argument.error);
  const id = checkId('mute ID', argument.value.replace(/^#/, ''));
  if (!id.ok) return fail('unmute', id.error);
  return ok({ kind: 'unmute', id: id.value });
}

/** Exactly one argument, for `event`, `unsubscribe` and `unmute`. */
function singleArgument(rest: string, subcommand: Subcommand, missing: string): Step<string> {
  const tokenized = tokenize(rest);
  if (!tokenized.ok) return tokenized;
  const [first, extra] = tokenized.tokens;
  if (first === undefined) return err(missing);
  if (extra !== undefined) return err(`Unexpected extra argument ${show(extra)}: ${subcommand} takes one.`);
  return { ok: true, value: first };
}

function parseEvent(rest: string): ParseResult {
  const argument = singleArgument(rest, 'event', 'Missing the event ID.');
  if (!argument.ok) return fail('event', argument.error);
  const eventId = checkText('event ID', argument.value, false);
  if (!eventId.ok) return fail('event', eventId.error);
  return ok({ kind: 'event', eventId: eventId.value });
}

function parseUnsubscribe(rest: string): ParseResult {
  const argument = singleArgument(rest, 'unsubscribe', 'Missing the subscription ID (or “all”).');
  if (!argument.ok) return fail('unsubscribe', argument.error);
  if (asciiLower(argument.value) === 'all') return ok({ kind: 'unsubscribe', target: 'all' });
  const id = checkId('subscription ID', argument.value);
  if (!id.ok) return fail('unsubscribe', `${id.error} Use “all” to remove every subscription here.`);
  return ok({ kind: 'unsubscribe', target: { id: id.value } });
}

function parseTypes(rest: string): ParseResult {
  // Free text, not tokenized: an apostrophe in `don't` must not read as an unterminated quote.
  let query = rest.replace(/\s+/gu, ' ');
  const family = quoteFamily(query.charAt(0));
  const inner = query.slice(1, -1);
  // Unwrapped only when it is one quoted value: `"a" "b"` stays as typed.
  if (family !== undefined && query.length >= 2 && family.includes(query.charAt(query.length - 1))) {
    if (!Array.from(inner).some((char) => family.includes(char))) query = inner.trim();
  }
  if (Array.from(query).length > MAX_VALUE_LENGTH) {
    return fail('types', `The search text is longer than ${MAX_VALUE_LENGTH} characters.`);
  }
  return ok({ kind: 'types', query });
}

/** `daily 09:00`, `weekly mon 09:00`, `off`, `now`, or nothing (show the setting). */
function parseSummary(rest: string): ParseResult {
  const words = rest === '' ? [] : rest.split(/\s+/u).map(asciiLower);
  const [cadence, ...args] = words;
  if (cadence === undefined) return ok({ kind: 'summary', schedule: 'show' });
  if (cadence === 'off' || cadence === 'now')
    return args.length === 0
      ? ok({ kind: 'summary', schedule: cadence })
      : fail('summary', `Unexpected extra argument ${show(args[0]!)}: ${cadence} takes none.`);
  if (cadence !== 'daily' && cadence !== 'weekly')
    return fail('summary', `Expected daily, weekly, off or now, got ${show(rest.split(/\s+/u)[0]!)}.`);
  const [dayWord, timeWord] = cadence === 'daily' ? [undefined, args[0]] : args;
  if (args.length !== (cadence === 'daily' ? 1 : 2))
    return fail(
      'summary',
      cadence === 'daily' ? 'Say the time: daily 09:00.' : 'Say the day and time: weekly mon 09:00.',
    );
  const weekday = dayWord === undefined ? null : parseWeekday(dayWord);
  if (dayWord !== undefined && weekday === null)
    return fail('summary', `Expected a day such as mon or monday, got ${show(dayWord)}.`);
  const minute = parseClockTime(timeWord ?? '');
  if (minute === null)
    return fail('summary', `Expected a time such as 09:00 (24-hour), got ${show(timeWord ?? '')}.`);
  return ok({ kind: 'summary', schedule: { cadence, weekday, minute } });
}

/** `disconnect NAME`: the whole rest is the name (it may hold spaces), quotes around it removed. */
function parseDisconnect(rest: string): ParseResult {
  const family = quoteFamily(rest.charAt(0));
  const name =
    family !== undefined && rest.length >= 2 && family.includes(rest.charAt(rest.length - 1))
      ? rest.slice(1, -1).trim()
      : rest;
  if (name === '') return fail('disconnect', 'Missing the account name (/halo accounts lists them).');
  const problem = accountNameProblem(name);
  return problem === null ? ok({ kind: 'disconnect', name }) : fail('disconnect', problem);
}

function noArguments(rest: string, subcommand: 'subscriptions' | 'mutes' | 'status' | 'test'): ParseResult {
  if (rest === '') return ok({ kind: subcommand });
  const extra = rest.split(/\s/u)[0] ?? rest;
  return fail(subcommand, `Unexpected extra argument ${show(extra)}: ${subcommand} takes none.`);
}

/** Every subcommand that acts in one Halo account, and so takes `account:NAME`. */
const IN_ACCOUNT = new Set<string>([
  'events',
  'event',
  'types',
  'subscribe',
  'unsubscribe',
  'subscriptions',
  'mute',
  'mutes',
  'unmute',
  'summary',
  'status',
  'test',
]);

/** Parses the text Slack sends for `/halo` (without the command itself). Never throws. */
export function parseCommand(text: string): ParseResult {
  const line = decodeSlackEscapes(text).trim();
  if (line === '') return ok({ kind: 'help' });
  const space = line.search(/\s/u);
  const word = space === -1 ? line : line.slice(0, space);
  const args = space === -1 ? '' : line.slice(space).trim();
  const subcommand = asciiLower(word);
  if (!IN_ACCOUNT.has(subcommand)) return parseSubcommand(subcommand, word, args);
  const taken = takeAccount(args);
  if (!taken.ok) return fail(subcommand as Subcommand, taken.error);
  const parsed = parseSubcommand(subcommand, word, taken.value.rest);
  return parsed.ok && taken.value.account !== null ? { ...parsed, account: taken.value.account } : parsed;
}

function parseSubcommand(subcommand: string, word: string, rest: string): ParseResult {
  switch (subcommand) {
    case 'events':
      return parseEvents(rest);
    case 'event':
      return parseEvent(rest);
    case 'types':
      return parseTypes(rest);
    case 'subscribe':
      return parseSubscribe(rest);
    case 'unsubscribe':
      return parseUnsubscribe(rest);
    case 'mute':
      return parseMute(rest);
    case 'unmute':
      return parseUnmute(rest);
    case 'summary':
      return parseSummary(rest);
    case 'subscriptions':
    case 'mutes':
    case 'status':
    case 'test':
      return noArguments(rest, subcommand);
    case 'help':
      return ok({ kind: 'help' });
    case 'connect':
    case 'accounts':
      return rest === ''
        ? ok({ kind: subcommand })
        : fail(
            subcommand,
            `Unexpected extra argument ${show(rest.split(/\s/u)[0] ?? rest)}: ${subcommand} takes none.`,
          );
    case 'disconnect':
      return parseDisconnect(rest);
    default:
      return ok({ kind: 'help', unknown: neutralise(word) });
  }
}
