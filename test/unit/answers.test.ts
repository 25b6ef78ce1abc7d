import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/command-parse.ts';
import {
  NEXT_PAGE_ACTION_ID,
  renderAnswer,
  renderEventList,
  renderHelp,
  renderStatus,
  severityNotes,
  renderSubscribed,
  renderSubscriptions,
  renderTypes,
  renderUsageError,
} from '../../src/slack/blocks/answer-message.ts';
import type { EventListPage, StatusView } from '../../src/commands/answers.ts';
import { USAGE, helpText } from '../../src/commands/usage.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import { checkLimits, type Block, type SlackMessage } from '../../src/slack/blocks/index.ts';
import type { Subscription } from '../../src/pipeline/store-port.ts';

const AT = Date.UTC(2024, 4, 1, 12, 30);
const DATE = '<!date^1714566600^{date_short_pretty} {time}|2024-05-01T12:30:00.000Z>';

/** Every renderer's output must be a message Slack accepts. */
function valid(message: SlackMessage): SlackMessage {
  expect(checkLimits(message)).toEqual([]);
  return message;
}

const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text, verbatim: true },
});

function halo(n: number, overrides: Partial<HaloEvent> = {}): HaloEvent {
  return {
    eventId: `ev-${n}`,
    subject: 'Scan Started',
    dateCreated: `2024-05-01 12:${String(n).padStart(2, '0')}`,
    key: 'target-scan-start',
    url: `https://www.halosecurity.com/link?q=user-event&id=ev-${n}`,
    target: { name: '', id: 1, host: 'www.example.com' },
    ...overrides,
  };
}

/** Halo's `2024-05-01 12:0n` (UTC) as Slack shows it in each reader's zone. */
const date = (n: number): string =>
  `<!date^${1714564800 + 60 * n}^{date_short_pretty} {time}|2024-05-01 12:${String(n).padStart(2, '0')} UTC>`;

const line = (n: number): string =>
  `:information_source: Info · *<https://www.halosecurity.com/link?q=user-event&amp;id=ev-${n}|Scan Started>* on www.example.com\n` +
  `\`target-scan-start\` · ${date(n)} · ID \`ev-${n}\``;

function page(events: HaloEvent[], overrides: Partial<EventListPage> = {}): EventListPage {
  return { filter: {}, pageSize: 2, page: 0, events, total: events.length, truncated: false, ...overrides };
}

const nextButton = (value: string): Block => ({
  type: 'actions',
  block_id: 'halo_events_pager',
  elements: [
    {
      type: 'button',
      text: { type: 'plain_text', text: 'Next page' },
      action_id: NEXT_PAGE_ACTION_ID,
      value,
    },
  ],
});

