/**
 * A subscription made on a standby replica while the leader is in the middle of a poll. The standby must not set
 * the new subscription's starting point on its own: the leader's poll, which began before the subscription,
 * would then write its older plan over it, and the next poll would take the new scope's events as a silent
 * baseline. Two bots on one PostgreSQL database, in this process (each with its own pool, election and poller).
 */
import { afterEach, expect, it } from 'vitest';
import {
  botEnv,
  getJson,
  inProcessBot,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { slackUser, text } from './user.ts';

let fakes: Fakes | undefined;
const bots: InProcessBot[] = [];

afterEach(async () => {
  for (const bot of bots.splice(0).reverse()) await bot.stop();
  await fakes?.close();
  fakes = undefined;
});

const ALERT_KEY = 'target-scan-start';
const SUB_KEY = 'domain-add';

describePg('a subscription made on a standby replica', () => {
  it('starts where the answer says, even while the leader polls: no later event lost or posted twice', async () => {
    fakes = await startFakes();
    const f = fakes;
    const { url } = await freshSchema('substart');
    // The default channel scans one key, not everything: a new key is then a scope no poll has covered yet.
    const env = (id: string): Record<string, string> =>
      botEnv(f, {
        DATABASE_URL: url,
        REPLICA_ID: id,
        HALO_ADMIN_USERS: 'UADMIN',
        HALO_ALERT_KEYS: ALERT_KEY,
      });
    const leader = await inProcessBot(env('replica-a'));
    bots.push(leader);
    await waitFor('the baseline poll', () => leader.logs.some((l) => /poll: baseline recorded/.test(l)));
    const standby = await inProcessBot(env('replica-b'));
    bots.push(standby);
    expect((await getJson(`${standby.url}/healthz`)).body).toMatchObject({ role: 'standby' });

    const posted = (channel: string, ids: readonly string[]): string[] =>
      f.slack.postsTo(channel).flatMap((p) => ids.filter((id) => JSON.stringify(p.blocks).includes(id)));
    // IDs of one width: none is a prefix of another, whatever the stand-in's shared counter has reached.
    let made = 0;
    const add = (key: string): string =>
      f.halo.addEvent({ key, event_id: `sub-${String(++made).padStart(4, '0')}` }).event_id;
    const x1 = add(ALERT_KEY);
    await waitFor('the first alert', () => posted('CALERTS', [x1]).length === 1);

    // The leader's next poll of its scope hangs for 2 s, answered with what Halo holds by then.
    let armedAt = Date.now();
    f.halo.fault = (req) =>
      req.path.endsWith('/event/list.json') && req.query.get('key') === ALERT_KEY && req.at >= armedAt
        ? { kind: 'delay', ms: 2000 }
        : undefined;
    armedAt = Date.now();
    await waitFor('the leader polling', () =>
      f.halo.listRequests().some((r) => r.query.get('key') === ALERT_KEY && r.at >= armedAt),
    );
    const x2 = add(ALERT_KEY);

    // Subscribed through the standby while that poll is in flight; events keep arriving meanwhile.
    const asking = slackUser(f, standby, 'UADMIN').slash(`subscribe key:${SUB_KEY}`, 'CSUB');
    const during = add(SUB_KEY);
    const answer = text(await asking);
    expect(answer).toContain('Subscribed');
    expect(answer).toContain('Every new event from now on is posted here');
    const after = [add(SUB_KEY)];
    f.halo.fault = undefined;
    await waitFor('the leader’s slow poll to end', () => posted('CALERTS', [x2]).length === 1, 10_000);
    after.push(add(SUB_KEY));
    const x3 = add(ALERT_KEY);

    await waitFor('every event after the answer in CSUB', () => posted('CSUB', after).length === 2, 10_000);
    await waitFor('the last alert', () => posted('CALERTS', [x3]).length === 1, 10_000);
    // Two more polls: nothing else arrives late.
    const polls = (): number => leader.logs.filter((l) => / poll: done/.test(l)).length;
    const seenPolls = polls();
    await waitFor('two more polls', () => polls() >= seenPolls + 2);

    expect(posted('CSUB', after)).toEqual(after);
    // The one sent while the subscription was being made may be either side of its starting point: once at most.
    expect(posted('CSUB', [during]).length).toBeLessThanOrEqual(1);
    expect(f.slack.postsTo('CSUB')).toHaveLength(after.length + posted('CSUB', [during]).length);
    expect(posted('CALERTS', [x1, x2, x3])).toEqual([x1, x2, x3]);
    expect(f.slack.postsTo('CALERTS')).toHaveLength(3);
  }, 60_000);
});
