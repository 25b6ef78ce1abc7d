// Start-up failures: a store that is locked or cannot be written, bad settings, a rejected token. Each must
// end in one clear message and exit code 1, and give nothing away.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  logMatch,
  record,
  ROOMY,
  scenarioPerTest,
  to,
} from './scenario.ts';

const scenario = scenarioPerTest();

/** One message, no stack trace. */
function expectClearMessage(output: string, ...phrases: RegExp[]): void {
  for (const phrase of phrases) expect(output).toMatch(phrase);
  expect(output, 'no stack trace').not.toMatch(/^\s+at /m);
}

describe('the store', ROOMY, () => {
  it('is locked by a running bot: the second bot exits 1 with a clear error, the first goes on', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    halo.addEvent();
    const env = s.env();
    const running = await s.bot(env);
    await logMatch(running, /poll: baseline recorded/);

    const second = await s.runToExit(env);
    expect(second.code).toBe(1);
    expectClearMessage(second.output, /in use by another process/, /DATABASE_URL/);

    const event = halo.addEvent();
    await slack.waitFor(() => slack.posts.length >= 1, 20_000);
    await completedPolls(running, 2);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    record(context, {
      area: 'Process',
      fault: 'store locked by another bot',
      behaviour: 'second bot: "in use by another process", exit 1; the first kept posting',
      ...countsRow(counts),
    });
    expectCounts(counts);
  });

  it('cannot be written: its folder would be under a regular file', async (context) => {
    const s = scenario.current;
    await s.start();
    const file = join(mkdtempSync(join(tmpdir(), 'halo-slack-faults-')), 'not-a-folder');
    writeFileSync(file, 'a file where a folder should be');
    const path = join(file, 'bot.db');
    const result = await s.runToExit(s.env({ DATABASE_URL: `sqlite:${path}` }));
    record(context, {
      area: 'Process',
      fault: 'store path under a regular file',
      behaviour: `exit ${result.code}: "${result.output.trim().split('\n')[0]!.slice(0, 70)}…"`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(result.code).toBe(1);
    expectClearMessage(
      result.output,
      new RegExp(path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
      /DATABASE_URL/,
    );
  });

  it('cannot be written: its folder would be under /proc', async (context) => {
    const s = scenario.current;
    await s.start();
    const path = '/proc/halo-slack-faults/bot.db';
    const result = await s.runToExit(s.env({ DATABASE_URL: `sqlite:${path}` }), 15_000);
    record(context, {
      area: 'Process',
      fault: 'store path under /proc',
      behaviour:
        typeof result.code === 'string'
          ? `did not exit: ${result.code} at 100% CPU (see bug report)`
          : `exit ${result.code}: "${result.output.trim().split('\n')[0]!.slice(0, 70)}…"`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(result.code).toBe(1);
    expectClearMessage(result.output, /\/proc\/halo-slack-faults\/bot\.db/, /DATABASE_URL/);
  });
});

describe('settings and token', ROOMY, () => {
  it('bad settings: every problem listed, exit 1', async (context) => {
    const s = scenario.current;
    await s.start();
    const env = s.env({
      SLACK_SIGNING_SECRET: '',
      HALO_POLL_INTERVAL_SECONDS: '0',
      HALO_ALERT_CHANNEL: '#alerts',
      DATABASE_URL: 'mysql://db/halo',
    });
    const result = await s.runToExit(env);
    expect(result.code).toBe(1);
    expectClearMessage(
      result.output,
      /4 settings to fix/,
      /SLACK_SIGNING_SECRET is missing/,
      /HALO_POLL_INTERVAL_SECONDS must be/,
      /HALO_ALERT_CHANNEL must be a channel ID/,
      /DATABASE_URL must look like/,
    );
    record(context, {
      area: 'Process',
      fault: 'bad settings (4 at once)',
      behaviour: 'listed all 4 with how to fix each, exit 1',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });

  it('a bot token Slack rejects: exit 1, the token not repeated', async (context) => {
    const s = scenario.current;
    await s.start();
    // Random-looking, as real tokens are: any 8 of a secret's characters in a row are redacted, an English
    // word ("rejected") included.
    const rejected = 'xoxb-r3j3ct3d-7301952846-abcdef';
    s.extraSecrets.push(rejected);
    const result = await s.runToExit(s.env({ SLACK_BOT_TOKEN: rejected }));
    expect(result.code).toBe(1);
    expectClearMessage(result.output, /Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)/);
    record(context, {
      area: 'Process',
      fault: 'bot token rejected at start-up',
      behaviour: '"Slack rejected SLACK_BOT_TOKEN (invalid_auth)", exit 1',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});