describe('renderEventList', () => {
  const events = [halo(3), halo(2), halo(1)];

  it('shows the first page with a Next page button that names the next page', () => {
    expect(valid(renderEventList(page(events)))).toEqual({
      text: '3 Halo events, page 1 of 2',
      blocks: [
        section('*3 events* matching all events, newest first — page 1 of 2'),
        { type: 'divider' },
        section(line(3)),
        section(line(2)),
        nextButton('{"f":{},"s":2,"p":1}'),
      ],
    });
  });

  it('shows the last page without a button', () => {
    expect(valid(renderEventList(page(events, { page: 1 })))).toEqual({
      text: '3 Halo events, page 2 of 2',
      blocks: [
        section('*3 events* matching all events, newest first — page 2 of 2'),
        { type: 'divider' },
        section(line(1)),
      ],
    });
  });

  it('says "1 event" for one', () => {
    expect(valid(renderEventList(page([halo(1)])))).toEqual({
      text: '1 Halo event, page 1 of 1',
      blocks: [
        section('*1 event* matching all events, newest first — page 1 of 1'),
        { type: 'divider' },
        section(line(1)),
      ],
    });
  });

  it('carries the filter in the button and shows it as the command to type', () => {
    const filter = { key: 'target-scan-start', target_id: 42, subject: 'Scan Started' };
    const message = valid(renderEventList(page(events, { filter })));
    expect(message.blocks[0]).toEqual(
      section(
        '*3 events* matching `/halo events key:target-scan-start target:42 subject:"Scan Started"`, newest first — page 1 of 2',
      ),
    );
    expect(message.blocks.at(-1)).toEqual(
      nextButton('{"f":{"key":"target-scan-start","target_id":42,"subject":"Scan Started"},"s":2,"p":1}'),
    );
  });

  it('says when the list is cut short', () => {
    const message = valid(renderEventList(page(events, { pageSize: 20, total: 50_000, truncated: true })));
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Halo holds 50000 matching events; only the first 3 were read. Add filters to narrow the list.',
          verbatim: true,
        },
      ],
    });
  });

  it('answers an empty list and a page past the end', () => {
    expect(valid(renderEventList(page([], { filter: { key: 'domain-add' } })))).toEqual({
      text: 'No events',
      blocks: [
        section(
          'No Halo events match `/halo events key:domain-add`. If the key is mistyped, `/halo types` lists every event type and its key.',
        ),
      ],
    });
    expect(valid(renderEventList(page([]))).blocks).toEqual([
      section('No Halo events match all events. `/halo types` lists the event types to filter by.'),
    ]);
    expect(valid(renderEventList(page(events, { page: 2 })))).toEqual({
      text: 'That page is empty now: the events may have changed. Run the command again.',
      blocks: [section('That page is empty now: the events may have changed. Run the command again.')],
    });
  });

  it('escapes Halo text once, links only http(s) URLs, and keeps each event on its two lines', () => {
    const odd = halo(1, {
      subject: 'Tom & Jerry <!channel>\nsecond line',
      key: 'key`with\nnewline',
      dateCreated: '2024-05-01\n12:01',
      eventId: 'id <@U123>',
      url: 'javascript:alert(1)',
      target: { name: '', id: 1, host: 'evil.example\n<!here>' },
    });
    const linked = halo(2, { subject: 'Tom & Jerry <b>', url: 'https://x.example/?a=1&b=<2>' });
    const message = valid(renderEventList(page([odd, linked])));
    expect(message.blocks[2]).toEqual(
      section(
        ':large_orange_diamond: Medium · *Tom &amp; Jerry &lt;!channel&gt; second line* on evil.example &lt;!here&gt;\n' +
          '`key\u02CBwith newline` · 2024-05-01 12:01 · ID `id &lt;@U123&gt;`',
      ),
    );
    expect(message.blocks[3]).toEqual(
      section(
        ':information_source: Info · *<https://x.example/?a=1&amp;b=%3C2%3E|Tom &amp; Jerry &lt;b&gt;>* on www.example.com\n' +
          `\`target-scan-start\` · ${date(2)} · ID \`ev-2\``,
      ),
    );
  });

  it('shows what an event lacks without stray separators', () => {
    const bare: HaloEvent = { eventId: 'e1', subject: '', dateCreated: '', key: '', url: '', target: null };
    expect(valid(renderEventList(page([bare]))).blocks[2]).toEqual(
      section(':large_orange_diamond: Medium · *(no subject)*\nID `e1`'),
    );
  });

  it('drops a link too long for the section rather than break the message', () => {
    const long = halo(1, { url: `https://www.halosecurity.com/${'a'.repeat(3000)}` });
    const message = valid(renderEventList(page([long])));
    expect(message.blocks[2]).toEqual(
      section(
        `:information_source: Info · *Scan Started* on www.example.com\n\`target-scan-start\` · ${date(1)} · ID \`ev-1\``,
      ),
    );
  });

  it('stays within limits for 20 events of the longest fields', () => {
    const big = Array.from({ length: 25 }, (_, i) =>
      halo(i, {
        eventId: `${'&'.repeat(400)}${i}`,
        subject: '&'.repeat(1000),
        key: '<'.repeat(500),
        dateCreated: '>'.repeat(100),
        url: `https://x.example/${'&'.repeat(900)}`,
        target: { name: 'n', id: i, host: '&'.repeat(500) },
      }),
    );
    const message = valid(renderEventList(page(big, { pageSize: 20, total: 99_999, truncated: true })));
    expect(message.blocks).toHaveLength(24);
  });

  it('leaves out the button rather than send a value Slack refuses', () => {
    const filter = { subject: '\u0001'.repeat(200), detail: '\u0001'.repeat(200) };
    const message = valid(renderEventList(page(events, { filter })));
    expect(message.blocks.map((b) => b.type)).toEqual(['section', 'divider', 'section', 'section']);
  });
});

