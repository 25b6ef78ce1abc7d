import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HaloEvent } from '../../src/domain/event.ts';
import {
  checkLimits,
  cleanText,
  DELETE_ACTION_ID,
  renderAlert,
  renderDeleted,
  type Block,
  type SlackMessage,
} from '../../src/slack/blocks/index.ts';

const event: HaloEvent = {
  eventId: '1234',
  subject: 'Target scan started',
  dateCreated: '2024-05-01 12:30',
  key: 'target-scan-start',
  url: 'https://app.halosecurity.com/event/1234?a=1&b=2',
  target: { name: 'Main site', id: 42, host: 'www.example.com' },
};

const at = new Date('2024-05-01T12:31:00Z');
const dateToken = '<!date^1714566660^{date_short_pretty} {time}|2024-05-01T12:31:00.000Z>';

/** The fallback text and every mrkdwn text in the message. */
function mrkdwnTexts(message: SlackMessage): string[] {
  const texts = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'section') {
      for (const t of [...(block.text === undefined ? [] : [block.text]), ...(block.fields ?? [])]) {
        if (t.type === 'mrkdwn') texts.push(t.text);
      }
    }
    if (block.type === 'context') for (const t of block.elements) if (t.type === 'mrkdwn') texts.push(t.text);
  }
  return texts;
}

/** What is left of `<` `>` `&` once the controls we write ourselves are taken out: must be only entities. */
function strayMarkup(text: string): string[] {
  const rest = text
    .replace(/<https?:\/\/[^<>|\s]+(\|[^<>\n]*)?>/g, '')
    .replace(/<@[UW][A-Z0-9]{1,20}>/g, '')
    .replace(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9T:.Z /A-Za-z_+-]+>/g, '');
  return [...(rest.match(/[<>]|&(?!amp;|lt;|gt;)/g) ?? [])];
}

function expectSafe(message: SlackMessage): void {
  expect(checkLimits(message)).toEqual([]);
  for (const text of mrkdwnTexts(message)) expect(strayMarkup(text), text).toEqual([]);
  // Every string but the button value (the raw event ID, sent back to Halo verbatim) is free of bidi and controls.
  JSON.stringify(message, (key, value: unknown) => {
    if (typeof value === 'string' && key !== 'value') expect(cleanText(value), key).toBe(value);
    return value;
  });
}

const fieldTexts = (message: SlackMessage): string[] => {
  const section = message.blocks.find((b) => b.type === 'section');
  return section?.type === 'section' ? (section.fields ?? []).map((f) => f.text) : [];
};

