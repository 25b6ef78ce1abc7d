/**
 * Text from Halo is data, never markup. Everything that puts outside text into a Slack message goes through here.
 * Lengths are UTF-16 code units, matching `LIMITS`.
 */

const ELLIPSIS = '…';

/**
 * C0 and C1 controls except tab and newline, the bidirectional marks, embeddings, overrides and isolates, the
 * zero-width characters (space, non-joiner, joiner, word joiner, and U+FEFF), and surrogate halves that are not
 * part of a pair (with the `u` flag, a well-formed pair is one code point and does not match `[\uD800-\uDFFF]`).
 */
const UNSAFE_CHARS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF\uD800-\uDFFF]/gu;

/**
 * Removes characters that could hide text or reorder what Slack shows: U+202E flipping a host name, or a
 * zero-width space making `pay\u200Bpal.com` look like `paypal.com` while being another name.
 */
export function cleanText(s: string): string {
  return s.replace(UNSAFE_CHARS, '');
}

/**
 * Escapes Slack's three control characters, and only those: Slack decodes no other entity, so `&quot;` would
 * show literally. Afterwards `<!channel>`, `<@U123>` and `<url|label>` are inert text.
 */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Replaces the backtick with U+02CB MODIFIER LETTER GRAVE ACCENT, which looks alike but is not markup: a backtick
 * in a Halo value would otherwise close our code span early, or open one that swallows the rest of the line.
 */
export function neutralizeBackticks(s: string): string {
  return s.replace(/`/g, '\u02CB');
}

/** Cuts `s` to at most `max` UTF-16 units, ending with `…` when cut; never splits a surrogate pair. */
export function truncate(s: string, max: number): string {
  assertMax(max);
  if (s.length <= max) return s;
  return cut(s, max, safeEnd(s, max - 1));
}

/** Text for a `mrkdwn` object: cleaned, escaped, then cut to `max` without leaving half an entity (`&am…`). */
export function mrkdwn(s: string, max: number): string {
  assertMax(max);
  const escaped = escapeMrkdwn(cleanText(s));
  if (escaped.length <= max) return escaped;
  let end = safeEnd(escaped, max - 1);
  // After escaping, every `&` starts an entity, so an `&` with no `;` before the cut is a broken entity.
  const amp = escaped.lastIndexOf('&', end - 1);
  if (amp !== -1 && escaped.indexOf(';', amp) >= end) end = amp;
  return cut(escaped, max, end);
}

/** Text for a `plain_text` object: Slack shows it literally, so it is cleaned and cut but not escaped. */
export function plain(s: string, max: number): string {
  return truncate(cleanText(s), max);
}

/** An inline code span of Halo text (`` `target-scan-start` ``) within `max` units, or `''` when `s` is blank. */
export function code(s: string, max: number): string {
  assertMax(max);
  const inner = cleanText(s).trim();
  if (inner === '' || max < 3) return '';
  return `\`${mrkdwn(neutralizeBackticks(inner), max - 2)}\``;
}

/**
 * The URL as Slack's link syntax may carry it, or `undefined` unless it is an absolute http(s) URL.
 * `javascript:`, `slack:`, relative and empty URLs give no link. `|`, `<` and `>` are percent-encoded because
 * they end the URL part of `<url|label>`; the URL parser has already encoded spaces and dropped tabs and newlines.
 */
export function safeHttpUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return parsed.href.replace(/[|<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `<url|label>` for a mrkdwn text, or `undefined` when the URL is not http(s). The `&` of a query string is
 * written `&amp;`, as Slack itself writes it, since Slack decodes entities in the whole text, links included.
 */
export function mrkdwnLink(url: string, label: string): string | undefined {
  const href = safeHttpUrl(url);
  if (href === undefined) return undefined;
  // A newline or `|` in the label would end the link early or show the markup.
  const text = escapeMrkdwn(
    cleanText(label)
      .replace(/[\s|]+/g, ' ')
      .trim(),
  );
  const target = href.replace(/&/g, '&amp;');
  return text === '' ? `<${target}>` : `<${target}|${text}>`;
}

/** Slack user and Enterprise Grid user IDs, as they appear in signed interaction payloads. */
const USER_ID = /^[UW][A-Z0-9]{1,20}$/;

/**
 * A mention of the user, or `someone` when the ID does not look like one. The ID comes from Slack's signed
 * payload, but building `<@…>` from an unchecked string would let a surprising value inject markup.
 */
export function mentionUser(userId: string): string {
  return USER_ID.test(userId) ? `<@${userId}>` : 'someone';
}

/**
 * A date each reader sees in their own time zone (`<!date^…>`), with the ISO time as the fallback for clients
 * that cannot format it; `undefined` for an invalid Date.
 */
export function slackDate(at: Date): string | undefined {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) return undefined;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

function assertMax(max: number): void {
  if (!Number.isInteger(max) || max < 0)
    throw new RangeError(`Expected \`max\` to be an integer >= 0, got ${max}`);
}

/** Moves `end` back by one when it would separate a high surrogate from its low half. */
function safeEnd(s: string, end: number): number {
  const before = s.charCodeAt(end - 1);
  const after = s.charCodeAt(end);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splitsPair ? end - 1 : end;
}

function cut(s: string, max: number, end: number): string {
  if (max === 0) return '';
  const kept = s.slice(0, end).trimEnd() + ELLIPSIS;
  return kept.length <= max ? kept : ELLIPSIS;
}
