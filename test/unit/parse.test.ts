import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, parseCommand, tokenize } from '../../src/commands/command-parse.ts';
import { formatEventsCommand, formatSubscribeCommand } from '../../src/domain/command-text.ts';
import { USAGE, helpText } from '../../src/commands/usage.ts';

const EVENTS_USAGE = '/halo events [key:K] [target:ID] [subject:TEXT] [detail:TEXT] [limit:N]';

function failure(text: string): { error: string; usage: string } {
  const result = parseCommand(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result)}`);
  return { error: result.error, usage: result.usage };
}

describe('tokenize', () => {
  it('splits on any whitespace, including non-breaking spaces, tabs and newlines', () => {
    expect(tokenize(' a\u00a0b\tc\nd\r\ne\u3000f  ')).toEqual({
      ok: true,
      tokens: ['a', 'b', 'c', 'd', 'e', 'f'],
    });
  });

  it('removes quotes, which may start mid-token, and keeps what they enclose', () => {
    expect(tokenize(`subject:"Scan Started" a"b c"d 'e f' “g h” ‘i j’ "" x`)).toEqual({
      ok: true,
      tokens: ['subject:Scan Started', 'ab cd', 'e f', 'g h', 'i j', '', 'x'],
    });
  });

  it('closes a quote with any quote of the same family, and takes the other family literally', () => {
    expect(tokenize(`“a b“ ”c d” “e f" "it's" 'say "hi"' “it’s”`)).toEqual({
      ok: true,
      tokens: ['a b', 'c d', 'e f', "it's", 'say "hi"', 'it’s'],
    });
  });

  it('reports an unterminated quote, quoting the input from the start of its token', () => {
    expect(tokenize('key:a subject:"Scan Started')).toEqual({
      ok: false,
      error: 'Unterminated quote in “subject:"Scan Started”.',
    });
    expect(tokenize('subject:“Scan Started’')).toEqual({
      ok: false,
      error: 'Unterminated quote in “subject:“Scan Started’”.',
    });
  });

  it('explains that an apostrophe opens a quote', () => {
    expect(tokenize("detail:don't")).toEqual({
      ok: false,
      error:
        "Unterminated quote in “detail:don't”. An apostrophe counts as a quote: put such a value in double quotes.",
    });
  });

  it('does not decode Slack escapes itself', () => {
    expect(tokenize('&lt;x&gt;')).toEqual({ ok: true, tokens: ['&lt;x&gt;'] });
  });

  it('returns no tokens for blank text', () => {
    expect(tokenize(' \t\n')).toEqual({ ok: true, tokens: [] });
  });
});

describe('parseCommand: help', () => {
  it('gives help for empty text, blank text and "help"', () => {
    expect(parseCommand('')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommand(' \u00a0\n')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommand('help')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommand('HELP me please')).toEqual({ ok: true, command: { kind: 'help' } });
  });

  it('gives help naming an unknown subcommand', () => {
    expect(parseCommand('frobnicate now')).toEqual({
      ok: true,
      command: { kind: 'help', unknown: 'frobnicate' },
    });
    expect(parseCommand('Eventz')).toEqual({ ok: true, command: { kind: 'help', unknown: 'Eventz' } });
  });

  it('neutralises bidi overrides and control characters in an unknown subcommand', () => {
    expect(parseCommand('ab\u202Ec\u0000d\ud800')).toEqual({
      ok: true,
      command: { kind: 'help', unknown: 'ab\uFFFDc\uFFFDd\uFFFD' },
    });
  });

  it('cuts a long unknown subcommand to 50 characters', () => {
    expect(parseCommand('x'.repeat(300))).toEqual({
      ok: true,
      command: { kind: 'help', unknown: `${'x'.repeat(49)}…` },
    });
  });
});