describe('renderTypes', () => {
  const types = [
    { subject: 'API Key Added', key: 'account-apikey-add' },
    { subject: '', key: 'domain-add' },
    { subject: 'A & B\n<!channel>', key: 'a`b' },
  ];

  it('lists subject and key under a header', () => {
    expect(valid(renderTypes(types, ''))).toEqual({
      text: '3 Halo event types',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '3 Halo event types' } },
        section(
          '• API Key Added — `account-apikey-add`\n' +
            '• (no subject) — `domain-add`\n' +
            '• A &amp; B &lt;!channel&gt; — `a\u02CBb`\n' +
            'Subscribe a channel with `/halo subscribe key:KEY`.',
        ),
      ],
    });
  });

  it('echoes the query escaped, in the header as plain text', () => {
    const message = valid(renderTypes(types.slice(0, 1), '<!here> & co'));
    expect(message.text).toBe('1 event type matching “&lt;!here&gt; &amp; co”');
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '1 event type matching “<!here> & co”' },
    });
  });

  it('answers an empty catalogue and a query that matches nothing', () => {
    expect(valid(renderTypes([], ''))).toEqual({
      text: 'Halo lists no event types.',
      blocks: [section('Halo lists no event types.')],
    });
    expect(valid(renderTypes([], '<@U123> & "x"'))).toEqual({
      text: 'No event type matches “&lt;@U123&gt; &amp; "x"”.',
      blocks: [section('No event type matches “&lt;@U123&gt; &amp; "x"”.')],
    });
  });

  it('splits a long catalogue over sections within the limits', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      subject: `Type ${i} ${'s'.repeat(150)}`,
      key: `k-${i}`,
    }));
    const message = valid(renderTypes(many, 'type'));
    expect(message.blocks.length).toBeGreaterThan(10);
    const texts = message.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
    expect(texts.join('\n').split('\n')).toHaveLength(401);
  });
});

describe('renderSubscriptions', () => {
  const sub = (id: number, keys: string[], targetIds: number[], createdBy = 'U0123ABCD'): Subscription => ({
    id,
    channel: 'C0123ABCD',
    keys,
    targetIds,
    minSeverity: null,
    createdBy,
    createdAt: AT,
  });

  it("lists the channel's subscriptions and the default route", () => {
    expect(
      valid(
        renderSubscriptions(
          'C0123ABCD',
          [sub(3, ['target-scan-start', 'a&b'], [42]), sub(4, [], [], 'not-a-user'), sub(5, [], [1, 2])],
          { keys: ['domain-add'], targetIds: [] },
        ),
      ),
    ).toEqual({
      text: 'Subscriptions',
      blocks: [
        section(
          '*Subscriptions of <#C0123ABCD>*\n' +
            "• From the bot's settings (HALO_ALERT_CHANNEL): key `domain-add`\n" +
            `• *#3*: key \`target-scan-start\` or \`a&amp;b\` and target 42 — added by <@U0123ABCD> ${DATE}\n` +
            `• *#4*: every event — added by someone ${DATE}\n` +
            `• *#5*: target 1 or 2 — added by <@U0123ABCD> ${DATE}\n` +
            'Remove one with `/halo unsubscribe ID`.',
        ),
      ],
    });
  });

  it('says how to subscribe when there is nothing, and never trusts the channel ID', () => {
    expect(valid(renderSubscriptions('C0123ABCD', [], null))).toEqual({
      text: 'No subscriptions',
      blocks: [
        section(
          '<#C0123ABCD> has no subscriptions. Add one with `/halo subscribe key:KEY`, or `/halo subscribe` for every event.',
        ),
      ],
    });
    expect(valid(renderSubscriptions('<!channel>', [], null)).blocks).toEqual([
      section(
        '`&lt;!channel&gt;` has no subscriptions. Add one with `/halo subscribe key:KEY`, or `/halo subscribe` for every event.',
      ),
    ]);
  });

  it('stays within limits for many subscriptions with the most filters', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `${'&'.repeat(190)}${i}`);
    const targets = Array.from({ length: 20 }, (_, i) => 2_147_483_600 + i);
    const subs = Array.from({ length: 60 }, (_, i) => sub(1_000_000 + i, keys, targets));
    valid(renderSubscriptions('C0123ABCD', subs, { keys, targetIds: targets }));
  });
});

