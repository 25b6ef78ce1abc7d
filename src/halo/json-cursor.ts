/**
 * A cursor over JSON bytes that checks the grammar as strictly as `JSON.parse` (RFC 8259: JSON's four whitespace
 * bytes only, no control byte inside a string, exact escapes and numbers) without building anything. Whatever it
 * does not accept, or does not handle exactly, throws {@link NotHandled}: the caller then parses in full, and
 * `JSON.parse` gives the verdict. Used by `page-scan.ts`.
 */
export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 64;

/** Thrown inside a reader only: the body is not one it reads exactly, so the caller parses it in full. */
export class NotHandled extends Error {}

/** What a value turned out to be, for the few values whose content matters. */
export type Kind = 'object' | 'array' | 'string' | 'number' | 'literal';

export class JsonCursor {
  protected i = 0;
  protected depth = 0;
  /** Whether the last string read had an escape or a non-ASCII byte (its text then needs a real decode). */
  protected plain = true;

  constructor(protected readonly b: Uint8Array) {}

  /** Calls `member` for each member of the object at the cursor. */
  protected each(member: () => void): void {
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
  protected key(): [number, number] {
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

  protected is([start, end]: [number, number], name: Uint8Array): boolean {
    if (end - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (this.b[start + k] !== name[k]) return false;
    return true;
  }

  /** After a member or element: `,` (another follows) or the closing byte (none does). */
  protected more(close: number): boolean {
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
  protected value(): Kind {
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
  protected string(): void {
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
  protected number(): void {
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

  protected word(text: string): boolean {
    for (let k = 0; k < text.length; k++) if (this.b[this.i + k] !== text.charCodeAt(k)) return false;
    this.i += text.length;
    return true;
  }

  protected enter(): void {
    if (++this.depth > MAX_DEPTH) throw new NotHandled();
  }

  protected expect(c: number): void {
    if (this.b[this.i] !== c) throw new NotHandled();
    this.i++;
  }

  /** JSON's four whitespace bytes only, as JSON.parse. */
  protected space(): void {
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
