/**
 * Issue 21 §3 as a channel sees it: `/halo summary daily HH:MM` set by an admin (refused to others), the summary
 * posted at its hour with what the channel was told, and, the bot being down at the next one, posted late when a
 * new process starts on the same database; once each, however many processes come and go. The bot's clock is
 * moved forward (signed commands carry the real time, so every command is typed before the first move).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  botEnv,
  inProcessBot,
  startFakes,
  testClock,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import type { SlackPost } from '../../fakes/slack.ts';
import { slackUser, text } from './user.ts';

let fakes: Fakes;
let env: Record<string, string>;
const bots: InProcessBot[] = [];
const clock = testClock();

async function start(): Promise<InProcessBot> {
  const bot = await inProcessBot(env, { clock });
  bots.push(bot);
  await waitFor('a poll', () => bot.logs.some((line) => /poll: (done|baseline)/.test(line)));
  return bot;
}

async function stop(bot: InProcessBot): Promise<void> {
  await bot.stop();
  bots.splice(bots.indexOf(bot), 1);
}

beforeAll(async () => {
  fakes = await startFakes();
  env = botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN', HALO_TIMEZONE: 'UTC' });
});

afterAll(async () => {
  for (const bot of bots) await bot.stop();
  await fakes.close();
});

const summaries = (): SlackPost[] =>
  fakes.slack.postsTo('CALERTS').filter((post) => post.text.startsWith('Halo summary'));
const shown = (post: SlackPost): string => visibleText({ text: post.text, blocks: post.blocks });

describe('scheduled summaries', () => {
  it('posts a summary at its hour and, the bot down at the next, a late one after the restart; once each', async () => {
    let bot = await start();
    const admin = slackUser(fakes, bot, 'UADMIN');
    const member = slackUser(fakes, bot, 'UMEMBER');
    // The first whole minute at least two minutes ahead, as the command writes it.
    const slot = Math.ceil((clock.now() + 120_000) / 60_000) * 60_000;
    const hhmm = new Date(slot).toISOString().slice(11, 16);

    expect(text(await member.slash(`summary daily ${hhmm}`))).toContain('You are not allowed to do that');
    expect(text(await member.slash('summary'))).toContain('This channel gets no scheduled summary.');
    expect(text(await admin.slash(`summary daily ${hhmm}`))).toContain(
      `This channel will get a summary daily ${hhmm} (UTC)`,
    );
    expect(text(await member.slash('summary'))).toContain(`This channel gets a summary daily ${hhmm} (UTC).`);

    const issue = fakes.halo.addEvent({ key: 'issue-new', subject: 'New Issue Found', target_id: 42 });
    await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((p) => p.text.includes('New Issue Found')),
    );
    expect(summaries()).toEqual([]);
    // Anyone may see the summary so far, privately.
    const soFar = text(await member.slash('summary now'));
    expect(soFar).toContain(`Halo summary* (so far; daily ${hhmm}, UTC)`);
    expect(soFar).toContain('New Issue Found on');
    expect(summaries()).toEqual([]);

    // Its hour comes.
    clock.advance(slot - clock.now() + 500);
    const first = await fakes.slack.waitFor(() => summaries()[0]);
    expect(first.text).toBe(`Halo summary (daily ${hhmm}): 1 event posted`);
    expect(shown(first)).toContain(':red_circle: High 1');
    expect(shown(first)).toContain('New issues, open ports and certificate risks (1)');
    expect(shown(first)).toContain('Still unacknowledged (1)');
    expect(JSON.stringify(first.blocks)).toContain(issue.event_id);
    expect(shown(first)).not.toContain('late');

    // Down across the next day's hour; back ten minutes after it.
    await stop(bot);
    clock.advance(24 * 3600_000 + 10 * 60_000);
    bot = await start();
    const second = await fakes.slack.waitFor(() => summaries()[1]);
    expect(shown(second)).toContain('(late: the bot was not running at its time)');
    expect(shown(second)).toContain('Nothing was posted here in this period.');
    // Counted as a post, but not as an event's way to Slack: this process posted no alert.
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toMatch(/^halo_slack_alerts_posted_total\{kind="summary"\} 1$/m);
    expect(metrics).toMatch(/^halo_slack_event_to_post_seconds_count 0$/m);

    // Another restart, and sweeps enough: nothing more.
    await stop(bot);
    bot = await start();
    const polls = bot.logs.filter((line) => line.includes('poll: ')).length;
    await waitFor(
      'three more polls',
      () => bot.logs.filter((line) => line.includes('poll: ')).length >= polls + 3,
    );
    expect(summaries()).toHaveLength(2);
  });
});