describe('renderAlert', () => {
  it('renders a typical event', () => {
    expect(renderAlert(event)).toEqual({
      text: 'Info: Target scan started — target-scan-start on www.example.com',
      color: '#9E9E9E',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: ':information_source: Info · Target scan started', emoji: true },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Event*\n`target-scan-start`', verbatim: true },
            { type: 'mrkdwn', text: '*Target*\nMain site · www.example.com · ID 42', verbatim: true },
            {
              type: 'mrkdwn',
              text: '*Created*\n<!date^1714566600^{date_short_pretty} {time}|2024-05-01 12:30 UTC>',
              verbatim: true,
            },
            { type: 'mrkdwn', text: '*Event ID*\n1234', verbatim: true },
          ],
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: '<https://app.halosecurity.com/event/1234?a=1&amp;b=2|View in Halo>',
              verbatim: true,
            },
          ],
        },
        {
          type: 'actions',
          block_id: 'halo_alert_actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Acknowledge' },
              action_id: 'halo_ack',
              value: '1234',
              style: 'primary',
            },
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Delete event' },
              action_id: 'halo_delete_event',
              value: '1234',
              style: 'danger',
              confirm: {
                title: { type: 'plain_text', text: 'Delete this event?' },
                text: {
                  type: 'plain_text',
                  text: '“Target scan started” (event 1234) will be deleted from Halo Security.',
                },
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
                  label: { type: 'plain_text', text: 'Mute “Target scan started” here' },
                  options: [
                    { text: { type: 'plain_text', text: 'for 1 h' }, value: 'k|1h|target-scan-start' },
                    { text: { type: 'plain_text', text: 'for 24 h' }, value: 'k|24h|target-scan-start' },
                    { text: { type: 'plain_text', text: 'for 7 d' }, value: 'k|7d|target-scan-start' },
                  ],
                },
                {
                  label: { type: 'plain_text', text: 'Mute www.example.com here' },
                  options: [
                    { text: { type: 'plain_text', text: 'for 1 h' }, value: 't|1h|42|www.example.com' },
                    { text: { type: 'plain_text', text: 'for 24 h' }, value: 't|24h|42|www.example.com' },
                    { text: { type: 'plain_text', text: 'for 7 d' }, value: 't|7d|42|www.example.com' },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(DELETE_ACTION_ID).toBe('halo_delete_event');
  });

  it('pings nobody: mentions are escaped in text and fields, literal in the plain_text header', () => {
    const ping = '<!channel> & <@U123>';
    const message = renderAlert({
      ...event,
      subject: ping,
      key: '<!here>',
      dateCreated: '<!everyone>',
      target: { name: '<@U999>', id: 1, host: '<https://evil.example|click me>' },
    });
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: `:large_orange_diamond: Medium · ${ping}`, emoji: true },
    });
    expect(message.text).toBe(
      'Medium: &lt;!channel&gt; &amp; &lt;@U123&gt; — &lt;!here&gt; on &lt;https://evil.example|click me&gt;',
    );
    expect(fieldTexts(message)).toEqual([
      '*Event*\n`&lt;!here&gt;`',
      '*Target*\n&lt;@U999&gt; · &lt;https://evil.example|click me&gt; · ID 1',
      '*Created*\n&lt;!everyone&gt;',
      '*Event ID*\n1234',
    ]);
    expectSafe(message);
  });

  it('keeps backticks in the key from closing the code span', () => {
    expect(fieldTexts(renderAlert({ ...event, key: 'a`b` *x*' }))[0]).toBe('*Event*\n`a\u02CBb\u02CB *x*`');
  });

  it('removes bidi and control characters everywhere', () => {
    const message = renderAlert({
      ...event,
      subject: 'Certificate for \u202Emoc.elgoog\u202C expires\u0007',
      key: 'website-\u2066cert\u2069-risk\u0000',
      target: { name: '', id: 7, host: 'www.\u200Fexample\u0085.com' },
    });
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: ':red_circle: High · Certificate for moc.elgoog expires',
        emoji: true,
      },
    });
    expect(fieldTexts(message).slice(0, 2)).toEqual([
      '*Event*\n`website-cert-risk`',
      '*Target*\nwww.example.com · ID 7',
    ]);
    expect(message.text).toBe(
      'High: Certificate for moc.elgoog expires — website-cert-risk on www.example.com',
    );
    expectSafe(message);
  });

  it('removes zero-width characters from the header, every field, the fallback and the confirm dialog', () => {
    const zw = (s: string) => s.split('').join('\u200B\u200C\u200D\u2060\uFEFF');
    const message = renderAlert({
      ...event,
      subject: zw('Login at paypal.com'),
      key: zw('account-user-add'),
      dateCreated: zw('2024-05-01 12:30'),
      eventId: zw('1234'),
      target: { name: zw('Pay'), id: 7, host: zw('paypal.com') },
    });
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':large_orange_diamond: Medium · Login at paypal.com', emoji: true },
    });
    expect(fieldTexts(message)).toEqual([
      '*Event*\n`account-user-add`',
      '*Target*\nPay · paypal.com · ID 7',
      '*Created*\n2024-05-01 12:30',
      '*Event ID*\n1234',
    ]);
    expect(message.text).toBe('Medium: Login at paypal.com — account-user-add on paypal.com');
    const actions = message.blocks.find((b) => b.type === 'actions');
    const button =
      actions?.type === 'actions'
        ? actions.elements.find((e) => e.action_id === DELETE_ACTION_ID)
        : undefined;
    const confirm = button?.type === 'button' ? button.confirm?.text.text : undefined;
    expect(confirm).toBe('“Login at paypal.com” (event 1234) will be deleted from Halo Security.');
    // Values are not shown: they carry the ID (and the menu the key) exactly as Halo knows them, or the delete
    // would miss and the mute match nothing.
    const shown = JSON.stringify(message).replace(/"value":"(?:[^"\\]|\\.)*"/g, '');
    expect(shown).not.toMatch(/[\u200B-\u200D\u2060\uFEFF]/);
  });

  it('folds newlines in every field, so that none can fake a bold label line', () => {
    const fake = '\n*Approved by*\nsecurity team';
    const message = renderAlert({
      ...event,
      key: `target-scan-start${fake}`,
      dateCreated: `2024-05-01 12:30${fake}`,
      eventId: `1234${fake}`,
      target: { name: `Main${fake}`, id: 42, host: `www.example.com${fake}` },
    });
    expect(fieldTexts(message)).toEqual([
      '*Event*\n`target-scan-start *Approved by* security team`',
      '*Target*\nMain *Approved by* security team · www.example.com *Approved by* security team · ID 42',
      '*Created*\n2024-05-01 12:30 *Approved by* security team',
      '*Event ID*\n1234 *Approved by* security team',
    ]);
  });

  it('stays within every limit with 10,000-character values, entities intact', () => {
    const huge = (unit: string) => unit.repeat(10_000).slice(0, 10_000);
    for (const unit of ['x', '&', '<', '😀', '`', '&<>\n']) {
      const message = renderAlert({
        eventId: huge(unit).slice(0, 2000),
        subject: huge(unit),
        dateCreated: huge(unit),
        key: huge(unit),
        url: `https://example.com/${huge(unit)}`,
        target: { name: huge(unit), id: 123456789, host: huge(unit) },
      });
      expectSafe(message);
      expect(fieldTexts(message)[1], unit).toMatch(/ · ID 123456789$/);
      expect(message.text.length).toBeLessThanOrEqual(500);
    }
  });

  it('gives no link for a URL that is not http(s), or too long to carry', () => {
    for (const url of [
      '',
      'javascript:alert(1)',
      'ftp://example.com/x',
      '/event/1',
      `https://x.com/${'a'.repeat(3000)}`,
    ]) {
      const message = renderAlert({ ...event, url });
      expect(
        message.blocks.map((b) => b.type),
        url,
      ).toEqual(['header', 'section', 'actions']);
      expect(JSON.stringify(message)).not.toContain('View in Halo');
    }
  });

  it('shows a dash for a missing target and leaves it out of the fallback', () => {
    const message = renderAlert({ ...event, target: null });
    expect(fieldTexts(message)[1]).toBe('*Target*\n—');
    expect(message.text).toBe('Info: Target scan started — target-scan-start');
    expect(fieldTexts(renderAlert({ ...event, target: { name: '', id: null, host: '' } }))[1]).toBe(
      '*Target*\n—',
    );
    expect(fieldTexts(renderAlert({ ...event, target: { name: 'a.com', id: null, host: 'a.com' } }))[1]).toBe(
      '*Target*\na.com',
    );
  });

  it('says "unknown" for an empty date, and names the event when the subject is empty', () => {
    const message = renderAlert({ ...event, subject: ' \u202E ', dateCreated: '', key: '' });
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':large_orange_diamond: Medium · Halo Security event', emoji: true },
    });
    expect(fieldTexts(message)).toEqual([
      '*Event*\n—',
      expect.any(String),
      '*Created*\nunknown',
      '*Event ID*\n1234',
    ]);
    expect(message.text).toBe('Medium: Halo Security event on www.example.com');
    expectSafe(message);
  });

  it('names the type in the Mute menu as the header does, by its key only when Halo sent no subject', () => {
    const groupLabels = (message: SlackMessage): string[] =>
      message.blocks.flatMap((block) =>
        block.type === 'actions'
          ? block.elements.flatMap((element) =>
              element.type === 'static_select' ? element.option_groups.map((group) => group.label.text) : [],
            )
          : [],
      );
    const apiKey = { ...event, subject: 'API Key Added', key: 'account-apikey-add' };
    expect(groupLabels(renderAlert(apiKey))).toEqual([
      'Mute “API Key Added” here',
      'Mute www.example.com here',
    ]);
    expect(groupLabels(renderAlert({ ...apiKey, subject: ' \u202E ' }))[0]).toBe(
      'Mute account-apikey-add here',
    );
  });

  it('keeps a full-length ID on the button, and omits the button rather than cut a longer one', () => {
    const longest = 'e'.repeat(2000);
    const ok = renderAlert({ ...event, eventId: longest });
    const actions = ok.blocks.find((b) => b.type === 'actions');
    const deleteButton =
      actions?.type === 'actions'
        ? actions.elements.find((e) => e.action_id === DELETE_ACTION_ID)
        : undefined;
    expect(deleteButton?.type === 'button' && deleteButton.value).toBe(longest);
    expectSafe(ok);

    const tooLong = renderAlert({ ...event, eventId: 'e'.repeat(2001) });
    expect(tooLong.blocks.some((b) => b.type === 'actions')).toBe(false);
    expectSafe(tooLong);
    expect(renderAlert({ ...event, eventId: '' }).blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('fits the confirm dialog whatever the subject and ID', () => {
    const message = renderAlert({ ...event, subject: 'S'.repeat(5000), eventId: '9'.repeat(2000) });
    const actions = message.blocks.find((b) => b.type === 'actions');
    const button =
      actions?.type === 'actions'
        ? actions.elements.find((e) => e.action_id === DELETE_ACTION_ID)
        : undefined;
    const text = button?.type === 'button' ? button.confirm?.text.text : undefined;
    expect(text).toMatch(/^“S+…” \(event 9+…\) will be deleted from Halo Security\.$/);
    expectSafe(message);
  });

  it('is safe for any event', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '&', '<', '>', '`', '|', '*', '\n', '\u202E', '\u0000', '😀', '\uD800'),
      maxLength: 3000,
    });
    const target = fc.option(fc.record({ name: text, id: fc.option(fc.nat()), host: text }), { nil: null });
    const arbEvent = fc.record({
      eventId: fc.string({ maxLength: 2100 }),
      subject: text,
      dateCreated: text,
      key: text,
      url: fc.oneof(text, fc.webUrl()),
      target,
    });
    fc.assert(
      fc.property(arbEvent, (e) => {
        expectSafe(renderAlert(e));
      }),
      { numRuns: 200 },
    );
  });
});

