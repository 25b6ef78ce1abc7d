/**
 * Socket Mode (issue 8, section 1): the real bot with `SLACK_APP_TOKEN` and no signing secret, against the local
 * Socket Mode stand-in. Commands and the Delete button arrive as envelopes and are acked over the WebSocket; the
 * answers go to response_url exactly as in HTTP mode. Refreshes and dropped connections are followed by working
 * commands, and the app token appears in no log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { buttonClickPayload } from '../../fakes/sign.ts';
import { slashCommandFields, startFakeSocketMode, type FakeSocketMode } from '../../fakes/socket-mode.ts';
import {
  botEnv,
  getJson,
  inProcessBot,
  runBotToExit,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
  TEST_SOCKET_TIMINGS,
} from '../harness.ts';

let fakes: Fakes;
let socket: FakeSocketMode;
let bot: InProcessBot;
let sequence = 0;

function socketEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return botEnv(fakes, {
    SLACK_APP_TOKEN: socket.appToken,
    SLACK_SIGNING_SECRET: '',
    HALO_ADMIN_USERS: 'UADMIN',
    LOG_LEVEL: 'debug',
    ...overrides,
  });
}

beforeAll(async () => {
  fakes = await startFakes();
  socket = await startFakeSocketMode(fakes.slack);
  bot = await inProcessBot(socketEnv(), { socketTimings: TEST_SOCKET_TIMINGS });
});

afterAll(async () => {
  await bot.stop();
  await socket.close();
  await fakes.close();
});

/** A /halo command as an envelope; resolves with its ack and the answer posted to its response_url. */
async function command(text: string, user = 'UADMIN') {
  const id = `sm-${++sequence}`;
  const ack = await socket.slashCommand(
    slashCommandFields({ text, user_id: user, response_url: fakes.slack.responseUrl(id) }),
  );
  const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id));
  return { ack, body: answer.body };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Socket Mode', () => {
  it('connects through SLACK_API_URL with the app token, serves /healthz and no /slack/events', async () => {
    const opens = fakes.slack.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens[0]!.token).toBe(socket.appToken);
    const health = await getJson(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ slackMode: 'socket', socket: 'connected', socketFailures: 0 });
    const events = await fetch(`${bot.url}/slack/events`, { method: 'POST', body: 'x' });
    await events.body?.cancel();
    expect(events.status).toBe(404);
  });

  it('acks /halo commands with their envelope_id and answers them through response_url', async () => {
    const event = fakes.halo.addEvent();
    const help = await command('help');
    expect(visibleText(help.body)).toContain('/halo events');
    expect(help.body.response_type).toBe('ephemeral');
    const shown = await command(`event ${event.event_id}`);
    expect(visibleText(shown.body)).toContain(event.event_id);
    const usage = await command('events limit:abc');
    expect(visibleText(usage.body)).toMatch(/limit/);
    // Acked with an empty payload: the answer follows through response_url, privately.
    expect([help.ack.payload, shown.ack.payload]).toEqual([{}, {}]);
    expect(socket.strayAcks).toEqual([]);
    expect(socket.otherMessages).toEqual([]);
  });

  it('answers the command under another name, when the workspace renamed it in the manifest', async () => {
    const id = `sm-${++sequence}`;
    const ack = await socket.slashCommand(
      slashCommandFields({ text: 'help', command: '/halosec', response_url: fakes.slack.responseUrl(id) }),
    );
    expect(ack.payload).toEqual({});
    const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id));
    expect(JSON.stringify(answer.body)).toContain('/halo events');
  });

  it('applies the same permission checks: a user not allowed may not subscribe', async () => {
    const refused = await command('subscribe', 'U123');
    expect(visibleText(refused.body)).toMatch(/not allowed|only/i);
  });

  it('deletes an event from its alert with the Delete button, replacing the message', async () => {
    const before = fakes.slack.posts.length;
    await waitFor('a first poll', () => bot.logs.some((l) => /poll: (done|baseline)/.test(l)));
    const event = fakes.halo.addEvent();
    const post = await fakes.slack.waitFor(() =>
      fakes.slack.posts.slice(before).find((p) => JSON.stringify(p.blocks).includes(event.event_id)),
    );
    const id = `sm-click-${++sequence}`;
    const ack = await socket.interactive(
      buttonClickPayload({
        actionId: DELETE_ACTION_ID,
        value: event.event_id,
        userId: 'UADMIN',
        channelId: post.channel,
        responseUrl: fakes.slack.responseUrl(id),
        messageTs: post.ts,
        messageBlocks: post.blocks,
      }),
    );
    expect(ack.payload).toEqual({});
    const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id));
    expect(answer.body.replace_original).toBe(true);
    expect(visibleText(answer.body)).toMatch(/[Dd]eleted by <@UADMIN>/);
    expect(fakes.halo.events.some((e) => e.event_id === event.event_id)).toBe(false);
    expect(JSON.stringify(answer.body.blocks)).not.toContain(DELETE_ACTION_ID);
  });

  it('opens the Home tab from an Events API envelope, naming the connection', async () => {
    const before = fakes.slack.views.length;
    const ack = await socket.event({
      type: 'app_home_opened',
      user: 'UADMIN',
      channel: 'DHOME',
      tab: 'home',
    });
    expect(ack.envelopeId).toMatch(/^env-/);
    const view = await fakes.slack.waitFor(() =>
      fakes.slack.views.slice(before).find((v) => v.args.user_id === 'UADMIN'),
    );
    const blocks = (view.args.view as { blocks: unknown[] }).blocks;
    expect(visibleText({ blocks })).toContain('Connection to Slack: Socket Mode, connected');
  });

  it('reconnects after a refresh_requested or warning disconnect, and the next command works', async () => {
    for (const reason of ['refresh_requested', 'warning'] as const) {
      const before = socket.connections;
      socket.disconnect(reason);
      await socket.waitForConnection(before + 1);
      const answer = await command('help');
      expect(answer.ack.connection).toBe(before + 1);
      expect(visibleText(answer.body)).toContain('/halo events');
    }
  });

  it('reconnects after the socket is dropped; a command sent meanwhile is delivered once it is back', async () => {
    const before = socket.connections;
    socket.drop();
    const answer = await command('help');
    expect(answer.ack.connection).toBe(before + 1);
    expect(visibleText(answer.body)).toContain('/halo events');
    await until('healthz connected again', async () => {
      const health = await getJson(`${bot.url}/healthz`);
      return health.body.socket === 'connected';
    });
    expect(bot.logs.join('\n')).toContain('Socket Mode: connection closed, reconnecting');
  });

  it('never writes the app token to a log line, even at LOG_LEVEL=debug', async () => {
    expect(bot.logs.length).toBeGreaterThan(20);
    expect(bot.logs.some((line) => line.includes(' DEBUG '))).toBe(true);
    for (const line of bot.logs) expect(line).not.toContain(socket.appToken);
    // The client pings the stand-in (every 1.7 s) and gets its pongs: no connection was dropped for a missing one.
    await waitFor('a ping from the client', () => socket.pings > 0, 5000);
    expect(bot.logs.join('\n')).not.toContain("A pong wasn't received");
    // Nor the token's distinctive tail, which a cut or an escape could leave behind.
    for (const line of bot.logs) expect(line).not.toContain('do0not0log');
  });
});

