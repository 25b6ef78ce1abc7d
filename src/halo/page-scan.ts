/**
 * A fast reading of an `event/list.json` body that builds no event objects. In a steady poll nearly every page
 * holds only events already seen, and `JSON.parse` of the whole page, to throw it away, was most of a poll's CPU.
 *
 * The bytes are checked against the whole JSON grammar (as strictly as `JSON.parse`), and only what decides the
 * outcome is taken out: each entry's event ID, the number of entries and `pagination.total`, with the same rules
 * as `parseEventList` (last duplicate key wins, an entry without a usable ID is invalid). Anything this reader
 * does not handle exactly (a byte-order mark, escapes in a key, a second `list`, very deep nesting, any body
 * that is not `{"list": [...]}`) returns null, and the caller parses the page the usual way: so a body that is
 * not JSON, or not a list, still fails with the same typed error. Events are parsed and validated in full, by
 * `parseEvent` itself, only when someone asks for them (`EventIdPage.events`).
 */
import { eventIdText, pageTotal } from './parse.ts';

export interface ListScan {
  /** The ID of each valid entry, in order. */
  readonly ids: string[];
  /** Byte range of each valid entry's event object: `bytes.subarray(starts[i], ends[i])` is its JSON. */
  readonly starts: number[];
  readonly ends: number[];
  readonly invalid: number;
  readonly total: number | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 64;
const decoder = new TextDecoder();

// The common entry, `{"event":{"event_id":…, …}}` with the ID first and values nested at most two deep, is
// checked by one sticky regular expression run on the page's bytes read as Latin-1 (one character a byte, so
// positions agree, and every byte of a UTF-8 sequence is ≥ 0x80, which JSON allows in a string): irregexp's
// compiled code checks the grammar several times faster than a loop over the bytes. It follows JSON's grammar
// exactly; an entry it does not match is read by the general reader below.
const W = String.raw`[ \t\n\r]*`;
const STR = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
const NUM = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const SCALAR = `(?:${STR}|${NUM}|true|false|null)`;
const MEMBERS = (key: string, value: string): string =>
  `(?:${key}${W}:${W}${value}${W}(?:,${W}${key}${W}:${W}${value}${W})*)?`;
const FLAT_OBJECT = String.raw`\{${W}${MEMBERS(STR, SCALAR)}\}`;
const FLAT_ARRAY = String.raw`\[${W}(?:${SCALAR}${W}(?:,${W}${SCALAR}${W})*)?\]`;
const VALUE = `(?:${SCALAR}|${FLAT_OBJECT}|${FLAT_ARRAY})`;
/** A key with no escape that is not `event_id`: a second `event_id` would be the one `JSON.parse` keeps. */
const OTHER_KEY = String.raw`"(?!event_id")[^"\\\x00-\x1f]*"`;
const COMMON_ENTRY = new RegExp(
  String.raw`\{${W}"event"${W}:${W}\{${W}"event_id"${W}:${W}(${STR}|${NUM})${W}` +
    String.raw`(?:,${W}${OTHER_KEY}${W}:${W}${VALUE}${W})*\}${W}\}`,
  'y',
);

/** A quoted ID of printable ASCII without a backslash: its text is the bytes between the quotes. */
const PLAIN_ID = /^"[\x20\x21\x23-\x5b\x5d-\x7e]*"$/;

/** Thrown inside the reader only: the body is not one it reads exactly, so the caller parses it in full. */
class NotHandled extends Error {}

// The key names the reader looks for, as bytes.
const KEY = {
  list: bytesOf('list'),
  pagination: bytesOf('pagination'),
  total: bytesOf('total'),
  event: bytesOf('event'),
  eventId: bytesOf('event_id'),
};

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function scanEventListBody(bytes: Uint8Array): ListScan | null {
  try {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    return new Reader(bytes, text).body();
  } catch (error) {
    if (error instanceof NotHandled) return null;
    throw error;
  }
}

/** What a value turned out to be, for the few values whose content matters. */
type Kind = 'object' | 'array' | 'string' | 'number' | 'literal';

class Reader {
  private i = 0;
  private depth = 0;
  /** Whether the last string read had an escape or a non-ASCII byte (its text then needs a real decode). */
  private plain = true;

