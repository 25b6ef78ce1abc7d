/**
 * Issue 21 §4, Workflow Builder steps, through the Slack stand-in: `function_executed` delivered over HTTP and
 * over Socket Mode, each step ending in `functions.completeSuccess` or `completeError` (recorded by the stand-in).
 * List, Get, and Delete, which is off unless HALO_WORKFLOW_DELETE=on and refused to a non-admin; Halo's failures
 * reach the workflow as sentences, never as Halo's raw text or the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETE_OFF } from '../../src/commands/workflow.ts';
import { NOT_ALLOWED } from '../../src/commands/service.ts';
import { eventCallbackBody, postToBot } from '../../fakes/sign.ts';
import type { FunctionCompletion } from '../../fakes/slack.ts';
import type { FakeSocketMode } from '../../fakes/socket-mode.ts';
import {
  botEnv,
  inProcessBot,
  inProcessSocketBot,
  SIGNING_SECRET,
  startFakes,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

const json = { signingSecret: SIGNING_SECRET, contentType: 'application/json' };
/** What Workflow Builder passes for "the person who ran the workflow": the trigger's interactivity. */
const runBy = (userId: string) => ({
  interactivity_pointer: '1234.5678.abcdef',
  interactor: { id: userId, secret: 'interactor-secret' },
});

/** A key of Halo's length (32), with nothing in it an ordinary word would share. */
const KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
/** Whether `text` holds the key, or any 8 characters of it in a row. */
const leaksKey = (text: string): boolean =>
  Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8)).some((run) => text.includes(run));

describe('workflow steps over HTTP, deleting allowed', () => {
  let fakes: Fakes;
  let bot: InProcessBot;

  beforeAll(async () => {
    fakes = await startFakes();
    fakes.halo.addEvent({
      event_id: 'ev-1',
      key: 'target-scan-start',
      subject: 'Scan Started',
      date_created: '2026-12-01 09:30',
      target: { target_name: 'shop', target_id: 42, target: 'shop.example.com' },
    });
    fakes.halo.addEvent({
      event_id: 'ev-2',
      key: 'domain-add',
      subject: 'Domain <!here> Added',
      date_created: '2026-12-02 10:00',
    });
    fakes.halo.addEvent({
      event_id: 'ev-3',
      key: 'domain-add',
      subject: 'Domain Added',
      date_created: '2026-12-03 11:00',
    });
    fakes.slack.users.set('UADMIN', { is_admin: true });
    fakes.slack.users.set('UMEMBER', {});
    bot = await inProcessBot(botEnv(fakes, { HALO_WORKFLOW_DELETE: 'on' }));
  });

  afterAll(async () => {
    await bot.stop();
    await fakes.close();
  });

  async function run(callbackId: string, inputs: Record<string, unknown>): Promise<FunctionCompletion> {
    const event = fakes.slack.functionExecuted(callbackId, inputs);
    const ack = await postToBot(bot.url, eventCallbackBody(event), json);
    expect(ack.status).toBe(200);
    return fakes.slack.completion(String(event.function_execution_id));
  }

  it('List Halo events: a count and a list, newest first, filtered by type and cut to the limit', async () => {
    const done = await run('halo_list_events', { type: 'domain-add', limit: 1 });
    expect(done).toMatchObject({ ok: true, outputs: { count: 2 } });
    const list = (done as unknown as { outputs: { events: string } }).outputs.events;
    expect(list).toBe(
      '• Domain Added — domain-add on host1.example.com (target 1), 2026-12-03T11:00:00Z (ID ev-3)\n… and 1 more',
    );
    const all = await run('halo_list_events', {});
    expect(all).toMatchObject({ ok: true, outputs: { count: 3 } });
    expect((all as unknown as { outputs: { events: string } }).outputs.events).toContain(
      'Domain &lt;!here&gt; Added',
    );
    expect(await run('halo_list_events', { target: 'shop' })).toMatchObject({
      ok: false,
      error: 'The target must be a Halo target ID: a whole number such as 42.',
    });
  });

  it('Get Halo event: subject, type, target, time and link; an unknown ID in words', async () => {
    expect(await run('halo_get_event', { event_id: 'ev-1' })).toMatchObject({
      ok: true,
      outputs: {
        subject: 'Scan Started',
        type: 'target-scan-start',
        target: 'shop.example.com (target 42)',
        time: '2026-12-01T09:30:00Z',
        link: 'https://www.halosecurity.com/link?q=user-event&id=ev-1',
      },
    });
    expect(await run('halo_get_event', { event_id: 'ev-none' })).toMatchObject({
      ok: false,
      error: 'Halo has no such event in this workspace’s account.',
    });
  });

  it('turns Halo failures into sentences, never its raw text or the key', async () => {
    fakes.halo.fault = () => ({
      kind: 'status',
      status: 401,
      body: `{"code":401,"message":"bad key ${fakes.halo.apiKey}"}`,
    });
    try {
      const done = await run('halo_get_event', { event_id: 'ev-1' });
      expect(done).toMatchObject({
        ok: false,
        error: 'Halo rejected the bot’s API key; an admin must update HALO_API_KEY.',
      });
      fakes.halo.fault = () => ({
        kind: 'status',
        status: 200,
        body: `{"code":7,"message":"quota ${fakes.halo.apiKey}"}`,
      });
      const refused = await run('halo_get_event', { event_id: 'ev-1' });
      expect(refused).toMatchObject({ ok: false, error: 'Halo refused the request (Halo error code 7).' });
    } finally {
      fakes.halo.fault = undefined;
    }
  });

  it('Delete Halo event: refused to a non-admin, done for an admin', async () => {
    const refused = await run('halo_delete_event', { event_id: 'ev-1', user: runBy('UMEMBER') });
    expect(refused).toEqual(expect.objectContaining({ ok: false, error: NOT_ALLOWED }));
    expect(fakes.halo.events.some((e) => e.event_id === 'ev-1')).toBe(true);
    expect(await run('halo_delete_event', { event_id: 'ev-1' })).toMatchObject({ ok: false });
    const done = await run('halo_delete_event', { event_id: 'ev-1', user: runBy('UADMIN') });
    expect(done).toEqual(expect.objectContaining({ ok: true, outputs: { result: 'Event ev-1 deleted.' } }));
    expect(fakes.halo.events.some((e) => e.event_id === 'ev-1')).toBe(false);
  });
});

