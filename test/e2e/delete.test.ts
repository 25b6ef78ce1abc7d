/**
 * The Delete event button, clicked as Slack sends the click: a signed `block_actions` payload carrying the
 * alert the button was on. The user sees the response_url post: the alert replaced, or a private note.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOT_ALLOWED } from '../../src/commands/service.ts';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import type { FakeHaloEvent } from '../../fakes/halo.ts';
import { blockActionBody, buttonClickPayload, postToBot, slashCommandBody } from '../../fakes/sign.ts';
import type { SlackPost } from '../../fakes/slack.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
  visibleText,
  shownBody,
} from '../harness.ts';

type Body = Record<string, unknown>;

let fakes: Fakes;
let bot: InProcessBot;
let responseCount = 0;

beforeAll(async () => {
  fakes = await startFakes();
  bot = await inProcessBot(botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN,UADMIN2' }));
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

afterEach(() => {
  fakes.halo.fault = undefined;
});

/** A new event and the alert the bot posted for it, as it sits in the channel. */
async function alertFor(
  partial: Partial<FakeHaloEvent> & { target_id?: number } = {},
): Promise<{ event: FakeHaloEvent; alert: SlackPost }> {
  const event = fakes.halo.addEvent({ subject: 'Scan Started', key: 'target-scan-start', ...partial });
  const alert = await fakes.slack.waitFor(() =>
    fakes.slack.posts.find((post) => JSON.stringify(post.blocks).includes(`"value":"${event.event_id}"`)),
  );
  return { event, alert };
}

/** Clicks Delete on `blocks` as `user`; resolves with the HTTP status and the response_url's ID. */
async function clickDelete(
  eventId: string,
  options: { user?: string; blocks?: unknown[]; ephemeral?: boolean; messageTs?: string } = {},
): Promise<{ status: number; responseId: string }> {
  const responseId = `click-${++responseCount}`;
  const payload = buttonClickPayload({
    actionId: DELETE_ACTION_ID,
    value: eventId,
    userId: options.user ?? 'UADMIN',
    channelId: 'CALERTS',
    responseUrl: fakes.slack.responseUrl(responseId),
    messageBlocks: options.blocks ?? [],
    isEphemeral: options.ephemeral ?? false,
    ...(options.messageTs === undefined ? {} : { messageTs: options.messageTs }),
  });
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  return { status: ack.status, responseId };
}

async function answerAt(responseId: string): Promise<Body> {
  const post = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === responseId));
  return shownBody(post.body);
}

function deleteCalls(eventId: string) {
  return fakes.halo.requests.filter(
    (r) => r.path.endsWith('/event/delete.json') && r.query.get('event_id') === eventId,
  );
}

function hasDeleteButton(blocks: unknown): boolean {
  return JSON.stringify(blocks ?? []).includes(`"action_id":"${DELETE_ACTION_ID}"`);
}

function expectPrivateNote(answer: Body): void {
  expect(answer.replace_original).toBe(false);
  expect(answer.response_type).toBe('ephemeral');
}

