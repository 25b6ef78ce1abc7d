import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastEventPage } from '../../src/halo/event-page.ts';
import { scanEventListBody } from '../../src/halo/page-scan.ts';
import { parseEventList, parseJson } from '../../src/halo/response-parse.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const scan = (text: string) => scanEventListBody(bytes(text));

/** What the full parse makes of a body, in the fast reader's terms; null when it is refused. */
function slow(body: Uint8Array) {
  const parsed = parseJson(new TextDecoder().decode(body));
  if (!parsed.ok) return null;
  const list = parseEventList(parsed.json);
  if (typeof list === 'string') return null;
  return {
    ids: list.items.map((e) => e.eventId),
    events: list.items,
    invalid: list.invalid,
    total: list.total,
  };
}

/** The fast reading must be the full parse's, or null (then the full parse runs): never anything else. */
function agrees(body: Uint8Array): void {
  const page = fastEventPage(body);
  if (page === null) return;
  const expected = slow(body);
  expect(expected).not.toBeNull();
  expect({ ids: page.ids, events: page.events(), invalid: page.invalid, total: page.total }).toEqual(
    expected,
  );
}

const EVENT = {
  event_id: 'id1',
  subject: 'Scan Started',
  date_created: '2024-01-01 00:00',
  key: 'target-scan-start',
  url: 'https://www.halosecurity.com/link?q=user-event&id=id1',
  target: { target_name: '', target_id: 1, target: 'www.example.com' },
};

describe('scanEventListBody: exact cases', () => {
  it("reads Halo's list: IDs, byte ranges of the events, total", () => {
    const body = JSON.stringify({
      request: { sort: 0 },
      pagination: { total: 2, start: 0, limit: 1000 },
      list: [{ event: EVENT }, { event: { ...EVENT, event_id: 'id2' } }],
    });
    const result = scan(body)!;
    expect(result).toMatchObject({ ids: ['id1', 'id2'], invalid: 0, total: 2 });
    expect(JSON.parse(body.slice(result.starts[0], result.ends[0]))).toEqual(EVENT);
    agrees(bytes(body));
  });

  it('counts entries without a usable ID as invalid, as the full parse does', () => {
    const body = JSON.stringify({
      list: [
        { event: { ...EVENT, event_id: '' } },
        { event: { ...EVENT, event_id: '   ' } },
        { event: { ...EVENT, event_id: 'x'.repeat(501) } },
        { event: { ...EVENT, event_id: null } },
        { event: null },
        { event: [] },
        7,
        'text',
        { event: { ...EVENT, event_id: 42 } },
        { ...EVENT, event_id: 'bare' },
        { event: { ...EVENT, event_id: 'ok' } },
        // PostgreSQL's text cannot hold U+0000; other control characters are kept (and escaped when shown).
        { event: { ...EVENT, event_id: 'nul\u0000' } },
        { event: { ...EVENT, event_id: 'tab\t' } },
      ],
    });
    expect(scan(body)).toMatchObject({ ids: ['42', 'bare', 'ok', 'tab\t'], invalid: 9, total: null });
    agrees(bytes(body));
  });

  it('keeps the last of duplicate keys, as JSON.parse does', () => {
    const body =
      '{"pagination":{"total":1},"list":[{"event":{"event_id":"a","subject":"s","event_id":"b"}}],' +
      '"pagination":{"total":"7","total":9}}';
    expect(scan(body)).toMatchObject({ ids: ['b'], total: 9 });
    agrees(bytes(body));
  });

  it('decodes IDs with escapes or non-ASCII text exactly', () => {
    const body = '{"list":[{"event":{"event_id":"\\u00e9v\\"1"}},{"event":{"event_id":"évé"}}]}';
    expect(scan(body)).toMatchObject({ ids: ['év"1', 'évé'] });
    agrees(bytes(body));
  });

  it.each([
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['an empty body', ''],
    ['truncated JSON', '{"list":[{"event":{"event_id":"a"}'],
    ['trailing text', '{"list":[]} x'],
    ['a raw control character in a string', '{"list":[{"event":{"event_id":"a","subject":"x\ty"}}]}'],
    ['a bad escape', '{"list":[{"event":{"event_id":"a","subject":"\\x"}}]}'],
    ['a leading zero', '{"list":[{"event":{"event_id":"a","n":01}}]}'],
    ['a trailing comma', '{"list":[{"event":{"event_id":"a"}},]}'],
    ['a single quote', "{'list':[]}"],
    ['no list', '{"code":401,"message":"Unauthorized"}'],
    ['a list that is not an array', '{"list":{}}'],
    ['two lists', '{"list":[],"list":[]}'],
    ['a byte-order mark', '\ufeff{"list":[]}'],
    ['an escaped key', '{"l\\u0069st":[]}'],
    ['a top-level array', '[{"event":{"event_id":"a"}}]'],
  ])('leaves %s to the full parse', (_, body) => {
    expect(scan(body)).toBeNull();
  });

  it('reads nesting deeper than the common entry, and leaves absurd nesting to the full parse', () => {
    const deep = `{"list":[{"event":{"event_id":"a","x":{"y":{"z":[1,[2,{"w":null}]]}}}}]}`;
    expect(scan(deep)).toMatchObject({ ids: ['a'] });
    agrees(bytes(deep));
    const absurd = `{"list":[{"event":{"event_id":"a","x":${'['.repeat(100)}${']'.repeat(100)}}}]}`;
    expect(scan(absurd)).toBeNull();
  });
});