describe('renderDeleted', () => {
  const original = renderAlert(event).blocks;
  const deletedNote = (text: string): Block => ({
    type: 'context',
    block_id: 'halo_deleted',
    elements: [{ type: 'mrkdwn', text, verbatim: true }],
  });

  it('removes the Delete button and says who deleted the event, and when', () => {
    const message = renderDeleted(original, {
      eventId: '1234',
      userId: 'U123ABC',
      at,
      alreadyDeleted: false,
    });
    expect(message).toEqual({
      text: 'Halo event 1234 deleted by <@U123ABC>',
      blocks: [...original.slice(0, 3), deletedNote(`:wastebasket: Deleted by <@U123ABC> ${dateToken}`)],
    });
    expectSafe(message);
  });

  it('says when Halo had already deleted it', () => {
    const message = renderDeleted(original, { eventId: '1234', userId: 'W42', at, alreadyDeleted: true });
    expect(message.text).toBe('Halo event 1234 was already deleted in Halo (checked by <@W42>)');
    expect(message.blocks.at(-1)).toEqual(
      deletedNote(`:wastebasket: This event was already deleted in Halo (checked by <@W42> ${dateToken})`),
    );
  });

  it('names "someone" when the user ID does not look like one', () => {
    const message = renderDeleted(original, {
      eventId: '1',
      userId: '<!channel>',
      at,
      alreadyDeleted: false,
    });
    expect(message.text).toBe('Halo event 1 deleted by someone');
    expect(message.blocks.at(-1)).toEqual(deletedNote(`:wastebasket: Deleted by someone ${dateToken}`));
  });

  it('names the event when there are no original blocks (ephemeral messages)', () => {
    const message = renderDeleted(undefined, {
      eventId: '<!here>',
      userId: 'U1',
      at: new Date(Number.NaN),
      alreadyDeleted: false,
    });
    expect(message).toEqual({
      text: 'Halo event &lt;!here&gt; deleted by <@U1>',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Halo event `&lt;!here&gt;`', verbatim: true } },
        deletedNote(':wastebasket: Deleted by <@U1>'),
      ],
    });
    expectSafe(message);
  });

  it('keeps other actions, replaces an earlier note, and never exceeds 50 blocks', () => {
    const other: Block = {
      type: 'actions',
      block_id: 'other',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, action_id: 'open' }],
    };
    const once = renderDeleted([...original, other], {
      eventId: '1234',
      userId: 'U1',
      at,
      alreadyDeleted: false,
    });
    const twice = renderDeleted(once.blocks, { eventId: '1234', userId: 'U2', at, alreadyDeleted: true });
    expect(twice.blocks.map((b) => b.block_id ?? b.type)).toEqual([
      'header',
      'section',
      'context',
      'other',
      'halo_deleted',
    ]);

    const many: Block[] = Array.from({ length: 60 }, () => ({ type: 'divider' }));
    const message = renderDeleted(many, { eventId: '1', userId: 'U1', at, alreadyDeleted: false });
    expect(message.blocks).toHaveLength(50);
    expect(message.blocks.at(-1)?.block_id).toBe('halo_deleted');
    expect(checkLimits(message)).toEqual([]);
  });

  it('stays within limits for a huge event ID', () => {
    expectSafe(
      renderDeleted(undefined, { eventId: '&'.repeat(10_000), userId: 'U1', at, alreadyDeleted: true }),
    );
  });
});
