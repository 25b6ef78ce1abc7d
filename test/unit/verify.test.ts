import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBody } from '../../src/slack/http-receiver.ts';
import { HTTP_LIMITS } from '../../src/slack/server.ts';
import { acceptedTimestamp, validSignature } from '../../src/slack/verify.ts';

const NOW_MS = 1_700_000_000_000;
const NOW = '1700000000';

describe('acceptedTimestamp', () => {
  it('takes a whole number of seconds within five minutes either way', () => {
    expect(acceptedTimestamp(NOW, NOW_MS)).toBe(1_700_000_000);
    expect(acceptedTimestamp('1700000300', NOW_MS)).toBe(1_700_000_300);
    expect(acceptedTimestamp('1699999700', NOW_MS)).toBe(1_699_999_700);
  });

  it('refuses anything further away, and anything that is not plain digits', () => {
    for (const header of [
      '1700000301',
      '1699999699',
      'Infinity',
      '-Infinity',
      '1e400',
      '1.7e9',
      '1700000000.5',
      '1700000000e0',
      ' 1700000000',
      '+1700000000',
      '0x6553f100',
      'NaN',
      '',
      '9'.repeat(400),
      undefined,
    ]) {
      expect(acceptedTimestamp(header, NOW_MS), String(header)).toBeNull();
    }
  });
});

describe('validSignature', () => {
  const secret = 'test-secret-0123456789';
  const body = Buffer.from('token=x&text=%E2%9C%93');
  const sign = (ts: string, bytes: Buffer, key = secret): string =>
    `v0=${createHmac('sha256', key).update(`v0:${ts}:`).update(bytes).digest('hex')}`;

  it('accepts the HMAC of the exact bytes with the exact timestamp text', () => {
    expect(validSignature(secret, NOW, sign(NOW, body), body)).toBe(true);
  });

  it('refuses another secret, body, timestamp text, or a malformed header', () => {
    expect(validSignature(secret, NOW, sign(NOW, body, 'other-secret-0123456'), body)).toBe(false);
    expect(validSignature(secret, NOW, sign(NOW, body), Buffer.from('token=x&text=y'))).toBe(false);
    expect(validSignature(secret, NOW, sign('1700000001', body), body)).toBe(false);
    // Bytes that decode to the same text (invalid UTF-8 both ways) are still different bytes.
    const a = Buffer.from([0x61, 0xff]);
    const b = Buffer.from([0x61, 0xfe]);
    expect(a.toString('utf8')).toBe(b.toString('utf8'));
    expect(validSignature(secret, NOW, sign(NOW, a), b)).toBe(false);
    for (const header of [undefined, '', 'v0=', 'v1=' + 'a'.repeat(64), `v0=${'g'.repeat(64)}`, 'v0=abc']) {
      expect(validSignature(secret, NOW, header, body), String(header)).toBe(false);
    }
    expect(validSignature('', NOW, sign(NOW, body, ''), body)).toBe(false);
  });
});

describe('parseBody', () => {
  it('reads a form, a form carrying a JSON payload, and JSON', () => {
    expect(parseBody(true, 'command=%2Fhalo&text=help')).toEqual({ command: '/halo', text: 'help' });
    expect(parseBody(true, `payload=${encodeURIComponent('{"type":"block_actions"}')}`)).toEqual({
      type: 'block_actions',
    });
    expect(parseBody(false, '{"type":"event_callback"}')).toEqual({ type: 'event_callback' });
  });

  it('refuses what is not one plain object, and repeated form fields', () => {
    for (const [form, text] of [
      [true, 'payload=null'],
      [true, 'payload=42'],
      [true, 'payload=%5B%5D'],
      [true, 'payload=not-json'],
      [true, 'text=a&text=b'],
      [false, 'null'],
      [false, '[]'],
      [false, '"x"'],
      [false, 'command=%2Fhalo'],
    ] as const) {
      expect(parseBody(form, text), text).toBeNull();
    }
  });
});

describe('HTTP_LIMITS', () => {
  it('are the values docs/security.md states', () => {
    const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const stated =
      /at most \*\*(\d+)\*\* connections at once .*? request headers within \*\*(\d+) s\*\*, a whole request within \*\*(\d+) s\*\*, idle keep-alive connections closed after \*\*(\d+) s\*\*/.exec(
        doc,
      );
    expect(stated).not.toBeNull();
    expect(HTTP_LIMITS).toEqual({
      maxConnections: Number(stated![1]),
      headersTimeoutMs: Number(stated![2]) * 1000,
      requestTimeoutMs: Number(stated![3]) * 1000,
      keepAliveTimeoutMs: Number(stated![4]) * 1000,
      checkIntervalMs: 1000,
    });
  });
});