describe('renderStatus', () => {
  const healthy: StatusView = {
    lastSuccessAt: AT,
    lastError: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    pollIntervalMs: 60_000,
    seen: 1234,
    pending: 2,
    failed: 1,
    muted: 7,
    recentFailures: [],
  };

  it('reports a healthy bot', () => {
    expect(valid(renderStatus(healthy))).toEqual({
      text: 'Polling normally',
      blocks: [
        section(
          '*:white_check_mark: Polling normally*\n' +
            `Last successful poll: ${DATE} (every 60 s)\n` +
            'Events seen: 1234\n' +
            'Alerts waiting to be posted: 2\n' +
            'Alerts that could not be posted: 1\n' +
            'Events muted (counted, not posted): 7',
        ),
      ],
    });
  });

  it('reports failing polls, the last error escaped, and recent failed posts', () => {
    const status: StatusView = {
      ...healthy,
      lastSuccessAt: null,
      consecutiveFailures: 3,
      lastError: 'Halo event/list.json sent an unreadable answer: <html> & more',
      lastErrorAt: AT,
      recentFailures: [
        { channel: 'C0123ABCD', error: 'not_in_channel', at: AT },
        { channel: '<!channel>', error: '', at: AT },
        { channel: 'C0123ABCD', error: 'request_error: ECONNRESET', at: AT },
        // Free text, as older versions stored it: never shown to whoever asks.
        { channel: 'C0123ABCD', error: 'not_authed (token xoxb-1-2-abc)', at: AT },
        { channel: 'C0123ABCD', error: 'request_error: <html>proxy</html>', at: AT },
      ],
    };
    expect(valid(renderStatus(status))).toEqual({
      text: 'Halo polls are failing (3 in a row)',
      blocks: [
        section(
          '*:warning: Halo polls are failing (3 in a row)*\n' +
            'Last successful poll: never (every 60 s)\n' +
            'Events seen: 1234\n' +
            'Alerts waiting to be posted: 2\n' +
            'Alerts that could not be posted: 1\n' +
            'Events muted (counted, not posted): 7\n' +
            `Last error (${DATE}): Halo event/list.json sent an unreadable answer: &lt;html&gt; &amp; more\n` +
            // Each failed channel with what to do about it, not only the error code.
            `• Failed post to <#C0123ABCD>: \`not_in_channel\` ${DATE}. Fix: invite the bot: /invite @halo in that channel (or remove its subscription, or change HALO_ALERT_CHANNEL).\n` +
            `• Failed post to \`&lt;!channel&gt;\`: unknown error ${DATE}.\n` +
            `• Failed post to <#C0123ABCD>: \`request_error: ECONNRESET\` ${DATE}. Fix: check the bot’s log; alerts are retried while Slack answers with this.\n` +
            `• Failed post to <#C0123ABCD>: unknown error ${DATE}.\n` +
            `• Failed post to <#C0123ABCD>: unknown error ${DATE}.`,
        ),
      ],
    });
  });

  it('stays within limits with long errors', () => {
    const status: StatusView = {
      ...healthy,
      consecutiveFailures: 1,
      lastError: '&'.repeat(5000),
      lastErrorAt: AT,
      recentFailures: Array.from({ length: 50 }, () => ({
        channel: 'C1'.repeat(30),
        error: '<'.repeat(500),
        at: AT,
      })),
    };
    valid(renderStatus(status));
  });
});

describe('renderUsageError', () => {
  it('escapes the echoed input and shows the usage as code', () => {
    const error =
      'Unknown filter “<!channel> & <@U123>”: events accepts key, target, subject, detail, limit.';
    expect(valid(renderUsageError(error, USAGE.events))).toEqual({
      text: 'Unknown filter “&lt;!channel&gt; &amp; &lt;@U123&gt;”: events accepts key, target, subject, detail, limit.',
      blocks: [
        section(
          'Unknown filter “&lt;!channel&gt; &amp; &lt;@U123&gt;”: events accepts key, target, subject, detail, limit.\n' +
            'Usage: `/halo events [key:K] [target:ID] [subject:TEXT] [detail:TEXT] [limit:N]`\n' +
            'See `/halo help` for every command.',
        ),
      ],
    });
  });

  it('renders what the parser says about hostile input', () => {
    const result = parseCommand('events target:<!here|here>\u202Egnp.exe');
    if (result.ok) throw new Error('expected a parse error');
    const message = valid(renderUsageError(result.error, result.usage));
    expect(message.blocks).toEqual([
      section(
        'The target must be a whole number from 1 to 2147483647, got “&lt;!here|here&gt;\uFFFDgnp.exe”.\n' +
          'Usage: `/halo events [key:K] [target:ID] [subject:TEXT] [detail:TEXT] [limit:N]`\n' +
          'See `/halo help` for every command.',
      ),
    ]);
  });

  it('cuts a long error to 1000 characters', () => {
    const message = valid(renderUsageError('<'.repeat(2000), USAGE.subscribe));
    expect(message.text).toBe(`${'&lt;'.repeat(249)}…`);
  });
});

