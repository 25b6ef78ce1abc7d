import { describe, expect, it } from 'vitest';
import { haloEventIdOf } from '../../src/domain/halo-link.ts';

describe('haloEventIdOf: the event ID of a Halo event link, or null', () => {
  it.each([
    ['https://www.halosecurity.com/link?q=user-event&id=ev-1', 'ev-1'],
    ['https://halosecurity.com/link?id=ev%2F2&q=user-event', 'ev/2'],
    ['https://APP.HaloSecurity.com/link?q=user-event&id=7#x', '7'],
    // As it appears in mrkdwn, which is how Slack may hand it over.
    ['https://www.halosecurity.com/link?q=user-event&amp;id=ev-3', 'ev-3'],
  ])('%s → %s', (link, id) => {
    expect(haloEventIdOf(link)).toBe(id);
  });

  it.each([
    'http://www.halosecurity.com/link?q=user-event&id=ev-1',
    'https://www.halosecurity.com:8443/link?q=user-event&id=ev-1',
    'https://user@www.halosecurity.com/link?q=user-event&id=ev-1',
    'https://halosecurity.com.evil.example/link?q=user-event&id=ev-1',
    'https://evilhalosecurity.com/link?q=user-event&id=ev-1',
    'https://www.halosecurity.com/other?q=user-event&id=ev-1',
    'https://www.halosecurity.com/link?q=user-target&id=ev-1',
    'https://www.halosecurity.com/link?q=user-event',
    'https://www.halosecurity.com/link?q=user-event&id=',
    'https://www.halosecurity.com/link?q=user-event&id=a%00b',
    `https://www.halosecurity.com/link?q=user-event&id=${'x'.repeat(201)}`,
    'not a url',
  ])('%s → null', (link) => {
    expect(haloEventIdOf(link)).toBeNull();
  });
});
