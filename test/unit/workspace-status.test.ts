import { describe, expect, it } from 'vitest';
import { NONE_HELD } from '../../src/domain/severity.ts';
import { workspaceStatus, type StatusFigures } from '../../src/pipeline/workspace-status.ts';

const ok: StatusFigures = {
  lastSuccessAt: 2000,
  consecutiveFailures: 0,
  lastError: null,
  pending: 1,
  failed: 0,
  muted: 2,
  unrated: [{ key: 'x-1', subject: 'X', severity: 'high' }],
  assumedHeld: NONE_HELD,
};

describe('a workspace’s health over its accounts', () => {
  it('is one account’s own figures when it has one', () => {
    expect(workspaceStatus([ok])).toEqual(ok);
    expect(workspaceStatus([])).toBeUndefined();
  });

  it('sums the counts, and takes the oldest success and the longest-failing account’s error', () => {
    const refused: StatusFigures = {
      ...ok,
      lastSuccessAt: 1000,
      consecutiveFailures: 3,
      lastError: 'Halo refused the key',
      pending: 4,
      failed: 1,
      muted: 0,
      assumedHeld: { count: 2, byKey: { 'x-1': 2 } },
    };
    const slow: StatusFigures = {
      ...ok,
      consecutiveFailures: 1,
      lastError: 'timeout',
      assumedHeld: { count: 1, byKey: { 'x-1': 1 } },
    };
    expect(workspaceStatus([ok, refused, slow])).toEqual({
      lastSuccessAt: 1000,
      consecutiveFailures: 3,
      lastError: 'Halo refused the key',
      pending: 6,
      failed: 1,
      muted: 4,
      unrated: ok.unrated,
      assumedHeld: { count: 3, byKey: { 'x-1': 3 } },
    });
    // An account that has not polled successfully yet: no "last successful poll" for the workspace.
    expect(workspaceStatus([ok, { ...ok, lastSuccessAt: null }])?.lastSuccessAt).toBeNull();
    // None failing now: the last error any account had is still shown.
    expect(workspaceStatus([ok, { ...ok, lastError: 'earlier' }])?.lastError).toBe('earlier');
  });
});