describe('the Delete event button', () => {
  it('deletes the event once and replaces the alert in place: no button, and who deleted it', async () => {
    const { event, alert } = await alertFor({ target_id: 42 });
    const click = await clickDelete(event.event_id, { blocks: alert.blocks });
    expect(click.status).toBe(200);
    const answer = await answerAt(click.responseId);

    expect(deleteCalls(event.event_id)).toHaveLength(1);
    expect(fakes.halo.events).not.toContain(event);
    expect(answer.replace_original).toBe(true);
    expect(answer.response_type).toBeUndefined();
    expect(hasDeleteButton(answer.blocks)).toBe(false);
    const text = visibleText(answer);
    expect(text).toMatch(/Deleted by <@UADMIN> <!date\^\d+\^/);
    expect(answer.text).toBe(`Halo event ${event.event_id} deleted by <@UADMIN>`);
    // The rest of the alert stays as it was.
    const blocks = answer.blocks as Body[];
    expect(blocks[0]).toEqual(alert.blocks[0]);
    expect(text).toContain('host42.example.com');
    expect(text).toContain('View in Halo');
    expect(blocks.at(-1)).toMatchObject({ type: 'context', block_id: 'halo_deleted' });
  });

  it('says the event was already deleted when Halo no longer has it', async () => {
    const { event, alert } = await alertFor();
    fakes.halo.events.splice(fakes.halo.events.indexOf(event), 1);
    const click = await clickDelete(event.event_id, { blocks: alert.blocks, user: 'UADMIN2' });
    const answer = await answerAt(click.responseId);
    expect(deleteCalls(event.event_id)).toHaveLength(1);
    expect(answer.replace_original).toBe(true);
    expect(hasDeleteButton(answer.blocks)).toBe(false);
    expect(visibleText(answer)).toMatch(
      /This event was already deleted in Halo \(checked by <@UADMIN2> <!date/,
    );
    expect(visibleText(answer)).not.toContain('Deleted by');
  });

  it('leaves the alert as it was when Halo fails, telling the clicker privately', async () => {
    const { event, alert } = await alertFor();
    fakes.halo.fault = (req) =>
      req.path.endsWith('/event/delete.json')
        ? { kind: 'status', status: 500, body: '<html>Internal Server Error</html>' }
        : undefined;
    const failed = await clickDelete(event.event_id, { blocks: alert.blocks });
    const note = await answerAt(failed.responseId);
    expectPrivateNote(note);
    expect(visibleText(note)).toContain(
      'The event was not deleted: Halo is not answering properly right now (HTTP 500); try again in a minute.',
    );
    expect(visibleText(note)).not.toMatch(/\n\s+at |\w+Error\b|127\.0\.0\.1/);
    expect(
      fakes.slack.responses.filter((r) => r.body.replace_original === true && r.id === failed.responseId),
    ).toEqual([]);
    // Not retried behind the user's back: a delete that may have happened must not be sent twice.
    expect(deleteCalls(event.event_id)).toHaveLength(1);
    expect(fakes.halo.events).toContain(event);

    fakes.halo.fault = undefined;
    const retried = await clickDelete(event.event_id, { blocks: alert.blocks });
    const answer = await answerAt(retried.responseId);
    expect(answer.replace_original).toBe(true);
    expect(visibleText(answer)).toContain('Deleted by <@UADMIN>');
    expect(deleteCalls(event.event_id)).toHaveLength(2);
    expect(fakes.halo.events).not.toContain(event);
  });

  it('acknowledges clicks while Halo hangs, and tells the clickers privately when it times out', async () => {
    const { event, alert } = await alertFor();
    fakes.halo.fault = (req) => (req.path.endsWith('/event/delete.json') ? { kind: 'hang' } : undefined);
    const clicks = await Promise.all([
      clickDelete(event.event_id, { blocks: alert.blocks }),
      clickDelete(event.event_id, { blocks: alert.blocks }),
    ]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    // Acknowledged while the delete call is still waiting for Halo.
    expect(fakes.slack.responses.filter((r) => clicks.some((c) => c.responseId === r.id))).toEqual([]);
    const notes = await Promise.all(clicks.map((c) => answerAt(c.responseId)));
    for (const note of notes) {
      expectPrivateNote(note);
      expect(visibleText(note)).toContain(
        'The event was not deleted: Halo did not answer in time; try again in a minute.',
      );
    }
    expect(deleteCalls(event.event_id)).toHaveLength(1);
  });

  it('makes one delete call for two quick clicks, and answers both', async () => {
    const { event, alert } = await alertFor();
    // Halo answers slowly, so that the second click arrives while the first delete is in flight.
    fakes.halo.fault = (req) =>
      req.path.endsWith('/event/delete.json') ? { kind: 'delay', ms: 300 } : undefined;
    const clicks = await Promise.all([
      clickDelete(event.event_id, { blocks: alert.blocks }),
      clickDelete(event.event_id, { blocks: alert.blocks, user: 'UADMIN2' }),
    ]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    const answers = await Promise.all(clicks.map((c) => answerAt(c.responseId)));
    expect(deleteCalls(event.event_id)).toHaveLength(1);
    for (const answer of answers) {
      expect(answer.replace_original).toBe(true);
      expect(hasDeleteButton(answer.blocks)).toBe(false);
      expect(visibleText(answer)).toMatch(/Deleted by <@UADMIN2?>/);
    }
    // Both show the same deletion: whoever's call reached Halo.
    expect(visibleText(answers[0]!)).toBe(visibleText(answers[1]!));
  });

  it('answers a click after the deletion finished without asking Halo again', async () => {
    const { event, alert } = await alertFor();
    const first = await clickDelete(event.event_id, { blocks: alert.blocks });
    const deleted = await answerAt(first.responseId);
    expect(deleteCalls(event.event_id)).toHaveLength(1);

    // E.g. the same alert in a second channel, still showing the button, clicked by someone else later.
    const later = await clickDelete(event.event_id, { blocks: alert.blocks, user: 'UADMIN2' });
    const answer = await answerAt(later.responseId);
    expect(deleteCalls(event.event_id)).toHaveLength(1);
    expect(answer.replace_original).toBe(true);
    expect(visibleText(answer)).toBe(visibleText(deleted));
    expect(visibleText(answer)).toContain('Deleted by <@UADMIN>');
  });

  it('tells a user who may not delete so, privately, and asks Halo nothing', async () => {
    const { event, alert } = await alertFor();
    const click = await clickDelete(event.event_id, { blocks: alert.blocks, user: 'UMEMBER' });
    expect(click.status).toBe(200);
    const answer = await answerAt(click.responseId);
    expectPrivateNote(answer);
    expect(visibleText(answer)).toContain(NOT_ALLOWED);
    expect(deleteCalls(event.event_id)).toEqual([]);
    expect(fakes.halo.events).toContain(event);
  });

  it('works from the ephemeral answer of /halo event, whose click carries no message', async () => {
    const event = fakes.halo.addEvent({ subject: 'Domain Added', key: 'domain-add' });
    const commandId = `command-${++responseCount}`;
    await postToBot(
      bot.url,
      slashCommandBody({
        text: `event ${event.event_id}`,
        user_id: 'UADMIN',
        channel_id: 'C123',
        response_url: fakes.slack.responseUrl(commandId),
      }),
      { signingSecret: SIGNING_SECRET },
    );
    const shown = await answerAt(commandId);
    expect(hasDeleteButton(shown.blocks)).toBe(true);

    const click = await clickDelete(event.event_id, { blocks: shown.blocks as unknown[], ephemeral: true });
    const answer = await answerAt(click.responseId);
    expect(deleteCalls(event.event_id)).toHaveLength(1);
    expect(answer.replace_original).toBe(true);
    expect(hasDeleteButton(answer.blocks)).toBe(false);
    const text = visibleText(answer);
    expect(text).toContain(`Halo event \`${event.event_id}\``);
    expect(text).toContain('Deleted by <@UADMIN>');
  });
});

describe('the Delete event button when HALO_ADMIN_USERS is empty', () => {
  let local: { fakes: Fakes; bot: InProcessBot } | undefined;
  afterEach(async () => {
    await local?.bot.stop();
    await local?.fakes.close();
    local = undefined;
  });

  it('lets a workspace admin delete, per users.info, and not a member', async () => {
    const ownFakes = await startFakes();
    const ownBot = await inProcessBot(botEnv(ownFakes, { HALO_ALERT_CHANNEL: '', HALO_ADMIN_USERS: '' }));
    local = { fakes: ownFakes, bot: ownBot };
    ownFakes.slack.users.set('UWSADMIN', { is_admin: true });
    ownFakes.slack.users.set('UMEMBER', {});
    const event = ownFakes.halo.addEvent();
    const click = async (user: string): Promise<Body> => {
      const id = `own-${++responseCount}`;
      const payload = buttonClickPayload({
        actionId: DELETE_ACTION_ID,
        value: event.event_id,
        userId: user,
        channelId: 'C123',
        responseUrl: ownFakes.slack.responseUrl(id),
      });
      await postToBot(ownBot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
      const post = await ownFakes.slack.waitFor(() => ownFakes.slack.responses.find((r) => r.id === id));
      return post.body;
    };
    const deletes = () => ownFakes.halo.requests.filter((r) => r.path.endsWith('/event/delete.json'));

    expect(visibleText(await click('UMEMBER'))).toContain(NOT_ALLOWED);
    expect(deletes()).toEqual([]);
    expect(visibleText(await click('UWSADMIN'))).toContain('Deleted by <@UWSADMIN>');
    expect(deletes()).toHaveLength(1);
    expect(ownFakes.slack.calls.filter((c) => c.method === 'users.info').map((c) => c.args.user)).toEqual([
      'UMEMBER',
      'UWSADMIN',
    ]);
  });
});
