import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { closestKeys, unknownKeys, unknownKeyText } from '../../src/domain/suggest.ts';
import {
  atLeast,
  EVENT_TYPES,
  guessSeverity,
  isAssumed,
  severitySetting,
  severityTable,
  SEVERITIES,
  unratedTypes,
  type Severity,
} from '../../src/domain/severity.ts';
import { haloDateToUnix } from '../../src/domain/halo-time.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import { outboxItems } from '../../src/pipeline/outbox.ts';
import { inScanOrder, scanSummary, threadStep, willReply } from '../../src/pipeline/threads.ts';
import { checkLimits, renderAlert } from '../../src/slack/blocks/index.ts';

const issue: HaloEvent = {
  eventId: 'ev-7',
  subject: 'New Issue Found',
  dateCreated: '2026-11-29 13:28',
  key: 'issue-new',
  url: 'https://www.halosecurity.com/link?q=user-event&id=ev-7',
  target: { name: 'Web', id: 42, host: 'www.example.com' },
};

/** The exact message for `issue` at each severity: what a reader sees, first of all the level. */
function expected(emoji: string, word: string, color: string) {
  return {
    text: `${word}: New Issue Found — issue-new on www.example.com`,
    color,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `${emoji} ${word} · New Issue Found`, emoji: true },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Event*\n`issue-new`', verbatim: true },
          { type: 'mrkdwn', text: '*Target*\nWeb · www.example.com · ID 42', verbatim: true },
          {
            type: 'mrkdwn',
            text: '*Created*\n<!date^1795958880^{date_short_pretty} {time}|2026-11-29 13:28 UTC>',
            verbatim: true,
          },
          { type: 'mrkdwn', text: '*Event ID*\nev-7', verbatim: true },
        ],
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: '<https://www.halosecurity.com/link?q=user-event&amp;id=ev-7|View in Halo>',
            verbatim: true,
          },
        ],
      },
      {
        type: 'actions',
        block_id: 'halo_alert_actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Delete event' },
            action_id: 'halo_delete_event',
            value: 'ev-7',
            style: 'danger',
            confirm: {
              title: { type: 'plain_text', text: 'Delete this event?' },
              text: {
                type: 'plain_text',
                text: '“New Issue Found” (event ev-7) will be deleted from Halo Security.',
              },
              confirm: { type: 'plain_text', text: 'Delete' },
              deny: { type: 'plain_text', text: 'Cancel' },
            },
          },
        ],
      },
    ],
  };
}

describe('an alert per severity: the level first, in words, emoji and colour', () => {
  it.each([
    ['critical', ':rotating_light:', 'Critical', '#8B0000'],
    ['high', ':red_circle:', 'High', '#E01E5A'],
    ['medium', ':large_orange_diamond:', 'Medium', '#ECB22E'],
    ['low', ':small_blue_diamond:', 'Low', '#36C5F0'],
    ['info', ':information_source:', 'Info', '#9E9E9E'],
  ] as const)('%s', (severity, emoji, word, color) => {
    const message = renderAlert(issue, { severity, timeZone: 'UTC', inChannel: false });
    expect(message).toEqual(expected(emoji, word, color));
    expect(checkLimits(message)).toEqual([]);
  });

  it('takes its level from the table, HALO_SEVERITY on top, and medium for a key the table does not know', () => {
    const table = severityTable({ 'issue-new': 'critical' });
    expect(table('issue-new')).toBe('critical');
    expect(severityTable()('issue-new')).toBe('high');
    expect(severityTable()('target-scan-start')).toBe('info');
    expect(severityTable()('target-scan-complete')).toBe('info');
    expect(severityTable()('no-such-key')).toBe('medium');
    expect(renderAlert({ ...issue, key: 'no-such-key' }).text.startsWith('Medium: ')).toBe(true);
  });

  it('guesses a key the table does not rate from the words of its key and name, not one flat default', () => {
    // Every key of the table gets its own level back from its words alone, and with a `target-` prefix: the
    // guess is the table's judgement, for keys a real account names differently.
    for (const [key, info] of Object.entries(EVENT_TYPES)) {
      expect(guessSeverity(key), key).toBe(info.severity);
      expect(guessSeverity(`target-${key}`), `target-${key}`).toBe(info.severity);
    }
    expect(guessSeverity('target-issue-new', 'New Issue Found')).toBe('high');
    expect(guessSeverity('asset-vulnerability-found')).toBe('high');
    expect(guessSeverity('net-service', 'New Open Port')).toBe('high');
    expect(guessSeverity('account-token-created')).toBe('high');
    expect(guessSeverity('target-issue-closed', 'Issue Closed')).toBe('info');
    expect(guessSeverity('account-role-change')).toBe('medium');
    expect(guessSeverity('subdomain-new')).toBe('low');
    // Nothing to go by: medium, a look rather than silence.
    expect(guessSeverity('something-else')).toBe('medium');
    // The name from Halo's catalogue counts as much as the key.
    expect(severityTable({}, (key) => (key === 'x-17' ? 'Port Opened' : undefined))('x-17')).toBe('high');
  });

  it('names the types nothing rates, with their guess and the HALO_SEVERITY that rates them', () => {
    const types = [
      { key: 'issue-new', subject: 'New Issue' },
      { key: 'target-issue-new', subject: 'New Issue' },
      { key: 'target-thing', subject: 'Something' },
      { key: 'target-scan-odd', subject: 'Odd' },
    ];
    const unrated = unratedTypes(types, { 'target-scan-odd': 'low' });
    expect(unrated).toEqual([
      { key: 'target-issue-new', subject: 'New Issue', severity: 'high' },
      { key: 'target-thing', subject: 'Something', severity: 'medium' },
    ]);
    expect(severitySetting(unrated)).toBe('HALO_SEVERITY=target-issue-new=high,target-thing=medium');
    expect(isAssumed('target-issue-new')).toBe(true);
    expect(isAssumed('issue-new')).toBe(false);
    expect(isAssumed('target-issue-new', { 'target-issue-new': 'critical' })).toBe(false);
  });

  it('lets severity:high through for high and critical only', () => {
    const through = (minimum: Severity) => SEVERITIES.filter((s) => atLeast(s, minimum));
    expect(through('high')).toEqual(['critical', 'high']);
    expect(through('info')).toEqual(SEVERITIES);
    expect(atLeast('low', null)).toBe(true);
  });
});

