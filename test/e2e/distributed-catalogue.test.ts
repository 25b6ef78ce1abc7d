/**
 * Halo's catalogue of event types in the distributed shape (issue 19), over HTTP: there is no environment's key
 * to read it with, so it is read with a connected account's client once the first account is connected. Until
 * then severities are only guessed from keys; afterwards the catalogue's names count too, and the types nothing
 * rates are named in the log and the App Home, as in the single shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessBot, startFakes, visibleText, waitFor, type Fakes, type InProcessBot } from '../harness.ts';
import { distributedEnv, workspaces, type Workspaces } from './workspaces.ts';

const TYPES = [
  { subject: 'Scan Started', key: 'target-scan-start' },
  { subject: 'New Issue Found', key: 'target-issue-new' },
];
const KEY = 'alpha-halo-key-00000000000000-AAAA';

let fakes: Fakes;
let bot: InProcessBot;
let people: Workspaces;

beforeAll(async () => {
  fakes = await startFakes({ halo: { types: TYPES, apiKey: KEY } });
  bot = await inProcessBot(distributedEnv(fakes));
  people = workspaces(fakes, bot);
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const unratedLogged = (): string[] => bot.logs.filter((line) => line.includes('does not rate'));

describe('the catalogue of event types in the distributed shape', () => {
  it('is not read while no account is connected (there is no key to read it with)', async () => {
    await people.install({ teamId: 'TA', teamName: 'Alpha' });
    expect(fakes.halo.requests).toEqual([]);
    expect(unratedLogged()).toEqual([]);
  });

  it('is read with the first connected account’s key, and its unrated types shown', async () => {
    expect(await people.connect('TA', 'prod', KEY)).toMatchObject({ response_action: 'update' });
    const [line] = await waitFor('the catalogue read', () => {
      const lines = unratedLogged();
      return lines.length > 0 ? lines : undefined;
    });
    expect(line).toContain('target-issue-new (high)');
    const catalogue = fakes.halo.requests.filter((r) => r.path.endsWith('/types.json'));
    // The modal's check of the key, then the catalogue's read: both with the account's key, no other.
    expect(catalogue.length).toBeGreaterThanOrEqual(2);
    expect(new Set(catalogue.map((r) => r.apiKey))).toEqual(new Set([KEY]));
    const home = visibleText((await people.home('TA')).args.view as Record<string, unknown>);
    expect(home).toContain('`target-issue-new` high');
  });
});