describe('Socket Mode when Slack refuses the connection', () => {
  it('keeps posting alerts while apps.connections.open fails, shows degraded, and recovers', async () => {
    fakes.slack.fault = ({ method }) =>
      method === 'apps.connections.open' ? { kind: 'status', status: 503 } : undefined;
    const second = await inProcessBot(socketEnv({ PORT: '0' }), { socketTimings: TEST_SOCKET_TIMINGS });
    try {
      await waitFor('a baseline poll', () => second.logs.some((l) => /poll: (done|baseline)/.test(l)));
      const health = await getJson(`${second.url}/healthz`);
      // Between attempts `disconnected`, during one `connecting`: never `connected`, and degraded throughout.
      expect(health.body.status).toBe('degraded');
      expect(['disconnected', 'connecting']).toContain(health.body.socket);
      expect(health.body.socketFailures).toBeGreaterThanOrEqual(1);
      const event = fakes.halo.addEvent();
      await fakes.slack.waitFor(() =>
        fakes.slack.posts.filter((p) => JSON.stringify(p.blocks).includes(event.event_id)).length >= 2
          ? true
          : undefined,
      );
      const failures = fakes.slack.calls.filter(
        (c) => c.method === 'apps.connections.open' && c.error === 'http_503',
      ).length;
      expect(failures).toBeGreaterThanOrEqual(2);
      expect(second.logs.join('\n')).toContain(
        'Socket Mode: could not connect; commands wait, alerts keep flowing',
      );
      fakes.slack.fault = undefined;
      await until('healthz connected', async () => {
        const now = await getJson(`${second.url}/healthz`);
        return now.body.socket === 'connected' && now.body.status !== 'degraded';
      });
    } finally {
      fakes.slack.fault = undefined;
      await second.stop();
    }
  });

  it('stops at start-up with one clear line when the app token is revoked (invalid_auth)', async () => {
    const revoked = 'xapp-1-A1-999-revoked0token0value0abcdef';
    const { code, output } = await runBotToExit(socketEnv({ SLACK_APP_TOKEN: revoked, LOG_LEVEL: 'info' }));
    expect(code).toBe(1);
    expect(output).toContain(
      'Slack rejected SLACK_APP_TOKEN (invalid_auth). Create an app-level token with the connections:write scope',
    );
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toContain(revoked);
    expect(
      output
        .trim()
        .split('\n')
        .filter((l) => /ERROR|rejected|invalid_auth/.test(l)),
    ).toHaveLength(1);
  });
});
