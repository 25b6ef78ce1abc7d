/**
 * `/halo` driven as Slack drives it: signed form-encoded commands, answers read from the response_url they
 * were sent to, button clicks as signed `block_actions` payloads, and Halo's side read from its requests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NEXT_PAGE_ACTION_ID } from '../../src/slack/blocks/answer-message.ts';
import { NOT_ALLOWED } from '../../src/commands/service.ts';
import { USAGE } from '../../src/commands/usage.ts';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { haloDate, type FakeHaloEvent, type HaloFault, type HaloRequest } from '../../fakes/halo.ts';
import { blockActionBody, buttonClickPayload, postToBot, slashCommandBody } from '../../fakes/sign.ts';
import {
  botEnv,
  delay,
  getJson,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
  shownBody,
  testClock,
  type TestClock,
} from '../harness.ts';
import { PRODUCTION_DELAYS } from '../../src/delays.ts';
import { FRESH_LISTING_MS } from '../../src/commands/listings.ts';

type Body = Record<string, unknown>;

interface Answer {
  readonly body: Body;
  /** The fallback text and every text object, as the user reads them. */
  readonly text: string;
  /** The texts Slack reads as mrkdwn: the fallback text and every mrkdwn object. */
  readonly mrkdwn: string[];
}

interface Button {
  readonly action_id: string;
  readonly value: string;
}

let responseCount = 0;

function collect(body: Body): Answer {
  const all: string[] = [typeof body.text === 'string' ? body.text : ''];
  const mrkdwn: string[] = [...all];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      const { type, text } = node as { type?: unknown; text?: unknown };
      if (typeof text === 'string') {
        all.push(text);
        if (type === 'mrkdwn') mrkdwn.push(text);
      }
      for (const value of Object.values(node)) if (typeof value === 'object') walk(value);
    }
  };
  walk(body.blocks);
  return { body, text: all.join('\n'), mrkdwn };
}

function buttons(body: Body): Button[] {
  const blocks = (body.blocks ?? []) as { type: string; elements?: Button[] }[];
  return blocks.flatMap((block) => (block.type === 'actions' ? (block.elements ?? []) : []));
}