describe('times in the reader’s zone', () => {
  it('reads Halo’s date in HALO_TIMEZONE, daylight saving included', () => {
    expect(haloDateToUnix('2026-11-29 13:28', 'UTC')).toBe(Date.UTC(2026, 10, 29, 13, 28) / 1000);
    // Paris is UTC+1 in November and UTC+2 in July.
    expect(haloDateToUnix('2026-11-29 13:28', 'Europe/Paris')).toBe(Date.UTC(2026, 10, 29, 12, 28) / 1000);
    expect(haloDateToUnix('2026-07-01 13:28', 'Europe/Paris')).toBe(Date.UTC(2026, 6, 1, 11, 28) / 1000);
    expect(haloDateToUnix('2026-07-01 09:00', 'America/New_York')).toBe(Date.UTC(2026, 6, 1, 13, 0) / 1000);
  });

  it('gives up on what is not a date, so that it is shown as given', () => {
    for (const text of ['0000-00-00 00:00', '2026-02-31 10:00', 'yesterday', '', '2026-11-29 25:00']) {
      expect(haloDateToUnix(text, 'UTC'), text).toBeNull();
    }
    const odd = renderAlert({ ...issue, dateCreated: '0000-00-00 00:00' });
    expect(JSON.stringify(odd.blocks)).toContain('*Created*\\n0000-00-00 00:00');
    const paris = renderAlert(issue, { timeZone: 'Europe/Paris' });
    expect(JSON.stringify(paris.blocks)).toContain(
      '<!date^1795955280^{date_short_pretty} {time}|2026-11-29 13:28 Europe/Paris>',
    );
  });
});

