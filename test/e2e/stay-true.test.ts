/**
 * Alerts that stay true: events deleted in Halo behind the bot's back (or by its own Delete button on another
 * message) are noticed from the scans the bot makes anyway, and every message showing them is updated in place.
 * Driven as a user would see it: fake Halo loses the event, fake Slack receives chat.update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_ACTION_ID, DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { BASE_PATH, makeEvents, type FakeHaloEvent } from '../../fakes/halo.ts';
import type { SlackPost } from '../../fakes/slack.ts';
import {
  botEnv,
  inProcessBot,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser, text, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let admin: SlackUser;
let alice: SlackUser;

const LIST = `${BASE_PATH}/event/list.json`;
const GONE =
  /:ghost: This event no longer exists in Halo \(noticed <!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>\)$/m;

beforeAll(async () => {
  // Enough events of another key that one full scan (5 pages) costs more than the scans by key, one request each.
  fakes = await startFakes({ halo: { events: makeEvents(4500, { keys: ['account-user-add'] }) } });
  // Keys, not "everything": each poll scans these three keys (and a subscription's), one request each.
  bot = await inProcessBot(
    botEnv(fakes, {
      HALO_ADMIN_USERS: 'UADMIN',
      HALO_ALERT_KEYS: 'port-open,target-scan-start,target-scan-complete',
    }),
  );
  admin = slackUser(fakes, bot, 'UADMIN');
  alice = slackUser(fakes, bot, 'UALICE');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  fakes.halo.fault = undefined;
  await bot.stop();
  await fakes.close();
});

const postedFor = (eventId: string): SlackPost | undefined =>
  fakes.slack.posts.find((post) => JSON.stringify(post.blocks).includes(`"value":"${eventId}"`));

async function alertFor(partial: Partial<FakeHaloEvent> & { target_id?: number }) {
  const event = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', ...partial });
  const alert = await fakes.slack.waitFor(() => postedFor(event.event_id));
  return { event, alert };
}

const removeFromHalo = (eventId: string): void => {
  const index = fakes.halo.events.findIndex((e) => e.event_id === eventId);
  expect(index).toBeGreaterThanOrEqual(0);
  fakes.halo.events.splice(index, 1);
};

const pollsDone = (): number => bot.logs.filter((line) => line.includes('poll: done')).length;
const waitPolls = async (n: number): Promise<void> => {
  const from = pollsDone();
  await waitFor(`${n} polls`, () => pollsDone() >= from + n);
};
const shown = (post: SlackPost): string =>
  post.updated === undefined ? '' : visibleText({ text: post.updated.text, blocks: post.updated.blocks });
const hasActions = (blocks: unknown[]): boolean =>
  (blocks as { type: string }[]).some((block) => block.type === 'actions');

describe('an event deleted behind the bot’s back', () => {
  it('is noticed by the second complete scan after it went, with no extra Halo request, and its alert loses its buttons', async () => {
    const { event, alert } = await alertFor({ target_id: 7 });
    const other = await alertFor({ target_id: 8 });
    expect(hasActions(alert.blocks)).toBe(true);
    // Deleted as a poll's port-open request arrives: that poll's scan is the first not to list it.
    let deletedAtLog = -1;
    let deletedAtRequest = -1;
    fakes.halo.fault = (req) => {
      if (deletedAtLog < 0 && req.path === LIST && req.query.get('key') === 'port-open') {
        removeFromHalo(event.event_id);
        deletedAtLog = bot.logs.length;
        deletedAtRequest = fakes.halo.requests.length - 1;
      }
      return undefined;
    };
    const updated = await fakes.slack.waitFor(() => (alert.updated === undefined ? undefined : alert));
    fakes.halo.fault = undefined;

    // Two polls: the one the deletion happened in and the next, which found it missing a second time.
    const after = bot.logs.slice(deletedAtLog);
    const noticed = after.findIndex((line) => line.includes('alerted events no longer in Halo'));
    expect(noticed).toBeGreaterThan(0);
    expect(after.slice(0, noticed).filter((line) => line.includes('poll: done'))).toHaveLength(1);

    expect(shown(updated)).toMatch(GONE);
    expect(updated.updated!.text).toBe(`Halo event ${event.event_id} no longer exists in Halo`);
    expect(hasActions(updated.updated!.blocks)).toBe(false);
    // The rest of the alert as it was: header, fields, link.
    expect(updated.updated!.blocks.slice(0, 3)).toEqual(alert.blocks.slice(0, 3));
    expect(updated.updated!.color).toBe(alert.color);
    // The other alert's event still exists: untouched.
    expect(other.alert.updated).toBeUndefined();

    // Only the scans every poll makes: one list request per key, never a request about the event itself.
    // (Besides, every 10th poll counts all events with a page of one, to weigh one full scan: see measureAll.)
    const since = fakes.halo.requests.slice(deletedAtRequest).filter((r) => r.query.get('limit') !== '1');
    expect(since.every((r) => r.path === LIST)).toBe(true);
    expect(new Set(since.map((r) => r.query.get('key')))).toEqual(
      new Set(['port-open', 'target-scan-start', 'target-scan-complete']),
    );
    const polls = after.filter((line) => line.includes('poll: done')).length + 1;
    expect(since.length).toBeLessThanOrEqual(3 * polls);
    // Updated once, however many polls go by.
    await waitPolls(2);
    expect(fakes.slack.updates.filter((u) => u.args.ts === alert.ts)).toHaveLength(1);
  });

  it('keeps who acknowledged it, and says (once) who deleted it when the bot’s Delete button did, from another message', async () => {
    const { event, alert } = await alertFor({ target_id: 9 });
    await alice.act({
      actionId: ACK_ACTION_ID,
      value: event.event_id,
      blocks: alert.blocks,
      messageTs: alert.ts,
    });
    // Deleted from `/halo event ID`'s private answer, not from the alert.
    const answer = await admin.slash(`event ${event.event_id}`);
    const deleted = await admin.act({
      actionId: DELETE_ACTION_ID,
      value: event.event_id,
      blocks: answer.blocks as unknown[],
    });
    expect(text(deleted)).toContain('Deleted by <@UADMIN>');
    expect(fakes.halo.events.some((e) => e.event_id === event.event_id)).toBe(false);

    const updated = await fakes.slack.waitFor(() => (alert.updated === undefined ? undefined : alert));
    const seen = shown(updated);
    expect(seen).toMatch(/:eyes: Acknowledged by <@UALICE> <!date[^>]+>$/m);
    expect(seen).toMatch(/:wastebasket: Deleted by <@UADMIN> <!date[^>]+>$/m);
    // Said once: the deletion's line is what says the event is gone.
    expect(seen).not.toContain('no longer exists');
    expect(hasActions(updated.updated!.blocks)).toBe(false);
  });

  it('updates a scan thread’s parent too, keeping its summary, and leaves the replies whose events remain', async () => {
    const start = await alertFor({ key: 'target-scan-start', subject: 'Scan Started', target_id: 21 });
    const port = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 21 });
    const reply = await fakes.slack.waitFor(() => postedFor(port.event_id));
    expect(reply.threadTs).toBe(start.alert.ts);
    fakes.halo.addEvent({ key: 'target-scan-complete', subject: 'Scan Completed', target_id: 21 });
    await fakes.slack.waitFor(() => (start.alert.updated === undefined ? undefined : start.alert));
    expect(shown(start.alert)).toContain('Scan complete · 1 port opened');

    removeFromHalo(start.event.event_id);
    await fakes.slack.waitFor(() => (GONE.test(shown(start.alert)) ? start.alert : undefined));
    expect(shown(start.alert)).toContain('Scan complete · 1 port opened');
    expect(hasActions(start.alert.updated!.blocks)).toBe(false);
    expect(reply.updated).toBeUndefined();
  });
});

describe('what proves nothing', () => {
  it('steady polls: pages Halo sends unchanged (which the bot does not read again) never make an alert look gone', async () => {
    const alerts = [await alertFor({ target_id: 31 }), await alertFor({ target_id: 32 })];
    const updatesBefore = fakes.slack.updates.length;
    await waitPolls(5);
    for (const { alert } of alerts) expect(alert.updated).toBeUndefined();
    expect(fakes.slack.updates).toHaveLength(updatesBefore);
  });

  it('a failed scan: polls that fail while the event is missing do not count', async () => {
    const { event, alert } = await alertFor({ target_id: 11 });
    fakes.halo.fault = (req) => (req.path === LIST ? { kind: 'status', status: 500 } : undefined);
    removeFromHalo(event.event_id);
    const failedFrom = bot.logs.length;
    await waitFor(
      'three failed polls',
      () => bot.logs.slice(failedFrom).filter((line) => line.includes('poll failed')).length >= 3,
    );
    expect(alert.updated).toBeUndefined();
    fakes.halo.fault = undefined;
    // Only now do two complete scans miss it.
    await fakes.slack.waitFor(() => (alert.updated === undefined ? undefined : alert));
    expect(shown(alert)).toMatch(GONE);
  });

  it('a scan with an entry it cannot read, while another scope’s complete scan still counts', async () => {
    const unreadable = await alertFor({ target_id: 12 });
    const readable = await alertFor({ key: 'target-scan-start', subject: 'Scan Started', target_id: 13 });
    // port-open's list carries an entry without an ID: that scan cannot prove the alerted event is gone.
    fakes.halo.fault = (req) =>
      req.path === LIST && req.query.get('key') === 'port-open'
        ? {
            kind: 'body',
            body: JSON.stringify({
              request: { sort: 0, start: 0 },
              pagination: { total: 1, start: 0, limit: 1000 },
              list: [{ event: { subject: 'New Open Port', key: 'port-open' } }],
            }),
          }
        : undefined;
    removeFromHalo(unreadable.event.event_id);
    removeFromHalo(readable.event.event_id);
    await fakes.slack.waitFor(() => (readable.alert.updated === undefined ? undefined : readable.alert));
    await waitPolls(3);
    expect(unreadable.alert.updated).toBeUndefined();
    fakes.halo.fault = undefined;
    await fakes.slack.waitFor(() => (unreadable.alert.updated === undefined ? undefined : unreadable.alert));
  });

  it('an alert that no scan covers any more (its subscription was removed) is left as it was', async () => {
    const subscribed = await admin.slash('subscribe key:domain-add', 'COTHER');
    expect(text(subscribed)).toContain('Subscribed');
    const event = fakes.halo.addEvent({ key: 'domain-add', subject: 'Domain Added', target_id: 14 });
    const alert = await fakes.slack.waitFor(() => postedFor(event.event_id));
    expect(alert.channel).toBe('COTHER');
    const id = /#(\d+)/.exec(text(subscribed))?.[1];
    expect(text(await admin.slash(`unsubscribe ${id}`, 'COTHER'))).toContain('Removed subscription');
    removeFromHalo(event.event_id);
    const from = fakes.halo.listRequests().length;
    await waitPolls(4);
    expect(alert.updated).toBeUndefined();
    // Nothing asked Halo about domain-add once its subscription was gone.
    expect(
      fakes.halo
        .listRequests()
        .slice(from + 3)
        .some((r) => r.query.get('key') === 'domain-add'),
    ).toBe(false);
  });
});
