/**
 * Requests as they reach the bot's HTTP server: Slack's signature and timestamp rules, bodies that cannot be
 * parsed, the health check, and interactions the bot does not know.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import {
  blockActionBody,
  buttonClickPayload,
  postToBot,
  signRequest,
  slashCommandBody,
} from '../../fakes/sign.ts';
import {
  botEnv,
  getJson,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
  visibleText,
} from '../harness.ts';

let fakes: Fakes;
let bot: InProcessBot;
let responseCount = 0;

beforeAll(async () => {
  fakes = await startFakes();
  // No alert channel and no subscriptions: the poller asks Halo nothing; every Halo request is a request's,
  // once the start-up read of the event types (their severities) is done.
  bot = await inProcessBot(botEnv(fakes, { HALO_ALERT_CHANNEL: '', HALO_ADMIN_USERS: 'UADMIN' }));
  await fakes.slack.waitFor(() => fakes.halo.requests.find((r) => r.path === '/api/v1/event/types.json'));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

afterEach(() => {
  fakes.halo.fault = undefined;
});

const nowSec = (): number => Math.floor(Date.now() / 1000);

function commandBody(text: string, responseId: string, user = 'UADMIN'): string {
  return slashCommandBody({ text, user_id: user, response_url: fakes.slack.responseUrl(responseId) });
}

function clickBody(actionId: string, value: string, responseId: string, user = 'UADMIN'): string {
  return blockActionBody(
    buttonClickPayload({
      actionId,
      value,
      userId: user,
      channelId: 'C123',
      responseUrl: fakes.slack.responseUrl(responseId),
    }),
  );
}

/** Sends a correctly signed body and returns the bot's HTTP answer. */
function signed(body: string, options: { timestampSec?: number; contentType?: string } = {}) {
  return postToBot(bot.url, body, { signingSecret: SIGNING_SECRET, ...options });
}

async function answerTo(responseId: string): Promise<Record<string, unknown>> {
  const post = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === responseId));
  return post.body;
}

/**
 * Proves that the rejected requests reached nothing: a valid command sent afterwards is answered, and by then
 * Halo has seen only that command's request and no rejected request's response_url was used.
 */
async function expectNothingReached(rejectedResponseIds: readonly string[], haloBefore: number) {
  const slackCallsBefore = fakes.slack.calls.length;
  const id = `sentinel-${++responseCount}`;
  expect((await signed(commandBody('types', id))).status).toBe(200);
  await answerTo(id);
  const paths = fakes.halo.requests.slice(haloBefore).map((r) => r.path);
  expect(paths).toEqual(['/api/v1/event/types.json']);
  expect(fakes.slack.responses.filter((r) => rejectedResponseIds.includes(r.id))).toEqual([]);
  expect(fakes.slack.calls.length).toBe(slackCallsBefore);
}

