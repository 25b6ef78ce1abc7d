// Issue 23, items 4–6: secrets inside data. An outside probe had Halo quote the API key's tail, split or
// encoded, in its error text; sent an event whose subject holds the key; and set REPLICA_ID to a secret. None
// of them may show the key, or any 8 characters of it in a row, in Slack, the logs, the outbox or /healthz.
import Database from 'better-sqlite3';
import { describe, expect, it, type TestContext } from 'vitest';
import { appHomeOpenedBody, postToBot } from '../../fakes/sign.ts';
import { admin, describePg, freshSchema } from '../postgres.ts';
import { SIGNING_SECRET, tempDatabase, waitFor } from '../harness.ts';
import { ADMIN, failureTimes, logMatch, record, ROOMY, scenarioPerTest, type Scenario } from './scenario.ts';

const scenario = scenarioPerTest();

/** A key of Halo's length (32), with nothing in it an ordinary word would share. */
const KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';

/** The forms the probe used: the tail from the 5th character (28 of 32), split by U+200B, URL- and base64-encoded. */
const FORMS = {
  tail: KEY.slice(4),
  zeroWidth: `${KEY.slice(0, 12)}\u200b${KEY.slice(12)}`,
  urlEncoded: Array.from(KEY, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join(''),
  base64: Buffer.from(`x-apikey: ${KEY}`).toString('base64'),
};

/** The names of the places whose text holds 8 of the key's characters in a row, in any of the probe's forms. */
function leaking(where: Record<string, string>): string[] {
  const runs = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8));
  const b64 = FORMS.base64.slice(12, 36);
  return Object.entries(where)
    .filter(([, text]) => {
      const plain = text.replace(/\u200b|\\u200B/gi, '');
      return (
        runs.some((run) => plain.includes(run)) ||
        plain.includes(FORMS.urlEncoded.slice(0, 24)) ||
        plain.includes(b64)
      );
    })
    .map(([name]) => name);
}

async function openHome(s: Scenario, url: string, user: string): Promise<string> {
  const { slack } = s.fakes;
  const before = slack.views.length;
  await postToBot(url, appHomeOpenedBody(user), {
    signingSecret: SIGNING_SECRET,
    contentType: 'application/json',
  });
  const view = await slack.waitFor(() => slack.views.slice(before).find((v) => v.args.user_id === user));
  return JSON.stringify(view.args.view);
}