describe('start-up errors', () => {
  const required = {
    SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
    SLACK_SIGNING_SECRET: 'signing-secret-0123',
    HALO_API_KEY: 'halo-key-0123',
  };
  const problems = (env: Record<string, string>): readonly string[] => {
    try {
      parseConfig({ ...required, ...env });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('names the HALO_SEVERITY pair with an unknown level, an invalid zone, and a bad minimum', () => {
    expect(
      problems({
        HALO_SEVERITY: 'issue-new=critical,port-open=urgent,domain-add',
        HALO_TIMEZONE: 'Mars/Olympus',
        HALO_ALERT_CHANNEL: 'C0SECURITY',
        HALO_ALERT_MIN_SEVERITY: 'severe',
        HALO_THREADS: 'maybe',
      }),
    ).toEqual([
      'HALO_SEVERITY: "port-open=urgent" has an unknown level: use one of critical, high, medium, low, info',
      'HALO_SEVERITY: "domain-add" is not key=level (e.g. issue-new=critical)',
      'HALO_ALERT_MIN_SEVERITY must be one of critical, high, medium, low, info, got "severe"',
      'HALO_TIMEZONE must be an IANA time zone such as UTC, Europe/Paris or America/New_York, got "Mars/Olympus"',
      'HALO_THREADS must be on or off, got "maybe"',
    ]);
  });
});

describe('did you mean …?', () => {
  const known = ['target-scan-start', 'target-scan-complete', 'issue-new', 'port-open', 'account-user-add'];

  it('suggests the closest known keys for a typo or a wrong prefix, and nothing for a stranger', () => {
    expect(closestKeys('isue-new', known)).toEqual(['issue-new']);
    expect(closestKeys('target-issue-new', known)).toEqual(['issue-new']);
    expect(closestKeys('target-scan-star', known)).toEqual(['target-scan-start']);
    expect(closestKeys('zzzz', known)).toEqual([]);
    expect(unknownKeys(['issue-new', 'port-opne'], known)).toEqual([
      { key: 'port-opne', suggestions: ['port-open'] },
    ]);
    expect(unknownKeyText({ key: 'port-opne', suggestions: ['port-open'] })).toBe(
      'Halo lists no event type "port-opne" (did you mean port-open?)',
    );
    expect(unknownKeyText({ key: 'zzzz', suggestions: [] })).toBe(
      'Halo lists no event type "zzzz"; /halo types lists the known ones',
    );
  });
});

describe('scan threads', () => {
  const ev = (eventId: string, key: string, targetId: number | null = 42): HaloEvent => ({
    ...issue,
    eventId,
    key,
    target: targetId === null ? null : { name: '', id: targetId, host: `h${targetId}.example.com` },
  });
  const open = { parentTs: '1.000100', openedAt: 1000 };

  it('opens on Scan Started, replies while it runs (broadcast when high or critical), closes on its end', () => {
    expect(threadStep(ev('s', 'target-scan-start'), 'info', null, 2000)).toEqual({
      kind: 'open',
      targetId: 42,
    });
    expect(threadStep(ev('i', 'issue-new'), 'high', open, 2000)).toEqual({
      kind: 'reply',
      targetId: 42,
      parentTs: '1.000100',
      broadcast: true,
      closes: false,
    });
    expect(threadStep(ev('p', 'port-close'), 'info', open, 2000)).toMatchObject({ broadcast: false });
    expect(threadStep(ev('c', 'target-scan-complete'), 'info', open, 2000)).toMatchObject({ closes: true });
    // No thread open, no target, or a scan whose end never came a day ago: a post in the channel.
    expect(threadStep(ev('i', 'issue-new'), 'high', null, 2000)).toEqual({ kind: 'none' });
    expect(threadStep(ev('a', 'account-user-add', null), 'medium', open, 2000)).toEqual({ kind: 'none' });
    expect(threadStep(ev('i', 'issue-new'), 'high', open, 1000 + 25 * 3600 * 1000)).toEqual({ kind: 'none' });
  });

  it('puts a scan’s start first and its end last among events of the same minute, and moves nothing else', () => {
    const at = (event: HaloEvent, dateCreated: string): HaloEvent => ({ ...event, dateCreated });
    // As Halo lists them by name: "New Open Port" before "Scan Started", all stamped 10:14.
    const batch = [
      at(ev('old', 'issue-new'), '2026-12-06 10:13'),
      at(ev('p', 'port-open'), '2026-12-06 10:14'),
      at(ev('c', 'target-scan-complete'), '2026-12-06 10:14'),
      at(ev('s', 'target-scan-start'), '2026-12-06 10:14'),
      at(ev('i', 'issue-new'), '2026-12-06 10:14'),
      at(ev('later', 'target-scan-start'), '2026-12-06 10:15'),
    ];
    expect(inScanOrder(batch).map((e) => e.eventId)).toEqual(['old', 's', 'p', 'i', 'c', 'later']);
    // So the findings of that minute are replies in the scan's thread, not posts before it.
    expect([...willReply('C1', inScanOrder(batch), () => false)].map((e) => e.eventId)).toEqual([
      'p',
      'i',
      'c',
    ]);
  });

  it('summarises the scan in one line', () => {
    expect(scanSummary('target-scan-complete', { 'issue-new': 3, 'port-open': 1 })).toBe(
      'Scan complete · 3 new issues · 1 port opened',
    );
    expect(scanSummary('target-scan-fail', { 'issue-new': 1, 'mystery-key': 2 })).toBe(
      'Scan failed · 1 new issue · 2 other events',
    );
    expect(scanSummary('target-scan-complete', {})).toBe('Scan complete · nothing new');
  });

  it('counts only posts in the channel towards a digest: a scan’s replies do not fill it', () => {
    const batch = [
      ev('s', 'target-scan-start'),
      ...Array.from({ length: 5 }, (_, i) => ev(`i${i}`, 'issue-new')),
      ev('c', 'target-scan-complete'),
    ];
    expect([...willReply('C1', batch, () => false)].map((e) => e.eventId)).toEqual([
      'i0',
      'i1',
      'i2',
      'i3',
      'i4',
      'c',
    ]);
    const route = [{ channel: 'C1', keys: [], targetIds: [] }];
    // Threshold 3: seven events, but one post in the channel and six replies, so no digest.
    const threaded = outboxItems(route, batch, 3, { isOpen: () => false });
    expect(threaded.map((item) => item.kind)).toEqual(['alert', 'digest', 'alert']);
    expect(threaded.map((item) => item.dedupKey)).toEqual(['C1:event:s', 'C1:thread:42:i0:5', 'C1:event:c']);
    // Without threads the same burst is one digest.
    expect(outboxItems(route, batch, 3).map((item) => item.kind)).toEqual(['digest']);
  });
});