describe('parseCommand: events', () => {
  it('lists everything, 20 a page, without filters', () => {
    expect(parseCommand('events')).toEqual({
      ok: true,
      command: { kind: 'events', filter: {}, limit: DEFAULT_PAGE_SIZE },
    });
    expect(DEFAULT_PAGE_SIZE).toBe(20);
  });

  it('maps every filter to its API name', () => {
    expect(parseCommand('events key:target-scan-start target:42 subject:Scan detail:www limit:5')).toEqual({
      ok: true,
      command: {
        kind: 'events',
        filter: { key: 'target-scan-start', target_id: 42, subject: 'Scan', detail: 'www' },
        limit: 5,
      },
    });
  });

  it('accepts name=value and quoted values', () => {
    expect(parseCommand('events subject="Scan Started" detail:"www.example.com  done"')).toEqual({
      ok: true,
      command: {
        kind: 'events',
        filter: { subject: 'Scan Started', detail: 'www.example.com  done' },
        limit: 20,
      },
    });
  });

  it('accepts smart quotes and single quotes', () => {
    expect(parseCommand('events subject:“Scan Started” detail:‘a b’')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { subject: 'Scan Started', detail: 'a b' }, limit: 20 },
    });
    expect(parseCommand("events subject:'Scan Started'")).toEqual({
      ok: true,
      command: { kind: 'events', filter: { subject: 'Scan Started' }, limit: 20 },
    });
  });

  it('decodes the three HTML escapes Slack applies, in one pass', () => {
    expect(parseCommand('events subject:&lt;!channel&gt; detail:a&amp;b key:&amp;lt;')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { subject: '<!channel>', detail: 'a&b', key: '&lt;' }, limit: 20 },
    });
    expect(parseCommand('events detail:&quot;')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { detail: '&quot;' }, limit: 20 },
    });
  });

  it('ignores the case of the subcommand and of filter names, not of values', () => {
    expect(parseCommand('EVENTS Key:Target-Scan SUBJECT=Scan Limit:3')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { key: 'Target-Scan', subject: 'Scan' }, limit: 3 },
    });
  });

  it('splits a filter at its first separator only', () => {
    expect(parseCommand('events detail:a:b=c subject=x:y')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { detail: 'a:b=c', subject: 'x:y' }, limit: 20 },
    });
  });

  it('separates with any whitespace', () => {
    expect(parseCommand('events\u00a0key:x\ttarget:3\nlimit:2')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { key: 'x', target_id: 3 }, limit: 2 },
    });
  });

  it('takes limits from 1 to 20', () => {
    expect(parseCommand('events limit:1')).toEqual({
      ok: true,
      command: { kind: 'events', filter: {}, limit: 1 },
    });
    expect(parseCommand('events limit:20')).toEqual({
      ok: true,
      command: { kind: 'events', filter: {}, limit: 20 },
    });
    for (const bad of ['0', '21', '-1', '2.5', 'ten', '', '1e1', '99999999999999999999']) {
      expect(failure(`events limit:${bad}`).error).toBe(
        `The limit must be a whole number from 1 to 20, got “${bad}”.`,
      );
    }
  });

  it('takes a target as a positive 31-bit integer', () => {
    expect(parseCommand('events target:2147483647')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { target_id: 2147483647 }, limit: 20 },
    });
    for (const bad of ['abc', '-1', '0', '1.5', '99999999999', '2147483648', '0x10', '1e3', '']) {
      expect(failure(`events target:${bad}`)).toEqual({
        error: `The target must be a whole number from 1 to 2147483647, got “${bad}”.`,
        usage: EVENTS_USAGE,
      });
    }
  });

  it('rejects an unknown filter, naming the ones events accepts', () => {
    expect(failure('events colour:red')).toEqual({
      error: 'Unknown filter “colour”: events accepts key, target, subject, detail, limit.',
      usage: EVENTS_USAGE,
    });
    expect(failure('events target_id:3').error).toBe(
      'Unknown filter “target_id”: events accepts key, target, subject, detail, limit.',
    );
  });

  it('rejects a bare word', () => {
    expect(failure('events scan')).toEqual({
      error:
        'Expected a filter like key:VALUE (events accepts key, target, subject, detail, limit), got “scan”.',
      usage: EVENTS_USAGE,
    });
  });

  it('rejects a filter given twice', () => {
    expect(failure('events key:a KEY=b')).toEqual({
      error: 'The key filter is given twice; events takes each filter once.',
      usage: EVENTS_USAGE,
    });
    expect(failure('events limit:1 limit:1').error).toBe(
      'The limit filter is given twice; events takes each filter once.',
    );
  });

  it('rejects an unterminated quote', () => {
    expect(failure('events subject:"Scan Started')).toEqual({
      error: 'Unterminated quote in “subject:"Scan Started”.',
      usage: EVENTS_USAGE,
    });
  });

  it('rejects empty, overlong and control-character values', () => {
    expect(failure('events key:').error).toBe('The key is empty.');
    expect(failure('events subject:""').error).toBe('The subject is empty.');
    expect(parseCommand(`events detail:${'d'.repeat(200)}`)).toEqual({
      ok: true,
      command: { kind: 'events', filter: { detail: 'd'.repeat(200) }, limit: 20 },
    });
    expect(failure(`events detail:${'d'.repeat(201)}`).error).toBe(
      'The detail is longer than 200 characters.',
    );
    // Counted in characters, not UTF-16 units.
    expect(parseCommand(`events key:${'🙂'.repeat(200)}`).ok).toBe(true);
    expect(failure('events key:"a\tb"').error).toBe('The key contains control characters.');
    expect(parseCommand('events subject:"a\tb"')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { subject: 'a\tb' }, limit: 20 },
    });
  });

  it('cuts quoted input to 50 characters and neutralises line breaks and bidi overrides', () => {
    expect(failure(`events target:${'9'.repeat(80)}`).error).toBe(
      `The target must be a whole number from 1 to 2147483647, got “${'9'.repeat(49)}…”.`,
    );
    expect(failure('events target:"a\nb\u202Ec\u0000"').error).toBe(
      'The target must be a whole number from 1 to 2147483647, got “a b\uFFFDc\uFFFD”.',
    );
  });
});

