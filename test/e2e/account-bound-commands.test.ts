/**
 * A connected account's commands count against the same bound on Halo requests in flight as its polls (issue 19:
 * Halo's limits are per key). With HALO_SCAN_CONCURRENCY=1, a `/halo event` of an account whose poll has a
 * request at Halo waits for it: Halo never sees two of that key's requests at once. Before, the commands of every
 * connected account queued on the environment's account's bound, beside the account's polls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HaloRequest } from '../../fakes/halo.ts';
import { inProcessBot, startFakes, waitFor, type Fakes, type InProcessBot } from '../harness.ts';
import { distributedEnv, until, workspaces, type Workspaces } from './workspaces.ts';

const KEY = 'alpha-lab-halo-key-00000000000-LAB2';

let fakes: Fakes;
let bot: InProcessBot;
let people: Workspaces;

beforeAll(async () => {
  fakes = await startFakes();
  fakes.halo.addAccount(KEY).addEvent({ event_id: 'ev-lab', key: 'domain-add', subject: 'Lab domain added' });
  bot = await inProcessBot(distributedEnv(fakes, { HALO_SCAN_CONCURRENCY: '1' }));
  people = workspaces(fakes, bot);
  await people.install({ teamId: 'TA', teamName: 'Alpha' });
  expect(await people.connect('TA', 'lab', KEY)).toMatchObject({ response_action: 'update' });
  // A poll asks Halo only for what a subscription wants.
  expect(await people.slash('TA', 'subscribe key:domain-add', 'CSEC')).toContain('Subscribed');
  await until('the account polled', async () =>
    (await bot.bot.tenants.accounts('TA')).some((a) => a.lastPollAt !== null),
  );
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

describe('a connected account’s commands and polls', () => {
  it('share its one bound: a command’s request waits for the poll’s request in flight', async () => {
    let held: HaloRequest | undefined;
    /** For each of the command's requests: how many other requests of the key Halo was answering then. */
    const besides: number[] = [];
    fakes.halo.fault = (req) => {
      if (req.apiKey !== KEY) return undefined;
      if (req.path.endsWith('/get.json')) besides.push(fakes.halo.inFlight - 1);
      // The next poll's first page is slow: it holds the account's one slot meanwhile.
      else if (req.path.endsWith('/list.json') && held === undefined) {
        held = req;
        return { kind: 'delay', ms: 1500 };
      }
      return undefined;
    };
    try {
      await waitFor('a poll’s request held at Halo', () => held);
      expect(await people.slash('TA', 'event ev-lab', 'CSEC')).toContain('Lab domain added');
      expect(besides).toEqual([0]);
    } finally {
      fakes.halo.fault = undefined;
    }
  });
});