describe('requests from Slack', () => {
  it('answers 401 to forged, unsigned, stale and future-dated requests, which reach nothing', async () => {
    const event = fakes.halo.addEvent();
    const haloBefore = fakes.halo.requests.length;
    const ids: string[] = [];
    const attempts: { name: string; send: (body: string) => ReturnType<typeof postToBot> }[] = [
      {
        name: 'forged signature',
        send: (body) =>
          postToBot(bot.url, body, {
            signingSecret: SIGNING_SECRET,
            signature: signRequest('not-the-secret', body, nowSec())['x-slack-signature'],
          }),
      },
      {
        name: 'body changed after signing',
        send: (body) =>
          postToBot(bot.url, `${body}&x=1`, {
            signingSecret: SIGNING_SECRET,
            signature: signRequest(SIGNING_SECRET, body, nowSec())['x-slack-signature'],
          }),
      },
      {
        name: 'no signature headers',
        send: (body) => postToBot(bot.url, body, { signingSecret: SIGNING_SECRET, omitSignature: true }),
      },
      {
        name: 'empty signature',
        send: (body) => postToBot(bot.url, body, { signingSecret: SIGNING_SECRET, signature: '' }),
      },
      { name: 'timestamp not a number', send: (body) => signed(body, { timestampSec: Number.NaN }) },
      { name: 'ten minutes old', send: (body) => signed(body, { timestampSec: nowSec() - 600 }) },
      { name: 'ten minutes ahead', send: (body) => signed(body, { timestampSec: nowSec() + 600 }) },
      { name: 'a day ahead', send: (body) => signed(body, { timestampSec: nowSec() + 86_400 }) },
    ];
    for (const attempt of attempts) {
      const commandId = `rejected-command-${ids.length}`;
      const clickId = `rejected-click-${ids.length}`;
      ids.push(commandId, clickId);
      const command = await attempt.send(commandBody(`event ${event.event_id}`, commandId));
      const click = await attempt.send(clickBody(DELETE_ACTION_ID, event.event_id, clickId));
      expect([command.status, click.status], attempt.name).toEqual([401, 401]);
    }
    await expectNothingReached(ids, haloBefore);
    expect(fakes.halo.events).toContain(event);
  });

  it('answers 401 to a correctly signed request stamped Infinity, 1e400 or any non-integer (issue 12, item 11)', async () => {
    const event = fakes.halo.addEvent();
    const haloBefore = fakes.halo.requests.length;
    const ids: string[] = [];
    // Each is signed over exactly the timestamp header it carries, as a sender holding the secret would; only
    // `1e400` also signed as `Infinity`, which is how Number() reads it.
    const stamps: { header: string; signedAs?: string }[] = [
      { header: 'Infinity' },
      { header: '1e400' },
      { header: '1e400', signedAs: 'Infinity' },
      { header: '-Infinity' },
      { header: `${nowSec()}.5` },
      { header: `${nowSec()}e0` },
      { header: ` ${nowSec()}` },
      { header: `0x${nowSec().toString(16)}` },
    ];
    for (const [i, stamp] of stamps.entries()) {
      const id = `stamp-${i}`;
      ids.push(id);
      const body = commandBody(`event ${event.event_id}`, id);
      const signature = signRequest(SIGNING_SECRET, body, stamp.signedAs ?? stamp.header)[
        'x-slack-signature'
      ];
      const answer = await postToBot(bot.url, body, {
        signingSecret: SIGNING_SECRET,
        timestampSec: stamp.header,
        signature,
      });
      expect(answer.status, JSON.stringify(stamp)).toBe(401);
    }
    await expectNothingReached(ids, haloBefore);
  });

  it("answers Slack's unsigned SSL check, and lets nothing ride along with it", async () => {
    const event = fakes.halo.addEvent();
    const haloBefore = fakes.halo.requests.length;
    const check = await postToBot(bot.url, 'ssl_check=1&token=deprecated-verification-token', {
      signingSecret: SIGNING_SECRET,
      omitSignature: true,
    });
    expect(check.status).toBe(200);
    const smuggled = `ssl_check=1&${clickBody(DELETE_ACTION_ID, event.event_id, 'smuggled')}`;
    const answer = await postToBot(bot.url, smuggled, { signingSecret: SIGNING_SECRET, omitSignature: true });
    expect(answer.status).toBe(200);
    await expectNothingReached(['smuggled'], haloBefore);
    expect(fakes.halo.events).toContain(event);
  });

  it('accepts a signed request stamped a little ahead of or behind its own clock', async () => {
    for (const skew of [-240, 240]) {
      const id = `skewed-${skew}`;
      const ack = await signed(commandBody('help', id), { timestampSec: nowSec() + skew });
      expect(ack.status).toBe(200);
      expect(visibleText(await answerTo(id))).toContain('/halo events');
    }
  });

  it('answers 4xx to a signed body that cannot be parsed, never leaving one unanswered', async () => {
    const haloBefore = fakes.halo.requests.length;
    const bodies = [
      'payload=not-json',
      `payload=${encodeURIComponent('{"type":"block_actions"')}`,
      // JSON, but not an object: Bolt 5.1 on its own left `null` unanswered and the others waiting 3 s.
      'payload=null',
      'payload=42',
      `payload=${encodeURIComponent('[]')}`,
      `payload=${encodeURIComponent('"block_actions"')}`,
    ];
    for (const body of bodies) {
      const answer = await signed(body);
      expect(answer.status, body).toBe(400);
    }
    // The same bodies unsigned are still refused as unsigned.
    const unsigned = await postToBot(bot.url, 'payload=null', {
      signingSecret: SIGNING_SECRET,
      omitSignature: true,
    });
    expect(unsigned.status).toBe(401);
    // A form sent as JSON fails to parse; JSON that is not an object is never left unanswered.
    const mislabelled = await signed(commandBody('types', 'mislabelled'), {
      contentType: 'application/json',
    });
    expect(mislabelled.status).toBe(400);
    const jsonNull = await signed('null', { contentType: 'application/json' });
    expect(jsonNull.status).toBeGreaterThanOrEqual(400);
    expect(jsonNull.status).toBeLessThan(500);
    // Well-formed but unusable: a click without actions reaches Bolt and no listener; 400, not 500.
    const noActions = await signed(
      `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, team: { id: 'T1' }, actions: [] }))}`,
    );
    expect(noActions.status).toBe(400);
    const huge = await signed(`payload=${'x'.repeat(5 * 1024 * 1024)}`);
    expect(huge.status).toBe(413);
    await expectNothingReached(['mislabelled'], haloBefore);
  });

  it('serves GET /healthz as JSON with the status and the last poll time', async () => {
    await waitFor('a first poll', () => bot.logs.some((line) => line.includes('poll: ')));
    const answer = await getJson(`${bot.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('ok');
    expect(Number.isNaN(Date.parse(String(answer.body.lastPollAt)))).toBe(false);
    const response = await fetch(`${bot.url}/healthz`);
    expect(response.headers.get('content-type')).toContain('application/json');
    await response.body?.cancel();
  });

  it('answers 404 to unknown paths and to methods Slack never uses', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/slack/events'],
      ['POST', '/slack/other'],
      ['GET', '/healthz/extra'],
      ['DELETE', '/healthz'],
    ] as const) {
      const response = await fetch(`${bot.url}${path}`, { method });
      await response.body?.cancel();
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });

  it('acknowledges a click on a button it does not know and answers politely', async () => {
    const ack = await signed(clickBody('some_retired_button', 'x', 'unknown-action'));
    expect(ack.status).toBe(200);
    const answer = await answerTo('unknown-action');
    expect(answer.replace_original).toBe(false);
    expect(visibleText(answer)).toContain('This button is not supported by this version of the bot.');
  });

  it('answers a Next page button whose value it cannot read by asking for the command again', async () => {
    const haloBefore = fakes.halo.requests.length;
    for (const [i, value] of [
      'not json',
      '{"f":{},"s":500,"p":1}',
      '{"f":{"target_id":"x"},"s":5,"p":1}',
    ].entries()) {
      const id = `bad-page-${i}`;
      expect((await signed(clickBody('halo_events_page', value, id))).status).toBe(200);
      expect(visibleText(await answerTo(id))).toContain(
        'This button is out of date; run /halo events again.',
      );
    }
    expect(fakes.halo.requests.length).toBe(haloBefore);
  });

  it('answers a Delete button naming an event Halo does not have with a sentence, and stays up', async () => {
    const ack = await signed(clickBody(DELETE_ACTION_ID, 'ev-does-not-exist', 'no-such-event'));
    expect(ack.status).toBe(200);
    const answer = await answerTo('no-such-event');
    expect(visibleText(answer)).toMatch(/already deleted/);
    expect(visibleText(answer)).not.toMatch(/\n\s+at |Error/);
    const health = await getJson(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
