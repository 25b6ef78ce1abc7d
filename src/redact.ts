/**
 * Redaction of secrets from text that came from elsewhere (error messages, upstream bodies) before it is logged
 * or shown. Pure; shared by the logger, the Halo client and the status views so that all redact alike.
 */

export const REDACTED = '[redacted]';

/** Shorter strings would redact innocent words; real tokens, keys and secrets are far longer. */
const MIN_SECRET = 6;
/**
 * A secret's leading characters are enough to count as a leak once there are this many: text cut by someone
 * else (Halo cutting its own message, a proxy cutting a body) may hold a secret's first half and nothing more.
 */
const PREFIX = 8;

/**
 * A function that replaces, case-insensitively, every secret in a text, every run of 8 or more of a secret's
 * leading characters (a secret cut short elsewhere), and the user-info part of every URL
 * (`https://user:pass@host` → `https://[redacted]@host`).
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  // Longest first, so that a secret containing another is not left half redacted.
  const patterns = [...new Set(secrets)]
    .filter((secret) => secret.length >= MIN_SECRET)
    .sort((a, b) => b.length - a.length)
    .map(secretPattern);
  const secretRegex = patterns.length === 0 ? null : new RegExp(patterns.join('|'), 'giu');
  return (text) => {
    const withoutUserInfo = stripUrlCredentials(text);
    return secretRegex === null ? withoutUserInfo : withoutUserInfo.replace(secretRegex, REDACTED);
  };
}

/** `scheme://user:pass@host…` → `scheme://[redacted]@host…`, anywhere in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USER_INFO, `$1${REDACTED}@`);
}

// User info ends at the first `@` and cannot hold `/`, `?` or `#`; quotes and spaces end a URL in prose.
const URL_USER_INFO = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@"'<>`]+@/giu;

/**
 * The secret itself, or, for a secret of 8+ characters, its first 8 followed by as much of the rest as the
 * text continues with: `abcdefgh(?:i(?:j(?:k)?)?)?`.
 */
function secretPattern(secret: string): string {
  // Code points, as the `u` regex sees them; a secret is ASCII in practice.
  const chars = Array.from(secret, escapeRegExp);
  if (chars.length < PREFIX) return chars.join('');
  let tail = '';
  for (let i = chars.length - 1; i >= PREFIX; i--) tail = `(?:${chars[i]}${tail})?`;
  return chars.slice(0, PREFIX).join('') + tail;
}

function escapeRegExp(char: string): string {
  return char.replace(/[\\^$.*+?()[\]{}|/]/gu, '\\$&');
}

/**
 * At most `max` characters of `text`, cut after redaction so that no secret straddles the cut, and never
 * between the halves of a surrogate pair.
 */
export function redactAndCut(text: string, redact: (text: string) => string, max: number): string {
  const redacted = redact(text);
  if (redacted.length <= max) return redacted;
  const last = redacted.charCodeAt(max - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return redacted.slice(0, end);
}
