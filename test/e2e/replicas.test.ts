/**
 * Two real bot processes (`npm start`'s command) on one PostgreSQL database and one Halo account: the replica that
 * holds the account's lease polls and posts (`role: leader` in /healthz), the other answers Slack. Drives a kill
 * -9 of the holder, a restart, and a SIGTERM hand-over, and checks that every event is posted exactly once and
 * that the two never poll at the same moment. Many accounts over several replicas: sharing.test.ts.
 */
import { afterAll, expect, it } from 'vitest';
import { botEnv, getJson, spawnBot, startFakes, waitFor, type ChildBot, type Fakes } from '../harness.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { slackUser, text } from './user.ts';

let fakes: Fakes | undefined;
const children: ChildBot[] = [];

afterAll(async () => {
  for (const bot of children) bot.child.kill('SIGKILL');
  await fakes?.close();
});

/** Each `poll: done` / `poll: baseline recorded` line as the interval it covered, [start, end] in ms. */
function pollIntervals(output: string): [number, number][] {
  const intervals: [number, number][] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+) +\w+ +poll: (?:done|baseline recorded) .*\bms=(\d+)/.exec(line);
    if (match === null) continue;
    const end = Date.parse(match[1]!);
    intervals.push([end - Number(match[2]), end]);
  }
  return intervals;
}

async function role(bot: ChildBot): Promise<string | undefined> {
  try {
    return (await getJson(`${bot.url}/healthz`)).body.role as string;
  } catch {
    return undefined;
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePg('two replicas on one PostgreSQL database', () => {
  it('one polls and posts; commands work on the standby; kill -9 and SIGTERM hand over; nothing lost or doubled', async () => {
    fakes = await startFakes();
    const f = fakes;
    f.halo.addEvent();
    const { url } = await freshSchema('replicas');
    const env = (id: string): Record<string, string> =>
      botEnv(f, { DATABASE_URL: url, REPLICA_ID: id, HALO_ADMIN_USERS: 'UADMIN' });
    const spawn = async (id: string): Promise<ChildBot> => {
      const bot = await spawnBot(env(id));
      children.push(bot);
      return bot;
    };

    const a = await spawn('replica-a');
    await until('a to lead', async () => (await role(a)) === 'leader');
    const b = await spawn('replica-b');
    expect(await role(b)).toBe('standby');
    expect((await getJson(`${b.url}/healthz`)).body).toMatchObject({
      leader: 'replica-a',
      replica: 'replica-b',
    });

    // Sample /healthz of every live replica through the test: never two leaders.
    const live = new Set<ChildBot>([a, b]);
    let leaders: number[] = [];
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        const roles = await Promise.all([...live].map(role));
        leaders.push(roles.filter((r) => r === 'leader').length);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const postedIds = (channel: string): string[] =>
      f.slack.postsTo(channel).flatMap((p) => created.filter((id) => JSON.stringify(p.blocks).includes(id)));
    const created: string[] = [];
    // IDs of one width, in creation order: events of one minute are posted in ID order, and the stand-in's own
    // counter is shared by every test file of a worker (ev-9 then ev-10 would sort the other way).
    const add = (key?: string): string => {
      const event_id = `rep-${String(created.length + 1).padStart(4, '0')}`;
      const event = f.halo.addEvent(key === undefined ? { event_id } : { event_id, key });
      created.push(event.event_id);
      return event.event_id;
    };
    const waitPosted = (channel: string, ids: string[]): Promise<unknown> =>
      waitFor(
        `${ids.join(',')} in ${channel}`,
        () => ids.every((id) => postedIds(channel).includes(id)),
        20_000,
      );

    // 1. Events, with one poller.
    const first = [add(), add(), add()];
    await waitPosted('CALERTS', first);

    // 2. A command and a subscription through the standby.
    const onStandby = slackUser(f, { url: b.url } as never, 'UADMIN');
    const status = text(await onStandby.slash('status'));
    expect(status).toContain('replica-a');
    expect(status).toContain('this answer came from');
    expect(status).toContain('replica-b');
    expect(text(await onStandby.slash('subscribe key:domain-add', 'CSUB'))).toMatch(/subscribed|Subscribed/);
    const subscribed = add('domain-add');
    await waitPosted('CSUB', [subscribed]);
    await waitPosted('CALERTS', [subscribed]);

    // 3. kill -9 of the leader, and more events: the standby takes over.
    a.child.kill('SIGKILL');
    await a.exited;
    live.delete(a);
    const afterKill = [add(), add()];
    await until('b to lead', async () => (await role(b)) === 'leader');
    await waitPosted('CALERTS', afterKill);

    // 4. The killed replica comes back as a standby.
    const a2 = await spawn('replica-a');
    live.add(a2);
    expect(await role(a2)).toBe('standby');

    // 5. SIGTERM of the new leader: the restarted replica takes over at once.
    live.delete(b);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    const afterTerm = [add(), add('domain-add')];
    await until('a to lead again', async () => (await role(a2)) === 'leader');
    await waitPosted('CALERTS', afterTerm);
    await waitPosted('CSUB', [afterTerm[1]!]);
    sampling.on = false;
    await sampler;

    // Exactly once each, in the order they were created, in both channels.
    expect(postedIds('CALERTS')).toEqual(created);
    expect(postedIds('CSUB')).toEqual([subscribed, afterTerm[1]]);
    expect(f.slack.postsTo('CALERTS')).toHaveLength(created.length);

    // Never two replicas at once: no two polls of different replicas overlap, and no sample saw two leaders.
    const polls = [a, b, a2].map((bot) => pollIntervals(bot.output()));
    for (const [i, mine] of polls.entries()) {
      expect(mine.length).toBeGreaterThan(0);
      for (const theirs of polls.slice(i + 1)) {
        for (const [start, end] of mine) {
          for (const [otherStart, otherEnd] of theirs)
            expect(start > otherEnd || end < otherStart).toBe(true);
        }
      }
    }
    expect(Math.max(...leaders)).toBe(1);
    expect(leaders.filter((n) => n === 1).length).toBeGreaterThan(leaders.length / 2);
    leaders = [];
  }, 120_000);
});
