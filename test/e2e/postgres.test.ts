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
import { describePg, freshSchema, TEST_DATABASE_URL } from '../postgres.ts';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.ts';
import { distributedEnv, workspaces } from './workspaces.ts';

let fakes: Fakes | undefined;
let bot: InProcessBot | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await bot?.stop();
  await proxy?.close();
  await fakes?.close();
  [bot, proxy, fakes] = [undefined, undefined, undefined];
});

/** Waits until the bot has finished a poll that started after this call. */
async function nextPoll(running: InProcessBot): Promise<void> {
  const count = (): number => running.logs.filter((l) => / poll: (done|baseline)/.test(l)).length;
  const before = count();
  await waitFor('a completed poll', () => count() > before);
}

describePg('the bot on PostgreSQL', () => {
  it('degrades /healthz while the database is unreachable, retries, and posts every event once after', async () => {
    fakes = await startFakes();
    fakes.halo.addEvent();
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL((await freshSchema('outage')).url);
    url.host = `127.0.0.1:${proxy.port}`;
    bot = await inProcessBot(botEnv(fakes, { DATABASE_URL: url.toString() }));
    const running = bot;
    await nextPoll(running);
    const first = fakes.halo.addEvent();
    await fakes.slack.waitFor(() => fakes!.slack.postsTo('CALERTS')[0]);

    proxy.cut();
    const during = fakes.halo.addEvent();
    let degraded = await getJson(`${running.url}/healthz`);
    const deadline = Date.now() + 15_000;
    while (degraded.body.status !== 'degraded' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      degraded = await getJson(`${running.url}/healthz`);
    }
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      alertsPending: null,
      eventsSeen: null,
      database: 'unreachable',
    });

    proxy.restore();
    await fakes.slack.waitFor(() => fakes!.slack.postsTo('CALERTS')[1], 20_000);
    const after = fakes.halo.addEvent();
    await fakes.slack.waitFor(() => fakes!.slack.postsTo('CALERTS')[2]);
    await nextPoll(running);
    await waitFor(
      'an ok /healthz',
      async () => (await getJson(`${running.url}/healthz`)).body.status === 'ok',
    );
    const posted = fakes.slack.postsTo('CALERTS').map((p) => JSON.stringify(p.blocks));
    expect(posted).toHaveLength(3);
    for (const [i, event] of [first, during, after].entries()) expect(posted[i]).toContain(event.event_id);
  });

  it('distributed: an installed workspace’s commands are acknowledged and answered while the database is away', async () => {
    fakes = await startFakes();
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL((await freshSchema('authorize')).url);
    url.host = `127.0.0.1:${proxy.port}`;
    bot = await inProcessBot(distributedEnv(fakes, { DATABASE_URL: url.toString() }));
    const people = workspaces(fakes, bot);
    await people.install({ teamId: 'TA', teamName: 'Alpha' });
    expect(await people.slash('TA', 'help', 'CA')).toContain('/halo');

    // Refused connections, then a silent network: Bolt's authorize reads the installation from the database,
    // and answers from the one last read once the database fails or is late (2 s; Slack waits 3 s).
    for (const away of [() => proxy!.cut(), () => proxy!.silence()]) {
      away();
      expect(await people.slash('TA', 'help', 'CA')).toContain('/halo');
      proxy.restore();
    }
    expect(bot.logs.some((line) => line.includes('answering from the last one read'))).toBe(true);
    expect(await people.slash('TA', 'help', 'CA')).toContain('/halo');
  });
});
