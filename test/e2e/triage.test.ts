// Issue 9 as a user sees it: a scan's thread across a restart, severity on the alert and in /halo events, a
// subscription's minimum severity, and the warnings that catch a mistyped key early.
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackPost } from '../../fakes/slack.ts';
import { postToBot, slashCommandBody } from '../../fakes/sign.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

let fakes: Fakes | undefined;
let bots: InProcessBot[] = [];

afterEach(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  bots = [];
  await fakes?.close();
  fakes = undefined;
});

async function start(env: Record<string, string>): Promise<InProcessBot> {
  const bot = await inProcessBot(env);
  bots.push(bot);
  return bot;
}

/** Waits until the bot has finished a poll that started after this call. */
async function nextPoll(bot: InProcessBot): Promise<void> {
  const before = bot.logs.filter((l) => l.includes('poll: ')).length;
  await waitFor('a completed poll', () => bot.logs.filter((l) => l.includes('poll: ')).length > before);
}

const shown = (post: SlackPost): string => visibleText({ text: post.text, blocks: post.blocks });

describe('scan threads', () => {
  it('puts a scan’s start, an issue and its completion in one thread, across a restart on the same database', async () => {
    fakes = await startFakes();
    const { halo, slack } = fakes;
    halo.addEvent();
    const env = botEnv(fakes);
    let bot = await start(env);
    await nextPoll(bot);

    halo.addEvent({ subject: 'Scan Started', key: 'target-scan-start', target_id: 42 });
    const parent = await slack.waitFor(() => slack.postsTo('CALERTS')[0]);
    expect(parent.threadTs).toBeUndefined();
    expect(parent.color).toBe('#9E9E9E');
    expect(shown(parent)).toContain(':information_source: Info · Scan Started');

    halo.addEvent({ subject: 'New Issue Found', key: 'issue-new', target_id: 42 });
    const issue = await slack.waitFor(() => slack.replies('CALERTS', parent.ts)[0]);
    // High: also sent to the channel, so that nothing important hides in a thread.
    expect(issue.broadcast).toBe(true);
    expect(issue.text).toMatch(/^High: New Issue Found/);

    await bot.stop();
    bots = [];
    bot = await start(env);
    halo.addEvent({ subject: 'Scan Completed', key: 'target-scan-complete', target_id: 42 });
    const done = await slack.waitFor(() => slack.replies('CALERTS', parent.ts)[1]);
    expect(done.broadcast).toBe(false);
    expect(done.text).toMatch(/^Info: Scan Completed/);
    const updated = await slack.waitFor(() => parent.updated);
    expect(visibleText({ text: updated.text, blocks: updated.blocks })).toContain(
      'Scan complete · 1 new issue',
    );
    expect(updated.color).toBe('#9E9E9E');
    // One post in the channel for the whole scan (and the broadcast issue).
    expect(slack.postsTo('CALERTS').filter((p) => p.threadTs === undefined)).toHaveLength(1);
    await nextPoll(bot);
    expect(slack.postsTo('CALERTS')).toHaveLength(3);
  });

  it('threads a scan whose start, finding and end arrive in one poll in one minute, listed by name', async () => {
    fakes = await startFakes();
    const { halo, slack } = fakes;
    const bot = await start(botEnv(fakes));
    await nextPoll(bot);
    // Halo stamps events to the minute and lists them by subject: "New Open Port" comes before "Scan Started".
    const minute = '2026-12-06 10:14';
    halo.addEvent({ subject: 'New Open Port', key: 'port-open', target_id: 9, date_created: minute });
    halo.addEvent({
      subject: 'Scan Completed',
      key: 'target-scan-complete',
      target_id: 9,
      date_created: minute,
    });
    halo.addEvent({ subject: 'Scan Started', key: 'target-scan-start', target_id: 9, date_created: minute });
    await slack.waitFor(() => slack.postsTo('CALERTS').length === 3);
    const [parent, ...replies] = slack.postsTo('CALERTS');
    expect(parent!.text).toMatch(/Scan Started/);
    expect(parent!.threadTs).toBeUndefined();
    expect(replies.map((p) => [p.text.split(/: | — /)[1], p.threadTs])).toEqual([
      ['New Open Port', parent!.ts],
      ['Scan Completed', parent!.ts],
    ]);
  });

  it('posts every alert in the channel with HALO_THREADS=off', async () => {
    fakes = await startFakes();
    const { halo, slack } = fakes;
    const bot = await start(botEnv(fakes, { HALO_THREADS: 'off' }));
    await nextPoll(bot);
    halo.addEvent({ key: 'target-scan-start', target_id: 7 });
    await slack.waitFor(() => slack.posts.length === 1);
    halo.addEvent({ key: 'issue-new', target_id: 7 });
    await slack.waitFor(() => slack.posts.length === 2);
    expect(slack.posts.map((p) => p.threadTs)).toEqual([undefined, undefined]);
  });
});

