import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emojify, escapeHtml, mrkdwnToHtml, plainToHtml } from '../../demo/mrkdwn.ts';
import { blockKitBuilderUrl, blocksToHtml, cardHtml, type CardView } from '../../demo/render.ts';
import { renderAlert } from '../../src/slack/blocks/index.ts';
import { ROOT } from '../harness.ts';

/** Every `:name:` written in the source of what renders the bot's messages: src/slack/ and the start-up notice. */
function emojiInRenderers(): string[] {
  const files = [
    ...readdirSync(join(ROOT, 'src/slack'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(ROOT, 'src/slack', file)),
    join(ROOT, 'src/startup-message.ts'),
  ];
  const names = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/:([a-z][a-z0-9_+-]*):/g)].map((match) => match[1]!),
  );
  return [...new Set(names)].sort();
}

describe('demo page: mrkdwn as HTML', () => {
  it.each([
    ['*Event*\n`issue-new`', '<b>Event</b><br><code>issue-new</code>'],
    ['_italic_ and ~struck~', '<i>italic</i> and <s>struck</s>'],
    ['snake_case_name and 2*3*4', 'snake_case_name and 2*3*4'],
    [':red_circle: High', '🔴 High'],
    [':no_such_emoji:', ':no_such_emoji:'],
    [
      '<https://h.example/a?b=1&amp;c=2|View in Halo>',
      '<a href="https://h.example/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">View in Halo</a>',
    ],
    [
      '<https://h.example/>',
      '<a href="https://h.example/" target="_blank" rel="noopener noreferrer">https://h.example/</a>',
    ],
    ['Deleted by <@UDEMO>', 'Deleted by <span class="mention">@you</span>'],
    ['<@U999>', '<span class="mention">@U999</span>'],
    ['<#C1|alerts> <!here>', '<span class="mention">#alerts</span> <span class="mention">@here</span>'],
    [
      '<!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20.000Z>',
      '<time>2023-11-14 22:13 UTC</time>',
    ],
    ['```a < b\n*not bold*```', '<pre>a &lt; b\n*not bold*</pre>'],
    ['&lt;b&gt; &amp;quot;', '&lt;b&gt; &amp;quot;'],
    ['Muted in <#CDEMO>', 'Muted in <span class="mention">#halo-alerts</span>'],
  ])('%j → %j', (text, html) => {
    expect(mrkdwnToHtml(text, { people: { UDEMO: 'you' }, channels: { CDEMO: 'halo-alerts' } })).toBe(html);
  });

  it('renders every emoji the bot’s messages use', () => {
    const names = emojiInRenderers();
    // The scan finds them: the severity emoji, and the note of an alert whose event is gone.
    expect(names).toEqual(expect.arrayContaining(['red_circle', 'rotating_light', 'ghost', 'wastebasket']));
    const raw = names.filter((name) => emojify(`:${name}:`) === `:${name}:`);
    expect(raw).toEqual([]);
    for (const name of names) expect(mrkdwnToHtml(`:${name}:`)).not.toContain(':');
  });

  it('never lets text become markup: entities Slack decodes are escaped again for HTML', () => {
    expect(mrkdwnToHtml('&lt;img src=x onerror=alert(1)&gt; "quoted" \'single\'')).toBe(
      '&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &#39;single&#39;',
    );
    expect(mrkdwnToHtml('*&lt;script&gt;alert(1)&lt;/script&gt;*')).toBe(
      '<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>',
    );
  });

  it('links only http(s) and mailto URLs, and escapes the URL inside the attribute', () => {
    expect(mrkdwnToHtml('<javascript:alert(1)|click>')).toBe('click');
    expect(mrkdwnToHtml('<data:text/html,x>')).toBe('data:text/html,x');
    expect(mrkdwnToHtml('<https://x.example/"onmouseover="alert(1)|x>')).toBe(
      '<a href="https://x.example/&quot;onmouseover=&quot;alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
    );
  });

  it('plain text is literal: no formatting, every character escaped', () => {
    expect(plainToHtml(':warning: *not bold* <b>&amp;')).toBe('⚠️ *not bold* &lt;b&gt;&amp;amp;');
    expect(plainToHtml(':warning:', false)).toBe(':warning:');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});

describe('demo page: blocks as HTML', () => {
  it('renders a header, a section with fields, a context line and the controls with their action IDs', () => {
    const html = blocksToHtml(
      [
        { type: 'header', text: { type: 'plain_text', text: ':red_circle: High · <New Issue>' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Target*\nwww.example.com' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: '_seen_' }] },
        { type: 'divider' },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Delete event' },
              action_id: 'halo_delete_event',
              value: 'ev-1',
              style: 'danger',
              confirm: {
                title: { type: 'plain_text', text: 'Delete this event?' },
                text: { type: 'plain_text', text: '“A” <b> will go' },
                confirm: { type: 'plain_text', text: 'Delete' },
                deny: { type: 'plain_text', text: 'Cancel' },
              },
            },
            {
              type: 'static_select',
              action_id: 'halo_mute_menu',
              placeholder: { type: 'plain_text', text: 'Mute…' },
              option_groups: [
                {
                  label: { type: 'plain_text', text: 'Mute "x" here' },
                  options: [{ text: { type: 'plain_text', text: 'for 1 h' }, value: 'k|1h|x' }],
                },
              ],
            },
          ],
        },
        { type: 'rich_text', elements: [] },
      ],
      'fallback',
    );
    expect(html).toBe(
      '<h3 class="bk-header">🔴 High · &lt;New Issue&gt;</h3>' +
        '<section class="bk-section"><div class="bk-fields"><div><b>Target</b><br>www.example.com</div></div></section>' +
        '<div class="bk-context"><span><i>seen</i></span></div>' +
        '<hr class="bk-divider">' +
        '<div class="bk-actions">' +
        '<button type="button" class="bk-button bk-danger" data-action-id="halo_delete_event" ' +
        'data-confirm-title="Delete this event?" data-confirm-text="“A” &lt;b&gt; will go">Delete event</button>' +
        '<select class="bk-select" data-action-id="halo_mute_menu"><option value="" selected disabled>Mute…</option>' +
        '<optgroup label="Mute &quot;x&quot; here"><option value="k|1h|x">for 1 h</option></optgroup></select>' +
        '</div>' +
        '<div class="bk-unsupported">[rich_text block]</div>',
    );
  });

  it('shows the text as mrkdwn when a message has no blocks', () => {
    expect(blocksToHtml([], '*hello* &lt;x&gt;')).toBe('<div class="bk-text"><b>hello</b> &lt;x&gt;</div>');
  });

  it('renders a real alert whose Halo text is hostile without any markup from it', () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'';
    const alert = renderAlert({
      eventId: 'ev-1',
      subject: hostile,
      dateCreated: '2024-01-01 10:00',
      key: 'issue-new',
      url: 'javascript:alert(3)',
      target: { name: hostile, id: 7, host: 'www.example.com' },
    });
    const html = blocksToHtml(alert.blocks, alert.text);
    expect(html).not.toMatch(/<(img|script)/i);
    expect(html).not.toContain('javascript:');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });
});

