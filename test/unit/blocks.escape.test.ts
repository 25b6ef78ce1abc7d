import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cleanText,
  code,
  escapeMrkdwn,
  mentionUser,
  mrkdwn,
  mrkdwnLink,
  plain,
  safeHttpUrl,
  slackDate,
  truncate,
} from '../../src/slack/blocks/index.ts';

/** Characters that stress escaping and cutting, mixed with ordinary ones. */
const tricky = fc.string({
  unit: fc.constantFrom(
    'a',
    ' ',
    '&',
    '<',
    '>',
    '`',
    '|',
    '\n',
    '\t',
    '\r',
    '\u0000',
    '\u202E',
    '\u2067',
    '\u200B',
    '\uFEFF',
    '😀',
    '\uD800',
    '\uDC00',
    'é',
  ),
  maxLength: 80,
});
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 80 }));

const hasLoneSurrogate = (s: string): boolean => /[\uD800-\uDFFF]/u.test(s);
/** Every `&` starts one of Slack's three entities, and no raw `<` or `>` is left. */
const escapedIntact = (s: string): boolean => !/&(?!amp;|lt;|gt;)/.test(s) && !/[<>]/.test(s);

describe('escapeMrkdwn', () => {
  it('escapes exactly &, < and >, so mentions and links are inert', () => {
    expect(escapeMrkdwn('<!channel> & <@U123> <https://evil.example|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.example|click&gt;',
    );
  });

  it('leaves other characters alone: Slack decodes no other entity', () => {
    expect(escapeMrkdwn(`"quotes" 'apostrophes' *bold* _it_ &amp;`)).toBe(
      `"quotes" 'apostrophes' *bold* _it_ &amp;amp;`,
    );
  });
});

describe('cleanText', () => {
  it('removes bidi overrides, isolates and marks', () => {
    expect(cleanText('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(cleanText('a\u061Cb\u200Ec\u200Fd\u202Ae\u202Bf\u202Cg\u202Dh\u2066i\u2067j\u2068k\u2069l')).toBe(
      'abcdefghijkl',
    );
  });

  it('removes zero-width characters, which make one name look like another', () => {
    expect(cleanText('pay\u200Bpal.com a\u200Cb\u200Dc\u2060d\uFEFFe')).toBe('paypal.com abcde');
  });

  it('removes C0 and C1 controls but keeps newline and tab', () => {
    expect(cleanText('a\u0000b\u0007c\u001Bd\re\u007Ff\u0085g\u009Fh\ni\tj')).toBe('abcdefgh\ni\tj');
  });

  it('removes lone surrogates and keeps pairs', () => {
    expect(cleanText('a\uD800b\uDC00c😀d\uDBFF')).toBe('abc😀d');
  });

  it('keeps ordinary text as it is', () => {
    expect(cleanText('Zertifikat läuft ab — www.example.com 日本')).toBe(
      'Zertifikat läuft ab — www.example.com 日本',
    );
  });
});

describe('truncate', () => {
  it('returns short text unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('cuts with an ellipsis within max', () => {
    expect(truncate('hello world', 6)).toBe('hello…');
    expect(truncate('hello world', 1)).toBe('…');
    expect(truncate('hello world', 0)).toBe('');
  });

  it('never splits a surrogate pair', () => {
    // slice(0, 3) would end in the high half of 😀.
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('ab😀cd', 5)).toBe('ab😀…');
  });

  it('rejects a max that is not a non-negative integer', () => {
    expect(() => truncate('x', -1)).toThrow(RangeError);
    expect(() => truncate('x', 1.5)).toThrow('Expected `max` to be an integer >= 0, got 1.5');
  });

  it('stays within max and well-formed for any input', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 0, max: 100 }), (s, max) => {
        const out = truncate(cleanText(s), max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(hasLoneSurrogate(out)).toBe(false);
      }),
    );
  });
});

describe('mrkdwn', () => {
  it('cleans, then escapes', () => {
    expect(mrkdwn('<!here>\u202E & co', 100)).toBe('&lt;!here&gt; &amp; co');
  });

  it('never cuts an entity in half', () => {
    expect(mrkdwn('a&b', 4)).toBe('a…');
    expect(mrkdwn('a&b', 6)).toBe('a…');
    expect(mrkdwn('a&bc', 7)).toBe('a&amp;…');
    expect(mrkdwn('<<<<', 10)).toBe('&lt;&lt;…');
    expect(mrkdwn('&'.repeat(10_000), 3000)).toBe(`${'&amp;'.repeat(599)}…`);
  });

  it('stays within max with entities intact for any input', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 0, max: 60 }), (s, max) => {
        const out = mrkdwn(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(escapedIntact(out)).toBe(true);
        expect(hasLoneSurrogate(out)).toBe(false);
      }),
    );
  });
});

