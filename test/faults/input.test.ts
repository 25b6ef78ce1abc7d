// Hostile input: every /halo argument a fuzzer can make, Halo events full of markup and control characters,
// garbage interactive payloads, unknown actions and buttons naming events that do not exist.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLimits, DELETE_ACTION_ID, type Block } from '../../src/slack/blocks/index.ts';
import { blockActionBody } from '../../fakes/sign.ts';
import {
  ADMIN,
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  logMatch,
  logText,
  markupProblems,
  record,
  ROOMY,
  scenarioPerTest,
  to,
  type Scenario,
} from './scenario.ts';

const scenario = scenarioPerTest();

/** Markup, entities, control and bidirectional characters, quotes and filter names. */
const TRICKY = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U123ABC>',
  '<!subteam^S0123|@team>',
  '<#C999|general>',
  '<https://evil.example|click me>',
  '&lt;!channel&gt;',
  '&amp;lt;!here&amp;gt;',
  '*bold*',
  '_it_',
  '~x~',
  '`',
  '```',
  '> quote',
  '\u202E',
  '\u2066',
  '\u200F',
  '\u200B',
  '\u200D',
  '\u2060',
  '\uFEFF',
  'pay\u200Bpal.com',
  '\n*Approved*\n',
  '\u0000',
  '\u0007',
  '\u001B[31m',
  '\n',
  '\r\n',
  '\t',
  '"',
  '“',
  '”',
  "'",
  '’',
  'key:',
  'target:',
  'subject:',
  'detail:',
  'limit:',
  'all',
  '42',
  '-1',
  '99999999999',
  '\uD800',
  '👍🏽',
  'x'.repeat(300),
];
const tricky = fc.constantFrom(...TRICKY);
const subcommand = fc.constantFrom(
  '',
  'events',
  'event',
  'types',
  'subscribe',
  'unsubscribe',
  'subscriptions',
  'status',
  'help',
  'EVENTS',
  'nope',
);
const commandText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc
    .tuple(
      subcommand,
      fc.array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 8 }),
      fc.constantFrom(' ', '', '\u00A0'),
    )
    .map(([command, parts, glue]) => [command, ...parts].join(glue === '' ? ' ' : glue)),
  fc
    .tuple(subcommand, fc.string({ unit: 'binary', minLength: 4990, maxLength: 5000 }))
    .map(([command, long]) => `${command} ${long}`),
);

async function runningBot(s: Scenario) {
  const fakes = await s.start();
  for (let i = 0; i < 3; i++) fakes.halo.addEvent();
  fakes.halo.addEvent({ subject: 'Hi <!channel> <@U999> <https://evil.example|x>', key: '<!here>' });
  const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN }));
  await logMatch(bot, /poll: baseline recorded/);
  return { ...fakes, bot };
}

/** An answer that Slack would show as meant: no live markup from the input, within Block Kit's limits. */
function expectSafe(message: Record<string, unknown>, input: string, mentions: string[] = []): void {
  const why = `for input ${JSON.stringify(input.slice(0, 200))}`;
  expect(markupProblems(message, mentions), `live markup ${why}`).toEqual([]);
  const blocks = (message.blocks ?? []) as Block[];
  expect(
    checkLimits({ text: typeof message.text === 'string' ? message.text : '', blocks }),
    `Block Kit limits ${why}`,
  ).toEqual([]);
}

/**
 * What could fool a reader of an alert: a character that hides or reorders text (controls, bidi, zero-width)
 * anywhere Slack shows it, or a field of more than its label line and one value line (a newline in a Halo value
 * could fake another bold label). Button values are not shown, and carry the event ID exactly.
 */
function deceptions(blocks: readonly unknown[], text: string): string[] {
  const found: string[] = [];
  const strings: string[] = [text];
  JSON.stringify(blocks, (key, value: unknown) => {
    if (key === 'value') return undefined;
    if (typeof value === 'string') strings.push(value);
    return value;
  });
  const hiding =
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/u;
  for (const shown of strings)
    if (hiding.test(shown)) found.push(`a hiding character in ${JSON.stringify(shown.slice(0, 80))}`);
  for (const block of blocks as { fields?: { text: string }[] }[]) {
    for (const field of block.fields ?? [])
      if (!/^\*[^*\n]+\*\n[^\n]*$/.test(field.text))
        found.push(`field ${JSON.stringify(field.text.slice(0, 80))}`);
  }
  return found;
}

