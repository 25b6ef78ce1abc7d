import { afterEach, describe, expect, it } from 'vitest';
import { makeEvents } from '../../fakes/halo.ts';
import {
  botEnv,
  FAST_DELAYS,
  inProcessBot,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

let fakes: Fakes | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await fakes?.close();
  fakes = undefined;
});

function polls(b: InProcessBot): string[] {
  return b.logs.filter((l) => l.includes('poll: done') || l.includes('poll: baseline recorded'));
}

async function nextPoll(b: InProcessBot): Promise<string> {
  const before = polls(b).length;
  return waitFor('a completed poll', () => polls(b)[before]);
}

describe('shared scans', () => {
  it('reads 2,500 events in exactly 3 list requests of 1000 per poll', async () => {
    fakes = await startFakes({ halo: { events: makeEvents(2500) } });
    // A poll of 2,500 events can take longer than the test's 250 ms interval on a loaded machine, and the next
    // one would then start before the count below is taken: a 1 s interval keeps the polls apart.
    bot = await inProcessBot(botEnv(fakes, { TEST_DELAYS: `${FAST_DELAYS},pollInterval=1000` }));
    await nextPoll(bot);
    const before = fakes.halo.listRequests().length;
    const line = await nextPoll(bot);
    const requests = fakes.halo.listRequests().slice(before, before + 3);
    expect(line).toContain('requests=3');
    expect(requests.map((r) => r.query.get('start')).sort()).toEqual(['0', '1000', '2000']);
    expect(requests.every((r) => r.query.get('limit') === '1000')).toBe(true);
  });

  it('posts an event seen twice (offsets shifted by an insertion mid-scan) once', async () => {
    fakes = await startFakes({ halo: { events: makeEvents(1500) } });
    const halo = fakes.halo;
    bot = await inProcessBot(botEnv(fakes, { HALO_SCAN_CONCURRENCY: '1' }));
    await nextPoll(bot);
    // Between page 1 and page 2 of the next scan, a new event lands at the front: page 2 then repeats the
    // last event of page 1, and the new event itself is missed until the scan after.
    let inserted = false;
    halo.fault = (req) => {
      if (!inserted && req.path.endsWith('list.json') && req.query.get('start') === '1000') {
        inserted = true;
        const [event] = makeEvents(1);
        halo.events.unshift(event!);
      }
      return undefined;
    };
    await waitFor('the insertion', () => inserted);
    await fakes.slack.waitFor(() => fakes?.slack.posts.length === 1);
    await nextPoll(bot);
    await nextPoll(bot);
    expect(fakes.slack.posts).toHaveLength(1);
    expect(JSON.stringify(fakes.slack.posts[0]?.blocks)).toContain(halo.events[0]!.event_id);
  });

  it('catches an event skipped because a deletion shifted offsets mid-scan, on the next scan', async () => {
    fakes = await startFakes({ halo: { events: makeEvents(1500) } });
    const halo = fakes.halo;
    bot = await inProcessBot(botEnv(fakes, { HALO_SCAN_CONCURRENCY: '1' }));
    await nextPoll(bot);
    // A new event at position 1000 (the start of page 2) while page 1 is being read, plus a deletion at the
    // front: page 2 starts one later and skips the new event in this scan.
    let shifted = false;
    halo.fault = (req) => {
      if (!shifted && req.path.endsWith('list.json') && req.query.get('start') === '1000') {
        shifted = true;
        const [event] = makeEvents(1);
        halo.events.splice(1000, 0, event!);
        halo.events.shift();
      }
      return undefined;
    };
    await waitFor('the shift', () => shifted);
    const post = await fakes.slack.waitFor(() => fakes?.slack.posts[0]);
    await nextPoll(bot);
    expect(fakes.slack.posts).toHaveLength(1);
    expect(JSON.stringify(post.blocks)).toContain(halo.events[999]!.event_id);
  });

  it('scans by key when the routes need only those keys, and that costs fewer requests than one full scan', async () => {
    // 2 keys of a 16-key catalogue: 2 pages by key against 3 for everything.
    fakes = await startFakes({ halo: { events: makeEvents(2500) } });
    bot = await inProcessBot(
      botEnv(fakes, { HALO_ALERT_KEYS: 'port-open,domain-add', HALO_ALERT_TARGET_IDS: '' }),
    );
    await nextPoll(bot);
    const before = fakes.halo.listRequests().length;
    await nextPoll(bot);
    const keys = fakes.halo
      .listRequests()
      .slice(before)
      .map((r) => r.query.get('key'));
    expect(keys.slice(0, 2).sort()).toEqual(['domain-add', 'port-open']);
  });
});