  constructor(
    private readonly b: Uint8Array,
    /** The same bytes as Latin-1 text, for COMMON_ENTRY. */
    private readonly text: string,
  ) {}

  body(): ListScan {
    const scan = { ids: [] as string[], starts: [] as number[], ends: [] as number[], invalid: 0 };
    let total: number | null = null;
    let sawList = false;
    this.space();
    this.expect(0x7b); // {
    this.space();
    if (this.b[this.i] === 0x7d) throw new NotHandled(); // {} has no list
    for (;;) {
      const key = this.key();
      if (this.is(key, KEY.list)) {
        if (sawList) throw new NotHandled();
        sawList = true;
        this.list(scan);
      } else if (this.is(key, KEY.pagination)) {
        total = this.pagination();
      } else this.value();
      if (!this.more(0x7d)) break;
    }
    this.space();
    if (this.i !== this.b.length || !sawList) throw new NotHandled();
    return { ...scan, total };
  }

  private list(scan: { ids: string[]; starts: number[]; ends: number[]; invalid: number }): void {
    if (this.b[this.i] !== 0x5b) throw new NotHandled(); // not an array: parsed in full, which says so
    this.i++;
    this.space();
    if (this.b[this.i] === 0x5d) {
      this.i++;
      return;
    }
    do {
      const found = this.b[this.i] === 0x7b ? (this.common() ?? this.entry()) : (this.value(), null);
      if (found === null) scan.invalid++;
      else if (found.id === null) scan.invalid++;
      else {
        scan.ids.push(found.id);
        scan.starts.push(found.start);
        scan.ends.push(found.end);
      }
    } while (this.more(0x5d));
  }

  /** The common entry (see COMMON_ENTRY) at the cursor, or null to read it in general. */
  private common(): { id: string | null; start: number; end: number } | null {
    COMMON_ENTRY.lastIndex = this.i;
    const match = COMMON_ENTRY.exec(this.text);
    // An ID with an escape or a non-ASCII byte is decoded by the general reader.
    const id = match?.[1];
    if (match === null || id === undefined || !PLAIN_ID.test(id)) return null;
    const end = COMMON_ENTRY.lastIndex;
    this.i = end;
    // The event object is the match's second `{` (the wrapper's key and colon hold none) up to its last `}`
    // but one (the wrapper's, with only whitespace between).
    return {
      id: eventIdText(id.slice(1, -1)),
      start: this.text.indexOf('{', match.index + 1),
      end: this.text.lastIndexOf('}', end - 2) + 1,
    };
  }

  /**
   * One entry `{ "event": {...} }`, or a bare event. As in `parseEventList`: an `event` key, whatever its value,
   * makes that value the event; otherwise the entry is the event.
   */
  private entry(): { id: string | null; start: number; end: number } {
    const start = this.i;
    let own: string | null = null;
    let wrapped: { id: string | null; start: number; end: number } | undefined;
    this.each(() => {
      const key = this.key();
      if (this.is(key, KEY.event)) {
        const at = this.i;
        wrapped =
          this.b[at] === 0x7b
            ? { id: this.eventObject(), start: at, end: this.i }
            : (this.value(), { id: null, start: at, end: this.i });
      } else if (this.is(key, KEY.eventId)) own = this.idValue();
      else this.value();
    });
    return wrapped ?? { id: own, start, end: this.i };
  }

  /** An event object; returns its usable ID or null. */
  private eventObject(): string | null {
    let id: string | null = null;
    this.each(() => {
      const key = this.key();
      if (this.is(key, KEY.eventId)) id = this.idValue();
      else this.value();
    });
    return id;
  }

  /** The value of `event_id`, as `parseEvent` reads it. */
  private idValue(): string | null {
    const start = this.i;
    const kind = this.value();
    if (kind !== 'string' && kind !== 'number') return null;
    const value =
      kind === 'string' && this.plain
        ? latin1(this.b, start + 1, this.i - 1)
        : (JSON.parse(decoder.decode(this.b.subarray(start, this.i))) as unknown);
    return eventIdText(value);
  }

