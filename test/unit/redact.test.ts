import { describe, expect, it } from 'vitest';
import { createRedactor, redactAndCut, stripUrlCredentials } from '../../src/redact.ts';

const KEY = 'halo-api-key-0123456789abcdef';
const TOKEN = 'xoxb-1111-2222-abcdefghijklmnop';

describe('createRedactor', () => {
  const redact = createRedactor([KEY, TOKEN, 'short', '']);

  it('replaces each secret whole, in any letter case', () => {
    expect(redact(`a ${KEY} b ${TOKEN.toUpperCase()} c`)).toBe('a [redacted] b [redacted] c');
  });

  it('replaces 8 or more of a secret’s leading characters, and only those', () => {
    expect(redact(`cut: ${KEY.slice(0, 8)}| ${TOKEN.slice(0, 20)}… ${KEY.slice(0, 7)} ${KEY.slice(3)}`)).toBe(
      `cut: [redacted]| [redacted]… ${KEY.slice(0, 7)} ${KEY.slice(3)}`,
    );
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