/** Event IDs in the order an event list shows them. */
function listedIds(answer: Answer): string[] {
  return [...answer.text.matchAll(/ID `([^`]+)`/g)].map((match) => match[1]!);
}

/** Mentions and links Slack would act on; escaped text (`&lt;!channel&gt;`) does not match. */
const SLACK_CONTROLS = /<[!@#]|<https?:/;
/** What a stack trace or an internal error leaks; none of it belongs in an answer. */
const LEAKS = /\n\s+at |\w+Error\b|\.ts\b|127\.0\.0\.1|api\/v1|test-halo-api-key/;

interface Context {
  fakes: Fakes;
  bot: InProcessBot;
}

/** The bot and the fakes of the current describe block. */
const current: Partial<Context> = {};

function ctx(): Context {
  if (current.fakes === undefined || current.bot === undefined) throw new Error('no bot running');
  return current as Context;
}

function useBot(env: Record<string, string>, clock?: TestClock): void {
  beforeAll(async () => {
    const fakes = await startFakes();
    current.fakes = fakes;
    current.bot = await inProcessBot(botEnv(fakes, env), clock === undefined ? {} : { clock });
  });
  afterAll(async () => {
    await current.bot?.stop();
    await current.fakes?.close();
    delete current.bot;
    delete current.fakes;
  });
  afterEach(() => {
    if (current.fakes !== undefined) current.fakes.halo.fault = undefined;
  });
}

async function answerAt(responseId: string): Promise<Answer> {
  const { fakes } = ctx();
  const post = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === responseId));
  return collect(shownBody(post.body));
}

/** Sends `/halo TEXT` signed as Slack does and returns Slack's view of the ack and of the answer. */
async function slash(
  text: string,
  options: { user?: string; channel?: string } = {},
): Promise<Answer & { ack: Awaited<ReturnType<typeof postToBot>> }> {
  const { fakes, bot } = ctx();
  const id = `command-${++responseCount}`;
  const body = slashCommandBody({
    text,
    user_id: options.user ?? 'UADMIN',
    channel_id: options.channel ?? 'C123',
    response_url: fakes.slack.responseUrl(id),
  });
  const ack = await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  expect(ack.text).toBe('');
  return { ack, ...(await answerAt(id)) };
}

/** Clicks a button of an ephemeral answer, as Slack sends it, and returns the answer to the click. */
async function click(answer: Answer, actionId: string): Promise<Answer> {
  const { fakes, bot } = ctx();
  const button = buttons(answer.body).find((b) => b.action_id === actionId);
  if (button === undefined) throw new Error(`no ${actionId} button in ${answer.text}`);
  const id = `click-${++responseCount}`;
  const payload = buttonClickPayload({
    actionId,
    value: button.value,
    userId: 'UADMIN',
    channelId: 'C123',
    responseUrl: fakes.slack.responseUrl(id),
    messageBlocks: answer.body.blocks as unknown[],
    isEphemeral: true,
  });
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  return answerAt(id);
}

function listRequestsSince(count: number): HaloRequest[] {
  return ctx()
    .fakes.halo.requests.slice(count)
    .filter((r) => r.path.endsWith('/event/list.json'));
}

/** Events with rising dates, added to Halo in the order given. */
function addEvents(n: number, partial: Partial<FakeHaloEvent> & { target_id?: number }): FakeHaloEvent[] {
  return Array.from({ length: n }, (_, i) =>
    ctx().fakes.halo.addEvent({
      ...partial,
      date_created: haloDate(Date.UTC(2026, 0, 1, 10, i)),
    }),
  );
}

async function firstPoll(): Promise<void> {
  const { bot } = ctx();
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
}

/**
 * Waits until a poll that started after this call has finished: subscriptions take effect from the next poll
 * on, and a poll already under way routes with the subscriptions it started with.
 */
async function nextPollStarted(): Promise<void> {
  const { bot } = ctx();
  const polls = (): number => bot.logs.filter((line) => / poll: (done|baseline recorded)/.test(line)).length;
  const before = polls();
  await waitFor('a poll that started after the change', () => polls() >= before + 2);
}

describe('/halo for anyone: events, event, types, status, help', () => {
  // No alert channel and no subscriptions: the poller asks Halo nothing; every Halo request is a command's.
  // Moved on by the tests of the listing's lifetime (Slack's request signatures are checked on the real clock).
  const clock = testClock();
  useBot({ HALO_ALERT_CHANNEL: '', HALO_ADMIN_USERS: 'UADMIN' }, clock);

  it('lists events matching key, target, subject and detail, newest first, asking Halo so', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const port = { key: 'port-open', target_id: 42, subject: 'New Open Port 22/tcp' };
    const older = fakes.halo.addEvent({ ...port, date_created: '2026-01-02 10:00' });
    const newest = fakes.halo.addEvent({ ...port, date_created: '2026-03-01 09:00' });
    const middle = fakes.halo.addEvent({ ...port, date_created: '2026-02-01 09:00' });
    const others = [
      fakes.halo.addEvent({ ...port, target_id: 7 }),
      fakes.halo.addEvent({ ...port, key: 'port-close' }),
      fakes.halo.addEvent({ ...port, subject: 'Port Closed 22/tcp' }),
    ];
    const before = fakes.halo.requests.length;

    const answer = await slash('events key:port-open target=42 subject:"open port" DETAIL:22/TCP');

    const requests = listRequestsSince(before);
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request.query.get('key')).toBe('port-open');
      expect(request.query.get('target_id')).toBe('42');
      expect(request.query.get('subject')).toBe('open port');
      expect(request.query.get('detail')).toBe('22/TCP');
    }
    expect(listedIds(answer)).toEqual([newest.event_id, middle.event_id, older.event_id]);
    for (const other of others) expect(answer.text).not.toContain(`\`${other.event_id}\``);
    expect(answer.text).toContain('*3 events* matching');
    expect(answer.text).toContain('host42.example.com');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(buttons(answer.body)).toEqual([]);
  });

  it('shows 20 events a page, and Next page replaces the list with the following page', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const newestFirst = addEvents(25, { key: 'issue-new' })
      .map((e) => e.event_id)
      .reverse();
    fakes.halo.addEvent({ key: 'domain-add', date_created: '2027-01-01 00:00' });

    const first = await slash('events key:issue-new');
    expect(listedIds(first)).toEqual(newestFirst.slice(0, 20));
    expect(first.text).toContain('page 1 of 2');
    expect(buttons(first.body).map((b) => b.action_id)).toEqual([NEXT_PAGE_ACTION_ID]);

    const before = fakes.halo.requests.length;
    const second = await click(first, NEXT_PAGE_ACTION_ID);
    expect(second.body.replace_original).toBe(true);
    expect(listedIds(second)).toEqual(newestFirst.slice(20));
    expect(second.text).toContain('page 2 of 2');
    expect(buttons(second.body)).toEqual([]);
    // The listing the command read serves its Next page: Halo is not asked again.
    expect(fakes.halo.requests.length).toBe(before);
  });

  it('does not show an event deleted with its button on a kept listing’s Next page', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const newestFirst = addEvents(25, { key: 'issue-new' })
      .map((e) => e.event_id)
      .reverse();
    // An earlier test's listing of the same query is no longer fresh enough for a command.
    clock.advance(FRESH_LISTING_MS);
    const first = await slash('events key:issue-new');
    expect(listedIds(first)).toEqual(newestFirst.slice(0, 20));

    // An admin deletes one of page 2's events from its /halo event answer.
    const doomed = newestFirst[22]!;
    const shown = await slash(`event ${doomed}`);
    const deleted = await click(shown, DELETE_ACTION_ID);
    expect(deleted.text).toContain('deleted');

    const before = fakes.halo.requests.length;
    const second = await click(first, NEXT_PAGE_ACTION_ID);
    expect(listedIds(second)).toEqual(newestFirst.slice(20).filter((id) => id !== doomed));
    // The listing that showed it was dropped: Next page read Halo afresh.
    expect(listRequestsSince(before).length).toBeGreaterThan(0);
  });

  it('reads the listing afresh for the command once it is 5 s old, and for a Next page once it is 5 minutes old', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const newestFirst = addEvents(3, { key: 'port-open' })
      .map((e) => e.event_id)
      .reverse();
    const first = await slash('events key:port-open limit:2');
    expect(listedIds(first)).toEqual(newestFirst.slice(0, 2));
    const added = fakes.halo.addEvent({ key: 'port-open', date_created: '2027-01-01 00:00' });

    // Within the lifetime (the clock also runs in real time): the listing as it was read, at no Halo request.
    let before = fakes.halo.requests.length;
    clock.advance(PRODUCTION_DELAYS.listingCacheMs - 60_000);
    const kept = await click(first, NEXT_PAGE_ACTION_ID);
    expect(fakes.halo.requests.length).toBe(before);
    expect(listedIds(kept)).toEqual(newestFirst.slice(2));
    expect(kept.text).toContain('page 2 of 2');

    // Past the lifetime: read afresh, with the same filter, and nothing stale shown.
    clock.advance(60_000);
    const fresh = await click(first, NEXT_PAGE_ACTION_ID);
    const requests = listRequestsSince(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.map((r) => r.query.get('key'))).toEqual(requests.map(() => 'port-open'));
    expect(listedIds(fresh)).toEqual([added.event_id, ...newestFirst].slice(2, 4));
    expect(fresh.text).toContain('*4 events* matching');

    // The command itself uses a kept listing only for a few seconds after its read.
    before = fakes.halo.requests.length;
    await slash('events key:port-open limit:2');
    expect(listRequestsSince(before)).toEqual([]);
    clock.advance(FRESH_LISTING_MS);
    const again = await slash('events key:port-open limit:2');
    expect(listRequestsSince(before).length).toBeGreaterThan(0);
    expect(listedIds(again)).toEqual([added.event_id, newestFirst[0]]);
  });

  it('takes limit:N as the page size', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const newestFirst = addEvents(12, { key: 'port-close' })
      .map((e) => e.event_id)
      .reverse();

    const first = await slash('events key:port-close limit:5');
    expect(listedIds(first)).toEqual(newestFirst.slice(0, 5));
    expect(first.text).toContain('page 1 of 3');
    const second = await click(first, NEXT_PAGE_ACTION_ID);
    expect(listedIds(second)).toEqual(newestFirst.slice(5, 10));
    const third = await click(second, NEXT_PAGE_ACTION_ID);
    expect(listedIds(third)).toEqual(newestFirst.slice(10));
    expect(third.text).toContain('page 3 of 3');
    expect(buttons(third.body)).toEqual([]);

    const none = await slash('events key:no-such-key');
    expect(none.text).toContain('No Halo events match `/halo events key:no-such-key`');
  });

  it('keeps the list when Next page meets a Halo failure, and tells the clicker privately', async () => {
    const { fakes } = ctx();
    fakes.halo.events.length = 0;
    const newestFirst = addEvents(3, { key: 'domain-delete' })
      .map((e) => e.event_id)
      .reverse();
    const first = await slash('events key:domain-delete limit:2');
    // Its listing is too old to serve the Next page: Halo is asked, and fails.
    clock.advance(PRODUCTION_DELAYS.listingCacheMs);
    fakes.halo.fault = () => ({ kind: 'status', status: 503, body: '<html>down</html>' });
    const before = fakes.halo.requests.length;
    const failed = await click(first, NEXT_PAGE_ACTION_ID);
    expect(listRequestsSince(before).length).toBeGreaterThan(0);
    expect(failed.body.replace_original).toBe(false);
    expect(failed.body.response_type).toBe('ephemeral');
    expect(failed.text).toContain(
      'Halo is not answering properly right now (HTTP 503); try again in a minute.',
    );

    // A failed read is not kept: the next click asks Halo again.
    fakes.halo.fault = undefined;
    const retried = fakes.halo.requests.length;
    const second = await click(first, NEXT_PAGE_ACTION_ID);
    expect(listRequestsSince(retried).length).toBeGreaterThan(0);
    expect(second.body.replace_original).toBe(true);
    expect(listedIds(second)).toEqual(newestFirst.slice(2));
  });

  it('shows one event in full with the Delete button, and a sentence for an unknown ID', async () => {
    const { fakes } = ctx();
    const event = fakes.halo.addEvent({
      subject: 'Website Certificate Risk',
      key: 'website-cert-risk',
      target_id: 42,
      date_created: '2026-04-01 12:30',
    });
    const before = fakes.halo.requests.length;
    const answer = await slash(`event ${event.event_id}`);
    const gets = fakes.halo.requests.slice(before).filter((r) => r.path.endsWith('/event/get.json'));
    expect(gets.map((r) => r.query.get('event_id'))).toEqual([event.event_id]);
    expect((answer.body.blocks as unknown[])[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':red_circle: High · Website Certificate Risk', emoji: true },
    });
    expect(answer.body.attachments).toMatchObject([{ color: '#E01E5A' }]);
    for (const part of [
      'website-cert-risk',
      'host42.example.com',
      'ID 42',
      '2026-04-01 12:30',
      'View in Halo',
    ]) {
      expect(answer.text).toContain(part);
    }
    expect(buttons(answer.body)).toMatchObject([{ action_id: DELETE_ACTION_ID, value: event.event_id }]);

    const missing = await slash('event ev-does-not-exist');
    expect(missing.text).toContain('Halo says that event was not found.');
    expect(buttons(missing.body)).toEqual([]);
  });

  it('lists the event types, narrowed by TEXT', async () => {
    const { fakes } = ctx();
    const all = await slash('types');
    expect(all.text).toContain(`${fakes.halo.types.length} Halo event types`);
    for (const type of fakes.halo.types) {
      expect(all.text).toContain(type.subject);
      expect(all.text).toContain(`\`${type.key}\``);
    }
    expect(fakes.halo.requests.some((r) => r.path.endsWith('/event/types.json'))).toBe(true);

    const scan = await slash('types SCAN');
    expect(scan.text).toContain('3 event types matching “SCAN”');
    for (const subject of ['Scan Started', 'Scan Completed', 'Scan Failed'])
      expect(scan.text).toContain(subject);
    expect(scan.text).not.toContain('Domain Added');

    const byKey = await slash('types "cert-exp"');
    expect(byKey.text).toContain('Website Certificate Expiring');
    const none = await slash('types nothing-like-this');
    expect(none.text).toContain('No event type matches “nothing-like-this”.');
  });

  it('reports the status: last poll, events seen, alerts waiting and failing', async () => {
    await firstPoll();
    const status = await slash('status');
    expect(status.text).toContain('Polling normally');
    expect(status.text).toMatch(/Last successful poll: <!date\^\d+\^/);
    expect(status.text).toMatch(/Events seen: \d+/);
    expect(status.text).toContain('Alerts waiting to be posted: 0');
    expect(status.text).toContain('Alerts that could not be posted: 0');
  });

  it('shows the usage of every subcommand for help, an empty command and an unknown one', async () => {
    for (const text of ['help', '', '   ', 'HELP', 'frobnicate now']) {
      const answer = await slash(text);
      for (const usage of Object.values(USAGE)) expect(answer.text).toContain(usage);
      expect(answer.text).toContain('Example: /halo events key:target-scan-start');
      if (text === 'frobnicate now') expect(answer.text).toContain('Unknown command `frobnicate`');
      else expect(answer.text).not.toContain('Unknown command');
    }
  });

  it('answers malformed input with the problem and the usage, asking Halo nothing', async () => {
    const { fakes } = ctx();
    const before = fakes.halo.requests.length;
    const cases: [text: string, problem: string, usage: string][] = [
      [
        'events wrong:1',
        'Unknown filter “wrong”: events accepts key, target, subject, detail, limit',
        USAGE.events,
      ],
      [
        'events target:abc',
        'The target must be a whole number from 1 to 2147483647, got “abc”',
        USAGE.events,
      ],
      ['events limit:99', 'The limit must be a whole number from 1 to 20, got “99”', USAGE.events],
      ['events limit:0', 'The limit must be a whole number from 1 to 20, got “0”', USAGE.events],
      ['events key', 'Expected a filter like key:VALUE', USAGE.events],
      ['events subject:"Scan Started', 'Unterminated quote in “subject:"Scan Started”', USAGE.events],
      ['events key:a key:b', 'The key filter is given twice', USAGE.events],
      ['event', 'Missing the event ID.', USAGE.event],
      ['event ev-1 ev-2', 'Unexpected extra argument “ev-2”', USAGE.event],
      ['subscribe target:abc', 'The target must be a whole number', USAGE.subscribe],
      ['subscribe channel:C1', 'Unknown filter “channel”', USAGE.subscribe],
      ['unsubscribe', 'Missing the subscription ID', USAGE.unsubscribe],
      ['unsubscribe x7', 'The subscription ID must be a whole number', USAGE.unsubscribe],
      ['status please', 'Unexpected extra argument “please”', USAGE.status],
    ];
    for (const [text, problem, usage] of cases) {
      const answer = await slash(text);
      expect(answer.text, text).toContain(problem);
      expect(answer.text).toContain(`Usage: \`${usage}\``);
      expect(answer.text.length).toBeLessThan(600);
    }
    expect(fakes.halo.requests.length).toBe(before);
  });

  it('escapes whatever it echoes, so that input cannot ping a channel or smuggle a link', async () => {
    const { fakes } = ctx();
    const before = fakes.halo.requests.length;
    // Each input, and what its answer shows of it (undefined: the answer does not echo it).
    const inputs: [text: string, shown: string | undefined][] = [
      ['events key:<!channel>', '`/halo events key:&lt;!channel&gt;`'],
      ['events key:&lt;!here&gt;', '`/halo events key:&lt;!here&gt;`'],
      ['events subject:"<https://evil.example|click here>"', '&lt;https://evil.example|click here&gt;'],
      ['events bad<!channel>:1', 'Unknown filter “bad&lt;!channel&gt;”'],
      ['events target:<@U999>', 'got “&lt;@U999&gt;”'],
      ['<!everyone> hello', 'Unknown command `&lt;!everyone&gt;`'],
      ['types <!channel>', 'No event type matches “&lt;!channel&gt;”'],
      ['types <@U999>', 'No event type matches “&lt;@U999&gt;”'],
      ['unsubscribe <#C999>', 'got “&lt;#C999&gt;”'],
      ['event <!channel>', undefined],
    ];
    for (const [text, shown] of inputs) {
      const answer = await slash(text);
      expect(
        answer.mrkdwn.filter((t) => SLACK_CONTROLS.test(t)),
        text,
      ).toEqual([]);
      if (shown !== undefined) expect(answer.text, text).toContain(shown);
    }
    // The key reached Halo as typed: escaping is for display only.
    const keys = listRequestsSince(before).map((r) => r.query.get('key'));
    expect(keys).toContain('<!channel>');
    expect(keys).toContain('<!here>');
  });

  it('turns Halo failures into a sentence, never a stack trace', async () => {
    const { fakes } = ctx();
    const event = fakes.halo.addEvent();
    // Each command meets its own failure, told apart by what it asks Halo, so that they can run side by side.
    const cases: { text: string; asks: string; fault: HaloFault; sentence: string | RegExp }[] = [
      {
        text: 'events key:html-503',
        asks: 'html-503',
        fault: { kind: 'status', status: 503, body: '<html><body>Service Unavailable</body></html>' },
        sentence: 'Halo is not answering properly right now (HTTP 503); try again in a minute.',
      },
      {
        // Halo's own error body on a 503: the status or Halo's words, either makes a sentence.
        text: 'events key:json-503',
        asks: 'json-503',
        fault: { kind: 'status', status: 503 },
        sentence: /HTTP 503|Service Unavailable/,
      },
      {
        text: `event ${event.event_id}`,
        asks: event.event_id,
        fault: { kind: 'status', status: 502, body: '<html>Bad Gateway</html>' },
        sentence: 'Halo is not answering properly right now (HTTP 502); try again in a minute.',
      },
      {
        text: 'types',
        asks: 'types',
        fault: { kind: 'status', status: 401, body: '{"code":401,"message":"invalid api key"}' },
        sentence: 'Halo rejected the bot’s API key; an admin must update HALO_API_KEY.',
      },
      {
        text: 'events key:forbidden',
        asks: 'forbidden',
        fault: { kind: 'status', status: 403 },
        sentence: 'Halo rejected the bot’s API key; an admin must update HALO_API_KEY.',
      },
      {
        text: 'events key:reset',
        asks: 'reset',
        fault: { kind: 'reset' },
        sentence: 'Halo could not be reached; try again in a minute.',
      },
      {
        text: 'events key:garbage',
        asks: 'garbage',
        fault: { kind: 'body', body: '{"list": 5}' },
        sentence: 'Halo sent an answer the bot could not read; try again in a minute.',
      },
    ];
    const faults = new Map(cases.map((c) => [c.asks, c.fault]));
    fakes.halo.fault = (req) =>
      faults.get(
        req.path.endsWith('/types.json')
          ? 'types'
          : (req.query.get('key') ?? req.query.get('event_id') ?? ''),
      );
    const answers = await Promise.all(cases.map(({ text }) => slash(text)));
    cases.forEach(({ text, sentence }, i) => {
      expect(answers[i]!.text, text).toMatch(sentence);
      expect(answers[i]!.text, text).not.toMatch(LEAKS);
    });
  });

  it('acknowledges every command at once while Halo hangs, and answers once Halo is back', async () => {
    const { fakes, bot } = ctx();
    const event = fakes.halo.addEvent({ subject: 'Domain Added', key: 'domain-add' });
    let haloAnswering = false;
    fakes.halo.fault = () => (haloAnswering ? undefined : { kind: 'hang' });
    const texts = ['events', `event ${event.event_id}`, 'types', 'status', 'help', 'subscriptions'];
    const ids = texts.map(() => `hang-${++responseCount}`);
    const acks = await Promise.all(
      texts.map((text, i) =>
        postToBot(
          bot.url,
          slashCommandBody({ text, user_id: 'UADMIN', response_url: fakes.slack.responseUrl(ids[i]) }),
          { signingSecret: SIGNING_SECRET },
        ),
      ),
    );
    // Every ack is in while Halo has not answered a single request.
    expect(haloAnswering).toBe(false);
    expect(acks.map((a) => a.status)).toEqual(texts.map(() => 200));
    const haloAnswers = ['events', 'event', 'types'].map((_, i) => ids[i]);
    expect(fakes.slack.responses.filter((r) => haloAnswers.includes(r.id))).toEqual([]);
    await waitFor('Halo to be asked', () =>
      ['list.json', 'get.json', 'types.json'].every((name) =>
        fakes.halo.requests.some((r) => r.path.endsWith(name)),
      ),
    );

    haloAnswering = true;
    const answers = await Promise.all(ids.map((id) => answerAt(id)));
    expect(answers[0]?.text).toContain('events');
    expect(answers[1]?.text).toContain('Domain Added');
    expect(answers[2]?.text).toContain('Halo event types');
    for (const answer of answers) expect(answer.text).not.toMatch(LEAKS);
  });
});