describe('severity filters and the checks that catch mistakes early', () => {
  it('HALO_ALERT_MIN_SEVERITY=high posts high and critical events only; a mistyped HALO_ALERT_KEYS key is a warning', async () => {
    fakes = await startFakes();
    const { halo, slack } = fakes;
    const bot = await start(
      botEnv(fakes, {
        HALO_ALERT_MIN_SEVERITY: 'high',
        HALO_SEVERITY: 'domain-add=critical',
        HALO_ALERT_KEYS: 'issue-new,port-opne,domain-add,account-user-add',
      }),
    );
    await waitFor('the key warning', () =>
      bot.logs.find((l) => l.includes('HALO_ALERT_KEYS: Halo lists no event type')),
    );
    expect(bot.logs.join('\n')).toContain('"port-opne" (did you mean port-open?)');
    await nextPoll(bot);
    halo.addEvent({ key: 'account-user-add', target_id: 1 });
    const issue = halo.addEvent({ key: 'issue-new', target_id: 1 });
    const domain = halo.addEvent({ key: 'domain-add', target_id: 1 });
    await slack.waitFor(() => slack.posts.length >= 2);
    await nextPoll(bot);
    await nextPoll(bot);
    const posted = slack.posts.map((p) => JSON.stringify(p.blocks));
    expect(posted).toHaveLength(2);
    expect(posted.some((p) => p.includes(issue.event_id))).toBe(true);
    expect(posted.some((p) => p.includes(domain.event_id))).toBe(true);
    expect(slack.posts.map((p) => p.text.split(':')[0]).sort()).toEqual(['Critical', 'High']);
  });

  it('answers /halo subscribe with a warning for an unknown key, /halo events with severity and a hint', async () => {
    fakes = await startFakes();
    const { halo, slack } = fakes;
    slack.users.set('UADMIN', { is_admin: true });
    halo.addEvent({ key: 'issue-new', target_id: 3, subject: 'New Issue Found' });
    // An account event: Halo sends an empty target with ID 0.
    halo.addEvent({
      key: 'account-user-add',
      subject: 'User Added',
      target: { target_name: '', target_id: 0, target: '' },
    });
    const bot = await start(botEnv(fakes));
    const command = async (text: string): Promise<string> => {
      const responseUrl = slack.responseUrl();
      const before = slack.responses.length;
      const body = slashCommandBody({
        text,
        user_id: 'UADMIN',
        channel_id: 'CALERTS',
        response_url: responseUrl,
      });
      expect((await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
      const answer = await slack.waitFor(() =>
        slack.responses.slice(before).find((r) => r.body.text !== undefined),
      );
      return visibleText(answer.body);
    };

    const subscribed = await command('subscribe key:isue-new severity:high');
    expect(subscribed).toContain('key `isue-new`, of severity high or critical');
    expect(subscribed).toContain('Halo lists no event type "isue-new" (did you mean issue-new?)');
    expect(subscribed).toContain('The subscription uses it as given');

    const list = await command('events');
    expect(list).toContain(':red_circle: High · *');
    // An account event: its severity, and no dangling "on" or "ID 0" for the target it does not have.
    expect(list).toMatch(/:large_orange_diamond: Medium · \*<[^>]+\|User Added>\*\n`account-user-add`/);
    expect(list).not.toContain('User Added* on');
    expect(list).not.toContain('ID 0');

    const none = await command('events key:isue-new');
    expect(none).toContain('No Halo events match `/halo events key:isue-new`.');
    expect(none).toContain('`/halo types` lists every event type and its key');
  });
});