// Random bodies, built from pieces that reach every branch, and random damage to real ones.
const idValue = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('', ' ', 'id1', 'x'.repeat(501), 'é', '\u2028'),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
);
const event = fc.record(
  {
    event_id: idValue,
    subject: fc.string({ maxLength: 8 }),
    target: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(EVENT.target)),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);
const entry = fc.oneof(
  fc.record({ event }),
  event,
  fc.record({ event: fc.jsonValue({ maxDepth: 2 }) }),
  fc.jsonValue({ maxDepth: 2 }),
);
const total = fc.oneof(fc.integer({ min: -5, max: 10 ** 7 }), fc.string({ maxLength: 4 }), fc.jsonValue());
const body = fc.record(
  {
    request: fc.jsonValue({ maxDepth: 1 }),
    pagination: fc.oneof(fc.record({ total }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
    list: fc.oneof(fc.array(entry, { maxLength: 6 }), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);
// Whitespace where JSON allows it, so the reader's handling of it is exercised too.
const spaced = (text: string, seed: number): string =>
  text.replace(/([{}[\],:])/g, (c, _, at: number) => ((at * 31 + seed) % 5 === 0 ? ` \n${c}\t\r` : c));

describe('scanEventListBody: agrees with the full parse', () => {
  it('on random list bodies', () => {
    fc.assert(
      fc.property(body, fc.nat(4), (value, seed) => {
        agrees(bytes(spaced(JSON.stringify(value), seed)));
      }),
      { numRuns: 2000 },
    );
  });

  it('on damaged bodies: cut, a byte changed, or a byte inserted', () => {
    const real = JSON.stringify({
      pagination: { total: 3 },
      list: [{ event: EVENT }, { event: { ...EVENT, event_id: 'é\\"' } }, { ...EVENT, event_id: 7 }],
    });
    const raw = bytes(real);
    const damage = fc.oneof(
      fc.nat(raw.length).map((at) => raw.slice(0, at)),
      fc.tuple(fc.nat(raw.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, b]) => {
        const copy = raw.slice();
        copy[at] = b;
        return copy;
      }),
      fc.tuple(fc.nat(raw.length), fc.integer({ min: 0, max: 255 })).map(([at, b]) => {
        const copy = new Uint8Array(raw.length + 1);
        copy.set(raw.subarray(0, at));
        copy[at] = b;
        copy.set(raw.subarray(at), at + 1);
        return copy;
      }),
    );
    fc.assert(fc.property(damage, agrees), { numRuns: 3000 });
  });
});
