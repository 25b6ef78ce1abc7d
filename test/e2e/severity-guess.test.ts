/**
 * A real account whose event keys are not the severity table's (`target-issue-new` rather than `issue-new`), with
 * HALO_ALERT_MIN_SEVERITY=high: the unrated keys are named in the log, `/halo types`, `/halo status` and the App
 * Home; a new issue's guessed severity (high) lets it through; an event held back on a guess is counted where a
 * person sees it. Driven as Slack drives the bot, against the Halo stand-in's catalogue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedBody, postToBot } from '../../fakes/sign.ts';
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
import { slackUser, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let user: SlackUser;

const TYPES = [
  { subject: 'Scan Started', key: 'target-scan-start' },
  { subject: 'New Issue Found', key: 'target-issue-new' },
  { subject: 'Configuration Changed', key: 'target-config-change' },
];

beforeAll(async () => {
  fakes = await startFakes({ halo: { types: TYPES } });
  bot = await inProcessBot(botEnv(fakes, { HALO_ALERT_MIN_SEVERITY: 'high' }));
  user = slackUser(fakes, bot, 'U123');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
  await waitFor('the catalogue read', () => bot.logs.some((line) => line.includes('does not rate')));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const shown = (body: Record<string, unknown>): string => visibleText(body);

describe('event types the severity table does not rate', () => {
  it('are named once in the log, with the severity guessed and the HALO_SEVERITY to set', () => {
    const lines = bot.logs.filter((line) => line.includes('does not rate'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'target-issue-new (high), target-config-change (medium). Set HALO_SEVERITY to rate them, e.g. HALO_SEVERITY=target-issue-new=high,target-config-change=medium',
    );
  });

  it('are marked as guessed in /halo types', async () => {
    const text = shown(await user.slash('types'));
    expect(text).toContain('• New Issue Found — `target-issue-new` · :red_circle: High (guessed)');
    expect(text).toContain('• Scan Started — `target-scan-start` · :information_source: Info\n');
    expect(text).toContain(
      ":warning: 2 event types are not in the severity table, so each severity is guessed from the type's name: `target-config-change` medium, `target-issue-new` high.",
    );
  });

  it('let a new issue through severity:high on its guess, and count what they hold back in status and Home', async () => {
    const issue = fakes.halo.addEvent({ key: 'target-issue-new' });
    const change = fakes.halo.addEvent({ key: 'target-config-change' });
    await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((p) => p.text.includes(issue.subject)),
    );
    await waitFor('the held event counted', () => bot.logs.some((line) => line.includes('held back')));
    expect(fakes.slack.postsTo('CALERTS').some((p) => p.text.includes(change.subject))).toBe(false);

    const status = shown(await user.slash('status'));
    expect(status).toContain(
      '*:white_check_mark: Polling normally · :warning: 1 event held back on a guessed severity*',
    );
    expect(status).toContain(
      ':warning: Events held back by a minimum severity on a guessed severity: 1 (`target-config-change` 1). Set HALO_SEVERITY to rate their types.',
    );
    expect(status).toContain('`HALO_SEVERITY=target-issue-new=high,target-config-change=medium`');

    const before = fakes.slack.views.length;
    const ack = await postToBot(bot.url, appHomeOpenedBody('U123'), {
      signingSecret: SIGNING_SECRET,
      contentType: 'application/json',
    });
    expect(ack.status).toBe(200);
    const view = await fakes.slack.waitFor(() =>
      fakes.slack.views.slice(before).find((v) => v.args.user_id === 'U123'),
    );
    const home = visibleText({ blocks: (view.args.view as { blocks: unknown[] }).blocks });
    expect(home).toContain('Polling normally · :warning: 1 event held back on a guessed severity');
    expect(home).toContain(
      'Events held back by a minimum severity on a guessed severity: 1 (`target-config-change` 1)',
    );
    expect(home).toContain('`target-issue-new` high, `target-config-change` medium');
  });
});
