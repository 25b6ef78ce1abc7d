/**
 * Issue 21 §2, link previews, through the Slack stand-in: a pasted Halo event link (`link_shared`, over HTTP and
 * over Socket Mode) is answered with `chat.unfurl` and a compact card looked up in the workspace's account; one
 * Halo request per link per 10 minutes however many messages show it; Acknowledge on the card, never Delete;
 * nothing at all for another site's link, another kind of Halo link, an unknown ID, or another workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNFURL_ACK_ACTION_ID } from '../../src/slack/blocks/index.ts';
import {
  blockActionBody,
  eventCallbackBody,
  linkSharedEvent,
  postToBot,
  unfurlClickPayload,
} from '../../fakes/sign.ts';
import type { FakeHaloEvent } from '../../fakes/halo.ts';
import type { SlackUnfurl } from '../../fakes/slack.ts';
import type { FakeSocketMode } from '../../fakes/socket-mode.ts';
import {
  botEnv,
  inProcessBot,
  inProcessSocketBot,
  SIGNING_SECRET,
  startFakes,
  testClock,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

const json = { signingSecret: SIGNING_SECRET, contentType: 'application/json' };
const link = (id: string): string =>
  `https://www.halosecurity.com/link?q=user-event&id=${encodeURIComponent(id)}`;
const seen = (unfurl: SlackUnfurl): string => visibleText({ blocks: unfurl.card.blocks });
const buttons = (unfurl: SlackUnfurl): { action_id: string; value: string }[] =>
  (unfurl.card.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).flatMap(
    (b) => (b.type === 'actions' ? (b.elements ?? []) : []),
  );

/** A key of Halo's length (32), with nothing in it an ordinary word would share. */
const KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
/** Whether `text` holds the key, or any 8 characters of it in a row. */
const leaksKey = (text: string): boolean =>
  Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8)).some((run) => text.includes(run));

let messageCounter = 0;
const nextTs = (): string => `1700000100.${String(++messageCounter).padStart(6, '0')}`;

