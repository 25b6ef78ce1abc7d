/**
 * "Did you mean …?" for event keys: the known keys closest to a mistyped one. A warning's material, never a
 * reason to refuse: Halo may add types that its catalogue does not list yet.
 */

export interface UnknownKey {
  readonly key: string;
  /** The closest known keys, best first; empty when none is close. */
  readonly suggestions: readonly string[];
}

/** The keys of `keys` that `known` does not list, each with its closest known keys. */
export function unknownKeys(keys: readonly string[], known: readonly string[], max = 3): UnknownKey[] {
  const catalogue = new Set(known);
  return keys
    .filter((key) => !catalogue.has(key))
    .map((key) => ({ key, suggestions: closestKeys(key, known, max) }));
}

/**
 * Known keys within an edit distance of about a third of the key's length (a typo or two, a missing prefix such
 * as `target-`), or that contain it or are contained in it; nearest first, then alphabetical.
 */
export function closestKeys(key: string, known: readonly string[], max = 3): string[] {
  const wanted = key.toLowerCase();
  const limit = Math.max(2, Math.ceil(wanted.length / 3));
  return known
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      const contains = wanted.length >= 3 && (lower.includes(wanted) || wanted.includes(lower));
      const distance = editDistance(wanted, lower, limit + 1);
      return { candidate, distance: contains ? Math.min(distance, limit) : distance };
    })
    .filter((entry) => entry.distance <= limit)
    .sort((a, b) => a.distance - b.distance || (a.candidate < b.candidate ? -1 : 1))
    .slice(0, max)
    .map((entry) => entry.candidate);
}

/** Levenshtein distance, giving up (returning `cap`) once it must exceed `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      best = Math.min(best, value);
    }
    if (best >= cap) return cap;
    previous = current;
  }
  return Math.min(previous[b.length]!, cap);
}

/** `Halo lists no event type "x" (did you mean y or z?)`: plain text, for a log line or (escaped) a reply. */
export function unknownKeyText(entry: UnknownKey): string {
  const guess =
    entry.suggestions.length === 0
      ? '; /halo types lists the known ones'
      : ` (did you mean ${entry.suggestions.join(' or ')}?)`;
  return `Halo lists no event type "${entry.key}"${guess}`;
}
