// A long run of Halo requests on the bot's one stop signal, which lives as long as the process: answered,
// retried after a 503, timed out. Nothing of them may stay attached to it (on Node 20, AbortSignal.any left one
// entry per request, never freed: megabytes a day at the default interval, hundreds at 1 s over 100k events).
import { describe, expect, it } from 'vitest';
import PQueue from 'p-queue';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient, MAX_PAGE_SIZE } from '../../src/halo/client.ts';
import { createLogger } from '../../src/log.ts';
import { Poller } from '../../src/pipeline/poller.ts';
import { openSqliteStore } from '../stores.ts';
import { attachedTo } from '../attached.ts';
import { makeEvents } from '../../fakes/halo.ts';
import { tempDatabase } from '../harness.ts';
import { LIST_PATH, record, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();

describe('many Halo requests on the long-lived stop signal', ROOMY, () => {
  it('leave nothing attached to it', async (context) => {
    const s = scenario.current;
    const { halo } = await s.start({ halo: { events: makeEvents(2500) } });
    const store = openSqliteStore(tempDatabase().slice('sqlite:'.length));
    const logs: string[] = [];
    // The poller's own poll, with the signal the bot would pass: its stop signal.
    const poller = new Poller({
      halo: createHaloClient({
        apiUrl: halo.url,
        apiKey: halo.apiKey,
        timeoutMs: 100,
        backoffMs: 5,
        clock: systemClock,
      }),
      store,
      clock: systemClock,
      log: createLogger({ level: 'warn', secrets: [halo.apiKey], write: (line) => logs.push(line) }),
      intervalMs: 1000,
      haloRequests: new PQueue({ concurrency: 4 }),
      pageSize: MAX_PAGE_SIZE,
      backfill: 0,
      digestThreshold: 20,
      defaultRoute: { channel: 'CALERTS', keys: [], targetIds: [] },
      isCritical: () => false,
      onRouted: () => undefined,
    });
    const stop = new AbortController();
    let polls = 0;
    let failed = 0;
    try {
      for (let round = 0; round < 30; round++) {
        // Every third poll meets a fault on its second page: a 503 (retried) or a hang (timed out).
        let faults = 0;
        halo.fault = (req) =>
          round % 3 === 0 ||
          !req.path.endsWith(LIST_PATH) ||
          req.query.get('start') !== '1000' ||
          faults++ > 0
            ? undefined
            : round % 3 === 1
              ? { kind: 'status', status: 503, body: '' }
              : { kind: 'hang' };
        await poller.pollOnce(stop.signal).then(
          () => polls++,
          () => failed++,
        );
      }
    } finally {
      halo.fault = undefined;
      await store.close();
      s.said.push(logs.join('\n'));
    }
    const requests = halo.requests.filter((r) => r.path.endsWith(LIST_PATH)).length;
    const attached = attachedTo(stop.signal);
    record(context, {
      area: 'Halo',
      fault: `${requests} list requests on one stop signal (503s retried, hangs timed out)`,
      behaviour: `${attached} entries left attached to the stop signal after ${polls + failed} polls (was one per request)`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(requests).toBeGreaterThanOrEqual(90);
    expect(attached).toBe(0);
  });
});