/** Waits for an asynchronous condition, probing every 50 ms. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** The channels an alert for `event` was posted to, once per post; found by the Delete button's value. */
function channelsOf(event: FakeHaloEvent): string[] {
  return ctx()
    .fakes.slack.posts.filter((post) => JSON.stringify(post.blocks).includes(`"value":"${event.event_id}"`))
    .map((post) => post.channel);
}

/**
 * Waits until a poll that started now has routed whatever Halo holds, and every alert it routed is posted:
 * what is not posted by then was not routed.
 */
async function settled(): Promise<void> {
  const { bot } = ctx();
  await nextPollStarted();
  await eventually('an empty outbox', async () => {
    const health = await getJson(`${bot.url}/healthz`);
    return health.body.alertsPending === 0 ? true : undefined;
  });
}

describe('/halo subscribe, subscriptions and unsubscribe', () => {
  // The alert channel takes only a key these tests never use: every post is a subscription's doing.
  useBot({ HALO_ADMIN_USERS: 'UADMIN,UADMIN2', HALO_ALERT_KEYS: 'target-scan-start' });

  it('posts new events to the channels whose subscriptions match, once per channel', async () => {
    const { fakes } = ctx();
    await firstPoll();
    const answer = await slash('subscribe key:port-open target:42', { channel: 'CSUB' });
    expect(answer.text).toMatch(
      /^Subscribed <#CSUB> to key `port-open` and target 42 \(subscription #\d+\)\. Every new event from now on is posted here/m,
    );
    // Two subscriptions of one channel.
    await slash('subscribe key:issue-new', { channel: 'CTWO' });
    await slash('subscribe target:9 target:10', { channel: 'CTWO', user: 'UADMIN2' });

    await nextPollStarted();
    const match = fakes.halo.addEvent({ key: 'port-open', target_id: 42 });
    const otherTarget = fakes.halo.addEvent({ key: 'port-open', target_id: 7 });
    const otherKey = fakes.halo.addEvent({ key: 'port-close', target_id: 42 });
    const both = fakes.halo.addEvent({ key: 'issue-new', target_id: 9 });
    const onlyTarget = fakes.halo.addEvent({ key: 'domain-add', target_id: 10 });
    const neither = fakes.halo.addEvent({ key: 'domain-add', target_id: 11 });
    await settled();

    expect(channelsOf(match)).toEqual(['CSUB']);
    expect(channelsOf(both)).toEqual(['CTWO']);
    expect(channelsOf(onlyTarget)).toEqual(['CTWO']);
    for (const event of [otherTarget, otherKey, neither]) expect(channelsOf(event)).toEqual([]);
  });

  it('posts an event created right after "Subscribed", without waiting for a poll to set the starting point', async () => {
    const { fakes } = ctx();
    await firstPoll();
    fakes.halo.addEvent({ key: 'cert-expiring', target_id: 5 });
    // Seen by a poll first: so few events are cheaper to scan all at once than by key, and to a poll that scans
    // everything, an event created since the last poll is news for every route, a subscription made since too.
    await nextPollStarted();
    const answer = await slash('subscribe key:cert-expiring', { channel: 'CSTART' });
    expect(answer.text).toContain('Every new event from now on is posted here');
    const right = fakes.halo.addEvent({ key: 'cert-expiring', target_id: 5 });
    const post = await fakes.slack.waitFor(() => fakes.slack.postsTo('CSTART')[0]);
    expect(JSON.stringify(post.blocks)).toContain(right.event_id);
    await settled();
    expect(fakes.slack.postsTo('CSTART')).toHaveLength(1);
  });

  it('lists, removes one and removes all of a channel’s subscriptions, and routing follows', async () => {
    const { fakes } = ctx();
    await firstPoll();
    const idOf = (answer: { text: string }): string => /subscription #(\d+)/.exec(answer.text)![1]!;
    const first = idOf(await slash('subscribe key:domain-add', { channel: 'CLIST' }));
    const second = idOf(await slash('subscribe target:5 key:port-open key:port-close', { channel: 'CLIST' }));
    const again = await slash('subscribe key:domain-add', { channel: 'CLIST' });
    expect(again.text).toContain(
      `<#CLIST> already has this subscription (#${first}): \`/halo subscribe key:domain-add\`.`,
    );

    const listed = await slash('subscriptions', { channel: 'CLIST' });
    expect(listed.text).toContain(`*#${first}*: key \`domain-add\` — added by <@UADMIN>`);
    expect(listed.text).toContain(`*#${second}*: key \`port-close\` or \`port-open\` and target 5`);
    expect(listed.text).not.toContain('HALO_ALERT_CHANNEL');
    const alerts = await slash('subscriptions', { channel: 'CALERTS' });
    expect(alerts.text).toContain("From the bot's settings (HALO_ALERT_CHANNEL): key `target-scan-start`");

    // A subscription of another channel is not this channel's to remove.
    const elsewhere = await slash(`unsubscribe ${first}`, { channel: 'COTHER' });
    expect(elsewhere.text).toContain(`This channel has no subscription #${first}.`);
    const removed = await slash(`unsubscribe ${first}`, { channel: 'CLIST' });
    expect(removed.text).toContain(`Removed subscription #${first}.`);
    const remaining = await slash('subscriptions', { channel: 'CLIST' });
    expect(remaining.text).not.toContain(`#${first}*`);
    expect(remaining.text).toContain(`#${second}*`);

    await slash('subscribe key:domain-add', { channel: 'CALL' });
    await slash('subscribe key:port-close', { channel: 'CALL' });
    const all = await slash('unsubscribe ALL', { channel: 'CALL' });
    expect(all.text).toContain('Removed 2 subscriptions of this channel.');
    const empty = await slash('subscriptions', { channel: 'CALL' });
    expect(empty.text).toContain('<#CALL> has no subscriptions.');
    const none = await slash('unsubscribe all', { channel: 'CALL' });
    expect(none.text).toContain('This channel had no subscriptions.');

    await nextPollStarted();
    const gone = fakes.halo.addEvent({ key: 'domain-add', target_id: 5 });
    const kept = fakes.halo.addEvent({ key: 'port-close', target_id: 5 });
    await settled();
    expect(channelsOf(kept)).toContain('CLIST');
    expect(channelsOf(gone)).not.toContain('CLIST');
    expect(fakes.slack.postsTo('CLIST')).toHaveLength(1);
    expect(fakes.slack.postsTo('CALL')).toEqual([]);
  });

  it('tells a user who is not in HALO_ADMIN_USERS that they may not, and changes nothing', async () => {
    const { fakes } = ctx();
    await firstPoll();
    const id = /subscription #(\d+)/.exec(
      (await slash('subscribe key:port-close', { channel: 'CDENY' })).text,
    )![1]!;

    for (const text of ['subscribe key:domain-add', `unsubscribe ${id}`, 'unsubscribe all']) {
      const answer = await slash(text, { user: 'UNOBODY', channel: 'CDENY' });
      expect(answer.text).toContain(NOT_ALLOWED);
    }
    // Listing is for everyone, and shows the one subscription unchanged.
    const listed = await slash('subscriptions', { user: 'UNOBODY', channel: 'CDENY' });
    expect(listed.text).toContain(`*#${id}*: key \`port-close\``);
    expect(listed.text.match(/\*#\d+\*/g)).toHaveLength(1);
    // HALO_ADMIN_USERS decides alone: Slack is not asked who is an admin.
    expect(fakes.slack.calls.filter((c) => c.method === 'users.info')).toEqual([]);
  });

  it('reports failing polls in /halo status with the last error, as a sentence', async () => {
    const { fakes, bot } = ctx();
    await firstPoll();
    fakes.halo.fault = (req) =>
      req.path.endsWith('/event/list.json')
        ? { kind: 'status', status: 503, body: '<html>down</html>' }
        : undefined;
    await waitFor('a failed poll', () => bot.logs.some((line) => line.includes('poll failed')));
    const status = await slash('status', { channel: 'CALERTS' });
    fakes.halo.fault = undefined;
    expect(status.text).toMatch(/Halo polls are failing \(\d+ in a row\)/);
    expect(status.text).toMatch(
      /Last error \(<!date\^\d+\^[^)]*\): Halo event\/list\.json answered HTTP 503/,
    );
    expect(status.text).not.toMatch(/\n\s+at |127\.0\.0\.1|test-halo-api-key/);
  });
});