describe('secrets inside data (issue 23, items 4–6)', ROOMY, () => {
  it('item 4: Halo error text quotes the key’s tail, split by a zero-width character, URL- and base64-encoded', async (context) => {
    const s = scenario.current;
    const { halo } = await s.start({ halo: { apiKey: KEY } });
    const target = halo.addEvent();
    const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN }));
    await logMatch(bot, /poll: baseline recorded/);
    halo.fault = () => ({
      kind: 'body',
      body: JSON.stringify({
        code: 400,
        message: `invalid key ${FORMS.tail}; also ${FORMS.zeroWidth} ${FORMS.urlEncoded} ${FORMS.base64}`,
      }),
    });
    await waitFor('a failed poll', () => failureTimes(bot).size >= 1, 20_000);
    const where = {
      '/halo status': JSON.stringify((await s.command(bot, 'status', { user: ADMIN })).body),
      '/halo event': JSON.stringify((await s.command(bot, `event ${target.event_id}`, { user: ADMIN })).body),
      'App Home': await openHome(s, bot.url, ADMIN),
      '/healthz': JSON.stringify((await s.health(bot)).body),
      log: bot.logs.join('\n'),
    };
    halo.fault = undefined;
    const leaks = leaking(where);
    record(context, {
      area: 'Secrets',
      fault: 'Halo error text quotes the key’s tail (28 of 32), zero-width split, URL- and base64-encoded',
      behaviour:
        leaks.length === 0
          ? 'a fixed sentence per error code in Slack; every form redacted in the log'
          : `KEY LEAKED to ${leaks.join(', ')}`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(leaks).toEqual([]);
    // Halo's own words are for the log only: Slack gets a sentence the bot wrote.
    expect(where['/halo status']).toContain('refused the request (error code 400');
    expect(where['/halo status']).not.toContain('invalid key');
    expect(where.log).toContain('invalid key [redacted]');
  });

  async function eventWithKey(context: TestContext, databaseUrl: string, label: string) {
    const s = scenario.current;
    const { halo, slack } = await s.start({ halo: { apiKey: KEY } });
    halo.addEvent();
    const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN, DATABASE_URL: databaseUrl }));
    await logMatch(bot, /poll: baseline recorded/);
    const event = halo.addEvent({ subject: `API key ${KEY} added by ${FORMS.tail}` });
    // Halo's catalogue of event types is text from elsewhere too.
    halo.types.push({ subject: `Key ${KEY} rotated`, key: 'account-apikey-rotate' });
    const post = await slack.waitFor(
      () => slack.posts.find((p) => JSON.stringify(p).includes(event.event_id)),
      20_000,
    );
    const where = {
      'the alert': JSON.stringify(post),
      '/halo event': JSON.stringify((await s.command(bot, `event ${event.event_id}`, { user: ADMIN })).body),
      '/halo events': JSON.stringify((await s.command(bot, 'events', { user: ADMIN })).body),
      '/halo types': JSON.stringify((await s.command(bot, 'types rotate', { user: ADMIN })).body),
      [`the ${label} database`]: '',
    };
    await bot.stop();
    where[`the ${label} database`] = await dump(databaseUrl);
    const leaks = leaking(where);
    record(context, {
      area: 'Secrets',
      fault: `a Halo event’s subject holds the bot’s API key (${label})`,
      behaviour:
        leaks.length === 0
          ? 'redacted in the alert, /halo event(s), /halo types and the outbox'
          : `KEY LEAKED to ${leaks.join(', ')}`,
      expected: 1,
      delivered: 1,
      duplicated: 0,
    });
    expect(leaks).toEqual([]);
    expect(where['the alert']).toContain('API key [redacted] added by [redacted]');
    expect(where['/halo types']).toContain('Key [redacted] rotated');
  }

  it('item 5: a Halo event whose subject holds the bot’s API key (SQLite)', async (context) => {
    await eventWithKey(context, tempDatabase(), 'SQLite');
  });

  describePg('on PostgreSQL', () => {
    it('item 5: a Halo event whose subject holds the bot’s API key (PostgreSQL)', async (context) => {
      const { url } = await freshSchema('abuse_secret');
      await eventWithKey(context, url, 'PostgreSQL');
    });
  });

  it('item 6: REPLICA_ID holding a secret is refused at start-up, not shown in /healthz', async (context) => {
    const s = scenario.current;
    await s.start({ halo: { apiKey: KEY } });
    const { code, output } = await s.runToExit(s.env({ REPLICA_ID: `bot-${FORMS.tail}` }));
    const leaks = leaking({ output });
    record(context, {
      area: 'Secrets',
      fault: 'REPLICA_ID holds (part of) the API key',
      behaviour:
        code !== 0 && output.includes('REPLICA_ID') && leaks.length === 0
          ? 'refused at start-up, naming REPLICA_ID, showing no part of it'
          : `started or leaked (exit ${code}; ${leaks.join(', ')})`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(code).not.toBe(0);
    expect(output).toContain('REPLICA_ID looks like a token or shares 8+ characters with one of the secrets');
    expect(leaks).toEqual([]);
  });
});

/** Every row of every table, as text: whatever the schema, a secret kept anywhere shows. */
async function dump(url: string): Promise<string> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      return tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
    } finally {
      db.close();
    }
  }
  const schema = new URL(url).searchParams.get('options')!.replace(/^-c search_path=/, '');
  const tables = await admin<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
    [schema],
  );
  const rows = await Promise.all(
    tables.map(({ table_name }) => admin(`SELECT row_to_json(t) AS row FROM ${schema}."${table_name}" t`)),
  );
  return JSON.stringify(rows);
}
