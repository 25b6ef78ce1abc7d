/**
 * The Workflow Builder steps in workspaces of several Halo accounts (issue 19), in the distributed shape over
 * HTTP: workspace A connects `lab` and `prod`, B one account named `prod` too. A step acts in the account its
 * "Halo account" input names, with that account's key, in the workflow's own workspace only; with several and
 * none named it says which names there are, and a name of another workspace's account finds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeHaloAccount } from '../../fakes/halo.ts';
import { eventCallbackBody, postToBot } from '../../fakes/sign.ts';
import type { FunctionCompletion } from '../../fakes/slack.ts';
import { noAccountNamed, severalAccounts } from '../../src/commands/workflow.ts';
import { inProcessBot, SIGNING_SECRET, startFakes, type Fakes, type InProcessBot } from '../harness.ts';
import { ALPHA_BETA_KEYS, installAlphaBeta, distributedEnv, workspaces } from './workspaces.ts';

const KEYS = ALPHA_BETA_KEYS;

let fakes: Fakes;
let bot: InProcessBot;
let prod: FakeHaloAccount;
let lab: FakeHaloAccount;
let beta: FakeHaloAccount;

beforeAll(async () => {
  fakes = await startFakes();
  prod = fakes.halo.addAccount(KEYS.prod);
  lab = fakes.halo.addAccount(KEYS.lab);
  beta = fakes.halo.addAccount(KEYS.beta);
  prod.addEvent({ event_id: 'ev-prod', key: 'domain-add', subject: 'Prod domain added' });
  prod.addEvent({ event_id: 'ev-prod-2', key: 'domain-add', subject: 'Prod domain added again' });
  lab.addEvent({ event_id: 'ev-lab', key: 'domain-add', subject: 'Lab domain added' });
  beta.addEvent({ event_id: 'ev-beta', key: 'domain-add', subject: 'Beta domain added' });
  bot = await inProcessBot(distributedEnv(fakes, { HALO_WORKFLOW_DELETE: 'on' }));
  const people = workspaces(fakes, bot);
  await installAlphaBeta(people);
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

/** A workflow of `team` reaching the step `callbackId` with `inputs`: how the step ended. */
async function run(
  team: string,
  callbackId: string,
  inputs: Record<string, unknown>,
): Promise<FunctionCompletion> {
  const event = fakes.slack.functionExecuted(callbackId, inputs);
  const ack = await postToBot(bot.url, eventCallbackBody(event, { teamId: team }), {
    signingSecret: SIGNING_SECRET,
    contentType: 'application/json',
  });
  expect(ack.status).toBe(200);
  return fakes.slack.completion(String(event.function_execution_id));
}

const runBy = (userId: string) => ({
  interactivity_pointer: '1234.5678.abcdef',
  interactor: { id: userId, secret: 'interactor-secret' },
});
const gets = (account: FakeHaloAccount) => account.requests().filter((r) => r.path.endsWith('/get.json'));

describe('workflow steps in a workspace of several accounts', () => {
  it('with none named, say which names there are and ask no Halo', async () => {
    // The polls list meanwhile: a step's Get would be a get.json.
    const asked = fakes.halo.requests.filter((r) => r.path.endsWith('/get.json')).length;
    for (const step of ['halo_list_events', 'halo_get_event'])
      expect(await run('TA', step, { event_id: 'ev-prod' })).toMatchObject({
        ok: false,
        error:
          'This workspace has 2 Halo Security accounts connected: give the step’s “Halo account” input one of lab, prod.',
      });
    expect(severalAccounts(['lab', 'prod'])).toContain('one of lab, prod');
    expect(fakes.halo.requests.filter((r) => r.path.endsWith('/get.json')).length).toBe(asked);
  });

  it('List and Get act in the account named, with its key', async () => {
    expect(await run('TA', 'halo_list_events', { account: 'prod' })).toMatchObject({
      ok: true,
      outputs: { count: 2 },
    });
    const listed = await run('TA', 'halo_list_events', { account: 'lab' });
    expect(listed).toMatchObject({ ok: true, outputs: { count: 1 } });
    expect((listed as unknown as { outputs: { events: string } }).outputs.events).toContain(
      'Lab domain added',
    );

    const labGets = gets(lab).length;
    expect(await run('TA', 'halo_get_event', { event_id: 'ev-prod', account: 'prod' })).toMatchObject({
      ok: true,
      outputs: { subject: 'Prod domain added' },
    });
    // Prod's event asked of lab: lab's Halo has none.
    expect(await run('TA', 'halo_get_event', { event_id: 'ev-prod', account: 'LAB' })).toMatchObject({
      ok: false,
      error: 'Halo has no such event in this workspace’s account.',
    });
    expect(gets(lab).length).toBe(labGets + 1);
    expect(gets(beta)).toEqual([]);
  });

  it('Delete deletes in the account named only', async () => {
    const done = await run('TA', 'halo_delete_event', {
      event_id: 'ev-prod-2',
      account: 'prod',
      user: runBy('UADMIN'),
    });
    expect(done).toMatchObject({ ok: true, outputs: { result: 'Event ev-prod-2 deleted.' } });
    expect(prod.events.map((e) => e.event_id)).toEqual(['ev-prod']);
    expect(lab.events.map((e) => e.event_id)).toEqual(['ev-lab']);
  });

  it('a name of no account here finds nothing, whatever another workspace has', async () => {
    expect(await run('TA', 'halo_get_event', { event_id: 'ev-beta', account: 'beta' })).toMatchObject({
      ok: false,
      error: noAccountNamed('beta', ['lab', 'prod']),
    });
    expect(noAccountNamed('beta', ['lab', 'prod'])).toBe(
      'This workspace has no Halo Security account named “beta”; its accounts: lab, prod.',
    );
    expect(await run('TA', 'halo_list_events', { account: 'a\u0000b' })).toMatchObject({ ok: false });
    expect(gets(beta)).toEqual([]);
  });
});

describe('workflow steps in another workspace, of one account', () => {
  it('act in its only account when none is named, and never in the other workspace’s', async () => {
    expect(await run('TB', 'halo_get_event', { event_id: 'ev-beta' })).toMatchObject({
      ok: true,
      outputs: { subject: 'Beta domain added' },
    });
    // "prod" here is B's own prod: A's prod event is not in it.
    expect(await run('TB', 'halo_get_event', { event_id: 'ev-prod', account: 'prod' })).toMatchObject({
      ok: false,
      error: 'Halo has no such event in this workspace’s account.',
    });
    expect(await run('TB', 'halo_list_events', { account: 'lab' })).toMatchObject({
      ok: false,
      error: noAccountNamed('lab', ['prod']),
    });
    // Deleting A's event ID from B: asked of B's Halo only (which has no such event), A's event stays.
    const prodDeletes = prod.requests().filter((r) => r.path.endsWith('/delete.json')).length;
    await run('TB', 'halo_delete_event', { event_id: 'ev-prod', user: runBy('UADMIN') });
    expect(beta.requests().some((r) => r.path.endsWith('/delete.json'))).toBe(true);
    expect(prod.requests().filter((r) => r.path.endsWith('/delete.json')).length).toBe(prodDeletes);
    expect(prod.events.map((e) => e.event_id)).toEqual(['ev-prod']);
  });
});