describe('/halo subscribe when HALO_ADMIN_USERS is empty', () => {
  useBot({ HALO_ALERT_CHANNEL: '', HALO_ADMIN_USERS: '' });

  it('lets workspace admins and owners manage subscriptions, per users.info, and no one else', async () => {
    const { fakes } = ctx();
    fakes.slack.users.set('UWSADMIN', { is_admin: true });
    fakes.slack.users.set('UOWNER', { is_owner: true });
    fakes.slack.users.set('UPRIMARY', { is_primary_owner: true });
    fakes.slack.users.set('UMEMBER', {});

    const byAdmin = await slash('subscribe key:port-open', { user: 'UWSADMIN', channel: 'CWS' });
    expect(byAdmin.text).toContain('Subscribed <#CWS> to key `port-open`');
    const byOwner = await slash('subscribe target:3', { user: 'UOWNER', channel: 'CWS' });
    expect(byOwner.text).toContain('Subscribed <#CWS> to target 3');

    for (const user of ['UMEMBER', 'UNKNOWN1']) {
      const denied = await slash('unsubscribe all', { user, channel: 'CWS' });
      expect(denied.text).toContain(NOT_ALLOWED);
    }
    expect((await slash('subscriptions', { channel: 'CWS' })).text.match(/\*#\d+\*/g)).toHaveLength(2);

    const byPrimary = await slash('unsubscribe all', { user: 'UPRIMARY', channel: 'CWS' });
    expect(byPrimary.text).toContain('Removed 2 subscriptions of this channel.');
    const asked = fakes.slack.calls.filter((c) => c.method === 'users.info').map((c) => c.args.user);
    expect(new Set(asked)).toEqual(new Set(['UWSADMIN', 'UOWNER', 'UMEMBER', 'UNKNOWN1', 'UPRIMARY']));
  });

  it('refuses an admin of another organisation met through Slack Connect', async () => {
    const { fakes } = ctx();
    fakes.slack.users.set('UCONNECT', { is_admin: true, is_owner: true, team_id: 'TPARTNER' });
    const denied = await slash('subscribe key:port-open', { user: 'UCONNECT', channel: 'CSHARED' });
    expect(denied.text).toContain(NOT_ALLOWED);
    expect((await slash('subscriptions', { channel: 'CSHARED' })).text).toContain('has no subscriptions');
  });
});