describe('renderHelp', () => {
  it('stays within limits, with an unknown command echoed as code', () => {
    const message = valid(renderHelp(helpText(), '<!channel>'));
    expect(message.blocks[0]).toMatchObject({ type: 'section' });
    const first = message.blocks[0]?.type === 'section' ? message.blocks[0].text?.text : undefined;
    expect(first?.startsWith('Unknown command `&lt;!channel&gt;`.\nHalo Security commands:\n')).toBe(true);
  });
});

describe('renderSubscribed', () => {
  const sub: Subscription = {
    id: 7,
    channel: 'CSUB',
    keys: ['domain-add'],
    targetIds: [],
    minSeverity: null,
    createdBy: 'U1',
    createdAt: AT,
  };
  const said = (start: 'started' | 'haloFailed' | 'pending'): string =>
    JSON.stringify(valid(renderSubscribed(sub, true, start)).blocks);

  it('says from when events are posted: now, the next successful poll, or when the polling replica records it', () => {
    expect(said('started')).toContain('Every new event from now on is posted here; existing ones are not.');
    expect(said('haloFailed')).toContain(
      'Halo could not be reached just now, so new events are posted from the next successful poll on; existing ones are not.',
    );
    expect(said('pending')).toContain(
      'The replica that polls Halo has not recorded its starting point yet (a poll is still running, or a replica is taking over), so new events are posted from when it does, between its polls; existing ones are not.',
    );
  });
});

describe('severityNotes', () => {
  it('names ten unrated keys and how many more, escaped, with the HALO_SEVERITY that rates them', () => {
    const unrated = Array.from({ length: 12 }, (_, i) => ({
      key: i === 0 ? 'x<!here>' : `k-${i}`,
      subject: '',
      severity: 'medium' as const,
    }));
    const [note] = severityNotes(unrated, { count: 0, byKey: {} });
    expect(note).toMatch(
      /^:warning: 12 event types are not in the severity table, so each severity is guessed/,
    );
    expect(note).toContain('`x&lt;!here&gt;` medium, `k-1` medium');
    expect(note).toContain('`k-9` medium and 2 more. A minimum severity filters on these guesses.');
    expect(note).toContain('`HALO_SEVERITY=x&lt;!here&gt;=medium,k-1=medium,');
    expect(note).not.toContain('k-10');
    expect(note!.length).toBeLessThanOrEqual(3000);
  });

  it('counts what a minimum severity held back on a guess, most first, and says nothing when all is rated', () => {
    expect(severityNotes([], { count: 5, byKey: { a: 1, b: 4 } })).toEqual([
      ':warning: Events held back by a minimum severity on a guessed severity: 5 (`b` 4, `a` 1). Set HALO_SEVERITY to rate their types.',
    ]);
    expect(severityNotes([], { count: 0, byKey: {} })).toEqual([]);
  });
});

// Issue 23, item 9: `/halo mutes` answered in one section of 43,056 characters, against Slack's 3,000.
describe('renderAnswer: mutes', () => {
  const mute = (id: number) => ({
    id,
    channel: 'CALERTS',
    key: `${id}-${'k'.repeat(195)}`,
    targetId: null,
    targetLabel: '',
    createdBy: 'U1',
    createdAt: AT,
    expiresAt: AT + 3_600_000,
    held: 0,
  });
  const mutesOf = (n: number) =>
    renderAnswer({
      kind: 'mutes',
      channel: 'CALERTS',
      mutes: Array.from({ length: n }, (_, i) => mute(i + 1)),
    });

  it('splits a long list over sections within Slack’s limits, each mute whole', () => {
    const message = mutesOf(120);
    expect(checkLimits(message)).toEqual([]);
    const text = JSON.stringify(message.blocks);
    for (let id = 1; id <= 120; id++) expect(text).toContain(`*#${id}*`);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('/halo unmute ID');
  });

  it('says how many more there are when the message runs out of blocks', () => {
    const message = mutesOf(1000);
    expect(checkLimits(message)).toEqual([]);
    const shown = (JSON.stringify(message.blocks).match(/\*#\d+\*/g) ?? []).length;
    expect(shown).toBeGreaterThan(300);
    expect(JSON.stringify(message.blocks)).toContain(`…and ${1000 - shown} more mutes`);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('/halo unmute ID');
  });
});