function expectNoListenerFailure(logs: string): void {
  expect(logs).not.toMatch(
    /a listener failed|unhandled rejection|uncaught exception|command failed unexpectedly/,
  );
}

describe('/halo with any argument text (fast-check)', ROOMY, () => {
  it('is acknowledged, answers without live markup within Block Kit limits, and the bot stays up', async (context) => {
    const s = scenario.current;
    const { bot } = await runningBot(s);
    let runs = 0;
    // Half the commands come from an allowed user, so that subscriptions with odd keys get stored and echoed.
    await fc.assert(
      fc.asyncProperty(commandText, fc.boolean(), async (text, admin) => {
        runs++;
        const { ack, body } = await s.command(bot, text, { user: admin ? ADMIN : 'U123' });
        expect(ack.status).toBe(200);
        expectSafe(body, text, [ADMIN]);
      }),
      { numRuns: 50 },
    );
    const stored = await s.command(bot, 'subscriptions', { user: ADMIN });
    expectSafe(stored.body, '/halo subscriptions after the fuzz', [ADMIN]);
    expect((await s.health(bot)).status).toBe(200);
    expectNoListenerFailure(logText(bot));
    record(context, {
      area: 'Input',
      fault: `/halo fuzzed: ${runs} argument strings`,
      behaviour: 'acked 200 each time; answers escaped, within limits; bot up',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});

describe('Halo events full of markup, control and bidi characters, 5,000-character fields', ROOMY, () => {
  it('are posted once each, escaped, within limits, and listed safely by /halo events', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await runningBot(s);
    const nasty = fc.oneof(
      tricky,
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ unit: 'binary', minLength: 5000, maxLength: 5000 }),
      fc.array(tricky, { minLength: 2, maxLength: 6 }).map((parts) => parts.join('')),
    );
    const seed = Date.now() % 1_000_000;
    const samples = fc.sample(
      fc.record({
        subject: nasty,
        name: nasty,
        host: nasty,
        key: nasty,
        date: nasty,
        url: fc.oneof(fc.webUrl(), nasty, fc.constant('javascript:alert(1)')),
        // Not a lone surrogate: it cannot survive UTF-8 on the way to Slack, so the button could not carry
        // it. Not U+0000 either: no PostgreSQL text can hold it, so such an event is malformed (halo-parse tests).
        id: fc.oneof(
          tricky.filter((t) => t !== '\uD800' && t !== '\u0000'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
        ),
      }),
      { numRuns: 6, seed },
    );
    const events = samples.map((f, i) =>
      halo.addEvent({
        event_id: `ev-fuzz-${i}-${f.id}`,
        subject: f.subject,
        key: f.key,
        date_created: f.date,
        url: f.url,
        target: { target_name: f.name, target_id: 1, target: f.host },
      }),
    );
    await slack.waitFor(() => slack.posts.length >= events.length, 30_000);
    await completedPolls(bot, 2);
    for (const post of slack.posts) {
      expectSafe({ text: post.text, blocks: post.blocks }, `event (seed ${seed})`);
      expect(deceptions(post.blocks, post.text), `event (seed ${seed})`).toEqual([]);
    }
    const list = await s.command(bot, 'events');
    expectSafe(list.body, `/halo events (seed ${seed})`);
    const counts = countAlerts(slack.posts, to(ALERTS, ...events));
    record(context, {
      area: 'Input',
      fault: 'markup/control/bidi/zero-width/newline/5,000-char Halo fields',
      behaviour: 'alerts and /halo events escaped them, within limits',
      ...countsRow(counts),
    });
    expectCounts(counts);
  });
});

describe('interactive payloads', ROOMY, () => {
  it('garbage payloads get a 4xx or an empty ack, never crash the bot', async (context) => {
    const s = scenario.current;
    const { bot, slack } = await runningBot(s);
    const form = (payload: unknown): string => blockActionBody(payload as Record<string, unknown>);
    const responseUrl = slack.responseUrl('garbage');
    const bodies = [
      'payload=%7Bnot-json',
      'payload=',
      form(null),
      form([]),
      form({}),
      form({ type: 'block_actions' }),
      form({ type: 'block_actions', user: { id: 'U1' }, actions: [] }),
      form({ type: 'block_actions', user: { id: 'U1' }, actions: [{}], response_url: responseUrl }),
      form({ type: 'block_actions', user: null, actions: [{ action_id: DELETE_ACTION_ID }] }),
      form({
        type: 'block_actions',
        user: { id: ADMIN },
        actions: [{ action_id: DELETE_ACTION_ID, value: 123, type: 'button' }],
        response_url: responseUrl,
      }),
      form({ type: 'view_submission', view: { callback_id: 'x' } }),
      form({ type: 'shortcut', callback_id: 'x' }),
      form({ type: 'something_else' }),
      'garbage=1',
      '',
      `payload=${'x'.repeat(200_000)}`,
    ];
    // Side by side: Bolt answers a payload of no known type only when its 3 s acknowledgement timer runs out.
    const answers = await Promise.all(
      bodies.map(async (body) => ({ body: body.slice(0, 160), status: (await s.post(bot, body)).status })),
    );
    const statuses = [...new Set(answers.map((a) => a.status))].sort();
    const health = await s.health(bot);
    record(context, {
      area: 'Input',
      fault: `${bodies.length} garbage interactive payloads`,
      behaviour: `answered HTTP ${statuses.join('/')}; bot stayed up`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(health.status).toBe(200);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    expectNoListenerFailure(logText(bot));
    for (const response of slack.responses) expectSafe(response.body, 'garbage payload');
  });

  it('unknown action IDs are acknowledged and answered politely', async (context) => {
    const s = scenario.current;
    const { bot } = await runningBot(s);
    for (const actionId of ['halo_unknown', '<!channel>', 'x'.repeat(255)]) {
      const click = await s.click(bot, { actionId, value: 'v', user: 'U123' });
      expect(click.ack.status).toBe(200);
      const answer = await s.response(click.responseId);
      expect(String(answer.text)).toContain('not supported');
      expectSafe(answer, actionId);
    }
    expectNoListenerFailure(logText(bot));
    record(context, {
      area: 'Input',
      fault: 'unknown action IDs',
      behaviour: 'acked 200, answered "not supported by this version"',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });

  it('a Delete button naming an event that does not exist, or no valid event at all', async (context) => {
    const s = scenario.current;
    const { bot, halo } = await runningBot(s);
    const before = halo.events.length;
    const cases: { value: string; user: string; answer: RegExp }[] = [
      { value: 'ev-does-not-exist', user: ADMIN, answer: /already deleted in Halo/ },
      { value: '<!channel> ev-nope', user: ADMIN, answer: /already deleted in Halo/ },
      { value: '\u202Eev-1', user: ADMIN, answer: /already deleted in Halo/ },
      { value: '', user: ADMIN, answer: /does not name a valid event/ },
      { value: 'x'.repeat(3000), user: ADMIN, answer: /does not name a valid event/ },
      { value: 'ev\u0000nul', user: ADMIN, answer: /does not name a valid event/ },
      { value: halo.events[0]!.event_id, user: 'U123', answer: /not allowed/ },
    ];
    for (const c of cases) {
      const click = await s.click(bot, { actionId: DELETE_ACTION_ID, value: c.value, user: c.user });
      expect(click.ack.status).toBe(200);
      const answer = await s.response(click.responseId);
      expect(JSON.stringify(answer), JSON.stringify(c.value.slice(0, 40))).toMatch(c.answer);
      expectSafe(answer, c.value, [ADMIN]);
    }
    const page = await s.click(bot, {
      actionId: 'halo_events_page',
      value: '{"f":"<!here>","s":-1}',
      user: 'U123',
    });
    expect(JSON.stringify(await s.response(page.responseId))).toContain('out of date');
    expect(halo.events).toHaveLength(before);
    expectNoListenerFailure(logText(bot));
    record(context, {
      area: 'Input',
      fault: 'Delete button: missing, malformed or foreign event',
      behaviour: '"already deleted in Halo" / "not a valid event" / "not allowed"; nothing deleted',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});
