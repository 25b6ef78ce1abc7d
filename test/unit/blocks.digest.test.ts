import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { summarizeDigest } from '../../src/domain/digest.ts';
import { severityTable } from '../../src/domain/severity.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import {
  checkLimits,
  renderDigest,
  type ListCommand,
  type SlackMessage,
} from '../../src/slack/blocks/index.ts';

function halo(
  eventId: string,
  key: string,
  targetId: number | null,
  host = `host${targetId ?? ''}.example.com`,
) {
  return {
    eventId,
    subject: `Subject of ${key}`,
    dateCreated: '2024-05-01 12:30',
    key,
    url: `https://app.halosecurity.com/event/${eventId}`,
    target: targetId === null && host === '' ? null : { name: '', id: targetId, host },
  } satisfies HaloEvent;
}

const listCommand: ListCommand = (filter) =>
  filter.key !== undefined
    ? `/halo events key:${filter.key}`
    : `/halo events target:${filter.target_id ?? ''}`;

const sectionTexts = (message: SlackMessage): string[] =>
  message.blocks.flatMap((b) => (b.type === 'section' && b.text !== undefined ? [b.text.text] : []));

/** Every `&` an entity, and `<`/`>` only in our own `<https://…|View>` links. */
function expectEscaped(message: SlackMessage): void {
  const texts = [
    message.text,
    ...sectionTexts(message),
    ...message.blocks.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : [])),
  ];
  for (const text of texts) {
    const rest = text.replace(/<https?:\/\/[^<>|\s]+\|View>/g, '');
    expect(rest.match(/[<>]|&(?!amp;|lt;|gt;)/g), text).toBeNull();
  }
}

describe('summarizeDigest', () => {
  const events = [
    halo('1', 'domain-add', 1),
    halo('2', 'target-scan-start', 2),
    halo('3', 'target-scan-start', 1),
    halo('4', 'account-user-add', null, ''),
    halo('5', 'domain-add', 2),
    halo('6', 'website-cert-risk', null, 'nohost-id.example.com'),
    halo('7', 'website-cert-risk', 3, 'host2.example.com'),
  ];

  it('counts by key and by target, most first, ties by key or host', () => {
    expect(summarizeDigest(events)).toEqual({
      total: 7,
      byKey: [
        { key: 'domain-add', subject: 'Subject of domain-add', count: 2 },
        { key: 'target-scan-start', subject: 'Subject of target-scan-start', count: 2 },
        { key: 'website-cert-risk', subject: 'Subject of website-cert-risk', count: 2 },
        { key: 'account-user-add', subject: 'Subject of account-user-add', count: 1 },
      ],
      byTarget: [
        { targetId: 1, host: 'host1.example.com', count: 2 },
        { targetId: 2, host: 'host2.example.com', count: 2 },
        { targetId: null, host: '', count: 1 },
        // Same host as target 2 but another target: grouped by ID, not by host.
        { targetId: 3, host: 'host2.example.com', count: 1 },
        { targetId: null, host: 'nohost-id.example.com', count: 1 },
      ],
      // Most severe first (website-cert-risk is high, account-user-add medium, domain-add low, scans info), then
      // newest (all share a date here), then the higher ID: not the order they arrived in.
      sample: [7, 6, 4, 5, 1].map((id) => events[id - 1]),
      highest: 'high',
    });
  });

  it('ranks examples by severity, then newest, whatever their arrival order, and names the highest level', () => {
    const at = (eventId: string, key: string, dateCreated: string): HaloEvent => ({
      ...halo(eventId, key, 1),
      dateCreated,
    });
    const arrived = [
      at('a', 'domain-add', '2026-11-29 10:00'),
      at('b', 'issue-new', '2026-11-29 09:00'),
      at('c', 'target-scan-start', '2026-11-29 11:00'),
      at('d', 'issue-new', '2026-11-29 10:30'),
      at('e', 'account-user-add', '2026-11-29 08:00'),
      at('f', 'domain-add', '2026-11-29 12:00'),
    ];
    const summary = summarizeDigest(arrived, { sampleSize: 6 });
    expect(summary.sample.map((e) => `${e.eventId} ${e.key} ${e.dateCreated}`)).toEqual([
      'd issue-new 2026-11-29 10:30',
      'b issue-new 2026-11-29 09:00',
      'e account-user-add 2026-11-29 08:00',
      'f domain-add 2026-11-29 12:00',
      'a domain-add 2026-11-29 10:00',
      'c target-scan-start 2026-11-29 11:00',
    ]);
    expect(summary.highest).toBe('high');
    // HALO_SEVERITY moves an event up: the table with overrides ranks it.
    const critical = summarizeDigest(arrived, {
      sampleSize: 1,
      severityOf: severityTable({ 'target-scan-start': 'critical' }),
    });
    expect(critical.sample.map((e) => e.eventId)).toEqual(['c']);
    expect(critical.highest).toBe('critical');
    const message = renderDigest(summary, listCommand);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':red_circle: High · 6 new Halo events', emoji: true },
    });
    expect(message.color).toBe('#E01E5A');
    expect(message.text.startsWith('High: 6 new Halo events')).toBe(true);
  });

  it('keeps sampleSize events as plain copies and survives a JSON round trip', () => {
    const withExtra = events.map((e) => ({ ...e, raw: { secret: 'not stored' } }));
    const summary = summarizeDigest(withExtra, { sampleSize: 2 });
    expect(summary.sample).toEqual([events[6], events[5]]);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(summarizeDigest(events, { sampleSize: 0 }).sample).toEqual([]);
    expect(summarizeDigest([]).byKey).toEqual([]);
  });

  it('rejects a bad sampleSize', () => {
    expect(() => summarizeDigest(events, { sampleSize: -1 })).toThrow(
      'Expected `sampleSize` to be an integer >= 0, got -1',
    );
    expect(() => summarizeDigest(events, { sampleSize: 1.5 })).toThrow(RangeError);
  });
});

