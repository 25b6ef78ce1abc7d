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
 * `parseEvent` itself, only when someone asks for them (`EventPage.events`).
 */
import { JsonCursor, NotHandled } from './json-cursor.ts';
import { eventIdText, pageTotal } from './response-parse.ts';

export interface ListScan {
  /** The ID of each valid entry, in order. */
  readonly ids: string[];
  /** Byte range of each valid entry's event object: `bytes.subarray(starts[i], ends[i])` is its JSON. */
  readonly starts: number[];
  readonly ends: number[];
  readonly invalid: number;
  readonly total: number | null;
}

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

class Reader extends JsonCursor {
  constructor(
    bytes: Uint8Array,
    /** The same bytes as Latin-1 text, for COMMON_ENTRY. */
    private readonly text: string,
  ) {
    super(bytes);
  }

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
}

/** ASCII bytes (checked by the caller) as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
