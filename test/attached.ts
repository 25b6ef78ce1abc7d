import { getEventListeners } from 'node:events';

/**
 * What stays attached to `signal`: its abort listeners, and the signals `AbortSignal.any` derived from it, which
 * Node 20 keeps in a set of its own (`kDependantSignals`) that is never emptied while `signal` lives, even after
 * the derived signals are garbage. Read through the symbol's description: there is no public API for it.
 */
export function attachedTo(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const set =
    dependants === undefined ? undefined : (signal as unknown as Record<symbol, unknown>)[dependants];
  // Node's own Set (from its primordials), not necessarily this realm's: read its size, not its class.
  const size = (set as { size?: unknown } | undefined)?.size;
  const derived = typeof size === 'number' ? size : 0;
  return getEventListeners(signal, 'abort').length + derived;
}
