/**
 * What the severity table says about the event types Halo actually has. The table is the project's reading of
 * Halo's keys, and a real account's may differ (`target-issue-new` rather than `issue-new`): every key it does not
 * rate gets a guessed severity (see `guessSeverity`), and a minimum-severity filter could then drop such events
 * without a word. So Halo's catalogue (`types.json`) is read at start-up and daily, each key nothing rates is named
 * once in the log, and `/halo status`, the App Home and `/halo types` name them all, with the guess and the
 * setting that rates them.
 */
import {
  isAssumed,
  NONE_HELD,
  severitySetting,
  severityTable,
  unratedTypes,
  type AssumedHeld,
  type Severity,
  type SeverityOf,
  type UnratedType,
} from '../domain/severity.ts';
import type { HaloClient } from './halo-port.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store-port.ts';

/** Halo's catalogue changes rarely: once a day finds a new type before many of its events. */
export const CATALOGUE_REFRESH_MS = 24 * 60 * 60 * 1000;

export class TypeRatings {
  /** Each key's name in Halo's catalogue: the guess reads it too ("New Open Port"). */
  private readonly subjects = new Map<string, string>();
  private unrated: UnratedType[] = [];
  /** Keys already named in the log: each once a process, not every day. */
  private readonly logged = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Whether a read has succeeded, and the read in flight: `readIfUnread` starts none while either holds. */
  private read = false;
  private reading: Promise<void> | undefined;
  /** Ends a read in flight at stop: a stopped bot asks Halo nothing more. */
  private readonly stopped = new AbortController();
  readonly severityOf: SeverityOf;

  constructor(
    private readonly options: {
      /** The environment's client (single shape), or an active connected account's (see catalogue-source.ts). */
      readonly halo: Pick<HaloClient, 'listTypes'>;
      /** `HALO_SEVERITY`. */
      readonly overrides: Readonly<Record<string, Severity>>;
      readonly log: Logger;
      readonly refreshMs?: number;
    },
  ) {
    this.severityOf = severityTable(options.overrides, (key) => this.subjects.get(key));
  }

  /** Whether `key`'s severity is only a guess. */
  isAssumed(key: string): boolean {
    return isAssumed(key, this.options.overrides);
  }

  /** The catalogue's types that nothing rates, as last read (empty before the first read succeeds). */
  list(): readonly UnratedType[] {
    return this.unrated;
  }

  /** Reads the catalogue now, then every `refreshMs`. */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? CATALOGUE_REFRESH_MS);
    this.timer.unref();
  }

  /**
   * Reads the catalogue now unless it has been read (or is being read): for the distributed shape, whose first
   * account appears after start-up, so that its severities need not wait for the next day's read.
   */
  readIfUnread(): void {
    if (this.read || this.reading !== undefined || this.stopped.signal.aborted) return;
    this.reading = this.refresh().finally(() => (this.reading = undefined));
  }

  stop(): void {
    clearInterval(this.timer);
    this.stopped.abort();
  }

  /** Never throws: a catalogue that cannot be read keeps the last one (the guesses then read keys alone). */
  async refresh(): Promise<void> {
    const { halo, overrides, log } = this.options;
    let types;
    try {
      types = await halo.listTypes(this.stopped.signal);
    } catch (error) {
      if (this.stopped.signal.aborted) return;
      log.debug('event types could not be read to check their severities; retrying tomorrow', { error });
      return;
    }
    this.read = true;
    this.subjects.clear();
    for (const type of types) this.subjects.set(type.key, type.subject);
    this.unrated = unratedTypes(types, overrides);
    const fresh = this.unrated.filter((type) => !this.logged.has(type.key));
    if (fresh.length === 0) return;
    for (const type of fresh) this.logged.add(type.key);
    log.warn(
      `event types the severity table does not rate, their severity guessed from their names: ${fresh
        .map((type) => `${type.key} (${type.severity})`)
        .join(', ')}. Set HALO_SEVERITY to rate them, e.g. ${severitySetting(fresh)}`,
      { keys: fresh.length },
    );
  }
}

/** Events held back by a minimum severity that was only guessed, counted in the store's state under this key. */
const HELD_STATE = 'severity_assumed_held';

export async function assumedHeld(store: Pick<Store, 'getState'>): Promise<AssumedHeld> {
  const raw = await store.getState(HELD_STATE);
  if (raw === null) return NONE_HELD;
  try {
    const parsed = JSON.parse(raw) as { count?: unknown; byKey?: unknown };
    return typeof parsed.count === 'number' && typeof parsed.byKey === 'object' && parsed.byKey !== null
      ? { count: parsed.count, byKey: parsed.byKey as Record<string, number> }
      : NONE_HELD;
  } catch {
    return NONE_HELD;
  }
}

/**
 * Adds `events` to the count, and says so in the log: a filter may hold back a guessed severity, but never
 * without a person being able to see it (`/halo status`, the App Home).
 */
export async function countAssumedHeld(
  store: Pick<Store, 'getState' | 'setState'>,
  events: readonly HaloEvent[],
  severityOf: SeverityOf,
  log: Logger,
): Promise<void> {
  if (events.length === 0) return;
  const before = await assumedHeld(store);
  const byKey: Record<string, number> = { ...before.byKey };
  for (const event of events) byKey[event.key] = (byKey[event.key] ?? 0) + 1;
  await store.setState({ [HELD_STATE]: JSON.stringify({ count: before.count + events.length, byKey }) });
  const keys = [...new Set(events.map((event) => event.key))];
  log.warn(
    `${events.length} event${events.length === 1 ? '' : 's'} held back by a minimum severity on a guessed severity: ${keys
      .map((key) => `${key} (${severityOf(key)})`)
      .join(', ')}. Set HALO_SEVERITY to rate ${keys.length === 1 ? 'it' : 'them'}`,
    { events: events.length },
  );
}