  private pagination(): number | null {
    if (this.b[this.i] !== 0x7b) {
      this.value();
      return null;
    }
    let total: unknown;
    this.each(() => {
      const key = this.key();
      if (this.is(key, KEY.total)) {
        const start = this.i;
        const kind = this.value();
        total =
          kind === 'string' || kind === 'number'
            ? (JSON.parse(decoder.decode(this.b.subarray(start, this.i))) as unknown)
            : null;
      } else this.value();
    });
    return pageTotal(total);
  }

  /** Calls `member` for each member of the object at the cursor. */
  private each(member: () => void): void {
    this.enter();
    this.i++; // {
    this.space();
    if (this.b[this.i] === 0x7d) this.i++;
    else {
      do member();
      while (this.more(0x7d));
    }
    this.depth--;
  }

  /** A key and its colon; returns the key's byte range. Keys with escapes are not handled. */
  private key(): [number, number] {
    this.space();
    if (this.b[this.i] !== QUOTE) throw new NotHandled();
    const start = this.i + 1;
    this.string();
    if (!this.plain) throw new NotHandled();
    const end = this.i - 1;
    this.space();
    this.expect(0x3a); // :
    this.space();
    return [start, end];
  }

  private is([start, end]: [number, number], name: Uint8Array): boolean {
    if (end - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (this.b[start + k] !== name[k]) return false;
    return true;
  }

  /** After a member or element: `,` (another follows) or the closing byte (none does). */
  private more(close: number): boolean {
    this.space();
    const c = this.b[this.i];
    this.i++;
    if (c === 0x2c) {
      this.space();
      return true;
    }
    if (c === close) return false;
    throw new NotHandled();
  }

  /** Skips one value, checking its grammar; says what it was. */
  private value(): Kind {
    const c = this.b[this.i];
    if (c === QUOTE) {
      this.string();
      return 'string';
    }
    if (c === 0x7b) {
      this.each(() => {
        this.key();
        this.value();
      });
      return 'object';
    }
    if (c === 0x5b) {
      this.enter();
      this.i++;
      this.space();
      if (this.b[this.i] === 0x5d) this.i++;
      else {
        do this.value();
        while (this.more(0x5d));
      }
      this.depth--;
      return 'array';
    }
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      this.number();
      return 'number';
    }
    if (this.word('true') || this.word('false') || this.word('null')) return 'literal';
    throw new NotHandled();
  }

  /** A string at the cursor, checked as JSON.parse checks it; sets `plain`. */
  private string(): void {
    const b = this.b;
    let i = this.i + 1;
    let plain = true;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) throw new NotHandled();
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) if (!isHex(b[i + k])) throw new NotHandled();
          i += 6;
        } else if (
          e === QUOTE ||
          e === BACKSLASH ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        )
          i += 2;
        else throw new NotHandled();
        continue;
      }
      if (c >= 0x80) plain = false;
      i++;
    }
    this.i = i + 1;
    this.plain = plain;
  }

  /** `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` */
  private number(): void {
    const b = this.b;
    let i = this.i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i]) && b[i] !== 0x30) while (isDigit(b[i])) i++;
    else throw new NotHandled();
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) throw new NotHandled();
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) throw new NotHandled();
      while (isDigit(b[i])) i++;
    }
    this.i = i;
  }

  private word(text: string): boolean {
    for (let k = 0; k < text.length; k++) if (this.b[this.i + k] !== text.charCodeAt(k)) return false;
    this.i += text.length;
    return true;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new NotHandled();
  }

  private expect(c: number): void {
    if (this.b[this.i] !== c) throw new NotHandled();
    this.i++;
  }

  /** JSON's four whitespace bytes only, as JSON.parse. */
  private space(): void {
    const b = this.b;
    let c = b[this.i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.i];
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
  );
}

/** ASCII bytes (checked by the caller) as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