describe('parseCommand: event', () => {
  it('takes one ID', () => {
    expect(parseCommand('event 123456')).toEqual({ ok: true, command: { kind: 'event', eventId: '123456' } });
    expect(parseCommand('Event "abc def"')).toEqual({
      ok: true,
      command: { kind: 'event', eventId: 'abc def' },
    });
  });

  it('rejects a missing ID, an extra argument and a bad ID', () => {
    expect(failure('event')).toEqual({ error: 'Missing the event ID.', usage: '/halo event ID' });
    expect(failure('event 1 2')).toEqual({
      error: 'Unexpected extra argument “2”: event takes one.',
      usage: '/halo event ID',
    });
    expect(failure('event ""').error).toBe('The event ID is empty.');
    expect(failure(`event ${'1'.repeat(201)}`).error).toBe('The event ID is longer than 200 characters.');
    expect(failure('event "1\u00072"').error).toBe('The event ID contains control characters.');
    expect(failure('event "1').error).toBe('Unterminated quote in “"1”.');
  });
});

describe('parseCommand: types', () => {
  it('lists all types without text', () => {
    expect(parseCommand('types')).toEqual({ ok: true, command: { kind: 'types', query: '' } });
    expect(parseCommand('TYPES   ')).toEqual({ ok: true, command: { kind: 'types', query: '' } });
  });

  it('takes the rest of the line, trimmed, with whitespace runs as one space', () => {
    expect(parseCommand('types  Scan\u00a0\u00a0Started \n')).toEqual({
      ok: true,
      command: { kind: 'types', query: 'Scan Started' },
    });
  });

  it('does not treat an apostrophe as a quote', () => {
    expect(parseCommand("types don't")).toEqual({ ok: true, command: { kind: 'types', query: "don't" } });
  });

  it('unwraps a single quoted value', () => {
    expect(parseCommand('types "Scan Started"')).toEqual({
      ok: true,
      command: { kind: 'types', query: 'Scan Started' },
    });
    expect(parseCommand('types “ scan ”')).toEqual({ ok: true, command: { kind: 'types', query: 'scan' } });
    expect(parseCommand('types "a" "b"')).toEqual({ ok: true, command: { kind: 'types', query: '"a" "b"' } });
  });

  it('decodes Slack escapes', () => {
    expect(parseCommand('types a &amp; b')).toEqual({ ok: true, command: { kind: 'types', query: 'a & b' } });
  });

  it('rejects text over 200 characters', () => {
    expect(failure(`types ${'t'.repeat(201)}`)).toEqual({
      error: 'The search text is longer than 200 characters.',
      usage: '/halo types [TEXT]',
    });
  });
});