describe('workflow steps over Socket Mode, deleting off (the default)', () => {
  let fakes: Fakes;
  let socket: FakeSocketMode;
  let running: Awaited<ReturnType<typeof inProcessSocketBot>>;

  beforeAll(async () => {
    fakes = await startFakes({ halo: { apiKey: KEY } });
    fakes.halo.addEvent({ event_id: 'ev-s', key: 'domain-add', subject: 'Domain Added' });
    fakes.halo.addEvent({
      event_id: 'ev-key',
      key: 'account-apikey-add',
      subject: `API key ${KEY} added by ${KEY.slice(4)}`,
      target: { target_name: `key ${KEY}`, target_id: 7, target: `${KEY}.example.com` },
    });
    fakes.slack.users.set('UADMIN', { is_admin: true });
    running = await inProcessSocketBot(fakes);
    socket = running.socket;
  });

  afterAll(async () => {
    await running.stop();
    await fakes.close();
  });

  async function run(callbackId: string, inputs: Record<string, unknown>): Promise<FunctionCompletion> {
    const event = fakes.slack.functionExecuted(callbackId, inputs);
    await socket.event(event);
    return fakes.slack.completion(String(event.function_execution_id));
  }

  it('Get Halo event completes over the socket', async () => {
    expect(await run('halo_get_event', { event_id: 'ev-s' })).toMatchObject({
      ok: true,
      outputs: { subject: 'Domain Added', type: 'domain-add' },
    });
  });

  it('List and Get never pass on the bot’s API key that an event’s texts quote', async () => {
    const list = await run('halo_list_events', { type: 'account-apikey-add' });
    expect(list).toMatchObject({ ok: true, outputs: { count: 1 } });
    const get = await run('halo_get_event', { event_id: 'ev-key' });
    expect(get).toMatchObject({ ok: true, outputs: { subject: 'API key [redacted] added by [redacted]' } });
    expect(leaksKey(JSON.stringify([list, get]))).toBe(false);
  });

  it('Delete Halo event is refused, even to an admin, until HALO_WORKFLOW_DELETE=on', async () => {
    expect(await run('halo_delete_event', { event_id: 'ev-s', user: runBy('UADMIN') })).toEqual(
      expect.objectContaining({ ok: false, error: DELETE_OFF }),
    );
    expect(fakes.halo.events.some((e) => e.event_id === 'ev-s')).toBe(true);
  });
});
