import { describe, expect, it } from 'vitest';
import type { HaloEvent } from '../../src/domain/event.ts';
import { isAssumed, severityTable } from '../../src/domain/severity.ts';
import {
  heldOnAssumedSeverity,
  planCovers,
  planScan,
  routeEvents,
  routeMatches,
  scopeCovers,
  scopeId,
  type Route,
} from '../../src/pipeline/routes.ts';

function event(eventId: string, key: string, targetId: number | null): HaloEvent {
  return {
    eventId,
    subject: 'Subject',
    dateCreated: '2024-05-01 12:00',
    key,
    url: '',
    target: targetId === null ? null : { name: '', id: targetId, host: `host${targetId}.example.com` },
  };
}

function route(channel: string, keys: string[] = [], targetIds: number[] = []): Route {
  return { channel, keys, targetIds };
}

const scan42 = event('e1', 'target-scan-start', 42);
const cert42 = event('e2', 'website-cert-risk', 42);
const scan7 = event('e3', 'target-scan-start', 7);
const noTarget = event('e4', 'account-user-add', null);
const unknownTarget: HaloEvent = {
  ...event('e5', 'domain-add', null),
  target: { name: '', id: null, host: 'x' },
};

describe('routeMatches', () => {
  it('matches everything without filters', () => {
    for (const e of [scan42, cert42, scan7, noTarget, unknownTarget])
      expect(routeMatches(route('C1'), e)).toBe(true);
  });

  it('treats keys as alternatives', () => {
    const r = route('C1', ['target-scan-start', 'domain-add']);
    expect([scan42, cert42, scan7, noTarget, unknownTarget].map((e) => routeMatches(r, e))).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
  });

  it('treats targets as alternatives; an event without a target id never matches a target filter', () => {
    const r = route('C1', [], [42, 8]);
    expect([scan42, cert42, scan7, noTarget, unknownTarget].map((e) => routeMatches(r, e))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('needs both a key and a target when both are given', () => {
    const r = route('C1', ['target-scan-start'], [42]);
    expect([scan42, cert42, scan7, noTarget].map((e) => routeMatches(r, e))).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('routeEvents', () => {
  it("gives each channel its events in order, each once however many of the channel's routes match", () => {
    const routes = [
      route('C1', ['target-scan-start']),
      route('C1', [], [42]),
      route('C1'),
      route('C2', ['website-cert-risk']),
      route('C3', ['never']),
    ];
    const byChannel = routeEvents(routes, [scan42, cert42, scan7, noTarget]);
    expect([...byChannel.entries()]).toEqual([
      ['C1', [scan42, cert42, scan7, noTarget]],
      ['C2', [cert42]],
    ]);
  });

  it('is empty without routes or events', () => {
    expect(routeEvents([], [scan42]).size).toBe(0);
    expect(routeEvents([route('C1')], []).size).toBe(0);
  });
});

describe('scopeId and scopeCovers', () => {
  it('names a scope by what it filters', () => {
    expect(scopeId({})).toBe('all');
    expect(scopeId({ key: 'domain-add' })).toBe('key:domain-add');
    expect(scopeId({ target_id: 42 })).toBe('target:42');
  });

  it('covers the events the scan would return', () => {
    expect(scopeCovers({}, noTarget)).toBe(true);
    expect(scopeCovers({ key: 'target-scan-start' }, scan7)).toBe(true);
    expect(scopeCovers({ key: 'target-scan-start' }, cert42)).toBe(false);
    expect(scopeCovers({ target_id: 42 }, cert42)).toBe(true);
    expect(scopeCovers({ target_id: 42 }, scan7)).toBe(false);
    expect(scopeCovers({ target_id: 42 }, noTarget)).toBe(false);
  });
});

describe('planScan', () => {
  it('plans nothing without routes', () => {
    expect(planScan([], { all: 10 }, 1000)).toEqual([]);
  });

  it('scans by key when a route has only keys, by target when it has only targets', () => {
    expect(planScan([route('C1', ['a', 'b'])], {}, 1000)).toEqual([{ key: 'a' }, { key: 'b' }]);
    expect(planScan([route('C1', [], [1, 2])], {}, 1000)).toEqual([{ target_id: 1 }, { target_id: 2 }]);
  });

  it('with both, scans by whichever list is shorter, keys on a tie', () => {
    expect(planScan([route('C1', ['a'], [1, 2])], {}, 1000)).toEqual([{ key: 'a' }]);
    expect(planScan([route('C1', ['a', 'b'], [1, 2])], {}, 1000)).toEqual([{ key: 'a' }, { key: 'b' }]);
    expect(planScan([route('C1', ['a', 'b', 'c'], [1, 2])], {}, 1000)).toEqual([
      { target_id: 1 },
      { target_id: 2 },
    ]);
  });

  it('merges the scopes of every route, each once, in first-seen order', () => {
    expect(
      planScan(
        [route('C1', ['a', 'b']), route('C2', ['b', 'c']), route('C3', [], [5]), route('C4', ['a'], [5, 6])],
        {},
        1000,
      ),
    ).toEqual([{ key: 'a' }, { key: 'b' }, { key: 'c' }, { target_id: 5 }]);
  });

  it("scans everything once when any route wants everything ('all' wins)", () => {
    expect(planScan([route('C1', ['a']), route('C2'), route('C3', [], [1])], {}, 1000)).toEqual([{}]);
    expect(planScan([route('C2')], {}, 1000)).toEqual([{}]);
  });

  it('scans everything when the last known totals say it takes fewer requests', () => {
    const routes = [route('C1', ['a', 'b', 'c'])];
    // Unfiltered: 1 page. Filtered: 3 scopes of at least a page each.
    expect(planScan(routes, { all: 900 }, 1000)).toEqual([{}]);
    // Unfiltered: 3 pages; filtered: 1 + 1 + 1: a tie keeps the filtered plan.
    expect(planScan(routes, { all: 2500, 'key:a': 10, 'key:b': 0, 'key:c': 999 }, 1000)).toEqual([
      { key: 'a' },
      { key: 'b' },
      { key: 'c' },
    ]);
    // Unfiltered: 3 pages; filtered: 2 + 1 + 1.
    expect(planScan(routes, { all: 2500, 'key:a': 1001, 'key:b': 0 }, 1000)).toEqual([{}]);
    // Unknown scope totals count as one page each.
    expect(planScan(routes, { all: 3000 }, 1000)).toEqual([{ key: 'a' }, { key: 'b' }, { key: 'c' }]);
  });

  it('keeps the filtered plan while the unfiltered total is unknown', () => {
    expect(planScan([route('C1', ['a', 'b', 'c'])], { 'key:a': 50_000 }, 1000)).toEqual([
      { key: 'a' },
      { key: 'b' },
      { key: 'c' },
    ]);
  });

  it('counts pages with the page size given', () => {
    const routes = [route('C1', ['a', 'b'])];
    expect(planScan(routes, { all: 150, 'key:a': 10, 'key:b': 10 }, 100)).toEqual([
      { key: 'a' },
      { key: 'b' },
    ]);
    expect(planScan(routes, { all: 100, 'key:a': 10, 'key:b': 10 }, 100)).toEqual([{}]);
  });
});

describe('planCovers', () => {
  it('is true when some scope of the plan would have fetched the event', () => {
    const plan = [{ key: 'target-scan-start' }, { target_id: 42 }];
    expect([scan42, cert42, scan7, noTarget].map((e) => planCovers(plan, e))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(planCovers([{}], noTarget)).toBe(true);
    expect(planCovers([], scan42)).toBe(false);
  });
});

describe('heldOnAssumedSeverity', () => {
  it('names the events a minimum severity held back on a guessed severity, and no other', () => {
    const severityOf = severityTable();
    const guessed = (key: string) => isAssumed(key);
    const high = { ...route('CHIGH'), minSeverity: 'high' as const };
    const events = [
      event('g1', 'target-thing', 1), // guessed medium: held back by severity:high
      event('g2', 'target-issue-new', 1), // guessed high: let through
      event('t1', 'domain-add', 1), // rated low by the table: held back, but on a rating, not a guess
    ];
    expect(heldOnAssumedSeverity([high], events, severityOf, guessed).map((e) => e.eventId)).toEqual(['g1']);
    // A route without a minimum, or one whose keys do not want the event anyway, holds nothing back on severity.
    expect(heldOnAssumedSeverity([route('CALL')], events, severityOf, guessed)).toEqual([]);
    const other = { ...route('CKEYS', ['port-open']), minSeverity: 'high' as const };
    expect(heldOnAssumedSeverity([other], events, severityOf, guessed)).toEqual([]);
  });
});