describe('link previews over HTTP', () => {
  let fakes: Fakes;
  let bot: InProcessBot;
  let event: FakeHaloEvent;
  const clock = testClock();

  beforeAll(async () => {
    fakes = await startFakes({ halo: { apiKey: KEY } });
    fakes.halo.addEvent({
      event_id: 'ev-secret',
      key: 'account-apikey-add',
      subject: `API key ${KEY} added by ${KEY.slice(4)}`,
      target: { target_name: `key ${KEY}`, target_id: 7, target: `${KEY}.example.com` },
    });
    event = fakes.halo.addEvent({
      event_id: 'ev-linked',
      key: 'account-apikey-add',
      subject: 'API Key <!channel> Added',
      date_created: '2026-12-01 09:30',
      target: { target_name: 'shop', target_id: 42, target: 'shop.example.com' },
    });
    bot = await inProcessBot(botEnv(fakes), { clock });
    await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
  });

  afterAll(async () => {
    await bot.stop();
    await fakes.close();
  });

  /** Posts `urls` in a message, as Slack tells the app; resolves once the bot has answered the event. */
  async function share(urls: string[], team = 'T1'): Promise<string> {
    const ts = nextTs();
    const body = JSON.parse(
      eventCallbackBody(linkSharedEvent({ urls, channel: 'CCHAT', ts, userId: 'UAUTHOR' })),
    ) as {
      team_id: string;
      authorizations: { team_id: string }[];
    };
    // Another workspace's event names it in both: Bolt's authorize resolves the installation by `authorizations`.
    body.team_id = team;
    body.authorizations[0]!.team_id = team;
    const ack = await postToBot(bot.url, JSON.stringify(body), json);
    expect(ack.status).toBe(200);
    return ts;
  }

  const gets = (id: string): number =>
    fakes.halo.requests.filter((r) => r.path.endsWith('/event/get.json') && r.query.get('event_id') === id)
      .length;

  it('previews a Halo event link: severity, subject, target and time, with Acknowledge and no Delete', async () => {
    const ts = await share([link(event.event_id)]);
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    expect(unfurl).toMatchObject({ channel: 'CCHAT', url: link(event.event_id), card: { color: '#E01E5A' } });
    const text = seen(unfurl);
    expect(text).toContain(':red_circle: High · API Key &lt;!channel&gt; Added');
    expect(text).toContain('`account-apikey-add` on shop · shop.example.com · ID 42');
    expect(text).toContain('<!date^');
    expect(text).not.toContain('<!channel>');
    expect(buttons(unfurl)).toEqual([
      expect.objectContaining({ action_id: UNFURL_ACK_ACTION_ID, value: link(event.event_id) }),
    ]);
    expect(gets(event.event_id)).toBe(1);
  });

  it('asks Halo once per link per 10 minutes, whatever the number of messages showing it', async () => {
    const before = gets(event.event_id);
    const [a, b] = await Promise.all([share([link(event.event_id)]), share([link(event.event_id)])]);
    await fakes.slack.waitFor(() => [a, b].every((ts) => fakes.slack.unfurls.some((u) => u.ts === ts)));
    expect(gets(event.event_id)).toBe(before);
    clock.advance(10 * 60_000);
    const c = await share([link(event.event_id)]);
    await fakes.slack.waitFor(() => fakes.slack.unfurls.some((u) => u.ts === c));
    expect(gets(event.event_id)).toBe(before + 1);
  });

  it('previews nothing for another site, another kind of Halo link, an unknown ID or another workspace', async () => {
    const foreign = [
      'https://example.com/link?q=user-event&id=ev-linked',
      'https://www.halosecurity.com/link?q=user-target&id=ev-linked',
      'http://www.halosecurity.com/link?q=user-event&id=ev-linked',
      link('ev-unknown'),
    ];
    const ts = await share(foreign);
    const other = await share([link(event.event_id)], 'T2');
    // A last, good link shows that the bot has handled the events before it.
    const last = await share([link(event.event_id)]);
    await fakes.slack.waitFor(() => fakes.slack.unfurls.some((u) => u.ts === last));
    expect(
      fakes.slack.calls.filter((c) => c.method === 'chat.unfurl' && [ts, other].includes(String(c.args.ts))),
    ).toEqual([]);
    expect(gets('ev-unknown')).toBe(1);
    const log = bot.logs.join('\n');
    expect(log).not.toContain(fakes.halo.apiKey);
  });

  it('Acknowledge on the preview records who and redraws the card there, without asking Halo again', async () => {
    const ts = await share([link(event.event_id)]);
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    const before = gets(event.event_id);
    const [button] = buttons(unfurl);
    const payload = unfurlClickPayload({
      actionId: UNFURL_ACK_ACTION_ID,
      value: button!.value,
      userId: 'UREADER',
      channelId: 'CCHAT',
      messageTs: ts,
      responseUrl: fakes.slack.responseUrl('unfurl-ack'),
    });
    const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
    expect(ack.status).toBe(200);
    const redrawn = await fakes.slack.waitFor(() =>
      fakes.slack.unfurls.find((u) => u.ts === ts && seen(u).includes('Acknowledged by <@UREADER>')),
    );
    expect(redrawn.channel).toBe('CCHAT');
    expect(buttons(redrawn)).toEqual([]);
    expect(gets(event.event_id)).toBe(before);
    expect(fakes.slack.responses.filter((r) => r.id === 'unfurl-ack')).toEqual([]);
  });

  it('never shows the bot’s API key that an event’s texts quote', async () => {
    const ts = await share([link('ev-secret')]);
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    expect(seen(unfurl)).toContain('API key [redacted] added');
    expect(leaksKey(JSON.stringify(unfurl.card))).toBe(false);
  });

  it('refuses an Acknowledge click whose container is not a link preview: nothing is recorded', async () => {
    const alerted = fakes.halo.addEvent({ event_id: 'ev-alerted', key: 'domain-add', subject: 'Alerted' });
    const alert = await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((p) => p.text.includes('Alerted')),
    );
    // Forged: the click names the real alert message as if the preview sat in it.
    const payload = unfurlClickPayload({
      actionId: UNFURL_ACK_ACTION_ID,
      value: link(alerted.event_id),
      userId: 'UFORGER',
      channelId: 'CALERTS',
      messageTs: alert.ts,
      responseUrl: fakes.slack.responseUrl('forged-ack'),
    });
    payload.container = { type: 'message', message_ts: alert.ts, channel_id: 'CALERTS', is_ephemeral: false };
    const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
    expect(ack.status).toBe(200);
    const handled = (line: string): boolean =>
      line.includes('UFORGER') && /alert acknowledged|Acknowledge refused/.test(line);
    await waitFor('the forged click handled', () => bot.logs.some(handled));
    expect(bot.logs.filter(handled).join('\n')).not.toContain('alert acknowledged');
    // The store holds no acknowledgement for the event either: its preview names nobody.
    const ts = await share([link(alerted.event_id)]);
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    expect(seen(unfurl)).not.toContain('UFORGER');
    expect(fakes.slack.unfurls.filter((u) => u.ts === alert.ts)).toEqual([]);
  });

  it('shows an alerted event that Halo no longer holds as gone', async () => {
    const gone = fakes.halo.addEvent({ event_id: 'ev-gone', key: 'domain-add', subject: 'Domain Added' });
    await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((p) => p.text.includes('Domain Added')),
    );
    // Removed behind the bot's back, then linked: Halo says "not found", the store remembers the alert.
    fakes.halo.events.splice(fakes.halo.events.indexOf(gone), 1);
    const ts = await share([link('ev-gone')]);
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    expect(seen(unfurl)).toContain('Domain Added');
    expect(seen(unfurl)).toContain('This event no longer exists in Halo');
    expect(buttons(unfurl)).toEqual([]);
  });
});

describe('link previews over Socket Mode', () => {
  let fakes: Fakes;
  let socket: FakeSocketMode;
  let running: Awaited<ReturnType<typeof inProcessSocketBot>>;

  beforeAll(async () => {
    fakes = await startFakes();
    fakes.halo.addEvent({ event_id: 'ev-socket', key: 'target-scan-start', subject: 'Scan Started' });
    running = await inProcessSocketBot(fakes);
    socket = running.socket;
  });

  afterAll(async () => {
    await running.stop();
    await fakes.close();
  });

  it('previews a Halo event link and nothing for another link', async () => {
    const foreign = nextTs();
    await socket.event(
      linkSharedEvent({ urls: ['https://example.com/x'], channel: 'CCHAT', ts: foreign, userId: 'U1' }),
    );
    const ts = nextTs();
    await socket.event(linkSharedEvent({ urls: [link('ev-socket')], channel: 'CCHAT', ts, userId: 'U1' }));
    const unfurl = await fakes.slack.waitFor(() => fakes.slack.unfurls.find((u) => u.ts === ts));
    expect(seen(unfurl)).toContain('Scan Started');
    expect(fakes.slack.calls.filter((c) => c.method === 'chat.unfurl' && c.args.ts === foreign)).toEqual([]);
  });
});
