import { describe, expect, it } from 'vitest';
import { createRedactor, redactAndCut, stripUrlCredentials } from '../../src/redact.ts';

const KEY = 'halo-api-key-0123456789abcdef';
const TOKEN = 'xoxb-1111-2222-abcdefghijklmnop';

describe('createRedactor', () => {
  const redact = createRedactor([KEY, TOKEN, 'short', '']);

  it('replaces each secret whole, in any letter case', () => {
    expect(redact(`a ${KEY} b ${TOKEN.toUpperCase()} c`)).toBe('a [redacted] b [redacted] c');
  });

  it('replaces 8 or more of a secret’s characters in a row, from anywhere in it, and no fewer', () => {
    expect(redact(`cut: ${KEY.slice(0, 8)}| ${TOKEN.slice(0, 20)}… ${KEY.slice(0, 7)} ${KEY.slice(3)}`)).toBe(
      `cut: [redacted]| [redacted]… ${KEY.slice(0, 7)} [redacted]`,
    );
    expect(redact(`mid ${KEY.slice(9, 17)} and ${KEY.slice(9, 16)}`)).toBe(
      `mid [redacted] and ${KEY.slice(9, 16)}`,
    );
  });
});

// Issue 23, item 4: Halo's error text quoted the API key from its 5th character on, split by a zero-width
// character, URL-encoded and base64-encoded, and each was shown verbatim.
describe('createRedactor: a 32-character key in the forms an outside probe used', () => {
  const API_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
  const redact = createRedactor([API_KEY]);

  it('its tail from the 5th character on (28 of 32)', () => {
    expect(redact(`bad key ${API_KEY.slice(4)}.`)).toBe('bad key [redacted].');
  });

  it('split by zero-width characters, or a soft hyphen', () => {
    const split = `${API_KEY.slice(0, 10)}\u200b${API_KEY.slice(10, 20)}\u00ad\u2060${API_KEY.slice(20)}`;
    expect(redact(`key "${split}" bad`)).toBe('key "[redacted]" bad');
  });

  it('URL-encoded, wholly or in part', () => {
    const every = Array.from(API_KEY, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('');
    const some = `${API_KEY.slice(0, 6)}%${API_KEY.charCodeAt(6).toString(16)}${API_KEY.slice(7)}`;
    expect(redact(`?k=${every}&x=1 ?k=${some}&x=2`)).toBe('?k=[redacted]&x=1 ?k=[redacted]&x=2');
  });

  it('base64-encoded at any byte offset, in either alphabet', () => {
    for (const before of ['', 'x', 'xy']) {
      const encoded = Buffer.from(`key: ${before}${API_KEY}; done`).toString('base64');
      expect(redact(encoded)).toMatch(/^[\w+/]{4,16}\[redacted\][\w+/=]{0,12}$/);
      const url = Buffer.from(`key: ${before}${API_KEY}; done`).toString('base64url');
      expect(redact(url)).toMatch(/^[\w-]{4,16}\[redacted\][\w-]{0,12}$/);
    }
  });

  it('leaves ordinary text with 7 of its characters, or none, alone', () => {
    const text = `id ${API_KEY.slice(3, 10)} at 2026-01-01 12:34; ${'x'.repeat(40)} ${Buffer.from('hello world').toString('base64')}`;
    expect(redact(text)).toBe(text);
  });

  it('leaves secrets shorter than 6 characters alone, and text without secrets as it is', () => {
    expect(redact('a short word')).toBe('a short word');
    expect(createRedactor([])('nothing to hide')).toBe('nothing to hide');
  });

  it('treats characters of a secret that mean something in a pattern literally', () => {
    const odd = createRedactor(['a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o/p']);
    expect(odd('x a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o/p y a.b*c+d?eXf z')).toBe('x [redacted] y [redacted]Xf z');
    expect(odd('axb*c+d?e')).toBe('axb*c+d?e');
  });
});

describe('stripUrlCredentials', () => {
  it("removes a URL's user info, wherever the URL is", () => {
    expect(
      stripUrlCredentials(
        'fetch https://bot:pa55@halo.example/api failed; see "postgres://u@db/x" and ftp://a:b@c',
      ),
    ).toBe(
      'fetch https://[redacted]@halo.example/api failed; see "postgres://[redacted]@db/x" and ftp://[redacted]@c',
    );
  });

  it('leaves an @ in a path, query or e-mail address alone', () => {
    const text = 'https://halo.example/users/@me?by=a@b.c mailto:someone@example.com';
    expect(stripUrlCredentials(text)).toBe(text);
  });
});

describe('redactAndCut', () => {
  it('redacts first, so that a secret across the cut leaves nothing behind', () => {
    const text = `${'x'.repeat(290)}${KEY} more`;
    expect(redactAndCut(text, createRedactor([KEY]), 300)).toBe(`${'x'.repeat(290)}[redacted]`);
  });

  it('never splits a surrogate pair', () => {
    expect(redactAndCut('ab😀c', (t) => t, 3)).toBe('ab');
    expect(redactAndCut('ab😀c', (t) => t, 4)).toBe('ab😀');
  });
});
