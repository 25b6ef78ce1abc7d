import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/pipeline/store-port.ts';
import { StatusViews, type StatusSources } from '../../src/pipeline/status-views.ts';

const pollStatus = {
  lastSuccessAt: 1000,
  lastError: null,
  lastErrorAt: null,
  consecutiveFailures: 0,
  lastPoll: null,
};

/** A store every read of which is answered by `answer`. */
function storeAnswering(answer: () => Promise<unknown>): Store {
  return new Proxy({} as Store, { get: () => answer });
}

function views(store: Store): StatusViews {
  const sources: StatusSources = {
    store,
    poller: { getStatus: () => pollStatus },
    work: {
      view: () => ({ role: 'leader', leader: 'a', self: 'a' }),
      refreshFollower: () => Promise.resolve(),
    },
    ratings: { list: () => [] },
    refusals: { list: () => [] },
    redact: (text) => text,
    pollIntervalMs: 1000,
    healthReadMs: 50,
  };
  return new StatusViews(sources);
}

describe('StatusViews.health', () => {
  it('says the database is unreachable when a read fails', async () => {
    const health = await views(storeAnswering(() => Promise.reject(new Error('ECONNREFUSED')))).health();
    expect(health).toMatchObject({ databaseReachable: false, pending: null, lastSuccessAt: 1000 });
  });

  it('says the database is unreachable when a read does not answer in time (a network cut), without waiting for it', async () => {
    const health = await views(storeAnswering(() => new Promise(() => undefined))).health();
    expect(health).toMatchObject({ databaseReachable: false, pending: null, lastSuccessAt: 1000 });
  });
});