describe('renderDigest', () => {
  it('renders counts, examples and how to list them', () => {
    const events = [
      halo('1', 'domain-add', 1),
      halo('2', 'target-scan-start', 2),
      halo('3', 'domain-add', 1),
    ];
    expect(renderDigest(summarizeDigest(events), listCommand)).toEqual({
      text: 'Low: 3 new Halo events: Subject of domain-add (2), Subject of target-scan-start (1)',
      color: '#36C5F0',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: ':small_blue_diamond: Low · 3 new Halo events', emoji: true },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*By event type*\n• *2* Subject of domain-add `domain-add`\n• *1* Subject of target-scan-start `target-scan-start`',
            verbatim: true,
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*By target*\n• *2* host1.example.com · ID 1\n• *1* host2.example.com · ID 2',
            verbatim: true,
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: [
              '*Most severe first*',
              `• :small_blue_diamond: Low · Subject of domain-add · host1.example.com · <!date^1714566600^{date_short_pretty} {time}|2024-05-01 12:30 UTC> · <https://app.halosecurity.com/event/3|View>`,
              `• :small_blue_diamond: Low · Subject of domain-add · host1.example.com · <!date^1714566600^{date_short_pretty} {time}|2024-05-01 12:30 UTC> · <https://app.halosecurity.com/event/1|View>`,
              `• :information_source: Info · Subject of target-scan-start · host2.example.com · <!date^1714566600^{date_short_pretty} {time}|2024-05-01 12:30 UTC> · <https://app.halosecurity.com/event/2|View>`,
            ].join('\n'),
            verbatim: true,
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'List the most common type with `/halo events key:domain-add` or the busiest target with `/halo events target:1`',
              verbatim: true,
            },
          ],
        },
      ],
    });
  });

  it('says "event" for one, and "List them" when there is one type and one target', () => {
    const message = renderDigest(summarizeDigest([halo('1', 'domain-add', 5)]), listCommand);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':small_blue_diamond: Low · 1 new Halo event', emoji: true },
    });
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'List them with `/halo events key:domain-add` or `/halo events target:5`',
          verbatim: true,
        },
      ],
    });
  });

  it('escapes Halo text, links only http(s) URLs and escapes the command', () => {
    const event: HaloEvent = {
      ...halo('1', '<!channel>`', null, '<@U1> & co'),
      subject: '<!here> `x`',
      url: 'javascript:alert(1)',
    };
    const message = renderDigest(summarizeDigest([event]), () => '/halo events <!channel>');
    expect(sectionTexts(message)).toEqual([
      '*By event type*\n• *1* &lt;!here&gt; ˋxˋ `&lt;!channel&gt;ˋ`',
      '*By target*\n• *1* &lt;@U1&gt; &amp; co',
      `*Most severe first*\n• :large_orange_diamond: Medium · &lt;!here&gt; \`x\` · &lt;@U1&gt; &amp; co · <!date^1714566600^{date_short_pretty} {time}|2024-05-01 12:30 UTC>`,
    ]);
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'List them with `/halo events &lt;!channel&gt;`', verbatim: true }],
    });
    expect(message.text).toBe('Medium: 1 new Halo event: &lt;!here&gt; `x` (1)');
  });

  it('folds newlines and removes zero-width characters in every example row', () => {
    const event: HaloEvent = {
      ...halo('1', 'port-open\n*Fake*', 1, 'pay\u200Bpal.com\nx'),
      subject: 'Port\u2060 open\n*Fake*',
      dateCreated: '2024-05-01\n*Fake* 12:30\uFEFF',
    };
    const message = renderDigest(summarizeDigest([event]), listCommand);
    expect(sectionTexts(message)[2]).toBe(
      `*Most severe first*\n• :red_circle: High · Port open *Fake* · paypal.com x · 2024-05-01 *Fake* 12:30 · <https://app.halosecurity.com/event/1|View>`,
    );
  });

  it('shows ten rows, then how many more, and stays within limits for 10,000 events', () => {
    const long = (n: number) => `${'&<'.repeat(250)}${n}`;
    const events: HaloEvent[] = Array.from({ length: 10_000 }, (_, i) => ({
      eventId: String(i),
      subject: long(i),
      dateCreated: long(i),
      key: `key-${i % 37}-${'`'.repeat(300)}`,
      url: `https://app.halosecurity.com/event/${i}?${'q=&'.repeat(i % 2 === 0 ? 10 : 2000)}`,
      target: { name: long(i), id: i % 501, host: long(i) },
    }));
    const summary = summarizeDigest(events, { sampleSize: 50 });
    expect(summary.total).toBe(10_000);
    expect(summary.byKey).toHaveLength(37);
    expect(summary.byTarget).toHaveLength(501);

    const message = renderDigest(
      summary,
      (filter) => `/halo events ${JSON.stringify(filter)}${'x'.repeat(5000)}`,
    );
    expect(checkLimits(message)).toEqual([]);
    expectEscaped(message);
    const [byKey, byTarget, sample] = sectionTexts(message);
    expect(byKey).toMatch(/\nand 27 more types$/);
    expect(byTarget).toMatch(/\nand 491 more targets$/);
    expect(sample).toMatch(/\nand \d+ more events$/);
  });

  it('renders just the header for an empty summary', () => {
    const message = renderDigest(summarizeDigest([]), listCommand);
    expect(message).toEqual({
      text: '0 new Halo events',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: '0 new Halo events', emoji: true } }],
    });
  });

  it('stays within limits for any events and command', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '&', '<', '>', '`', '|', '\n', '\u202E', '😀'),
      maxLength: 600,
    });
    const arbEvent = fc.record({
      eventId: fc.string({ maxLength: 20 }),
      subject: text,
      dateCreated: text,
      key: fc.oneof(fc.constantFrom('a', 'b', 'c'), text),
      url: fc.oneof(fc.webUrl(), text),
      target: fc.option(fc.record({ name: text, id: fc.option(fc.nat({ max: 20 })), host: text }), {
        nil: null,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(arbEvent, { maxLength: 60 }),
        fc.nat({ max: 30 }),
        text,
        (events, sampleSize, cmd) => {
          const message = renderDigest(summarizeDigest(events, { sampleSize }), () => cmd);
          expect(checkLimits(message)).toEqual([]);
          expectEscaped(message);
        },
      ),
      { numRuns: 100 },
    );
  });
});
