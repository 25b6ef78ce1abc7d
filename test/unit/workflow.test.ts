import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import type { HaloAccount } from '../../src/commands/accounts.ts';
import type { EventDeleter } from '../../src/commands/delete.ts';
import {
  BAD_ACCOUNT_INPUT,
  DELETE_OFF,
  NO_ACCOUNT,
  noAccountNamed,
  NO_USER,
  severalAccounts,
  WorkflowSteps,
} from '../../src/commands/workflow.ts';
import type { HaloClient } from '../../src/pipeline/halo-port.ts';
import { HaloNetworkError } from '../../src/pipeline/halo-errors.ts';
import { createLogger } from '../../src/log.ts';

const KEY = 'halo-key-0123456789abcdef';

function steps(options: { deleteEnabled?: boolean; halo?: Partial<HaloClient>; admins?: string[] } = {}) {
  const deleted: string[] = [];
  const deleter = {
    delete: (eventId: string, userId: string) => {
      deleted.push(`${eventId} by ${userId}`);
      return Promise.resolve({ kind: 'done', record: { eventId, userId, at: 0, alreadyDeleted: false } });
    },
  } as unknown as EventDeleter;
  const subject = new WorkflowSteps({
    accountOf: (workspace) =>
      Promise.resolve(
        workspace.teamId === 'T1'
          ? [
              {
                id: 'env',
                name: 'Halo',
                halo: options.halo as HaloClient,
                haloRequests: new PQueue({ concurrency: 1 }),
                deleter,
              } as unknown as HaloAccount,
            ]
          : [],
      ),
    canManage: (userId) => Promise.resolve((options.admins ?? ['UADMIN']).includes(userId)),
    deleteEnabled: options.deleteEnabled ?? true,
    timeZone: 'UTC',
    redact: (text) => text.replaceAll(KEY, '[redacted]'),
    log: createLogger({ level: 'error', secrets: [], write: () => undefined }),
  });
  return { subject, deleted };
}

const T1 = { teamId: 'T1' };
const runBy = (id: unknown) => ({ interactivity_pointer: 'p', interactor: { id } });

describe('WorkflowSteps: inputs checked, failures in words', () => {
  it('answers a workspace without an account with a sentence, asking Halo nothing', async () => {
    const { subject } = steps();
    expect(await subject.get({ teamId: 'T2' }, { event_id: 'ev-1' })).toEqual({
      ok: false,
      error: NO_ACCOUNT,
    });
  });

  it('refuses inputs that are not what the step declares', async () => {
    const { subject } = steps();
    expect(await subject.list(T1, { limit: 21 })).toMatchObject({ ok: false });
    expect(await subject.list(T1, { limit: '0' })).toMatchObject({ ok: false });
    expect(await subject.list(T1, { type: 'a\u0000b' })).toMatchObject({ ok: false });
    expect(await subject.get(T1, {})).toEqual({
      ok: false,
      error: 'The event ID is missing or not an event ID.',
    });
    expect(await subject.get(T1, { event_id: '   ' })).toMatchObject({ ok: false });
  });

  it('Delete: off unless enabled, then only for the admin named by the trigger’s interactivity', async () => {
    const off = steps({ deleteEnabled: false });
    expect(await off.subject.delete(T1, { event_id: 'ev-1', user: runBy('UADMIN') })).toEqual({
      ok: false,
      error: DELETE_OFF,
    });
    expect(off.deleted).toEqual([]);
    const on = steps();
    for (const user of [undefined, 'UADMIN', { interactor: {} }, runBy('not a user')])
      expect(await on.subject.delete(T1, { event_id: 'ev-1', user })).toEqual({ ok: false, error: NO_USER });
    expect(await on.subject.delete(T1, { event_id: 'ev-1', user: runBy('UMEMBER') })).toMatchObject({
      ok: false,
    });
    expect(await on.subject.delete(T1, { event_id: 'ev-1', user: runBy('UADMIN') })).toEqual({
      ok: true,
      outputs: { result: 'Event ev-1 deleted.' },
    });
    expect(on.deleted).toEqual(['ev-1 by UADMIN']);
  });

  it('puts Halo’s failures in words, never carrying the key', async () => {
    const halo = {
      getEvent: () => Promise.reject(new HaloNetworkError('event/get.json', true, `timeout with ${KEY}`)),
    };
    const { subject } = steps({ halo });
    const result = await subject.get(T1, { event_id: 'ev-1' });
    expect(result).toEqual({ ok: false, error: 'Halo did not answer in time; try again in a minute.' });
  });

  it('gives Halo’s text one line, escaped, so that a workflow message cannot mention everyone', async () => {
    const halo = {
      getEvent: () =>
        Promise.resolve({
          eventId: 'ev-1',
          subject: 'Domain\n<!channel> & co',
          dateCreated: 'soon',
          key: 'domain-add',
          url: 'javascript:alert(1)',
          target: null,
        }),
    };
    const { subject } = steps({ halo });
    expect(await subject.get(T1, { event_id: 'ev-1' })).toEqual({
      ok: true,
      outputs: {
        subject: 'Domain &lt;!channel&gt; &amp; co',
        type: 'domain-add',
        target: '',
        time: 'soon',
        link: '',
      },
    });
  });

  it('acts in the account its input names; with several and none named, lists the names', async () => {
    const account = (name: string): HaloAccount =>
      ({
        id: `id-${name}`,
        name,
        halo: { getEvent: () => Promise.reject(new Error(`asked ${name}`)) },
      }) as unknown as HaloAccount;
    const asked: string[] = [];
    const subject = new WorkflowSteps({
      accountOf: () => Promise.resolve([account('lab'), account('Prod')]),
      canManage: () => Promise.resolve(true),
      deleteEnabled: true,
      timeZone: 'UTC',
      redact: (text) => text,
      log: createLogger({ level: 'error', secrets: [], write: (line) => asked.push(line) }),
    });
    expect(await subject.get(T1, { event_id: 'ev-1' })).toEqual({
      ok: false,
      error:
        'This workspace has 2 Halo Security accounts connected: give the step’s “Halo account” input one of lab, Prod.',
    });
    expect(severalAccounts(['lab', 'Prod'])).toBe(
      'This workspace has 2 Halo Security accounts connected: give the step’s “Halo account” input one of lab, Prod.',
    );
    expect(await subject.get(T1, { event_id: 'ev-1', account: 'nope<' })).toEqual({
      ok: false,
      error: 'This workspace has no Halo Security account named “nope&lt;”; its accounts: lab, Prod.',
    });
    expect(noAccountNamed('x', ['a'])).toBe(
      'This workspace has no Halo Security account named “x”; its accounts: a.',
    );
    expect(await subject.get(T1, { event_id: 'ev-1', account: 7 })).toEqual({
      ok: false,
      error: BAD_ACCOUNT_INPUT,
    });
    // Named exactly, or in another ASCII case: that account's Halo is asked.
    await subject.get(T1, { event_id: 'ev-1', account: 'prod' });
    await subject.get(T1, { event_id: 'ev-1', account: 'lab' });
    expect(asked.join('\n')).toMatch(/asked Prod[^]*asked lab/);
  });
});
