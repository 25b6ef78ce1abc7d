/**
 * Mutes driven as Slack drives them: `/halo mute`, `/halo mutes`, `/halo unmute` as signed commands, the muted
 * events held back while the rest are posted, `/halo status` counting them, and the one line posted when a mute
 * ends (the bot's clock is moved forward), then the audit rows left in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../stores.ts';
import {
  botEnv,
  delay,
  inProcessBot,
  startFakes,
  testClock,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser, text, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let env: Record<string, string>;
let admin: SlackUser;
let member: SlackUser;
const clock = testClock();

beforeAll(async () => {
  fakes = await startFakes();
  env = botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' });
  bot = await inProcessBot(env, { clock });
  admin = slackUser(fakes, bot, 'UADMIN');
  member = slackUser(fakes, bot, 'UMEMBER');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const postedFor = (eventId: string) =>
  fakes.slack.posts.find((post) => JSON.stringify(post.blocks).includes(eventId));

const polls = () => bot.logs.filter((line) => /poll: (done|baseline)/.test(line)).length;

async function twoMorePolls(): Promise<void> {
  const start = polls();
  await waitFor('two more polls', () => polls() >= start + 2);
}

describe('/halo mute', () => {
  it('answers bad input with the problem and the usage, and changes nothing', async () => {
    const usage = 'Usage: `/halo mute key:K [target:ID] for:DURATION`';
    const cases: [string, string][] = [
      ['mute key:port-open', 'Say for how long: for:30m, for:24h or for:7d (at most 30d).'],
      ['mute key:port-open for:0', 'A mute must last at least 1m, got “0”.'],
      [
        'mute key:port-open for:99y',
        'Expected a duration like 30m, 24h or 7d (minutes, hours or days; at most 30d), got “99y”.',
      ],
      ['mute for:1h', 'Say what to mute: key:K, target:ID, or both.'],
    ];
    for (const [command, problem] of cases) {
      const answer = text(await admin.slash(command));
      expect(answer).toContain(problem);
      expect(answer).toContain(usage);
    }
    expect(text(await admin.slash('mutes'))).toContain('<#CALERTS> has no mutes.');
  });

  it('is refused to someone who may not change subscriptions', async () => {
    const answer = text(await member.slash('mute key:port-open for:30m'));
    expect(answer).toContain('You are not allowed to do that');
    expect(text(await member.slash('mutes'))).toContain('<#CALERTS> has no mutes.');
  });

  it('warns about a key Halo does not list, and adds the mute anyway', async () => {
    const answer = text(await admin.slash('mute key:port-opne for:1h'));
    expect(answer).toContain('Halo lists no event type `port-opne`');
    expect(answer).toMatch(/Muted `port-opne` in <#CALERTS> for 1h, until <!date\^\d+\^[^>]+> \(mute #1\)/);
    expect(text(await admin.slash('unmute 1'))).toContain(
      'Unmuted `port-opne` in <#CALERTS> (mute #1); it had held back no events.',
    );
    expect(text(await admin.slash('unmute 1'))).toContain('This channel has no mute #1 in force.');
  });

  it('holds back matching events, posts the rest, and counts what it held in /halo status', async () => {
    const answer = text(await admin.slash('mute key:port-open for:30m'));
    expect(answer).toMatch(/:mute: Muted `port-open` in <#CALERTS> for 30m, until .* \(mute #2\)/);
    expect(answer).toContain('Matching events are counted, not posted.');

    const muted = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 7 });
    const other = fakes.halo.addEvent({ key: 'target-scan-start', subject: 'Scan Started', target_id: 7 });
    await fakes.slack.waitFor(() => postedFor(other.event_id));
    await twoMorePolls();
    expect(postedFor(muted.event_id)).toBeUndefined();

    expect(text(await member.slash('status'))).toContain('Events muted (counted, not posted): 1');
    const list = text(await member.slash('mutes'));
    expect(list).toMatch(/\*#2\*: `port-open` until <!date\^\d+\^[^>]+>, by <@UADMIN>, held back 1 event/);
    // Another channel is not muted.
    expect(text(await admin.slash('mutes', 'COTHER'))).toContain('<#COTHER> has no mutes.');
  });

  it('posts one line when it ends, naming what it held back and the command that lists it', async () => {
    const before = fakes.slack.postsTo('CALERTS').length;
    clock.advance(31 * 60_000);
    const line = await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((post) => post.text.startsWith('The mute of')),
    );
    expect(text(line as unknown as Record<string, unknown>)).toContain(
      ':bell: The mute of `port-open` in this channel has ended. It held back 1 event: `/halo events key:port-open` lists them.',
    );
    await twoMorePolls();
    // One line, however many sweeps ran since.
    const lines = fakes.slack.postsTo('CALERTS').filter((post) => post.text.startsWith('The mute of'));
    expect(lines).toHaveLength(1);
    expect(fakes.slack.postsTo('CALERTS').length).toBe(before + 1);
    // Events of that type are posted again.
    const after = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 7 });
    await fakes.slack.waitFor(() => postedFor(after.event_id));
    expect(text(await admin.slash('mutes'))).toContain('<#CALERTS> has no mutes.');
  });

  it('wrote each change to the audit log', async () => {
    await delay(50);
    await bot.stop();
    const store = openSqliteStore(env.DATABASE_URL!.slice('sqlite:'.length));
    try {
      const audit = (await store.recentAudit(20)).reverse();
      expect(audit.map((entry) => [entry.userId, entry.action, entry.channel, entry.detail])).toEqual([
        ['UADMIN', 'mute', 'CALERTS', '#1 key:port-opne for 1h'],
        ['UADMIN', 'unmute', 'CALERTS', '#1 key:port-opne'],
        ['UADMIN', 'mute', 'CALERTS', '#2 key:port-open for 30m'],
        ['halo-slack', 'mute_expired', 'CALERTS', '#2 key:port-open, held back 1'],
      ]);
    } finally {
      await store.close();
    }
  });
});
