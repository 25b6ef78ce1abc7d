/**
 * Redaction of secrets from text that came from elsewhere (error messages, upstream bodies, Halo events) before
 * it is logged, shown or posted. Pure; shared by the logger, the Halo client, the status views and the alert
 * renderer so that all redact alike.
 */

export const REDACTED = '[redacted]';

/** Shorter strings would redact innocent words; real tokens, keys and secrets are far longer. */
const MIN_SECRET = 6;
/**
 * This many characters of a secret in a row, from anywhere in it, count as a leak: text cut by someone else
 * (Halo quoting a key from its 5th character on, a proxy cutting a body) may hold any part of it. Shorter runs
 * are too likely by chance (and give an attacker too little).
 */
const RUN = 8;

/**
 * Characters that render as nothing (zero-width space and joiners, soft hyphen, word joiner, BOM, bidi marks):
 * a key split by one still reads as the key.
 */
const INVISIBLE = /^\p{Cf}$/u;

/**
 * A function that replaces every run of 8 or more characters of a secret (the whole secret for one of 6 or 7),
 * case-insensitively, wherever in the secret the run starts; also when the run is split by invisible characters,
 * percent-encoded (`%61%62…`, wholly or in part), or base64-encoded (standard or URL-safe alphabet, at any byte
 * offset); and the user-info part of every URL (`https://user:pass@host` → `https://[redacted]@host`).
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const grams = new Map<number, Set<string>>();
  for (const secret of new Set(secrets)) {
    if (secret.length < MIN_SECRET) continue;
    for (const form of [secret, ...base64Forms(secret)]) addGrams(grams, form.toLowerCase());
  }
  const lengths = [...grams.keys()].sort((a, b) => a - b);
  return (text) => {
    const withoutUserInfo = stripUrlCredentials(text);
    return lengths.length === 0 ? withoutUserInfo : redactRuns(withoutUserInfo, grams, lengths);
  };
}

/** Every run of `min(RUN, length)` characters of `form`, by length. */
function addGrams(grams: Map<number, Set<string>>, form: string): void {
  const size = Math.min(RUN, form.length);
  if (size < MIN_SECRET) return;
  let set = grams.get(size);
  if (set === undefined) grams.set(size, (set = new Set()));
  for (let i = 0; i + size <= form.length; i++) set.add(form.slice(i, i + size));
}

/**
 * The base64 text that a secret turns into inside a longer base64-encoded text, for each of the three byte
 * offsets it may start at, in both alphabets: only the groups made of the secret's bytes alone, since the first
 * and last groups also hold bits of whatever surrounds it.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const whole = Math.floor((offset + bytes.length) / 3) * 4;
    const inner = encoded.slice(offset === 0 ? 0 : 4, whole);
    forms.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/**
 * The text as a reader (or a decoder) would take it, one UTF-16 unit per character, with the span of the
 * original each came from: invisible characters dropped, `%XX` decoded, letters lower-cased, and a character
 * outside the BMP (never part of a secret) as U+FFFF.
 */
function normalise(text: string): { chars: string; from: number[]; to: number[] } {
  const chars: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length;) {
    const point = text.codePointAt(i)!;
    let char = String.fromCodePoint(point);
    let width = char.length;
    if (INVISIBLE.test(char)) {
      i += width;
      continue;
    }
    if (char === '%' && /^[\da-f]{2}$/i.test(text.slice(i + 1, i + 3))) {
      const decoded = parseInt(text.slice(i + 1, i + 3), 16);
      // Only ASCII: a secret is ASCII in practice, and a multi-byte character would need its other bytes.
      if (decoded < 0x80) {
        char = String.fromCharCode(decoded);
        width = 3;
      }
    }
    const lower = char.toLowerCase();
    chars.push(char.length > 1 ? '\uffff' : lower.length === 1 ? lower : char);
    from.push(i);
    to.push(i + width);
    i += width;
  }
  return { chars: chars.join(''), from, to };
}

/** Text that reads the same once normalised, apart from letter case: the common case, checked cheaply. */
const PLAIN = /^[^%\p{Cf}\u{10000}-\u{10ffff}]*$/u;

/** Replaces each stretch of the original covered by runs of a secret's characters with {@link REDACTED}. */
function redactRuns(
  text: string,
  grams: ReadonlyMap<number, Set<string>>,
  lengths: readonly number[],
): string {
  if (text.length < lengths[0]!) return text;
  // Most text holds no secret: a plain text is checked without building the normalised copy and its spans.
  if (PLAIN.test(text) && !holdsRun(text.toLowerCase(), grams, lengths)) return text;
  const { chars, from, to } = normalise(text);
  const covered = new Uint8Array(chars.length);
  let any = false;
  for (const size of lengths) {
    const set = grams.get(size)!;
    for (let i = 0; i + size <= chars.length; i++) {
      if (!set.has(chars.slice(i, i + size))) continue;
      covered.fill(1, i, i + size);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  let at = 0;
  for (let i = 0; i < chars.length;) {
    if (covered[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < chars.length && covered[j + 1] === 1) j++;
    out += text.slice(at, from[i]) + REDACTED;
    at = to[j]!;
    i = j + 1;
  }
  return out + text.slice(at);
}

function holdsRun(
  lower: string,
  grams: ReadonlyMap<number, Set<string>>,
  lengths: readonly number[],
): boolean {
  for (const size of lengths) {
    const set = grams.get(size)!;
    for (let i = 0; i + size <= lower.length; i++) if (set.has(lower.slice(i, i + size))) return true;
  }
  return false;
}

/** `scheme://user:pass@host…` → `scheme://[redacted]@host…`, anywhere in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USER_INFO, `$1${REDACTED}@`);
}

// User info ends at the first `@` and cannot hold `/`, `?` or `#`; quotes and spaces end a URL in prose.
const URL_USER_INFO = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@"'<>`]+@/giu;

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
