import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/domain/duration.ts';
import { parseCommand } from '../../src/commands/command-parse.ts';
import { formatEventsCommand } from '../../src/domain/command-text.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import { muteMatches, withoutMuted, type MuteRule } from '../../src/pipeline/mute-rules.ts';
import { muteLine } from '../../src/slack/blocks/answer-message.ts';
import { describeMute, renderMuteEnded } from '../../src/slack/blocks/index.ts';

const USAGE = '/halo mute key:K [target:ID] for:DURATION';

describe('parseDuration', () => {
  it('reads minutes, hours and days', () => {
    expect(parseDuration('30m')).toEqual({ ok: true, ms: 1_800_000 });
    expect(parseDuration('24h')).toEqual({ ok: true, ms: 86_400_000 });
    expect(parseDuration('7D')).toEqual({ ok: true, ms: 604_800_000 });
    expect(parseDuration('30d')).toEqual({ ok: true, ms: 2_592_000_000 });
  });

  it('refuses zero, more than 30 days, and anything else', () => {
    expect(parseDuration('0m')).toEqual({ ok: false, error: 'A mute must last at least 1m, got “0m”.' });
    expect(parseDuration('31d')).toEqual({ ok: false, error: 'A mute lasts at most 30d, got “31d”.' });
    expect(parseDuration('721h')).toEqual({ ok: false, error: 'A mute lasts at most 30d, got “721h”.' });
    const expected =
      'Expected a duration like 30m, 24h or 7d (minutes, hours or days; at most 30d), got “99y”.';
    expect(parseDuration('99y')).toEqual({ ok: false, error: expected });
    expect(parseDuration('')).toMatchObject({ ok: false });
    expect(parseDuration('1.5h')).toMatchObject({ ok: false });
    expect(parseDuration('-1h')).toMatchObject({ ok: false });
  });

  it('formats back to the shortest exact unit', () => {
    expect(formatDuration(1_800_000)).toBe('30m');
    expect(formatDuration(5_400_000)).toBe('90m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(86_400_000)).toBe('24h');
    expect(formatDuration(172_800_000)).toBe('2d');
  });
});

describe('parseCommand: mute, mutes, unmute', () => {
  it('parses a mute by key, by target, and by both', () => {
    expect(parseCommand('mute key:target-scan-start for:24h')).toEqual({
      ok: true,
      command: { kind: 'mute', key: 'target-scan-start', targetId: null, durationMs: 86_400_000 },
    });
    expect(parseCommand('mute target:42 for:30m')).toEqual({
      ok: true,
      command: { kind: 'mute', key: null, targetId: 42, durationMs: 1_800_000 },
    });
    expect(parseCommand('MUTE for=7d key="target-port-open" target:9')).toEqual({
      ok: true,
      command: { kind: 'mute', key: 'target-port-open', targetId: 9, durationMs: 604_800_000 },
    });
  });

  it('answers bad input with the problem and the usage', () => {
    const bad = (text: string, error: string): void =>
      expect(parseCommand(text)).toEqual({ ok: false, error, usage: USAGE });
    bad('mute key:x', 'Say for how long: for:30m, for:24h or for:7d (at most 30d).');
    bad('mute key:x for:0', 'A mute must last at least 1m, got “0”.');
    bad(
      'mute key:x for:99y',
      'Expected a duration like 30m, 24h or 7d (minutes, hours or days; at most 30d), got “99y”.',
    );
    bad('mute for:1h', 'Say what to mute: key:K, target:ID, or both.');
    bad('mute key:a key:b for:1h', 'The key filter is given twice; a mute takes each once.');
    bad('mute subject:x for:1h', 'Unknown filter “subject”: mute accepts key, target, for.');
    bad('mute key:x target:abc for:1h', 'The target must be a whole number from 1 to 2147483647, got “abc”.');
  });

  it('parses mutes and unmute', () => {
    expect(parseCommand('mutes')).toEqual({ ok: true, command: { kind: 'mutes' } });
    expect(parseCommand('unmute 3')).toEqual({ ok: true, command: { kind: 'unmute', id: 3 } });
    expect(parseCommand('unmute #3')).toEqual({ ok: true, command: { kind: 'unmute', id: 3 } });
    expect(parseCommand('unmute')).toEqual({
      ok: false,
      error: 'Missing the mute ID (/halo mutes lists them).',
      usage: '/halo unmute ID',
    });
    expect(parseCommand('mutes all')).toEqual({
      ok: false,
      error: 'Unexpected extra argument “all”: mutes takes none.',
      usage: '/halo mutes',
    });
  });
});

function event(key: string, targetId: number | null): HaloEvent {
  return {
    eventId: `${key}-${targetId}`,
    subject: 'S',
    dateCreated: '2026-11-29 13:28',
    key,
    url: '',
    target: targetId === null ? null : { name: '', id: targetId, host: `host${targetId}` },
  };
}

const rule = (id: number, key: string | null, targetId: number | null, channel = 'C1'): MuteRule => ({
  id,
  channel,
  key,
  targetId,
});

describe('mute rules', () => {
  it('matches key, target, or both', () => {
    expect(muteMatches(rule(1, 'a', null), event('a', 5), false)).toBe(true);
    expect(muteMatches(rule(1, 'a', null), event('b', 5), false)).toBe(false);
    expect(muteMatches(rule(1, null, 5), event('b', 5), false)).toBe(true);
    expect(muteMatches(rule(1, null, 5), event('b', null), false)).toBe(false);
    expect(muteMatches(rule(1, 'a', 5), event('a', 6), false)).toBe(false);
    expect(muteMatches(rule(1, 'a', 5), event('a', 5), false)).toBe(true);
  });

  it('never holds back a critical event unless the key names its type', () => {
    expect(muteMatches(rule(1, null, 5), event('a', 5), true)).toBe(false);
    expect(muteMatches(rule(1, 'a', null), event('a', 5), true)).toBe(true);
    expect(muteMatches(rule(1, 'a', 5), event('a', 5), true)).toBe(true);
  });

  it('keeps other channels and unmatched events, and counts each held event once', () => {
    const a5 = event('a', 5);
    const b5 = event('b', 5);
    const c6 = event('c', 6);
    const crit = event('x', 5);
    const byChannel = new Map([
      ['C1', [a5, b5, c6, crit]],
      ['C2', [a5]],
    ]);
    const result = withoutMuted(byChannel, [rule(2, null, 5), rule(1, 'a', null)], (e) => e.key === 'x');
    expect(result.byChannel).toEqual(
      new Map([
        ['C1', [c6, crit]],
        ['C2', [a5]],
      ]),
    );
    expect(result.held).toEqual(
      new Map([
        [1, 1],
        [2, 1],
      ]),
    );
  });
});

describe('mute renderers', () => {
  const mute = {
    id: 3,
    channel: 'C1',
    key: 'target-scan-start',
    targetId: 42,
    targetLabel: 'host<42>.example.com',
    createdBy: 'U1',
    createdAt: 0,
    expiresAt: 1_800_000_000_000,
    held: 2,
  };

  it('describes a mute, escaping what came from Halo', () => {
    expect(describeMute(mute)).toBe('`target-scan-start` on host&lt;42&gt;.example.com (target 42)');
    expect(describeMute({ ...mute, targetLabel: '' })).toBe('`target-scan-start` on target 42');
    expect(describeMute({ ...mute, key: null, targetLabel: '' })).toBe('target 42');
    expect(describeMute({ ...mute, targetId: null })).toBe('`target-scan-start`');
  });

  it('renders the line posted when a mute ends, with the command that lists what it held back', () => {
    expect(renderMuteEnded(mute, formatEventsCommand)).toEqual({
      text: 'The mute of `target-scan-start` on host&lt;42&gt;.example.com (target 42) has ended; it held back 2 events',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            verbatim: true,
            text: ':bell: The mute of `target-scan-start` on host&lt;42&gt;.example.com (target 42) in this channel has ended. It held back 2 events: `/halo events key:target-scan-start target:42` lists them.',
          },
        },
      ],
    });
    expect(renderMuteEnded({ ...mute, held: 0, targetId: null }, formatEventsCommand).blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          verbatim: true,
          text: ':bell: The mute of `target-scan-start` in this channel has ended. It held back no events.',
        },
      },
    ]);
  });

  it('lists a mute with its ID, creator and expiry', () => {
    expect(muteLine({ ...mute, held: 1 })).toBe(
      '*#3*: `target-scan-start` on host&lt;42&gt;.example.com (target 42) until <!date^1800000000^{date_short_pretty} {time}|2027-01-15T08:00:00.000Z>, by <@U1>, held back 1 event',
    );
  });
});