describe('demo page: a message card', () => {
  const view: CardView = {
    kind: 'ephemeral',
    author: 'Halo',
    at: Date.UTC(2024, 0, 1, 12, 30, 5),
    text: 'x',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }],
    edited: true,
    deleted: false,
    inThread: false,
    broadcast: false,
  };

  it('says who, when and to whom, and links the blocks to Block Kit Builder', () => {
    expect(cardHtml(view)).toBe(
      '<div class="meta"><b>Halo</b><span class="app">APP</span><time>12:30:05 UTC</time>' +
        '<span class="badge">Only visible to you</span><span class="badge">(edited)</span></div>' +
        '<div class="body"><section class="bk-section"><div class="bk-text">hi</div></section></div>' +
        '<div class="tools"><a class="bkb" href="https://app.slack.com/block-kit-builder/#' +
        '%7B%22blocks%22%3A%5B%7B%22type%22%3A%22section%22%2C%22text%22%3A%7B%22type%22%3A%22mrkdwn%22%2C%22text%22%3A%22hi%22%7D%7D%5D%7D' +
        '" target="_blank" rel="noopener noreferrer">Open in Block Kit Builder</a></div>',
    );
  });

  it('shows a deleted message as deleted, and what the person typed as code', () => {
    expect(cardHtml({ ...view, deleted: true })).toContain(
      '<div class="body deleted">This message was deleted.</div>',
    );
    expect(cardHtml({ ...view, kind: 'user', author: 'you', text: '/halo <b>' })).toBe(
      '<div class="meta"><b>you</b><time>12:30:05 UTC</time><span class="badge">(edited)</span></div>' +
        '<div class="body"><code>/halo &lt;b&gt;</code></div>',
    );
  });

  it('builds the Block Kit Builder address from the blocks alone', () => {
    const url = blockKitBuilderUrl([{ type: 'divider' }]);
    expect(url).toBe(
      'https://app.slack.com/block-kit-builder/#%7B%22blocks%22%3A%5B%7B%22type%22%3A%22divider%22%7D%5D%7D',
    );
    expect(JSON.parse(decodeURIComponent(url.split('#')[1]!))).toEqual({ blocks: [{ type: 'divider' }] });
  });
});