describe('parseCommand: subscribe', () => {
  const SUBSCRIBE_USAGE = '/halo subscribe [key:K]… [target:ID]… [severity:LEVEL]';

  it('subscribes to everything without filters', () => {
    expect(parseCommand('subscribe')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: [], targetIds: [], minSeverity: null },
    });
  });

  it('collects repeated keys and targets in order, without duplicates', () => {
    expect(parseCommand('subscribe key:b target:7 KEY=a key:b target:007 target:3 key:"x y"')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: ['b', 'a', 'x y'], targetIds: [7, 3], minSeverity: null },
    });
  });

  it('takes a minimum severity, in any case, with or without other filters', () => {
    expect(parseCommand('subscribe severity:High')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: [], targetIds: [], minSeverity: 'high' },
    });
    expect(parseCommand('subscribe key:issue-new severity=critical target:4')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: ['issue-new'], targetIds: [4], minSeverity: 'critical' },
    });
    expect(formatSubscribeCommand(['issue-new'], [4], 'critical')).toBe(
      '/halo subscribe key:issue-new target:4 severity:critical',
    );
  });

  it('takes at most 20 distinct keys and 20 distinct targets', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `key:k${i}`).join(' ');
    const targets = Array.from({ length: 20 }, (_, i) => `target:${i + 1}`).join(' ');
    const twenty = parseCommand(`subscribe ${keys} ${targets} key:k0 target:1`);
    expect(twenty.ok && twenty.command.kind === 'subscribe' && twenty.command.keys.length).toBe(20);
    expect(failure(`subscribe ${keys} key:k20`)).toEqual({
      error: 'At most 20 keys per subscription, got 21.',
      usage: SUBSCRIBE_USAGE,
    });
    expect(failure(`subscribe ${targets} target:21`).error).toBe(
      'At most 20 targets per subscription, got 21.',
    );
  });

  it('rejects unknown filters, bare words, bad targets and bad keys', () => {
    expect(failure('subscribe subject:Scan')).toEqual({
      error: 'Unknown filter “subject”: subscribe accepts key, target, severity.',
      usage: SUBSCRIBE_USAGE,
    });
    expect(failure('subscribe everything').error).toBe(
      'Expected a filter like key:VALUE (subscribe accepts key, target, severity), got “everything”.',
    );
    expect(failure('subscribe target:abc').error).toBe(
      'The target must be a whole number from 1 to 2147483647, got “abc”.',
    );
    expect(failure('subscribe key:').error).toBe('The key is empty.');
    expect(failure('subscribe severity:urgent').error).toBe(
      'The severity must be one of critical, high, medium, low, info (that level and more severe), got “urgent”.',
    );
    expect(failure('subscribe severity:high severity:low').error).toBe(
      'The severity filter is given twice; a subscription takes one minimum.',
    );
    expect(failure('subscribe key:‘scan').error).toBe(
      'Unterminated quote in “key:‘scan”. An apostrophe counts as a quote: put such a value in double quotes.',
    );
  });
});

describe('parseCommand: unsubscribe', () => {
  const UNSUBSCRIBE_USAGE = '/halo unsubscribe ID|all';

  it('takes an ID or "all", in any case', () => {
    expect(parseCommand('unsubscribe 3')).toEqual({
      ok: true,
      command: { kind: 'unsubscribe', target: { id: 3 } },
    });
    expect(parseCommand('unsubscribe all')).toEqual({
      ok: true,
      command: { kind: 'unsubscribe', target: 'all' },
    });
    expect(parseCommand('UnSubscribe ALL')).toEqual({
      ok: true,
      command: { kind: 'unsubscribe', target: 'all' },
    });
  });

  it('rejects a missing ID, a bad ID and an extra argument', () => {
    expect(failure('unsubscribe')).toEqual({
      error: 'Missing the subscription ID (or “all”).',
      usage: UNSUBSCRIBE_USAGE,
    });
    for (const bad of ['0', '-1', '1.5', 'abc', '99999999999']) {
      expect(failure(`unsubscribe ${bad}`)).toEqual({
        error: `The subscription ID must be a whole number from 1 to 2147483647, got “${bad}”. Use “all” to remove every subscription here.`,
        usage: UNSUBSCRIBE_USAGE,
      });
    }
    expect(failure('unsubscribe 3 4').error).toBe('Unexpected extra argument “4”: unsubscribe takes one.');
    expect(failure('unsubscribe all 4').error).toBe('Unexpected extra argument “4”: unsubscribe takes one.');
  });
});

describe('parseCommand: subscriptions and status', () => {
  it('take no arguments', () => {
    expect(parseCommand('subscriptions')).toEqual({ ok: true, command: { kind: 'subscriptions' } });
    expect(parseCommand(' Status ')).toEqual({ ok: true, command: { kind: 'status' } });
    expect(failure('status now')).toEqual({
      error: 'Unexpected extra argument “now”: status takes none.',
      usage: '/halo status',
    });
    // The extra argument is reported even when it holds an odd quote.
    expect(failure(`subscriptions "all please`)).toEqual({
      error: 'Unexpected extra argument “"all”: subscriptions takes none.',
      usage: '/halo subscriptions',
    });
  });
});

