// Polls and /halo commands at once against a slow Halo: one bound (HALO_SCAN_CONCURRENCY) on the requests in
// flight covers them all, however many commands arrive during a scan.
import { describe, expect, it } from 'vitest';
import { makeEvents } from '../../fakes/halo.ts';
import { completedPolls, logMatch, record, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();

describe('polls and commands together', ROOMY, () => {
  it('keep to one bound on Halo requests in flight', async (context) => {
    const s = scenario.current;
    const events = makeEvents(6000);
    const { halo } = await s.start({ halo: { events } });
    const bot = await s.bot(s.env({ HALO_SCAN_CONCURRENCY: '2', HALO_ALERT_CHANNEL: '' }));
    await logMatch(bot, /poll: baseline recorded/);
    halo.latencyMs = 60;
    halo.maxInFlight = halo.inFlight;
    // Commands that each read Halo (two listings of 6 pages, the types, one event), sent together while
    // polls of 6 pages each keep running.
    const answers = await Promise.all([
      s.command(bot, 'events'),
      s.command(bot, 'events key:port-open'),
      s.command(bot, 'types'),
      s.command(bot, `event ${events[0]!.event_id}`),
      completedPolls(bot, 2),
    ]);
    for (const answer of answers.slice(0, 4)) expect(answer).toMatchObject({ ack: { status: 200 } });
    expect(JSON.stringify(answers[3])).toContain(events[0]!.event_id);
    const most = halo.maxInFlight;
    record(context, {
      area: 'Halo',
      fault: 'slow Halo (60 ms), 4 commands during 6-page polls, HALO_SCAN_CONCURRENCY=2',
      behaviour: `at most ${most} requests in flight at once; every command answered`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(most).toBeLessThanOrEqual(2);
  });
});