describe('plain', () => {
  it('cleans and cuts but does not escape: plain_text is shown literally', () => {
    expect(plain('<!channel> & <@U123>\u2066', 150)).toBe('<!channel> & <@U123>');
    expect(plain('abcdef', 4)).toBe('abc…');
  });
});

describe('code', () => {
  it('wraps escaped text in backticks and neutralises backticks inside', () => {
    expect(code('target-scan-start', 100)).toBe('`target-scan-start`');
    expect(code('a`b`<c>', 100)).toBe('`a\u02CBb\u02CB&lt;c&gt;`');
  });

  it('is empty for blank text and fits max', () => {
    expect(code('  \u202E ', 100)).toBe('');
    expect(code('x'.repeat(500), 20)).toBe(`\`${'x'.repeat(17)}…\``);
  });
});

describe('safeHttpUrl', () => {
  it('accepts http and https URLs', () => {
    expect(safeHttpUrl('https://app.halosecurity.com/event/1')).toBe('https://app.halosecurity.com/event/1');
    expect(safeHttpUrl(' http://example.com')).toBe('http://example.com/');
  });

  it('refuses every other URL', () => {
    for (const url of [
      '',
      '   ',
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'data:text/html,<b>x</b>',
      'ftp://example.com/',
      'slack://channel?id=C1',
      '/event/1',
      'example.com',
      'https://',
    ]) {
      expect(safeHttpUrl(url), url).toBeUndefined();
    }
  });

  it('percent-encodes the characters that end the URL part of a Slack link', () => {
    expect(safeHttpUrl('https://example.com/a|b<c>?q=<x>|y')).toBe(
      'https://example.com/a%7Cb%3Cc%3E?q=%3Cx%3E%7Cy',
    );
    expect(safeHttpUrl('https://example.com/a b\n\tc')).toBe('https://example.com/a%20bc');
  });
});

describe('mrkdwnLink', () => {
  it('builds <url|label>, writing & as &amp; and escaping the label', () => {
    expect(mrkdwnLink('https://example.com/?a=1&b=2', 'View <!channel> & more')).toBe(
      '<https://example.com/?a=1&amp;b=2|View &lt;!channel&gt; &amp; more>',
    );
  });

  it('keeps the label on one line and free of |', () => {
    expect(mrkdwnLink('https://example.com/', 'a|b\nc\u202E')).toBe('<https://example.com/|a b c>');
    expect(mrkdwnLink('https://example.com/', ' | ')).toBe('<https://example.com/>');
  });

  it('gives no link for a URL that is not http(s)', () => {
    expect(mrkdwnLink('javascript:alert(1)', 'View')).toBeUndefined();
    expect(mrkdwnLink('', 'View')).toBeUndefined();
  });

  it('never lets any input out of the link syntax', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.webUrl()), anyText, (url, label) => {
        const link = mrkdwnLink(url, label);
        if (link === undefined) return;
        expect(link).toMatch(/^<https?:\/\/[^<>|\s]+(\|[^<>|\n]+)?>$/);
        expect(escapedIntact(link.slice(1, -1))).toBe(true);
      }),
    );
  });
});

describe('mentionUser', () => {
  it('mentions a well-formed user ID', () => {
    expect(mentionUser('U123ABC')).toBe('<@U123ABC>');
    expect(mentionUser('W0123456789')).toBe('<@W0123456789>');
  });

  it('says "someone" for anything else', () => {
    for (const id of [
      '',
      'U',
      'u123',
      'C123',
      'U123>',
      'U12 3',
      `U${'1'.repeat(21)}`,
      '<!channel>',
      'U1\n',
    ]) {
      expect(mentionUser(id), id).toBe('someone');
    }
  });
});

describe('slackDate', () => {
  it('formats in the reader’s zone with the ISO time as fallback', () => {
    expect(slackDate(new Date('2024-05-01T12:31:45.500Z'))).toBe(
      '<!date^1714566705^{date_short_pretty} {time}|2024-05-01T12:31:45.500Z>',
    );
  });

  it('is undefined for an invalid date', () => {
    expect(slackDate(new Date('nope'))).toBeUndefined();
  });
});