describe('parseCommand: summary', () => {
  it('takes daily, weekly and off, and nothing to show the setting', () => {
    const summary = (text: string) => parseCommand(text);
    expect(summary('summary daily 09:00')).toEqual({
      ok: true,
      command: { kind: 'summary', schedule: { cadence: 'daily', weekday: null, minute: 540 } },
    });
    expect(summary('summary Weekly MON 7:30')).toEqual({
      ok: true,
      command: { kind: 'summary', schedule: { cadence: 'weekly', weekday: 1, minute: 450 } },
    });
    expect(summary('summary off')).toEqual({ ok: true, command: { kind: 'summary', schedule: 'off' } });
    expect(summary('summary')).toEqual({ ok: true, command: { kind: 'summary', schedule: 'show' } });
    expect(summary('summary now')).toEqual({ ok: true, command: { kind: 'summary', schedule: 'now' } });
  });

  it('names what is wrong, with the usage', () => {
    expect(failure('summary hourly 09:00')).toEqual({
      error: 'Expected daily, weekly, off or now, got “hourly”.',
      usage: USAGE.summary,
    });
    expect(failure('summary daily').error).toBe('Say the time: daily 09:00.');
    expect(failure('summary daily 9am').error).toBe('Expected a time such as 09:00 (24-hour), got “9am”.');
    expect(failure('summary weekly 09:00').error).toBe('Say the day and time: weekly mon 09:00.');
    expect(failure('summary weekly someday 09:00').error).toBe(
      'Expected a day such as mon or monday, got “someday”.',
    );
    expect(failure('summary off now').error).toBe('Unexpected extra argument “now”: off takes none.');
  });
});

describe('formatEventsCommand', () => {
  it('writes the filters with the command names, quoting only when needed', () => {
    expect(formatEventsCommand({})).toBe('/halo events');
    expect(
      formatEventsCommand({
        detail: 'www',
        subject: 'Scan Started',
        target_id: 42,
        key: 'target-scan-start',
      }),
    ).toBe('/halo events key:target-scan-start target:42 subject:"Scan Started" detail:www');
  });

  it('quotes values holding quotes with the other family, or in parts when they hold both', () => {
    expect(formatEventsCommand({ subject: 'say "hi"' })).toBe(`/halo events subject:'say "hi"'`);
    expect(formatEventsCommand({ subject: "it's" })).toBe(`/halo events subject:"it's"`);
    expect(formatEventsCommand({ subject: `it's "x"` })).toBe(`/halo events subject:"it's "'"x"'`);
    expect(formatEventsCommand({ key: '' })).toBe('/halo events key:""');
  });

  it('round-trips through parseCommand', () => {
    const filter = { key: 'a:b', target_id: 9, subject: `it’s “x” & <y>`, detail: 'line\nbreak' };
    const text = formatEventsCommand(filter).slice('/halo '.length);
    expect(parseCommand(text)).toEqual({ ok: true, command: { kind: 'events', filter, limit: 20 } });
  });
});

describe('formatSubscribeCommand', () => {
  it('writes every key, then every target', () => {
    expect(formatSubscribeCommand(['target-scan-start', 'a b'], [42, 7])).toBe(
      '/halo subscribe key:target-scan-start key:"a b" target:42 target:7',
    );
    expect(formatSubscribeCommand([], [])).toBe('/halo subscribe');
  });
});

describe('usage', () => {
  it('has one line per subcommand, each starting with its command', () => {
    for (const [subcommand, line] of Object.entries(USAGE)) {
      expect(line.startsWith(`/halo ${subcommand}`)).toBe(true);
      expect(line).not.toContain('\n');
    }
    expect(USAGE.events).toBe(EVENTS_USAGE);
  });

  it('is returned with every error', () => {
    expect(failure('event').usage).toBe(USAGE.event);
    expect(failure('types ' + 'x'.repeat(300)).usage).toBe(USAGE.types);
  });

  it('help text names every subcommand with an example, and the page size', () => {
    const text = helpText();
    for (const line of Object.values(USAGE)) expect(text).toContain(line);
    expect(text).toContain('Example: /halo subscribe key:target-scan-start target:42');
    expect(text).toContain(`${DEFAULT_PAGE_SIZE} a page`);
    expect(text.match(/Example: /g)).toHaveLength(Object.keys(USAGE).length);
  });

  it('help text examples parse', () => {
    for (const match of helpText().matchAll(/Example: \/halo (.*)/g)) {
      expect(parseCommand(match[1] ?? '').ok).toBe(true);
    }
  });
});
